//! The CLI against a standards-compliant OAuth server that is not the sandbox: panva's oidc-provider
//! (OpenID Certified), from the lockfile in `tests/oidc/`, with a Graph stand-in that accepts only its
//! access tokens (signature, issuer, audience, expiry and scope checked). Its discovery document drives
//! every endpoint; PKCE is required, the redirect must match the registered `http://localhost` under
//! RFC 8252 §7.3's port rule, refresh tokens rotate and a spent one revokes the grant. Anything calconnect
//! does only because Microsoft (or the sandbox) tolerates it is refused here.

mod person;
mod provider;

use std::path::Path;
use std::process::Stdio;

use calconnect_identity::TokenSet;
use calconnect_vault::{KeychainStore, SecretStore};
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use url::Url;

use person::{Ending, Person, EMAIL};
use provider::{events, OidcProvider};

/// The calendars the stand-in serves, over two pages.
const CALENDARS: [&str; 3] = ["Calendar", "Birthdays", "Project Falcon"];

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is JSON ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The CLI pointed at the provider: `--authority` and `--graph`, its CA by `--ca-file`, a keychain
/// service and files of its own.
struct Cli<'a> {
    provider: &'a OidcProvider,
    directory: tempfile::TempDir,
    service: String,
}

impl<'a> Cli<'a> {
    fn new(provider: &'a OidcProvider, test: &str) -> Self {
        Self {
            provider,
            directory: tempfile::tempdir().unwrap(),
            service: format!("calconnect-cli-test-{}-oidc-{test}", std::process::id()),
        }
    }

    fn command(&self, arguments: &[&str]) -> tokio::process::Command {
        let path = |name: &str| self.directory.path().join(name).display().to_string();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_calconnect"));
        command
            .args(["--json", "--config", &path("config.toml")])
            .args(["--accounts-file", &path("accounts.json")])
            .arg("--ca-file")
            .arg(self.provider.ca_file())
            .args(["--authority", &self.provider.authority()])
            .args(["--graph", &self.provider.graph_root()])
            .args(["--tenant", "organizations"])
            .args(arguments)
            .env("CALCONNECT_KEYCHAIN_SERVICE", &self.service)
            .env("CALCONNECT_LOG", "trace")
            .env("BROWSER", self.directory.path().join("browser.sh"))
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, arguments: &[&str]) -> Run {
        let output = self.command(arguments).output().await.unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `login --device-code`, the person entering the printed code in oidc-provider's device pages.
    async fn login_by_device_code(&self) -> Run {
        let mut child = self
            .command(&[
                "login",
                "--app",
                "full",
                "--device-code",
                "--client-id",
                &self.provider.client_id,
            ])
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut stderr = String::new();
        let mut prompt = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            stderr.push_str(&line);
            stderr.push('\n');
            if let Ok(json) = serde_json::from_str::<Value>(&line) {
                if json.get("device_code").is_some() {
                    prompt = Some(json["device_code"].clone());
                    break;
                }
            }
        }
        let prompt = prompt.unwrap_or_else(|| panic!("the CLI printed a device code:\n{stderr}"));
        let verification = Url::parse(prompt["verification_uri"].as_str().unwrap()).unwrap();
        assert_eq!(
            verification.as_str(),
            format!("{}/device", self.provider.issuer),
            "the verification page is the one oidc-provider's device authorization response named"
        );
        let user_code = prompt["user_code"].as_str().unwrap();
        let ending = Person::new(self.provider)
            .walk(&verification, Some(user_code))
            .await
            .unwrap_or_else(|refusal| {
                panic!("oidc-provider refused the device sign-in: {refusal}")
            });
        assert!(matches!(ending, Ending::Done), "{ending:?}");
        while let Some(line) = lines.next_line().await.unwrap() {
            stderr.push_str(&line);
            stderr.push('\n');
        }
        let output = child.wait_with_output().await.unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr,
        }
    }

    /// The tokens the CLI stored for `account_id`.
    fn stored_tokens(&self, account_id: &str) -> TokenSet {
        let store = KeychainStore::new(&self.service)
            .expect("Secret Service (run under scripts/with-keyring.sh)");
        let secret = store
            .load(&format!("tokens:{account_id}"))
            .unwrap()
            .expect("the CLI stored the account's tokens in the keychain");
        TokenSet::from_vault_secret(&secret).unwrap()
    }

    fn remove_keychain_entry(&self, account_id: &str) {
        if let Ok(store) = KeychainStore::new(&self.service) {
            let _ = store.delete(&format!("tokens:{account_id}"));
        }
    }
}

/// The account and both pages of calendars came back, named as the stand-in serves them.
fn assert_connected(login: &Run) -> String {
    assert_eq!(
        login.code, 0,
        "login succeeds:\n{}\nstderr:\n{}",
        login.stdout, login.stderr
    );
    let json = login.json();
    assert_eq!(json["account"]["user"]["email"], EMAIL, "{json}");
    let names: Vec<&str> = json["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|calendar| calendar["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, CALENDARS, "both pages of /me/calendars: {json}");
    json["account"]["id"].as_str().unwrap().to_owned()
}

