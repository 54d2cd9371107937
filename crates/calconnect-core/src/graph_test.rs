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
        steps: Vec::new(),
        level: GraphLevel::None,
        summary: String::new(),
        vendor_can: Vec::new(),
        vendor_cannot: Vec::new(),
        fixes: Vec::new(),
    };
    let calendars_read = run_steps(http, config, now, &mut recorder, &mut report).await;
    for step in [TOKEN, ORGANIZATION, USERS, ROOMS, CALENDARS, SCOPE, WRITE] {
        if !recorder.steps.iter().any(|done| done.id == step.0) {
            let why = if step.0 == WRITE.0 && !config.write_test {
                "not run: read only (--write-test creates and deletes one event)"
            } else if step.0 == SCOPE.0 {
                "not needed: the token carries Calendars.ReadWrite and the calendars are readable"
            } else {
                "not run: an earlier step failed"
            };
            recorder.skip(step, why);
        }
    }
    report.steps = recorder.steps;
    verdict(&mut report, config, calendars_read);
    report
}

/// Runs the steps; returns whether the test user's calendars could be read.
async fn run_steps(
    http: &reqwest::Client,
    config: &GraphTestConfig,
    now: DateTime<Utc>,
    recorder: &mut Recorder<'_>,
    report: &mut GraphReport,
) -> bool {
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
            return false;
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
    let calendars_read = match (&calendars, &view) {
        (Ok(calendars), Ok(events)) => {
            report.user_in_scope = Some(true);
            recorder.finish(
                CALENDARS,
                started,
                StepStatus::Passed,
                format!("{calendars} calendar(s); {events} occurrence(s) in the next 7 days"),
                lines,
            );
            true
        }
        (Err(error), _) | (_, Err(error)) => {
            recorder.finish(
                CALENDARS,
                started,
                StepStatus::Failed,
                error.to_string(),
                lines,
            );
            false
        }
    };
    scope_probe(
        &graph,
        &tokens,
        &at,
        config,
        &user,
        &wanted,
        &users,
        &calendars,
        calendars_read,
        recorder,
        report,
    )
    .await;

    if config.write_test && calendars_read {
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
            &at(&format!("users/{user}/events")),
            &created.as_ref().map(|_| ()),
        )];
        match created {
            Ok(id) => {
                let deleted = graph.delete_user_event(&tokens, &user, &id).await;
                lines.push(graph_line(
                    "DELETE",
                    &at(&format!("users/{user}/events/…")),
                    &deleted.as_ref().map(|_| ()),
                ));
                let (status, detail) = match deleted {
                    Ok(()) => (StepStatus::Passed, "created an event and deleted it again".to_owned()),
                    Err(error) => (StepStatus::Warning, format!("created an event but could not delete it ({error}): remove \"calconnect write test\"")),
                };
                recorder.finish(WRITE, started, status, detail, lines);
            }
            Err(error) => {
                recorder.finish(WRITE, started, StepStatus::Failed, error.to_string(), lines)
            }
        }
    }
    calendars_read
}

/// Is the app limited? RBAC for Applications grants never appear in the token's roles, so the only
/// evidence is what it can read: other users' calendars (a few from the directory) tell "limited to a
/// scope that leaves the test mailbox out" from "no calendar access at all" (application-rbac).
#[allow(clippy::too_many_arguments)]
async fn scope_probe(
    graph: &GraphClient,
    tokens: &StaticToken,
    at: &(dyn Fn(&str) -> String + Sync),
    config: &GraphTestConfig,
    user: &str,
    wanted: &str,
    users: &calconnect_graph::Result<Vec<calconnect_graph::app_only::DirectoryEntry>>,
    calendars: &calconnect_graph::Result<usize>,
    calendars_read: bool,
    recorder: &mut Recorder<'_>,
    report: &mut GraphReport,
) {
    let token_has_calendars = holds(&report.roles, "Calendars.ReadWrite");
    if calendars_read && token_has_calendars {
        return;
    }
    let started = Instant::now();
    let others: Vec<String> = users
        .as_ref()
        .map(|users| {
            users
                .iter()
                .filter(|entry| {
                    entry.id != user
                        && !entry
                            .user_principal_name
                            .as_deref()
                            .is_some_and(|upn| upn.eq_ignore_ascii_case(wanted))
                })
                .filter_map(|entry| entry.mail.clone())
                .take(SCOPE_SAMPLE)
                .collect()
        })
        .unwrap_or_default();
    let mut reachable = Vec::new();
    let mut lines = Vec::new();
    for other in &others {
        let outcome = graph.user_calendar_count(tokens, other).await;
        lines.push(graph_line(
            "GET",
            &at(&format!("users/{other}/calendars")),
            &outcome.as_ref().map(|_| ()),
        ));
        if outcome.is_ok() {
            reachable.push(other.clone());
        }
    }
    // 403 ErrorAccessDenied: Exchange refused the mailbox (outside the app's scope).
    let test_refused = matches!(calendars, Err(calconnect_graph::Error::AccessDenied { code, .. }) if code.eq_ignore_ascii_case("ErrorAccessDenied"));
    let mailbox = &config.mailbox;
    let (status, detail) = match (calendars_read, reachable.is_empty()) {
        (true, _) => (
            StepStatus::Passed,
            "the token carries no Calendars.ReadWrite, yet the calendars are readable: the access comes from RBAC for Applications in Exchange Online".to_owned(),
        ),
        (false, false) if test_refused => {
            report.user_in_scope = Some(false);
            (
                StepStatus::Warning,
                format!(
                    "the app reads the calendars of {} but not of {mailbox}: it is limited to a scope that leaves {mailbox} out",
                    reachable.join(", ")
                ),
            )
        }
        (false, true) => (
            StepStatus::Failed,
            format!(
                "none of {} other user(s) has a readable calendar either: the app has no calendar access (no consented Calendars.ReadWrite, no RBAC for Applications assignment)",
                others.len()
            ),
        ),
        (false, false) => (
            StepStatus::Failed,
            format!(
                "other users' calendars are readable ({}), but {mailbox} gave an answer its scope does not explain",
                reachable.join(", ")
            ),
        ),
    };
    recorder.finish(SCOPE, started, status, detail, lines);
    if calendars_read {
        // Held through RBAC for Applications, so not missing.
        report
            .missing_roles
            .retain(|role| role != "Calendars.ReadWrite");
    }
}

