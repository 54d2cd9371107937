//! The verdict: which access level the service account really has on each mailbox, derived from the
//! probes only ([`super::observations`]); what a vendor can and cannot do with it; and the exact commands
//! that add what is missing, filled in with the admin's names, least privilege first.
//!
//! Levels (facts §0): *Full* — impersonation (or app-only access) reaches the calendar and other folders;
//! *Restricted* — delegate access: the calendar is readable and writable, other folders are denied;
//! *Free-busy only* — `GetUserAvailability` works, nothing else (and when what it returns is no more than
//! the organisation's `Default` permission gives every account, the verdict says so: it proves no
//! grant); *None*.

mod blockers;
mod fixes;

use std::collections::BTreeMap;

use serde::Serialize;

use super::observations::{Access, MailboxObservations, Observations};
use super::route::Route;

pub use blockers::{EXO_EWS_ALLOW_LIST_FROM, EXO_EWS_SHUTDOWN_ON, EXTENDED_PROTECTION_DOC};

/// Access granted to the service account on the test mailbox, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AccessLevel {
    /// Nothing usable.
    None,
    /// Free/busy times only.
    FreeBusy,
    /// Delegate access to the calendar (read and write), nothing else.
    Restricted,
    /// The whole mailbox (impersonation, app-only access, or delegate access to every folder).
    Full,
}

impl AccessLevel {
    /// Parses the CLI spelling: `full`, `restricted`, `free-busy`, `none`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "full" => Some(Self::Full),
            "restricted" => Some(Self::Restricted),
            "free-busy" | "freebusy" | "free_busy" => Some(Self::FreeBusy),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Full => "Full",
            Self::Restricted => "Restricted",
            Self::FreeBusy => "Free-busy only",
            Self::None => "None",
        }
    }
}

/// A command or action that adds missing access or removes a blocker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// What is missing or wrong.
    pub problem: String,
    /// The level this fix leads to, when it is about access.
    pub reaches: Option<AccessLevel>,
    /// What running the command will change, in words.
    pub changes: String,
    /// The exact command, filled in with the admin's names.
    pub command: Option<String>,
    /// Microsoft's page for the cmdlet (or the setting).
    pub doc_url: String,
}

/// The outcome of the run, or of one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// The level actually granted.
    pub level: AccessLevel,
    /// One sentence.
    pub summary: String,
    /// What a vendor will be able to do.
    pub vendor_can: Vec<String>,
    /// What a vendor will not be able to do.
    pub vendor_cannot: Vec<String>,
    /// How to add what is missing, least privilege first.
    pub fixes: Vec<Fix>,
    /// Further context (Exchange Online retirement dates, over-broad grants, `Default`).
    pub notes: Vec<String>,
}

/// The kinds of access fix, so mailboxes needing the same one share one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FixKind {
    CheckRecipient,
    AvailabilityOnly,
    DelegateEditor { read_only: bool },
    ScopedImpersonation,
    RbacForApplications,
}

/// The level of one mailbox and the route that gave it.
pub fn mailbox_level(
    shared: &Observations,
    mailbox: &MailboxObservations,
) -> (AccessLevel, Option<Route>) {
    if shared.blocker.is_some() {
        return (AccessLevel::None, None);
    }
    let view_granted = |route: Route| {
        mailbox
            .calendar_view
            .as_ref()
            .is_some_and(|(viewed, access)| *viewed == route && access.is_granted())
    };
    let routes = std::iter::once(&mailbox.impersonation).chain(mailbox.delegate.as_ref());
    for reached in routes.clone() {
        if reached.calendar_granted() && reached.inbox_granted() && view_granted(reached.route) {
            return (AccessLevel::Full, Some(reached.route));
        }
    }
    for reached in routes {
        if reached.calendar_granted()
            && reached.calendar_writable == Some(true)
            && !reached.inbox_granted()
            && view_granted(reached.route)
        {
            return (AccessLevel::Restricted, Some(reached.route));
        }
    }
    if mailbox
        .availability
        .as_ref()
        .is_some_and(Access::is_granted)
    {
        return (AccessLevel::FreeBusy, None);
    }
    (AccessLevel::None, None)
}

/// What failed on one mailbox, in one line: each refused probe with its code.
pub fn mailbox_failures(mailbox: &MailboxObservations) -> Option<String> {
    let mut failures = Vec::new();
    for reached in std::iter::once(&mailbox.impersonation).chain(mailbox.delegate.as_ref()) {
        for (folder, access) in [("calendar", &reached.calendar), ("inbox", &reached.inbox)] {
            if let Some(access) = access.as_ref().filter(|access| !access.is_granted()) {
                failures.push(format!(
                    "{} {folder}: {}",
                    reached.route.label(),
                    access.describe()
                ));
            }
        }
    }
    if let Some((_, access)) = mailbox
        .calendar_view
        .as_ref()
        .filter(|(_, access)| !access.is_granted())
    {
        failures.push(format!("calendar view: {}", access.describe()));
    }
    if let Some(access) = mailbox
        .availability
        .as_ref()
        .filter(|access| !access.is_granted())
    {
        failures.push(format!("availability: {}", access.describe()));
    }
    (!failures.is_empty()).then(|| failures.join("; "))
}

