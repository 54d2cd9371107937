//! NTLM against the sandbox over loopback TLS: preferred over Basic, the only way in when Basic is off,
//! refused with a wrong password after a single handshake, redone for every later EWS call, refused
//! like any request on an untrusted certificate; and the `X-AnchorMailbox` header the client sends with
//! impersonation.

use std::sync::Arc;
use std::time::Duration;

use calconnect_ews::auth::{Authorization, Credentials};
use calconnect_ews::client::EwsClient;
use calconnect_ews::clock::RecordingSleeper;
use calconnect_ews::connection::Connector;
use calconnect_ews::diagnostics::{
    run, AccessLevel, SilentReporter, StepId, StepStatus, TestConfig,
};
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::operations::{DistinguishedFolder, GetFolder};
use calconnect_ews::request_log::RequestLog;
use calconnect_ews::tls::{http_client, TlsProblem, Trust};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use secrecy::SecretString;
use url::Url;

use crate::service_account::{
    app_credentials, assert_no_secret, config, environment, password, sandbox, status,
};

fn ntlm_challenges(sandbox: &SandboxHandle) -> usize {
    sandbox
        .journal()
        .iter()
        .filter(|entry| entry.note.as_deref() == Some("401: ntlm challenge"))
        .count()
}

#[tokio::test]
async fn ntlm_is_preferred_over_basic_and_every_later_call_authenticates_with_it() {
    let sandbox = sandbox().await;
    let report = run(
        &config(
            &sandbox,
            demo::ADELE,
            password(demo::SERVICE_ACCOUNT_PASSWORD),
        ),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
    let schemes = &report.step(StepId::AuthenticationSchemes).unwrap().detail;
    assert!(
        schemes.contains("NTLM, Negotiate, Basic") && schemes.contains("using NTLM"),
        "{schemes}"
    );
    let authentication = &report.step(StepId::Authentication).unwrap().detail;
    assert!(
        authentication.contains("authenticated with NTLM"),
        "{authentication}"
    );
    assert!(
        report
            .verdict
            .notes
            .iter()
            .any(|note| note.contains("authenticated with NTLM")),
        "{:?}",
        report.verdict.notes
    );
    // Own calendar, calendar, calendar view, inbox, availability: one handshake each, never redone.
    assert_eq!(ntlm_challenges(&sandbox), 5, "{:#?}", sandbox.journal());
    assert!(
        sandbox.journal().iter().all(|entry| !entry
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("ntlm: wrong")),
        "no AUTHENTICATE was refused"
    );
    assert_no_secret(&report);
}

#[tokio::test]
async fn with_basic_disabled_on_the_server_ntlm_is_used_and_the_step_says_so() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.authentication = Some(vec![
        calconnect_sandbox::tenant::AuthMethod::Ntlm,
        calconnect_sandbox::tenant::AuthMethod::Negotiate,
    ]);
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let report = run(
        &config(
            &sandbox,
            demo::ADELE,
            password(demo::SERVICE_ACCOUNT_PASSWORD),
        ),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
    let schemes = &report.step(StepId::AuthenticationSchemes).unwrap().detail;
    assert!(
        !schemes.contains("Basic,") && schemes.contains("using NTLM (Basic is not offered)"),
        "{schemes}"
    );
    assert!(report
        .step(StepId::Authentication)
        .unwrap()
        .detail
        .contains("authenticated with NTLM"));
}

#[tokio::test]
async fn ntlm_with_a_wrong_password_fails_with_a_clear_verdict() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.authentication = Some(vec![
        calconnect_sandbox::tenant::AuthMethod::Ntlm,
        calconnect_sandbox::tenant::AuthMethod::Negotiate,
    ]);
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let report = run(
        &config(&sandbox, demo::ADELE, password("not-the-password")),
        &SilentReporter,
    )
    .await;

    assert_eq!(status(&report, StepId::Authentication), StepStatus::Failed);
    let detail = &report.step(StepId::Authentication).unwrap().detail;
    assert!(detail.contains("http 401 with NTLM"), "{detail}");
    assert_eq!(report.access_level(), AccessLevel::None);
    // Basic is not offered, so nothing tells a wrong password from a channel-binding mismatch: the
    // verdict names both.
    let summary = &report.verdict.summary;
    assert!(
        summary.contains("wrong user name or password") && summary.contains("Extended Protection"),
        "{summary}"
    );
    assert!(sandbox.journal().iter().any(|entry| entry.note.as_deref()
        == Some("401: ntlm: wrong password for svc-calconnect@contoso.com")));
    assert!(!report.to_json().contains("not-the-password"));
}

