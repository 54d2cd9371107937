//! The calls an admin's app-only test makes: the organisation (which tenant is this?), a user by UPN, and
//! Teams meetings created on a user's behalf (learn.microsoft.com/graph/api/organization-get,
//! user-get, application-post-onlinemeetings, onlinemeeting-delete).

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use reqwest::Method;
use secrecy::SecretString;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::client::{Body, GraphClient};
use crate::error::{Error, Result, TokenError};
use crate::model::{OnlineMeeting, Page};
use crate::token::TokenProvider;

/// An app-only token handed over as it is: client-credentials tokens are not refreshed, a new one is
/// requested instead.
pub struct StaticToken(
    /// The token.
    pub SecretString,
);

impl TokenProvider for StaticToken {
    fn access_token(
        &self,
        _force_refresh: bool,
    ) -> BoxFuture<'_, std::result::Result<SecretString, TokenError>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }
}

/// `GET /organization`: the tenant and its verified domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// The tenant id.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its verified domains.
    #[serde(default)]
    pub verified_domains: Vec<VerifiedDomain>,
}

/// One of the organisation's verified domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDomain {
    /// The domain name.
    pub name: String,
    /// The default domain for new users.
    #[serde(default)]
    pub is_default: bool,
    /// The initial `*.onmicrosoft.com` domain.
    #[serde(default)]
    pub is_initial: bool,
}

/// `GET /users/{upn}` with the fields `User.ReadBasic.All` allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryUser {
    /// Object id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// UPN.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Primary SMTP address.
    #[serde(default)]
    pub mail: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMeeting {
    id: String,
    #[serde(default)]
    join_web_url: Option<String>,
}

impl GraphClient {
    /// The organisation the token belongs to.
    pub async fn organization(&self, tokens: &dyn TokenProvider) -> Result<Organization> {
        let url = self.endpoint("organization");
        let page: Page<Organization> = self
            .request(tokens, Method::GET, url.clone(), Body::None, &[])
            .await?;
        page.value.into_iter().next().ok_or_else(|| Error::Decode {
            url: url.to_string(),
            body_snippet: "no organization in the answer".into(),
        })
    }

    /// A user by UPN or id.
    pub async fn user(&self, tokens: &dyn TokenProvider, upn: &str) -> Result<DirectoryUser> {
        let mut url = self.endpoint("users/");
        url.path_segments_mut()
            .map_err(|_| Error::Decode {
                url: upn.to_owned(),
                body_snippet: "the Graph base URL cannot take a path".into(),
            })?
            .pop_if_empty()
            .push(upn);
        url.query_pairs_mut()
            .append_pair("$select", "id,displayName,userPrincipalName,mail");
        self.request(tokens, Method::GET, url, Body::None, &[])
            .await
    }

    /// Creates a meeting on `user_id`'s behalf (application permission `OnlineMeetings.ReadWrite.All`
    /// and a Teams application access policy covering the user).
    pub async fn create_user_meeting(
        &self,
        tokens: &dyn TokenProvider,
        user_id: &str,
        subject: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<OnlineMeeting> {
        let url = self.user_meetings_url(user_id, None)?;
        let body = serde_json::json!({
            "startDateTime": start.to_rfc3339_opts(SecondsFormat::Secs, true),
            "endDateTime": end.to_rfc3339_opts(SecondsFormat::Secs, true),
            "subject": subject,
        });
        let meeting: WireMeeting = self
            .request(tokens, Method::POST, url.clone(), Body::Json(&body), &[])
            .await?;
        let join_web_url = meeting.join_web_url.ok_or_else(|| Error::Decode {
            url: url.to_string(),
            body_snippet: "the onlineMeeting has no joinWebUrl".into(),
        })?;
        Ok(OnlineMeeting {
            id: meeting.id,
            join_web_url,
        })
    }

    /// Deletes a meeting made by [`Self::create_user_meeting`].
    pub async fn delete_user_meeting(
        &self,
        tokens: &dyn TokenProvider,
        user_id: &str,
        meeting_id: &str,
    ) -> Result<()> {
        let url = self.user_meetings_url(user_id, Some(meeting_id))?;
        self.request::<()>(tokens, Method::DELETE, url, Body::None, &[])
            .await
    }

    /// `users/{id}/onlineMeetings[/{meeting}]`, each id one percent-encoded path segment.
    pub fn user_meetings_url(&self, user_id: &str, meeting: Option<&str>) -> Result<url::Url> {
        let mut url = self.endpoint("users/");
        {
            let mut segments = url.path_segments_mut().map_err(|_| Error::Decode {
                url: user_id.to_owned(),
                body_snippet: "the Graph base URL cannot take a path".into(),
            })?;
            segments.pop_if_empty().push(user_id).push("onlineMeetings");
            if let Some(meeting) = meeting {
                segments.push(meeting);
            }
        }
        Ok(url)
    }
}

/// `GET /users` with the fields the Graph Enterprise Connect app reads (seed 001: `preferredLanguage`,
/// `userType`, `accountEnabled`, `proxyAddresses`, which `User.ReadBasic.All` does not return).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryEntry {
    /// Object id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// UPN.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Primary SMTP address.
    #[serde(default)]
    pub mail: Option<String>,
    /// `preferredLanguage`.
    #[serde(default)]
    pub preferred_language: Option<String>,
    /// `Member` or `Guest`.
    #[serde(default)]
    pub user_type: Option<String>,
    /// Whether the account can sign in.
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// Every address, `SMTP:` primary and `smtp:` aliases.
    #[serde(default)]
    pub proxy_addresses: Vec<String>,
}

