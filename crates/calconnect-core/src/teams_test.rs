//! The admin's Enterprise Teams test: can the Teams Enterprise app (application permissions
//! `User.ReadBasic.All OnlineMeetings.ReadWrite.All Organization.Read.All`, seed 002) create meetings on a
//! user's behalf? Steps, each timed and recorded: the app-only token and its `roles`; the organisation
//! (the expected tenant?); the test user; a meeting created on the user's behalf, then deleted. The
//! report exports as JSON and text and holds no secret.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

#[cfg(test)]
use crate::admin_report::holds;
use crate::admin_report::{graph_line, write_steps_and_fixes, Recorder};
pub use crate::admin_report::{
    is_client_id, AdminFix as TeamsFix, AdminProgress as TeamsProgress, AdminStep as TeamsStep,
    StepStatus,
};

use calconnect_graph::app_only::StaticToken;
use calconnect_graph::GraphClient;
use calconnect_identity::app_only::{admin_consent_url, AppCredential};
use calconnect_identity::Authority;
use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

/// The application permissions the test needs, with why (seed 002).
pub const REQUIRED_ROLES: [(&str, &str); 3] = [
    (
        "User.ReadBasic.All",
        "to find the Teams user a meeting is created for",
    ),
    (
        "OnlineMeetings.ReadWrite.All",
        "to create Teams meetings on behalf of authorised users",
    ),
    (
        "Organization.Read.All",
        "to check that the app is connected to the expected tenant",
    ),
];
const POLICY_DOC: &str =
    "https://learn.microsoft.com/en-us/graph/cloud-communication-online-meeting-application-access-policy";
/// "Grant tenant-wide admin consent to an application": the `/{tenant}/adminconsent?client_id=` URL.
const ADMIN_CONSENT_DOC: &str =
    "https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/grant-admin-consent";
/// The policy the fix creates.
const POLICY_NAME: &str = "calconnect-teams-meetings";

