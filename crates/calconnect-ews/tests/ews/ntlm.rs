//! NTLM against the sandbox over loopback TLS: preferred over Basic, the only way in when Basic is off,
//! refused with a wrong password, redone for every later EWS call; and the `X-AnchorMailbox` header the
//! client sends with impersonation.

use calconnect_ews::auth::Credentials;
use calconnect_ews::diagnostics::{
    run, AccessLevel, SilentReporter, StepId, StepStatus, TestConfig,
};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use secrecy::SecretString;

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
        schemes.contains("NTLM, Basic, Bearer") && schemes.contains("using NTLM"),
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
    // Own calendar, calendar, calendar view, inbox, availability: a handshake each (more only if a
    // connection race forced a fresh one).
    assert!(ntlm_challenges(&sandbox) >= 5, "{:#?}", sandbox.journal());
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
    tenant.exchange.basic_auth_disabled = true;
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let report = run(
        &config(
            &sandbox,
            demo::MEGAN,
            password(demo::SERVICE_ACCOUNT_PASSWORD),
        ),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        report.access_level(),
        AccessLevel::Restricted,
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
    tenant.exchange.basic_auth_disabled = true;
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
    assert!(
        detail.contains("http 401 with NTLM: wrong user name or password"),
        "{detail}"
    );
    assert_eq!(report.access_level(), AccessLevel::None);
    assert!(
        report.verdict.summary.contains("refused the password"),
        "{}",
        report.verdict.summary
    );
    assert!(sandbox.journal().iter().any(|entry| entry.note.as_deref()
        == Some("401: ntlm: wrong password for svc-calconnect@contoso.com")));
    assert!(!report.to_json().contains("not-the-password"));
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
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.exchange_online = Some(calconnect_sandbox::tenant::ExchangeOnlineEws {
        ews_enabled: true,
        allowed_app_ids: vec![demo::EWS_APP_CLIENT_ID.into()],
    });
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let config = TestConfig {
        credentials: app_credentials(&sandbox),
        mailbox: demo::ADELE.into(),
        ews_url: Some(sandbox.ews_url()),
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
    // Calendar, calendar view, inbox and availability all impersonate Adele.
    assert_eq!(anchored, 4, "{:#?}", sandbox.journal());
}
