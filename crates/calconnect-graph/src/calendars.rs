//! `GET /me`, `GET /me/calendars` and `POST /me/onlineMeetings`.

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;

use crate::client::{Body, GraphClient};
use crate::error::{Error, Result};
use crate::model::{Calendar, OnlineMeeting, User, WireCalendar, WireOnlineMeeting, WireUser};
use crate::token::TokenProvider;

/// Calendars asked for per `/me/calendars` page. Outlook collections page 10 items by default and take a
/// `$top` of 1 to 1000 (learn.microsoft.com/graph/api/user-list-messages, "Optional query parameters"; the
/// same Exchange paging serves calendars): 100 brings a person with many calendars (megan's 25) in one
/// round trip instead of three, and keeps a page small. Later pages follow `@odata.nextLink` as given.
pub const CALENDARS_PAGE_SIZE: usize = 100;

impl GraphClient {
    /// The signed-in user (learn.microsoft.com/graph/api/user-get; needs `User.Read`).
    pub async fn me(&self, tokens: &dyn TokenProvider) -> Result<User> {
        let user: WireUser = self
            .request(tokens, Method::GET, self.endpoint("me"), Body::None, &[])
            .await?;
        Ok(user.into())
    }

    /// All the user's calendars, across every page (learn.microsoft.com/graph/api/user-list-calendars;
    /// needs `Calendars.ReadBasic` or more), asked for [`CALENDARS_PAGE_SIZE`] at a time.
    pub async fn calendars(&self, tokens: &dyn TokenProvider) -> Result<Vec<Calendar>> {
        let mut first = self.endpoint("me/calendars");
        first
            .query_pairs_mut()
            .append_pair("$top", &CALENDARS_PAGE_SIZE.to_string());
        let calendars: Vec<WireCalendar> = self.get_all(tokens, first).await?;
        Ok(calendars.into_iter().map(Calendar::from).collect())
    }

    /// Creates a standalone Teams meeting (learn.microsoft.com/graph/api/application-post-onlinemeetings; needs
    /// `OnlineMeetings.ReadWrite`, work or school accounts only). It does not appear on the calendar.
    pub async fn create_online_meeting(
        &self,
        tokens: &dyn TokenProvider,
        subject: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<OnlineMeeting> {
        let url = self.endpoint("me/onlineMeetings");
        let body = serde_json::json!({
            "startDateTime": start.to_rfc3339_opts(SecondsFormat::Secs, true),
            "endDateTime": end.to_rfc3339_opts(SecondsFormat::Secs, true),
            "subject": subject,
        });
        let meeting: WireOnlineMeeting = self
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

    /// Deletes a meeting made by [`Self::create_online_meeting`] (learn.microsoft.com/graph/api/onlinemeeting-delete;
    /// 204 No Content), so a test leaves nothing behind.
    pub async fn delete_online_meeting(&self, tokens: &dyn TokenProvider, id: &str) -> Result<()> {
        let mut url = self.endpoint("me/onlineMeetings/");
        let base = url.to_string();
        // The id is opaque (base64 with `=`, `_`): one path segment, percent-encoded by the URL parser.
        url.path_segments_mut()
            .map_err(|_| Error::Decode {
                url: base,
                body_snippet: "the Graph base URL cannot take a path".into(),
            })?
            .pop_if_empty()
            .push(id);
        self.request::<()>(tokens, Method::DELETE, url, Body::None, &[])
            .await
    }
}
