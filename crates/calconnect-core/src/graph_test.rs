//! The admin's Graph Enterprise Connect test: is the organisation-wide app (application permissions
//! `User.Read.All Organization.Read.All Place.Read.All Calendars.ReadWrite`, seed 001) consented, does it
//! see the users, rooms and calendars it needs, and is it limited to the users it should be? Each step is
//! timed and recorded; the report exports as JSON and text and holds no secret.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use calconnect_graph::app_only::StaticToken;
use calconnect_graph::GraphClient;
use calconnect_identity::app_only::{admin_consent_url, AppCredential};
use calconnect_identity::Authority;
use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use crate::admin_report::{
    graph_line, holds, write_steps_and_fixes, AdminFix, AdminProgress, AdminStep, Recorder,
    StepStatus,
};

/// The application permissions, with why each is needed (seed 001).
pub const REQUIRED_ROLES: [(&str, &str); 4] = [
    ("User.Read.All", "to read users' profiles (email, name, preferredLanguage, userType, accountEnabled) and find them by their proxyAddresses"),
    ("Organization.Read.All", "to identify the tenant and the domains it uses"),
    ("Place.Read.All", "to list conference rooms and room lists"),
    ("Calendars.ReadWrite", "to create, read, update and delete events in user and room calendars"),
];
const ADMIN_CONSENT_DOC: &str =
    "https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/grant-admin-consent";
const APPLICATION_RBAC_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/permissions-exo/application-rbac";

/// The access level the app reaches on the test user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum GraphLevel {
    /// Nothing usable.
    None,
    /// Free/busy only (the Free/Busy variant).
    FreeBusy,
    /// It works, but a scope leaves the user out, or rooms cannot be listed.
    Restricted,
    /// Every role, the user in scope, calendars readable.
    Full,
}

