//! The service-account test against the sandbox's EWS over loopback TLS: every access level, the none
//! case, a wrong password, an unknown mailbox, throttling with back-off, Autodiscover with a dead
//! candidate, an untrusted certificate and Exchange Online app credentials.

use std::sync::Arc;
use std::time::{Duration, Instant};

use calconnect_ews::auth::Credentials;
use calconnect_ews::autodiscover::{SrvRecord, StaticSrvResolver};
use calconnect_ews::clock::{FixedClock, RecordingSleeper};
use calconnect_ews::cloud::ExchangeCloud;
use calconnect_ews::diagnostics::{
    run, AccessLevel, Environment, Report, Route, SilentReporter, StepEvent, StepId, StepStatus,
    TestConfig, DEFAULT_CONCURRENCY,
};
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::tls::Trust;
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use chrono::{TimeZone, Utc};
use secrecy::SecretString;
use url::Url;

pub(crate) async fn sandbox() -> SandboxHandle {
    Sandbox::builder()
        .tls(true)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("sandbox starts")
}

pub(crate) fn environment(sandbox: &SandboxHandle, sleeper: RecordingSleeper) -> Environment {
    Environment {
        endpoints: Endpoints::offline(),
        trust: Trust::only(sandbox.ca_pem().expect("tls sandbox has a CA")),
        request_timeout: Duration::from_secs(10),
        candidate_timeout: Duration::from_secs(10),
        clock: Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
        )),
        sleeper: Arc::new(sleeper),
        // No test queries DNS: the production SystemSrvResolver is replaced by fixed answers.
        srv: Arc::new(StaticSrvResolver::default()),
        ..Environment::default()
    }
}

pub(crate) fn password(password: &str) -> Credentials {
    Credentials::Password {
        username: demo::SERVICE_ACCOUNT_UPN.into(),
        password: SecretString::from(password.to_owned()),
    }
}

pub(crate) fn config(
    sandbox: &SandboxHandle,
    mailbox: &str,
    credentials: Credentials,
) -> TestConfig {
    TestConfig {
        credentials,
        mailboxes: vec![mailbox.into()],
        ews_url: Some(sandbox.ews_url()),
        concurrency: DEFAULT_CONCURRENCY,
        environment: environment(sandbox, RecordingSleeper::default()),
    }
}

pub(crate) fn status(report: &Report, id: StepId) -> StepStatus {
    report
        .step(id)
        .unwrap_or_else(|| panic!("step {id:?} missing:\n{}", report.to_text()))
        .status
}

fn code(report: &Report, id: StepId) -> Option<String> {
    report.step(id).and_then(|step| step.response_code.clone())
}

pub(crate) fn assert_no_secret(report: &Report) {
    for export in [report.to_json(), report.to_text(), format!("{report:?}")] {
        assert!(
            !export.contains(demo::SERVICE_ACCOUNT_PASSWORD),
            "the password leaked into a report export"
        );
        assert!(
            !export.contains(demo::EWS_APP_CLIENT_SECRET),
            "the client secret leaked into a report export"
        );
        assert!(
            !export.contains("Bearer ey"),
            "a token leaked into a report export"
        );
    }
}

#[tokio::test]
async fn full_impersonation_is_reported_as_full_with_the_server_version() {
    let sandbox = sandbox().await;
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let report = run(
        &config(
            &sandbox,
            demo::ADELE,
            password(demo::SERVICE_ACCOUNT_PASSWORD),
        ),
        &sender,
    )
    .await;

    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
    assert!(report.meets(AccessLevel::Restricted));
    assert_eq!(status(&report, StepId::Tls), StepStatus::Passed);
    assert_eq!(status(&report, StepId::OtherFolder), StepStatus::Passed);
    assert!(
        report
            .server_version
            .as_deref()
            .is_some_and(|version| version.starts_with("15.")),
        "ServerVersionInfo reported"
    );
    let schemes = &report.step(StepId::AuthenticationSchemes).unwrap().detail;
    assert!(
        schemes.contains("Basic") && schemes.contains("NTLM"),
        "on premises: Windows authentication and Basic, no OAuth: {schemes}"
    );
    drop(sender);
    let mut started = 0;
    while let Some(event) = events.recv().await {
        if matches!(event, StepEvent::Started { .. }) {
            started += 1;
        }
    }
    assert_eq!(
        started,
        report.steps.len(),
        "every step is reported live as it starts"
    );
    assert_no_secret(&report);
}

