//! The structured result of a run: steps with status, duration, detail and documentation link, the
//! request log, and the verdict. Nothing in it is secret: no password, token or mailbox content.

use serde::Serialize;

use super::route::Route;
use super::verdict::{AccessLevel, Verdict};
use crate::request_log::RequestRecord;

/// The steps of the service-account test, in order. The mailbox probes (calendar, other folder) exist once
/// per route ([`Route`]): the route is data of the probe, the id only says which folder it opened.
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
    /// Authenticating and reading `ServerVersionInfo` (app-only: impersonating the first mailbox).
    Authentication,
    /// NTLM was refused: the same password with Basic tells a wrong password from Extended Protection.
    BasicConfirmation,
    /// An app-only request got HTTP 403: a request naming no mailbox tells the EWS allow list from the
    /// app's RBAC scope.
    AllowList,
    /// `GetFolder` on the test mailbox's calendar, impersonating it (or app-only).
    CalendarFolder,
    /// `GetFolder` on the inbox, impersonating: tells Full from less.
    OtherFolder,
    /// `GetFolder` on the calendar by delegate access (`<t:Mailbox>`, no impersonation).
    DelegateCalendarFolder,
    /// `GetFolder` on the inbox by delegate access: a calendar-only grant is refused here.
    DelegateOtherFolder,
    /// `FindItem` `CalendarView` for the next 7 days, through the route that opened the calendar.
    CalendarView,
    /// `GetUserAvailability` (`DetailedMerged`) for the next 7 days.
    Availability,
    /// Several mailboxes: the per-mailbox table.
    Mailboxes,
    /// The access level actually granted.
    Verdict,
}

impl StepId {
    /// Title shown in the step list (mailbox probes take theirs from [`Route::step_title`]).
    pub fn title(self) -> &'static str {
        match self {
            Self::Token => "Sign in to Microsoft Entra (client credentials)",
            Self::Autodiscover => "Autodiscover the EWS URL",
            Self::Tls => "TLS certificate of the EWS host",
            Self::AuthenticationSchemes => "Authentication schemes offered",
            Self::Authentication => "Authenticate to EWS",
            Self::BasicConfirmation => "NTLM refused: confirm the password with Basic",
            Self::AllowList => "EWS allow list: a request naming no mailbox",
            Self::CalendarFolder => "Impersonate the mailbox: GetFolder calendar",
            Self::OtherFolder => "Impersonate the mailbox: GetFolder inbox (beyond the calendar)",
            Self::DelegateCalendarFolder => {
                "Delegate access (no impersonation): GetFolder calendar"
            }
            Self::DelegateOtherFolder => {
                "Delegate access (no impersonation): GetFolder inbox (beyond the calendar)"
            }
            Self::CalendarView => "FindItem calendar view (next 7 days)",
            Self::Availability => "GetUserAvailability, DetailedMerged (next 7 days)",
            Self::Mailboxes => "Mailboxes tested",
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
    /// It found something only the admin can vouch for (an EWS URL Autodiscover reached through a
    /// detour): the run stopped before sending credentials, and waits for the admin to confirm it.
    Unconfirmed,
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

/// Whether the EWS endpoint is Exchange Online or an on-premises Exchange (from `ServerVersionInfo`
/// once a SOAP answer arrived — Exchange Online reports 15.20 and up — else from the host name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Deployment {
    /// Microsoft's cloud.
    ExchangeOnline,
    /// Exchange Server.
    OnPremises,
}

/// One mailbox of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxReport {
    /// The address tested.
    pub mailbox: String,
    /// The level granted on it.
    pub level: AccessLevel,
    /// How the level was reached (`impersonation`, `delegate`, `appOnly`), when anything worked.
    pub route: Option<Route>,
    /// Whether the level is known: false when a probe that could have raised it got no permission
    /// decision from Exchange (timeout, throttling, server error), or the run stopped before it.
    pub determined: bool,
    /// What failed, in one line (the first probe that was refused), when anything did.
    pub failed: Option<String>,
    /// The `FreeBusyViewType` Exchange returned, when availability worked.
    pub availability_view: Option<String>,
    /// The verdict for this mailbox alone.
    pub verdict: Verdict,
    /// Its probes. With a single mailbox they are in [`Report::steps`] instead, so this is empty.
    pub steps: Vec<Step>,
}

/// The complete run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The service account (user name or client id).
    pub service_account: String,
    /// The (first) mailbox tested against.
    pub mailbox: String,
    /// The EWS URL used, given or discovered.
    pub ews_url: Option<String>,
    /// `ServerVersionInfo`, e.g. `15.2.1118.7 (V2017_07_11)`.
    pub server_version: Option<String>,
    /// Exchange Online or on-premises, once known.
    pub deployment: Option<Deployment>,
    /// When the run started (RFC 3339, from the injected clock).
    pub started_at: String,
    /// Steps in order: the shared ones, the mailbox probes when one mailbox was tested, the verdict.
    pub steps: Vec<Step>,
    /// Every mailbox tested, in the order given.
    pub mailboxes: Vec<MailboxReport>,
    /// The outcome: for several mailboxes, the lowest level among them and the fixes for all.
    pub verdict: Verdict,
    /// An EWS URL Autodiscover found only through a detour (SRV, the http probe, a redirect): never sent
    /// credentials; the admin may confirm it and run the test again with it as the EWS URL.
    pub unconfirmed_ews_url: Option<String>,
    /// Every host that was sent the credentials, in order (Autodiscover's, then the EWS host), each only
    /// after its own challenge.
    pub credentials_sent_to: Vec<String>,
}

impl Report {
    /// The access level actually granted (the lowest, over several mailboxes).
    pub fn access_level(&self) -> AccessLevel {
        self.verdict.level
    }

    /// Whether the granted level is at least `expected` (the CLI's `--expect`).
    pub fn meets(&self, expected: AccessLevel) -> bool {
        self.verdict.level >= expected
    }

    /// The step with this id, if it ran or was skipped (shared steps, then the first mailbox's).
    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps
            .iter()
            .chain(self.mailboxes.iter().flat_map(|mailbox| &mailbox.steps))
            .find(|step| step.id == id)
    }

    /// The result for `mailbox`.
    pub fn mailbox(&self, mailbox: &str) -> Option<&MailboxReport> {
        self.mailboxes
            .iter()
            .find(|entry| entry.mailbox.eq_ignore_ascii_case(mailbox))
    }
}

/// One mailbox finished, for a live progress bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxProgress {
    /// Mailboxes finished so far.
    pub done: usize,
    /// Mailboxes in the run.
    pub total: usize,
    /// The mailbox that finished.
    pub mailbox: String,
    /// Its level.
    pub level: AccessLevel,
    /// Its route.
    pub route: Option<Route>,
    /// What failed.
    pub failed: Option<String>,
}

/// Receives each step as it starts and finishes, for live display.
pub trait Reporter: Send + Sync {
    /// A step started.
    fn step_started(&self, id: StepId, title: &str);
    /// A step finished.
    fn step_finished(&self, step: &Step);
    /// A mailbox of a run with several finished (their probes are not reported step by step).
    fn mailbox_finished(&self, _progress: &MailboxProgress) {}
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
    /// A mailbox of a bulk run finished.
    MailboxFinished {
        /// Progress and the mailbox's result.
        progress: MailboxProgress,
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

    fn mailbox_finished(&self, progress: &MailboxProgress) {
        let _ = self.send(StepEvent::MailboxFinished {
            progress: progress.clone(),
        });
    }
}
