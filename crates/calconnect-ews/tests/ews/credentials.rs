//! Credentials go only where they belong: to an EWS URL that the mailbox's own https hosts (or Exchange
//! Online, for itself) named directly, only after that host's 401 offered the scheme, and to
//! `autodiscover.{domain}` before the bare domain. Hosts someone else controls are axum listeners on
//! loopback that record every request; the logical names (`evil.example`, `contoso.com`) reach them through
//! the run's routes, as DNS or an attacker on the network path would send them there.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::post;
use calconnect_ews::autodiscover::{CandidateKind, SrvRecord, StaticSrvResolver};
use calconnect_ews::diagnostics::{run, AccessLevel, Report, SilentReporter, StepId, StepStatus};
use calconnect_ews::endpoints::Endpoints;
use calconnect_sandbox::demo;
use url::Url;

use crate::autodiscover::{challenge, config_without_sandbox, listen, offline_environment, Seen};
use crate::service_account::{app_credentials, config, password, sandbox, status};

/// One request a hostile host received: which host, the path, and its `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Visit {
    host: &'static str,
    path: String,
    authorization: Option<String>,
}

/// Every request the hostile hosts of a test received, in order.
#[derive(Clone, Default)]
struct Visits(Arc<Mutex<Vec<Visit>>>);

impl Visits {
    fn record(&self, host: &'static str, path: &str, headers: &HeaderMap) {
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        self.0.lock().unwrap().push(Visit {
            host,
            path: path.to_owned(),
            authorization,
        });
    }

    fn all(&self) -> Vec<Visit> {
        self.0.lock().unwrap().clone()
    }
}

/// What a hostile host answers Autodiscover with.
#[derive(Clone)]
enum Lure {
    /// POX settings (or, to Autodiscover JSON, `{"Url": …}`) naming this EWS URL: its own, to collect
    /// what a client sends there.
    EwsUrl(String),
    /// A 302 to this URL, to any request.
    Redirect(String),
    /// A POX `redirectUrl` answer to this URL.
    RedirectUrl(String),
}

fn pox_settings(ews_url: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><AccountType>email</AccountType><Action>settings</Action><Protocol><Type>EXCH</Type><EwsUrl>{ews_url}</EwsUrl></Protocol></Account></Response></Autodiscover>"#
    )
}

fn pox_redirect_url(url: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectUrl</Action><RedirectUrl>{url}</RedirectUrl></Account></Response></Autodiscover>"#
    )
}

