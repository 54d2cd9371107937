//! The admin's Graph Enterprise Connect test against the sandbox: Full, out of an RBAC for Applications
//! scope (Restricted), without Place.Read.All (Restricted), a certificate credential, a wrong secret.

use calconnect_core::admin_report::StepStatus;
use calconnect_core::graph_test::{run, GraphLevel, GraphReport, GraphTestConfig};
use calconnect_identity::app_only::{AppCredential, CertificateCredential};
use calconnect_identity::{Authority, Trust};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle, Tenant};
use secrecy::SecretString;

async fn sandbox(tenant: Tenant) -> SandboxHandle {
    Sandbox::builder()
        .tenant(tenant)
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
    mailbox: &str,
) -> GraphReport {
    test_with(sandbox, client_id, credential, mailbox, false).await
}

async fn test_with(
    sandbox: &SandboxHandle,
    client_id: &str,
    credential: AppCredential,
    mailbox: &str,
    write_test: bool,
) -> GraphReport {
    let http = calconnect_identity::http_client(&Trust::only(sandbox.ca_pem().unwrap())).unwrap();
    let config = GraphTestConfig {
        authority: Authority::new(sandbox.base_url(), demo::DOMAIN).unwrap(),
        graph: sandbox.base_url().join("v1.0/").unwrap(),
        graph_resource: url::Url::parse("https://graph.microsoft.com/").unwrap(),
        client_id: client_id.into(),
        credential,
        mailbox: mailbox.into(),
        write_test,
        timeout: std::time::Duration::from_secs(10),
    };
    let report = run(
        &http,
        &config,
        chrono::Utc::now(),
        &|_: &calconnect_core::admin_report::AdminStep| {},
    )
    .await;
    for export in [report.to_json(), report.to_text()] {
        assert!(
            !export.contains(demo::GRAPH_ENTERPRISE_APP_CLIENT_SECRET),
            "the secret leaked"
        );
        assert!(
            !export.contains("PRIVATE KEY") && !export.contains("eyJ"),
            "a key or token leaked"
        );
    }
    report
}

fn secret() -> AppCredential {
    AppCredential::Secret(SecretString::from(demo::GRAPH_ENTERPRISE_APP_CLIENT_SECRET))
}

fn status(report: &GraphReport, id: &str) -> StepStatus {
    report
        .steps
        .iter()
        .find(|step| step.id == id)
        .unwrap_or_else(|| panic!("{id}:\n{}", report.to_text()))
        .status
}

#[tokio::test]
async fn a_tenant_wide_app_is_full_and_sees_users_rooms_and_calendars() {
    let sandbox = sandbox(Tenant::demo()).await;
    let report = test(
        &sandbox,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        secret(),
        demo::LEE,
    )
    .await;
    assert_eq!(report.level, GraphLevel::Full, "{}", report.to_text());
    assert!(
        report.users.is_some_and(|users| users >= 4),
        "paged through every user"
    );
    assert!(report.rooms.is_some_and(|rooms| rooms >= 2) && report.room_lists == Some(1));
    assert_eq!(status(&report, "scope"), StepStatus::Skipped);
    assert!(report.fixes.is_empty(), "{}", report.to_text());
}

#[tokio::test]
async fn rbac_for_applications_scoping_leaves_lee_out_and_says_so() {
    let sandbox = sandbox(Tenant::demo_exchange_online()).await;
    // The token carries no Calendars.ReadWrite (RBAC grants never do): adele's calendar reads, and only a
    // write test proves the write half.
    let read_only = test(
        &sandbox,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        secret(),
        demo::ADELE,
    )
    .await;
    assert_eq!(
        read_only.level,
        GraphLevel::Restricted,
        "{}",
        read_only.to_text()
    );
    assert!(
        read_only.summary.contains("writing is not verified"),
        "{}",
        read_only.summary
    );
    let inside = test_with(
        &sandbox,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        secret(),
        demo::ADELE,
        true,
    )
    .await;
    assert_eq!(inside.level, GraphLevel::Full, "{}", inside.to_text());
    assert_eq!(
        status(&inside, "token"),
        StepStatus::Passed,
        "RBAC holds the role the token lacks"
    );
    assert!(
        inside.fixes.is_empty(),
        "no consent is needed: {}",
        inside.to_text()
    );

    let outside = test(
        &sandbox,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        secret(),
        demo::LEE,
    )
    .await;
    assert_eq!(
        outside.level,
        GraphLevel::Restricted,
        "{}",
        outside.to_text()
    );
    assert_eq!(outside.user_in_scope, Some(false));
    assert!(
        outside.summary.contains("scope that leaves"),
        "{}",
        outside.summary
    );
    let scope = outside
        .steps
        .iter()
        .find(|step| step.id == "scope")
        .unwrap();
    assert!(
        scope.detail.contains("of")
            && !scope.detail.contains(demo::ADELE)
            && !scope.detail.contains(demo::MEGAN),
        "only counts: {}",
        scope.detail
    );
    let command = outside
        .fixes
        .iter()
        .find_map(|fix| fix.command.as_deref())
        .expect("a scope fix");
    assert!(
        command.contains("ExternalDirectoryObjectId -eq '"),
        "{command}"
    );
    assert!(command.contains(&format!("(Get-ServicePrincipal -Identity \"{}\").ObjectId -Role \"Application Calendars.ReadWrite\"", demo::GRAPH_ENTERPRISE_APP_CLIENT_ID)), "{command}");
    assert!(
        outside.fixes.iter().all(|fix| fix.link.is_none()),
        "outside a scope is no consent problem"
    );
}