impl GraphLevel {
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

/// What the admin entered, and where Microsoft is.
pub struct GraphTestConfig {
    /// The sign-in authority of the app's tenant.
    pub authority: Authority,
    /// Graph with its version, e.g. `https://graph.microsoft.com/v1.0/`.
    pub graph: Url,
    /// The resource whose `.default` scope the token asks for.
    pub graph_resource: Url,
    /// The app's client id.
    pub client_id: String,
    /// Its secret or certificate.
    pub credential: AppCredential,
    /// The test mailbox (a UPN or one of its addresses).
    pub mailbox: String,
    /// Also create and delete one event in the test user's calendar.
    pub write_test: bool,
    /// Timeout of one request.
    pub timeout: Duration,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphReport {
    pub client_id: String,
    pub tenant: String,
    pub mailbox: String,
    pub started_at: String,
    pub roles: Vec<String>,
    pub missing_roles: Vec<String>,
    pub tenant_id: Option<String>,
    pub verified_domains: Vec<String>,
    pub users: Option<usize>,
    pub rooms: Option<usize>,
    pub room_lists: Option<usize>,
    /// Whether the test user is inside the app's scope (None: not determined).
    pub user_in_scope: Option<bool>,
    /// The test mailbox's object id, when the directory found it.
    pub user_id: Option<String>,
    pub steps: Vec<AdminStep>,
    pub level: GraphLevel,
    pub summary: String,
    pub vendor_can: Vec<String>,
    pub vendor_cannot: Vec<String>,
    pub fixes: Vec<AdminFix>,
}

const TOKEN: (&str, &str) = (
    "token",
    "Sign in as the app (client credentials) and read its roles",
);
const ORGANIZATION: (&str, &str) = (
    "organization",
    "GET /organization: the tenant and its domains",
);
const USERS: (&str, &str) = (
    "users",
    "GET /users: every user, and the test mailbox by UPN and by proxyAddresses",
);
const ROOMS: (&str, &str) = ("rooms", "GET /places: rooms and room lists");
const CALENDARS: (&str, &str) = (
    "calendars",
    "The test user's calendars and a 7-day calendarView",
);
const SCOPE: (&str, &str) = ("scope", "Is the app limited? Other users' calendars");
const WRITE: (&str, &str) = ("write", "Create and delete one event (--write-test)");
/// Other users whose calendars tell a scoped app from one without calendar access.
const SCOPE_SAMPLE: usize = 5;

/// Runs the test. Never fails: every problem becomes a failed step and a fix.
pub async fn run(
    http: &reqwest::Client,
    config: &GraphTestConfig,
    now: DateTime<Utc>,
    progress: &dyn AdminProgress,
) -> GraphReport {
    let mut recorder = Recorder {
        progress,
        steps: Vec::new(),
    };
    let mut report = GraphReport {
        client_id: config.client_id.clone(),
        tenant: config.authority.tenant().to_owned(),
        mailbox: config.mailbox.clone(),
        started_at: now.to_rfc3339(),
        roles: Vec::new(),
        missing_roles: Vec::new(),
        tenant_id: None,
        verified_domains: Vec::new(),
        users: None,
        rooms: None,
        room_lists: None,
        user_in_scope: None,
        user_id: None,
        steps: Vec::new(),
        level: GraphLevel::None,
        summary: String::new(),
        vendor_can: Vec::new(),
        vendor_cannot: Vec::new(),
        fixes: Vec::new(),
    };
    let facts = run_steps(http, config, now, &mut recorder, &mut report).await;
    for step in [TOKEN, ORGANIZATION, USERS, ROOMS, CALENDARS, SCOPE, WRITE] {
        if !recorder.steps.iter().any(|done| done.id == step.0) {
            let why = if step.0 == WRITE.0 && !config.write_test {
                "not run: read only (--write-test creates and deletes one event)"
            } else {
                "not run: an earlier step failed"
            };
            recorder.skip(step, why);
        }
    }
    report.steps = recorder.steps;
    verdict(&mut report, config, &facts);
    // A role the token lacks but RBAC for Applications proved held (reads and a write) is no failure of
    // the token step.
    if report.missing_roles.is_empty() && facts.calendar == CalendarAnswer::Read {
        if let Some(step) = report
            .steps
            .iter_mut()
            .find(|step| step.id == TOKEN.0 && step.status == StepStatus::Failed)
        {
            step.status = StepStatus::Passed;
            step.detail.push_str(" — Calendars.ReadWrite is held through RBAC for Applications, which the token does not show");
        }
    }
    report
}

/// How the test mailbox's calendar answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum CalendarAnswer {
    /// Not asked (an earlier step stopped the run).
    #[default]
    NotAsked,
    /// Calendars and the calendar view were read.
    Read,
    /// Exchange refused the mailbox: 403 `ErrorAccessDenied`.
    Refused,
    /// No permission decision: throttled, a timeout, a server error. Run again.
    Transient(String),
    /// Anything else (an unknown user, say).
    Failed(String),
}

/// What the steps established, for the verdict.
#[derive(Debug, Default)]
struct Facts {
    calendar: CalendarAnswer,
    /// Of the other mailboxes sampled, how many calendars were readable (readable, sampled).
    sample: Option<(usize, usize)>,
    /// The write test's outcome, when it ran.
    write: Option<bool>,
}

fn classify(error: &calconnect_graph::Error) -> CalendarAnswer {
    match error {
        calconnect_graph::Error::AccessDenied { code, .. }
            if code.eq_ignore_ascii_case("ErrorAccessDenied") =>
        {
            CalendarAnswer::Refused
        }
        calconnect_graph::Error::Throttled { .. } | calconnect_graph::Error::Network(_) => {
            CalendarAnswer::Transient(error.to_string())
        }
        calconnect_graph::Error::Api { status, .. } if *status >= 500 => {
            CalendarAnswer::Transient(error.to_string())
        }
        other => CalendarAnswer::Failed(other.to_string()),
    }
}

/// Runs the steps; returns what they established.
async fn run_steps(
    http: &reqwest::Client,
    config: &GraphTestConfig,
    now: DateTime<Utc>,
    recorder: &mut Recorder<'_>,
    report: &mut GraphReport,
) -> Facts {
    let mut facts = Facts::default();
    let sign_in = crate::admin_report::AppSignIn {
        authority: &config.authority,
        client_id: &config.client_id,
        credential: &config.credential,
        resource: &config.graph_resource,
        timeout: config.timeout,
    };
    let token = match crate::admin_report::token_step(
        http,
        &sign_in,
        &REQUIRED_ROLES,
        now,
        TOKEN,
        recorder,
    )
    .await
    {
        Ok((token, missing)) => {
            report.roles = token.roles.clone();
            report.missing_roles = missing;
            token
        }
        Err(summary) => {
            report.summary = summary;
            return facts;
        }
    };

    let graph = GraphClient::new(config.graph.clone(), http.clone());
    let tokens = StaticToken(token.access_token);
    let base = graph.base_url().clone();
    let at = |path: &str| {
        base.join(path)
            .map(|url| url.to_string())
            .unwrap_or_default()
    };

    let started = Instant::now();
    let organization = graph.organization(&tokens).await;
    let line = graph_line(
        "GET",
        &at("organization"),
        &organization.as_ref().map(|_| ()),
    );
    match &organization {
        Ok(organization) => {
            report.tenant_id = Some(organization.id.clone());
            report.verified_domains = organization
                .verified_domains
                .iter()
                .map(|domain| domain.name.clone())
                .collect();
            recorder.finish(
                ORGANIZATION,
                started,
                StepStatus::Passed,
                format!(
                    "{} — tenant {}, verified domains {}. Is this the right tenant?",
                    organization
                        .display_name
                        .as_deref()
                        .unwrap_or("unnamed organisation"),
                    organization.id,
                    report.verified_domains.join(", ")
                ),
                vec![line],
            );
        }
        Err(error) => recorder.finish(
            ORGANIZATION,
            started,
            StepStatus::Failed,
            error.to_string(),
            vec![line],
        ),
    }

    let started = Instant::now();
    let users = graph.users(&tokens).await;
    let mut lines = vec![graph_line("GET", &at("users"), &users.as_ref().map(|_| ()))];
    let wanted = config.mailbox.to_ascii_lowercase();
    let mut user_id = None;
    match &users {
        Ok(users) => {
            report.users = Some(users.len());
            let by_upn = users.iter().find(|user| {
                user.user_principal_name
                    .as_deref()
                    .is_some_and(|upn| upn.eq_ignore_ascii_case(&wanted))
            });
            let by_alias = graph.users_by_proxy_address(&tokens, &config.mailbox).await;
            lines.push(graph_line(
                "GET",
                &format!("{}?$filter=proxyAddresses/any(…)", at("users")),
                &by_alias.as_ref().map(|_| ()),
            ));
            let alias = by_alias.ok().and_then(|found| found.into_iter().next());
            let found = by_upn.cloned().or(alias.clone());
            let fields = found.as_ref().map(|user| {
                format!(
                    "preferredLanguage {}, userType {}, accountEnabled {}",
                    user.preferred_language.as_deref().unwrap_or("-"),
                    user.user_type.as_deref().unwrap_or("-"),
                    user.account_enabled
                        .map_or("-".to_owned(), |enabled| enabled.to_string())
                )
            });
            match &found {
                Some(user) => {
                    user_id = Some(user.id.clone());
                    report.user_id = Some(user.id.clone());
                    recorder.finish(
                        USERS,
                        started,
                        StepStatus::Passed,
                        format!(
                            "{} users; {} found by {} ({})",
                            users.len(),
                            config.mailbox,
                            match (by_upn.is_some(), alias.is_some()) {
                                (true, true) => "UPN and proxyAddresses",
                                (true, false) => "UPN (not by proxyAddresses)",
                                _ => "proxyAddresses (an alias)",
                            },
                            fields.unwrap_or_default()
                        ),
                        lines,
                    );
                }
                None => recorder.finish(
                    USERS,
                    started,
                    StepStatus::Failed,
                    format!(
                        "{} users, none with {} as UPN or address",
                        users.len(),
                        config.mailbox
                    ),
                    lines,
                ),
            }
        }
        Err(error) => recorder.finish(USERS, started, StepStatus::Failed, error.to_string(), lines),
    }

    let started = Instant::now();
    let rooms = graph.places(&tokens, "room").await;
    let room_lists = graph.places(&tokens, "roomList").await;
    let lines = vec![
        graph_line(
            "GET",
            &at("places/microsoft.graph.room"),
            &rooms.as_ref().map(|_| ()),
        ),
        graph_line(
            "GET",
            &at("places/microsoft.graph.roomList"),
            &room_lists.as_ref().map(|_| ()),
        ),
    ];
    match (&rooms, &room_lists) {
        (Ok(rooms), Ok(lists)) => {
            report.rooms = Some(rooms.len());
            report.room_lists = Some(lists.len());
            let sample: Vec<String> = rooms
                .iter()
                .take(3)
                .map(|room| {
                    format!(
                        "{} <{}>",
                        room.display_name.as_deref().unwrap_or("room"),
                        room.email_address.as_deref().unwrap_or("-")
                    )
                })
                .collect();
            recorder.finish(
                ROOMS,
                started,
                StepStatus::Passed,
                format!(
                    "{} rooms, {} room lists; e.g. {}",
                    rooms.len(),
                    lists.len(),
                    sample.join(", ")
                ),
                lines,
            );
        }
        (Err(error), _) | (_, Err(error)) => {
            recorder.finish(ROOMS, started, StepStatus::Failed, error.to_string(), lines)
        }
    }

    // Not found in the directory: the calendar calls still tell a scope refusal from a missing user.
    let user = user_id.unwrap_or_else(|| config.mailbox.clone());
    let started = Instant::now();
    let calendars = graph.user_calendar_count(&tokens, &user).await;
    let view = graph
        .user_calendar_view_count(&tokens, &user, now, now + chrono::Duration::days(7))
        .await;
    let lines = vec![
        graph_line(
            "GET",
            &at(&format!("users/{user}/calendars")),
            &calendars.as_ref().map(|_| ()),
        ),
        graph_line(
            "GET",
            &at(&format!("users/{user}/calendarView")),
            &view.as_ref().map(|_| ()),
        ),
    ];
    facts.calendar = match (&calendars, &view) {
        (Ok(calendars), Ok(events)) => {
            recorder.finish(
                CALENDARS,
                started,
                StepStatus::Passed,
                format!("{calendars} calendar(s); {events} occurrence(s) in the next 7 days"),
                lines,
            );
            CalendarAnswer::Read
        }
        (Err(error), _) | (_, Err(error)) => {
            recorder.finish(
                CALENDARS,
                started,
                StepStatus::Failed,
                error.to_string(),
                lines,
            );
            classify(error)
        }
    };
    let token_has_calendars = holds(&report.roles, "Calendars.ReadWrite");
    // Is the app limited? RBAC for Applications grants never appear in the token's roles, so the evidence
    // is what it can read: whether a few other mailboxes' calendars answer (counted, never shown).
    if facts.calendar == CalendarAnswer::Refused && !token_has_calendars {
        facts.sample = Some(
            scope_probe(
                &graph,
                &tokens,
                &user,
                &wanted,
                &users,
                rooms.as_ref().ok(),
                recorder,
            )
            .await,
        );
    } else {
        recorder.skip(
            SCOPE,
            if token_has_calendars {
                "not needed: the token carries Calendars.ReadWrite, which no RBAC scope narrows"
            } else {
                "not needed: the calendar answered"
            },
        );
    }

    if config.write_test && facts.calendar == CalendarAnswer::Read {
        let started = Instant::now();
        let start = now + chrono::Duration::days(1);
        let created = graph
            .create_user_event(
                &tokens,
                &user,
                "calconnect write test",
                start,
                start + chrono::Duration::minutes(30),
            )
            .await;
        let mut lines = vec![graph_line(
            "POST",
            &at("users/…/events"),
            &created.as_ref().map(|_| ()),
        )];
        match created {
            Ok(id) => {
                facts.write = Some(true);
                let deleted = graph.delete_user_event(&tokens, &user, &id).await;
                lines.push(graph_line(
                    "DELETE",
                    &at("users/…/events/…"),
                    &deleted.as_ref().map(|_| ()),
                ));
                let (status, detail) = match deleted {
                    Ok(()) => (StepStatus::Passed, "created an event and deleted it again".to_owned()),
                    Err(error) => (StepStatus::Warning, format!("created an event but could not delete it ({error}): remove \"calconnect write test\"")),
                };
                recorder.finish(WRITE, started, status, detail, lines);
            }
            Err(error) => {
                facts.write = Some(false);
                recorder.finish(WRITE, started, StepStatus::Failed, error.to_string(), lines)
            }
        }
    }
    facts
}

/// Reads whether a few other mailboxes' calendars answer (rooms first, then enabled members), asking
/// for one calendar id each and never following pages; returns (readable, sampled). Only counts reach
/// the report: other people's addresses stay out of it.
async fn scope_probe(
    graph: &GraphClient,
    tokens: &StaticToken,
    user: &str,
    wanted: &str,
    users: &calconnect_graph::Result<Vec<calconnect_graph::app_only::DirectoryEntry>>,
    rooms: Option<&Vec<calconnect_graph::app_only::Place>>,
    recorder: &mut Recorder<'_>,
) -> (usize, usize) {
    let started = Instant::now();
    let mut candidates: Vec<String> = rooms
        .into_iter()
        .flatten()
        .filter_map(|room| room.email_address.clone())
        .collect();
    if let Ok(users) = users {
        candidates.extend(
            users
                .iter()
                .filter(|entry| {
                    entry.id != user
                        && entry.account_enabled != Some(false)
                        && entry.user_type.as_deref() != Some("Guest")
                        && !entry
                            .user_principal_name
                            .as_deref()
                            .is_some_and(|upn| upn.eq_ignore_ascii_case(wanted))
                })
                .map(|entry| entry.id.clone()),
        );
    }
    candidates.truncate(SCOPE_SAMPLE);
    let mut readable = 0;
    let mut lines = Vec::new();
    for candidate in &candidates {
        let outcome = graph.user_has_calendar(tokens, candidate).await;
        lines.push(graph_line(
            "GET",
            "users/…/calendars?$select=id&$top=1",
            &outcome.as_ref().map(|_| ()),
        ));
        if outcome.is_ok() {
            readable += 1;
        }
    }
    let sampled = candidates.len();
    let (status, detail) = if readable > 0 {
        (
            StepStatus::Warning,
            format!("{readable} of {sampled} sampled mailboxes are readable, the test mailbox is not: the app is limited to a scope that leaves it out"),
        )
    } else {
        (
            StepStatus::Failed,
            format!("none of {sampled} sampled mailboxes is readable: the app has no calendar access, or its scope holds none of them (not determined)"),
        )
    };
    recorder.finish(SCOPE, started, status, detail, lines);
    (readable, sampled)
}

/// The consent fix: the link grants every application permission the registration requests, so it says
/// so, and Calendars.ReadWrite is never asked for here (tenant-wide, it would undo any scope).
fn consent_fix(config: &GraphTestConfig, missing: &[String]) -> AdminFix {
    AdminFix {
        problem: format!("The app has no admin consent for {}", missing.join(", ")),
        changes: "a Privileged Role Administrator or Global Administrator of the tenant opens the link, signs in and grants the app's Microsoft Graph application permissions. The link grants every application permission the registration requests: if calendar access should be limited to some mailboxes, remove Calendars.ReadWrite from the registration first and grant it with RBAC for Applications instead. Run the test again afterwards, so a new token carries the roles".into(),
        command: None,
        link: Some(admin_consent_url(&config.authority, &config.client_id).to_string()),
        doc_url: ADMIN_CONSENT_DOC.into(),
    }
}

/// The level and its fixes, from the facts only.
fn verdict(report: &mut GraphReport, config: &GraphTestConfig, facts: &Facts) {
    let mailbox = config.mailbox.as_str();
    let token_has_calendars = holds(&report.roles, "Calendars.ReadWrite");
    // Consent is asked only for the directory and room permissions; calendar access has its own fixes.
    let consent: Vec<String> = report
        .missing_roles
        .iter()
        .filter(|role| role.as_str() != "Calendars.ReadWrite")
        .cloned()
        .collect();
    let rooms_missing = consent.iter().any(|role| role == "Place.Read.All");
    let write_known = token_has_calendars || facts.write == Some(true);
    let (level, summary) = match &facts.calendar {
        CalendarAnswer::Read if facts.write == Some(false) => (
            GraphLevel::Restricted,
            format!("Restricted: the calendars of {mailbox} are readable, but the write test was refused"),
        ),
        CalendarAnswer::Read if !write_known => (
            GraphLevel::Restricted,
            format!("Restricted: the calendars of {mailbox} are readable, but writing is not verified (the token carries no Calendars.ReadWrite; run the write test, or check the app's RBAC role with Test-ServicePrincipalAuthorization)"),
        ),
        CalendarAnswer::Read if consent.is_empty() => (
            GraphLevel::Full,
            format!("Full: the app holds every permission it needs, and the calendars of {mailbox} are readable and writable"),
        ),
        CalendarAnswer::Read if rooms_missing && consent.len() == 1 => (
            GraphLevel::Restricted,
            format!("Restricted: the calendars of {mailbox} are readable and writable, but without Place.Read.All rooms and room lists cannot be listed"),
        ),
        CalendarAnswer::Read => (
            GraphLevel::Restricted,
            format!("Restricted: the calendars of {mailbox} are readable and writable, but the app lacks {}", consent.join(", ")),
        ),
        CalendarAnswer::Refused if token_has_calendars => {
            report.user_in_scope = Some(false);
            report.fixes.push(access_policy_fix(&config.client_id, mailbox));
            (
                GraphLevel::Restricted,
                format!("Restricted: the token carries Calendars.ReadWrite for every mailbox, yet Exchange refused {mailbox} (403 ErrorAccessDenied): an application access policy leaves it out"),
            )
        }
        CalendarAnswer::Refused => match facts.sample {
            Some((readable, _)) if readable > 0 => {
                report.user_in_scope = Some(false);
                report.fixes.push(scope_fix(&config.client_id, report.user_id.as_deref(), mailbox));
                (
                    GraphLevel::Restricted,
                    format!("Restricted: the app works, but it is limited to a scope that leaves {mailbox} out (Graph answered 403 ErrorAccessDenied)"),
                )
            }
            _ => {
                report.fixes.push(rbac_check_fix(&config.client_id, mailbox));
                (
                    GraphLevel::None,
                    format!("Not determined: Exchange refused {mailbox}, and none of the sampled mailboxes is readable either; the app has no calendar access, or its scope holds none of them. Check the app's RBAC roles before granting anything"),
                )
            }
        },
        CalendarAnswer::Transient(reason) => (
            GraphLevel::None,
            format!("Not determined: Graph gave no permission decision for {mailbox} ({reason}); run the test again"),
        ),
        CalendarAnswer::Failed(reason) => (
            GraphLevel::None,
            format!("None: the calendars of {mailbox} could not be read: {reason}"),
        ),
        CalendarAnswer::NotAsked if !report.summary.is_empty() => (GraphLevel::None, report.summary.clone()),
        CalendarAnswer::NotAsked => (GraphLevel::None, format!("None: the calendars of {mailbox} were not reached")),
    };
    if facts.calendar == CalendarAnswer::Read {
        report.user_in_scope = Some(true);
        if !token_has_calendars && facts.write == Some(true) {
            // Held through RBAC for Applications, as the reads and the write prove.
            report
                .missing_roles
                .retain(|role| role != "Calendars.ReadWrite");
        }
    }
    if !consent.is_empty() {
        report.fixes.insert(0, consent_fix(config, &consent));
    }
    report.level = level;
    report.summary = summary;
    let (can, cannot): (&[&str], &[&str]) = match level {
        GraphLevel::Full => (
            &[
                "list users and rooms",
                "read and write events in the calendars it reaches",
            ],
            &[],
        ),
        GraphLevel::Restricted if report.user_in_scope == Some(false) => (
            &["read and write calendars of the mailboxes it is allowed"],
            &["reach this mailbox's calendar"],
        ),
        GraphLevel::Restricted if !write_known || facts.write == Some(false) => (
            &["read calendars"],
            &["write events (not verified or refused)"],
        ),
        GraphLevel::Restricted => (
            &["read and write calendars"],
            &["list rooms and room lists, or what the missing permissions give"],
        ),
        _ => (&[], &["read or write calendars"]),
    };
    report.vendor_can = can.iter().map(|line| (*line).to_owned()).collect();
    report.vendor_cannot = cannot.iter().map(|line| (*line).to_owned()).collect();
}

/// Read-only checks for "nothing readable": what RBAC for Applications grants the app.
fn rbac_check_fix(app: &str, mailbox: &str) -> AdminFix {
    let plain = crate::admin_report::is_client_id(app)
        && mailbox
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.@_".contains(c));
    AdminFix {
        problem: "It is not known whether the app may reach any calendar".to_owned(),
        changes: format!("changes nothing: lists the RBAC for Applications roles the app holds for {mailbox} and their scopes, and the assignments of Application Calendars.ReadWrite (Exchange Online PowerShell). Grant calendar access with a scoped assignment rather than tenant-wide consent"),
        command: plain.then(|| format!(
            "Test-ServicePrincipalAuthorization -Identity \"{app}\" -Resource \"{mailbox}\" | Format-Table RoleName,AllowedResourceScope,ScopeType,InScope\nGet-ManagementRoleAssignment -Role \"Application Calendars.ReadWrite\" | Format-List Name,RoleAssigneeName,CustomResourceScope"
        )),
        link: None,
        doc_url: APPLICATION_RBAC_DOC.into(),
    }
}

/// A tenant-wide Calendars.ReadWrite refused for one mailbox: a legacy application access policy is the
/// only mechanism that narrows an Entra grant (graph/auth-limit-mailbox-access); read it before changing.
fn access_policy_fix(app: &str, mailbox: &str) -> AdminFix {
    let plain = crate::admin_report::is_client_id(app)
        && mailbox
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.@_".contains(c));
    AdminFix {
        problem: format!("An application access policy leaves {mailbox} out of app {app}"),
        changes: format!("changes nothing: shows whether the policy lets the app reach {mailbox}, and the policies naming the app. For a RestrictAccess policy add {mailbox} to its ScopeName group; for a DenyAccess policy remove it. Application access policies are superseded: the lasting fix is RBAC for Applications with the Entra Calendars.ReadWrite consent removed. Policy changes can take over an hour to apply"),
        command: plain.then(|| format!(
            "Test-ApplicationAccessPolicy -Identity \"{mailbox}\" -AppId \"{app}\"\nGet-ApplicationAccessPolicy | Where-Object {{ $_.AppId -contains \"{app}\" }} | Format-List Identity,Description,ScopeName,AccessRight,AppId"
        )),
        link: None,
        doc_url: "https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access".into(),
    }
}

/// The mailbox is outside the app's RBAC scope: read what the app holds first, then add the mailbox — by
/// a one-mailbox scope named after its object id (unique, under 64 characters, no quoting) matched on
/// `ExternalDirectoryObjectId` (recipientfilter-properties: not PrimarySmtpAddress), assigned to the app's
/// service principal object (`-App` takes the ObjectId of Get-ServicePrincipal). Assignments add up.
fn scope_fix(app: &str, user_id: Option<&str>, mailbox: &str) -> AdminFix {
    let guid = |text: &str| crate::admin_report::is_client_id(text);
    let command = match user_id {
        Some(user_id) if guid(app) && guid(user_id) => Some(format!(
            "# Read-only first: what the app holds for this mailbox, and its current scopes\nTest-ServicePrincipalAuthorization -Identity \"{app}\" -Resource \"{user_id}\" | Format-Table RoleName,AllowedResourceScope,ScopeType,InScope\nGet-ManagementRoleAssignment -Role \"Application Calendars.ReadWrite\" | Format-List Name,RoleAssigneeName,CustomResourceScope\n# Then add the mailbox (or widen the app's scope with Set-ManagementScope instead):\nNew-ManagementScope -Name \"calconnect-graph-{user_id}\" -RecipientRestrictionFilter \"ExternalDirectoryObjectId -eq '{user_id}'\" -ErrorAction Stop; New-ManagementRoleAssignment -App (Get-ServicePrincipal -Identity \"{app}\").ObjectId -Role \"Application Calendars.ReadWrite\" -CustomResourceScope \"calconnect-graph-{user_id}\""
        )),
        _ => None,
    };
    AdminFix {
        problem: format!("The app's scope leaves {mailbox} out"),
        changes: format!(
            "shows what the app holds for {mailbox}, then creates a management scope holding only {mailbox} and grants the app Application Calendars.ReadWrite on it (Exchange Online PowerShell; role assignments add up). If the app's existing scope should simply include {mailbox}, widen it with Set-ManagementScope instead; if leaving {mailbox} out is intended, change nothing. Changes can take from 30 minutes to 2 hours to reach Graph"
        ),
        command,
        link: None,
        doc_url: APPLICATION_RBAC_DOC.into(),
    }
}

impl GraphReport {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
    }

