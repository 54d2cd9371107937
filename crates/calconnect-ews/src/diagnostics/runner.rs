//! The step runner: Autodiscover, TLS, authentication, impersonated calendar operations, availability and
//! the verdict, each reported live to a [`Reporter`] and recorded with its requests.

use std::time::Instant;

use chrono::Duration as CalendarDuration;
use url::Url;

use super::config::TestConfig;
use super::report::{Report, Reporter, Step, StepId, StepStatus};
use super::verdict::{verdict, Access, AccessLevel, Blocker, Observations};
use crate::auth::{authorize, AuthScheme, Authorization, Credentials};
use crate::autodiscover::{Autodiscover, CandidateOutcome, AUTODISCOVER_DOC};
use crate::client::{elapsed_ms, EwsClient, OperationResult};
use crate::connection::Connector;
use crate::endpoints::ensure_secure;
use crate::error::Error;
use crate::operations::{
    DistinguishedFolder, FindCalendarView, GetFolder, GetUserAvailability, RequestedView,
};
use crate::request_log::RequestLog;
use crate::response_code::ResponseCode;
use crate::tls::{http_client, TLS_DOC};

const AUTHENTICATION_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/authentication-and-ews-in-exchange";
const EXO_OAUTH_DOC: &str = "https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth";

/// Host names of Exchange Online's EWS endpoints (worldwide and national clouds).
const EXCHANGE_ONLINE_HOSTS: [&str; 5] = [
    "outlook.office365.com",
    "outlook.office.com",
    "outlook.office365.us",
    "outlook.office.de",
    "partner.outlook.cn",
];

/// Runs the service-account test. Never fails: every problem becomes a failed step and shapes the verdict.
pub async fn run(config: &TestConfig, reporter: &dyn Reporter) -> Report {
    let environment = &config.environment;
    let log = RequestLog::default();
    let now = environment.clock.now();
    let mut steps = Steps {
        reporter,
        log: log.clone(),
        finished: Vec::new(),
    };
    let app_credentials = matches!(config.credentials, Credentials::ClientCredentials { .. });
    let mut observations = Observations {
        service_account: config.credentials.principal().to_owned(),
        mailbox: config.mailbox.clone(),
        exchange_online: app_credentials || config.ews_url.as_ref().is_some_and(is_exchange_online),
        app_credentials,
        today: now.date_naive(),
        blocker: None,
        authenticated_with: None,
        calendar_folder: None,
        calendar_view: None,
        other_folder: None,
        availability: None,
    };
    let mut report = Report {
        service_account: observations.service_account.clone(),
        mailbox: config.mailbox.clone(),
        ews_url: config.ews_url.as_ref().map(Url::to_string),
        server_version: None,
        started_at: now.to_rfc3339(),
        steps: Vec::new(),
        verdict: verdict(&observations),
    };

    let outcome = run_steps(config, &mut steps, &mut observations, &mut report, log).await;
    if outcome.is_none() {
        for id in [
            StepId::Autodiscover,
            StepId::Tls,
            StepId::AuthenticationSchemes,
            StepId::Authentication,
            StepId::CalendarFolder,
            StepId::CalendarView,
            StepId::OtherFolder,
            StepId::Availability,
        ] {
            if !steps.finished.iter().any(|step| step.id == id) {
                steps.skip(id, "not run: an earlier step failed");
            }
        }
    }

    let started = steps.begin(StepId::Verdict);
    let computed = verdict(&observations);
    let status = if computed.level == AccessLevel::None {
        StepStatus::Failed
    } else {
        StepStatus::Passed
    };
    let doc = computed.fixes.first().map(|fix| fix.doc_url.clone());
    steps.finish(
        started,
        status,
        // Every summary already names the level in its own words.
        computed.summary.clone(),
        None,
        doc,
    );
    report.verdict = computed;
    report.steps = steps.finished;
    report
}