#[tokio::test]
async fn without_place_read_all_rooms_cannot_be_listed_and_the_level_is_restricted() {
    let sandbox = sandbox(Tenant::demo()).await;
    let report = test(
        &sandbox,
        demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_ID,
        AppCredential::Secret(SecretString::from(
            demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_SECRET,
        )),
        demo::ADELE,
    )
    .await;
    assert_eq!(report.level, GraphLevel::Restricted, "{}", report.to_text());
    assert!(
        report.summary.contains("Place.Read.All"),
        "{}",
        report.summary
    );
    assert_eq!(status(&report, "rooms"), StepStatus::Failed);
    assert!(report.fixes.iter().any(|fix| fix
        .link
        .as_deref()
        .is_some_and(|link| link.contains("/adminconsent?client_id="))));
}

#[tokio::test]
async fn the_shared_certificate_signs_in_and_a_wrong_secret_stops_at_the_token() {
    let sandbox = sandbox(Tenant::demo()).await;
    let certificate = CertificateCredential::from_pem(&SecretString::from(
        demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM,
    ))
    .unwrap();
    let report = test(
        &sandbox,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        AppCredential::Certificate(certificate),
        demo::ADELE,
    )
    .await;
    assert_eq!(report.level, GraphLevel::Full, "{}", report.to_text());

    let wrong = test(
        &sandbox,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        AppCredential::Secret(SecretString::from("wrong")),
        demo::ADELE,
    )
    .await;
    assert_eq!(wrong.level, GraphLevel::None);
    assert_eq!(status(&wrong, "token"), StepStatus::Failed);
    assert_eq!(status(&wrong, "calendars"), StepStatus::Skipped);
}

#[tokio::test]
async fn the_write_test_creates_one_event_and_deletes_it_again() {
    let sandbox = sandbox(Tenant::demo()).await;
    let report = test_with(
        &sandbox,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        secret(),
        demo::ADELE,
        true,
    )
    .await;
    assert_eq!(
        status(&report, "write"),
        StepStatus::Passed,
        "{}",
        report.to_text()
    );
    let journal = sandbox.journal();
    assert!(journal.iter().any(|entry| entry.method == "POST"
        && entry.path.ends_with("/events")
        && entry.status == 201));
    assert!(journal.iter().any(|entry| entry.method == "DELETE"
        && entry.path.contains("/events/")
        && entry.status == 204));
}

#[tokio::test]
async fn the_admin_consent_link_of_the_fix_grants_the_missing_roles_and_the_rerun_is_full() {
    let sandbox = sandbox(Tenant::demo()).await;
    let credential = || {
        AppCredential::Secret(SecretString::from(
            demo::GRAPH_UNCONSENTED_APP_CLIENT_SECRET,
        ))
    };
    let before = test(
        &sandbox,
        demo::GRAPH_UNCONSENTED_APP_CLIENT_ID,
        credential(),
        demo::ADELE,
    )
    .await;
    assert_eq!(before.level, GraphLevel::None, "{}", before.to_text());
    assert_eq!(before.missing_roles.len(), 4, "{}", before.to_text());
    let link = before
        .fixes
        .iter()
        .find_map(|fix| fix.link.clone())
        .unwrap_or_else(|| panic!("a consent link among the fixes:\n{}", before.to_text()));

    // The administrator opens the link the report gives and approves, as in a browser.
    let person = calconnect_sandbox::person::Person::new(&sandbox).unwrap();
    let outcome = person
        .admin_consent(
            &url::Url::parse(&link).unwrap(),
            demo::ADELE,
            calconnect_sandbox::person::Consent::Approve,
        )
        .await
        .unwrap();
    assert!(
        matches!(&outcome, calconnect_sandbox::person::AdminConsentOutcome::Page { heading, .. } if heading == "Consent granted"),
        "{outcome:?}"
    );

    let after = test(
        &sandbox,
        demo::GRAPH_UNCONSENTED_APP_CLIENT_ID,
        credential(),
        demo::ADELE,
    )
    .await;
    assert!(after.missing_roles.is_empty(), "{}", after.to_text());
    assert_eq!(after.level, GraphLevel::Full, "{}", after.to_text());
}
