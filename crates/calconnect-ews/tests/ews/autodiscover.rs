//! Where Autodiscover sends the service account's password: nowhere first; Basic only to the mailbox's own
//! host after its challenge; never to a host a 30x or `redirectUrl` leads to, nor an app token anywhere.
//! Foreign hosts are small axum listeners that record the `Authorization` header they receive, or a second
//! sandbox whose journal notes "no credentials" when none came.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use calconnect_ews::autodiscover::StaticSrvResolver;
use calconnect_ews::clock::RecordingSleeper;
use calconnect_ews::diagnostics::{run, Environment, Report, SilentReporter, StepId, StepStatus};
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::tls::Trust;
use calconnect_sandbox::{demo, SandboxHandle};

use crate::service_account::{app_credentials, config, environment, password, sandbox, status};

const EVIL_POX: &str = "https://evil.example/autodiscover/autodiscover.xml";

/// The `Authorization` header of every request a listener received, in order (`None`: no header).
#[derive(Clone, Default)]
pub(crate) struct Seen(Arc<Mutex<Vec<Option<String>>>>);

impl Seen {
    pub(crate) fn record(&self, headers: &HeaderMap) -> Option<String> {
        let value = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        self.0.lock().unwrap().push(value.clone());
        value
    }

    pub(crate) fn all(&self) -> Vec<Option<String>> {
        self.0.lock().unwrap().clone()
    }
}

/// Serves `app` on a loopback port; returns its base URL.
pub(crate) async fn listen(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

pub(crate) fn challenge(realm: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            format!(r#"Basic realm="{realm}""#),
        )],
    )
        .into_response()
}

/// A POX endpoint that records what it receives and asks for Basic credentials.
async fn recording_challenger(seen: Seen) -> String {
    let app = axum::Router::new().route(
        "/autodiscover/autodiscover.xml",
        post(move |headers: HeaderMap| async move {
            seen.record(&headers);
            challenge("evil.example")
        }),
    );
    listen(app).await
}

/// Everything unrouted fails at once; no SRV record, no DNS.
pub(crate) fn offline_environment(endpoints: Endpoints) -> Environment {
    Environment {
        endpoints,
        request_timeout: Duration::from_secs(10),
        srv: Arc::new(StaticSrvResolver::default()),
        sleeper: Arc::new(RecordingSleeper::default()),
        ..Environment::default()
    }
}

fn autodiscover_detail(report: &Report) -> &str {
    &report.step(StepId::Autodiscover).unwrap().detail
}

fn autodiscover_journal(sandbox: &SandboxHandle) -> Vec<(u16, Option<String>)> {
    sandbox
        .journal()
        .into_iter()
        .filter(|entry| entry.route == "autodiscover")
        .map(|entry| (entry.status, entry.note))
        .collect()
}

#[tokio::test]
async fn a_pox_redirect_to_another_host_gets_no_credentials_and_the_step_explains_why() {
    let home_seen = Seen::default();
    let recorder = home_seen.clone();
    // contoso.com's POX answers the anonymous request with a 302 to a host of someone else.
    let home = listen(axum::Router::new().route(
        "/autodiscover/autodiscover.xml",
        post(move |headers: HeaderMap| async move {
            recorder.record(&headers);
            (StatusCode::FOUND, [(header::LOCATION, EVIL_POX)])
        }),
    ))
    .await;
    let evil_seen = Seen::default();
    let evil = recording_challenger(evil_seen.clone()).await;
    let mut config = config_without_sandbox(password(demo::SERVICE_ACCOUNT_PASSWORD));
    config.environment = offline_environment(
        Endpoints::offline()
            .route("https://contoso.com/", &home)
            .unwrap()
            .route("https://evil.example/", &evil)
            .unwrap(),
    );

    let report = run(&config, &SilentReporter).await;

    assert_eq!(
        status(&report, StepId::Autodiscover),
        StepStatus::Failed,
        "{}",
        report.to_text()
    );
    assert_eq!(
        home_seen.all(),
        vec![None],
        "the first POX request is anonymous"
    );
    assert_eq!(
        evil_seen.all(),
        vec![None],
        "the redirect target asked for credentials and got none"
    );
    assert!(
        autodiscover_detail(&report).starts_with(&format!(
            "Autodiscover points to {EVIL_POX}; calconnect does not send the service account's password to a host it was redirected to — confirm it and enter the EWS URL"
        )),
        "{}",
        autodiscover_detail(&report)
    );
    assert!(
        report.verdict.summary.contains(EVIL_POX),
        "{}",
        report.verdict.summary
    );
}

