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
async fn a_forged_redirect_before_the_real_one_is_refused_and_the_sign_in_still_succeeds() {
    let bench = Bench::start().await;
    bench.browser.set(Behaviour::ForgeStateFirst {
        email: demo::ADELE.to_owned(),
    });

    let connected = bench
        .core
        .start_browser_sign_in(AppKind::Full)
        .await
        .unwrap()
        .finish()
        .await
        .expect("the real redirect still completes the sign-in");

    assert_eq!(connected.account.user.email, demo::ADELE);
    assert_eq!(
        *bench.browser.forged_answers.lock().unwrap(),
        [400],
        "the forged redirect got an error page"
    );
    assert_eq!(
        bench.routes("token"),
        1,
        "only the real code is redeemed: {}",
        bench.journal_text()
    );
}

#[tokio::test]
async fn the_redirect_uri_sent_is_the_registered_one_with_only_the_port_added() {
    let bench = Bench::start().await;

    let pending = bench
        .core
        .start_browser_sign_in(AppKind::Full)
        .await
        .unwrap();
    let sent: std::collections::HashMap<String, String> =
        pending.authorize_url().query_pairs().into_owned().collect();
    pending.finish().await.expect("sign-in succeeds");

    let redirect_uri = &sent["redirect_uri"];
    let port = redirect_uri
        .strip_prefix("http://localhost:")
        .unwrap_or_else(|| {
            panic!(
                "the registered {} with a port: {redirect_uri}",
                demo::REDIRECT_URI
            )
        });
    assert!(
        port.parse::<u16>().is_ok(),
        "nothing after the port, not even a slash: {redirect_uri}"
    );
    assert_eq!(
        bench.authorize_requests()[0]["redirect_uri"],
        *redirect_uri,
        "the sandbox received it as sent"
    );
}

#[tokio::test]
async fn connecting_another_account_asks_the_browser_to_show_the_account_picker() {
    let bench = Bench::start().await;

    bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .expect("first account");
    bench
        .connect_browser(AppKind::Full, demo::MEGAN)
        .await
        .expect("second account");

    let requests = bench.authorize_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].get("prompt"),
        None,
        "the first account needs no picker"
    );
    assert_eq!(
        requests[1].get("prompt").map(String::as_str),
        Some("select_account"),
        "else the browser silently reuses the first account's session"
    );
    assert_eq!(bench.core.list_accounts().await.unwrap().len(), 2);
}

#[tokio::test]
async fn signing_a_known_account_in_again_names_it_in_login_hint() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .expect("first sign-in");

    bench
        .core
        .start_browser_sign_in_again(&connected.account.id)
        .await
        .unwrap()
        .finish()
        .await
        .expect("signed in again");

    let requests = bench.authorize_requests();
    assert_eq!(
        requests[1].get("login_hint").map(String::as_str),
        Some(demo::ADELE)
    );
    assert_eq!(
        requests[1].get("prompt"),
        None,
        "the hint picks the account: no picker"
    );
    assert_eq!(bench.core.list_accounts().await.unwrap().len(), 1);
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