/// Returns `None` when a blocker stopped the run.
async fn run_steps(
    config: &TestConfig,
    steps: &mut Steps<'_>,
    observations: &mut Observations,
    report: &mut Report,
    log: RequestLog,
) -> Option<()> {
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
            steps.finish(
                started,
                StepStatus::Failed,
                error.to_string(),
                None,
                Some(TLS_DOC.into()),
            );
            observations.blocker = Some(Blocker::Unreachable(error.to_string()));
            return None;
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
                    steps.finish(
                        started,
                        StepStatus::Failed,
                        error.to_string(),
                        None,
                        Some(EXO_OAUTH_DOC.into()),
                    );
                    observations.blocker = Some(Blocker::Token(error.to_string()));
                    return None;
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
                .discover(&config.mailbox, &config.credentials)
                .await;
            let summary = discovery
                .attempts
                .iter()
                .map(|attempt| {
                    let outcome = match &attempt.outcome {
                        CandidateOutcome::Found { ews_url } => format!("found {ews_url}"),
                        CandidateOutcome::Failed { reason } => format!("failed: {reason}"),
                        CandidateOutcome::Unconfirmed { url } => {
                            format!("points to {url}, which asks for the password")
                        }
                        CandidateOutcome::Abandoned => {
                            "abandoned (another candidate answered first)".into()
                        }
                    };
                    format!("{} ({}): {outcome}", attempt.kind.label(), attempt.url)
                })
                .collect::<Vec<_>>()
                .join("; ");
            match (discovery.ews_url, discovery.winner) {
                (Some(url), Some(winner)) => {
                    steps.finish(
                        started,
                        StepStatus::Passed,
                        format!("EWS URL {url} via {}. {summary}", winner.label()),
                        None,
                        None,
                    );
                    url
                }
                _ => {
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
                            format!("no candidate returned an EWS URL. {summary}"),
                            summary,
                        ),
                    };
                    steps.finish(
                        started,
                        StepStatus::Failed,
                        detail,
                        None,
                        Some(AUTODISCOVER_DOC.into()),
                    );
                    observations.blocker = Some(Blocker::Autodiscover(blocker));
                    return None;
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
        steps.finish(
            started,
            StepStatus::Failed,
            error.to_string(),
            None,
            Some(TLS_DOC.into()),
        );
        observations.blocker = Some(Blocker::Unreachable(error.to_string()));
        return None;
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
            steps.finish(
                started,
                StepStatus::Failed,
                problem.to_string(),
                None,
                Some(TLS_DOC.into()),
            );
            observations.blocker = Some(Blocker::Tls(problem.clone()));
            return None;
        }
        Err(error) => {
            steps.finish(
                started,
                StepStatus::Failed,
                error.to_string(),
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            observations.blocker = Some(Blocker::Unreachable(error.to_string()));
            return None;
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
    let mut detail = if probe.offered.is_empty() {
        format!(
            "the server did not ask for authentication (http {})",
            probe.status
        )
    } else {
        format!("the server offers {}", offered_names.join(", "))
    };
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
    let status = if probe.offered.is_empty() {
        StepStatus::Warning
    } else {
        StepStatus::Passed
    };
    let choice = match (&scheme, probe.offered.contains(&AuthScheme::Basic)) {
        (AuthScheme::Ntlm, true) => {
            "; using NTLM (preferred: the password never crosses the wire; Basic is the fallback)"
        }
        (AuthScheme::Ntlm, false) => "; using NTLM (Basic is not offered)",
        (AuthScheme::Basic, _) if !probe.offered.is_empty() => {
            "; using Basic (NTLM is not offered)"
        }
        (AuthScheme::Basic, _) => "; using Basic",
        _ => "; using Bearer",
    };
    detail.push_str(choice);
    steps.finish(started, status, detail, None, None);

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
            steps.finish(
                started,
                StepStatus::Failed,
                error.to_string(),
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            observations.blocker = Some(Blocker::Unreachable(error.to_string()));
            return None;
        }
    };
    let started = steps.begin(StepId::Authentication);
    // The service account's own calendar, no impersonation: any SOAP answer proves the credentials work.
    let own_calendar = GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: None,
    };
    match client.call(&own_calendar, None).await {
        Ok(result) => {
            report.server_version = result
                .server_version
                .as_ref()
                .map(|version| version.display());
            let version = report
                .server_version
                .clone()
                .unwrap_or_else(|| "not reported".into());
            steps.finish(
                started,
                StepStatus::Passed,
                format!(
                    "authenticated with {scheme} as {}; server version {version}",
                    config.credentials.principal()
                ),
                Some(result.response_code.to_string()),
                None,
            );
            observations.authenticated_with = Some(scheme.to_string());
        }
        Err(Error::Unauthorized { offered, .. }) => {
            let names: Vec<String> = offered.iter().map(AuthScheme::to_string).collect();
            let blocker = if !offered.is_empty() && !offered.contains(&scheme) {
                Blocker::SchemeNotOffered {
                    needed: scheme.to_string(),
                    offered: names,
                }
            } else {
                Blocker::Unauthorized
            };
            let detail = match &blocker {
                Blocker::SchemeNotOffered { .. } => {
                    format!("http 401: {scheme} authentication is disabled on this server")
                }
                _ if observations.app_credentials => {
                    "http 401: Exchange refused the app's token".to_owned()
                }
                _ => format!("http 401 with {scheme}: wrong user name or password (or the account is locked or disabled)"),
            };
            steps.finish(
                started,
                StepStatus::Failed,
                detail,
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            observations.blocker = Some(blocker);
            return None;
        }
        Err(Error::Forbidden { detail, .. }) => {
            steps.finish(
                started,
                StepStatus::Failed,
                format!(
                    "http 403: Exchange refused EWS to {}: {detail}",
                    config.credentials.principal()
                ),
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            observations.blocker = Some(Blocker::Forbidden(detail));
            return None;
        }
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
            return None;
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
        }
        Err(error) => {
            steps.finish(
                started,
                StepStatus::Failed,
                error.to_string(),
                None,
                Some(AUTHENTICATION_DOC.into()),
            );
            observations.blocker = Some(Blocker::Unreachable(error.to_string()));
            return None;
        }
    }

    // Step 3: impersonation of the test mailbox.
    let mailbox = config.mailbox.as_str();
    let window_start = environment.clock.now();
    let window_end = window_start + CalendarDuration::days(7);

    let started = steps.begin(StepId::CalendarFolder);
    let calendar = GetFolder {
        folder: DistinguishedFolder::Calendar,
        mailbox: None,
    };
    let access = mailbox_step(
        steps,
        started,
        client.call(&calendar, Some(mailbox)).await,
        |_| format!("impersonated {mailbox} and opened its calendar"),
        StepStatus::Failed,
    );
    observations.calendar_folder = Some(access);

    let started = steps.begin(StepId::CalendarView);
    let view = FindCalendarView {
        start: window_start,
        end: window_end,
        max_entries: 100,
    };
    let access = mailbox_step(
        steps,
        started,
        client.call(&view, Some(mailbox)).await,
        |slots: &Vec<_>| {
            format!(
                "read {} occurrence(s) in the next 7 days (times and free/busy status only)",
                slots.len()
            )
        },
        StepStatus::Failed,
    );
    observations.calendar_view = Some(access);

    if observations.calendar_folder == Some(Access::Granted) {
        let started = steps.begin(StepId::OtherFolder);
        let inbox = GetFolder {
            folder: DistinguishedFolder::Inbox,
            mailbox: None,
        };
        // A denial here is what a calendar-only grant should produce, so it is a warning, not a failure.
        let access = mailbox_step(
            steps,
            started,
            client.call(&inbox, Some(mailbox)).await,
            |_| format!("impersonation reaches beyond the calendar: the inbox of {mailbox} opened"),
            StepStatus::Warning,
        );
        observations.other_folder = Some(access);
    } else {
        steps.skip(
            StepId::OtherFolder,
            "not run: the calendar could not be opened by impersonation",
        );
    }

    let started = steps.begin(StepId::Availability);
    let availability = GetUserAvailability {
        mailbox: mailbox.to_owned(),
        start: window_start,
        end: window_end,
        requested_view: RequestedView::Detailed,
    };
    // App-only tokens must always impersonate in Exchange Online; a password account asks as itself,
    // which is how an AvailabilityOnly grant is used.
    let impersonate = observations.app_credentials.then_some(mailbox);
    let access = mailbox_step(
        steps,
        started,
        client.call(&availability, impersonate).await,
        |availability| {
            let detail_text = if availability.has_details {
                "with subjects and locations"
            } else {
                "times only"
            };
            format!(
            "free/busy of {mailbox}: view {} ({detail_text}), {} busy period(s) in the next 7 days",
            availability.view_type, availability.event_count
        )
        },
        StepStatus::Failed,
    );
    observations.availability = Some(access);
    Some(())
}

