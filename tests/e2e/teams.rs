//! Teams conferencing in the real app: a person connects Teams by device code and makes (and removes)
//! a test meeting; an admin tests the Teams Enterprise app with a user outside its access policy.

use crate::sandbox_app::SandboxApp;
use calconnect_e2e::{app_binary, screenshot_dir, AppSession};
use calconnect_sandbox::demo;
use calconnect_sandbox::person::{Consent, Person};
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(45);

#[tokio::test]
async fn a_person_connects_teams_by_device_code_and_makes_a_test_meeting_that_is_removed(
) -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let person = Person::new(&fixture.sandbox)?;
    let session = fixture.launch().await?;

    session.click_on("[data-testid=connect]", LONG).await?;
    session
        .click_on("[data-testid=access-teams]", SHORT)
        .await?;
    session
        .click_on("[data-testid=access-continue]", SHORT)
        .await?;
    session
        .click_on("[data-testid=method-device]", SHORT)
        .await?;
    let code = session
        .wait_for_text("[data-testid=user-code]", LONG, |text| !text.is_empty())
        .await?;
    person
        .enter_device_code(&code, demo::ADELE, Consent::Approve)
        .await?;

    let access = session
        .wait_for_text("[data-testid=account-access]", LONG, |text| {
            text.starts_with("Teams")
        })
        .await?;
    assert_eq!(access, "Teams conferencing (no calendar access)");
    let scopes = session
        .wait_for_text("[data-testid=account-scopes]", SHORT, |text| {
            !text.is_empty()
        })
        .await?;
    assert!(scopes.contains("OnlineMeetings.ReadWrite"), "{scopes}");
    assert_eq!(
        session.count("[data-testid=calendar-list]").await?,
        0,
        "no calendars for Teams"
    );

    session
        .click_on("[data-testid=create-test-meeting]", SHORT)
        .await?;
    let join = session
        .wait_for_text("[data-testid=meeting-join-url]", LONG, |text| {
            !text.is_empty()
        })
        .await?;
    assert!(
        join.starts_with("https://teams.microsoft.com/l/meetup-join/"),
        "{join}"
    );
    let deleted = session
        .wait_for_text("[data-testid=meeting-deleted]", SHORT, |text| {
            !text.is_empty()
        })
        .await?;
    assert!(deleted.starts_with("Deleted again"), "{deleted}");
    let journal = fixture.sandbox.journal();
    assert!(journal.iter().any(|entry| entry.method == "DELETE"
        && entry.path.starts_with("/v1.0/me/onlineMeetings/")
        && entry.status == 204));

    session
        .screenshot(&screenshot_dir().join("18-teams-account-card.png"))
        .await?;
    session.close().await
}

#[tokio::test]
async fn the_enterprise_teams_test_names_the_policy_fix_for_a_user_outside_it() -> anyhow::Result<()>
{
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let session = AppSession::launch(
        &app_binary()?,
        &["--sandbox"],
        &[("CALCONNECT_DATA_DIR", data_dir.as_str())],
    )
    .await?;
    session
        .open_step(
            "[data-testid=nav-teams-test]",
            "#teams-form-heading",
            "Teams Enterprise app",
            LONG,
        )
        .await?;
    // The sandbox suggests its app and lee, whom the policy does not cover.
    let deadline = std::time::Instant::now() + SHORT;
    while session
        .execute(
            "return document.getElementById('teams-user').value;",
            vec![],
        )
        .await?
        != demo::LEE
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secret = session.find("[data-testid=teams-secret]", SHORT).await?;
    session
        .type_text(&secret, demo::TEAMS_ENTERPRISE_APP_CLIENT_SECRET)
        .await?;
    session.click_on("[data-testid=teams-run]", SHORT).await?;
    let summary = session
        .wait_for_text("[data-testid=teams-summary]", LONG, |text| !text.is_empty())
        .await?;
    assert!(
        summary.contains("no application access policy"),
        "{summary}"
    );
    let fixes = session
        .wait_for_text("[data-testid=teams-fixes]", SHORT, |text| !text.is_empty())
        .await?;
    assert!(
        fixes.contains("New-CsApplicationAccessPolicy")
            && fixes.contains("Grant-CsApplicationAccessPolicy")
            && fixes.contains(demo::LEE),
        "{fixes}"
    );
    assert_eq!(
        session
            .count(".ews-step[data-step=token][data-status=passed]")
            .await?,
        1
    );
    assert_eq!(
        session
            .count(".ews-step[data-step=meeting][data-status=failed]")
            .await?,
        1
    );
    session
        .execute("document.querySelector('[data-testid=teams-verdict]').scrollIntoView({block: 'start'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("19-teams-enterprise-outside-policy.png"))
        .await?;
    session.close().await
}
