//! The admin's Exchange step: testing the sandbox's service account against an AvailabilityOnly mailbox
//! shows each step and a Free-busy-only verdict, and the exported log holds no password.

use calconnect_e2e::{app_binary, screenshot_dir, AppSession};
use calconnect_sandbox::demo;
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(45);

#[tokio::test]
async fn an_availability_only_service_account_gets_a_free_busy_verdict_and_a_clean_export(
) -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let exports = tempfile::tempdir()?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let export_dir = exports.path().to_string_lossy().into_owned();
    let env = [
        ("CALCONNECT_DATA_DIR", data_dir.as_str()),
        ("CALCONNECT_EXPORT_DIR", export_dir.as_str()),
    ];
    // The built-in sandbox: its EWS and Autodiscover play the organisation's.
    let session = AppSession::launch(&app_binary()?, &["--sandbox"], &env).await?;

    // In the sandbox the form suggests the demo service account and the AvailabilityOnly mailbox.
    session
        .open_step(
            "[data-testid=nav-exchange]",
            "#ews-form-heading",
            "Service account",
            LONG,
        )
        .await?;
    let prefilled = session
        .execute("return [document.getElementById('ews-mailbox').value, document.getElementById('ews-username').value];", vec![])
        .await?;
    let deadline = std::time::Instant::now() + SHORT;
    let mut prefilled = prefilled;
    while prefilled[0] != demo::LEE && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        prefilled = session
            .execute("return [document.getElementById('ews-mailbox').value, document.getElementById('ews-username').value];", vec![])
            .await?;
    }
    assert_eq!(
        prefilled[0],
        demo::LEE,
        "the sandbox suggests the AvailabilityOnly mailbox"
    );
    assert_eq!(prefilled[1], demo::SERVICE_ACCOUNT_UPN);
    let password = session.find("[data-testid=ews-password]", SHORT).await?;
    session
        .type_text(&password, demo::SERVICE_ACCOUNT_PASSWORD)
        .await?;
    session.click_on("[data-testid=ews-run]", SHORT).await?;

    let level = session
        .wait_for_text("[data-testid=ews-level]", LONG, |text| !text.is_empty())
        .await?;
    assert_eq!(
        level, "Free-busy only",
        "AvailabilityOnly lets the service account see free/busy and nothing more"
    );
    let failed = session.count(".ews-step[data-status=failed]").await?;
    let passed = session.count(".ews-step[data-status=passed]").await?;
    assert!(failed >= 1, "impersonation is refused, so a step fails");
    assert!(
        passed >= 4,
        "Autodiscover, TLS, authentication and availability pass"
    );
    let fixes = session
        .wait_for_text("[data-testid=ews-fixes]", SHORT, |text| {
            text.contains("ApplicationImpersonation")
        })
        .await?;
    assert!(
        fixes.contains(demo::SERVICE_ACCOUNT_UPN),
        "the fix is filled in with the admin's names: {fixes}"
    );

    session
        .execute("document.querySelector('[data-testid=ews-progress]').scrollIntoView({block: 'start'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("13-exchange-steps.png"))
        .await?;
    session
        .execute("document.querySelector('[data-testid=ews-verdict]').scrollIntoView({block: 'center'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("14-exchange-free-busy-verdict.png"))
        .await?;

    session
        .click_on("[data-testid=ews-export-json]", SHORT)
        .await?;
    let status = session
        .wait_for_text("[data-testid=ews-export-status]", SHORT, |text| {
            text.starts_with("Saved to")
        })
        .await?;
    let path = status.trim_start_matches("Saved to ").trim();
    assert!(
        path.starts_with(&export_dir),
        "saved where CALCONNECT_EXPORT_DIR points: {path}"
    );
    let exported = std::fs::read_to_string(path)?;
    let report: serde_json::Value = serde_json::from_str(&exported)?;
    assert_eq!(report["verdict"]["level"], "freeBusy");
    assert!(
        !exported.contains(demo::SERVICE_ACCOUNT_PASSWORD),
        "the exported log never holds the password"
    );

    session.close().await
}

/// Opens the Exchange step in a sandboxed app, enters `mailboxes` and the demo password, and runs the test.
async fn run_exchange_test(mailboxes: &str) -> anyhow::Result<(AppSession, tempfile::TempDir)> {
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
            "[data-testid=nav-exchange]",
            "#ews-form-heading",
            "Service account",
            LONG,
        )
        .await?;
    // Wait for the sandbox's suggestion, then replace the mailbox with ours.
    let deadline = std::time::Instant::now() + SHORT;
    while session
        .execute(
            "return document.getElementById('ews-username').value;",
            vec![],
        )
        .await?
        != demo::SERVICE_ACCOUNT_UPN
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session
        .execute(
            "document.getElementById('ews-mailbox').value = arguments[0];",
            vec![serde_json::Value::String(mailboxes.to_owned())],
        )
        .await?;
    let password = session.find("[data-testid=ews-password]", SHORT).await?;
    session
        .type_text(&password, demo::SERVICE_ACCOUNT_PASSWORD)
        .await?;
    session.click_on("[data-testid=ews-run]", SHORT).await?;
    session
        .wait_for_text("[data-testid=ews-level]", LONG, |text| !text.is_empty())
        .await?;
    Ok((session, data))
}

