//! The `calconnect` binary end to end against a sandbox on loopback TLS.
//! Needs a Secret Service: run with `scripts/with-keyring.sh cargo nextest run -p calconnect-cli`.

mod clouds;
mod exchange;
mod internal_ca;
mod proxy;
mod register_apps;
mod shared_accounts;
mod strict_oauth;
mod teams;

use std::path::Path;
use std::process::Stdio;

use calconnect_identity::TokenSet;
use calconnect_sandbox::person::{Consent, Person};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use calconnect_vault::{KeychainStore, SecretStore};
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

struct Cli {
    directory: tempfile::TempDir,
    service: String,
    sandbox: SandboxHandle,
    /// Variables set on every child (the proxy variables of this process are always removed first).
    environment: Vec<(String, String)>,
}

/// The variables that name proxies, each removed from the children unless a test sets it: a developer's
/// own proxy must not change what a test sees.
const PROXY_VARIABLES: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is JSON ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Cli {
    async fn start(test: &str) -> Self {
        Self::start_with(test, Sandbox::builder()).await
    }

    /// Like [`Cli::start`], on a sandbox built by `builder` (another tenant, say).
    async fn start_with(test: &str, builder: calconnect_sandbox::SandboxBuilder) -> Self {
        let sandbox = builder.start().await.expect("sandbox starts");
        Self::with_sandbox(test, sandbox)
    }

    /// Runs against `sandbox` (one started with a public host name, say).
    fn with_sandbox(test: &str, sandbox: SandboxHandle) -> Self {
        let directory = tempfile::tempdir().unwrap();
        sandbox
            .write_ca_pem(directory.path().join("ca.pem"))
            .unwrap();
        Self {
            directory,
            service: format!("calconnect-cli-test-{}-{test}", std::process::id()),
            sandbox,
            environment: Vec::new(),
        }
    }

    /// Sets `name` to `value` on every child this runs.
    fn env(mut self, name: &str, value: &str) -> Self {
        self.environment.push((name.to_owned(), value.to_owned()));
        self
    }

    fn command(&self, arguments: &[&str]) -> tokio::process::Command {
        let path = |name: &str| self.directory.path().join(name).display().to_string();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_calconnect"));
        for name in PROXY_VARIABLES {
            command.env_remove(name);
        }
        command
            .envs(self.environment.iter().map(|(name, value)| (name, value)))
            .args([
                "--json",
                "--config",
                &path("config.toml"),
                "--accounts-file",
                &path("accounts.json"),
                "--ca-file",
                &path("ca.pem"),
            ])
            .args([
                "--authority",
                self.sandbox.base_url().as_str(),
                "--graph",
                self.sandbox.base_url().as_str(),
            ])
            .args(["--tenant", demo::DOMAIN])
            .args(arguments)
            .env("CALCONNECT_KEYCHAIN_SERVICE", &self.service)
            .env("CALCONNECT_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    async fn run(&self, arguments: &[&str]) -> Output {
        let output = self
            .command(arguments)
            .output()
            .await
            .expect("the binary runs");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `login --device-code`, the person entering the code the CLI prints.
    async fn login_device_code(&self, app: &str, client_id: &str, email: &str) -> Output {
        self.with_device_code(
            &[
                "login",
                "--app",
                app,
                "--device-code",
                "--client-id",
                client_id,
            ],
            email,
        )
        .await
    }

    /// Runs a command that signs in with the browser: `BROWSER` "opens" nothing, and the person takes the
    /// `authorize_url` the CLI prints, signs in and delivers the redirect to the CLI's loopback listener.
    async fn with_browser(&self, arguments: &[&str], email: &str) -> (Output, url::Url) {
        let mut command = self.command(arguments);
        command.env("BROWSER", "true");
        let mut child = command.spawn().expect("the binary runs");
        let mut stderr_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut stderr = String::new();
        let mut authorize_url = None;
        while let Some(line) = stderr_lines.next_line().await.unwrap() {
            stderr.push_str(&line);
            stderr.push('\n');
            if let Ok(prompt) = serde_json::from_str::<Value>(&line) {
                if let Some(url) = prompt["authorize_url"].as_str() {
                    authorize_url = Some(url::Url::parse(url).unwrap());
                    break;
                }
            }
        }
        let authorize_url =
            authorize_url.unwrap_or_else(|| panic!("the CLI printed the authorize URL:\n{stderr}"));
        let person = Person::new(&self.sandbox).unwrap();
        let location = person
            .sign_in(&authorize_url, email, Consent::Approve)
            .await
            .unwrap();
        person.follow(&location).await.unwrap();
        while let Some(line) = stderr_lines.next_line().await.unwrap() {
            stderr.push_str(&line);
            stderr.push('\n');
        }
        let output = child.wait_with_output().await.unwrap();
        let output = Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr,
        };
        (output, authorize_url)
    }

    /// Runs a command that signs in by device code, the person entering the code it prints.
    async fn with_device_code(&self, arguments: &[&str], email: &str) -> Output {
        let mut child = self.command(arguments).spawn().expect("the binary runs");
        let mut stderr_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut stderr = String::new();
        let mut user_code = None;
        while let Some(line) = stderr_lines.next_line().await.unwrap() {
            stderr.push_str(&line);
            stderr.push('\n');
            if let Ok(prompt) = serde_json::from_str::<Value>(&line) {
                if let Some(code) = prompt
                    .pointer("/device_code/user_code")
                    .and_then(Value::as_str)
                {
                    user_code = Some(code.to_owned());
                    break;
                }
            }
        }
        let user_code =
            user_code.unwrap_or_else(|| panic!("the CLI printed a device code:\n{stderr}"));
        Person::new(&self.sandbox)
            .unwrap()
            .enter_device_code(&user_code, email, Consent::Approve)
            .await
            .unwrap();
        while let Some(line) = stderr_lines.next_line().await.unwrap() {
            stderr.push_str(&line);
            stderr.push('\n');
        }
        let output = child.wait_with_output().await.unwrap();
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr,
        }
    }
}