#[tokio::test]
async fn a_wrong_password_costs_exactly_one_ntlm_handshake() {
    let sandbox = sandbox().await;
    let report = run(
        &config(&sandbox, demo::ADELE, password("not-the-password")),
        &SilentReporter,
    )
    .await;

    assert_eq!(status(&report, StepId::Authentication), StepStatus::Failed);
    let ntlm_requests: Vec<_> = sandbox
        .journal()
        .into_iter()
        .filter(|entry| {
            entry.path == "/EWS/Exchange.asmx"
                && entry
                    .note
                    .as_deref()
                    .is_some_and(|note| note.contains("ntlm"))
        })
        .collect();
    let notes: Vec<_> = ntlm_requests
        .iter()
        .map(|entry| (entry.status, entry.note.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        notes,
        vec![
            (401, "401: ntlm challenge".to_owned()),
            (
                401,
                "401: ntlm: wrong password for svc-calconnect@contoso.com".to_owned()
            ),
        ],
        "{:#?}",
        sandbox.journal()
    );
    // The client's own log agrees: one NEGOTIATE, one AUTHENTICATE, no retry.
    let requests = &report.step(StepId::Authentication).unwrap().requests;
    let negotiates = requests
        .iter()
        .filter(|request| request.operation.ends_with("(NTLM negotiate)"))
        .count();
    let refused = requests
        .iter()
        .filter(|request| {
            !request.operation.ends_with("(NTLM negotiate)") && request.status == Some(401)
        })
        .count();
    assert_eq!((negotiates, refused), (1, 1), "{requests:#?}");
}

/// An EWS client authenticating with the service account's NTLM credentials, without the test runner.
fn ntlm_client(trust: &Trust, endpoints: &Endpoints, url: Url, log: &RequestLog) -> EwsClient {
    let timeout = Duration::from_secs(10);
    EwsClient::new(
        http_client(trust, timeout, endpoints).unwrap(),
        Connector::new(trust, timeout, endpoints).unwrap(),
        url,
        Arc::new(RecordingSleeper::default()),
        log.clone(),
    )
    .with_authorization(Authorization::ntlm(
        demo::SERVICE_ACCOUNT_UPN,
        &SecretString::from(demo::SERVICE_ACCOUNT_PASSWORD),
    ))
    .unwrap()
}

fn calendar() -> GetFolder {
    GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: None,
    }
}

#[tokio::test]
async fn an_untrusted_certificate_on_the_ntlm_connection_gets_the_tls_verdict() {
    let sandbox = sandbox().await;
    let log = RequestLog::default();
    // Public roots only: the sandbox CA is unknown.
    let client = ntlm_client(
        &Trust::default(),
        &Endpoints::offline(),
        sandbox.ews_url(),
        &log,
    );

    let error = client
        .call(&calendar(), Some(demo::ADELE))
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            calconnect_ews::Error::Tls {
                problem: TlsProblem::UnknownIssuer,
                ..
            }
        ),
        "{error:?}"
    );
    let records = log.since(0);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert!(records[0].operation.ends_with("(NTLM negotiate)"));
    assert!(sandbox
        .journal()
        .iter()
        .all(|entry| entry.path != "/EWS/Exchange.asmx"));
}

