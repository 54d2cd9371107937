//! The runner: the shared steps (token, Autodiscover, TLS, schemes, authentication) once, then every
//! mailbox's probes ([`super::probe`]), at most [`TestConfig::concurrency`] mailboxes at a time, and the
//! verdict. One mailbox is reported step by step; several are reported mailbox by mailbox.

use chrono::Duration as CalendarDuration;
use futures::StreamExt;
use url::Url;

use super::config::TestConfig;
use super::observations::{Blocker, MailboxObservations, Observations};
use super::probe::{probe_mailbox, MailboxProbe};
use super::report::{
    Deployment, MailboxProgress, MailboxReport, Report, Reporter, Step, StepId, StepStatus,
};
use super::route::Route;
use super::steps::{StartedStep, Steps};
use super::verdict::{assess, mailbox_failures, mailbox_verdict, verdict, AccessLevel};
use crate::auth::{authorize, AuthScheme, Authorization, Credentials};
use crate::autodiscover::{Autodiscover, CandidateOutcome, AUTODISCOVER_DOC};
use crate::client::EwsClient;
use crate::connection::Connector;
use crate::endpoints::ensure_secure;
use crate::error::Error;
use crate::operations::{DistinguishedFolder, GetFolder};
use crate::parse::ServerVersionInfo;
use crate::request_log::RequestLog;
use crate::response_code::ResponseCode;
use crate::tls::{http_client, PROXY_DOC, TLS_DOC};

const AUTHENTICATION_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/authentication-and-ews-in-exchange";
const EXO_OAUTH_DOC: &str = "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth";

/// The mailbox probes, skipped when a blocker stopped the run before them.
const MAILBOX_STEPS: [StepId; 6] = [
    StepId::CalendarFolder,
    StepId::OtherFolder,
    StepId::DelegateCalendarFolder,
    StepId::DelegateOtherFolder,
    StepId::CalendarView,
    StepId::Availability,
];

/// Runs the service-account test. Never fails: every problem becomes a failed step and shapes the verdict.
pub async fn run(config: &TestConfig, reporter: &dyn Reporter) -> Report {
    let environment = &config.environment;
    let log = RequestLog::default();
    let now = environment.clock.now();
    let mut steps = Steps::new(reporter, log.clone());
    let app_credentials = matches!(config.credentials, Credentials::ClientCredentials { .. });
    let mut shared = Observations {
        service_account: config.credentials.principal().to_owned(),
        exchange_online: app_credentials || config.ews_url.as_ref().is_some_and(is_exchange_online),
        app_credentials,
        today: now.date_naive(),
        blocker: None,
        authenticated_with: None,
        ntlm_refused_basic_accepted: false,
        passes_allow_list: None,
    };
    let mut report = Report {
        service_account: shared.service_account.clone(),
        mailbox: config.first_mailbox().to_owned(),
        ews_url: config.ews_url.as_ref().map(Url::to_string),
        server_version: None,
        deployment: None,
        started_at: now.to_rfc3339(),
        steps: Vec::new(),
        mailboxes: Vec::new(),
        verdict: verdict(&shared, &[]),
        unconfirmed_ews_url: None,
        credentials_sent_to: Vec::new(),
    };

    let single = config.mailboxes.len() == 1;
    let client = run_shared_steps(config, &mut steps, &mut shared, &mut report, log.clone()).await;
    if client.is_none() {
        for id in [
            StepId::Autodiscover,
            StepId::Tls,
            StepId::AuthenticationSchemes,
            StepId::Authentication,
        ] {
            if !steps.has(id) {
                steps.skip(id, "not run: an earlier step failed");
            }
        }
    }
    report.deployment = Some(if shared.exchange_online {
        Deployment::ExchangeOnline
    } else {
        Deployment::OnPremises
    });

    // The mailboxes: one reported step by step into the run's own steps, several mailbox by mailbox.
    let route = if app_credentials {
        Route::AppOnly
    } else {
        Route::Impersonation
    };
    let results: Vec<(MailboxObservations, Vec<Step>)> = match &client {
        None => {
            if single {
                for id in MAILBOX_STEPS {
                    steps.skip_titled(id, route.step_title(id), "not run: an earlier step failed");
                }
            }
            config
                .mailboxes
                .iter()
                .map(|mailbox| (MailboxObservations::new(mailbox, route), Vec::new()))
                .collect()
        }
        Some(client) if single => {
            let probe = mailbox_probe(config, client, config.first_mailbox());
            let observed = probe_mailbox(&probe, &mut steps).await;
            vec![(observed, Vec::new())]
        }
        Some(client) => probe_many(config, client, &shared, reporter).await,
    };

    let observations: Vec<MailboxObservations> = results
        .iter()
        .map(|(observed, _)| observed.clone())
        .collect();
    report.mailboxes = results
        .into_iter()
        .map(|(observed, mailbox_steps)| mailbox_report(&shared, &observed, mailbox_steps))
        .collect();
    if !single {
        mailboxes_step(&mut steps, &report.mailboxes, config.concurrency);
    }

    let started = steps.begin(StepId::Verdict);
    let computed = verdict(&shared, &observations);
    let status = if computed.level == AccessLevel::None {
        StepStatus::Failed
    } else {
        StepStatus::Passed
    };
    let doc = computed.fixes.first().map(|fix| fix.doc_url.clone());
    // Every summary already names the level in its own words.
    steps.finish(started, status, computed.summary.clone(), None, doc);
    report.verdict = computed;
    report.steps = steps.finished;
    report
}

