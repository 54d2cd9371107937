//! The Exchange test against Exchange as it is in 2026 (issue 12): Extended Protection with and without a
//! TLS-terminating device in between, Exchange Online with a password, app-only access inside and
//! outside an RBAC for Applications scope, and runs over many mailboxes with throttling.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use calconnect_ews::clock::RecordingSleeper;
use calconnect_ews::diagnostics::{
    run, AccessLevel, MailboxProgress, Reporter, Route, SilentReporter, Step, StepId, StepStatus,
    TestConfig,
};
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::tls::Trust;
use calconnect_sandbox::tenant::exchange::ExtendedProtection;
use calconnect_sandbox::tenant::AuthMethod;
use calconnect_sandbox::tls::CertificateAuthority;
use calconnect_sandbox::{demo, Sandbox, SandboxHandle, Tenant};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use url::Url;

use crate::service_account::{app_credentials, assert_no_secret, config, environment, password};

async fn start(tenant: Tenant) -> SandboxHandle {
    Sandbox::builder()
        .tenant(tenant)
        .tls(true)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("sandbox starts")
}

fn on_premises(extended_protection: ExtendedProtection) -> Tenant {
    let mut tenant = Tenant::demo();
    tenant.exchange.extended_protection = extended_protection;
    tenant.exchange.authentication = Some(vec![AuthMethod::Ntlm, AuthMethod::Basic]);
    tenant
}

#[tokio::test]
async fn ntlm_authenticates_under_every_extended_protection_setting_and_the_verdict_is_full() {
    for setting in [
        ExtendedProtection::Off,
        ExtendedProtection::Accept,
        ExtendedProtection::Require,
    ] {
        let sandbox = start(on_premises(setting)).await;
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
            "{setting:?}:\n{}",
            report.to_text()
        );
        assert!(
            report
                .step(StepId::Authentication)
                .unwrap()
                .detail
                .contains("authenticated with NTLM"),
            "{setting:?}: the channel binding lets NTLM through:\n{}",
            report.to_text()
        );
        assert!(
            report.step(StepId::BasicConfirmation).is_none(),
            "{setting:?}"
        );
    }
}

