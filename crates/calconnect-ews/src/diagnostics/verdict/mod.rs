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

impl Verdict {
    /// The heading above the fixes.
    pub fn fixes_heading(&self) -> &'static str {
        if self.choose_one {
            "To fix (choose one, least privilege first)"
        } else {
            "To fix"
        }
    }

    /// How the fix at `index` is introduced: "Option 2, gives Restricted access" among alternatives.
    pub fn fix_label(&self, index: usize) -> Option<String> {
        let fix = self.fixes.get(index)?;
        let reaches = fix.reaches?;
        let position = self.fixes[..=index]
            .iter()
            .filter(|fix| fix.reaches.is_some())
            .count();
        Some(if self.choose_one {
            format!("Option {position}, gives {} access", reaches.label())
        } else {
            format!("Gives {} access", reaches.label())
        })
    }
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
    /// The access fixes are alternatives (each gives a different level): choose one, not all — running
    /// them in turn would grant the most and could replace a folder permission with a lesser one.
    pub choose_one: bool,
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

/// What the probes of one mailbox establish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The level granted (None when undetermined).
    pub level: AccessLevel,
    /// The route that gave it.
    pub route: Option<Route>,
    /// Why the level could not be determined: a probe that could have raised it got no answer from
    /// Exchange's permission checks (a timeout, throttling, a server error, an on-premises 403).
    pub undetermined: Option<String>,
}

/// Exchange refused the operation on permission grounds (the only outcome that proves "no access").
/// For an app-only token, Exchange Online's 403 for a mailbox outside the app's RBAC scope is one too.
fn refused(access: &Access, app_only: bool) -> bool {
    match access {
        Access::Denied(code) => code.is_permission_denial(),
        Access::Forbidden(_) => app_only,
        Access::Granted | Access::Failed(_) => false,
    }
}

/// An outcome that proves nothing about permissions.
fn inconclusive(access: &Access, app_only: bool) -> bool {
    match access {
        Access::Granted => false,
        Access::Denied(code) => !code.is_permission_denial() && !code.is_unknown_mailbox(),
        Access::Forbidden(_) => !app_only,
        Access::Failed(_) => true,
    }
}

/// The level of one mailbox, from its probes only.
pub fn assess(shared: &Observations, mailbox: &MailboxObservations) -> Assessment {
    let level_only = |level, route| Assessment {
        level,
        route,
        undetermined: None,
    };
    if shared.blocker.is_some() {
        return level_only(AccessLevel::None, None);
    }
    let app_only = shared.app_credentials;
    let view_granted = |route: Route| {
        mailbox
            .calendar_view
            .as_ref()
            .is_some_and(|(viewed, access)| *viewed == route && access.is_granted())
    };
    let routes = std::iter::once(&mailbox.impersonation).chain(mailbox.delegate.as_ref());
    // Full: the calendar and another folder on one route; by delegate access also the right to create
    // events (Reviewer on every folder reads, but cannot write).
    for reached in routes.clone() {
        let writable = reached.route != Route::Delegate || reached.calendar_writable == Some(true);
        if reached.calendar_granted()
            && reached.inbox_granted()
            && writable
            && view_granted(reached.route)
        {
            return level_only(AccessLevel::Full, Some(reached.route));
        }
    }
    let (level, route) = match mailbox.delegate.as_ref() {
        // Restricted: delegate access that reads and writes the calendar and is refused elsewhere.
        Some(delegate)
            if delegate.calendar_granted()
                && delegate.calendar_writable == Some(true)
                && delegate
                    .inbox
                    .as_ref()
                    .is_some_and(|inbox| refused(inbox, app_only))
                && view_granted(Route::Delegate) =>
        {
            (AccessLevel::Restricted, Some(Route::Delegate))
        }
        _ if mailbox
            .availability
            .as_ref()
            .is_some_and(Access::is_granted) =>
        {
            (AccessLevel::FreeBusy, None)
        }
        _ => (AccessLevel::None, None),
    };
    // Below Full, any probe that proved nothing might have raised the level: say so rather than guess.
    let inconclusive_probe = probe_outcomes(mailbox)
        .into_iter()
        .find(|(_, access)| inconclusive(access, app_only));
    match inconclusive_probe {
        Some((probe, access)) => Assessment {
            level: AccessLevel::None,
            route: None,
            undetermined: Some(format!("{probe}: {}", access.describe())),
        },
        None => level_only(level, route),
    }
}

