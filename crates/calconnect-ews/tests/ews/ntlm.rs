//! NTLM against the sandbox over loopback TLS: preferred over Basic, the only way in when Basic is off,
//! refused with a wrong password after a single handshake, kept on its connection for later EWS calls
//! (IIS's default) or redone for each when the server authenticates every request, refused
//! like any request on an untrusted certificate; Extended Protection (channel binding to the TLS
//! certificate) at Off, Accept and Require; and the `X-AnchorMailbox` header the client sends with
//! impersonation.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use calconnect_ews::auth::{Authorization, Credentials};
use calconnect_ews::client::EwsClient;
use calconnect_ews::clock::RecordingSleeper;
use calconnect_ews::connection::{Connection, Connector};
use calconnect_ews::diagnostics::{
    run, AccessLevel, SilentReporter, StepId, StepStatus, TestConfig,
};
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::ntlm::{self, Binding, ClientNonce};
use calconnect_ews::operations::{DistinguishedFolder, GetFolder, Operation};
use calconnect_ews::request_log::RequestLog;
use calconnect_ews::soap::{envelope, Headers};
use calconnect_ews::tls::{http_client, TlsProblem, Trust};
use calconnect_sandbox::tenant::ExtendedProtection;
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use secrecy::SecretString;
use url::Url;

use crate::service_account::{
    app_credentials, assert_no_secret, config, environment, password, sandbox, status,
};