fn mailbox_probe<'c>(
    config: &TestConfig,
    client: &'c EwsClient,
    mailbox: &'c str,
) -> MailboxProbe<'c> {
    let start = config.environment.clock.now();
    MailboxProbe {
        client,
        mailbox,
        start,
        end: start + CalendarDuration::days(7),
        app_only: matches!(config.credentials, Credentials::ClientCredentials { .. }),
    }
}

/// Probes every mailbox, at most `config.concurrency` at once, each into its own request log; reports
/// each as it finishes; returns them in the order given.
async fn probe_many(
    config: &TestConfig,
    client: &EwsClient,
    shared: &Observations,
    reporter: &dyn Reporter,
) -> Vec<(MailboxObservations, Vec<Step>)> {
    let total = config.mailboxes.len();
    let mut results: Vec<Option<(MailboxObservations, Vec<Step>)>> = vec![None; total];
    // Owned addresses: a closure over borrowed items is not general enough for the `Send` futures a
    // Tauri command needs (rust-lang/rust#102211).
    let mut finished = futures::stream::iter(config.mailboxes.clone().into_iter().enumerate())
        .map(|(index, mailbox): (usize, String)| async move {
            let log = RequestLog::default();
            let client = client.clone().with_log(log.clone());
            let mut steps = Steps::silent(log);
            let probe = mailbox_probe(config, &client, &mailbox);
            let observed = probe_mailbox(&probe, &mut steps).await;
            (index, observed, steps.finished)
        })
        .buffer_unordered(config.concurrency.max(1));
    let mut done = 0;
    while let Some((index, observed, mailbox_steps)) = finished.next().await {
        done += 1;
        let assessment = assess(shared, &observed);
        reporter.mailbox_finished(&MailboxProgress {
            done,
            total,
            mailbox: observed.mailbox.clone(),
            level: assessment.level,
            route: assessment.route,
            failed: match &assessment.undetermined {
                Some(reason) => Some(format!("not determined ({reason})")),
                None => mailbox_failures(&observed),
            },
        });
        results[index] = Some((observed, mailbox_steps));
    }
    results.into_iter().flatten().collect()
}

fn mailbox_report(
    shared: &Observations,
    observed: &MailboxObservations,
    steps: Vec<Step>,
) -> MailboxReport {
    let assessment = assess(shared, observed);
    let failed = match (&shared.blocker, &assessment.undetermined) {
        (Some(_), _) => Some("not tested: an earlier step failed".to_owned()),
        (None, Some(reason)) => Some(format!("not determined ({reason})")),
        (None, None) => mailbox_failures(observed),
    };
    MailboxReport {
        mailbox: observed.mailbox.clone(),
        level: assessment.level,
        route: assessment.route,
        determined: shared.blocker.is_none() && assessment.undetermined.is_none(),
        failed,
        availability_view: observed.availability_view.clone(),
        verdict: mailbox_verdict(shared, observed),
        steps,
    }
}