/// A host someone else controls: records every request into `visits`, answers Autodiscover with `lure`
/// after `delay`, and answers EWS with a 401 that offers NTLM and Basic (any scheme a client may pick).
async fn hostile(host: &'static str, visits: Visits, delay: Duration, lure: Lure) -> String {
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let (visits, lure) = (visits.clone(), lure.clone());
        async move {
            visits.record(host, uri.path(), &headers);
            if uri.path().eq_ignore_ascii_case("/ews/exchange.asmx") {
                return (
                    StatusCode::UNAUTHORIZED,
                    [
                        (header::WWW_AUTHENTICATE, "NTLM".to_owned()),
                        (header::WWW_AUTHENTICATE, format!(r#"Basic realm="{host}""#)),
                    ],
                )
                    .into_response();
            }
            tokio::time::sleep(delay).await;
            let json = method == Method::GET && uri.path().contains("autodiscover.json");
            match lure {
                Lure::EwsUrl(url) if json => {
                    axum::Json(serde_json::json!({ "Protocol": "EWS", "Url": url })).into_response()
                }
                Lure::EwsUrl(url) => (StatusCode::OK, pox_settings(&url)).into_response(),
                Lure::Redirect(url) => {
                    (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
                }
                Lure::RedirectUrl(url) => (StatusCode::OK, pox_redirect_url(&url)).into_response(),
            }
        }
    });
    listen(app).await
}

fn ews_url_of(host: &str) -> String {
    format!("https://{host}/EWS/Exchange.asmx")
}

fn pox_url_of(host: &str) -> String {
    format!("https://{host}/autodiscover/autodiscover.xml")
}

/// The detours an EWS URL can come through, each set up with its hostile hosts; the one named `fastest`
/// answers at once, the others after a pause, so each of them gets to be the first answer in one round.
async fn every_detour(
    visits: &Visits,
    fastest: &str,
) -> (Endpoints, StaticSrvResolver, Vec<(&'static str, String)>) {
    let pause = |detour: &str| {
        if detour == fastest {
            Duration::ZERO
        } else {
            Duration::from_millis(300)
        }
    };
    let mut endpoints = Endpoints::offline();
    let mut route = |origin: &str, base: &str| {
        endpoints = std::mem::take(&mut endpoints).route(origin, base).unwrap();
    };
    let mut named = Vec::new();

    // Exchange Online's JSON names a host outside Exchange Online.
    let eo = hostile(
        "outlook.office365.com",
        visits.clone(),
        pause("exchange-online-json"),
        Lure::EwsUrl(ews_url_of("e.evil.example")),
    )
    .await;
    route("https://outlook.office365.com/", &eo);
    named.push(("exchange-online-json", ews_url_of("e.evil.example")));

    // autodiscover.contoso.com answers with redirectUrl.
    let own = hostile(
        "autodiscover.contoso.com",
        visits.clone(),
        pause("redirect-url"),
        Lure::RedirectUrl(pox_url_of("d.evil.example")),
    )
    .await;
    route("https://autodiscover.contoso.com/", &own);
    named.push(("redirect-url", ews_url_of("d.evil.example")));

    // contoso.com redirects to another origin.
    let domain = hostile(
        "contoso.com",
        visits.clone(),
        pause("cross-origin"),
        Lure::Redirect(pox_url_of("c.evil.example")),
    )
    .await;
    route("https://contoso.com/", &domain);
    named.push(("cross-origin", ews_url_of("c.evil.example")));

    // The plain-http probe's Location.
    let probe = hostile(
        "http://autodiscover.contoso.com",
        visits.clone(),
        pause("http-probe"),
        Lure::Redirect(pox_url_of("a.evil.example")),
    )
    .await;
    route("http://autodiscover.contoso.com/", &probe);
    named.push(("http-probe", ews_url_of("a.evil.example")));

    // The SRV record's target.
    let srv_target = hostile(
        "b.evil.example",
        visits.clone(),
        pause("srv"),
        Lure::EwsUrl(ews_url_of("b.evil.example")),
    )
    .await;
    route("https://b.evil.example/", &srv_target);
    named.push(("srv", ews_url_of("b.evil.example")));

    // The hosts the detours lead to, each naming its own EWS URL.
    for host in [
        "e.evil.example",
        "d.evil.example",
        "c.evil.example",
        "a.evil.example",
    ] {
        let base = hostile(
            host,
            visits.clone(),
            Duration::ZERO,
            Lure::EwsUrl(ews_url_of(host)),
        )
        .await;
        route(&format!("https://{host}/"), &base);
    }
    let srv = StaticSrvResolver {
        records: vec![(
            "_autodiscover._tcp.contoso.com".to_owned(),
            vec![SrvRecord {
                priority: 0,
                weight: 0,
                port: 443,
                target: "b.evil.example.".to_owned(),
            }],
        )],
    };
    (endpoints, srv, named)
}

fn autodiscover_detail(report: &Report) -> &str {
    &report.step(StepId::Autodiscover).unwrap().detail
}

#[tokio::test]
async fn an_ews_url_found_through_a_detour_is_unconfirmed_and_never_gets_credentials_whichever_answers_first(
) {
    for fastest in [
        "exchange-online-json",
        "redirect-url",
        "cross-origin",
        "http-probe",
        "srv",
    ] {
        let visits = Visits::default();
        let (endpoints, srv, named) = every_detour(&visits, fastest).await;
        let mut config = config_without_sandbox(password(demo::SERVICE_ACCOUNT_PASSWORD));
        config.environment = offline_environment(endpoints);
        config.environment.srv = Arc::new(srv);
        config.environment.candidate_timeout = Duration::from_secs(5);

        let report = run(&config, &SilentReporter).await;

        let visits = visits.all();
        assert!(
            visits.iter().all(|visit| visit.authorization.is_none()),
            "{fastest} first: a host reached through a detour got credentials: {visits:?}"
        );
        assert!(
            !visits
                .iter()
                .any(|visit| visit.path.eq_ignore_ascii_case("/ews/exchange.asmx")),
            "{fastest} first: the run stops before it even probes an unconfirmed EWS URL: {visits:?}"
        );
        assert_eq!(
            status(&report, StepId::Autodiscover),
            StepStatus::Unconfirmed,
            "{fastest} first:\n{}",
            report.to_text()
        );
        // The URL shown for confirmation does not depend on which answer came first: candidates in
        // start order, Exchange Online's JSON before POX.
        let shown = ews_url_of("e.evil.example");
        assert_eq!(report.unconfirmed_ews_url.as_deref(), Some(shown.as_str()));
        let detail = autodiscover_detail(&report);
        assert!(
            detail.starts_with(&format!(
                "Autodiscover named the EWS URL {shown} only through Exchange Online's Autodiscover naming a host outside Exchange Online"
            )),
            "{detail}"
        );
        for (detour, url) in &named {
            assert!(
                detail.contains(&format!("named {url} at ")),
                "{fastest} first: the {detour} detour's URL is listed: {detail}"
            );
        }
        assert!(
            detail.contains("No credentials were sent to Autodiscover."),
            "{detail}"
        );
        assert!(report.credentials_sent_to.is_empty());
        assert_eq!(status(&report, StepId::Authentication), StepStatus::Skipped);
        assert!(
            report.verdict.summary.contains(&shown)
                && report
                    .verdict
                    .summary
                    .contains("run the test again with it"),
            "{}",
            report.verdict.summary
        );
        assert!(report
            .to_text()
            .contains(&format!("Unconfirmed:     {shown}")));
    }
}

/// An EWS endpoint that answers every request with `status` and never a challenge.
async fn silent_ews(status: StatusCode, visits: Visits) -> String {
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let visits = visits.clone();
        async move {
            visits.record("mail.evil.example", uri.path(), &headers);
            status.into_response()
        }
    });
    listen(app).await
}