/// The level of one mailbox and the route that gave it.
pub fn mailbox_level(
    shared: &Observations,
    mailbox: &MailboxObservations,
) -> (AccessLevel, Option<Route>) {
    let assessment = assess(shared, mailbox);
    (assessment.level, assessment.route)
}

/// Every probe that ran, with its name for reports.
fn probe_outcomes(mailbox: &MailboxObservations) -> Vec<(String, Access)> {
    let mut outcomes = Vec::new();
    for reached in std::iter::once(&mailbox.impersonation).chain(mailbox.delegate.as_ref()) {
        for (folder, access) in [("calendar", &reached.calendar), ("inbox", &reached.inbox)] {
            if let Some(access) = access {
                outcomes.push((
                    format!("{} {folder}", reached.route.label()),
                    access.clone(),
                ));
            }
        }
    }
    if let Some((_, access)) = &mailbox.calendar_view {
        outcomes.push(("calendar view".to_owned(), access.clone()));
    }
    if let Some(access) = &mailbox.availability {
        outcomes.push(("availability".to_owned(), access.clone()));
    }
    outcomes
}

/// What failed on one mailbox, in one line: each refused probe with its code.
pub fn mailbox_failures(mailbox: &MailboxObservations) -> Option<String> {
    let failures: Vec<String> = probe_outcomes(mailbox)
        .into_iter()
        .filter(|(_, access)| !access.is_granted())
        .map(|(probe, access)| format!("{probe}: {}", access.describe()))
        .collect();
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
    assessment: &Assessment,
) -> Vec<FixKind> {
    let level = assessment.level;
    // Nothing to fix before the level is known: a grant could downgrade what the account already has.
    if shared.blocker.is_some() || assessment.undetermined.is_some() {
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

/// The calendar opened by delegate access, but its rights do not include creating items.
fn read_only_delegate(mailbox: &MailboxObservations) -> bool {
    mailbox.delegate.as_ref().is_some_and(|delegate| {
        delegate.calendar_granted() && delegate.calendar_writable == Some(false)
    })
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
        (AccessLevel::FreeBusy, _) if read_only_delegate(mailbox) => (
            format!("Read-only delegate access: {account} can read the calendar of {address} by delegate access but cannot create events (its folder permission is read-only, like Reviewer)"),
            &["read events in the calendar", "read free/busy"],
            &["create, update or delete events", "open any folder other than the calendar"],
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
        choose_one: false,
        notes,
    }
}

/// The verdict for one mailbox alone (its own fixes; no shared notes).
pub fn mailbox_verdict(shared: &Observations, mailbox: &MailboxObservations) -> Verdict {
    let assessment = assess(shared, mailbox);
    let mut verdict = describe(shared, mailbox, assessment.level, assessment.route);
    if let Some(reason) = &assessment.undetermined {
        verdict.summary = format!(
            "The access to {} could not be determined ({reason}): Exchange did not answer with a permission decision. Run the test again; nothing needs fixing until it does",
            mailbox.mailbox
        );
        verdict.vendor_cannot.clear();
    } else if unknown_mailbox(mailbox) && shared.blocker.is_none() {
        verdict.summary = format!(
            "Exchange has no mailbox {}: check the address (use its primary SMTP address)",
            mailbox.mailbox
        );
    }
    verdict.fixes = needed_fixes(shared, mailbox, &assessment)
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
    verdict.choose_one = verdict
        .fixes
        .iter()
        .filter(|fix| fix.reaches.is_some())
        .count()
        > 1;
    verdict
}

fn combined(shared: &Observations, mailboxes: &[MailboxObservations]) -> Verdict {
    let assessments: Vec<Assessment> = mailboxes
        .iter()
        .map(|mailbox| assess(shared, mailbox))
        .collect();
    // Mailboxes whose level is unknown neither lower nor raise the run's level.
    let determined = || {
        mailboxes
            .iter()
            .zip(&assessments)
            .filter(|(_, assessment)| assessment.undetermined.is_none())
    };
    let lowest = determined()
        .map(|(_, assessment)| assessment.level)
        .min()
        .unwrap_or(AccessLevel::None);
    let mut counts: BTreeMap<std::cmp::Reverse<AccessLevel>, usize> = BTreeMap::new();
    for (_, assessment) in determined() {
        *counts
            .entry(std::cmp::Reverse(assessment.level))
            .or_default() += 1;
    }
    let mut tally: Vec<String> = counts
        .iter()
        .map(|(level, count)| format!("{count} {}", level.0.label()))
        .collect();
    let undetermined = assessments
        .iter()
        .filter(|assessment| assessment.undetermined.is_some())
        .count();
    if undetermined > 0 {
        tally.push(format!("{undetermined} not determined (run them again)"));
    }
    let tally = tally.join(", ");
    let mut verdict = match determined().find(|(_, assessment)| assessment.level == lowest) {
        Some((mailbox, assessment)) => describe(shared, mailbox, lowest, assessment.route),
        None => describe(
            shared,
            &MailboxObservations::new("", Route::Impersonation),
            AccessLevel::None,
            None,
        ),
    };
    let floor = match lowest {
        _ if determined().next().is_none() => "no mailbox's access could be determined".to_owned(),
        AccessLevel::None => "at least one has no usable access".to_owned(),
        level => format!("every one determined has at least {} access", level.label()),
    };
    verdict.summary = format!("{} mailboxes tested: {tally}; {floor}", mailboxes.len());
    // Each kind of fix once, for every mailbox needing it, in the order the mailboxes were given.
    let mut needing: BTreeMap<FixKind, Vec<&str>> = BTreeMap::new();
    for (mailbox, assessment) in mailboxes.iter().zip(&assessments) {
        for kind in needed_fixes(shared, mailbox, assessment) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::observations::RouteAccess;
    use crate::response_code::ResponseCode;
    use chrono::NaiveDate;

    fn shared() -> Observations {
        Observations {
            service_account: "svc-calconnect@contoso.com".into(),
            exchange_online: false,
            app_credentials: false,
            today: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            blocker: None,
            authenticated_with: Some("NTLM".into()),
            ntlm_refused_basic_accepted: false,
            passes_allow_list: None,
        }
    }

    fn denied(code: ResponseCode) -> Option<Access> {
        Some(Access::Denied(code))
    }

    /// Impersonation refused; delegate access with the given calendar/inbox outcomes.
    fn delegate(
        calendar: Option<Access>,
        writable: Option<bool>,
        inbox: Option<Access>,
    ) -> MailboxObservations {
        let mut observed = MailboxObservations::new("megan@contoso.com", Route::Impersonation);
        observed.impersonation.calendar = denied(ResponseCode::ErrorImpersonateUserDenied);
        observed.delegate = Some(RouteAccess {
            route: Route::Delegate,
            calendar,
            calendar_writable: writable,
            inbox,
        });
        observed.calendar_view = Some((Route::Delegate, Access::Granted));
        observed.availability = Some(Access::Granted);
        observed.availability_view = Some("DetailedMerged".into());
        observed
    }

    #[test]
    fn editor_by_delegate_access_refused_elsewhere_is_restricted() {
        let observed = delegate(
            Some(Access::Granted),
            Some(true),
            denied(ResponseCode::ErrorFolderNotFound),
        );
        let assessment = assess(&shared(), &observed);
        assert_eq!(assessment.level, AccessLevel::Restricted);
        assert_eq!(assessment.route, Some(Route::Delegate));
    }

    #[test]
    fn read_only_delegate_access_to_every_folder_is_not_full() {
        // Reviewer on the calendar and the inbox: reads everything, writes nothing.
        let observed = delegate(Some(Access::Granted), Some(false), Some(Access::Granted));
        let verdict = mailbox_verdict(&shared(), &observed);
        assert_eq!(verdict.level, AccessLevel::FreeBusy);
        assert!(
            verdict.summary.starts_with("Read-only delegate access"),
            "{}",
            verdict.summary
        );
        assert!(verdict
            .vendor_can
            .iter()
            .any(|line| line == "read events in the calendar"));
        assert!(!verdict
            .vendor_cannot
            .iter()
            .any(|line| line.contains("open the calendar")));
    }

    #[test]
    fn a_timeout_is_no_refusal_so_the_level_is_undetermined_and_nothing_is_fixed() {
        let observed = delegate(
            Some(Access::Failed("GetFolder request timed out".into())),
            None,
            None,
        );
        let verdict = mailbox_verdict(&shared(), &observed);
        let assessment = assess(&shared(), &observed);
        assert!(assessment
            .undetermined
            .as_deref()
            .is_some_and(|reason| reason.contains("timed out")));
        assert!(
            verdict.fixes.is_empty(),
            "no grant before the level is known: {:?}",
            verdict.fixes
        );
        assert!(
            verdict.summary.contains("could not be determined"),
            "{}",
            verdict.summary
        );
    }

    #[test]
    fn an_inbox_that_merely_failed_does_not_make_impersonation_restricted() {
        let mut observed = MailboxObservations::new("adele@contoso.com", Route::Impersonation);
        observed.impersonation.calendar = Some(Access::Granted);
        observed.impersonation.calendar_writable = Some(true);
        observed.impersonation.inbox = Some(Access::Failed("ErrorServerBusy".into()));
        observed.calendar_view = Some((Route::Impersonation, Access::Granted));
        observed.availability = Some(Access::Granted);
        let assessment = assess(&shared(), &observed);
        assert_ne!(assessment.level, AccessLevel::Restricted);
        assert!(assessment.undetermined.is_some());
    }

    #[test]
    fn a_bulk_verdict_leaves_undetermined_mailboxes_out_of_its_level() {
        let restricted = delegate(
            Some(Access::Granted),
            Some(true),
            denied(ResponseCode::ErrorFolderNotFound),
        );
        let mut timed_out = delegate(Some(Access::Failed("timed out".into())), None, None);
        timed_out.mailbox = "lee@contoso.com".into();
        let verdict = verdict(&shared(), &[restricted, timed_out]);
        assert_eq!(verdict.level, AccessLevel::Restricted);
        assert!(
            verdict.summary.contains("1 not determined"),
            "{}",
            verdict.summary
        );
        assert!(verdict.fixes.iter().all(|fix| fix
            .command
            .as_deref()
            .is_some_and(|command| !command.contains("lee@contoso.com"))));
    }

    #[test]
    fn alternative_fixes_say_choose_one_and_number_their_options() {
        let mut observed = MailboxObservations::new("alex@contoso.com", Route::Impersonation);
        observed.impersonation.calendar = denied(ResponseCode::ErrorImpersonateUserDenied);
        observed.delegate = Some(RouteAccess {
            route: Route::Delegate,
            calendar: denied(ResponseCode::ErrorAccessDenied),
            calendar_writable: None,
            inbox: None,
        });
        observed.availability = denied(ResponseCode::ErrorNoFreeBusyAccess);
        let verdict = verdict(&shared(), &[observed]);
        assert!(verdict.choose_one);
        assert_eq!(
            verdict.fixes_heading(),
            "To fix (choose one, least privilege first)"
        );
        assert_eq!(
            verdict.fix_label(0).as_deref(),
            Some("Option 1, gives Free-busy only access")
        );
        assert_eq!(
            verdict.fix_label(2).as_deref(),
            Some("Option 3, gives Full access")
        );
    }
}