/// The per-mailbox table as a step: how many reached each level.
fn mailboxes_step(steps: &mut Steps<'_>, mailboxes: &[MailboxReport], concurrency: usize) {
    let started = steps.begin(StepId::Mailboxes);
    let count = |level: AccessLevel| {
        mailboxes
            .iter()
            .filter(|entry| entry.level == level)
            .count()
    };
    let none = count(AccessLevel::None);
    let detail = format!(
        "{} mailboxes, at most {} at a time: {} Full, {} Restricted, {} Free-busy only, {none} None",
        mailboxes.len(),
        concurrency.max(1),
        count(AccessLevel::Full),
        count(AccessLevel::Restricted),
        count(AccessLevel::FreeBusy),
    );
    let status = if none == mailboxes.len() {
        StepStatus::Failed
    } else if none > 0 {
        StepStatus::Warning
    } else {
        StepStatus::Passed
    };
    steps.finish(started, status, detail, None, None);
}

/// The steps every mailbox shares. Returns the authenticated client, or `None` when a blocker stopped
/// the run.
async fn run_shared_steps(
    config: &TestConfig,
    steps: &mut Steps<'_>,
    observations: &mut Observations,
    report: &mut Report,
    log: RequestLog,
) -> Option<EwsClient> {
    let environment = &config.environment;
    // NTLM authenticates connections, so EWS requests with it open their own through the connector, with
    // the same trust and routes as the shared client. Either failing to set up is a TLS-configuration stop.
    let clients = http_client(
        &environment.trust,
        environment.request_timeout,
        &environment.endpoints,
    )
    .and_then(|http| {
        let connector = Connector::new(
            &environment.trust,
            environment.request_timeout,
            &environment.endpoints,
        )?;
        Ok((http, connector))
    });
    let (http, connector) = match clients {
        Ok(clients) => clients,
        Err(error) => {
            let started = steps.begin(StepId::Tls);
            return stop(
                steps,
                observations,
                started,
                error.to_string(),
                doc_for(&error, TLS_DOC),
                unreachable(&error),
            );
        }
    };

    // Credentials: a Basic header (Autodiscover; EWS may switch to NTLM once it sees the offered schemes),
    // or an app-only token for Exchange Online.
    let authorization = match &config.credentials {
        Credentials::Password { username, password } => {
            steps.skip(
                StepId::Token,
                "not needed: password credentials use NTLM or Basic authentication",
            );
            Authorization::basic(username, password)
        }
        Credentials::ClientCredentials { cloud, .. } => {
            let started = steps.begin(StepId::Token);
            let token_route = |url: &Url| environment.endpoints.target(url);
            match authorize(&config.credentials, &http, token_route).await {
                Ok(authorization) => {
                    steps.finish(
                        started,
                        StepStatus::Passed,
                        format!("received an app-only token for {}", cloud.scope()),
                        None,
                        None,
                    );
                    authorization
                }
                Err(error) => {
                    return stop(
                        steps,
                        observations,
                        started,
                        error.to_string(),
                        EXO_OAUTH_DOC,
                        Blocker::Token(error.to_string()),
                    );
                }
            }
        }
    };

    // Step 1: the EWS URL.
    let ews_url = match &config.ews_url {
        Some(url) => {
            steps.skip(
                StepId::Autodiscover,
                &format!("not needed: EWS URL given ({url})"),
            );
            url.clone()
        }
        None => {
            let started = steps.begin(StepId::Autodiscover);
            let autodiscover = Autodiscover::new(
                http.clone(),
                environment.endpoints.clone(),
                environment.srv.clone(),
                log.clone(),
                environment.candidate_timeout,
            );
            // Autodiscover decides itself whom the password may reach; a token is never sent there.
            let discovery = autodiscover
                .discover(config.first_mailbox(), &config.credentials)
                .await;
            let summary = discovery
                .attempts
                .iter()
                .map(|attempt| {
                    let outcome = match &attempt.outcome {
                        CandidateOutcome::Found { ews_url } => format!("found {ews_url}"),
                        CandidateOutcome::Failed { reason } => format!("failed: {reason}"),
                        CandidateOutcome::Unconfirmed {
                            url,
                            ews_url: Some(ews_url),
                            via,
                        } => format!(
                            "named {ews_url} at {url}, reached through {} (unconfirmed)",
                            via.describe()
                        ),
                        CandidateOutcome::Unconfirmed { url, via, .. } => format!(
                            "points to {url}, reached through {}, which asks for the password",
                            via.describe()
                        ),
                        CandidateOutcome::Abandoned => {
                            "abandoned (another candidate answered first)".into()
                        }
                    };
                    format!("{} ({}): {outcome}", attempt.kind.label(), attempt.url)
                })
                .collect::<Vec<_>>()
                .join("; ");
            let credentials = match discovery.credentials_sent_to.as_slice() {
                [] => "No credentials were sent to Autodiscover.".to_owned(),
                hosts => format!(
                    "The password was sent (Basic, after its challenge) only to {}.",
                    hosts.join(" and ")
                ),
            };
            report
                .credentials_sent_to
                .extend(discovery.credentials_sent_to.iter().cloned());
            match (&discovery.ews_url, discovery.winner) {
                (Some(url), Some(winner)) => {
                    steps.finish(
                        started,
                        StepStatus::Passed,
                        format!(
                            "EWS URL {url} via {}. {credentials} {summary}",
                            winner.label()
                        ),
                        None,
                        None,
                    );
                    url.clone()
                }
                _ => {
                    if let Some(unconfirmed) = discovery.unconfirmed() {
                        let ews_url = unconfirmed.ews_url.to_owned();
                        let via = unconfirmed.via;
                        report.unconfirmed_ews_url = Some(ews_url.clone());
                        let detail = format!(
                            "Autodiscover named the EWS URL {ews_url} only through {} ({}), so calconnect sent it no credentials: confirm that it is your Exchange server's EWS URL and run the test again with it as the EWS URL. {credentials} {summary}",
                            via.describe(),
                            unconfirmed.named_at
                        );
                        return stop_with(
                            steps,
                            observations,
                            started,
                            StepStatus::Unconfirmed,
                            detail,
                            AUTODISCOVER_DOC,
                            Blocker::Unconfirmed {
                                ews_url,
                                via: via.describe().to_owned(),
                            },
                        );
                    }
                    let unconfirmed = discovery
                        .attempts
                        .iter()
                        .find_map(|attempt| attempt.outcome.unconfirmed_url());
                    let (detail, blocker) = match unconfirmed {
                        Some(url) => {
                            let detail = format!(
                                "Autodiscover points to {url}; calconnect does not send the service account's password to a host it was redirected to — confirm it and enter the EWS URL. {summary}"
                            );
                            (detail.clone(), detail)
                        }
                        None => (
                            format!("no candidate returned an EWS URL. {credentials} {summary}"),
                            summary,
                        ),
                    };
                    return stop(
                        steps,
                        observations,
                        started,
                        detail,
                        AUTODISCOVER_DOC,
                        Blocker::Autodiscover(blocker),
                    );
                }
            }
        }
    };
    report.ews_url = Some(ews_url.to_string());
    observations.exchange_online |= is_exchange_online(&ews_url);

    // Step 2: TLS, offered schemes, authentication.
    let client = EwsClient::new(
        http.clone(),
        connector,
        ews_url.clone(),
        environment.sleeper.clone(),
        log,
    )
    .with_retry(environment.retry);
    let started = steps.begin(StepId::Tls);
    if let Err(error) = ensure_secure(&ews_url) {
        return stop(
            steps,
            observations,
            started,
            error.to_string(),
            doc_for(&error, TLS_DOC),
            unreachable(&error),
        );
    }
    let probe = client.probe().await;
    match &probe {
        Ok(_) if ews_url.scheme() == "http" => steps.finish(
            started,
            StepStatus::Warning,
            "plain http to this machine (emulator): no certificate to check".into(),
            None,
            None,
        ),
        Ok(_) => steps.finish(
            started,
            StepStatus::Passed,
            format!(
                "certificate chain trusted and valid for {}",
                ews_url.host_str().unwrap_or_default()
            ),
            None,
            None,
        ),
        Err(Error::Tls { problem, .. }) => {
            return stop(
                steps,
                observations,
                started,
                problem.to_string(),
                TLS_DOC,
                Blocker::Tls(problem.clone()),
            );
        }
        Err(error) => {
            return stop(
                steps,
                observations,
                started,
                error.to_string(),
                doc_for(error, AUTHENTICATION_DOC),
                unreachable(error),
            );
        }
    }
    let probe = probe.ok()?;
    let started = steps.begin(StepId::AuthenticationSchemes);
    let offered_names: Vec<String> = probe.offered.iter().map(AuthScheme::to_string).collect();
    let unsupported: Vec<String> = probe
        .offered
        .iter()
        .filter(|scheme| !scheme.is_supported())
        .map(AuthScheme::to_string)
        .collect();
    if probe.offered.is_empty() {
        // RFC 9110 §11.6.1: a 401 carries at least one challenge; Exchange's (IIS's) lists the methods
        // of the EWS virtual directory. A host that asks for nothing is not given anything.
        let detail = format!(
            "the server answered http {} without asking for credentials (no WWW-Authenticate challenge), so calconnect sent it none: Exchange answers an anonymous EWS request with 401 and the schemes it accepts",
            probe.status
        );
        stop(
            steps,
            observations,
            started,
            detail,
            AUTHENTICATION_DOC,
            Blocker::NoChallenge {
                url: ews_url.to_string(),
                status: probe.status,
            },
        );
        steps.skip(
            StepId::Authentication,
            "not run: the server never asked for credentials",
        );
        return None;
    }
    let mut detail = format!("the server offers {}", offered_names.join(", "));
    if !unsupported.is_empty() {
        detail.push_str(&format!(
            "; {} offered but not supported by this tool",
            unsupported.join(", ")
        ));
    }
    let Some(scheme) = config.credentials.scheme_for(&probe.offered) else {
        let usable = config.credentials.usable_schemes();
        steps.finish(
            started,
            StepStatus::Failed,
            format!("{detail}; none of {usable} is offered"),
            None,
            Some(AUTHENTICATION_DOC.into()),
        );
        // A password account without NTLM or Basic is the "Basic disabled" case of the verdict.
        let needed = match &config.credentials {
            Credentials::Password { .. } => AuthScheme::Basic,
            Credentials::ClientCredentials { .. } => AuthScheme::Bearer,
        };
        observations.blocker = Some(Blocker::SchemeNotOffered {
            needed: needed.to_string(),
            offered: offered_names,
        });
        steps.skip(
            StepId::Authentication,
            &format!("not run: the server offers none of {usable}"),
        );
        return None;
    };
    let choice = match (&scheme, probe.offered.contains(&AuthScheme::Basic)) {
        (AuthScheme::Ntlm, true) => {
            "; using NTLM (preferred: the password never crosses the wire; Basic is the fallback)"
        }
        (AuthScheme::Ntlm, false) => "; using NTLM (Basic is not offered)",
        (AuthScheme::Basic, _) => "; using Basic (NTLM is not offered)",
        _ => "; using Bearer",
    };
    detail.push_str(choice);
    steps.finish(started, StepStatus::Passed, detail, None, None);

    let authorization = match (&scheme, &config.credentials) {
        (AuthScheme::Ntlm, Credentials::Password { username, password }) => {
            Authorization::ntlm(username, password)
        }
        _ => authorization,
    };
    let client = match client.with_authorization(authorization) {
        Ok(client) => client,
        Err(error) => {
            let started = steps.begin(StepId::Authentication);
            return stop(
                steps,
                observations,
                started,
                error.to_string(),
                doc_for(&error, AUTHENTICATION_DOC),
                unreachable(&error),
            );
        }
    };
    let basic_offered = probe.offered.contains(&AuthScheme::Basic);
    authenticate(
        config,
        steps,
        observations,
        report,
        client,
        &scheme,
        basic_offered,
    )
    .await
}