#[tokio::test]
async fn calendar_only_delegate_access_is_restricted_and_the_inbox_is_denied() {
    let sandbox = sandbox().await;
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
    assert_eq!(report.mailboxes[0].route, Some(Route::Delegate));
    // Impersonation is all or nothing: megan's scope leaves her out, so it is refused outright.
    assert_eq!(
        code(&report, StepId::CalendarFolder).as_deref(),
        Some("ErrorImpersonateUserDenied")
    );
    let delegate = report.step(StepId::DelegateCalendarFolder).unwrap();
    assert_eq!(delegate.status, StepStatus::Passed, "{}", report.to_text());
    assert!(
        delegate.title.contains("Delegate access"),
        "{}",
        delegate.title
    );
    assert!(
        delegate.detail.contains("may read and create items"),
        "{}",
        delegate.detail
    );
    assert_eq!(
        status(&report, StepId::DelegateOtherFolder),
        StepStatus::Warning
    );
    assert!(
        matches!(
            code(&report, StepId::DelegateOtherFolder).as_deref(),
            Some("ErrorAccessDenied" | "ErrorFolderNotFound")
        ),
        "{}",
        report.to_text()
    );
    let view = report.step(StepId::CalendarView).unwrap();
    assert_eq!(view.status, StepStatus::Passed);
    assert!(view.title.starts_with("Delegate access"), "{}", view.title);
    assert!(
        !report.meets(AccessLevel::Full),
        "--expect full must fail for a restricted grant"
    );
    // The only fix left reaches Full, by scoped impersonation; no Restricted fix is offered again.
    let reaches: Vec<_> = report.verdict.fixes.iter().map(|fix| fix.reaches).collect();
    assert_eq!(reaches, [Some(AccessLevel::Full)], "{}", report.to_text());
    assert!(report
        .verdict
        .notes
        .iter()
        .any(|note| note.contains("delegate access") && note.contains("must not impersonate")));
}

#[tokio::test]
async fn default_free_busy_is_named_as_default_and_fixes_come_least_privilege_first() {
    let sandbox = sandbox().await;
    let report = run(
        &config(
            &sandbox,
            demo::LEE,
            password(demo::SERVICE_ACCOUNT_PASSWORD),
        ),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        report.access_level(),
        AccessLevel::FreeBusy,
        "{}",
        report.to_text()
    );
    assert_eq!(
        code(&report, StepId::CalendarFolder).as_deref(),
        Some("ErrorImpersonateUserDenied")
    );
    assert_eq!(
        status(&report, StepId::DelegateCalendarFolder),
        StepStatus::Failed
    );
    let availability = report.step(StepId::Availability).unwrap();
    assert_eq!(availability.status, StepStatus::Passed);
    assert!(
        availability
            .detail
            .contains("asked for DetailedMerged, Exchange returned FreeBusyMerged"),
        "AvailabilityOnly downgrades the view, and the report records what came back: {}",
        availability.detail
    );
    assert_eq!(
        report.mailboxes[0].availability_view.as_deref(),
        Some("FreeBusyMerged")
    );
    assert!(
        report.verdict.summary.contains("Default")
            && report.verdict.summary.contains("proves no grant"),
        "{}",
        report.verdict.summary
    );
    let reaches: Vec<_> = report.verdict.fixes.iter().map(|fix| fix.reaches).collect();
    assert_eq!(
        reaches,
        [Some(AccessLevel::Restricted), Some(AccessLevel::Full)],
        "least privilege first: {}",
        report.to_text()
    );
    let editor = report.verdict.fixes[0].command.as_deref().unwrap();
    assert!(
        editor.starts_with("$mailbox = \"lee@contoso.com\"; $calendar = $mailbox + ':\\' + (Get-MailboxFolderStatistics -Identity $mailbox -FolderScope Calendar")
            && editor.contains("Add-MailboxFolderPermission -Identity $calendar -User \"svc-calconnect@contoso.com\" -AccessRights Editor"),
        "{editor}"
    );
    let impersonation = report.verdict.fixes[1].command.as_deref().unwrap();
    // The scope is named after its mailboxes, so runs for other mailboxes never rebind it.
    let scope = impersonation
        .split('"')
        .nth(1)
        .filter(|name| name.starts_with("calconnect-"))
        .unwrap_or_else(|| panic!("{impersonation}"));
    assert_eq!(
        impersonation,
        format!("New-ManagementScope -Name \"{scope}\" -RecipientRestrictionFilter \"PrimarySmtpAddress -eq 'lee@contoso.com'\"; New-ManagementRoleAssignment -Name \"{scope}-impersonation\" -Role ApplicationImpersonation -User \"svc-calconnect@contoso.com\" -CustomRecipientWriteScope \"{scope}\"")
    );
    assert!(report
        .verdict
        .fixes
        .iter()
        .all(|fix| !fix.changes.is_empty()
            && fix
                .doc_url
                .starts_with("https://learn.microsoft.com/en-us/powershell/module/exchange/")));
    let failed = report.step(StepId::CalendarFolder).unwrap();
    assert!(
        failed
            .doc_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://learn.microsoft.com/")),
        "failed steps link to the docs"
    );
}

