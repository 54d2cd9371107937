use std::time::Duration;

use calconnect_core::{AccountStatus, ErrorKind};
use calconnect_identity::{AccessLevel, AppKind};
use calconnect_sandbox::demo;
use calconnect_sandbox::person::Consent;

use crate::support::{Behaviour, Bench, BenchOptions};

#[tokio::test]
async fn full_app_browser_sign_in_connects_adele_with_all_her_calendars() {
    let bench = Bench::start().await;

    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .expect("sign-in succeeds");

    assert_eq!(connected.account.user.email, demo::ADELE);
    assert_eq!(connected.account.access, AccessLevel::Full);
    assert_eq!(connected.account.status, AccountStatus::Connected);
    assert!(
        connected.calendars.len() > 1,
        "Adele has several calendars: {:?}",
        connected.calendars
    );
    assert_eq!(
        connected
            .calendars
            .iter()
            .filter(|calendar| calendar.is_default)
            .count(),
        1,
        "exactly one default calendar"
    );
    let listed = bench.core.list_accounts().await.unwrap();
    assert_eq!(
        listed,
        vec![connected.account.clone()],
        "the account is stored"
    );
    assert!(
        bench
            .store
            .load(&connected.account.vault_key())
            .unwrap()
            .is_some(),
        "tokens are in the secret store"
    );
}

#[tokio::test]
async fn free_busy_app_browser_sign_in_yields_one_read_only_free_busy_calendar() {
    let bench = Bench::start().await;

    let connected = bench
        .connect_browser(AppKind::FreeBusy, demo::ADELE)
        .await
        .expect("sign-in succeeds");

    assert_eq!(connected.account.access, AccessLevel::FreeBusy);
    assert_eq!(connected.calendars.len(), 1);
    let calendar = &connected.calendars[0];
    assert_eq!(calendar.name, "Free Busy");
    assert!(!calendar.can_edit && calendar.free_busy_only);
    assert_eq!(
        bench.routes("graph.calendars"),
        0,
        "a Free/Busy account never lists calendars"
    );
}

#[tokio::test]
async fn declining_consent_in_the_browser_is_a_declined_consent_error() {
    let bench = Bench::start().await;
    bench.browser.set(Behaviour::SignIn {
        email: demo::ADELE.to_owned(),
        consent: Consent::Decline,
    });

    let error = bench
        .core
        .start_browser_sign_in(AppKind::Full)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::ConsentDeclined, "{error:?}");
    assert!(
        error.user_message().contains("declined"),
        "{}",
        error.user_message()
    );
    assert!(bench.core.list_accounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_redirect_with_a_forged_state_is_rejected_and_nothing_is_stored() {
    let bench = Bench::start().await;
    bench.browser.set(Behaviour::ForgeState {
        email: demo::ADELE.to_owned(),
    });

    let error = bench
        .core
        .start_browser_sign_in(AppKind::Full)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::StateMismatch, "{error:?}");
    assert_eq!(
        bench.routes("token"),
        0,
        "the code of a forged redirect is never redeemed"
    );
    assert!(bench.core.list_accounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_browser_that_never_returns_times_out_and_suggests_the_device_code() {
    let bench = Bench::start_with(BenchOptions {
        browser_timeout: Duration::from_millis(300),
        ..BenchOptions::default()
    })
    .await;
    bench.browser.set(Behaviour::Vanish);

    let error = bench
        .core
        .start_browser_sign_in(AppKind::Full)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::TimedOut);
    assert!(error.suggests_device_code());
}

#[tokio::test]
async fn a_cancelled_browser_sign_in_stops_at_once() {
    let bench = Bench::start().await;
    bench.browser.set(Behaviour::Vanish);
    let pending = bench
        .core
        .start_browser_sign_in(AppKind::Full)
        .await
        .unwrap();
    pending.cancel_token().cancel();

    let error = pending.finish().await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Cancelled);
}

#[tokio::test]
async fn admin_consent_required_for_lee_produces_a_ready_to_send_link_with_reasons() {
    let bench = Bench::start().await;

    let error = bench
        .connect_browser(AppKind::Full, demo::LEE)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::AdminConsentRequired, "{error:?}");
    let consent = error.admin_consent().expect("an admin-consent link");
    assert!(
        consent.url.path().ends_with("/v2.0/adminconsent"),
        "{}",
        consent.url
    );
    assert!(consent
        .url
        .query()
        .unwrap()
        .contains(demo::FULL_APP_CLIENT_ID));
    let requested: String = consent
        .url
        .query_pairs()
        .find(|(name, _)| name == "scope")
        .map(|(_, value)| value.into_owned())
        .expect("a scope parameter");
    assert_eq!(
        requested,
        "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Calendars.ReadWrite offline_access",
        "scopes are qualified with Graph's resource, never with the API URL and its version"
    );
    let scopes: Vec<&str> = consent
        .permissions
        .iter()
        .map(|permission| permission.scope.as_str())
        .collect();
    assert_eq!(
        scopes,
        ["User.Read", "Calendars.ReadWrite", "offline_access"]
    );
}

#[tokio::test]
async fn lee_can_still_connect_with_the_free_busy_app() {
    let bench = Bench::start().await;

    let connected = bench
        .connect_browser(AppKind::FreeBusy, demo::LEE)
        .await
        .expect("Free/Busy needs no admin consent");

    assert_eq!(connected.account.access, AccessLevel::FreeBusy);
}