/// The "authenticate" step: a password account opens its own calendar (any SOAP answer proves the
/// credentials); an app-only token impersonates the first mailbox, as every app-only request must, so it
/// never meets a misleading missing-impersonation error. On NTLM's 401 the same password is tried with
/// Basic (when offered) to tell a wrong password from Extended Protection; on an app's 403 a request naming
/// no mailbox tells the EWS allow list from the app's RBAC scope.
async fn authenticate(
    config: &TestConfig,
    steps: &mut Steps<'_>,
    observations: &mut Observations,
    report: &mut Report,
    client: EwsClient,
    scheme: &AuthScheme,
    basic_offered: bool,
) -> Option<EwsClient> {
    let started = steps.begin(StepId::Authentication);
    let first = config.first_mailbox();
    let calendar = GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: None,
    };
    let impersonate = observations.app_credentials.then_some(first);
    let principal = config.credentials.principal();
    // From here on every request carries the credentials, to the host whose challenge offered the scheme.
    let host = client.url().host_str().unwrap_or_default().to_owned();
    if !report.credentials_sent_to.contains(&host) {
        report.credentials_sent_to.push(host.clone());
    }
    match client.call(&calendar, impersonate).await {
        Ok(result) => {
            record_version(report, observations, result.server_version.as_ref());
            let version = report
                .server_version
                .clone()
                .unwrap_or_else(|| "not reported".into());
            let whom = match impersonate {
                Some(mailbox) => format!("app {principal}, impersonating {mailbox}"),
                None => principal.to_owned(),
            };
            steps.finish(
                started,
                StepStatus::Passed,
                format!("authenticated with {scheme} as {whom} (credentials sent only to {host}, after its {scheme} challenge); server version {version}"),
                Some(result.response_code.to_string()),
                None,
            );
            observations.authenticated_with = Some(scheme.to_string());
            Some(client)
        }
        Err(Error::Unauthorized { offered, .. }) => {
            let names: Vec<String> = offered.iter().map(AuthScheme::to_string).collect();
            if !offered.is_empty() && !offered.contains(scheme) {
                return stop(
                    steps,
                    observations,
                    started,
                    format!("http 401: {scheme} authentication is disabled on this server"),
                    AUTHENTICATION_DOC,
                    Blocker::SchemeNotOffered {
                        needed: scheme.to_string(),
                        offered: names,
                    },
                );
            }
            let detail = if observations.app_credentials {
                "http 401: Exchange refused the app's token".to_owned()
            } else if *scheme == AuthScheme::Ntlm && basic_offered {
                "http 401 with NTLM: the next step tries the same password with Basic, to tell a wrong password from Extended Protection".to_owned()
            } else {
                format!("http 401 with {scheme}: Exchange refused the credentials")
            };
            steps.finish(
                started,
                StepStatus::Failed,
                detail,
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            if *scheme == AuthScheme::Ntlm && basic_offered {
                return confirm_with_basic(config, steps, observations, report, client).await;
            }
            observations.blocker = Some(Blocker::Unauthorized {
                scheme: scheme.to_string(),
                basic_refused_too: false,
            });
            None
        }
        Err(Error::Forbidden { detail, .. }) if observations.app_credentials => {
            steps.finish(
                started,
                StepStatus::Failed,
                format!("http 403: Exchange refused app {principal} the mailbox {first}: {detail}"),
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            check_allow_list(steps, observations, report, client, &detail).await
        }
        Err(Error::Forbidden { detail, .. }) => stop(
            steps,
            observations,
            started,
            format!("http 403: Exchange refused EWS to {principal}: {detail}"),
            AUTHENTICATION_DOC,
            Blocker::Forbidden(detail),
        ),
        Err(Error::Throttled { .. }) => {
            let detail = "ErrorServerBusy: still throttled after backing off".to_owned();
            steps.finish(
                started,
                StepStatus::Failed,
                detail.clone(),
                Some("ErrorServerBusy".into()),
                Some(ResponseCode::ErrorServerBusy.doc_url().into()),
            );
            observations.blocker = Some(Blocker::Throttled(detail));
            None
        }
        Err(Error::SoapFault { code, message, .. }) => {
            observations.authenticated_with = Some(scheme.to_string());
            steps.finish(
                started,
                StepStatus::Warning,
                format!(
                    "authenticated with {scheme}, but Exchange answered with a fault: {}: {message}",
                    code.plain_message()
                ),
                Some(code.to_string()),
                Some(code.doc_url().into()),
            );
            Some(client)
        }
        Err(error) => stop(
            steps,
            observations,
            started,
            error.to_string(),
            doc_for(&error, AUTHENTICATION_DOC),
            unreachable(&error),
        ),
    }
}

/// NTLM got 401 and the server offers Basic: the same password with Basic. Accepted, the password is
/// right and Extended Protection's channel binding is what failed (Basic is not channel-bound); the run
/// then goes on with Basic. Refused, the password is wrong.
async fn confirm_with_basic(
    config: &TestConfig,
    steps: &mut Steps<'_>,
    observations: &mut Observations,
    report: &mut Report,
    client: EwsClient,
) -> Option<EwsClient> {
    let Credentials::Password { username, password } = &config.credentials else {
        return None;
    };
    let started = steps.begin(StepId::BasicConfirmation);
    let client = match client.with_authorization(Authorization::basic(username, password)) {
        Ok(client) => client,
        Err(error) => {
            steps.finish(started, StepStatus::Failed, error.to_string(), None, None);
            observations.blocker = Some(unreachable(&error));
            return None;
        }
    };
    let calendar = GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: None,
    };
    let outcome = client.call(&calendar, None).await;
    let accepted = match &outcome {
        Ok(result) => {
            record_version(report, observations, result.server_version.as_ref());
            true
        }
        Err(Error::SoapFault { .. }) => true,
        Err(_) => false,
    };
    if accepted {
        steps.finish(
            started,
            StepStatus::Warning,
            format!(
                "Basic accepted the password of {username} (sent once, inside the verified TLS connection, to the EWS host that offered Basic), so it is right: NTLM was most likely refused because Extended Protection's channel binding does not match (a device between this machine and Exchange presents another certificate); the remaining steps use Basic"
            ),
            None,
            Some(crate::diagnostics::verdict::EXTENDED_PROTECTION_DOC.into()),
        );
        observations.ntlm_refused_basic_accepted = true;
        observations.authenticated_with = Some(AuthScheme::Basic.to_string());
        return Some(client);
    }
    let detail = match outcome {
        Err(Error::Unauthorized { .. }) => {
            format!("http 401 with Basic too: Exchange refuses the password of {username}")
        }
        Err(error) => error.to_string(),
        Ok(_) => String::new(),
    };
    stop(
        steps,
        observations,
        started,
        detail,
        AUTHENTICATION_DOC,
        Blocker::Unauthorized {
            scheme: AuthScheme::Ntlm.to_string(),
            basic_refused_too: true,
        },
    )
}

