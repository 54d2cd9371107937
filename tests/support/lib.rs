//! Support for end-to-end tests: the real `calconnect-app` binary, launched and driven through
//! WebKitGTK's own WebDriver (`WebKitWebDriver`, Debian package `webkit2gtk-driver`).
//!
//! Tauri enables WebKit automation when `TAURI_WEBVIEW_AUTOMATION=true`, so the driver can start the
//! app as its "browser" (capability `webkitgtk:browserOptions.binary`) and talk to its webview.
//! `chromium.rs` drives the person's browser the same way: headless Chromium through chromedriver.

mod chromium;
mod webdriver;

pub use chromium::{Chromium, CHROMIUM_FLAGS};
pub use webdriver::{AppSession, Element, ARROW_RIGHT, ENTER, TAB};

use std::path::PathBuf;

/// The desktop app binary built next to this test binary (`target/<profile>/calconnect-app`).
///
/// The test command builds it first; a missing binary is an error that says so, never a skipped test.
pub fn app_binary() -> anyhow::Result<PathBuf> {
    if let Some(explicit) = std::env::var_os("CALCONNECT_APP_BIN") {
        return Ok(PathBuf::from(explicit));
    }
    let test_executable = std::env::current_exe()?;
    // target/<profile>/deps/e2e-<hash> → target/<profile>/calconnect-app
    let profile_dir = test_executable
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "unexpected test binary location {}",
                test_executable.display()
            )
        })?;
    let app = profile_dir.join("calconnect-app");
    anyhow::ensure!(
        app.exists(),
        "the desktop app is not built at {}: run `cargo build -p calconnect-app` first (scripts/test.sh does)",
        app.display()
    );
    Ok(app)
}

/// `artifacts/` at the workspace root: screenshots and logs of a test run.
pub fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("artifacts")
}

/// Where screenshots of a test run go: `artifacts/screenshots/` at the workspace root.
pub fn screenshot_dir() -> PathBuf {
    let dir = artifacts_dir().join("screenshots");
    std::fs::create_dir_all(&dir).expect("create artifacts/screenshots");
    dir
}
