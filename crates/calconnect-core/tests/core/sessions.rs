use std::time::Duration;

use calconnect_core::{AccountStatus, ErrorKind, REFRESH_MARGIN};
use calconnect_identity::{AppKind, Clock, TokenSet};
use calconnect_sandbox::demo;
use secrecy::ExposeSecret;

use crate::support::{Bench, BenchOptions};

fn stored_tokens(bench: &Bench, key: &str) -> TokenSet {
    TokenSet::from_vault_secret(&bench.store.load(key).unwrap().expect("tokens stored")).unwrap()
}

#[tokio::test]
async fn an_expiring_access_token_is_refreshed_and_the_rotated_refresh_token_stored() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    let key = connected.account.vault_key();
    let before = stored_tokens(&bench, &key);
    let tokens_before = bench.routes("token");

    bench.time.advance(Duration::from_secs(2 * 3600));
    bench
        .core
        .calendars(&connected.account.id)
        .await
        .expect("works after a refresh");

    assert_eq!(
        bench.routes("token"),
        tokens_before + 1,
        "one refresh:\n{}",
        bench.journal_text()
    );
    let after = stored_tokens(&bench, &key);
    assert_ne!(
        after.access_token.expose_secret(),
        before.access_token.expose_secret()
    );
    assert_ne!(
        after.refresh_token.as_ref().unwrap().expose_secret(),
        before.refresh_token.as_ref().unwrap().expose_secret(),
        "the rotated refresh token replaced the old one"
    );
    let details = bench
        .core
        .account_details(&connected.account.id)
        .await
        .unwrap();
    assert!(
        details.refresh_token_last_used > connected.account.refresh_token_last_used,
        "last use is recorded"
    );
    assert_eq!(
        details.refresh_token_expires_at - details.refresh_token_last_used,
        chrono::Duration::days(90)
    );
}

#[tokio::test]
async fn a_fresh_access_token_is_used_without_refreshing() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    let tokens_before = bench.routes("token");

    bench.core.calendars(&connected.account.id).await.unwrap();

    assert_eq!(bench.routes("token"), tokens_before);
}

#[tokio::test]
async fn a_revoked_refresh_token_marks_the_account_needs_sign_in_again_and_keeps_it() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    bench.sandbox.faults().revoke_refresh_tokens();
    bench.time.advance(Duration::from_secs(2 * 3600));

    let error = bench
        .core
        .calendars(&connected.account.id)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::NeedsSignInAgain, "{error:?}");
    let accounts = bench.core.list_accounts().await.unwrap();
    assert_eq!(accounts.len(), 1, "metadata is kept");
    assert_eq!(accounts[0].status, AccountStatus::NeedsSignInAgain);
    assert_eq!(accounts[0].user, connected.account.user);
    let again = bench
        .core
        .calendars(&connected.account.id)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::NeedsSignInAgain);
}

#[tokio::test]
async fn an_inactive_refresh_token_past_90_days_needs_sign_in_again_and_signing_in_restores_it() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::FreeBusy, demo::ADELE)
        .await
        .unwrap();
    bench.sandbox.faults().expire_refresh_tokens();
    bench.time.advance(Duration::from_secs(2 * 3600));
    let now = chrono::Utc::now();

    let error = bench
        .core
        .free_busy(&connected.account.id, now, now + chrono::Duration::days(1))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NeedsSignInAgain, "{error:?}");

    let reconnected = bench
        .connect_browser(AppKind::FreeBusy, demo::ADELE)
        .await
        .unwrap();
    assert_eq!(reconnected.account.id, connected.account.id);
    assert_eq!(
        bench.core.list_accounts().await.unwrap()[0].status,
        AccountStatus::Connected
    );
}

