//! What the admin tests of Graph apps share (the Teams Enterprise test, the Graph Enterprise Connect
//! test): timed steps with the requests they made, fixes with a command or a link, live progress, the
//! roles an app-only token holds, and the text export of steps and fixes.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use calconnect_identity::app_only::{request_app_token, AppCredential, AppToken};
use calconnect_identity::Authority;
use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepStatus {
    Passed,
    Failed,
    Warning,
    Skipped,
}

/// One finished step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminStep {
    pub id: &'static str,
    pub title: &'static str,
    pub status: StepStatus,
    pub duration_ms: u64,
    pub detail: String,
    /// `METHOD url -> status` of each request the step made.
    pub requests: Vec<String>,
}

/// A fix for what the test found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminFix {
    pub problem: String,
    pub changes: String,
    pub command: Option<String>,
    pub link: Option<String>,
    pub doc_url: String,
}

/// Reports steps as they finish.
pub trait AdminProgress: Send + Sync {
    fn step_finished(&self, step: &AdminStep);
}

impl<F: Fn(&AdminStep) + Send + Sync> AdminProgress for F {
    fn step_finished(&self, step: &AdminStep) {
        self(step)
    }
}

pub(crate) struct Recorder<'a> {
    pub(crate) progress: &'a dyn AdminProgress,
    pub(crate) steps: Vec<AdminStep>,
}

impl Recorder<'_> {
    pub(crate) fn finish(
        &mut self,
        (id, title): (&'static str, &'static str),
        started: Instant,
        status: StepStatus,
        detail: String,
        requests: Vec<String>,
    ) {
        let step = AdminStep {
            id,
            title,
            status,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            detail,
            requests,
        };
        self.progress.step_finished(&step);
        self.steps.push(step);
    }

    pub(crate) fn skip(&mut self, step: (&'static str, &'static str), why: &str) {
        self.finish(
            step,
            Instant::now(),
            StepStatus::Skipped,
            why.to_owned(),
            Vec::new(),
        );
    }
}

/// Whether `roles` grant `needed`, directly or through a broader permission that includes it (the
/// permission tables of user-get and organization-get list these as higher privileged).
pub(crate) fn holds(roles: &[String], needed: &str) -> bool {
    let broader: &[&str] = match needed {
        "User.ReadBasic.All" => &[
            "User.Read.All",
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        "Organization.Read.All" => &[
            "Organization.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        _ => &[],
    };
    roles.iter().any(|held| {
        held.eq_ignore_ascii_case(needed)
            || broader.iter().any(|role| held.eq_ignore_ascii_case(role))
    })
}

/// An application (client) ID: a GUID. Checked before a run, so the id can go into a command as it is.
pub fn is_client_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
            group.len() == length && group.chars().all(|character| character.is_ascii_hexdigit())
        })
}

pub(crate) fn graph_line(
    method: &str,
    url: &str,
    outcome: &Result<(), &calconnect_graph::Error>,
) -> String {
    let status = match outcome {
        Ok(()) => "ok".to_owned(),
        Err(calconnect_graph::Error::AccessDenied { code, .. }) => format!("403 {code}"),
        Err(calconnect_graph::Error::Api { status, code, .. }) => format!("{status} {code}"),
        Err(calconnect_graph::Error::Unauthorized { .. }) => "401".to_owned(),
        Err(other) => other.to_string(),
    };
    format!("{method} {url} -> {status}")
}

/// The steps and fixes as text, for a report's export.
pub fn write_steps_and_fixes(
    text: &mut String,
    steps: &[AdminStep],
    summary: &str,
    fixes: &[AdminFix],
) {
    for step in steps {
        let mark = match step.status {
            StepStatus::Passed => "PASS",
            StepStatus::Failed => "FAIL",
            StepStatus::Warning => "WARN",
            StepStatus::Skipped => "SKIP",
        };
        let _ = writeln!(text, "[{mark}] {} ({} ms)", step.title, step.duration_ms);
        let _ = writeln!(text, "       {}", step.detail);
        for request in &step.requests {
            let _ = writeln!(text, "       {request}");
        }
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "Verdict: {summary}");
    for fix in fixes {
        let _ = writeln!(text, "  Fix: {}", fix.problem);
        let _ = writeln!(text, "       It {}", fix.changes);
        if let Some(command) = &fix.command {
            let _ = writeln!(text, "       {command}");
        }
        if let Some(link) = &fix.link {
            let _ = writeln!(text, "       {link}");
        }
        let _ = writeln!(text, "       See: {}", fix.doc_url);
    }
}

/// Who the app is and where it signs in.
pub(crate) struct AppSignIn<'a> {
    pub(crate) authority: &'a Authority,
    pub(crate) client_id: &'a str,
    pub(crate) credential: &'a AppCredential,
    /// The resource whose `.default` scope the token asks for.
    pub(crate) resource: &'a Url,
    pub(crate) timeout: Duration,
}

/// The first step of every app test: the client-credentials token and the roles it carries against
/// `required` (each with why it is needed). Records the step; returns the token and the missing roles, or
/// `Err(summary)` when Entra refused the request.
pub(crate) async fn token_step(
    http: &reqwest::Client,
    app: &AppSignIn<'_>,
    required: &[(&str, &str)],
    now: DateTime<Utc>,
    step: (&'static str, &'static str),
    recorder: &mut Recorder<'_>,
) -> Result<(AppToken, Vec<String>), String> {
    let started = Instant::now();
    let scope = format!("{}.default", app.resource);
    let token_url = calconnect_identity::app_only::token_url(app.authority);
    let token = match request_app_token(
        http,
        app.authority,
        app.client_id,
        app.credential,
        &scope,
        now,
        app.timeout,
    )
    .await
    {
        Ok(token) => token,
        Err(error) => {
            let mut detail = format!("{}: {}", error.user_message(), error.next_step());
            if let Some(trace) = error.trace_id() {
                detail.push_str(&format!(" (trace ID {trace}"));
                if let Some(correlation) = error.correlation_id() {
                    detail.push_str(&format!(", correlation ID {correlation}"));
                }
                detail.push(')');
            }
            recorder.finish(
                step,
                started,
                StepStatus::Failed,
                detail.clone(),
                vec![format!("POST {token_url} -> {error}")],
            );
            return Err(format!(
                "Microsoft Entra refused the app's token request: {detail}"
            ));
        }
    };
    let missing: Vec<String> = required
        .iter()
        .filter(|(role, _)| !holds(&token.roles, role))
        .map(|(role, _)| (*role).to_owned())
        .collect();
    let requests = vec![format!("POST {token_url} -> 200")];
    if missing.is_empty() {
        recorder.finish(
            step,
            started,
            StepStatus::Passed,
            format!("token received; roles: {}", token.roles.join(", ")),
            requests,
        );
    } else {
        let why: Vec<String> = required
            .iter()
            .filter(|(role, _)| missing.iter().any(|gap| gap == role))
            .map(|(role, why)| format!("{role} ({why})"))
            .collect();
        let held = if token.roles.is_empty() {
            "none".to_owned()
        } else {
            token.roles.join(", ")
        };
        recorder.finish(
            step,
            started,
            StepStatus::Failed,
            format!("the token lacks {}; roles held: {held}", why.join("; ")),
            requests,
        );
    }
    Ok((token, missing))
}