/// A room or room list (`GET /places/microsoft.graph.room`, `…/microsoft.graph.roomList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Place {
    /// Place id.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its mailbox address.
    #[serde(default)]
    pub email_address: Option<String>,
}

#[derive(Deserialize)]
struct WireId {
    id: String,
}

/// The `$select` of the directory read.
pub const DIRECTORY_FIELDS: &str =
    "id,displayName,userPrincipalName,mail,preferredLanguage,userType,accountEnabled,proxyAddresses";

impl GraphClient {
    /// Every user of the organisation, following `@odata.nextLink`.
    pub async fn users(&self, tokens: &dyn TokenProvider) -> Result<Vec<DirectoryEntry>> {
        let mut url = self.endpoint("users");
        url.query_pairs_mut()
            .append_pair("$select", DIRECTORY_FIELDS);
        self.get_all(tokens, url).await
    }

    /// The users one of whose `proxyAddresses` is `smtp:{address}` (an alias finds its mailbox). The
    /// lambda filter is an advanced query: `ConsistencyLevel: eventual` with `$count=true`
    /// (learn.microsoft.com/graph/aad-advanced-queries).
    pub async fn users_by_proxy_address(
        &self,
        tokens: &dyn TokenProvider,
        address: &str,
    ) -> Result<Vec<DirectoryEntry>> {
        let mut url = self.endpoint("users");
        let value = format!("smtp:{address}").replace('\'', "''");
        url.query_pairs_mut()
            .append_pair("$filter", &format!("proxyAddresses/any(x:x eq '{value}')"))
            .append_pair("$select", DIRECTORY_FIELDS)
            .append_pair("$count", "true");
        let page: Page<DirectoryEntry> = self
            .request(
                tokens,
                Method::GET,
                url,
                Body::None,
                &[("ConsistencyLevel", "eventual")],
            )
            .await?;
        Ok(page.value)
    }

    /// Rooms (`kind` `room`) or room lists (`roomList`), every page.
    pub async fn places(&self, tokens: &dyn TokenProvider, kind: &str) -> Result<Vec<Place>> {
        let url = self.endpoint(&format!("places/microsoft.graph.{kind}"));
        self.get_all(tokens, url).await
    }

    /// A user's calendars, app-only.
    pub async fn user_calendar_count(
        &self,
        tokens: &dyn TokenProvider,
        user: &str,
    ) -> Result<usize> {
        let url = self.user_url(user, &["calendars"])?;
        // Counted, not kept: `IgnoredAny` checks each item's JSON and holds nothing.
        let calendars: Vec<IgnoredAny> = self.get_all(tokens, url).await?;
        Ok(calendars.len())
    }

    /// Whether a user's calendar answers, asking for one calendar id only (no pages, no content).
    pub async fn user_has_calendar(&self, tokens: &dyn TokenProvider, user: &str) -> Result<()> {
        let mut url = self.user_url(user, &["calendars"])?;
        url.query_pairs_mut()
            .append_pair("$select", "id")
            .append_pair("$top", "1");
        let _: Page<serde_json::Value> = self
            .request(tokens, Method::GET, url, Body::None, &[])
            .await?;
        Ok(())
    }

    /// The number of occurrences in a user's calendar view, app-only (times only are asked for).
    pub async fn user_calendar_view_count(
        &self,
        tokens: &dyn TokenProvider,
        user: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<usize> {
        let mut url = self.user_url(user, &["calendarView"])?;
        url.query_pairs_mut()
            .append_pair(
                "startDateTime",
                &start.to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .append_pair(
                "endDateTime",
                &end.to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .append_pair("$select", "start,end,showAs");
        let events: Vec<IgnoredAny> = self.get_all(tokens, url).await?;
        Ok(events.len())
    }

    /// Creates an event in a user's calendar and returns its id (the `--write-test`).
    pub async fn create_user_event(
        &self,
        tokens: &dyn TokenProvider,
        user: &str,
        subject: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<String> {
        let url = self.user_url(user, &["events"])?;
        let body = serde_json::json!({
            "subject": subject,
            "start": { "dateTime": start.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC" },
            "end": { "dateTime": end.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC" },
            "showAs": "free",
        });
        let event: WireId = self
            .request(tokens, Method::POST, url, Body::Json(&body), &[])
            .await?;
        Ok(event.id)
    }

    /// Deletes an event made by [`Self::create_user_event`].
    pub async fn delete_user_event(
        &self,
        tokens: &dyn TokenProvider,
        user: &str,
        id: &str,
    ) -> Result<()> {
        let url = self.user_url(user, &["events", id])?;
        self.request::<()>(tokens, Method::DELETE, url, Body::None, &[])
            .await
    }

    /// `users/{user}/{segments…}`, each one percent-encoded path segment.
    fn user_url(&self, user: &str, rest: &[&str]) -> Result<url::Url> {
        let mut url = self.endpoint("users/");
        {
            let mut segments = url.path_segments_mut().map_err(|_| Error::Decode {
                url: user.to_owned(),
                body_snippet: "the Graph base URL cannot take a path".into(),
            })?;
            segments.pop_if_empty().push(user);
            for segment in rest {
                segments.push(segment);
            }
        }
        Ok(url)
    }
}
