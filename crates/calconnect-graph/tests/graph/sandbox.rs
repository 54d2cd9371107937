//! The client against the sandbox's Graph, with tokens from a real device-code sign-in (plain reqwest plus
//! the sandbox's scripted `Person`; no dependency on calconnect-identity).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use calconnect_graph::{Error, FreeBusySource, GraphClient, TokenError, TokenProvider};
use calconnect_sandbox::person::{Consent, Person};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use chrono::{TimeDelta, Utc};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::RecordingSleeper;

const FULL_SCOPES: &str = "User.Read Calendars.ReadWrite offline_access";

fn http_client(sandbox: &SandboxHandle) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().expect("tls on").as_bytes()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap()
}

const FREEBUSY_SCOPES: &str = "Calendars.ReadBasic User.Read offline_access";

/// Tokens from the sandbox; `force_refresh` runs the refresh-token grant and counts it.
struct SandboxTokens {
    http: reqwest::Client,
    token_url: url::Url,
    client_id: &'static str,
    scopes: &'static str,
    access: Mutex<SecretString>,
    refresh: Mutex<SecretString>,
    refreshes: Mutex<u32>,
}

impl SandboxTokens {
    /// Signs `user` in with the device-code grant (RFC 8628), the person approving on the sandbox's page.
    async fn sign_in(sandbox: &SandboxHandle, user: &str) -> SandboxTokens {
        Self::sign_in_to(sandbox, user, demo::FULL_APP_CLIENT_ID, FULL_SCOPES).await
    }