/// The level and its fixes, from the steps only.
fn verdict(report: &mut GraphReport, config: &GraphTestConfig, calendars_read: bool) {
    // Calendars.ReadWrite may come from RBAC for Applications instead of consent (the scope step removed
    // it from the missing roles when calendars were readable): ask for consent for what is still missing.
    // Outside a scope, a missing Calendars.ReadWrite is the scope's doing, not consent's.
    let consent: Vec<String> = report
        .missing_roles
        .iter()
        .filter(|role| {
            !(role.as_str() == "Calendars.ReadWrite" && report.user_in_scope == Some(false))
        })
        .cloned()
        .collect();
    if !consent.is_empty() {
        report.fixes.push(AdminFix {
            problem: format!("The app has no admin consent for {}", consent.join(", ")),
            changes: "a Privileged Role Administrator or Global Administrator of the tenant opens the link, signs in and grants the app's Microsoft Graph application permissions; run the test again afterwards, so a new token carries the roles. Calendars.ReadWrite can instead come from RBAC for Applications, scoped to the mailboxes the vendor needs".into(),
            command: None,
            link: Some(admin_consent_url(&config.authority, &config.client_id).to_string()),
            doc_url: ADMIN_CONSENT_DOC.into(),
        });
    }
    let rooms_missing = report
        .missing_roles
        .iter()
        .any(|role| role == "Place.Read.All");
    let mailbox = &config.mailbox;
    let (level, summary) = match (calendars_read, report.user_in_scope) {
        (true, _) if report.missing_roles.is_empty() => (
            GraphLevel::Full,
            format!("Full: the app holds every role, {mailbox} is in its scope and their calendars are readable"),
        ),
        (true, _) if rooms_missing && report.missing_roles.len() == 1 => (
            GraphLevel::Restricted,
            format!("Restricted: calendars of {mailbox} are readable, but without Place.Read.All rooms and room lists cannot be listed"),
        ),
        (true, _) => (
            GraphLevel::Restricted,
            format!("Restricted: calendars of {mailbox} are readable, but the app lacks {}", report.missing_roles.join(", ")),
        ),
        (false, Some(false)) => (
            GraphLevel::Restricted,
            format!("Restricted: the app works, but it is limited to a scope that leaves {mailbox} out (Graph answered 403 ErrorAccessDenied)"),
        ),
        _ if !report.summary.is_empty() => (GraphLevel::None, report.summary.clone()),
        _ => (GraphLevel::None, format!("None: the app cannot read the calendars of {mailbox}")),
    };
    report.level = level;
    report.summary = summary;
    let (can, cannot): (&[&str], &[&str]) = match level {
        GraphLevel::Full => (
            &[
                "list users and rooms",
                "read and write events in every calendar in its scope",
            ],
            &[],
        ),
        GraphLevel::Restricted if report.user_in_scope == Some(false) => (
            &["read and write calendars of the users inside its scope"],
            &["reach this user's calendar"],
        ),
        GraphLevel::Restricted => (
            &["read and write calendars"],
            &["list rooms and room lists, or what the missing roles give"],
        ),
        _ => (&[], &["read or write calendars"]),
    };
    report.vendor_can = can.iter().map(|line| (*line).to_owned()).collect();
    report.vendor_cannot = cannot.iter().map(|line| (*line).to_owned()).collect();
    if report.user_in_scope == Some(false) {
        report.fixes.push(scope_fix(&config.client_id, mailbox));
    }
}

/// The user is outside the app's scope: add them with RBAC for Applications (first), or check the legacy
/// application access policy. Permissions add up: an unscoped Calendars.ReadWrite consented in Entra
/// reaches every mailbox whatever the scope says (application-rbac).
fn scope_fix(app: &str, mailbox: &str) -> AdminFix {
    let plain = |text: &str| {
        text.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.@_'".contains(c))
    };
    let command = (crate::admin_report::is_client_id(app) && plain(mailbox)).then(|| {
        let name = format!("calconnect-graph-{}", mailbox.split('@').next().unwrap_or("user"));
        format!(
            "New-ManagementScope -Name \"{name}\" -RecipientRestrictionFilter \"PrimarySmtpAddress -eq '{address}'\"; New-ManagementRoleAssignment -App \"{app}\" -Role \"Application Calendars.ReadWrite\" -CustomResourceScope \"{name}\"",
            address = mailbox.replace('\'', "''"),
        )
    });
    AdminFix {
        problem: format!("The app's scope leaves {mailbox} out"),
        changes: format!(
            "creates a management scope holding {mailbox} and grants the app Application Calendars.ReadWrite on it (RBAC for Applications, Exchange Online PowerShell; the app needs a service principal there: New-ServicePrincipal). If the app is limited by the older application access policy instead, check it with Test-ApplicationAccessPolicy -Identity \"{mailbox}\" -AppId \"{app}\" and add {mailbox} to the policy's group. If leaving {mailbox} out is intended, change nothing"
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