/// Whether the free/busy view returned is the one Exchange's `Default` permission (`AvailabilityOnly`)
/// gives every account: times only ("FreeBusyViewType": `FreeBusy`, `FreeBusyMerged`, `MergedOnly`).
fn no_more_than_default(view: Option<&str>) -> bool {
    matches!(
        view,
        Some("FreeBusy" | "FreeBusyMerged" | "MergedOnly") | None
    )
}

fn unknown_mailbox(mailbox: &MailboxObservations) -> bool {
    mailbox
        .outcomes()
        .iter()
        .any(|access| access.code().is_some_and(|code| code.is_unknown_mailbox()))
}

fn needed_fixes(
    shared: &Observations,
    mailbox: &MailboxObservations,
    level: AccessLevel,
) -> Vec<FixKind> {
    if shared.blocker.is_some() {
        return Vec::new();
    }
    if unknown_mailbox(mailbox) {
        return vec![FixKind::CheckRecipient];
    }
    if shared.app_credentials {
        return if level < AccessLevel::Full && shared.passes_allow_list != Some(false) {
            vec![FixKind::RbacForApplications]
        } else {
            Vec::new()
        };
    }
    let mut kinds = Vec::new();
    if level < AccessLevel::FreeBusy {
        kinds.push(FixKind::AvailabilityOnly);
    }
    if level < AccessLevel::Restricted {
        let read_only = mailbox
            .delegate
            .as_ref()
            .is_some_and(|delegate| delegate.calendar_granted());
        kinds.push(FixKind::DelegateEditor { read_only });
    }
    if level < AccessLevel::Full {
        kinds.push(FixKind::ScopedImpersonation);
    }
    kinds
}

fn render(kind: FixKind, shared: &Observations, mailboxes: &[&str]) -> Fix {
    let account = shared.service_account.as_str();
    match kind {
        FixKind::CheckRecipient => fixes::check_recipient(mailboxes),
        FixKind::AvailabilityOnly => fixes::availability_only(account, mailboxes),
        FixKind::DelegateEditor { read_only } => {
            fixes::delegate_editor(account, mailboxes, read_only)
        }
        FixKind::ScopedImpersonation => fixes::scoped_impersonation(account, mailboxes),
        FixKind::RbacForApplications => fixes::rbac_for_applications(account, mailboxes),
    }
}

/// What the level means for a vendor, and the mailbox's own notes.
fn describe(
    shared: &Observations,
    mailbox: &MailboxObservations,
    level: AccessLevel,
    route: Option<Route>,
) -> Verdict {
    let address = &mailbox.mailbox;
    let account = &shared.service_account;
    let mut notes = Vec::new();
    let (summary, can, cannot): (String, &[&str], &[&str]) = match (level, route) {
        (AccessLevel::Full, Some(Route::Delegate)) => (
            format!("Full access: {account} opens every folder of {address} by delegate access (a FullAccess mailbox permission)"),
            &["read and write events in the calendar", "read free/busy", "open folders beyond the calendar (mail included)"],
            &[],
        ),
        (AccessLevel::Full, Some(Route::AppOnly)) => (
            format!("Full access: the app reaches the calendar and other folders of {address} (app-only, impersonating the mailbox)"),
            &["read and write events in the calendar", "read free/busy", "open folders beyond the calendar (mail included)"],
            &[],
        ),
        (AccessLevel::Full, _) => (
            format!("Full access: {account} impersonates {address}, reaching the calendar and the rest of the mailbox"),
            &["read and write events in the calendar", "read free/busy", "open folders beyond the calendar (mail included)"],
            &[],
        ),
        (AccessLevel::Restricted, _) => (
            format!("Restricted access: {account} reads and writes the calendar of {address} by delegate access; other folders are denied"),
            &["read and write events in the calendar", "read free/busy"],
            &["open mail or any folder other than the calendar"],
        ),
        (AccessLevel::FreeBusy, _) if no_more_than_default(mailbox.availability_view.as_deref()) => (
            format!(
                "Free-busy only: {account} sees when {address} is busy ({}), which is no more than the organisation's Default permission (AvailabilityOnly) gives every account: it proves no grant to {account}",
                mailbox.availability_view.as_deref().unwrap_or("times only")
            ),
            &["read free/busy times (no subjects or locations)"],
            &["read event details", "create, update or delete events", "open any folder of the mailbox"],
        ),
        (AccessLevel::FreeBusy, _) => (
            format!(
                "Free-busy only: {account} sees the free/busy of {address} with details ({}), more than the Default permission's AvailabilityOnly, but cannot open the calendar",
                mailbox.availability_view.as_deref().unwrap_or_default()
            ),
            &["read free/busy with subjects and locations"],
            &["open the calendar", "create, update or delete events", "open any folder of the mailbox"],
        ),
        (AccessLevel::None, _) => (
            format!("No usable access to {address}"),
            &[],
            &["read free/busy", "read or write events", "open any folder of the mailbox"],
        ),
    };
    match (level, route) {
        (AccessLevel::Full, Some(Route::Impersonation)) => notes.push(
            "Impersonation reaches mail too; a calendar vendor needs only Restricted access: Editor on the Calendar folder, used by delegate access".to_owned(),
        ),
        (AccessLevel::Restricted, _) => notes.push(
            "Restricted access works by delegate access: the vendor names the mailbox in each folder id (<t:Mailbox>) and must not impersonate (impersonation is all or nothing in Exchange)".to_owned(),
        ),
        _ => {}
    }
    Verdict {
        level,
        summary,
        vendor_can: can.iter().map(|text| (*text).to_owned()).collect(),
        vendor_cannot: cannot.iter().map(|text| (*text).to_owned()).collect(),
        fixes: Vec::new(),
        notes,
    }
}

