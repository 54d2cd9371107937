//! What helps a person help themselves, in the real app: the private log file with nothing secret in
//! it, one window per profile (a second launch hands over and exits), links opened only when https,
//! and Settings' diagnostic summary.

use crate::sandbox_app::SandboxApp;
use calconnect_e2e::{screenshot_dir, AppSession};
use calconnect_sandbox::demo;
use calconnect_sandbox::person::{Consent, Person};
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(45);

/// Welcome → Free/Busy → device code; returns the code shown.
async fn start_device_code(session: &AppSession) -> anyhow::Result<String> {
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
    session
        .wait_for_text("[data-testid=user-code]", LONG, |text| !text.is_empty())
        .await
}

#[tokio::test]
async fn the_log_file_is_private_and_a_sign_in_leaves_no_secret_in_it() -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let person = Person::new(&fixture.sandbox)?;
    let session = fixture.launch().await?;
    let code = start_device_code(&session).await?;
    person
        .enter_device_code(&code, demo::ADELE, Consent::Approve)
        .await?;
    session
        .wait_for_text("[data-testid=account-access]", LONG, |text| {
            text == "Free/Busy only"
        })
        .await?;
    session.close().await?;

    let log = fixture.log_text();
    assert!(log.contains("starting calconnect"), "{log}");
    assert!(
        log.contains("signed in") || log.contains("connected"),
        "{log}"
    );
    assert!(!log.contains(&code), "the device code is a secret: {log}");
    assert!(!log.contains("eyJ"), "no token (JWT) is logged: {log}");
    assert!(!log.contains("refresh_token"), "{log}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let folder = fixture.data_dir().join("logs");
        assert_eq!(
            std::fs::metadata(&folder)?.permissions().mode() & 0o777,
            0o700
        );
        for entry in std::fs::read_dir(&folder)? {
            let mode = entry?.metadata()?.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "log files are private");
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_second_launch_of_the_same_profile_hands_over_to_the_running_window_and_exits(
) -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let session = fixture.launch().await?;
    session
        .wait_for_text("main#step h1", LONG, |text| !text.is_empty())
        .await?;

    let mut second = fixture.spawn_again()?;
    let deadline = Instant::now() + LONG;
    let status = loop {
        if let Some(status) = second.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            anyhow::bail!("the second launch kept running: two windows on one profile");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        status.success(),
        "the second launch exits cleanly: {status}"
    );
    let deadline = Instant::now() + SHORT;
    while !fixture.log_text().contains("launched again") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        fixture
            .log_text()
            .contains("launched again: focusing the running window"),
        "the first window was told: {}",
        fixture.log_text()
    );
    // The first window still answers.
    session
        .click_on("[data-testid=nav-settings]", SHORT)
        .await?;
    session.find("[data-testid=settings-save]", LONG).await?;
    session.close().await
}

#[tokio::test]
async fn links_open_in_the_browser_only_when_https_and_settings_show_the_diagnostic_info(
) -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let session = fixture.launch().await?;
    start_device_code(&session).await?;
    let verification = session
        .wait_for_text("[data-testid=verification-uri]", SHORT, |_| true)
        .await?;
    session
        .click_on("[aria-label='Open the address in the browser']", SHORT)
        .await?;
    let opened = fixture.opened_url(0, SHORT).await?;
    assert_eq!(opened.as_str(), verification);

    // The webview asking for anything but https is refused, and nothing is opened.
    let refused = session
        .execute(
            "return window.__TAURI_INTERNALS__.invoke('open_link', { url: arguments[0] })
               .then(() => 'opened', (error) => error.message);",
            vec![serde_json::Value::String("file:///etc/passwd".into())],
        )
        .await?;
    assert_eq!(refused, "calconnect opens only https links.");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        fixture
            .opened_url(1, Duration::from_millis(200))
            .await
            .is_err(),
        "nothing else was opened"
    );
    session
        .click_on("[data-testid=cancel-sign-in]", SHORT)
        .await
        .ok();

    session
        .open_step(
            "[data-testid=nav-settings]",
            "#support-heading",
            "Help and diagnostics",
            LONG,
        )
        .await?;
    session
        .click_on("[data-testid=show-diagnostic-info]", SHORT)
        .await?;
    session
        .wait_for_text("[data-testid=support-status]", SHORT, |text| {
            text.starts_with("Check it")
        })
        .await?;
    let summary = session
        .execute(
            "return document.getElementById('diagnostic-info').value;",
            vec![],
        )
        .await?;
    let summary = summary.as_str().unwrap_or_default().to_owned();
    for expected in [
        concat!("calconnect ", env!("CARGO_PKG_VERSION")),
        "Cloud: Sandbox",
        "Keychain: available",
        "Proxy: ",
        "Log folder: ",
        "calconnect opens only https links.",
    ] {
        assert!(summary.contains(expected), "{expected:?} in {summary}");
    }
    session
        .execute("document.querySelector('[data-testid=diagnostic-info]').scrollIntoView({block: 'center'});", vec![])
        .await?;
    session
        .screenshot(&screenshot_dir().join("23-settings-diagnostics.png"))
        .await?;
    session.close().await
}
