//! Two real OS processes changing one accounts file at the same moment, as the desktop app and the CLI do:
//! no change of either may be lost.
//!
//! The second process is this test binary itself, started again to run only [`account_changer`] (an ignored
//! test, so a normal run skips it): the same public API the app and the CLI call, in a process of its own.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calconnect_core::{Account, AccountStatus, AccountStore, UserInfo};
use calconnect_identity::{AccessLevel, AppKind, ScopeSet};
use chrono::Utc;
use url::Url;

/// Changes each process makes: `CHANGES` accounts added, then every other one of them removed.
const CHANGES: usize = 50;
const CHILD_ACCOUNTS: &str = "CALCONNECT_TEST_CHILD_ACCOUNTS";
const CHILD_NAME: &str = "CALCONNECT_TEST_CHILD_NAME";
const CHILD_GO: &str = "CALCONNECT_TEST_CHILD_GO";

fn account(id: &str) -> Account {
    let now = Utc::now();
    Account {
        id: id.to_owned(),
        authority: Url::parse("https://login.microsoftonline.com/").unwrap(),
        tenant: "organizations".into(),
        graph: Url::parse("https://graph.microsoft.com/").unwrap(),
        user: UserInfo {
            id: id.to_owned(),
            name: "Adele Vance".into(),
            email: "adele@contoso.com".into(),
        },
        app: AppKind::Full,
        client_id: "c".into(),
        access: AccessLevel::Full,
        granted_scopes: ScopeSet::parse("User.Read Calendars.ReadWrite"),
        status: AccountStatus::Connected,
        connected_at: now,
        refresh_token_last_used: now,
    }
}

fn id(process: &str, index: usize) -> String {
    format!("full:{process}-{index:02}")
}

/// The accounts a process leaves behind: the odd ones (the even ones it removed again).
fn kept(process: &str) -> impl Iterator<Item = String> + '_ {
    (0..CHANGES)
        .filter(|index| index % 2 == 1)
        .map(move |index| id(process, index))
}

/// Starts this test binary again, running only [`account_changer`] as `name` on `accounts`.
fn spawn_changer(accounts: &Path, name: &str, go: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "shared_files::account_changer",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ACCOUNTS, accounts)
        .env(CHILD_NAME, name)
        .env(CHILD_GO, go)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the test binary starts again")
}

#[test]
fn two_processes_changing_the_accounts_at_once_lose_none_of_each_others_changes() {
    let directory = tempfile::tempdir().unwrap();
    let accounts = directory.path().join("calconnect/accounts.json");
    let go = directory.path().join("go");
    let names = ["app", "cli"];
    let children: Vec<_> = names
        .iter()
        .map(|name| spawn_changer(&accounts, name, &go))
        .collect();
    // Both start their changes together, once both processes are running (each waits for the file).
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&go, b"").unwrap();
    for (name, child) in names.iter().zip(children) {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "the {name} process failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("1 passed"),
            "the {name} process ran the changer:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let found: BTreeSet<String> = runtime
        .block_on(AccountStore::new(accounts).list())
        .unwrap()
        .into_iter()
        .map(|account| account.id)
        .collect();
    let expected: BTreeSet<String> = names.iter().flat_map(|name| kept(name)).collect();
    let lost: Vec<_> = expected.difference(&found).collect();
    let resurrected: Vec<_> = found.difference(&expected).collect();
    assert!(
        lost.is_empty() && resurrected.is_empty(),
        "added accounts lost: {lost:?}; removed accounts back: {resurrected:?}"
    );
}

/// The other process's half of the test above; does nothing unless that test started it.
#[test]
#[ignore = "run in a child process by two_processes_changing_the_accounts_at_once_lose_none_of_each_others_changes"]
fn account_changer() {
    let (Some(accounts), Some(name), Some(go)) = (
        std::env::var_os(CHILD_ACCOUNTS).map(PathBuf::from),
        std::env::var(CHILD_NAME).ok(),
        std::env::var_os(CHILD_GO).map(PathBuf::from),
    ) else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !go.exists() {
        assert!(Instant::now() < deadline, "the parent never said go");
        std::thread::sleep(Duration::from_millis(1));
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = AccountStore::new(accounts);
        for index in 0..CHANGES {
            store.upsert(account(&id(&name, index))).await.unwrap();
            if index % 2 == 1 {
                assert!(
                    store.remove(&id(&name, index - 1)).await.unwrap(),
                    "{} was there to remove",
                    id(&name, index - 1)
                );
            }
        }
    });
}
