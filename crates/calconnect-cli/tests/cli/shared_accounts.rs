//! The CLI and another calconnect (the desktop app, played here by calconnect-core in this test's process)
//! changing the same accounts file at once: neither loses the other's change.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use calconnect_core::{Account, AccountStatus, AccountStore, UserInfo};
use calconnect_identity::{AccessLevel, AppKind, ScopeSet};
use chrono::Utc;
use url::Url;

use super::Cli;

/// Accounts the CLI logs out, one `calconnect logout` process each, three processes at a time.
const LOGOUTS: usize = 30;
const CLI_WORKERS: usize = 3;
/// At most this many accounts connected by the other calconnect while the CLI runs.
const MAX_CONNECTED: usize = 400;

fn account(id: &str) -> Account {
    let now = Utc::now();
    Account {
        id: id.to_owned(),
        authority: Url::parse("https://login.microsoftonline.com/").unwrap(),
        tenant: "organizations".into(),
        graph: Url::parse("https://graph.microsoft.com/").unwrap(),
        user: UserInfo {
            id: id.to_owned(),
            name: "Megan Bowen".into(),
            email: "megan@contoso.com".into(),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_logouts_and_another_calconnects_new_accounts_at_once_lose_no_change() {
    let cli = Cli::start("shared-accounts").await;
    let path = cli.directory.path().join("accounts.json");
    let logged_out: Vec<String> = (0..LOGOUTS)
        .map(|index| format!("full:cli-{index:02}"))
        .collect();
    let seeding = AccountStore::new(path.clone());
    for id in &logged_out {
        seeding.upsert(account(id)).await.unwrap();
    }

    // The other calconnect connects accounts for as long as the CLI processes run.
    let done = Arc::new(AtomicBool::new(false));
    let other = {
        let done = done.clone();
        let store = AccountStore::new(path.clone());
        tokio::spawn(async move {
            let mut connected = Vec::new();
            while !done.load(Ordering::SeqCst) && connected.len() < MAX_CONNECTED {
                let id = format!("full:app-{:03}", connected.len());
                store.upsert(account(&id)).await.unwrap();
                connected.push(id);
            }
            connected
        })
    };
    let worker = |first: usize| {
        let cli = &cli;
        let logged_out = &logged_out;
        async move {
            for id in logged_out.iter().skip(first).step_by(CLI_WORKERS) {
                let logout = cli.run(&["logout", id]).await;
                assert_eq!(
                    logout.code, 0,
                    "logout {id}: {}\n{}",
                    logout.stdout, logout.stderr
                );
            }
        }
    };
    tokio::join!(worker(0), worker(1), worker(2));
    done.store(true, Ordering::SeqCst);
    let connected = other.await.unwrap();

    let found: BTreeSet<String> = AccountStore::new(path)
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|account| account.id)
        .collect();
    let back: Vec<_> = logged_out.iter().filter(|id| found.contains(*id)).collect();
    let lost: Vec<_> = connected.iter().filter(|id| !found.contains(*id)).collect();
    assert!(
        back.is_empty() && lost.is_empty(),
        "{} of {} accounts connected meanwhile were lost: {lost:?}; logged-out accounts back: {back:?}",
        lost.len(),
        connected.len()
    );
    assert_eq!(found.len(), connected.len());
}