#[tokio::test]
async fn no_rights_at_all_is_none_with_the_availability_only_fix() {
    let sandbox = sandbox().await;
    let report = run(
        &config(
            &sandbox,
            demo::ALEX,
            password(demo::SERVICE_ACCOUNT_PASSWORD),
        ),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        report.access_level(),
        AccessLevel::None,
        "{}",
        report.to_text()
    );
    assert_eq!(
        code(&report, StepId::Availability).as_deref(),
        Some("ErrorNoFreeBusyAccess")
    );
    assert_eq!(status(&report, StepId::Verdict), StepStatus::Failed);
    let first = &report.verdict.fixes[0];
    assert_eq!(first.reaches, Some(AccessLevel::FreeBusy));
    assert_eq!(
        first.command.as_deref(),
        Some("$mailbox = \"alex@contoso.com\"; $calendar = $mailbox + ':\\' + (Get-MailboxFolderStatistics -Identity $mailbox -FolderScope Calendar | Where-Object FolderType -eq 'Calendar' | Select-Object -First 1).Name; if (Get-MailboxFolderPermission -Identity $calendar -User \"svc-calconnect@contoso.com\" -ErrorAction SilentlyContinue) { Set-MailboxFolderPermission -Identity $calendar -User \"svc-calconnect@contoso.com\" -AccessRights AvailabilityOnly } else { Add-MailboxFolderPermission -Identity $calendar -User \"svc-calconnect@contoso.com\" -AccessRights AvailabilityOnly }")
    );
}

#[tokio::test]
async fn a_wrong_password_fails_authentication_without_leaking_it() {
    let sandbox = sandbox().await;
    let report = run(
        &config(&sandbox, demo::ADELE, password("not-the-password")),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        status(&report, StepId::Authentication),
        StepStatus::Failed,
        "{}",
        report.to_text()
    );
    assert!(report
        .step(StepId::Authentication)
        .unwrap()
        .detail
        .contains("401"));
    assert_eq!(status(&report, StepId::CalendarFolder), StepStatus::Skipped);
    assert_eq!(report.access_level(), AccessLevel::None);
    assert!(!report.to_json().contains("not-the-password"));
}

#[tokio::test]
async fn an_unknown_mailbox_is_named_as_such() {
    let sandbox = sandbox().await;
    let report = run(
        &config(
            &sandbox,
            "nobody@contoso.com",
            password(demo::SERVICE_ACCOUNT_PASSWORD),
        ),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        code(&report, StepId::CalendarFolder).as_deref(),
        Some("ErrorNonExistentMailbox"),
        "{}",
        report.to_text()
    );
    assert_eq!(
        code(&report, StepId::Availability).as_deref(),
        Some("ErrorMailRecipientNotFound")
    );
    assert!(
        report
            .verdict
            .summary
            .contains("no mailbox nobody@contoso.com"),
        "{}",
        report.verdict.summary
    );
}

#[tokio::test]
async fn server_busy_is_retried_after_the_requested_back_off() {
    let sandbox = sandbox().await;
    sandbox
        .faults()
        .ews_server_busy(Duration::from_millis(1_234), 2);
    let sleeper = RecordingSleeper::default();
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.environment.sleeper = Arc::new(sleeper.clone());

    let report = run(&config, &SilentReporter).await;

    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
    assert_eq!(
        sleeper.slept(),
        vec![Duration::from_millis(1_234); 2],
        "BackOffMilliseconds is honoured, through the injected sleep"
    );
    let throttled: Vec<_> = report
        .steps
        .iter()
        .flat_map(|step| &step.requests)
        .filter(|request| request.response_code.as_deref() == Some("ErrorServerBusy"))
        .collect();
    assert_eq!(
        throttled.len(),
        2,
        "the request log shows both throttled attempts"
    );
}