/// The test for adele with the service account's right password, whose verdict must be Full access.
async fn full_access_for_adele(sandbox: &SandboxHandle) -> calconnect_ews::diagnostics::Report {
    let report = run(
        &config(
            sandbox,
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
    report
}

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
    let report = full_access_for_adele(&sandbox).await;
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
    // Own calendar, calendar, calendar view, inbox, availability: one handshake, then the four later
    // calls ride on the connection it authenticated (IIS keeps NTLM per connection by default).
    assert_eq!(ntlm_challenges(&sandbox), 1, "{:#?}", sandbox.journal());
    let ews_posts: Vec<u16> = sandbox
        .journal()
        .iter()
        .filter(|entry| entry.method == "POST" && entry.path == "/EWS/Exchange.asmx")
        .map(|entry| entry.status)
        .collect();
    assert_eq!(
        ews_posts,
        [401, 200, 200, 200, 200, 200],
        "{:#?}",
        sandbox.journal()
    );
    // The client's log names the four that went without credentials.
    assert_eq!(
        report
            .to_text()
            .matches("(NTLM-authenticated connection) POST")
            .count(),
        4,
        "{}",
        report.to_text()
    );
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

/// With `authPersistSingleRequest` set, IIS authenticates every request: the first call on an
/// authenticated connection gets 401, and the client then handshakes each call (MS-N2HT 3.2.5) and still
/// reaches every folder.
#[tokio::test]
async fn when_the_server_authenticates_every_request_the_client_handshakes_each_call_after_one_401()
{
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.auth_persist_single_request = true;
    let sandbox = tls_sandbox_with(tenant).await;
    let report = full_access_for_adele(&sandbox).await;
    assert_eq!(ntlm_challenges(&sandbox), 5, "{:#?}", sandbox.journal());
    let refused_without_a_handshake = sandbox
        .journal()
        .iter()
        .filter(|entry| {
            entry.method == "POST"
                && entry.path == "/EWS/Exchange.asmx"
                && entry.status == 401
                && !entry.note.as_deref().unwrap_or_default().contains("ntlm")
        })
        .count();
    assert_eq!(refused_without_a_handshake, 1, "{:#?}", sandbox.journal());
    // The client's log shows the one try on the authenticated connection, then handshakes only.
    assert_eq!(
        report
            .to_text()
            .matches("(NTLM-authenticated connection) POST")
            .count(),
        1,
        "{}",
        report.to_text()
    );
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
    ntlm_client_with_password(trust, endpoints, url, log, demo::SERVICE_ACCOUNT_PASSWORD)
}

fn ntlm_client_with_password(
    trust: &Trust,
    endpoints: &Endpoints,
    url: Url,
    log: &RequestLog,
    password: &str,
) -> EwsClient {
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
        &SecretString::from(password.to_owned()),
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

/// A TLS sandbox whose EWS virtual directory has this Extended Protection setting.
async fn sandbox_with_extended_protection(setting: ExtendedProtection) -> SandboxHandle {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.extended_protection = setting;
    tls_sandbox_with(tenant).await
}

/// The sandbox over loopback TLS with `tenant`.
async fn tls_sandbox_with(tenant: calconnect_sandbox::Tenant) -> SandboxHandle {
    Sandbox::builder()
        .tenant(tenant)
        .tls(true)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap()
}

/// Journal notes of refused EWS requests.
fn refusals(sandbox: &SandboxHandle) -> Vec<String> {
    sandbox
        .journal()
        .into_iter()
        .filter(|entry| entry.path == "/EWS/Exchange.asmx" && entry.status == 401)
        .filter_map(|entry| entry.note)
        .filter(|note| note != "401: ntlm challenge")
        .collect()
}

/// The right password through `EwsClient`: one handshake, bound to the connection's certificate, accepted.
async fn the_right_password_authenticates_under(setting: ExtendedProtection) {
    let sandbox = sandbox_with_extended_protection(setting).await;
    let log = RequestLog::default();
    let client = ntlm_client(
        &Trust::only(sandbox.ca_pem().unwrap()),
        &Endpoints::offline(),
        sandbox.ews_url(),
        &log,
    );

    let result = client.call(&calendar(), Some(demo::ADELE)).await.unwrap();

    assert!(result.output.is_some(), "{setting:?}: {result:?}");
    assert_eq!(refusals(&sandbox), Vec::<String>::new(), "{setting:?}");
    assert_eq!(
        log.since(0)
            .iter()
            .map(|record| (record.operation.as_str(), record.status))
            .collect::<Vec<_>>(),
        vec![
            ("GetFolder (NTLM negotiate)", Some(401)),
            ("GetFolder", Some(200)),
        ],
        "{setting:?}"
    );
}

#[tokio::test]
async fn with_extended_protection_off_the_right_password_authenticates_with_ntlm() {
    the_right_password_authenticates_under(ExtendedProtection::Off).await;
}

#[tokio::test]
async fn with_extended_protection_accept_the_right_password_authenticates_with_ntlm() {
    the_right_password_authenticates_under(ExtendedProtection::Accept).await;
}

#[tokio::test]
async fn with_extended_protection_require_the_right_password_authenticates_with_ntlm() {
    // Exchange 2019 CU14+ back ends, and front ends an admin hardened: no channel binding, no access.
    the_right_password_authenticates_under(ExtendedProtection::Require).await;
}

#[tokio::test]
async fn a_wrong_password_gets_401_under_every_extended_protection_setting() {
    for setting in [
        ExtendedProtection::Off,
        ExtendedProtection::Accept,
        ExtendedProtection::Require,
    ] {
        let sandbox = sandbox_with_extended_protection(setting).await;
        let client = ntlm_client_with_password(
            &Trust::only(sandbox.ca_pem().unwrap()),
            &Endpoints::offline(),
            sandbox.ews_url(),
            &RequestLog::default(),
            "not-the-password",
        );

        let error = client
            .call(&calendar(), Some(demo::ADELE))
            .await
            .unwrap_err();

        assert!(
            matches!(error, calconnect_ews::Error::Unauthorized { .. }),
            "{setting:?}: {error:?}"
        );
        // Refused for the password: the binding is checked only once the proof holds.
        assert_eq!(
            refusals(&sandbox),
            vec!["401: ntlm: wrong password for svc-calconnect@contoso.com".to_owned()],
            "{setting:?}"
        );
        assert!(!format!("{error:?} {error}").contains("not-the-password"));
    }
}

#[tokio::test]
async fn with_require_an_ntlm_call_through_a_route_binds_to_the_certificate_of_the_routed_connection(
) {
    let sandbox = sandbox_with_extended_protection(ExtendedProtection::Require).await;
    let endpoints = Endpoints::offline()
        .route("https://mail.contoso.com/", sandbox.base_url().as_str())
        .unwrap();
    let client = ntlm_client(
        &Trust::only(sandbox.ca_pem().unwrap()),
        &endpoints,
        Url::parse("https://mail.contoso.com/EWS/Exchange.asmx").unwrap(),
        &RequestLog::default(),
    );

    let result = client.call(&calendar(), Some(demo::ADELE)).await.unwrap();

    assert!(result.output.is_some(), "{result:?}");
    assert_eq!(refusals(&sandbox), Vec::<String>::new());
}

/// A connection to the sandbox's EWS, opened as `EwsClient` opens its NTLM connections.
async fn ews_connection(sandbox: &SandboxHandle) -> Connection {
    let trust = Trust::only(sandbox.ca_pem().unwrap());
    let endpoints = Endpoints::offline();
    let connector = Connector::new(&trust, Duration::from_secs(10), &endpoints).unwrap();
    let url = sandbox.ews_url();
    connector.open(&url, &url, "GetFolder").await.unwrap()
}

/// The sandbox CA's certificate (DER): a real certificate, but not the one the EWS connection got.
fn ca_certificate(sandbox: &SandboxHandle) -> Vec<u8> {
    CertificateDer::pem_slice_iter(sandbox.ca_pem().unwrap().as_bytes())
        .next()
        .unwrap()
        .unwrap()
        .to_vec()
}

/// Drives NEGOTIATE, CHALLENGE and a GetFolder with the AUTHENTICATE on one connection, the AUTHENTICATE
/// bound as `binding` says (given the connection); returns the HTTP status of the GetFolder.
async fn get_folder_with_binding(
    sandbox: &SandboxHandle,
    binding: impl FnOnce(&Connection) -> Binding,
) -> u16 {
    let mut connection = ews_connection(sandbox).await;
    get_folder_with_binding_on(sandbox, &mut connection, binding).await
}

/// The same GetFolder without `Authorization`: only an authenticated connection carries it.
async fn get_folder_without_authorization(
    sandbox: &SandboxHandle,
    connection: &mut Connection,
) -> u16 {
    post_get_folder(sandbox, connection, HeaderMap::new()).await
}

/// POSTs a GetFolder of adele's calendar (by impersonation) with `headers` on `connection`; its status.
async fn post_get_folder(
    sandbox: &SandboxHandle,
    connection: &mut Connection,
    mut headers: HeaderMap,
) -> u16 {
    let url = sandbox.ews_url();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    let document = envelope(
        &Headers {
            impersonate: Some(demo::ADELE.into()),
            ..Headers::default()
        },
        &calendar().body(),
    );
    connection
        .post(&url, headers, document.into_bytes(), &url, "GetFolder")
        .await
        .unwrap()
        .status
        .as_u16()
}

/// IIS keeps what an NTLM handshake authenticated on that connection (`authPersistSingleRequest` is
/// `false` by default): a later request there needs no `Authorization`; another connection does.
#[tokio::test]
async fn the_sandbox_keeps_an_ntlm_identity_on_its_connection_and_nowhere_else() {
    let sandbox = sandbox().await;
    let host = sandbox.ews_url().host_str().unwrap().to_owned();
    let mut connection = ews_connection(&sandbox).await;
    let authenticated = get_folder_with_binding_on(&sandbox, &mut connection, |connection| {
        Binding::for_http(&host, connection.peer_certificate())
    })
    .await;
    let same_connection = get_folder_without_authorization(&sandbox, &mut connection).await;
    let mut other = ews_connection(&sandbox).await;
    let other_connection = get_folder_without_authorization(&sandbox, &mut other).await;

    assert_eq!(
        (authenticated, same_connection, other_connection),
        (200, 200, 401)
    );
}

#[tokio::test]
async fn with_auth_persist_single_request_each_request_on_a_connection_must_authenticate() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.exchange.auth_persist_single_request = true;
    let sandbox = tls_sandbox_with(tenant).await;
    let host = sandbox.ews_url().host_str().unwrap().to_owned();
    let mut connection = ews_connection(&sandbox).await;
    let authenticated = get_folder_with_binding_on(&sandbox, &mut connection, |connection| {
        Binding::for_http(&host, connection.peer_certificate())
    })
    .await;
    let same_connection = get_folder_without_authorization(&sandbox, &mut connection).await;

    assert_eq!((authenticated, same_connection), (200, 401));
}

/// [`get_folder_with_binding`] on a connection the caller keeps.
async fn get_folder_with_binding_on(
    sandbox: &SandboxHandle,
    connection: &mut Connection,
    binding: impl FnOnce(&Connection) -> Binding,
) -> u16 {
    let base64 = base64::engine::general_purpose::STANDARD;
    let url = sandbox.ews_url();
    let negotiate = ntlm::negotiate_message();
    let mut headers = HeaderMap::new();
    let value = format!("NTLM {}", base64.encode(&negotiate));
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
    let reply = connection
        .post(&url, headers, Vec::new(), &url, "GetFolder")
        .await
        .unwrap();
    assert_eq!(reply.status, 401);
    let token = reply
        .headers
        .get(WWW_AUTHENTICATE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("NTLM "))
        .expect("an NTLM challenge");
    let challenge = ntlm::Challenge::parse(&base64.decode(token).unwrap()).unwrap();
    let binding = binding(connection);
    let message = ntlm::authenticate_message(
        &negotiate,
        &challenge,
        demo::SERVICE_ACCOUNT_UPN,
        &SecretString::from(demo::SERVICE_ACCOUNT_PASSWORD),
        &binding,
        ClientNonce::fresh(),
    );
    let mut headers = HeaderMap::new();
    let value = format!("NTLM {}", base64.encode(message));
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
    post_get_folder(sandbox, connection, headers).await
}

#[tokio::test]
async fn the_channel_binding_is_computed_from_the_certificate_of_the_ntlm_connection() {
    let sandbox = sandbox().await;
    let connection = ews_connection(&sandbox).await;
    let certificate = connection.peer_certificate().expect("a tls connection");

    assert_ne!(
        certificate,
        &ca_certificate(&sandbox)[..],
        "the leaf, not the CA"
    );
    assert_eq!(
        Some(ntlm::channel_bindings(certificate)),
        sandbox.state().channel_binding(),
        "the sandbox's own tls-server-end-point binding"
    );
}

#[tokio::test]
async fn with_require_an_authenticate_bound_to_another_certificate_or_to_none_gets_401() {
    let sandbox = sandbox_with_extended_protection(ExtendedProtection::Require).await;
    let host = sandbox.ews_url().host_str().unwrap().to_owned();
    let other = ca_certificate(&sandbox);

    // The harness itself works: bound to the connection's own certificate, the same request succeeds.
    let own = get_folder_with_binding(&sandbox, |connection| {
        Binding::for_http(&host, connection.peer_certificate())
    })
    .await;
    let another =
        get_folder_with_binding(&sandbox, |_| Binding::for_http(&host, Some(&other))).await;
    let none = get_folder_with_binding(&sandbox, |_| Binding::for_http(&host, None)).await;

    assert_eq!((own, another, none), (200, 401, 401));
    assert_eq!(
        refusals(&sandbox),
        vec![
            "401: ntlm: extended protection: the channel binding does not match this TLS connection \
             for svc-calconnect@contoso.com"
                .to_owned(),
            "401: ntlm: extended protection: no channel binding was sent for svc-calconnect@contoso.com"
                .to_owned(),
        ]
    );
}

#[tokio::test]
async fn with_accept_a_binding_to_another_certificate_gets_401_and_none_is_let_through() {
    let sandbox = sandbox_with_extended_protection(ExtendedProtection::Accept).await;
    let host = sandbox.ews_url().host_str().unwrap().to_owned();
    let other = ca_certificate(&sandbox);

    let another =
        get_folder_with_binding(&sandbox, |_| Binding::for_http(&host, Some(&other))).await;
    let none = get_folder_with_binding(&sandbox, |_| Binding::for_http(&host, None)).await;

    assert_eq!((another, none), (401, 200));
}