fn files_text(directory: &Path) -> String {
    std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_scripted_session_logs_in_lists_reads_free_busy_and_logs_out_without_leaking_tokens() {
    let cli = Cli::start("session").await;

    let login = cli
        .login_device_code("freebusy", demo::FREEBUSY_APP_CLIENT_ID, demo::ADELE)
        .await;
    assert_eq!(login.code, 0, "login succeeds:\n{}", login.stderr);
    let account_id = login.json()["account"]["id"].as_str().unwrap().to_owned();
    assert_eq!(login.json()["calendars"][0]["name"], "Free Busy");
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let accounts_file = cli.directory.path().join("accounts.json");
        let mode = std::fs::metadata(&accounts_file).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600, "only the user can read the account list");
    }

    let accounts = cli.run(&["accounts", "--details"]).await;
    assert_eq!(accounts.code, 0, "{}", accounts.stderr);
    let details = &accounts.json()["accounts"][0];
    assert_eq!(details["account"]["user"]["email"], demo::ADELE);
    assert!(
        details["keychain"]
            .as_str()
            .unwrap()
            .contains("Secret Service"),
        "{details}"
    );

    let calendars = cli.run(&["calendars", demo::ADELE]).await;
    assert_eq!(calendars.code, 0, "{}", calendars.stderr);
    assert_eq!(calendars.json()["calendars"].as_array().unwrap().len(), 1);

    let from = (chrono::Utc::now() - chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let to = (chrono::Utc::now() + chrono::Duration::days(90))
        .format("%Y-%m-%d")
        .to_string();
    let free_busy = cli
        .run(&["freebusy", &account_id, "--from", &from, "--to", &to])
        .await;
    assert_eq!(free_busy.code, 0, "{}", free_busy.stderr);
    assert!(!free_busy.json()["free_busy"]["blocks"]
        .as_array()
        .unwrap()
        .is_empty());

    // The tokens the program stored, to search every output and file for.
    let store = KeychainStore::new(&cli.service)
        .expect("Secret Service (run under scripts/with-keyring.sh)");
    let secret = store
        .load(&format!("tokens:{account_id}"))
        .unwrap()
        .unwrap_or_else(|| {
            panic!(
                "the CLI stored the tokens in {} (CLI says {details}), not in {}",
                cli.service,
                store.location()
            )
        });
    let tokens = TokenSet::from_vault_secret(&secret).unwrap();
    let written = files_text(cli.directory.path());
    assert!(
        login.stderr.contains("TRACE") || login.stderr.contains("DEBUG"),
        "trace logging was on:\n{}",
        login.stderr
    );
    for output in [&login, &accounts, &calendars, &free_busy] {
        for value in [
            tokens.access_token.expose_secret(),
            tokens.refresh_token.as_ref().unwrap().expose_secret(),
        ] {
            assert!(
                !output.stdout.contains(value) && !output.stderr.contains(value),
                "a token reached the CLI's output"
            );
            assert!(
                !written.contains(value),
                "a token reached a file the CLI wrote"
            );
        }
    }

    let logout = cli.run(&["logout", &account_id]).await;
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(
        store
            .load(&format!("tokens:{account_id}"))
            .unwrap()
            .is_none(),
        "logout removed the keychain entry"
    );
    let accounts = cli.run(&["accounts"]).await;
    assert_eq!(accounts.json()["accounts"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn missing_consent_points_at_prompt_consent_and_need_admin_approval_there_exits_4_with_the_link(
) {
    let cli = Cli::start("consent").await;

    // Lee may not consent to the Full app: the device code's poll gets AADSTS65001.
    let login = cli
        .login_device_code("full", demo::FULL_APP_CLIENT_ID, demo::LEE)
        .await;

    assert_eq!(login.code, 4, "{}\n{}", login.stdout, login.stderr);
    let error = &login.json()["error"];
    assert_eq!(error["kind"], "consent_required");
    assert_eq!(error["try_prompt_consent"], true);
    assert!(error["admin_consent"].is_null(), "{error}");
    assert!(error["trace_id"].is_string());

    let (login, authorize_url) = cli
        .with_browser(
            &[
                "login",
                "--app",
                "full",
                "--prompt-consent",
                "--client-id",
                demo::FULL_APP_CLIENT_ID,
            ],
            demo::LEE,
        )
        .await;

    assert!(
        authorize_url
            .query_pairs()
            .any(|(name, value)| name == "prompt" && value == "consent"),
        "{authorize_url}"
    );
    assert_eq!(login.code, 4, "{}\n{}", login.stdout, login.stderr);
    let error = &login.json()["error"];
    assert_eq!(error["kind"], "admin_consent_required");
    assert_eq!(error["try_prompt_consent"], false);
    assert!(error["admin_consent"]["url"]
        .as_str()
        .unwrap()
        .contains("adminconsent"));
    assert!(error["trace_id"].is_string());
}

#[tokio::test]
async fn prompt_consent_and_the_device_code_are_refused_together() {
    let cli = Cli::start("consent-usage").await;

    let login = cli
        .run(&["login", "--device-code", "--prompt-consent"])
        .await;

    assert_eq!(login.code, 2, "{}", login.stderr);
}

#[tokio::test]
async fn freebusy_says_it_read_calendar_view_where_get_schedule_is_refused() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.graph.get_schedule_requires = Some("Calendars.Read".to_owned());
    let cli = Cli::start_with("calendar-view", Sandbox::builder().tenant(tenant)).await;
    let login = cli
        .login_device_code("freebusy", demo::FREEBUSY_APP_CLIENT_ID, demo::ADELE)
        .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let account_id = login.json()["account"]["id"].as_str().unwrap().to_owned();
    let from = calconnect_sandbox::tenant::week_start(chrono::Utc::now())
        .format("%Y-%m-%d")
        .to_string();

    let json = cli.run(&["freebusy", &account_id, "--from", &from]).await;

    assert_eq!(json.code, 0, "{}", json.stderr);
    let free_busy = &json.json()["free_busy"];
    assert_eq!(free_busy["source"], "calendarView");
    let blocks = free_busy["blocks"].as_array().unwrap();
    assert!(!blocks.is_empty());
    for block in blocks {
        let mut keys: Vec<&str> = block
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["end", "start", "status"],
            "status, start and end only"
        );
    }
}

#[tokio::test]
async fn reading_calendars_with_no_account_exits_3() {
    let cli = Cli::start("none").await;

    let calendars = cli.run(&["calendars"]).await;

    assert_eq!(calendars.code, 3, "{}", calendars.stderr);
    assert_eq!(calendars.json()["error"]["kind"], "account_not_found");
}

#[tokio::test]
async fn login_without_a_client_id_explains_how_to_register_one_and_exits_9() {
    let cli = Cli::start("client-id").await;

    let login = cli
        .run(&["login", "--app", "freebusy", "--device-code"])
        .await;

    assert_eq!(login.code, 9, "{}", login.stderr);
    assert!(login.json()["error"]["next_step"]
        .as_str()
        .unwrap()
        .contains("freebusy_client_id"));
}

#[tokio::test]
async fn without_a_secret_service_the_cli_says_so_and_exits_6() {
    let cli = Cli::start("no-keychain").await;

    let output = cli
        .command(&["accounts"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .await
        .unwrap();

    assert_eq!(
        output.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["error"]["kind"], "keychain_unavailable");
}