#[tokio::test]
async fn autodiscover_races_candidates_so_a_dead_host_does_not_stall_the_test() {
    let sandbox = sandbox().await;
    // A listener that accepts connections but never answers: the TLS handshake would hang until the timeout.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_base = format!("https://{}/", dead.local_addr().unwrap());
    let base = sandbox.base_url().to_string();
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.ews_url = None;
    // The bare domain is the dead one: it is raced like any other. (A dead autodiscover. host instead
    // holds the bare domain's password back for one candidate timeout: credentials.rs.)
    config.environment.endpoints = Endpoints::offline()
        .route("https://contoso.com/", &dead_base)
        .unwrap()
        .route("https://autodiscover.contoso.com/", &base)
        .unwrap()
        .route(
            "http://autodiscover.contoso.com/",
            &dead_base.replace("https", "http"),
        )
        .unwrap();

    let started = Instant::now();
    let report = run(&config, &SilentReporter).await;
    let elapsed = started.elapsed();

    assert_eq!(
        status(&report, StepId::Autodiscover),
        StepStatus::Passed,
        "{}",
        report.to_text()
    );
    assert_eq!(report.ews_url.as_deref(), Some(sandbox.ews_url().as_str()));
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?}: candidates must be raced, not awaited one by one (timeout 10 s)"
    );
    assert_eq!(report.access_level(), AccessLevel::Full);
    drop(dead);
}

#[tokio::test]
async fn the_http_redirect_probe_target_is_reported_for_confirmation_and_never_gets_the_password() {
    let sandbox = sandbox().await;
    let plain = Sandbox::builder()
        .tls(false)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut config = config(
        &sandbox,
        demo::LEE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.ews_url = None;
    // Only the unauthenticated http probe reaches a server; it redirects to that server's POX, which asks
    // for credentials. Plain http can be rewritten on the way, so its target is not trusted with them.
    config.environment.endpoints = Endpoints::offline()
        .route(
            "http://autodiscover.contoso.com/",
            plain.base_url().as_str(),
        )
        .unwrap();

    let report = run(&config, &SilentReporter).await;

    let detail = &report.step(StepId::Autodiscover).unwrap().detail;
    assert_eq!(
        status(&report, StepId::Autodiscover),
        StepStatus::Failed,
        "{}",
        report.to_text()
    );
    assert!(
        detail.starts_with(&format!(
            "Autodiscover points to {}; calconnect does not send the service account's password",
            plain.autodiscover_url()
        )),
        "{detail}"
    );
    let pox: Vec<_> = plain
        .journal()
        .into_iter()
        .filter(|entry| entry.route == "autodiscover" && entry.method == "POST")
        .collect();
    assert_eq!(pox.len(), 1, "{pox:?}");
    assert_eq!(pox[0].status, 401);
    assert_eq!(
        pox[0].note.as_deref(),
        Some("401: no credentials"),
        "the redirect target got no Authorization header"
    );
    assert_eq!(status(&report, StepId::Authentication), StepStatus::Skipped);
}

#[tokio::test]
async fn an_untrusted_certificate_gets_a_clear_tls_verdict() {
    let sandbox = sandbox().await;
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.environment.trust = Trust::default(); // public roots only: the sandbox CA is unknown

    let report = run(&config, &SilentReporter).await;

    let tls = report.step(StepId::Tls).unwrap();
    assert_eq!(tls.status, StepStatus::Failed, "{}", report.to_text());
    assert!(tls.detail.contains("trusted root"), "{}", tls.detail);
    assert_eq!(status(&report, StepId::Authentication), StepStatus::Skipped);
}

#[tokio::test]
async fn exchange_online_app_credentials_use_a_bearer_token_and_mention_the_ews_retirement() {
    let sandbox = Sandbox::builder()
        .tenant(calconnect_sandbox::Tenant::demo_exchange_online())
        .start()
        .await
        .expect("sandbox starts");
    let credentials = Credentials::ClientCredentials {
        cloud: ExchangeCloud::emulator(sandbox.base_url()),
        tenant: demo::DOMAIN.into(),
        client_id: demo::EWS_APP_CLIENT_ID.into(),
        client_secret: SecretString::from(demo::EWS_APP_CLIENT_SECRET),
    };
    let report = run(&config(&sandbox, demo::ADELE, credentials), &SilentReporter).await;

    assert_eq!(
        status(&report, StepId::Token),
        StepStatus::Passed,
        "{}",
        report.to_text()
    );
    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "RBAC for Applications puts adele in the app's scope"
    );
    assert!(
        report
            .verdict
            .notes
            .iter()
            .any(|note| note.contains("2026-10-01") && note.contains("allow-lists")),
        "{:?}",
        report.verdict.notes
    );
    assert_no_secret(&report);
}

