//! The Settings step: the cloud, tenant and client IDs a person saves are what the next run uses.

use calconnect_e2e::{app_binary, screenshot_dir, AppSession};
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(45);

#[tokio::test]
async fn saved_settings_choose_the_cloud_of_the_next_run() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let env = [
        ("CALCONNECT_SANDBOX", "0"),
        ("CALCONNECT_DATA_DIR", data_dir.as_str()),
    ];
    let app = app_binary()?;

    let session = AppSession::launch(&app, &[], &env).await?;
    session.click_on("[data-testid=nav-settings]", LONG).await?;
    let cloud = session.find("[data-testid=settings-cloud]", LONG).await?;
    // Choosing an option through script, as WebKitWebDriver cannot open a native <select> under Xvfb.
    session
        .execute(
            "arguments[0].value = 'usGovernmentDod'; arguments[0].dispatchEvent(new Event('change'));",
            vec![cloud.as_argument()],
        )
        .await?;
    let tenant = session.find("#tenant", SHORT).await?;
    session
        .execute("document.getElementById('tenant').value = '';", vec![])
        .await?;
    session.type_text(&tenant, "contoso.us").await?;
    let client = session.find("#freebusyClientId", SHORT).await?;
    session
        .type_text(&client, "11111111-2222-3333-4444-555555555555")
        .await?;
    session
        .click_on("[data-testid=settings-save]", SHORT)
        .await?;
    session
        .wait_for_text("[data-testid=settings-status]", LONG, |text| {
            text == "Saved."
        })
        .await?;
    session
        .wait_for_text("[data-testid=cloud-badge]", SHORT, |text| {
            text == "Microsoft 365 US Government DoD"
        })
        .await?;
    session
        .screenshot(&screenshot_dir().join("12-settings.png"))
        .await?;
    session.close().await?;

    let saved = std::fs::read_to_string(data.path().join("settings.toml"))?;
    assert!(
        saved.contains(r#"cloud = "usGovernmentDod""#) && saved.contains("contoso.us"),
        "{saved}"
    );

    let session = AppSession::launch(&app, &[], &env).await?;
    session
        .wait_for_text("[data-testid=cloud-label]", LONG, |text| text != "loading…")
        .await
        .map(|cloud| assert_eq!(cloud, "Microsoft 365 US Government DoD"))?;
    session.close().await
}