#[tokio::test]
async fn a_calendar_only_delegate_account_is_restricted_with_the_delegate_probe_shown(
) -> anyhow::Result<()> {
    let (session, _data) = run_exchange_test(demo::MEGAN).await?;
    let level = session
        .text(&session.find("[data-testid=ews-level]", SHORT).await?)
        .await?;
    assert_eq!(
        level, "Restricted",
        "Editor on megan's Calendar is delegate access"
    );
    let delegate = session
        .wait_for_text(
            ".ews-step[data-step=delegateCalendarFolder] .step-title",
            SHORT,
            |text| !text.is_empty(),
        )
        .await?;
    assert!(delegate.contains("Delegate access"), "{delegate}");
    assert_eq!(
        session
            .count(".ews-step[data-step=delegateCalendarFolder][data-status=passed]")
            .await?,
        1
    );
    assert_eq!(
        session
            .count(".ews-step[data-step=delegateOtherFolder][data-status=warning]")
            .await?,
        1,
        "the inbox is denied, as calendar-only access should be"
    );
    // Open the delegate probe so the screenshot shows what it did.
    session
        .execute("const d = document.querySelector('.ews-step[data-step=delegateCalendarFolder] details'); d.open = true; d.scrollIntoView({block: 'start'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("15-exchange-restricted-delegate-steps.png"))
        .await?;
    session
        .execute(
            "document.querySelector('[data-testid=ews-verdict]').scrollIntoView({block: 'start'});",
            vec![],
        )
        .await?;
    session
        .screenshot(&screenshot_dir().join("16-exchange-restricted-verdict.png"))
        .await?;
    session.close().await
}

#[tokio::test]
async fn a_pasted_list_of_mailboxes_gets_a_table_with_each_level_and_route() -> anyhow::Result<()> {
    let pasted = format!(
        "\"DisplayName\",\"PrimarySmtpAddress\"\n\"Adele\",\"{}\"\n\"Megan\",\"{}\"\n\"Lee\",\"{}\"\n\"Alex\",\"{}\"\n",
        demo::ADELE,
        demo::MEGAN,
        demo::LEE,
        demo::ALEX
    );
    let (session, _data) = run_exchange_test(&pasted).await?;
    let level = session
        .text(&session.find("[data-testid=ews-level]", SHORT).await?)
        .await?;
    assert_eq!(
        level, "None",
        "the lowest level of the four: alex has nothing"
    );
    for (mailbox, expected) in [
        (demo::ADELE, "full"),
        (demo::MEGAN, "restricted"),
        (demo::LEE, "freeBusy"),
        (demo::ALEX, "none"),
    ] {
        let rows = session
            .count(&format!(
                "[data-testid=ews-mailboxes] tr[data-mailbox='{mailbox}'][data-level={expected}]"
            ))
            .await?;
        assert_eq!(rows, 1, "{mailbox} is {expected} in the table");
    }
    let table = session
        .text(&session.find("[data-testid=ews-mailboxes]", SHORT).await?)
        .await?;
    assert!(
        table.contains("Delegate access") && table.contains("Impersonation"),
        "{table}"
    );
    assert!(
        table.contains("ErrorNoFreeBusyAccess"),
        "what failed for alex: {table}"
    );
    session
        .execute("document.querySelector('[data-testid=ews-mailboxes]').scrollIntoView({block: 'center'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("17-exchange-bulk-mailboxes.png"))
        .await?;
    session.close().await
}
