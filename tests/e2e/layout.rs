//! What the window promises beyond the journeys: it is usable at 800×600, and it follows the system's
//! dark theme.

use calconnect_e2e::{app_binary, screenshot_dir, AppSession, ENTER, TAB};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(45);

/// The app in the sandbox with an empty data directory.
async fn launch(extra_env: &[(&str, &str)]) -> anyhow::Result<(AppSession, tempfile::TempDir)> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let mut env = vec![("CALCONNECT_DATA_DIR", data_dir.as_str())];
    env.extend_from_slice(extra_env);
    let session = AppSession::launch(&app_binary()?, &["--sandbox"], &env).await?;
    session
        .wait_for_text("[data-testid=cloud-label]", LONG, |text| text == "Sandbox")
        .await?;
    Ok((session, data))
}

/// How far the page sticks out to the right of the window (0 when nothing needs horizontal scrolling).
async fn horizontal_overflow(session: &AppSession) -> anyhow::Result<i64> {
    let value = session
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await?;
    Ok(value.as_i64().unwrap_or(i64::MAX))
}

#[tokio::test]
async fn every_main_step_fits_an_800_by_600_window_without_sideways_scrolling() -> anyhow::Result<()>
{
    let (session, _data) = launch(&[]).await?;
    session.set_window_size(800, 600).await?;
    let width = session.execute("return window.innerWidth;", vec![]).await?;
    assert!(
        width.as_i64().is_some_and(|width| width <= 800),
        "the window really is at most 800 px wide: {width}"
    );

    let steps = [
        ("welcome", None),
        ("access", Some("[data-testid=connect]")),
        ("accounts", Some("[data-testid=nav-accounts]")),
        ("exchange", Some("[data-testid=nav-exchange]")),
        ("teamsTest", Some("[data-testid=nav-teams-test]")),
        ("graphTest", Some("[data-testid=nav-graph-test]")),
        ("settings", Some("[data-testid=nav-settings]")),
    ];
    for (step, how) in steps {
        if let Some(button) = how {
            session.click_on(button, LONG).await?;
        }
        // The previous step's heading is still there right after the click: wait for this step's own.
        let deadline = std::time::Instant::now() + LONG;
        loop {
            let current = session
                .execute(
                    "return document.getElementById('step').dataset.step;",
                    vec![],
                )
                .await?;
            if current == step {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "navigated to the {step} step; still on {current}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        session
            .wait_for_text("main#step h1", LONG, |text| !text.is_empty())
            .await?;
        let overflow = horizontal_overflow(&session).await?;
        assert!(
            overflow <= 0,
            "the {step} step sticks out {overflow} px at 800×600"
        );
    }
    session
        .screenshot(&screenshot_dir().join("15-settings-at-800x600.png"))
        .await?;
    session.close().await
}

#[tokio::test]
async fn a_dark_system_theme_gives_a_dark_window() -> anyhow::Result<()> {
    let (session, _data) = launch(&[("GTK_THEME", "Adwaita:dark")]).await?;
    let dark = session
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await?;
    assert_eq!(dark, true, "WebKit reports the dark GTK theme to the page");
    // The body's background is a dark colour: every channel low.
    let background = session
        .execute(
            "const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number); return Math.max(r, g, b);",
            vec![],
        )
        .await?;
    assert!(
        background.as_i64().is_some_and(|brightest| brightest < 64),
        "the page follows the dark theme (brightest channel {background})"
    );
    session
        .screenshot(&screenshot_dir().join("16-welcome-dark.png"))
        .await?;
    session.close().await
}

#[tokio::test]
async fn the_wizard_can_be_driven_from_the_keyboard_with_a_visible_focus() -> anyhow::Result<()> {
    let (session, _data) = launch(&[]).await?;
    // Tab until the primary "Connect an account" button has the focus, as a keyboard user would.
    let mut reached = false;
    for _ in 0..20 {
        session.press_keys(&[TAB]).await?;
        let focused = session
            .execute(
                "return document.activeElement && document.activeElement.dataset.testid;",
                vec![],
            )
            .await?;
        if focused == "connect" {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab reaches the Connect button");
    let outline = session
        .execute(
            "const style = getComputedStyle(document.activeElement); return [style.outlineStyle, parseFloat(style.outlineWidth)];",
            vec![],
        )
        .await?;
    assert_ne!(
        outline[0], "none",
        "the focused button shows a focus ring: {outline}"
    );
    assert!(
        outline[1].as_f64().is_some_and(|width| width >= 2.0),
        "the focus ring is clearly visible: {outline}"
    );
    session
        .screenshot(&screenshot_dir().join("17-keyboard-focus.png"))
        .await?;

    session.press_keys(&[ENTER]).await?;
    let step = session
        .wait_for_text("main#step h1", LONG, |text| {
            text == "Choose what calconnect may see"
        })
        .await?;
    let current = session
        .execute(
            "return document.getElementById('step').dataset.step;",
            vec![],
        )
        .await?;
    assert_eq!(
        current, "access",
        "Enter on the focused button moves to the next step ({step})"
    );
    session.close().await
}
