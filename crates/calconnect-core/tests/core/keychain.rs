//! Against the real Secret Service (run under `scripts/with-keyring.sh`).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use calconnect_core::Account;
use calconnect_identity::{AppKind, TokenSet};
use calconnect_sandbox::demo;
use calconnect_vault::{KeychainStore, SecretStore};
use secrecy::ExposeSecret;

use crate::support::{Bench, BenchOptions};

fn real_keychain(test: &str) -> Arc<dyn SecretStore> {
    // A service name per test and run keeps parallel tests and the developer's own entries apart.
    let service = format!("calconnect-test-{}-{test}", std::process::id());
    match KeychainStore::new(&service) {
        Ok(store) => Arc::new(store),
        Err(error) => panic!(
            "this test needs a Secret Service (GNOME Keyring over D-Bus): run it with \
             `scripts/with-keyring.sh cargo nextest run -p calconnect-core` ({}; {})",
            error.user_message(),
            error.next_step()
        ),
    }
}

#[tokio::test]
async fn tokens_round_trip_through_the_real_keychain_and_disconnect_deletes_them() {
    let store = real_keychain("round-trip");
    let bench = Bench::start_with(BenchOptions {
        store: Some(store.clone()),
        ..BenchOptions::default()
    })
    .await;

    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .expect("sign-in succeeds");
    let key = connected.account.vault_key();
    let stored =
        TokenSet::from_vault_secret(&store.load(&key).unwrap().expect("entry in the keychain"))
            .unwrap();
    assert!(stored.refresh_token.is_some());
    bench.time.advance(Duration::from_secs(2 * 3600));
    bench
        .core
        .calendars(&connected.account.id)
        .await
        .expect("refresh through the keychain");
    let rotated = TokenSet::from_vault_secret(&store.load(&key).unwrap().unwrap()).unwrap();
    assert_ne!(
        rotated.refresh_token.unwrap().expose_secret(),
        stored.refresh_token.unwrap().expose_secret()
    );
    let details = bench
        .core
        .account_details(&connected.account.id)
        .await
        .unwrap();
    assert!(
        details.keychain.contains("Secret Service"),
        "{}",
        details.keychain
    );

    bench.core.disconnect(&connected.account.id).await.unwrap();

    assert!(
        store.load(&key).unwrap().is_none(),
        "the keychain entry is gone"
    );
}

/// Collects everything the program logs, at every level.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn files_under(directory: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn stored_secrets(store: &Arc<dyn SecretStore>, accounts: &[&Account]) -> Vec<String> {
    let mut secrets = Vec::new();
    for account in accounts {
        let tokens =
            TokenSet::from_vault_secret(&store.load(&account.vault_key()).unwrap().unwrap())
                .unwrap();
        secrets.push(tokens.access_token.expose_secret().to_owned());
        secrets.push(tokens.refresh_token.unwrap().expose_secret().to_owned());
    }
    secrets
}

/// Fails if any of `secrets` is in the captured logs or in any file the program wrote.
fn assert_nowhere(secrets: &[String], logs: &LogBuffer, directory: &std::path::Path) {
    let log_text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        log_text.contains("signed in"),
        "the logs were captured:\n{log_text}"
    );
    let written: Vec<(std::path::PathBuf, String)> = files_under(directory)
        .into_iter()
        .map(|path| {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            (path, text)
        })
        .collect();
    assert!(!written.is_empty(), "the program wrote its accounts file");
    for secret in secrets {
        assert!(secret.len() > 16);
        assert!(
            !log_text.contains(secret.as_str()),
            "a secret value appeared in the logs"
        );
        for (path, text) in &written {
            assert!(
                !text.contains(secret.as_str()),
                "a secret value appeared in {}",
                path.display()
            );
        }
    }
}

/// The PKCE code_verifier stays inside the identity client (nothing outside it can read it), so the
/// secrets checked are the authorization code from the loopback redirect and every token value.
#[tokio::test]
async fn no_token_or_code_reaches_the_logs_or_any_file_after_a_full_session_and_its_failures() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("this test owns the global subscriber");
    let store = real_keychain("no-leaks");
    let bench = Bench::start_with(BenchOptions {
        store: Some(store.clone()),
        ..BenchOptions::default()
    })
    .await;

    // A full session: both apps, both methods, a refresh, calendars, free/busy, details.
    let full = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    let free_busy = bench
        .connect_device_code(
            AppKind::FreeBusy,
            demo::MEGAN,
            calconnect_sandbox::person::Consent::Approve,
        )
        .await
        .unwrap();
    let mut secrets: Vec<String> = bench
        .browser
        .redirects
        .lock()
        .unwrap()
        .iter()
        .filter_map(|redirect| {
            redirect
                .query_pairs()
                .find(|(key, _)| key == "code")
                .map(|(_, code)| code.into_owned())
        })
        .collect();
    assert_eq!(secrets.len(), 1, "the browser sign-in's authorization code");
    secrets.extend(stored_secrets(&store, &[&full.account, &free_busy.account]));
    bench.time.advance(Duration::from_secs(2 * 3600));
    bench.core.calendars(&full.account.id).await.unwrap();
    let now = chrono::Utc::now();
    bench
        .core
        .free_busy(&free_busy.account.id, now, now + chrono::Duration::days(70))
        .await
        .unwrap();
    let _ = bench.core.account_details(&full.account.id).await.unwrap();
    secrets.extend(stored_secrets(&store, &[&full.account, &free_busy.account]));
    assert_nowhere(&secrets, &logs, bench.directory.path());

    // Failures: a refresh that cannot reach Entra, then refresh tokens Entra rejects (AADSTS70000).
    bench.time.advance(Duration::from_secs(2 * 3600));
    bench.sandbox.faults().drop_connections("token", 10);
    let unreachable = bench.core.calendars(&full.account.id).await.unwrap_err();
    bench.sandbox.faults().clear();
    bench.sandbox.faults().revoke_refresh_tokens();
    let rejected = bench.core.calendars(&full.account.id).await.unwrap_err();
    assert_eq!(
        rejected.kind(),
        calconnect_core::ErrorKind::NeedsSignInAgain,
        "{rejected:?}"
    );
    let error_text = [&unreachable, &rejected]
        .iter()
        .map(|error| {
            format!(
                "{error} {error:?} {} {}",
                error.user_message(),
                error.next_step()
            )
        })
        .collect::<String>();
    for secret in &secrets {
        assert!(
            !error_text.contains(secret.as_str()),
            "a secret value appeared in an error"
        );
    }
    assert_nowhere(&secrets, &logs, bench.directory.path());
    for account in [&full.account, &free_busy.account] {
        bench.core.disconnect(&account.id).await.unwrap();
    }
}