#[tokio::test]
async fn plain_http_ews_urls_are_refused_for_non_loopback_hosts() {
    let sandbox = sandbox().await;
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.ews_url = Some(Url::parse("http://mail.contoso.com/EWS/Exchange.asmx").unwrap());

    let report = run(&config, &SilentReporter).await;

    assert_eq!(status(&report, StepId::Tls), StepStatus::Failed);
    assert!(report
        .step(StepId::Tls)
        .unwrap()
        .detail
        .contains("plain http"));
    assert!(
        sandbox
            .journal()
            .iter()
            .all(|entry| !format!("{entry:?}").contains("EWS")),
        "no request may leave"
    );
}

#[tokio::test]
async fn server_busy_inside_an_http_200_response_message_is_retried_after_its_back_off() {
    let sandbox = sandbox().await;
    sandbox
        .faults()
        .ews_server_busy_in_response_message(Duration::from_millis(750), 2);
    let sleeper = RecordingSleeper::default();
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.environment.sleeper = Arc::new(sleeper.clone());

    let report = run(&config, &SilentReporter).await;

    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
    assert_eq!(
        sleeper.slept(),
        vec![Duration::from_millis(750); 2],
        "ErrorInternalServerError with an inner ErrorServerBusy is throttling, not a failure"
    );
}

fn exchange_online_sandbox_tenant(allowed_app_ids: Vec<String>) -> calconnect_sandbox::Tenant {
    let mut tenant = calconnect_sandbox::Tenant::demo_exchange_online();
    tenant.exchange.organization.ews_allowed_app_ids = allowed_app_ids;
    tenant
}

pub(crate) fn app_credentials(sandbox: &SandboxHandle) -> Credentials {
    Credentials::ClientCredentials {
        cloud: ExchangeCloud::emulator(sandbox.base_url()),
        tenant: demo::DOMAIN.into(),
        client_id: demo::EWS_APP_CLIENT_ID.into(),
        client_secret: SecretString::from(demo::EWS_APP_CLIENT_SECRET),
    }
}

#[tokio::test]
async fn an_app_outside_the_exchange_online_ews_allow_list_is_told_how_to_get_on_it() {
    // The machine's clock (and so the sandbox's) is past 2026-10-01 in this project; make sure of it.
    let sandbox = Sandbox::builder()
        .tenant(exchange_online_sandbox_tenant(vec![
            demo::EWS_UNLISTED_APP_CLIENT_ID.into(),
        ]))
        .start()
        .await
        .expect("sandbox starts");
    let enforced = calconnect_sandbox::tenant::exchange::ews_allow_list_enforced_from();
    if let Ok(ahead) = (enforced - sandbox.state().now()).to_std() {
        sandbox.advance_time(ahead + Duration::from_secs(86_400));
    }

    let report = run(
        &config(&sandbox, demo::MEGAN, app_credentials(&sandbox)),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        status(&report, StepId::Authentication),
        StepStatus::Failed,
        "{}",
        report.to_text()
    );
    assert_eq!(report.access_level(), AccessLevel::None);
    // The same 403 to a request naming no mailbox: the allow list, not the app's RBAC scope.
    assert_eq!(
        status(&report, StepId::AllowList),
        StepStatus::Failed,
        "{}",
        report.to_text()
    );
    let summary = &report.verdict.summary;
    assert!(
        summary.contains("EWS is blocked for app")
            && summary.contains("in Exchange Online since October 2026")
            && summary.contains("EwsAllowedAppIDs")
            && summary.contains("April 2027"),
        "{summary}"
    );
    let command = report.verdict.fixes[0]
        .command
        .as_deref()
        .unwrap_or_default();
    // EwsAllowList matches user agents: with an app id it would block every other client and still
    // leave the app out (facts §0). The list of app ids is read first and replaced whole.
    assert!(
        command.contains(demo::EWS_APP_CLIENT_ID)
            && command.contains("Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy")
            && command.contains("Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs"),
        "{command}"
    );
    for wrong in [
        "EwsAllowList",
        "EnforceAllowList",
        "EwsApplicationAccessPolicy",
    ] {
        assert!(
            !command.contains(wrong) && !summary.contains(wrong),
            "{wrong} in {command} / {summary}"
        );
    }
    assert!(sandbox
        .journal()
        .iter()
        .any(|entry| entry.route == "ews" && entry.status == 403));
    assert_no_secret(&report);
}