    /// A plain-text report for a ticket.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "Graph Enterprise Connect app test");
        let _ = writeln!(text, "App (client) ID: {}", self.client_id);
        let _ = writeln!(text, "Tenant:          {}", self.tenant);
        let _ = writeln!(text, "Test mailbox:    {}", self.mailbox);
        let _ = writeln!(text, "Started:         {}", self.started_at);
        let _ = writeln!(text, "Level:           {}", self.level.label());
        let _ = writeln!(text);
        write_steps_and_fixes(&mut text, &self.steps, &self.summary, &self.fixes);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calconnect_identity::app_only::AppCredential;
    use secrecy::SecretString;

    fn config() -> GraphTestConfig {
        GraphTestConfig {
            authority: Authority::new(
                Url::parse("https://login.microsoftonline.com/").unwrap(),
                "contoso.com",
            )
            .unwrap(),
            graph: Url::parse("https://graph.microsoft.com/v1.0/").unwrap(),
            graph_resource: Url::parse("https://graph.microsoft.com/").unwrap(),
            client_id: "7283940a-5b6c-4d7e-89fa-0b1c2d3e4f60".into(),
            credential: AppCredential::Secret(SecretString::from("x")),
            mailbox: "lee@contoso.com".into(),
            write_test: false,
            timeout: Duration::from_secs(1),
        }
    }