/// What the admin entered, and where Microsoft is.
pub struct TeamsTestConfig {
    /// The sign-in authority of the app's tenant (`--tenant-id`).
    pub authority: Authority,
    /// Graph with its version, e.g. `https://graph.microsoft.com/v1.0/`.
    pub graph: Url,
    /// The resource whose `.default` scope the token asks for (`https://graph.microsoft.com/`).
    pub graph_resource: Url,
    /// The app's client id.
    pub client_id: String,
    /// Its secret or certificate.
    pub credential: AppCredential,
    /// The test user's UPN.
    pub user: String,
    /// Timeout of one request.
    pub timeout: Duration,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamsReport {
    pub client_id: String,
    pub tenant: String,
    pub user: String,
    pub started_at: String,
    pub roles: Vec<String>,
    pub missing_roles: Vec<String>,
    pub organization: Option<String>,
    pub verified_domains: Vec<String>,
    /// The test meeting's join link (it was deleted again).
    pub join_web_url: Option<String>,
    pub steps: Vec<TeamsStep>,
    /// Whether a meeting could be created on the user's behalf.
    pub passed: bool,
    pub summary: String,
    pub fixes: Vec<TeamsFix>,
}

const TOKEN: (&str, &str) = (
    "token",
    "Sign in as the app (client credentials) and read its roles",
);
const ORGANIZATION: (&str, &str) = ("organization", "GET /organization: the tenant");
const USER: (&str, &str) = ("user", "GET /users/{upn}: the test user");
const MEETING: (&str, &str) = (
    "meeting",
    "POST /users/{id}/onlineMeetings: a meeting on the user's behalf",
);
const DELETE: (&str, &str) = ("delete", "DELETE the test meeting");

/// Runs the test. Never fails: every problem becomes a failed step and a fix.
pub async fn run(
    http: &reqwest::Client,
    config: &TeamsTestConfig,
    now: DateTime<Utc>,
    progress: &dyn TeamsProgress,
) -> TeamsReport {
    let mut recorder = Recorder {
        progress,
        steps: Vec::new(),
    };
    let mut report = TeamsReport {
        client_id: config.client_id.clone(),
        tenant: config.authority.tenant().to_owned(),
        user: config.user.clone(),
        started_at: now.to_rfc3339(),
        roles: Vec::new(),
        missing_roles: Vec::new(),
        organization: None,
        verified_domains: Vec::new(),
        join_web_url: None,
        steps: Vec::new(),
        passed: false,
        summary: String::new(),
        fixes: Vec::new(),
    };
    run_steps(http, config, now, &mut recorder, &mut report).await;
    for step in [TOKEN, ORGANIZATION, USER, MEETING, DELETE] {
        if !recorder.steps.iter().any(|done| done.id == step.0) {
            recorder.skip(step, "not run: an earlier step failed");
        }
    }
    report.steps = recorder.steps;
    if report.summary.is_empty() {
        report.summary = if report.passed && !report.missing_roles.is_empty() {
            format!(
                "The app created (and deleted) a test meeting for {}, but it lacks {}: see the admin consent fix",
                config.user,
                report.missing_roles.join(", ")
            )
        } else if report.passed {
            format!(
                "The app can create Teams meetings on behalf of {}: a test meeting was created and deleted again",
                config.user
            )
        } else {
            format!(
                "The app cannot create Teams meetings on behalf of {}",
                config.user
            )
        };
    }
    report
}

async fn run_steps(
    http: &reqwest::Client,
    config: &TeamsTestConfig,
    now: DateTime<Utc>,
    recorder: &mut Recorder<'_>,
    report: &mut TeamsReport,
) {
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
            return;
        }
    };
    if !report.missing_roles.is_empty() {
        report.fixes.push(TeamsFix {
            problem: format!("The app has no admin consent for {}", report.missing_roles.join(", ")),
            changes: "a Privileged Role Administrator or Global Administrator of the tenant opens the link, signs in and grants the app's Microsoft Graph application permissions; run the test again afterwards, so a new token carries the roles".into(),
            command: None,
            link: Some(admin_consent_url(&config.authority, &config.client_id).to_string()),
            doc_url: ADMIN_CONSENT_DOC.into(),
        });
    }

    let graph = GraphClient::new(config.graph.clone(), http.clone());
    let tokens = StaticToken(token.access_token);
    let started = Instant::now();
    let organization = graph.organization(&tokens).await;
    let line = graph_line(
        "GET",
        graph
            .base_url()
            .join("organization")
            .map(|url| url.to_string())
            .unwrap_or_default()
            .as_str(),
        &organization.as_ref().map(|_| ()),
    );
    match &organization {
        Ok(organization) => {
            let domains: Vec<String> = organization
                .verified_domains
                .iter()
                .map(|domain| domain.name.clone())
                .collect();
            let expected = config.authority.tenant();
            let matches = organization.id.eq_ignore_ascii_case(expected)
                || domains
                    .iter()
                    .any(|domain| domain.eq_ignore_ascii_case(expected));
            report.organization = organization.display_name.clone();
            report.verified_domains = domains.clone();
            recorder.finish(
                ORGANIZATION,
                started,
                if matches {
                    StepStatus::Passed
                } else {
                    StepStatus::Warning
                },
                format!(
                    "{} (tenant {}), verified domains {}{}",
                    organization
                        .display_name
                        .as_deref()
                        .unwrap_or("unnamed organisation"),
                    organization.id,
                    domains.join(", "),
                    if matches {
                        String::new()
                    } else {
                        format!(": {expected} is neither its id nor one of its domains")
                    }
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
    let user = graph.user(&tokens, &config.user).await;
    let line = graph_line(
        "GET",
        &format!("{}users/{}", graph.base_url(), config.user),
        &user.as_ref().map(|_| ()),
    );
    let user = match user {
        Ok(user) => {
            recorder.finish(
                USER,
                started,
                StepStatus::Passed,
                format!(
                    "found {} (id {})",
                    user.display_name.as_deref().unwrap_or(&config.user),
                    user.id
                ),
                vec![line],
            );
            user
        }
        Err(error) => {
            recorder.finish(
                USER,
                started,
                StepStatus::Failed,
                error.to_string(),
                vec![line],
            );
            report.summary = if report.missing_roles.is_empty() {
                format!(
                    "The app cannot find {} in {} ({}): {error}",
                    config.user,
                    report.organization.as_deref().unwrap_or("the organisation"),
                    config.authority.tenant()
                )
            } else {
                format!(
                    "The app lacks {} (see the admin consent fix), so it cannot find {}: {error}",
                    report.missing_roles.join(", "),
                    config.user
                )
            };
            return;
        }
    };

    let started = Instant::now();
    let start = now + chrono::Duration::hours(1);
    let meeting = graph
        .create_user_meeting(
            &tokens,
            &user.id,
            crate::teams::TEST_MEETING_SUBJECT,
            start,
            start + chrono::Duration::hours(1),
        )
        .await;
    let url = graph
        .user_meetings_url(&user.id, None)
        .map(|url| url.to_string())
        .unwrap_or_default();
    let line = graph_line("POST", &url, &meeting.as_ref().map(|_| ()));
    let meeting = match meeting {
        Ok(meeting) => {
            recorder.finish(
                MEETING,
                started,
                StepStatus::Passed,
                format!("join link {}", meeting.join_web_url),
                vec![line],
            );
            meeting
        }
        Err(error) => {
            let meeting_role_missing = report
                .missing_roles
                .iter()
                .any(|role| role.eq_ignore_ascii_case("OnlineMeetings.ReadWrite.All"));
            recorder.finish(
                MEETING,
                started,
                StepStatus::Failed,
                error.to_string(),
                vec![line],
            );
            match meeting_refusal(&error) {
                _ if meeting_role_missing => {
                    report.summary = format!(
                        "The app lacks OnlineMeetings.ReadWrite.All (see the admin consent fix), so Teams refused a meeting for {}",
                        config.user
                    );
                }
                Some(MeetingRefusal::NoPolicy) => {
                    report.summary = format!(
                        "Teams refused: no application access policy lets app {} create meetings on behalf of {}",
                        config.client_id, config.user
                    );
                    report
                        .fixes
                        .push(policy_fix(&config.client_id, &user.id, &config.user));
                }
                Some(MeetingRefusal::Other { code, message }) => {
                    report.summary = format!(
                        "Teams refused a meeting for {} ({code}): {message}",
                        config.user
                    );
                    report.fixes.push(TeamsFix {
                        problem: format!("{} may have no Teams licence, or is not enabled for Teams ({code})", config.user),
                        changes: "assign the user a licence that includes Microsoft Teams in the Microsoft 365 admin center, then run the test again".into(),
                        command: None,
                        link: None,
                        doc_url: "https://learn.microsoft.com/en-us/microsoftteams/assign-teams-licenses".into(),
                    });
                }
                None => {}
            }
            return;
        }
    };
    report.join_web_url = Some(meeting.join_web_url.clone());
    report.passed = true;

    let started = Instant::now();
    let deleted = graph
        .delete_user_meeting(&tokens, &user.id, &meeting.id)
        .await;
    let url = graph
        .user_meetings_url(&user.id, Some(&meeting.id))
        .map(|url| url.to_string())
        .unwrap_or_default();
    let line = graph_line("DELETE", &url, &deleted.as_ref().map(|_| ()));
    match deleted {
        Ok(()) => recorder.finish(
            DELETE,
            started,
            StepStatus::Passed,
            "deleted: the test left nothing behind".into(),
            vec![line],
        ),
        Err(error) => {
            recorder.finish(
                DELETE,
                started,
                StepStatus::Warning,
                format!("the test meeting could not be deleted ({error}); remove it in Teams (subject \"{}\")", crate::teams::TEST_MEETING_SUBJECT),
                vec![line],
            );
            report.summary = format!(
                "The app can create Teams meetings on behalf of {}, but the test meeting could not be deleted: remove \"{}\" in Teams",
                config.user,
                crate::teams::TEST_MEETING_SUBJECT
            );
        }
    }
}

/// Why Teams refused a meeting on a user's behalf (a 403).
#[derive(Debug, PartialEq, Eq)]
enum MeetingRefusal {
    /// No application access policy covers the user for this app.
    NoPolicy,
    /// Another 403: typically a user without a Teams licence.
    Other { code: String, message: String },
}

/// Graph's refusals without a covering policy: `Forbidden` "No Application Access Policy found for this
/// app" (cloud-communication-online-meeting-application-access-policy, "Errors", current), the older
/// `Unauthorized` "App … is not authorized to Create meeting on behalf of user …", and `General` "No
/// application access policy found for this app." (observed, msgraph-sdk-dotnet#2350).
fn meeting_refusal(error: &calconnect_graph::Error) -> Option<MeetingRefusal> {
    let calconnect_graph::Error::AccessDenied { code, message } = error else {
        return None;
    };
    let lower = message.to_ascii_lowercase();
    if lower.contains("application access policy")
        || lower.contains("not authorized to create meeting")
        || code.eq_ignore_ascii_case("Unauthorized")
    {
        return Some(MeetingRefusal::NoPolicy);
    }
    Some(MeetingRefusal::Other {
        code: code.clone(),
        message: if message.is_empty() {
            "no message".into()
        } else {
            message.clone()
        },
    })
}

/// A Teams application access policy for the app covering the user
/// (learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy; the
/// MicrosoftTeams module's Get-CsUserPolicyAssignment, Get-/New-/Set-/Grant-CsApplicationAccessPolicy).
///
/// A user holds one application access policy at a time and a direct grant replaces it (and overrides a
/// group or tenant-wide one), so the command first reads what covers the user: an existing policy gets
/// the app added (`-AppIds @{Add=…}`), and only a user with none is granted the calconnect policy, created
/// if missing and extended if it exists. `-Identity` is the user's object id, as the cmdlets document;
/// the app id was checked to be a GUID and the object id comes from Graph.
fn policy_fix(app: &str, user_id: &str, upn: &str) -> TeamsFix {
    let safe = |text: &str| text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let command = (safe(app) && safe(user_id)).then(|| {
        format!(
            "$user = \"{user_id}\"  # {upn}\n$current = @(Get-CsUserPolicyAssignment -Identity $user -PolicyType ApplicationAccessPolicy) | Select-Object -First 1\nif ($current) {{ Set-CsApplicationAccessPolicy -Identity $current.PolicyName -AppIds @{{Add=\"{app}\"}} }} else {{ if (Get-CsApplicationAccessPolicy -Identity \"{POLICY_NAME}\" -ErrorAction SilentlyContinue) {{ Set-CsApplicationAccessPolicy -Identity \"{POLICY_NAME}\" -AppIds @{{Add=\"{app}\"}} }} else {{ New-CsApplicationAccessPolicy -Identity \"{POLICY_NAME}\" -AppIds \"{app}\" -Description \"calconnect: Teams meetings on behalf of users\" }}; Grant-CsApplicationAccessPolicy -PolicyName \"{POLICY_NAME}\" -Identity $user }}",
            upn = upn.replace(['\n', '\r'], " "),
        )
    });
    TeamsFix {
        problem: format!("No Teams application access policy lets app {app} create meetings for {upn}"),
        changes: format!(
            "reads the application access policy that covers {upn} now; if there is one, it adds the app to it; otherwise it grants the policy {POLICY_NAME} (created with the app, or the app added to it) to {upn} alone. If a tenant-wide (-Global) policy gives other apps access, a direct grant would override it for {upn}: add the app to that policy instead (Set-CsApplicationAccessPolicy -Identity <that policy> -AppIds @{{Add=\"{app}\"}}). Run it in Teams PowerShell (Connect-MicrosoftTeams); changes can take up to 30 minutes to reach Microsoft Graph, then run the test again"
        ),
        command,
        link: None,
        doc_url: POLICY_DOC.into(),
    }
}

impl TeamsReport {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
    }

    /// A plain-text report for a ticket.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "Teams Enterprise app test");
        let _ = writeln!(text, "App (client) ID: {}", self.client_id);
        let _ = writeln!(text, "Tenant:          {}", self.tenant);
        let _ = writeln!(text, "Test user:       {}", self.user);
        let _ = writeln!(text, "Started:         {}", self.started_at);
        let _ = writeln!(text);
        write_steps_and_fixes(&mut text, &self.steps, &self.summary, &self.fixes);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broader_permissions_count_as_held_and_roles_compare_case_insensitively() {
        let roles = vec!["user.read.all".to_owned(), "Directory.Read.All".to_owned()];
        assert!(holds(&roles, "User.ReadBasic.All"));
        assert!(holds(&roles, "Organization.Read.All"));
        assert!(!holds(&roles, "OnlineMeetings.ReadWrite.All"));
    }

    #[test]
    fn client_ids_must_be_guids_before_they_reach_a_command() {
        assert!(is_client_id("50617283-94a5-4b6c-97e8-f90a1b2c3d4e"));
        for bad in [
            "",
            "calconnect",
            "50617283-94a5-4b6c-97e8-f90a1b2c3d4",
            "5061728\"-94a5-4b6c-97e8-f90a1b2c3d4e",
        ] {
            assert!(!is_client_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_current_and_the_older_policy_refusals_are_both_recognised_and_a_licence_403_is_not() {
        let denied = |code: &str, message: &str| calconnect_graph::Error::AccessDenied {
            code: code.into(),
            message: message.into(),
        };
        assert_eq!(
            meeting_refusal(&denied(
                "Forbidden",
                "No Application Access Policy found for this app"
            )),
            Some(MeetingRefusal::NoPolicy)
        );
        assert_eq!(
            meeting_refusal(&denied(
                "Unauthorized",
                "App x is not authorized to Create meeting on behalf of user y"
            )),
            Some(MeetingRefusal::NoPolicy)
        );
        assert_eq!(
            meeting_refusal(&denied(
                "General",
                "No application access policy found for this app."
            )),
            Some(MeetingRefusal::NoPolicy)
        );
        assert!(matches!(
            meeting_refusal(&denied("Forbidden", "")),
            Some(MeetingRefusal::Other { .. })
        ));
    }

    #[test]
    fn the_policy_fix_reads_what_covers_the_user_before_granting_and_names_the_object_id() {
        let fix = policy_fix(
            "50617283-94a5-4b6c-97e8-f90a1b2c3d4e",
            "6d4a6c3e-1b2f-4a5d-9e8f-7a6b5c4d3e01",
            "lee@contoso.com",
        );
        let command = fix.command.unwrap();
        assert!(command.starts_with("$user = \"6d4a6c3e-1b2f-4a5d-9e8f-7a6b5c4d3e01\"  # lee@contoso.com\n$current = @(Get-CsUserPolicyAssignment -Identity $user -PolicyType ApplicationAccessPolicy)"), "{command}");
        assert!(command.contains("if ($current) { Set-CsApplicationAccessPolicy -Identity $current.PolicyName -AppIds @{Add=\"50617283-94a5-4b6c-97e8-f90a1b2c3d4e\"} }"));
        assert!(command.ends_with("Grant-CsApplicationAccessPolicy -PolicyName \"calconnect-teams-meetings\" -Identity $user }"), "{command}");
        assert!(fix.changes.contains("up to 30 minutes"));
        // An id that is not plain cannot reach a command.
        assert!(policy_fix("x\"; Remove-Everything; \"", "id", "u")
            .command
            .is_none());
    }
}