    /// Like [`Self::sign_in`], with another app and its scopes.
    async fn sign_in_to(
        sandbox: &SandboxHandle,
        user: &str,
        client_id: &'static str,
        scopes: &'static str,
    ) -> SandboxTokens {
        let http = http_client(sandbox);
        let base = sandbox.base_url();
        let device: Value = http
            .post(base.join("organizations/oauth2/v2.0/devicecode").unwrap())
            .form(&[("client_id", client_id), ("scope", scopes)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let user_code = device["user_code"].as_str().expect("user_code");
        Person::new(sandbox)
            .unwrap()
            .enter_device_code(user_code, user, Consent::Approve)
            .await
            .unwrap();
        let token_url = base.join("organizations/oauth2/v2.0/token").unwrap();
        let tokens: Value = http
            .post(token_url.clone())
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", client_id),
                ("device_code", device["device_code"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        SandboxTokens {
            http,
            token_url,
            client_id,
            scopes,
            access: Mutex::new(
                tokens["access_token"]
                    .as_str()
                    .expect("access_token")
                    .into(),
            ),
            refresh: Mutex::new(
                tokens["refresh_token"]
                    .as_str()
                    .expect("refresh_token")
                    .into(),
            ),
            refreshes: Mutex::new(0),
        }
    }

    async fn refresh(&self) -> Result<SecretString, TokenError> {
        let refresh_token = self.refresh.lock().unwrap().expose_secret().to_owned();
        let response: Value = self
            .http
            .post(self.token_url.clone())
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", self.client_id),
                ("refresh_token", refresh_token.as_str()),
                ("scope", self.scopes),
            ])
            .send()
            .await
            .map_err(|error| TokenError(Box::new(error)))?
            .json()
            .await
            .map_err(|error| TokenError(Box::new(error)))?;
        let access = response["access_token"]
            .as_str()
            .ok_or_else(|| TokenError("refresh failed".into()))?;
        *self.access.lock().unwrap() = access.into();
        if let Some(refresh) = response["refresh_token"].as_str() {
            *self.refresh.lock().unwrap() = refresh.into();
        }
        *self.refreshes.lock().unwrap() += 1;
        Ok(access.into())
    }
}

impl TokenProvider for SandboxTokens {
    fn access_token(&self, force_refresh: bool) -> BoxFuture<'_, Result<SecretString, TokenError>> {
        Box::pin(async move {
            if force_refresh {
                self.refresh().await
            } else {
                Ok(self.access.lock().unwrap().clone())
            }
        })
    }
}

async fn start() -> SandboxHandle {
    Sandbox::builder().tls(true).start().await.unwrap()
}

fn graph(sandbox: &SandboxHandle, sleeper: &Arc<RecordingSleeper>) -> GraphClient {
    GraphClient::new(sandbox.graph_url(), http_client(sandbox)).with_sleeper(sleeper.clone())
}

fn journal_routes(sandbox: &SandboxHandle, route: &str) -> Vec<u16> {
    sandbox
        .journal()
        .into_iter()
        .filter(|entry| entry.route == route)
        .map(|entry| entry.status)
        .collect()
}

#[tokio::test]
async fn megans_25_calendars_arrive_in_one_page_because_the_client_asks_for_bigger_pages() {
    let sandbox = start().await;
    let tokens = SandboxTokens::sign_in(&sandbox, demo::MEGAN).await;
    let sleeper = Arc::new(RecordingSleeper::default());

    let calendars = graph(&sandbox, &sleeper).calendars(&tokens).await.unwrap();

    let megan = sandbox
        .tenant()
        .users
        .iter()
        .find(|user| user.user_principal_name == demo::MEGAN)
        .expect("megan in the demo tenant");
    assert_eq!(calendars.len(), megan.calendars.len());
    assert_eq!(
        calendars
            .iter()
            .filter(|calendar| calendar.is_default)
            .count(),
        1
    );
    assert_eq!(calendars.len(), 25);
    // The sandbox pages 10 by default, like Graph: one request means `$top` was asked for and honoured.
    assert_eq!(journal_routes(&sandbox, "graph.calendars"), [200]);
}

#[tokio::test]
async fn me_returns_adele_from_the_sandbox() {
    let sandbox = start().await;
    let tokens = SandboxTokens::sign_in(&sandbox, demo::ADELE).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let user = graph(&sandbox, &sleeper).me(&tokens).await.unwrap();
    assert_eq!(user.mail, demo::ADELE);
    assert_eq!(user.display_name.as_deref(), Some("Adele Vance"));
}

#[tokio::test]
async fn a_range_over_62_days_is_accepted_by_the_sandbox_in_overlapping_windows_of_at_most_four() {
    let sandbox = start().await;
    let tokens = SandboxTokens::sign_in(&sandbox, demo::ADELE).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let latency = Duration::from_millis(300);
    sandbox.faults().set_latency("graph.getSchedule", latency);
    let start = Utc::now() - TimeDelta::days(14);
    let end = start + TimeDelta::days(365);

    let began = Instant::now();
    let blocks = graph(&sandbox, &sleeper)
        .free_busy(&tokens, demo::ADELE, start, end)
        .await
        .unwrap();
    let elapsed = began.elapsed();

    // The sandbox refuses windows of 62 days or more, so six 200s prove the split.
    assert_eq!(journal_routes(&sandbox, "graph.getSchedule"), [200; 6]);
    // Six windows, at most four at a time: at least two rounds of latency, and less than six in a row.
    assert!(
        elapsed >= latency * 2,
        "at most four in flight: {elapsed:?}"
    );
    assert!(elapsed < latency * 6, "windows overlap: {elapsed:?}");
    assert!(!blocks.is_empty(), "adele's demo week has busy time");
    assert!(blocks.windows(2).all(|pair| pair[0] <= pair[1]), "sorted");
}

#[tokio::test]
async fn sandbox_throttling_is_waited_out_with_the_retry_after_it_sends() {
    let sandbox = start().await;
    let tokens = SandboxTokens::sign_in(&sandbox, demo::ADELE).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    sandbox.faults().throttle("graph.calendars", 429, 5, 2);

    let calendars = graph(&sandbox, &sleeper).calendars(&tokens).await.unwrap();

    assert!(!calendars.is_empty());
    assert_eq!(*sleeper.waits.lock().unwrap(), [Duration::from_secs(5); 2]);
    let statuses = journal_routes(&sandbox, "graph.calendars");
    assert_eq!(&statuses[..2], [429, 429]);
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_call_retried() {
    let sandbox = Sandbox::builder()
        .tls(true)
        .access_token_lifetime(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    let tokens = SandboxTokens::sign_in(&sandbox, demo::ADELE).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    sandbox.advance_time(Duration::from_secs(3600));

    let user = graph(&sandbox, &sleeper).me(&tokens).await.unwrap();

    assert_eq!(user.mail, demo::ADELE);
    assert_eq!(*tokens.refreshes.lock().unwrap(), 1);
    assert_eq!(journal_routes(&sandbox, "graph.me"), [401, 200]);
}

#[tokio::test]
async fn a_token_without_the_needed_scope_is_access_denied() {
    let sandbox = start().await;
    let tokens = SandboxTokens::sign_in(&sandbox, demo::ADELE).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let start_time = Utc::now();
    // The Full app has no OnlineMeetings.ReadWrite, so Graph answers 403.
    let error = graph(&sandbox, &sleeper)
        .create_online_meeting(
            &tokens,
            "check",
            start_time,
            start_time + TimeDelta::minutes(30),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::AccessDenied { .. }), "{error:?}");
}

#[tokio::test]
async fn a_refused_get_schedule_falls_back_to_calendar_view_with_the_blocks_get_schedule_gives() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.graph.get_schedule_requires = Some("Calendars.Read".to_owned());
    let sandbox = Sandbox::builder()
        .tls(true)
        .tenant(tenant)
        .start()
        .await
        .unwrap();
    let read_basic = SandboxTokens::sign_in_to(
        &sandbox,
        demo::ADELE,
        demo::FREEBUSY_APP_CLIENT_ID,
        FREEBUSY_SCOPES,
    )
    .await;
    let read_write = SandboxTokens::sign_in(&sandbox, demo::ADELE).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = graph(&sandbox, &sleeper);
    // Three windows (61 + 61 + 8 days), starting on a Monday at midnight so no window edge cuts a meeting.
    let start = calconnect_sandbox::tenant::week_start(Utc::now()) - TimeDelta::days(7);
    let end = start + TimeDelta::days(130);

    let fallback = client
        .own_free_busy(&read_basic, demo::ADELE, start, end)
        .await
        .expect("calendarView answers where getSchedule is refused");
    let reference = client
        .own_free_busy(&read_write, demo::ADELE, start, end)
        .await
        .unwrap();

    assert_eq!(fallback.source, FreeBusySource::CalendarView);
    assert_eq!(reference.source, FreeBusySource::GetSchedule);
    assert!(!fallback.blocks.is_empty());
    assert_eq!(fallback.blocks, reference.blocks);
    let views: Vec<_> = sandbox
        .journal()
        .into_iter()
        .filter(|entry| entry.route == "graph.calendarView")
        .collect();
    assert_eq!(views.len(), 3, "one calendarView per window");
    for view in &views {
        let query = view.query.as_deref().unwrap_or_default();
        assert_eq!(view.status, 200);
        assert!(
            query.contains("%24select=showAs%2Cstart%2Cend") && query.contains("%24top=100"),
            "{query}"
        );
    }
    assert_eq!(
        journal_routes(&sandbox, "graph.getSchedule")
            .iter()
            .filter(|status| **status == 403)
            .count(),
        3,
        "every window of the Free/Busy token was refused"
    );
}

#[tokio::test]
async fn a_refused_calendar_view_is_the_error_when_get_schedule_was_refused_too() {
    let sandbox = start().await;
    // A Teams conferencing token has no calendar permission at all: both APIs answer 403.
    let tokens = SandboxTokens::sign_in_to(
        &sandbox,
        demo::ADELE,
        demo::TEAMS_APP_CLIENT_ID,
        "User.Read OnlineMeetings.ReadWrite offline_access",
    )
    .await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let now = Utc::now();

    let error = graph(&sandbox, &sleeper)
        .own_free_busy(&tokens, demo::ADELE, now, now + TimeDelta::days(7))
        .await
        .unwrap_err();

    assert!(matches!(error, Error::AccessDenied { .. }), "{error:?}");
    assert_eq!(journal_routes(&sandbox, "graph.calendarView"), [403]);
}