/// An app-only request impersonating a mailbox got 403: either the organisation's EWS allow list refuses
/// the app, or the mailbox is outside the app's RBAC scope. A request naming no mailbox tells them
/// apart: past the allow list, Exchange answers it with `ErrorInvalidExchangeImpersonationHeaderData`
/// (app-only tokens must impersonate, facts §0); still 403, the allow list refused the app.
///
/// ASSUMPTION: Exchange Online applies the allow list before reading the SOAP headers (the order is not
/// documented); the fix for the allow list therefore also names the RBAC check.
async fn check_allow_list(
    steps: &mut Steps<'_>,
    observations: &mut Observations,
    report: &mut Report,
    client: EwsClient,
    first_detail: &str,
) -> Option<EwsClient> {
    let started = steps.begin(StepId::AllowList);
    let calendar = GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: None,
    };
    match client.call(&calendar, None).await {
        Err(Error::Forbidden { detail, .. }) => {
            steps.finish(
                started,
                StepStatus::Failed,
                format!("http 403 again without naming a mailbox: the organisation's EWS allow list (EwsAllowedAppIDs) refuses the app: {detail}"),
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            observations.passes_allow_list = Some(false);
            observations.blocker = Some(Blocker::Forbidden(first_detail.to_owned()));
            None
        }
        // Only a SOAP answer proves the request got past the allow list (facts §0: app-only tokens
        // without impersonation get ErrorInvalidExchangeImpersonationHeaderData).
        outcome @ (Ok(_) | Err(Error::SoapFault { .. })) => {
            if let Ok(result) = &outcome {
                record_version(report, observations, result.server_version.as_ref());
            }
            let answer = match &outcome {
                Err(Error::SoapFault { code, .. }) => code.to_string(),
                Ok(result) => result.response_code.to_string(),
                Err(error) => error.to_string(),
            };
            steps.finish(
                started,
                StepStatus::Passed,
                format!("without a mailbox Exchange answered {answer}: the app passes the EWS allow list, so the 403 came from the mailbox (outside the app's RBAC scope)"),
                Some(answer),
                None,
            );
            observations.passes_allow_list = Some(true);
            observations.authenticated_with = Some(AuthScheme::Bearer.to_string());
            Some(client)
        }
        Err(error) => stop(
            steps,
            observations,
            started,
            format!("no SOAP answer to a request naming no mailbox, so the allow list cannot be told from the RBAC scope: {error}"),
            AUTHENTICATION_DOC,
            Blocker::AllowListUndetermined(error.to_string()),
        ),
    }
}

