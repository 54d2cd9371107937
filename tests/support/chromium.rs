//! Headless Chromium (Debian's `chromium` and `chromium-driver`) as the person's browser, driven over
//! W3C WebDriver by chromedriver, trusting a CA the way a person's browser would: a fresh NSS database
//! (`$HOME/.pki/nssdb`, which Chromium on Linux reads for locally trusted roots) with the CA added by
//! `certutil` (Debian package `libnss3-tools`). Certificate errors are never ignored.
//!
//! Chromium may reach loopback only: `--host-resolver-rules` maps every host name to "not found" except
//! `localhost` and `127.0.0.1`, and the background services that call home are switched off. The flags are
//! listed in DEVELOPERS.md.

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::webdriver::{free_port, AppSession};

/// Chromium's command line, besides the profile directory: headless, no GPU or sandbox (neither exists in
/// a container), no QUIC, and none of the services that reach the network on their own.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--metrics-recording-only",
    "--password-store=basic",
    "--window-size=1024,720",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];

/// A chromedriver session of headless Chromium with its own profile and NSS database.
pub struct Chromium {
    session: AppSession,
    home: tempfile::TempDir,
}

impl std::ops::Deref for Chromium {
    type Target = AppSession;

    fn deref(&self) -> &AppSession {
        &self.session
    }
}

impl Chromium {
    /// Starts chromedriver and Chromium trusting `ca_pem` (and the usual public roots) for TLS.
    pub async fn start(ca_pem: &Path) -> Result<Chromium> {
        let home = tempfile::tempdir()?;
        trust_ca(home.path(), ca_pem)?;
        let port = free_port()?;
        let mut command = Command::new("chromedriver");
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            // Chromium reads the NSS database under $HOME; nothing of the real home is used.
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_CACHE_HOME", home.path().join(".cache"));
        let mut arguments: Vec<String> = CHROMIUM_FLAGS
            .iter()
            .map(|flag| (*flag).to_owned())
            .collect();
        arguments.push(format!(
            "--user-data-dir={}",
            home.path().join("profile").display()
        ));
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "acceptInsecureCerts": false,
                "goog:chromeOptions": { "binary": chromium_binary()?, "args": arguments },
            }}
        });
        let session = AppSession::start(
            command,
            port,
            "chromedriver",
            capabilities,
            "start chromedriver (Debian package chromium-driver)",
        )
        .await?;
        Ok(Chromium { session, home })
    }

    /// Writes an executable `$BROWSER` script at `script` that opens its URL in this Chromium (WebDriver's
    /// "Navigate To", as a desktop's URL handler opens a tab) after appending it to `record`.
    pub fn write_browser_script(&self, script: &Path, record: &Path) -> Result<()> {
        let text = format!(
            "#!/bin/sh\n\
             # calconnect's $BROWSER in the end-to-end tests: open the URL in the test's Chromium.\n\
             printf '%s\\n' \"$1\" >> '{record}'\n\
             url=$(printf '%s' \"$1\" | sed 's/\\\\/\\\\\\\\/g; s/\"/\\\\\"/g')\n\
             exec curl --silent --show-error --fail --noproxy '*' --output /dev/null \\\n\
               --request POST --header 'Content-Type: application/json' \\\n\
               --data-binary \"{{\\\"url\\\": \\\"$url\\\"}}\" '{session}/url'\n",
            record = record.display(),
            session = self.session.session_url(),
        );
        std::fs::write(script, text)?;
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(script, std::fs::Permissions::from_mode(0o755))?;
        Ok(())
    }

    /// Opens `url` (WebDriver's Navigate To); a page that fails to load (a certificate Chromium does not
    /// trust, a host it cannot resolve) is an error naming Chromium's `net::` code.
    pub async fn navigate(&self, url: &str) -> Result<()> {
        self.session
            .command(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    /// The page's URL.
    pub async fn current_url(&self) -> Result<String> {
        let value = self
            .session
            .command(reqwest::Method::GET, "/url", None)
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until the page's URL satisfies `accept`, and returns it.
    pub async fn wait_for_url(
        &self,
        timeout: Duration,
        accept: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let url = self.current_url().await?;
            if accept(&url) {
                return Ok(url);
            }
            if Instant::now() > deadline {
                bail!("Chromium is at {url} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A PNG of the page Chromium shows (WebDriver's Take Screenshot: headless Chromium draws no window).
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let value = self
            .session
            .command(reqwest::Method::GET, "/screenshot", None)
            .await?;
        let encoded = value.as_str().context("the screenshot is a string")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .context("the screenshot is base64")?;
        std::fs::write(path, png).with_context(|| format!("write {}", path.display()))
    }

    /// Ends the session (Chromium quits) and stops chromedriver. Dropping a `Chromium` also stops both:
    /// Chromium exits when chromedriver's pipe to it closes.
    pub async fn close(self) -> Result<()> {
        self.session.close().await
    }

    /// The profile's home directory (its NSS database is `.pki/nssdb` in it).
    pub fn home(&self) -> &Path {
        self.home.path()
    }
}

/// A fresh NSS database under `home` trusting `ca_pem` to issue server certificates (`-t C,,`).
fn trust_ca(home: &Path, ca_pem: &Path) -> Result<()> {
    let nssdb = home.join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb)?;
    let database = format!("sql:{}", nssdb.display());
    let run = |arguments: &[&str]| -> Result<()> {
        let output = Command::new("certutil")
            .args(arguments)
            .output()
            .context("run certutil (Debian package libnss3-tools)")?;
        anyhow::ensure!(
            output.status.success(),
            "certutil {arguments:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    };
    run(&["-N", "--empty-password", "-d", &database])?;
    run(&[
        "-A",
        "-d",
        &database,
        "-t",
        "C,,",
        "-n",
        "calconnect-sandbox",
        "-i",
        &ca_pem.to_string_lossy(),
    ])
}

/// Debian installs Chromium as /usr/bin/chromium; `CALCONNECT_CHROMIUM` names another.
fn chromium_binary() -> Result<String> {
    let binary = std::env::var_os("CALCONNECT_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    anyhow::ensure!(
        binary.exists(),
        "Chromium is not installed at {} (Debian packages chromium and chromium-driver; scripts/test.sh installs them)",
        binary.display()
    );
    Ok(binary.to_string_lossy().into_owned())
}