#[tokio::test]
async fn an_allow_listed_app_keeps_using_ews_in_exchange_online() {
    let sandbox = Sandbox::builder()
        .tenant(exchange_online_sandbox_tenant(vec![
            demo::EWS_APP_CLIENT_ID.to_owned(),
        ]))
        .start()
        .await
        .expect("sandbox starts");

    let report = run(
        &config(&sandbox, demo::ADELE, app_credentials(&sandbox)),
        &SilentReporter,
    )
    .await;

    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_gets_a_name_mismatch_verdict_naming_both() {
    let sandbox = sandbox().await;
    let port = sandbox.base_url().port().expect("port");
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    // mail.contoso.com points at the sandbox, whose certificate covers only 127.0.0.1, localhost and ::1.
    config.ews_url = Some(
        Url::parse(&format!(
            "https://mail.contoso.com:{port}/EWS/Exchange.asmx"
        ))
        .unwrap(),
    );
    config.environment.endpoints =
        Endpoints::offline().resolve("mail.contoso.com", ([127, 0, 0, 1], port).into());

    let report = run(&config, &SilentReporter).await;

    let tls = report.step(StepId::Tls).expect("tls step");
    assert_eq!(tls.status, StepStatus::Failed, "{}", report.to_text());
    assert!(
        tls.detail.contains("not valid for mail.contoso.com")
            && tls.detail.contains("localhost")
            && tls.detail.contains("127.0.0.1"),
        "{}",
        tls.detail
    );
    assert_eq!(status(&report, StepId::Authentication), StepStatus::Skipped);
}

#[tokio::test]
async fn autodiscover_reports_the_best_ssl_target_of_the_srv_record_without_sending_it_the_password(
) {
    let sandbox = sandbox().await;
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.ews_url = None;
    let record = |priority, weight, port, target: &str| SrvRecord {
        priority,
        weight,
        port,
        target: target.to_owned(),
    };
    config.environment.srv = Arc::new(StaticSrvResolver {
        records: vec![(
            "_autodiscover._tcp.contoso.com".to_owned(),
            vec![
                record(0, 0, 80, "plain.contoso.com."),
                record(10, 0, 443, "backup.contoso.com."),
                record(5, 10, 443, "mail.contoso.com."),
            ],
        )],
    });
    // Only the preferred SSL target reaches a server; plain and backup have no route.
    config.environment.endpoints = Endpoints::offline()
        .route("https://mail.contoso.com/", sandbox.base_url().as_str())
        .unwrap();

    let report = run(&config, &SilentReporter).await;

    let detail = &report.step(StepId::Autodiscover).unwrap().detail;
    assert_eq!(
        status(&report, StepId::Autodiscover),
        StepStatus::Failed,
        "{}",
        report.to_text()
    );
    // DNS is unauthenticated: the target is named for the admin to confirm, not given the password.
    assert!(
        detail.starts_with(
            "Autodiscover points to https://mail.contoso.com/autodiscover/autodiscover.xml; "
        ),
        "{detail}"
    );
    assert!(sandbox
        .journal()
        .iter()
        .filter(|entry| entry.route == "autodiscover")
        .all(|entry| entry.note.as_deref() == Some("401: no credentials")));
    assert!(
        !report
            .steps
            .iter()
            .flat_map(|step| &step.requests)
            .any(|request| request.url.contains("backup.contoso.com")),
        "the lower-priority target is not tried once the preferred one answers"
    );
}