    fn report(roles: &[&str]) -> GraphReport {
        GraphReport {
            client_id: String::new(),
            tenant: String::new(),
            mailbox: "lee@contoso.com".into(),
            started_at: String::new(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            missing_roles: REQUIRED_ROLES
                .iter()
                .filter(|(role, _)| !roles.contains(role))
                .map(|(role, _)| (*role).to_owned())
                .collect(),
            tenant_id: None,
            verified_domains: Vec::new(),
            users: None,
            rooms: None,
            room_lists: None,
            user_in_scope: None,
            user_id: Some("8d6a4c3e-1b2f-4a5d-9e8f-7a6b5c4d3e03".into()),
            steps: Vec::new(),
            level: GraphLevel::None,
            summary: String::new(),
            vendor_can: Vec::new(),
            vendor_cannot: Vec::new(),
            fixes: Vec::new(),
        }
    }

    const ALL: [&str; 4] = [
        "User.Read.All",
        "Organization.Read.All",
        "Place.Read.All",
        "Calendars.ReadWrite",
    ];
    const NO_CALENDARS: [&str; 3] = ["User.Read.All", "Organization.Read.All", "Place.Read.All"];

    fn consent_links(report: &GraphReport) -> usize {
        report.fixes.iter().filter(|fix| fix.link.is_some()).count()
    }

    #[test]
    fn a_tenant_wide_grant_refused_for_one_mailbox_points_at_an_access_policy_not_rbac() {
        let mut report = report(&ALL);
        verdict(
            &mut report,
            &config(),
            &Facts {
                calendar: CalendarAnswer::Refused,
                sample: None,
                write: None,
            },
        );
        assert_eq!(report.level, GraphLevel::Restricted);
        let command = report.fixes[0].command.as_deref().unwrap();
        assert!(
            command.starts_with("Test-ApplicationAccessPolicy -Identity \"lee@contoso.com\""),
            "{command}"
        );
        assert!(!command.contains("New-ManagementRoleAssignment"));
    }

    #[test]
    fn nothing_readable_is_not_determined_and_never_asks_consent_for_calendars() {
        let mut report = report(&NO_CALENDARS);
        verdict(
            &mut report,
            &config(),
            &Facts {
                calendar: CalendarAnswer::Refused,
                sample: Some((0, 5)),
                write: None,
            },
        );
        assert_eq!(report.level, GraphLevel::None);
        assert!(
            report.summary.starts_with("Not determined"),
            "{}",
            report.summary
        );
        assert_eq!(
            consent_links(&report),
            0,
            "tenant-wide Calendars.ReadWrite would undo any scope"
        );
        assert!(report.fixes[0]
            .command
            .as_deref()
            .unwrap()
            .starts_with("Test-ServicePrincipalAuthorization"));
    }

    #[test]
    fn reads_without_a_proven_write_are_restricted_and_a_passed_write_test_makes_full() {
        let mut unverified = report(&NO_CALENDARS);
        verdict(
            &mut unverified,
            &config(),
            &Facts {
                calendar: CalendarAnswer::Read,
                sample: None,
                write: None,
            },
        );
        assert_eq!(unverified.level, GraphLevel::Restricted);
        assert!(unverified.summary.contains("writing is not verified"));
        let mut proven = report(&NO_CALENDARS);
        verdict(
            &mut proven,
            &config(),
            &Facts {
                calendar: CalendarAnswer::Read,
                sample: None,
                write: Some(true),
            },
        );
        assert_eq!(proven.level, GraphLevel::Full, "{}", proven.summary);
        let mut refused = report(&ALL);
        verdict(
            &mut refused,
            &config(),
            &Facts {
                calendar: CalendarAnswer::Read,
                sample: None,
                write: Some(false),
            },
        );
        assert_eq!(refused.level, GraphLevel::Restricted);
    }

    #[test]
    fn a_throttled_answer_is_not_determined_and_fixes_nothing() {
        let mut report = report(&ALL);
        verdict(
            &mut report,
            &config(),
            &Facts {
                calendar: CalendarAnswer::Transient("throttled".into()),
                sample: None,
                write: None,
            },
        );
        assert_eq!(report.level, GraphLevel::None);
        assert!(report.summary.starts_with("Not determined"));
        assert!(report.fixes.is_empty());
    }

    #[test]
    fn outside_a_scope_the_fix_reads_first_and_names_the_object_id_and_the_service_principal() {
        let mut report = report(&NO_CALENDARS);
        verdict(
            &mut report,
            &config(),
            &Facts {
                calendar: CalendarAnswer::Refused,
                sample: Some((2, 5)),
                write: None,
            },
        );
        assert_eq!(report.level, GraphLevel::Restricted);
        let command = report.fixes[0].command.as_deref().unwrap();
        assert!(command.starts_with("# Read-only first"), "{command}");
        assert!(command.contains("-RecipientRestrictionFilter \"ExternalDirectoryObjectId -eq '8d6a4c3e-1b2f-4a5d-9e8f-7a6b5c4d3e03'\" -ErrorAction Stop"));
        assert!(command.contains("New-ManagementRoleAssignment -App (Get-ServicePrincipal -Identity \"7283940a-5b6c-4d7e-89fa-0b1c2d3e4f60\").ObjectId -Role \"Application Calendars.ReadWrite\""));
        assert_eq!(consent_links(&report), 0);
    }
}