#[tokio::test]
async fn an_ews_host_that_never_challenges_gets_no_credentials_and_the_step_says_so() {
    let sandbox = sandbox().await;
    for (answer, app) in [
        (StatusCode::OK, false),
        (StatusCode::FORBIDDEN, false),
        (StatusCode::OK, true),
    ] {
        let visits = Visits::default();
        let base = silent_ews(answer, visits.clone()).await;
        let credentials = if app {
            app_credentials(&sandbox)
        } else {
            password(demo::SERVICE_ACCOUNT_PASSWORD)
        };
        let mut config = config(&sandbox, demo::ADELE, credentials);
        config.ews_url = Some(Url::parse(&ews_url_of("mail.evil.example")).unwrap());
        config.environment.endpoints = Endpoints::offline()
            .route("https://mail.evil.example/", &base)
            .unwrap();

        let report = run(&config, &SilentReporter).await;

        let visits = visits.all();
        assert!(!visits.is_empty(), "the unauthenticated probe went out");
        assert!(
            visits.iter().all(|visit| visit.authorization.is_none()),
            "http {answer} (app: {app}): credentials sent to a host that never asked: {visits:?}"
        );
        let schemes = report.step(StepId::AuthenticationSchemes).unwrap();
        assert_eq!(schemes.status, StepStatus::Failed, "{}", report.to_text());
        assert!(
            schemes.detail.starts_with(&format!(
                "the server answered http {} without asking for credentials (no WWW-Authenticate challenge), so calconnect sent it none",
                answer.as_u16()
            )),
            "{}",
            schemes.detail
        );
        assert_eq!(status(&report, StepId::Authentication), StepStatus::Skipped);
        assert_eq!(report.access_level(), AccessLevel::None);
        assert!(
            report
                .verdict
                .summary
                .contains("without asking for credentials"),
            "{}",
            report.verdict.summary
        );
        assert!(report.credentials_sent_to.is_empty());
    }
}

