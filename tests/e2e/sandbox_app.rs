//! The app attached to a sandbox owned by the test, so the test can play the person in the sandbox's
//! pages and the sandbox (its keys and issued tokens) outlives an app restart.

use anyhow::Context as _;
use calconnect_e2e::{app_binary, AppSession};
use calconnect_sandbox::{Sandbox, SandboxHandle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use url::Url;

pub struct SandboxApp {
    pub sandbox: SandboxHandle,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl SandboxApp {
    /// A sandbox over TLS (polling every second, so device codes finish fast) and an empty data directory.
    pub async fn start() -> anyhow::Result<SandboxApp> {
        Self::start_with(calconnect_sandbox::Tenant::demo()).await
    }

    /// The same with another tenant (the Exchange Online flavour, say).
    pub async fn start_with(tenant: calconnect_sandbox::Tenant) -> anyhow::Result<SandboxApp> {
        let sandbox = Sandbox::builder()
            .tenant(tenant)
            .tls(true)
            .device_code_interval(Duration::from_secs(1))
            .start()
            .await?;
        let dir = tempfile::tempdir()?;
        let ca = dir.path().join("sandbox-ca.pem");
        sandbox.write_ca_pem(&ca)?;
        // The "browser" records the URL it is asked to open; the test then plays the person with it.
        let browser = dir.path().join("browser.sh");
        std::fs::write(
            &browser,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
                dir.path().join("opened.txt").display()
            ),
        )?;
        make_executable(&browser)?;
        let env = vec![
            (
                "CALCONNECT_SANDBOX_URL".to_owned(),
                sandbox.base_url().to_string(),
            ),
            ("CALCONNECT_SANDBOX_CA".to_owned(), path_string(&ca)),
            (
                "CALCONNECT_DATA_DIR".to_owned(),
                path_string(&dir.path().join("data")),
            ),
            ("BROWSER".to_owned(), path_string(&browser)),
        ];
        Ok(SandboxApp { sandbox, dir, env })
    }

    /// The sandbox's CA certificate (PEM): the app trusts it, and so must a real browser.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("sandbox-ca.pem")
    }

    /// Where a `$BROWSER` script appends the URLs it is given, for [`Self::opened_url`].
    pub fn opened_record(&self) -> PathBuf {
        self.dir.path().join("opened.txt")
    }

    /// A path for a file of the test's own (a `$BROWSER` script) in the fixture's directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Launches the app with `script` as its `$BROWSER` instead of the one that only records the URL.
    pub fn set_browser(&mut self, script: &Path) {
        for (name, value) in &mut self.env {
            if name == "BROWSER" {
                *value = path_string(script);
            }
        }
    }

    /// Starts the app window (again, after a restart: same data directory, same keychain).
    pub async fn launch(&self) -> anyhow::Result<AppSession> {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        AppSession::launch(&app_binary()?, &[], &env).await
    }

    /// The `index`-th URL (0-based) the app asked the browser to open, waiting for it to appear.
    pub async fn opened_url(&self, index: usize, timeout: Duration) -> anyhow::Result<Url> {
        let file = self.opened_record();
        let deadline = Instant::now() + timeout;
        loop {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if let Some(line) = text.lines().nth(index) {
                return Url::parse(line).with_context(|| format!("the browser was given {line:?}"));
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the app did not open a browser within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts the app again as a plain process with the same profile (no WebDriver), as a person
    /// double-clicking its icon a second time would.
    pub fn spawn_again(&self) -> anyhow::Result<std::process::Child> {
        Ok(std::process::Command::new(app_binary()?)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(std::process::Stdio::null())
            .spawn()?)
    }

    /// Every line the app logged to its log file so far (`logs/calconnect.*.log` in the data folder).
    pub fn log_text(&self) -> String {
        let Ok(entries) = std::fs::read_dir(self.data_dir().join("logs")) else {
            return String::new();
        };
        entries
            .flatten()
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with("calconnect.")
            })
            .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
            .collect()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}