/// Finishes a mailbox operation step and turns its result into an [`Access`].
fn mailbox_step<T>(
    steps: &mut Steps<'_>,
    started: StartedStep,
    result: crate::Result<OperationResult<T>>,
    describe: impl FnOnce(&T) -> String,
    denial_status: StepStatus,
) -> Access {
    match result {
        Ok(OperationResult {
            response_code,
            output: Some(output),
            ..
        }) => {
            steps.finish(
                started,
                StepStatus::Passed,
                describe(&output),
                Some(response_code.to_string()),
                None,
            );
            Access::Granted
        }
        Ok(OperationResult {
            response_code,
            message_text,
            ..
        }) => {
            let mut detail = response_code.plain_message().to_owned();
            if let Some(text) = message_text {
                detail.push_str(&format!(" (Exchange: {text})"));
            }
            let doc = response_code.doc_url().to_owned();
            steps.finish(
                started,
                denial_status,
                detail,
                Some(response_code.to_string()),
                Some(doc),
            );
            Access::Denied(response_code)
        }
        Err(Error::SoapFault { code, message, .. }) => {
            let doc = code.doc_url().to_owned();
            steps.finish(
                started,
                StepStatus::Failed,
                format!("{}: {message}", code.plain_message()),
                Some(code.to_string()),
                Some(doc),
            );
            Access::Denied(code)
        }
        Err(error) => {
            let code =
                matches!(error, Error::Throttled { .. }).then(|| ResponseCode::ErrorServerBusy);
            let doc = code
                .as_ref()
                .map_or(AUTHENTICATION_DOC, ResponseCode::doc_url)
                .to_owned();
            steps.finish(
                started,
                StepStatus::Failed,
                error.to_string(),
                code.map(|code| code.to_string()),
                Some(doc),
            );
            Access::Failed(error.to_string())
        }
    }
}

