//! A minimal W3C WebDriver client: just the calls the end-to-end tests make.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// WebDriver's key value for Tab.
pub const TAB: &str = "\u{E004}";
/// WebDriver's key value for Enter.
pub const ENTER: &str = "\u{E007}";
/// WebDriver's key value for the right arrow.
pub const ARROW_RIGHT: &str = "\u{E014}";

/// The W3C key under which an element reference is returned.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running W3C WebDriver server with one session: `WebKitWebDriver` with the calconnect app in its own
/// window ([`AppSession::launch`]), or chromedriver with headless Chromium (`crate::chromium`).
pub struct AppSession {
    driver: Child,
    http: reqwest::Client,
    session_url: String,
    /// The profile (accounts, settings, logs, sandbox state) of a launch that named none: removed with
    /// the session.
    _profile: Option<tempfile::TempDir>,
}

/// A reference to an element of the app's page.
#[derive(Clone)]
pub struct Element {
    id: String,
}

impl Element {
    /// The WebDriver reference, for passing the element to [`AppSession::execute`] as `{ ELEMENT_KEY: id }`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The element as a script argument of [`AppSession::execute`].
    pub fn as_argument(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

impl AppSession {
    /// Starts WebKitWebDriver, which starts the app binary with `args` and the given environment.
    ///
    /// A launch whose environment names no `CALCONNECT_DATA_DIR` gets a fresh one of its own: the app is
    /// single-instance per profile, so two tests sharing the machine user's profile would have the second
    /// window hand over to the first (if it still lingers) and exit, leaving the driver waiting; and no
    /// test may read or write the real user's accounts, settings or logs.
    pub async fn launch(app: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<AppSession> {
        let port = free_port()?;
        let mut command = Command::new("WebKitWebDriver");
        command
            .arg(format!("--port={port}"))
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
        for (name, value) in env {
            command.env(name, value);
        }
        let profile = if env.iter().any(|(name, _)| *name == "CALCONNECT_DATA_DIR") {
            None
        } else {
            let profile = tempfile::tempdir().context("create a profile folder for the app")?;
            command.env("CALCONNECT_DATA_DIR", profile.path());
            Some(profile)
        };
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "webkitgtk:browserOptions": { "binary": app.to_string_lossy(), "args": args }
            }}
        });
        let mut session = Self::start(
            command,
            port,
            "webdriver",
            capabilities,
            "start WebKitWebDriver (Debian package webkit2gtk-driver)",
        )
        .await?;
        session._profile = profile;
        Ok(session)
    }

    /// Starts a W3C WebDriver server (`command`, already told to listen on `port`) and opens one session
    /// with `capabilities`. Its output goes to `artifacts/logs/{log_name}-{port}.log`.
    pub(crate) async fn start(
        mut command: Command,
        port: u16,
        log_name: &str,
        capabilities: Value,
        what: &'static str,
    ) -> Result<AppSession> {
        // The driver's children (the app, Chromium) inherit its output and may outlive the session by a
        // moment; a file rather than the test's own stderr keeps that from holding the test's pipes open,
        // and keeps the log for a failed test to read.
        command
            .stdout(Stdio::null())
            .stderr(session_log(log_name, port)?);
        let driver = command.spawn().context(what)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()?;
        let base = format!("http://127.0.0.1:{port}");
        let mut session = AppSession {
            driver,
            http,
            session_url: String::new(),
            _profile: None,
        };
        session.wait_for_driver(&base).await?;
        let response = session
            .send(
                reqwest::Method::POST,
                &format!("{base}/session"),
                Some(capabilities),
            )
            .await?;
        let session_id = response["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no sessionId in {response}"))?;
        session.session_url = format!("{base}/session/{session_id}");
        Ok(session)
    }

    /// The session's URL on the driver (`http://127.0.0.1:PORT/session/ID`), for commands sent from
    /// outside the test (a `$BROWSER` script).
    pub fn session_url(&self) -> &str {
        &self.session_url
    }

    async fn wait_for_driver(&self, base: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = self.http.get(format!("{base}/status")).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("the WebDriver server did not answer on {base} within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn send(&self, method: reqwest::Method, url: &str, body: Option<Value>) -> Result<Value> {
        let mut request = self.http.request(method.clone(), url);
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == reqwest::Method::POST {
            request = request.json(&json!({}));
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("WebDriver {method} {url}"))?;
        let status = response.status();
        let value: Value = response
            .json()
            .await
            .with_context(|| format!("WebDriver {method} {url}: body"))?;
        if !status.is_success() {
            bail!(
                "WebDriver {method} {url} answered {status}: {}",
                value["value"]
            );
        }
        Ok(value["value"].clone())
    }

    pub(crate) async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        self.send(method, &format!("{}{path}", self.session_url), body)
            .await
    }

    /// Waits until an element matching `css` exists.
    pub async fn find(&self, css: &str, timeout: Duration) -> Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            let attempt = self
                .command(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Ok(value) = attempt {
                if let Some(id) = value[ELEMENT_KEY].as_str() {
                    return Ok(Element { id: id.to_owned() });
                }
            }
            if Instant::now() > deadline {
                bail!("no element matches {css:?} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text content of an element, whitespace-trimmed.
    ///
    /// Read through script rather than WebDriver's "Get Element Text", which WebKitWebDriver answers
    /// with "" for a Tauri webview under Xvfb.
    pub async fn text(&self, element: &Element) -> Result<String> {
        let value = self
            .execute(
                "return arguments[0].textContent.trim();",
                vec![json!({ ELEMENT_KEY: element.id })],
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Runs a script in the page and returns its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Waits until the element matching `css` shows text for which `accept` is true, and returns it.
    pub async fn wait_for_text(
        &self,
        css: &str,
        timeout: Duration,
        accept: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last: Result<Option<String>>;
        loop {
            last = self
                .execute(
                    "const element = document.querySelector(arguments[0]); return element ? element.textContent.trim() : null;",
                    vec![json!(css)],
                )
                .await
                .map(|value| value.as_str().map(str::to_owned));
            if let Ok(Some(text)) = &last {
                if accept(text) {
                    return Ok(text.clone());
                }
            }
            if Instant::now() > deadline {
                bail!("{css:?} did not show the expected text within {timeout:?}; last read: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks an element.
    pub async fn click(&self, element: &Element) -> Result<()> {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.id),
            None,
        )
        .await
        .map(drop)
    }

    /// Waits for the element matching `css`, then clicks it.
    pub async fn click_on(&self, css: &str, timeout: Duration) -> Result<()> {
        let element = self.find(css, timeout).await?;
        self.click(&element).await
    }

    /// Opens a step from the navigation: waits for the first step to render (so the wizard's handlers are
    /// attached), clicks `nav`, and clicks again if `heading` does not show `expected` — a click that lands
    /// before the module script ran is otherwise lost.
    pub async fn open_step(
        &self,
        nav: &str,
        heading: &str,
        expected: &str,
        timeout: Duration,
    ) -> Result<()> {
        self.wait_for_text("main#step h1", timeout, |text| !text.is_empty())
            .await?;
        let mut last = None;
        for _ in 0..3 {
            self.click_on(nav, timeout).await?;
            match self
                .wait_for_text(heading, Duration::from_secs(10), |text| text == expected)
                .await
            {
                Ok(_) => return Ok(()),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("{nav} did not open {heading}")))
    }

    /// How many elements match `css` right now.
    pub async fn count(&self, css: &str) -> Result<usize> {
        let value = self
            .execute(
                "return document.querySelectorAll(arguments[0]).length;",
                vec![json!(css)],
            )
            .await?;
        value
            .as_u64()
            .and_then(|count| usize::try_from(count).ok())
            .ok_or_else(|| anyhow!("count of {css:?} is not a number: {value}"))
    }

    /// Waits until `count(css)` satisfies `accept`, and returns it.
    pub async fn wait_for_count(
        &self,
        css: &str,
        timeout: Duration,
        accept: impl Fn(usize) -> bool,
    ) -> Result<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            let count = self.count(css).await?;
            if accept(count) {
                return Ok(count);
            }
            if Instant::now() > deadline {
                bail!(
                    "{css:?} matched {count} elements, not the expected number, after {timeout:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types into an input element.
    pub async fn type_text(&self, element: &Element, text: &str) -> Result<()> {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.id),
            Some(json!({ "text": text })),
        )
        .await
        .map(drop)
    }

    /// Presses keys as a person at the keyboard would (W3C "Perform Actions"); `keys` are WebDriver key
    /// values such as [`TAB`] and [`ENTER`].
    pub async fn press_keys(&self, keys: &[&str]) -> Result<()> {
        let actions: Vec<Value> = keys
            .iter()
            .flat_map(|key| {
                [
                    json!({ "type": "keyDown", "value": key }),
                    json!({ "type": "keyUp", "value": key }),
                ]
            })
            .collect();
        self.command(
            reqwest::Method::POST,
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        )
        .await
        .map(drop)
    }

    /// Resizes the app's window (W3C "Set Window Rect").
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.command(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await
        .map(drop)
    }

    /// The window's title.
    pub async fn title(&self) -> Result<String> {
        let value = self.command(reqwest::Method::GET, "/title", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Saves a PNG of the whole (virtual) screen, as a person would see it.
    ///
    /// WebKitWebDriver's screenshot comes back empty under Xvfb, so this uses ImageMagick's `import`,
    /// a second after the last interaction so that the window has painted.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let status = tokio::process::Command::new("import")
            .args(["-window", "root"])
            .arg(path)
            .status()
            .await
            .context("run ImageMagick's import (Debian package imagemagick)")?;
        anyhow::ensure!(
            status.success(),
            "import -window root {} failed: {status}",
            path.display()
        );
        Ok(())
    }

    /// Ends the session (which closes the app) and stops the driver.
    pub async fn close(mut self) -> Result<()> {
        let result = self
            .command(reqwest::Method::DELETE, "", None)
            .await
            .map(drop);
        self.stop_driver_and_its_browser();
        result
    }

    /// Stops the driver and whatever it started (the app, Chromium), and waits until they are gone. The
    /// app is single-instance per profile: a window still closing when a test relaunches the same profile
    /// would take the new launch's hand-off, and the new launch would exit under the driver (a WebDriver
    /// session timeout, seen in `settings::` and `welcome::`).
    fn stop_driver_and_its_browser(&mut self) {
        let children = children_of(self.driver.id());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        for signal in ["-TERM", "-KILL"] {
            let alive: Vec<u32> = children
                .iter()
                .copied()
                .filter(|pid| is_alive(*pid))
                .collect();
            if alive.is_empty() {
                return;
            }
            let _ = Command::new("kill")
                .arg(signal)
                .args(alive.iter().map(u32::to_string))
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && alive.iter().any(|pid| is_alive(*pid)) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for AppSession {
    fn drop(&mut self) {
        // A failed test must not leave the driver (and with it the app) running.
        self.stop_driver_and_its_browser();
    }
}

/// The processes whose parent is `parent` (from `/proc/*/stat`; empty where there is no `/proc`).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

/// The parent of `pid`: the field after the state in `/proc/PID/stat` (the name before it may hold spaces,
/// so it is read after the last `)`).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Whether `pid` still runs (a zombie, dead but not yet reaped by its new parent, counts as gone).
fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rfind(')')
            .and_then(|end| stat[end + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

/// `artifacts/logs/<name>-<port>.log`: what a driver and its browser (the app, Chromium) wrote during one
/// session.
fn session_log(name: &str, port: u16) -> Result<std::fs::File> {
    let dir = crate::artifacts_dir().join("logs");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}-{port}.log"));
    std::fs::File::create(&path).with_context(|| format!("create {}", path.display()))
}

pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
