//! The structured result of a run: steps with status, duration, detail and documentation link, the
//! request log, and the verdict. Nothing in it is secret: no password, token or mailbox content.

use serde::Serialize;

use super::verdict::{AccessLevel, Verdict};
use crate::request_log::RequestRecord;

/// The steps of the service-account test, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepId {
    /// Client-credentials token for Exchange Online.
    Token,
    /// Finding the EWS URL.
    Autodiscover,
    /// Certificate chain and name of the EWS host.
    Tls,
    /// Schemes offered in `WWW-Authenticate`.
    AuthenticationSchemes,
    /// Authenticating and reading `ServerVersionInfo`.
    Authentication,
    /// `GetFolder` on the test mailbox's calendar, impersonating it.
    CalendarFolder,
    /// `FindItem` `CalendarView` for the next 7 days, impersonating.
    CalendarView,
    /// `GetFolder` on the inbox, impersonating: tells Full from Restricted.
    OtherFolder,
    /// `GetUserAvailability` for the next 7 days.
    Availability,
    /// The access level actually granted.
    Verdict,
}

impl StepId {
    /// Title shown in the step list.
    pub fn title(self) -> &'static str {
        match self {
            Self::Token => "Sign in to Microsoft Entra (client credentials)",
            Self::Autodiscover => "Autodiscover the EWS URL",
            Self::Tls => "TLS certificate of the EWS host",
            Self::AuthenticationSchemes => "Authentication schemes offered",
            Self::Authentication => "Authenticate to EWS",
            Self::CalendarFolder => "Impersonate the mailbox: GetFolder calendar",
            Self::CalendarView => "Impersonate the mailbox: FindItem calendar view (next 7 days)",
            Self::OtherFolder => "Impersonate the mailbox: GetFolder inbox (beyond the calendar)",
            Self::Availability => "GetUserAvailability (next 7 days)",
            Self::Verdict => "Access level granted",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepStatus {
    /// It worked.
    Passed,
    /// It failed; see detail and doc link.
    Failed,
    /// It worked with a caveat, or the denial is expected for the granted level.
    Warning,
    /// Not run (not needed, or an earlier step failed).
    Skipped,
}

/// One finished step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Which step.
    pub id: StepId,
    /// Its title.
    pub title: String,
    /// How it ended.
    pub status: StepStatus,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// A plain sentence on what happened.
    pub detail: String,
    /// EWS `ResponseCode`, when one decided the step.
    pub response_code: Option<String>,
    /// The Microsoft documentation page for the error, on failures and warnings.
    pub doc_url: Option<String>,
    /// The requests made during the step.
    pub requests: Vec<RequestRecord>,
}

/// The complete run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The service account (user name or client id).
    pub service_account: String,
    /// The mailbox tested against.
    pub mailbox: String,
    /// The EWS URL used, given or discovered.
    pub ews_url: Option<String>,
    /// `ServerVersionInfo`, e.g. `15.2.1118.7 (V2017_07_11)`.
    pub server_version: Option<String>,
    /// When the run started (RFC 3339, from the injected clock).
    pub started_at: String,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// The outcome.
    pub verdict: Verdict,
}

impl Report {
    /// The access level actually granted.
    pub fn access_level(&self) -> AccessLevel {
        self.verdict.level
    }

    /// Whether the granted level is at least `expected` (the CLI's `--expect`).
    pub fn meets(&self, expected: AccessLevel) -> bool {
        self.verdict.level >= expected
    }

    /// The step with this id, if it ran or was skipped.
    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.iter().find(|step| step.id == id)
    }
}

/// Receives each step as it starts and finishes, for live display.
pub trait Reporter: Send + Sync {
    /// A step started.
    fn step_started(&self, id: StepId, title: &str);
    /// A step finished.
    fn step_finished(&self, step: &Step);
}

/// Ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentReporter;

impl Reporter for SilentReporter {
    fn step_started(&self, _id: StepId, _title: &str) {}
    fn step_finished(&self, _step: &Step) {}
}

/// A progress event sent through a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum StepEvent {
    /// A step started.
    Started {
        /// Which.
        id: StepId,
        /// Its title.
        title: String,
    },
    /// A step finished.
    Finished {
        /// The step.
        step: Step,
    },
}

impl Reporter for tokio::sync::mpsc::UnboundedSender<StepEvent> {
    fn step_started(&self, id: StepId, title: &str) {
        // A closed receiver only means nobody watches any more.
        let _ = self.send(StepEvent::Started {
            id,
            title: title.to_owned(),
        });
    }

    fn step_finished(&self, step: &Step) {
        let _ = self.send(StepEvent::Finished { step: step.clone() });
    }
}