#[tokio::test]
async fn the_ntlm_connection_goes_to_the_resolved_address_and_checks_the_certificate_for_the_url_host(
) {
    let sandbox = sandbox().await;
    let port = sandbox.base_url().port().unwrap();
    let url = Url::parse(&format!(
        "https://mail.contoso.com:{port}/EWS/Exchange.asmx"
    ))
    .unwrap();
    let endpoints = Endpoints::offline().resolve("mail.contoso.com", ([127, 0, 0, 1], port).into());
    let client = ntlm_client(
        &Trust::only(sandbox.ca_pem().unwrap()),
        &endpoints,
        url,
        &RequestLog::default(),
    );

    let error = client
        .call(&calendar(), Some(demo::ADELE))
        .await
        .unwrap_err();

    // The sandbox answered the TLS handshake (so the host override was used), and its certificate was
    // checked against mail.contoso.com, not the address connected to.
    let calconnect_ews::Error::Tls {
        problem: TlsProblem::NotValidForName { host, names },
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(host, "mail.contoso.com");
    assert!(names.iter().any(|name| name == "127.0.0.1"), "{names:?}");
}

#[tokio::test]
async fn an_ntlm_call_through_a_route_authenticates_on_the_routed_connection() {
    let sandbox = sandbox().await;
    let log = RequestLog::default();
    let endpoints = Endpoints::offline()
        .route("https://mail.contoso.com/", sandbox.base_url().as_str())
        .unwrap();
    let client = ntlm_client(
        &Trust::only(sandbox.ca_pem().unwrap()),
        &endpoints,
        Url::parse("https://mail.contoso.com/EWS/Exchange.asmx").unwrap(),
        &log,
    );

    let result = client.call(&calendar(), Some(demo::ADELE)).await.unwrap();

    assert!(result.output.is_some(), "{result:?}");
    assert_eq!(ntlm_challenges(&sandbox), 1, "{:#?}", sandbox.journal());
    let records = log.since(0);
    assert_eq!(
        records
            .iter()
            .map(|record| (record.operation.as_str(), record.status))
            .collect::<Vec<_>>(),
        vec![
            ("GetFolder (NTLM negotiate)", Some(401)),
            ("GetFolder", Some(200)),
        ]
    );
    // The log names the logical URL, never the route.
    assert!(records
        .iter()
        .all(|record| record.url == "https://mail.contoso.com/EWS/Exchange.asmx"));
}

#[tokio::test]
async fn a_domain_backslash_user_name_authenticates_with_ntlm() {
    let sandbox = sandbox().await;
    let credentials = Credentials::Password {
        username: "CONTOSO\\svc-calconnect".into(),
        password: SecretString::from(demo::SERVICE_ACCOUNT_PASSWORD),
    };
    let report = run(&config(&sandbox, demo::LEE, credentials), &SilentReporter).await;
    assert_eq!(
        report.access_level(),
        AccessLevel::FreeBusy,
        "{}",
        report.to_text()
    );
    assert!(report
        .step(StepId::Authentication)
        .unwrap()
        .detail
        .contains("authenticated with NTLM as CONTOSO\\svc-calconnect"));
}

#[tokio::test]
async fn impersonating_app_requests_carry_the_x_anchor_mailbox_of_the_mailbox() {
    let tenant = calconnect_sandbox::Tenant::demo_exchange_online();
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let config = TestConfig {
        credentials: app_credentials(&sandbox),
        mailboxes: vec![demo::ADELE.into()],
        ews_url: Some(sandbox.ews_url()),
        concurrency: calconnect_ews::diagnostics::DEFAULT_CONCURRENCY,
        environment: environment(&sandbox, Default::default()),
    };
    let report = run(&config, &SilentReporter).await;
    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
    let anchored = sandbox
        .journal()
        .iter()
        .filter(|entry| {
            entry.path == "/EWS/Exchange.asmx"
                && entry.note.as_deref() == Some("X-AnchorMailbox adele@contoso.com")
        })
        .count();
    // Authentication, calendar, inbox, calendar view and availability all impersonate Adele.
    assert_eq!(anchored, 5, "{:#?}", sandbox.journal());
}