/// A TLS-terminating proxy on loopback (SSL offloading): it presents a certificate of its own CA and
/// opens its own TLS connection to the sandbox, copying bytes both ways, one connection for each.
async fn tls_terminating_proxy(sandbox: &SandboxHandle) -> (Url, String) {
    let authority = CertificateAuthority::generate(&[]).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(authority.server_config());
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(sandbox.ca_pem().unwrap().as_bytes()) {
        roots.add(certificate.unwrap()).unwrap();
    }
    let client_config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let upstream = sandbox.base_url();
    let upstream_address = format!(
        "{}:{}",
        upstream.host_str().unwrap(),
        upstream.port().unwrap()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let connector = connector.clone();
            let upstream_address = upstream_address.clone();
            tokio::spawn(async move {
                let Ok(mut inbound) = acceptor.accept(inbound).await else {
                    return;
                };
                let Ok(tcp) = tokio::net::TcpStream::connect(&upstream_address).await else {
                    return;
                };
                let name = ServerName::try_from("127.0.0.1").unwrap();
                let Ok(mut outbound) = connector.connect(name, tcp).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (
        Url::parse(&format!("https://127.0.0.1:{port}/EWS/Exchange.asmx")).unwrap(),
        authority.pem().to_owned(),
    )
}

#[tokio::test]
async fn behind_ssl_offloading_under_require_the_verdict_names_extended_protection_not_the_password(
) {
    let sandbox = start(on_premises(ExtendedProtection::Require)).await;
    let (proxy_url, proxy_ca) = tls_terminating_proxy(&sandbox).await;
    let mut test = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    test.ews_url = Some(proxy_url);
    test.environment.trust = Trust::only(proxy_ca);
    let report = run(&test, &SilentReporter).await;

    // NTLM is bound to the proxy's certificate, Exchange sees its own: 401 with the right password.
    assert_eq!(
        status(&report, StepId::Authentication),
        StepStatus::Failed,
        "{}",
        report.to_text()
    );
    let confirmation = report
        .step(StepId::BasicConfirmation)
        .expect("Basic confirms the password");
    assert_eq!(confirmation.status, StepStatus::Warning);
    assert!(
        confirmation.detail.contains("Extended Protection"),
        "{}",
        confirmation.detail
    );
    // The password is right, so the run goes on (with Basic) and finds the real access level.
    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
    let first = &report.verdict.fixes[0];
    assert!(
        first.problem.contains("Extended Protection")
            && first.problem.contains("password is right"),
        "{}",
        first.problem
    );
    assert_eq!(
        first.command.as_deref(),
        Some(".\\ExchangeExtendedProtectionManagement.ps1 -ShowExtendedProtection")
    );
    assert!(
        !report.verdict.summary.contains("wrong"),
        "{}",
        report.verdict.summary
    );
    assert!(sandbox.journal().iter().any(|entry| entry
        .note
        .as_deref()
        .is_some_and(|note| note.contains("channel binding does not match"))));
    assert_no_secret(&report);
}

#[tokio::test]
async fn behind_ssl_offloading_a_wrong_password_is_still_a_wrong_password() {
    let sandbox = start(on_premises(ExtendedProtection::Require)).await;
    let (proxy_url, proxy_ca) = tls_terminating_proxy(&sandbox).await;
    let mut test = config(&sandbox, demo::ADELE, password("Wrong-Passw0rd"));
    test.ews_url = Some(proxy_url);
    test.environment.trust = Trust::only(proxy_ca);
    let report = run(&test, &SilentReporter).await;
    assert_eq!(report.access_level(), AccessLevel::None);
    assert_eq!(
        status(&report, StepId::BasicConfirmation),
        StepStatus::Failed
    );
    assert!(
        report.verdict.summary.contains("with NTLM and with Basic"),
        "{}",
        report.verdict.summary
    );
}

fn status(report: &calconnect_ews::diagnostics::Report, id: StepId) -> StepStatus {
    report
        .step(id)
        .unwrap_or_else(|| panic!("step {id:?} missing:\n{}", report.to_text()))
        .status
}

/// The sandbox serving Exchange Online under its real host name, reached through a route.
async fn exchange_online(tenant: Tenant) -> (SandboxHandle, TestConfig) {
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .tls(true)
        .hostname("outlook.office365.com")
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut test = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    test.ews_url = Some(Url::parse("https://outlook.office365.com/EWS/Exchange.asmx").unwrap());
    test.environment.endpoints = Endpoints::offline()
        .route(
            "https://outlook.office365.com/",
            sandbox.base_url().as_str(),
        )
        .unwrap();
    (sandbox, test)
}

#[tokio::test]
async fn exchange_online_with_a_password_says_basic_is_off_and_points_to_app_only() {
    let (_sandbox, test) = exchange_online(Tenant::demo_exchange_online()).await;
    let report = run(&test, &SilentReporter).await;
    assert_eq!(report.access_level(), AccessLevel::None);
    let summary = &report.verdict.summary;
    assert!(
        summary.contains("Exchange Online turned Basic authentication for EWS off")
            && summary.contains("app-only")
            && summary.contains("RBAC for Applications"),
        "{}",
        report.to_text()
    );
    let commands: Vec<&str> = report
        .verdict
        .fixes
        .iter()
        .filter_map(|fix| fix.command.as_deref())
        .collect();
    assert!(
        commands
            .iter()
            .all(|command| !command.contains("Set-WebServicesVirtualDirectory")),
        "no on-premises command for Exchange Online: {commands:?}"
    );
}

#[tokio::test]
async fn app_only_inside_its_rbac_scope_is_full_and_outside_gets_the_rbac_for_applications_fix() {
    let sandbox = start(Tenant::demo_exchange_online()).await;
    let inside = run(
        &config(&sandbox, demo::ADELE, app_credentials(&sandbox)),
        &SilentReporter,
    )
    .await;
    assert_eq!(
        inside.access_level(),
        AccessLevel::Full,
        "{}",
        inside.to_text()
    );
    assert_eq!(inside.mailboxes[0].route, Some(Route::AppOnly));
    assert!(
        inside.step(StepId::DelegateCalendarFolder).is_none(),
        "apps have no delegate route"
    );
    assert!(inside
        .server_version
        .as_deref()
        .is_some_and(|version| version.starts_with("15.20.")));
    assert!(inside
        .to_json()
        .contains("\"deployment\": \"exchangeOnline\""));

    let outside = run(
        &config(&sandbox, demo::MEGAN, app_credentials(&sandbox)),
        &SilentReporter,
    )
    .await;
    assert_eq!(
        outside.access_level(),
        AccessLevel::None,
        "{}",
        outside.to_text()
    );
    // The first mailbox's 403, then a request naming none: past the allow list, so the scope it is.
    let allow_list = outside
        .step(StepId::AllowList)
        .expect("the allow list is checked");
    assert_eq!(
        allow_list.status,
        StepStatus::Passed,
        "{}",
        outside.to_text()
    );
    assert_eq!(
        allow_list.response_code.as_deref(),
        Some("ErrorInvalidExchangeImpersonationHeaderData")
    );
    let commands: Vec<&str> = outside
        .verdict
        .fixes
        .iter()
        .filter_map(|fix| fix.command.as_deref())
        .collect();
    assert_eq!(commands.len(), 1, "{}", outside.to_text());
    let command = commands[0];
    assert!(
        command.contains(&format!("New-ServicePrincipal -AppId \"{}\"", demo::EWS_APP_CLIENT_ID))
            && command.contains(&format!("-RecipientRestrictionFilter \"PrimarySmtpAddress -eq '{}'\"", demo::MEGAN))
            && command.contains(&format!(
                "New-ManagementRoleAssignment -App \"{}\" -Role \"Application EWS.AccessAsApp\" -CustomResourceScope \"calconnect-",
                demo::EWS_APP_CLIENT_ID
            )),
        "{command}"
    );
    for retired in [
        "ApplicationImpersonation",
        "ApplicationAccessPolicy",
        "EwsAllowList",
        "full_access_as_app -",
    ] {
        assert!(!command.contains(retired), "{retired} in {command}");
    }
    assert_no_secret(&outside);
}

/// Collects the progress events of a bulk run.
#[derive(Default)]
struct Progress(Mutex<Vec<MailboxProgress>>);

impl Reporter for Progress {
    fn step_started(&self, _id: StepId, _title: &str) {}
    fn step_finished(&self, _step: &Step) {}
    fn mailbox_finished(&self, progress: &MailboxProgress) {
        self.0.lock().unwrap().push(progress.clone());
    }
}

#[tokio::test]
async fn two_hundred_mailboxes_are_each_reported_in_order_with_one_fix_per_kind() {
    let sandbox = start(Tenant::demo().with_bulk_mailboxes(200)).await;
    let mailboxes: Vec<String> = (1..=200)
        .map(|index| format!("bulk{index:03}@contoso.com"))
        .collect();
    let mut test = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    test.mailboxes = mailboxes.clone();
    let progress = Progress::default();
    let report = run(&test, &progress).await;

    let events = progress.0.lock().unwrap();
    assert_eq!(events.len(), 200);
    assert_eq!(events.last().unwrap().done, 200);
    assert!(events.iter().all(|event| event.total == 200));
    let order: Vec<&str> = report
        .mailboxes
        .iter()
        .map(|entry| entry.mailbox.as_str())
        .collect();
    assert_eq!(
        order,
        mailboxes.iter().map(String::as_str).collect::<Vec<_>>(),
        "the report keeps the order given"
    );
    let count = |level: AccessLevel| {
        report
            .mailboxes
            .iter()
            .filter(|entry| entry.level == level)
            .count()
    };
    assert_eq!(
        [
            count(AccessLevel::Full),
            count(AccessLevel::Restricted),
            count(AccessLevel::FreeBusy),
            count(AccessLevel::None)
        ],
        [50, 50, 50, 50],
        "{}",
        report.to_text()
    );
    assert_eq!(
        report.mailbox("bulk002@contoso.com").unwrap().route,
        Some(Route::Delegate)
    );
    assert!(report
        .mailbox("bulk004@contoso.com")
        .unwrap()
        .failed
        .as_deref()
        .unwrap()
        .contains("ErrorNoFreeBusyAccess"));
    assert_eq!(report.access_level(), AccessLevel::None);
    assert!(report
        .verdict
        .summary
        .starts_with("200 mailboxes tested: 50 Full, 50 Restricted, 50 Free-busy only, 50 None"));
    // One command per kind of fix, however many mailboxes need it.
    let reaches: Vec<_> = report.verdict.fixes.iter().map(|fix| fix.reaches).collect();
    assert_eq!(
        reaches,
        [
            Some(AccessLevel::FreeBusy),
            Some(AccessLevel::Restricted),
            Some(AccessLevel::Full)
        ],
        "{}",
        report.to_text()
    );
    let impersonation = report.verdict.fixes[2].command.as_deref().unwrap();
    assert!(
        impersonation.contains("MemberOfGroup -eq"),
        "150 mailboxes are too many to list: {impersonation}"
    );
    let mailboxes_step = report.step(StepId::Mailboxes).unwrap();
    assert!(
        mailboxes_step.detail.contains("at most 8 at a time"),
        "{}",
        mailboxes_step.detail
    );
    assert!(
        report
            .steps
            .iter()
            .all(|step| step.id != StepId::CalendarFolder),
        "per-mailbox steps live in mailboxes[]"
    );
    assert!(report.mailboxes.iter().all(|entry| !entry.steps.is_empty()));
    assert!(report.to_text().contains("bulk002@contoso.com  Restricted"));
}

/// Makes Exchange busy for the next `times` requests once authentication is done, so the busy answers
/// land on the mailboxes in flight.
struct BusyAfterAuthentication {
    faults: calconnect_sandbox::FaultControl,
    times: u32,
}

impl Reporter for BusyAfterAuthentication {
    fn step_started(&self, _id: StepId, _title: &str) {}
    fn step_finished(&self, step: &Step) {
        if step.id == StepId::Authentication {
            self.faults
                .ews_server_busy(Duration::from_millis(750), self.times);
        }
    }
}

#[tokio::test]
async fn a_bulk_run_honours_server_busy_and_still_reaches_every_verdict() {
    let sandbox = start(Tenant::demo()).await;
    let sleeper = RecordingSleeper::default();
    let mut test = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    test.environment = environment(&sandbox, sleeper.clone());
    // More attempts than busy answers: whichever request meets them, none gives up.
    test.environment.retry.max_attempts = 8;
    test.mailboxes = vec![
        demo::ADELE.into(),
        demo::MEGAN.into(),
        demo::LEE.into(),
        demo::ALEX.into(),
    ];
    test.concurrency = 4;
    let reporter = BusyAfterAuthentication {
        faults: sandbox.faults(),
        times: 6,
    };
    let report = run(&test, &reporter).await;
    let levels: Vec<AccessLevel> = report.mailboxes.iter().map(|entry| entry.level).collect();
    assert_eq!(
        levels,
        [
            AccessLevel::Full,
            AccessLevel::Restricted,
            AccessLevel::FreeBusy,
            AccessLevel::None
        ],
        "{}",
        report.to_text()
    );
    let slept = sleeper.slept();
    assert_eq!(
        slept.len(),
        6,
        "each ErrorServerBusy is waited out: {slept:?}"
    );
    assert!(
        slept.iter().all(|wait| *wait >= Duration::from_millis(750)),
        "{slept:?}"
    );
    let busy_records = report
        .mailboxes
        .iter()
        .flat_map(|entry| &entry.steps)
        .flat_map(|step| &step.requests)
        .filter(|request| request.response_code.as_deref() == Some("ErrorServerBusy"))
        .count();
    assert_eq!(
        busy_records, 6,
        "the busy answers are in the mailboxes' logs"
    );
}

#[tokio::test]
async fn a_server_offering_only_negotiate_gets_a_check_not_a_command_that_changes_nothing() {
    let mut tenant = Tenant::demo();
    tenant.exchange.authentication = Some(vec![AuthMethod::Negotiate]);
    let sandbox = start(tenant).await;
    let report = run(
        &config(
            &sandbox,
            demo::ADELE,
            password(demo::SERVICE_ACCOUNT_PASSWORD),
        ),
        &SilentReporter,
    )
    .await;
    assert_eq!(report.access_level(), AccessLevel::None);
    let fix = &report.verdict.fixes[0];
    let command = fix.command.as_deref().unwrap_or_default();
    // Negotiate offered means Windows authentication is already on: turning it on changes nothing.
    assert!(
        !command.contains("Set-WebServicesVirtualDirectory"),
        "{command}"
    );
    assert!(
        command.contains("windowsAuthentication/providers")
            && fix.changes.starts_with("changes nothing"),
        "{}",
        report.to_text()
    );
}