#[tokio::test]
async fn the_autodiscover_host_is_given_the_password_before_the_bare_domain_and_the_log_says_which_host_got_it(
) {
    let sandbox = sandbox().await;
    // Both of the mailbox's own hosts challenge; autodiscover.contoso.com answers the Basic request a
    // little later, which would leave the bare domain time to collect the password too.
    let own_seen = Seen::default();
    let recorder = own_seen.clone();
    let settings = pox_settings(&ews_url_of("mail.contoso.com"));
    let autodiscover_host = listen(axum::Router::new().route(
        "/autodiscover/autodiscover.xml",
        post(move |headers: HeaderMap| {
            let (recorder, settings) = (recorder.clone(), settings.clone());
            async move {
                match recorder.record(&headers) {
                    Some(_) => {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        (StatusCode::OK, settings).into_response()
                    }
                    None => challenge("autodiscover.contoso.com"),
                }
            }
        }),
    ))
    .await;
    let bare_seen = Seen::default();
    let recorder = bare_seen.clone();
    let bare_domain = listen(axum::Router::new().route(
        "/autodiscover/autodiscover.xml",
        post(move |headers: HeaderMap| {
            let recorder = recorder.clone();
            async move {
                recorder.record(&headers);
                challenge("contoso.com")
            }
        }),
    ))
    .await;
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.ews_url = None;
    config.environment.endpoints = Endpoints::offline()
        .route("https://autodiscover.contoso.com/", &autodiscover_host)
        .unwrap()
        .route("https://contoso.com/", &bare_domain)
        .unwrap()
        .route("https://mail.contoso.com/", sandbox.base_url().as_str())
        .unwrap();

    let report = run(&config, &SilentReporter).await;

    assert_eq!(
        bare_seen.all(),
        vec![None],
        "the bare domain was asked anonymously and never given the password"
    );
    let own = own_seen.all();
    assert_eq!(own.len(), 2, "{own:?}");
    assert_eq!(own[0], None);
    assert!(own[1]
        .as_deref()
        .is_some_and(|value| value.starts_with("Basic ")));
    let autodiscover = report.step(StepId::Autodiscover).unwrap();
    assert_eq!(
        autodiscover.status,
        StepStatus::Passed,
        "{}",
        report.to_text()
    );
    assert!(
        autodiscover.detail.starts_with(&format!(
            "EWS URL {} via POX at autodiscover.{{domain}}. The password was sent (Basic, after its challenge) only to autodiscover.contoso.com.",
            ews_url_of("mail.contoso.com")
        )),
        "{}",
        autodiscover.detail
    );
    let notes: Vec<&str> = autodiscover
        .requests
        .iter()
        .filter_map(|request| request.note.as_deref())
        .collect();
    assert_eq!(
        notes,
        ["Basic credentials sent to autodiscover.contoso.com, after its challenge"]
    );
    assert_eq!(
        report.credentials_sent_to,
        ["autodiscover.contoso.com", "mail.contoso.com"]
    );
    assert!(report
        .to_text()
        .contains("Credentials to:  autodiscover.contoso.com, mail.contoso.com"));
    assert_eq!(
        report.access_level(),
        AccessLevel::Full,
        "{}",
        report.to_text()
    );
}

#[tokio::test]
async fn a_dead_autodiscover_host_holds_back_the_bare_domains_password_for_one_candidate_timeout_at_most(
) {
    let sandbox = sandbox().await;
    // Accepts connections and never answers.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_base = format!("https://{}/", dead.local_addr().unwrap());
    let mut config = config(
        &sandbox,
        demo::ADELE,
        password(demo::SERVICE_ACCOUNT_PASSWORD),
    );
    config.ews_url = None;
    config.environment.candidate_timeout = Duration::from_secs(1);
    config.environment.endpoints = Endpoints::offline()
        .route("https://autodiscover.contoso.com/", &dead_base)
        .unwrap()
        .route("https://contoso.com/", sandbox.base_url().as_str())
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
    assert!(
        autodiscover_detail(&report).contains("via POX at {domain}"),
        "{}",
        autodiscover_detail(&report)
    );
    assert!(
        autodiscover_detail(&report).contains(&format!(
            "{} (https://autodiscover.contoso.com/autodiscover/autodiscover.xml): failed: no answer within 1 s",
            CandidateKind::PoxAutodiscoverDomain.label()
        )),
        "the bare domain answered its challenge only once autodiscover.contoso.com was out of the race: {}",
        autodiscover_detail(&report)
    );
    assert_eq!(report.credentials_sent_to[0], "contoso.com");
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    drop(dead);
}
