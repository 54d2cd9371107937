//! The admin's Teams Enterprise app test against the sandbox: a secret and a certificate, a user inside
//! and one outside the Teams application access policy, and an app without the roles.

use calconnect_core::teams_test::{run, StepStatus, TeamsReport, TeamsTestConfig};
use calconnect_identity::app_only::{AppCredential, CertificateCredential};
use calconnect_identity::{Authority, Trust};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use secrecy::SecretString;

async fn sandbox() -> SandboxHandle {
    Sandbox::builder()
        .tls(true)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap()
}

async fn test(
    sandbox: &SandboxHandle,
    client_id: &str,
    credential: AppCredential,
    user: &str,
) -> TeamsReport {
    let http = calconnect_identity::http_client(&Trust::only(sandbox.ca_pem().unwrap())).unwrap();
    let config = TeamsTestConfig {
        authority: Authority::new(sandbox.base_url(), demo::DOMAIN).unwrap(),
        graph: sandbox.base_url().join("v1.0/").unwrap(),
        graph_resource: url::Url::parse("https://graph.microsoft.com/").unwrap(),
        client_id: client_id.into(),
        credential,
        user: user.into(),
        timeout: std::time::Duration::from_secs(10),
    };
    let report = run(
        &http,
        &config,
        chrono::Utc::now(),
        &|_: &calconnect_core::teams_test::TeamsStep| {},
    )
    .await;
    for export in [report.to_json(), report.to_text()] {
        assert!(
            !export.contains(demo::TEAMS_ENTERPRISE_APP_CLIENT_SECRET),
            "the secret leaked"
        );
        assert!(!export.contains("PRIVATE KEY"), "the key leaked");
        assert!(!export.contains("eyJ"), "a token or assertion leaked");
    }
    report
}

fn secret() -> AppCredential {
    AppCredential::Secret(SecretString::from(demo::TEAMS_ENTERPRISE_APP_CLIENT_SECRET))
}

fn status(report: &TeamsReport, id: &str) -> StepStatus {
    report
        .steps
        .iter()
        .find(|step| step.id == id)
        .unwrap_or_else(|| panic!("{id}:\n{}", report.to_text()))
        .status
}

#[tokio::test]
async fn inside_the_policy_a_meeting_is_created_for_the_user_and_deleted() {
    let sandbox = sandbox().await;
    let report = test(
        &sandbox,
        demo::TEAMS_ENTERPRISE_APP_CLIENT_ID,
        secret(),
        demo::ADELE,
    )
    .await;
    assert!(report.passed, "{}", report.to_text());
    assert!(report.missing_roles.is_empty());
    assert_eq!(report.roles.len(), 3);
    assert_eq!(
        status(&report, "organization"),
        StepStatus::Passed,
        "contoso.com is a verified domain"
    );
    assert!(report
        .verified_domains
        .iter()
        .any(|domain| domain == demo::DOMAIN));
    assert_eq!(status(&report, "delete"), StepStatus::Passed);
    assert!(report
        .join_web_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://teams.microsoft.com/l/meetup-join/")));
    assert!(report.fixes.is_empty());
}

#[tokio::test]
async fn a_certificate_credential_signs_in_as_well() {
    let sandbox = sandbox().await;
    let certificate = CertificateCredential::from_pem(&SecretString::from(
        demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM,
    ))
    .unwrap();
    let report = test(
        &sandbox,
        demo::TEAMS_ENTERPRISE_APP_CLIENT_ID,
        AppCredential::Certificate(certificate),
        demo::ADELE,
    )
    .await;
    assert!(report.passed, "{}", report.to_text());
}

#[tokio::test]
async fn outside_the_policy_the_fix_is_the_application_access_policy_for_that_user() {
    let sandbox = sandbox().await;
    let report = test(
        &sandbox,
        demo::TEAMS_ENTERPRISE_APP_CLIENT_ID,
        secret(),
        demo::LEE,
    )
    .await;
    assert!(!report.passed);
    assert_eq!(status(&report, "meeting"), StepStatus::Failed);
    assert_eq!(status(&report, "delete"), StepStatus::Skipped);
    let command = report.fixes[0].command.as_deref().unwrap();
    // The user's object id, with the UPN as a comment; what covers the user is read before any grant.
    assert!(
        command.starts_with("$user = \"") && command.contains(&format!("  # {}\n", demo::LEE)),
        "{command}"
    );
    assert!(command.contains(
        "Get-CsUserPolicyAssignment -Identity $user -PolicyType ApplicationAccessPolicy"
    ));
    assert!(command.contains(&format!(
        "New-CsApplicationAccessPolicy -Identity \"calconnect-teams-meetings\" -AppIds \"{}\"",
        demo::TEAMS_ENTERPRISE_APP_CLIENT_ID
    )));
    assert!(command.contains(
        "Grant-CsApplicationAccessPolicy -PolicyName \"calconnect-teams-meetings\" -Identity $user"
    ));
    // Granting replaces a user's policy: an existing one gets the app added instead.
    assert!(command.contains(
        "if ($current) { Set-CsApplicationAccessPolicy -Identity $current.PolicyName -AppIds @{Add="
    ));
    assert!(
        report.summary.contains("no application access policy"),
        "{}",
        report.summary
    );
}

#[tokio::test]
async fn an_app_without_the_teams_roles_is_sent_to_admin_consent() {
    let sandbox = sandbox().await;
    // The EWS app holds no Graph application permissions.
    let report = test(
        &sandbox,
        demo::EWS_APP_CLIENT_ID,
        AppCredential::Secret(SecretString::from(demo::EWS_APP_CLIENT_SECRET)),
        demo::ADELE,
    )
    .await;
    assert!(!report.passed);
    assert_eq!(status(&report, "token"), StepStatus::Failed);
    assert_eq!(report.missing_roles.len(), 3, "{}", report.to_text());
    let consent = report
        .fixes
        .iter()
        .find_map(|fix| fix.link.as_deref())
        .expect("an admin-consent link");
    // The meeting is refused because the role is missing, not for want of a policy.
    assert!(
        report.fixes.iter().all(|fix| fix
            .command
            .as_deref()
            .is_none_or(|command| !command.contains("CsApplicationAccessPolicy"))),
        "{}",
        report.to_text()
    );
    assert!(
        consent.ends_with(&format!(
            "/contoso.com/adminconsent?client_id={}",
            demo::EWS_APP_CLIENT_ID
        )),
        "{consent}"
    );
}

#[tokio::test]
async fn a_wrong_secret_stops_at_the_token_with_entras_reason() {
    let sandbox = sandbox().await;
    let report = test(
        &sandbox,
        demo::TEAMS_ENTERPRISE_APP_CLIENT_ID,
        AppCredential::Secret(SecretString::from("not-the-secret")),
        demo::ADELE,
    )
    .await;
    assert!(!report.passed);
    assert_eq!(status(&report, "token"), StepStatus::Failed);
    assert_eq!(status(&report, "meeting"), StepStatus::Skipped);
    assert!(!report.to_json().contains("not-the-secret"));
}