/// The grants of `grant_type` the provider issued, in order.
fn grants<'a>(journal: &'a [Value], grant_type: &str) -> Vec<&'a Value> {
    events(journal, "grant")
        .into_iter()
        .filter(|grant| grant["grant_type"] == grant_type)
        .collect()
}

/// The token ids the Graph stand-in accepted on `path`.
fn accepted_on(journal: &[Value], path: &str) -> Vec<String> {
    events(journal, "graph")
        .into_iter()
        .filter(|call| call["path"] == path && call["valid"] == true)
        .map(|call| call["jti"].as_str().unwrap().to_owned())
        .collect()
}

/// Refusals other than the device flow's expected `authorization_pending` / `slow_down`.
fn refusals(journal: &[Value]) -> Vec<&Value> {
    journal
        .iter()
        .filter(|entry| {
            let event = entry["event"].as_str().unwrap_or_default();
            (event.ends_with("error") || event == "handler_error")
                && !matches!(
                    entry["error"].as_str(),
                    Some("authorization_pending" | "slow_down")
                )
        })
        .collect()
}

/// No access or refresh token in anything the CLI printed or wrote.
fn assert_no_token_leaked(cli: &Cli<'_>, runs: &[&Run], tokens: &TokenSet) {
    let written: String = std::fs::read_dir(cli.directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned())
        .collect();
    let mut secrets = vec![tokens.access_token.expose_secret()];
    secrets.extend(
        tokens
            .refresh_token
            .as_ref()
            .map(ExposeSecret::expose_secret),
    );
    for secret in secrets {
        for run in runs {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a token reached the CLI's output"
            );
        }
        assert!(!written.contains(secret), "a token reached a file");
    }
}

fn write_browser_script(directory: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let recorded = directory.join("opened-url.txt");
    let script = directory.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{}.part' && mv '{0}.part' '{0}'\n",
            recorded.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    recorded
}

#[tokio::test]
async fn device_code_sign_in_at_oidc_provider_reads_graph_with_the_token_it_issued() {
    let provider = OidcProvider::start(3600).await;
    let cli = Cli::new(&provider, "device");

    let login = cli.login_by_device_code().await;

    let account_id = assert_connected(&login);
    let journal = provider.journal().await;
    assert_eq!(refusals(&journal), Vec::<&Value>::new(), "{journal:#?}");
    let device_grants = grants(&journal, "urn:ietf:params:oauth:grant-type:device_code");
    assert_eq!(device_grants.len(), 1, "{journal:#?}");
    assert_eq!(
        device_grants[0]["refresh_token_issued"], true,
        "offline_access was granted"
    );
    let issued = device_grants[0]["access_token_jti"].as_str().unwrap();
    assert_eq!(accepted_on(&journal, "/v1.0/me"), [issued], "{journal:#?}");
    assert_eq!(
        accepted_on(&journal, "/v1.0/me/calendars"),
        [issued, issued],
        "both pages with the device grant's token: {journal:#?}"
    );
    let tokens = cli.stored_tokens(&account_id);
    assert!(tokens.refresh_token.is_some());
    assert_no_token_leaked(&cli, &[&login], &tokens);
    cli.remove_keychain_entry(&account_id);
}