/// Keeps `ServerVersionInfo` and lets it say which deployment answered: Exchange Online reports 15.20
/// and up, Exchange Server 2013–2019 and Subscription Edition 15.0–15.2.
fn record_version(
    report: &mut Report,
    observations: &mut Observations,
    version: Option<&ServerVersionInfo>,
) {
    if let Some(version) = version {
        report.server_version = Some(version.display());
        observations.exchange_online =
            version.major > 15 || (version.major == 15 && version.minor >= 20);
    }
}

fn is_exchange_online(url: &Url) -> bool {
    url.host_str()
        .is_some_and(crate::cloud::is_exchange_online_host)
}

/// Ends a shared step as failed with `detail` and its documentation, records what stopped the run, and
/// stops it.
/// The blocker of a request that got no answer: the proxy's refusal, or the host's silence.
fn unreachable(error: &Error) -> Blocker {
    match error {
        Error::Proxy { problem, .. } => Blocker::Proxy(problem.as_ref().clone()),
        other => Blocker::Unreachable(other.to_string()),
    }
}

/// The step's doc link, or the one for proxies when a proxy refused.
fn doc_for<'a>(error: &Error, doc: &'a str) -> &'a str {
    match error {
        Error::Proxy { .. } => PROXY_DOC,
        _ => doc,
    }
}

fn stop(
    steps: &mut Steps<'_>,
    observations: &mut Observations,
    started: StartedStep,
    detail: String,
    doc_url: &str,
    blocker: Blocker,
) -> Option<EwsClient> {
    stop_with(
        steps,
        observations,
        started,
        StepStatus::Failed,
        detail,
        doc_url,
        blocker,
    )
}

/// [`stop`] with another status than failed (an EWS URL awaiting the admin's confirmation).
fn stop_with(
    steps: &mut Steps<'_>,
    observations: &mut Observations,
    started: StartedStep,
    status: StepStatus,
    detail: String,
    doc_url: &str,
    blocker: Blocker,
) -> Option<EwsClient> {
    steps.finish(started, status, detail, None, Some(doc_url.into()));
    observations.blocker = Some(blocker);
    None
}
