//! The admin's Graph Enterprise Connect test in the real app: a Full verdict, a user outside the app's
//! RBAC for Applications scope (the Exchange Online demo), and the Free/Busy variant read through a
//! connected Free/Busy account.

use crate::sandbox_app::SandboxApp;
use calconnect_e2e::{screenshot_dir, AppSession};
use calconnect_sandbox::person::{Consent, Person};
use calconnect_sandbox::{demo, Tenant};
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(45);

/// Opens the Graph test step, enters `mailbox` and the demo secret, runs it; returns the level shown.
async fn run_graph_test(session: &AppSession, mailbox: &str) -> anyhow::Result<String> {
    session
        .open_step(
            "[data-testid=nav-graph-test]",
            "#graph-form-heading",
            "Graph Enterprise Connect app",
            LONG,
        )
        .await?;
    let deadline = std::time::Instant::now() + SHORT;
    while session
        .execute(
            "return document.getElementById('graph-client-id').value;",
            vec![],
        )
        .await?
        != demo::GRAPH_ENTERPRISE_APP_CLIENT_ID
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session
        .execute(
            "document.getElementById('graph-user').value = arguments[0];",
            vec![serde_json::Value::String(mailbox.to_owned())],
        )
        .await?;
    let secret = session.find("[data-testid=graph-secret]", SHORT).await?;
    session
        .type_text(&secret, demo::GRAPH_ENTERPRISE_APP_CLIENT_SECRET)
        .await?;
    session.click_on("[data-testid=graph-run]", SHORT).await?;
    session
        .wait_for_text("[data-testid=graph-level]", LONG, |text| !text.is_empty())
        .await
}

#[tokio::test]
async fn the_graph_test_is_full_for_a_tenant_wide_app() -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let session = fixture.launch().await?;
    let level = run_graph_test(&session, demo::ADELE).await?;
    assert_eq!(level, "Full");
    assert_eq!(
        session
            .count(".ews-step[data-step=rooms][data-status=passed]")
            .await?,
        1
    );
    session
        .execute("document.querySelector('[data-testid=graph-verdict]').scrollIntoView({block: 'center'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("20-graph-full.png"))
        .await?;
    session.close().await
}

#[tokio::test]
async fn the_graph_test_says_a_user_is_outside_the_apps_scope() -> anyhow::Result<()> {
    let fixture = SandboxApp::start_with(Tenant::demo_exchange_online()).await?;
    let session = fixture.launch().await?;
    let level = run_graph_test(&session, demo::LEE).await?;
    assert_eq!(level, "Restricted");
    let summary = session
        .wait_for_text("[data-testid=graph-summary]", SHORT, |text| {
            !text.is_empty()
        })
        .await?;
    assert!(summary.contains("scope that leaves"), "{summary}");
    let fixes = session
        .wait_for_text("[data-testid=graph-fixes]", SHORT, |text| !text.is_empty())
        .await?;
    assert!(
        fixes.contains("Application Calendars.ReadWrite") && fixes.contains(demo::LEE),
        "{fixes}"
    );
    session
        .execute("document.querySelector('[data-testid=graph-verdict]').scrollIntoView({block: 'start'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("21-graph-user-outside-scope.png"))
        .await?;
    session.close().await
}

#[tokio::test]
async fn the_free_busy_variant_reads_schedules_through_a_connected_free_busy_account(
) -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let person = Person::new(&fixture.sandbox)?;
    let session = fixture.launch().await?;

    // The admin connects Free/Busy by device code (delegated Calendars.ReadBasic).
    session.click_on("[data-testid=connect]", LONG).await?;
    session
        .click_on("[data-testid=access-freeBusy]", SHORT)
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
    session
        .wait_for_text("[data-testid=account-access]", LONG, |text| {
            text == "Free/Busy only"
        })
        .await?;

    session
        .open_step(
            "[data-testid=nav-graph-test]",
            "#graph-fb-heading",
            "Free/Busy variant",
            LONG,
        )
        .await?;
    session
        .wait_for_count("#graph-fb-account option", SHORT, |count| count == 1)
        .await?;
    session
        .execute(
            "document.getElementById('graph-fb-addresses').value = arguments[0];",
            vec![serde_json::Value::String(format!(
                "{}\n{}\nnobody@contoso.com",
                demo::ADELE,
                demo::MEGAN
            ))],
        )
        .await?;
    session
        .click_on("[data-testid=graph-fb-run]", SHORT)
        .await?;
    let status = session
        .wait_for_text("[data-testid=graph-fb-status]", LONG, |text| {
            text.starts_with("Read ")
        })
        .await?;
    assert!(status.starts_with("Read 2 of 3 schedules"), "{status}");
    let adele_blocks = session
        .wait_for_text(
            &format!("tr[data-schedule='{}'] td", demo::ADELE),
            SHORT,
            |text| !text.is_empty(),
        )
        .await?;
    assert!(
        adele_blocks.parse::<usize>()? > 0,
        "Adele's busy week shows blocks: {adele_blocks}"
    );
    let unknown = session
        .wait_for_text(
            "tr[data-schedule='nobody@contoso.com'] td.small",
            SHORT,
            |text| !text.is_empty(),
        )
        .await?;
    assert_ne!(unknown, "—", "an unknown address says why it failed");
    session
        .execute("document.querySelector('[data-testid=graph-fb-table]').scrollIntoView({block: 'center'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("22-graph-free-busy-variant.png"))
        .await?;
    session.close().await
}