#[tokio::test]
async fn several_accounts_stay_connected_at_once_and_disconnect_removes_one_completely() {
    let bench = Bench::start().await;
    let adele = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    let megan = bench
        .connect_browser(AppKind::FreeBusy, demo::MEGAN)
        .await
        .unwrap();
    assert_eq!(bench.core.list_accounts().await.unwrap().len(), 2);

    bench.core.disconnect(&adele.account.id).await.unwrap();

    let remaining = bench.core.list_accounts().await.unwrap();
    assert_eq!(
        remaining
            .iter()
            .map(|account| account.id.as_str())
            .collect::<Vec<_>>(),
        [megan.account.id.as_str()]
    );
    assert!(
        bench
            .store
            .load(&adele.account.vault_key())
            .unwrap()
            .is_none(),
        "keychain entry removed"
    );
    assert!(bench
        .store
        .load(&megan.account.vault_key())
        .unwrap()
        .is_some());
    assert_eq!(
        bench
            .core
            .calendars(&adele.account.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::AccountNotFound
    );
}

#[tokio::test]
async fn an_access_token_graph_rejects_triggers_one_refresh_and_a_retry() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    let key = connected.account.vault_key();
    // An access token that has not expired by the clock but that Graph no longer accepts (revoked early).
    let mut tokens = stored_tokens(&bench, &key);
    tokens.access_token = secrecy::SecretString::from("eyJub3QiOiJ2YWxpZCJ9.e30.c2ln");
    bench.store.save(&key, &tokens.to_vault_secret()).unwrap();
    let tokens_before = bench.routes("token");

    let calendars = bench
        .core
        .calendars(&connected.account.id)
        .await
        .expect("retried with a refreshed token");

    assert_eq!(calendars.len(), connected.calendars.len());
    assert_eq!(
        bench.routes("token"),
        tokens_before + 1,
        "exactly one refresh:\n{}",
        bench.journal_text()
    );
    let statuses: Vec<u16> = bench
        .sandbox
        .journal()
        .iter()
        .filter(|entry| entry.route == "graph.calendars")
        .map(|entry| entry.status)
        .collect();
    assert!(
        statuses.contains(&401),
        "Graph first rejected the token: {statuses:?}"
    );
}

#[tokio::test]
async fn a_refresh_during_the_sign_in_stores_the_rotated_tokens_not_the_redeemed_ones() {
    // 400 s tokens: outside the 5-minute margin when issued, inside it after Graph's 120 s throttle.
    let bench = Bench::start_with(BenchOptions {
        access_token_lifetime: Some(Duration::from_secs(400)),
        ..BenchOptions::default()
    })
    .await;
    bench.sandbox.faults().throttle("graph.me", 429, 120, 1);

    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .expect("sign-in succeeds");

    assert_eq!(
        bench.refreshes(),
        1,
        "the sign-in refreshed once:\n{}",
        bench.journal_text()
    );
    let stored = stored_tokens(&bench, &connected.account.vault_key());
    assert_eq!(
        stored.expires_at,
        bench.time.now() + chrono::Duration::seconds(400),
        "the keychain holds the refreshed set, issued after the throttle"
    );
    assert!(!stored.expires_within(bench.time.now(), REFRESH_MARGIN));
    let tokens_before = bench.routes("token");
    bench
        .core
        .calendars(&connected.account.id)
        .await
        .expect("the stored tokens work");
    assert_eq!(
        bench.routes("token"),
        tokens_before,
        "the stored access token is the fresh one, so no refresh is needed:\n{}",
        bench.journal_text()
    );
}

#[tokio::test]
async fn concurrent_reads_on_an_expired_token_share_one_refresh_and_leave_a_readable_entry() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    let key = connected.account.vault_key();
    let before = stored_tokens(&bench, &key);
    let tokens_before = bench.routes("token");
    bench.time.advance(Duration::from_secs(2 * 3600));

    let (first, second) = tokio::join!(
        bench.core.calendars(&connected.account.id),
        bench.core.calendars(&connected.account.id)
    );

    assert_eq!(first.expect("first read").len(), connected.calendars.len());
    assert_eq!(
        second.expect("second read").len(),
        connected.calendars.len()
    );
    assert_eq!(
        bench.routes("token"),
        tokens_before + 1,
        "exactly one refresh:\n{}",
        bench.journal_text()
    );
    let after = stored_tokens(&bench, &key);
    assert_ne!(
        after.refresh_token.as_ref().unwrap().expose_secret(),
        before.refresh_token.as_ref().unwrap().expose_secret()
    );
    assert!(!after.expires_within(bench.time.now(), REFRESH_MARGIN));
}

#[tokio::test]
async fn a_refresh_that_cannot_reach_entra_is_a_network_error_not_a_configuration_one() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    bench.time.advance(Duration::from_secs(2 * 3600));
    bench.sandbox.faults().drop_connections("token", 10);

    let error = bench
        .core
        .calendars(&connected.account.id)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Network, "{error:?}");
    assert_eq!(error.to_string(), "token refresh failed");
    assert!(
        !error.user_message().contains("configuration"),
        "{}",
        error.user_message()
    );
    assert_eq!(
        bench.core.list_accounts().await.unwrap()[0].status,
        AccountStatus::Connected,
        "a passing failure does not ask for a new sign-in"
    );
}
