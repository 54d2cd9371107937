use calconnect_e2e::{app_binary, screenshot_dir, AppSession};
use std::time::Duration;

#[tokio::test]
async fn welcome_step_shows_the_cloud_and_version_reported_by_rust() -> anyhow::Result<()> {
    let app = app_binary()?;
    let session = AppSession::launch(&app, &["--sandbox"], &[]).await?;

    let cloud = session
        .wait_for_text(
            "[data-testid=cloud-label]",
            Duration::from_secs(30),
            |text| text != "loading…",
        )
        .await?;
    assert_eq!(
        cloud, "Sandbox",
        "the --sandbox switch must reach the welcome step through the app_info command"
    );
    let version = session
        .wait_for_text(
            "[data-testid=app-version]",
            Duration::from_secs(5),
            |text| text != "loading…",
        )
        .await?;
    assert_eq!(
        version,
        env!("CARGO_PKG_VERSION"),
        "the version shown comes from the Rust side"
    );
    assert_eq!(session.title().await?, "calconnect");

    session
        .screenshot(&screenshot_dir().join("01-welcome.png"))
        .await?;
    session.close().await
}

#[tokio::test]
async fn environment_variable_selects_the_sandbox_like_the_switch() -> anyhow::Result<()> {
    let app = app_binary()?;
    let session = AppSession::launch(&app, &[], &[("CALCONNECT_SANDBOX", "1")]).await?;
    let cloud = session
        .wait_for_text(
            "[data-testid=cloud-label]",
            Duration::from_secs(30),
            |text| text != "loading…",
        )
        .await?;
    assert_eq!(cloud, "Sandbox");
    session.close().await
}

#[tokio::test]
async fn without_the_switch_the_welcome_step_names_microsoft_365_global() -> anyhow::Result<()> {
    let app = app_binary()?;
    // An empty data directory: saved settings of the machine's user must not choose the cloud here.
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let session = AppSession::launch(
        &app,
        &[],
        &[
            ("CALCONNECT_SANDBOX", "0"),
            ("CALCONNECT_DATA_DIR", data_dir.as_str()),
        ],
    )
    .await?;
    let cloud = session
        .wait_for_text(
            "[data-testid=cloud-label]",
            Duration::from_secs(30),
            |text| text != "loading…",
        )
        .await?;
    assert_eq!(cloud, "Microsoft 365 worldwide (includes GCC)");
    session.close().await
}