#[tokio::test]
async fn browser_sign_in_with_pkce_reaches_the_loopback_listener_registered_as_http_localhost() {
    let provider = OidcProvider::start(3600).await;
    let cli = Cli::new(&provider, "browser");
    let recorded = write_browser_script(cli.directory.path());
    let child = cli
        .command(&[
            "login",
            "--app",
            "full",
            "--client-id",
            &provider.client_id,
            "--timeout",
            "60",
        ])
        .spawn()
        .unwrap();

    let started = tokio::time::Instant::now();
    let opened = loop {
        if let Ok(text) = std::fs::read_to_string(&recorded) {
            break Url::parse(text.trim()).unwrap();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the CLI opened no browser ($BROWSER) within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let query: std::collections::HashMap<String, String> =
        opened.query_pairs().into_owned().collect();
    assert_eq!(
        format!("{}", opened.join("/").unwrap()),
        format!("https://127.0.0.1:{}/", provider.port)
    );
    assert!(
        opened
            .path()
            .starts_with(provider.issuer.path().trim_end_matches('/')),
        "the authorize endpoint came from discovery: {opened}"
    );
    assert_eq!(query["code_challenge_method"], "S256");
    let redirect_uri = query["redirect_uri"].clone();
    let ending = Person::new(&provider).walk(&opened, None).await;
    let ending = ending.unwrap_or_else(|refusal| {
        panic!("oidc-provider refused calconnect's authorization request (redirect_uri {redirect_uri}, registered http://localhost): {refusal}")
    });
    let Ending::Delivered { location, status } = ending else {
        panic!("the sign-in ended on a page, not at the listener: {ending:?}")
    };
    assert!(
        location.as_str().starts_with(&redirect_uri),
        "the redirect went to calconnect's redirect_uri {redirect_uri}: {}",
        person::redact(&location)
    );
    assert_eq!(status, 200, "the listener took the callback");

    let output = child.wait_with_output().await.unwrap();
    let login = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    let account_id = assert_connected(&login);
    let journal = provider.journal().await;
    assert_eq!(refusals(&journal), Vec::<&Value>::new(), "{journal:#?}");
    let authorizations = events(&journal, "authorization");
    assert_eq!(authorizations.len(), 1, "{journal:#?}");
    assert_eq!(authorizations[0]["code_challenge_method"], "S256");
    let code_grants = grants(&journal, "authorization_code");
    assert_eq!(code_grants.len(), 1, "{journal:#?}");
    let issued = code_grants[0]["access_token_jti"].as_str().unwrap();
    assert_eq!(accepted_on(&journal, "/v1.0/me"), [issued], "{journal:#?}");
    assert_eq!(
        accepted_on(&journal, "/v1.0/me/calendars"),
        [issued, issued]
    );
    let tokens = cli.stored_tokens(&account_id);
    assert_no_token_leaked(&cli, &[&login], &tokens);
    cli.remove_keychain_entry(&account_id);
}

/// Access tokens that live six seconds longer than calconnect's refresh margin: the sign-in's token is used
/// as issued, and a command run six and a half seconds later finds its token inside the margin and
/// refreshes. oidc-provider rotates the refresh token on each use and revokes the whole grant when a spent
/// one comes back, so a calconnect that kept an old refresh token anywhere fails the second refresh. Then
/// the Graph stand-in refuses a valid token once (401, as for a revoked token): calconnect must refresh
/// once and retry.
#[tokio::test]
async fn refresh_tokens_rotate_at_oidc_provider_and_a_graph_401_forces_one_refresh_and_a_retry() {
    let margin = u64::try_from(calconnect_core::REFRESH_MARGIN.num_seconds()).unwrap();
    let provider = OidcProvider::start(margin + 6).await;
    let cli = Cli::new(&provider, "refresh");
    let into_the_margin = std::time::Duration::from_millis(6_500);

    let login = cli.login_by_device_code().await;
    let account_id = assert_connected(&login);
    let journal = provider.journal().await;
    assert_eq!(grants(&journal, "refresh_token").len(), 0, "{journal:#?}");

    tokio::time::sleep(into_the_margin).await;
    let first = cli.run(&["calendars", &account_id]).await;
    tokio::time::sleep(into_the_margin).await;
    let second = cli.run(&["calendars", &account_id]).await;
    provider.refuse_next_bearer().await;
    let third = cli.run(&["calendars", &account_id]).await;

    for run in [&first, &second, &third] {
        assert_eq!(run.code, 0, "calendars succeeds:\n{}", run.stderr);
        let json = run.json();
        let names: Vec<&str> = json["calendars"]
            .as_array()
            .unwrap()
            .iter()
            .map(|calendar| calendar["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, CALENDARS);
    }
    let journal = provider.journal().await;
    assert_eq!(refusals(&journal), Vec::<&Value>::new(), "{journal:#?}");
    let refreshes: Vec<&str> = grants(&journal, "refresh_token")
        .iter()
        .map(|grant| {
            assert_eq!(grant["refresh_token_issued"], true, "rotated: {grant}");
            grant["access_token_jti"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        refreshes.len(),
        3,
        "one refresh per command inside the margin, one forced by the 401: {journal:#?}"
    );
    let pages = accepted_on(&journal, "/v1.0/me/calendars");
    let device = grants(&journal, "urn:ietf:params:oauth:grant-type:device_code");
    let signed_in = device[0]["access_token_jti"].as_str().unwrap();
    assert_eq!(
        pages,
        [
            signed_in,
            signed_in,
            refreshes[0],
            refreshes[0],
            refreshes[1],
            refreshes[1],
            refreshes[2],
            refreshes[2],
        ],
        "each command read both pages with one token, the latest: {journal:#?}"
    );
    let refused: Vec<&Value> = events(&journal, "graph")
        .into_iter()
        .filter(|call| call["valid"] == false)
        .collect();
    assert_eq!(refused.len(), 1, "{journal:#?}");
    assert_eq!(
        refused[0]["jti"], refreshes[1],
        "the refused token was the one the second refresh issued"
    );
    let tokens = cli.stored_tokens(&account_id);
    assert_no_token_leaked(&cli, &[&login, &first, &second, &third], &tokens);
    cli.remove_keychain_entry(&account_id);
}