#[tokio::test]
async fn a_redirect_url_answer_after_authenticating_is_not_followed_with_the_password() {
    // The real domain authenticates the service account, then names another host (over TLS: a second
    // sandbox, whose journal tells whether credentials came).
    let evil = sandbox().await;
    let home_seen = Seen::default();
    let recorder = home_seen.clone();
    let redirect = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectUrl</Action><RedirectUrl>{EVIL_POX}</RedirectUrl></Account></Response></Autodiscover>"#
    );
    let home = listen(axum::Router::new().route(
        "/autodiscover/autodiscover.xml",
        post(move |headers: HeaderMap| async move {
            match recorder.record(&headers) {
                Some(_) => (StatusCode::OK, redirect).into_response(),
                None => challenge("contoso.com"),
            }
        }),
    ))
    .await;
    let mut config = config_without_sandbox(password(demo::SERVICE_ACCOUNT_PASSWORD));
    config.environment = offline_environment(
        Endpoints::offline()
            .route("https://contoso.com/", &home)
            .unwrap()
            .route("https://evil.example/", evil.base_url().as_str())
            .unwrap(),
    );
    config.environment.trust = Trust::only(evil.ca_pem().unwrap());

    let report = run(&config, &SilentReporter).await;

    let home_requests = home_seen.all();
    assert_eq!(home_requests.len(), 2, "{home_requests:?}");
    assert_eq!(home_requests[0], None, "anonymous first");
    assert!(
        home_requests[1]
            .as_deref()
            .is_some_and(|value| value.starts_with("Basic ")),
        "Basic only after the domain's own challenge"
    );
    assert_eq!(
        autodiscover_journal(&evil),
        vec![(401, Some("401: no credentials".to_owned()))],
        "the host named by redirectUrl got no Authorization header"
    );
    assert_eq!(
        status(&report, StepId::Autodiscover),
        StepStatus::Failed,
        "{}",
        report.to_text()
    );
    assert!(
        autodiscover_detail(&report).starts_with(&format!("Autodiscover points to {EVIL_POX};")),
        "{}",
        autodiscover_detail(&report)
    );
}

#[tokio::test]
async fn pox_at_the_domain_is_asked_anonymously_first_and_answered_with_basic_after_its_challenge()
{
    let sandbox = sandbox().await;
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.ews_url = None;
    config.environment.endpoints = Endpoints::offline()
        .route("https://contoso.com/", sandbox.base_url().as_str())
        .unwrap();

    let report = run(&config, &SilentReporter).await;

    assert_eq!(
        status(&report, StepId::Autodiscover),
        StepStatus::Passed,
        "{}",
        report.to_text()
    );
    assert!(
        autodiscover_detail(&report).contains("via POX at {domain}"),
        "{}",
        autodiscover_detail(&report)
    );
    let journal = autodiscover_journal(&sandbox);
    assert_eq!(journal.len(), 2, "{journal:?}");
    assert_eq!(
        journal[0],
        (401, Some("401: no credentials".to_owned())),
        "no Authorization before the challenge"
    );
    assert_eq!(journal[1].0, 200);
    assert_eq!(report.ews_url.as_deref(), Some(sandbox.ews_url().as_str()));
}

#[tokio::test]
async fn pox_at_the_domain_offering_only_ntlm_is_reported_as_needing_ntlm() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.authentication = Some(vec![
        calconnect_sandbox::tenant::AuthMethod::Ntlm,
        calconnect_sandbox::tenant::AuthMethod::Negotiate,
    ]);
    let sandbox = calconnect_sandbox::Sandbox::builder()
        .tenant(tenant)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.ews_url = None;
    config.environment.endpoints = Endpoints::offline()
        .route("https://contoso.com/", sandbox.base_url().as_str())
        .unwrap();

    let report = run(&config, &SilentReporter).await;

    assert_eq!(status(&report, StepId::Autodiscover), StepStatus::Failed);
    assert!(
        autodiscover_detail(&report).contains("POX at {domain} (https://contoso.com/autodiscover/autodiscover.xml): failed: http 401: Autodiscover here needs NTLM"),
        "{}",
        autodiscover_detail(&report)
    );
    assert_eq!(
        autodiscover_journal(&sandbox).len(),
        1,
        "nothing is sent after the challenge"
    );
}

#[tokio::test]
async fn an_app_token_is_never_sent_to_autodiscover() {
    let sandbox = sandbox().await;
    let mut config = config(&sandbox, demo::MEGAN, app_credentials(&sandbox));
    config.ews_url = None;
    // Only POX is reachable: it must be asked anonymously and left at its challenge.
    config.environment = Environment {
        endpoints: Endpoints::offline()
            .route("https://contoso.com/", sandbox.base_url().as_str())
            .unwrap(),
        ..environment(&sandbox, RecordingSleeper::default())
    };

    let report = run(&config, &SilentReporter).await;

    assert_eq!(
        status(&report, StepId::Token),
        StepStatus::Passed,
        "{}",
        report.to_text()
    );
    assert_eq!(
        autodiscover_journal(&sandbox),
        vec![(401, Some("401: no credentials".to_owned()))],
        "the Bearer token stays out of Autodiscover"
    );
    assert_eq!(status(&report, StepId::Autodiscover), StepStatus::Failed);
}

pub(crate) fn config_without_sandbox(
    credentials: calconnect_ews::auth::Credentials,
) -> calconnect_ews::diagnostics::TestConfig {
    calconnect_ews::diagnostics::TestConfig::new(credentials, demo::ADELE)
}