/// The verdict for one mailbox alone (its own fixes; no shared notes).
pub fn mailbox_verdict(shared: &Observations, mailbox: &MailboxObservations) -> Verdict {
    let (level, route) = mailbox_level(shared, mailbox);
    let mut verdict = describe(shared, mailbox, level, route);
    if unknown_mailbox(mailbox) && shared.blocker.is_none() {
        verdict.summary = format!(
            "Exchange has no mailbox {}: check the address (use its primary SMTP address)",
            mailbox.mailbox
        );
    }
    verdict.fixes = needed_fixes(shared, mailbox, level)
        .into_iter()
        .map(|kind| render(kind, shared, &[mailbox.mailbox.as_str()]))
        .collect();
    verdict
}

/// The verdict of the whole run: for one mailbox, its verdict with the shared fixes and notes; for
/// several, the lowest level, a count per level, and each fix once for every mailbox that needs it.
pub fn verdict(shared: &Observations, mailboxes: &[MailboxObservations]) -> Verdict {
    let mut verdict = match mailboxes {
        [one] => mailbox_verdict(shared, one),
        many => combined(shared, many),
    };
    blockers::shared_findings(&mut verdict, shared);
    verdict
}

fn combined(shared: &Observations, mailboxes: &[MailboxObservations]) -> Verdict {
    let levels: Vec<(AccessLevel, Option<Route>)> = mailboxes
        .iter()
        .map(|mailbox| mailbox_level(shared, mailbox))
        .collect();
    let lowest = levels
        .iter()
        .map(|(level, _)| *level)
        .min()
        .unwrap_or(AccessLevel::None);
    let mut counts: BTreeMap<std::cmp::Reverse<AccessLevel>, usize> = BTreeMap::new();
    for (level, _) in &levels {
        *counts.entry(std::cmp::Reverse(*level)).or_default() += 1;
    }
    let tally = counts
        .iter()
        .map(|(level, count)| format!("{count} {}", level.0.label()))
        .collect::<Vec<_>>()
        .join(", ");
    let representative = mailboxes
        .iter()
        .zip(&levels)
        .find(|(_, (level, _))| *level == lowest);
    let mut verdict = match representative {
        Some((mailbox, (level, route))) => describe(shared, mailbox, *level, *route),
        None => describe(
            shared,
            &MailboxObservations::new("", Route::Impersonation),
            AccessLevel::None,
            None,
        ),
    };
    let floor = match lowest {
        AccessLevel::None => "at least one has no usable access".to_owned(),
        level => format!("every one of them has at least {} access", level.label()),
    };
    verdict.summary = format!("{} mailboxes tested: {tally}; {floor}", mailboxes.len());
    // Each kind of fix once, for every mailbox needing it, in the order the mailboxes were given.
    let mut needing: BTreeMap<FixKind, Vec<&str>> = BTreeMap::new();
    for (mailbox, (level, _)) in mailboxes.iter().zip(&levels) {
        for kind in needed_fixes(shared, mailbox, *level) {
            needing
                .entry(kind)
                .or_default()
                .push(mailbox.mailbox.as_str());
        }
    }
    verdict.fixes = needing
        .iter()
        .map(|(kind, addresses)| render(*kind, shared, addresses))
        .collect();
    verdict.level = lowest;
    verdict
}
