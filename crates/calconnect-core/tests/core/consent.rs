//! AADSTS65001 ("no consent on record") leads to Microsoft's consent page (`prompt=consent`) first; only
//! AADSTS90094 ("only an admin can grant") or 65001 again after that page sends for an administrator.

use std::time::Duration;

use calconnect_core::{AccountStatus, ErrorKind};
use calconnect_identity::AppKind;
use calconnect_sandbox::demo;
use calconnect_sandbox::person::Consent;

use crate::support::{Behaviour, Bench};

fn prompt_of(url: &url::Url) -> Option<String> {
    url.query_pairs()
        .find(|(name, _)| name == "prompt")
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn a_withdrawn_consent_offers_the_consent_page_and_signing_in_with_it_restores_the_account() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::FreeBusy, demo::ADELE)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    bench
        .sandbox
        .faults()
        .revoke_consent(Some(demo::ADELE), Some(demo::FREEBUSY_APP_CLIENT_ID));
    bench.time.advance(Duration::from_secs(2 * 3600));

    let error = bench
        .core
        .free_busy(&connected.account.id, now, now + chrono::Duration::days(7))
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::ConsentRequired, "{error:?}");
    assert!(error.suggests_consent_prompt());
    assert!(
        error.admin_consent().is_none(),
        "no administrator before the consent page"
    );
    assert!(
        error.next_step().contains("consent page"),
        "{}",
        error.next_step()
    );
    assert!(error.trace_id().is_some(), "Entra's IDs are kept");
    let accounts = bench.core.list_accounts().await.unwrap();
    assert_eq!(accounts[0].status, AccountStatus::NeedsSignInAgain);

    let pending = bench
        .core
        .start_browser_sign_in_with_consent(AppKind::FreeBusy)
        .await
        .unwrap();
    assert_eq!(
        prompt_of(pending.authorize_url()).as_deref(),
        Some("consent")
    );
    let again = pending.finish().await.expect("Adele consents again");

    assert_eq!(again.account.id, connected.account.id);
    assert_eq!(again.account.status, AccountStatus::Connected);
    bench
        .core
        .free_busy(&connected.account.id, now, now + chrono::Duration::days(7))
        .await
        .expect("free/busy works again");
}

#[tokio::test]
async fn lees_device_code_65001_offers_the_consent_page_whose_need_admin_approval_sends_the_link() {
    let bench = Bench::start().await;

    // Lee may not consent to the Full app: the device page's only way out returns to the app, whose
    // poll gets AADSTS65001 (consent_required).
    let error = bench
        .connect_device_code(AppKind::Full, demo::LEE, Consent::Approve)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::ConsentRequired, "{error:?}");
    assert!(error.admin_consent().is_none(), "{error:?}");

    bench.browser.set(Behaviour::SignIn {
        email: demo::LEE.to_owned(),
        consent: Consent::Approve,
    });
    let pending = bench
        .core
        .start_browser_sign_in_with_consent(AppKind::Full)
        .await
        .unwrap();
    assert_eq!(
        prompt_of(pending.authorize_url()).as_deref(),
        Some("consent")
    );
    let error = pending.finish().await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::AdminConsentRequired, "{error:?}");
    assert!(!error.suggests_consent_prompt());
    let link = error.admin_consent().expect("the admin-consent link");
    assert!(
        link.url.path().ends_with("/v2.0/adminconsent"),
        "{}",
        link.url
    );
    assert!(
        error.user_message().contains("administrator"),
        "{}",
        error.user_message()
    );
}

#[tokio::test]
async fn consent_still_missing_after_the_consent_page_sends_for_an_administrator() {
    let bench = Bench::start().await;
    bench.browser.set(Behaviour::SignInThenConsentWithdrawn {
        email: demo::ADELE.to_owned(),
        client_id: demo::FREEBUSY_APP_CLIENT_ID.to_owned(),
    });

    // Without the consent page asked for, 65001 offers it.
    let first = bench
        .core
        .start_browser_sign_in(AppKind::FreeBusy)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap_err();
    assert_eq!(first.kind(), ErrorKind::ConsentRequired, "{first:?}");
    assert!(first.admin_consent().is_none());

    // After it, 65001 again means the person cannot consent: the administrator's link.
    let second = bench
        .core
        .start_browser_sign_in_with_consent(AppKind::FreeBusy)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap_err();
    assert_eq!(second.kind(), ErrorKind::AdminConsentRequired, "{second:?}");
    assert!(!second.suggests_consent_prompt());
    assert!(second.admin_consent().is_some());
    assert!(
        second.next_step().contains("admin-consent link"),
        "{}",
        second.next_step()
    );
    assert!(second.trace_id().is_some());
    assert!(bench.browser.failures.lock().unwrap().is_empty());
}