fn is_exchange_online(url: &Url) -> bool {
    url.host_str().is_some_and(|host| {
        let host = host.to_ascii_lowercase();
        EXCHANGE_ONLINE_HOSTS.contains(&host.as_str()) || host.ends_with(".office365.com")
    })
}

struct StartedStep {
    id: StepId,
    at: Instant,
    log_cursor: usize,
}

struct Steps<'a> {
    reporter: &'a dyn Reporter,
    log: RequestLog,
    finished: Vec<Step>,
}

impl Steps<'_> {
    fn begin(&self, id: StepId) -> StartedStep {
        self.reporter.step_started(id, id.title());
        StartedStep {
            id,
            at: Instant::now(),
            log_cursor: self.log.len(),
        }
    }

    fn finish(
        &mut self,
        started: StartedStep,
        status: StepStatus,
        detail: String,
        response_code: Option<String>,
        doc_url: Option<String>,
    ) {
        let doc_url = if matches!(status, StepStatus::Failed | StepStatus::Warning) {
            doc_url
        } else {
            None
        };
        let step = Step {
            id: started.id,
            title: started.id.title().to_owned(),
            status,
            duration_ms: elapsed_ms(started.at),
            detail,
            response_code,
            doc_url,
            requests: self.log.since(started.log_cursor),
        };
        self.reporter.step_finished(&step);
        self.finished.push(step);
    }

    fn skip(&mut self, id: StepId, detail: &str) {
        let started = self.begin(id);
        self.finish(started, StepStatus::Skipped, detail.to_owned(), None, None);
    }
}
