//! The connection wizard, end to end: the real app against a sandbox the test owns, the test playing
//! the person in the sandbox's sign-in, consent and device-code pages.

use crate::sandbox_app::SandboxApp;
use calconnect_e2e::{screenshot_dir, AppSession};
use calconnect_sandbox::demo;
use calconnect_sandbox::person::{Consent, Person};
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(45);

async fn shot(session: &AppSession, name: &str) -> anyhow::Result<()> {
    session
        .screenshot(&screenshot_dir().join(format!("{name}.png")))
        .await
}

/// Welcome → access → sign-in method, with `access` (`full` or `freeBusy`) chosen.
async fn choose_access(
    session: &AppSession,
    access: &str,
    start: &str,
    shots: bool,
) -> anyhow::Result<()> {
    session.click_on(start, LONG).await?;
    session
        .click_on(&format!("[data-testid=access-{access}]"), SHORT)
        .await?;
    if shots {
        shot(session, "02-choose-access").await?;
    }
    session
        .click_on("[data-testid=access-continue]", SHORT)
        .await?;
    session.find("[data-testid=method-browser]", SHORT).await?;
    Ok(())
}

#[tokio::test]
async fn a_person_connects_full_by_browser_and_free_busy_by_code_and_finds_both_after_a_restart(
) -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let person = Person::new(&fixture.sandbox)?;
    let session = fixture.launch().await?;

    // 1. Welcome, nothing connected yet.
    session
        .wait_for_text("[data-testid=no-accounts]", LONG, |text| {
            text.contains("No account")
        })
        .await?;
    assert_eq!(
        session
            .wait_for_text("[data-testid=cloud-label]", SHORT, |text| text
                != "loading…")
            .await?,
        "Sandbox"
    );

    // 2–3. Full access, browser sign-in: the test is the person at the sandbox's sign-in and consent pages.
    choose_access(&session, "full", "[data-testid=connect]", true).await?;
    shot(&session, "03-sign-in-method").await?;
    session
        .click_on("[data-testid=method-browser]", SHORT)
        .await?;
    session.find("[data-testid=browser-wait]", LONG).await?;
    session
        .wait_for_text("[data-testid=countdown]", SHORT, |text| {
            text.starts_with("4:") || text.starts_with("5:")
        })
        .await?;
    shot(&session, "04-waiting-for-browser").await?;
    let authorize = fixture.opened_url(0, SHORT).await?;
    let shown = session
        .wait_for_text("[data-testid=authorize-url]", SHORT, |text| {
            !text.is_empty()
        })
        .await?;
    assert_eq!(
        shown,
        authorize.as_str(),
        "the URL shown is the one the browser was given"
    );
    let redirect = person
        .sign_in(&authorize, demo::ADELE, Consent::Approve)
        .await?;
    let landing = person.follow(&redirect).await?;
    assert!(
        landing.status().is_success(),
        "the app's loopback page answered {}",
        landing.status()
    );

    // 4. Connected, Full: the account card and the calendar list.
    session
        .wait_for_text("[data-testid=account-name]", LONG, |text| {
            text == "Adele Vance"
        })
        .await?;
    assert_eq!(
        session
            .wait_for_text("[data-testid=account-access]", SHORT, |_| true)
            .await?,
        "Full"
    );
    let scopes = session
        .wait_for_text("[data-testid=account-scopes]", SHORT, |_| true)
        .await?;
    assert!(
        scopes.contains("Calendars.ReadWrite"),
        "granted scopes shown: {scopes}"
    );
    let keychain = session
        .wait_for_text("[data-testid=account-keychain]", SHORT, |text| text != "…")
        .await?;
    assert!(
        keychain.contains("Secret Service"),
        "the account says which keychain holds its tokens: {keychain}"
    );
    let renewed = session
        .wait_for_text("[data-testid=account-refresh]", SHORT, |text| text != "…")
        .await?;
    assert!(
        renewed.contains("lapses on"),
        "the account says when its refresh token was used and when it lapses: {renewed}"
    );
    let calendars = session
        .wait_for_count("[data-testid=calendar-row]", LONG, |count| count >= 3)
        .await?;
    let names = session
        .execute(
            "return [...document.querySelectorAll('[data-testid=calendar-name]')].map(e => e.textContent);",
            vec![],
        )
        .await?;
    for name in ["Calendar", "Team Events", "Birthdays"] {
        assert!(
            names.as_array().unwrap().iter().any(|shown| shown == name),
            "{name} missing from {names}"
        );
    }
    shot(&session, "05-connected-full-calendars").await?;
    // Search narrows the list.
    let search = session.find("[data-testid=calendar-search]", SHORT).await?;
    session.type_text(&search, "birth").await?;
    session
        .wait_for_count("[data-testid=calendar-row]", SHORT, |count| count == 1)
        .await?;
    session
        .wait_for_text("[data-testid=calendar-count]", SHORT, |text| {
            text == format!("1 of {calendars} calendars match")
        })
        .await?;

    // 3 again. Free/Busy by device code, entered "on another device" by the test.
    choose_access(&session, "freeBusy", "[data-testid=connect-another]", false).await?;
    session
        .click_on("[data-testid=method-device]", SHORT)
        .await?;
    let code = session
        .wait_for_text("[data-testid=user-code]", LONG, |text| !text.is_empty())
        .await?;
    let verification = session
        .wait_for_text("[data-testid=verification-uri]", SHORT, |_| true)
        .await?;
    assert_eq!(
        verification,
        format!("{}devicelogin", fixture.sandbox.base_url())
    );
    assert_eq!(session.count("img.qr").await?, 1, "a QR code is shown");
    // The countdown is pushed from Rust every second: it must change while the test waits.
    let first = session
        .wait_for_text("[data-testid=countdown]", SHORT, |text| !text.is_empty())
        .await?;
    session
        .wait_for_text("[data-testid=countdown]", SHORT, |text| text != first)
        .await?;
    shot(&session, "06-device-code").await?;
    person
        .enter_device_code(&code, demo::ADELE, Consent::Approve)
        .await?;

    // 4. Connected, Free/Busy: the single read-only calendar and the week of busy blocks.
    session
        .wait_for_text("[data-testid=account-access]", LONG, |text| {
            text == "Free/Busy only"
        })
        .await?;
    assert_eq!(
        session
            .wait_for_text("[data-testid=calendar-name]", SHORT, |_| true)
            .await?,
        "Free Busy"
    );
    session
        .wait_for_text("[data-testid=week-summary]", LONG, |text| {
            text.contains("busy block")
        })
        .await?;
    let blocks = session.count("[data-testid=busy-block]").await?;
    assert!(blocks > 0, "the demo week has busy blocks");
    shot(&session, "07-connected-free-busy-week").await?;
    let this_week = session
        .wait_for_text("[data-testid=week-title]", SHORT, |_| true)
        .await?;
    session.click_on("[data-testid=week-next]", SHORT).await?;
    session
        .wait_for_text("[data-testid=week-title]", SHORT, |text| text != this_week)
        .await?;
    session
        .wait_for_text("[data-testid=week-summary]", LONG, |text| {
            !text.starts_with("Loading")
        })
        .await?;
    session.click_on("[data-testid=week-today]", SHORT).await?;
    session
        .wait_for_text("[data-testid=week-title]", SHORT, |text| text == this_week)
        .await?;
    session.close().await?;

    // 5. Restart: both accounts are still there, and their tokens (from the keychain) still work.
    let session = fixture.launch().await?;
    session
        .wait_for_count("[data-testid=account-link]", LONG, |count| count == 2)
        .await?;
    session
        .click_on("[data-testid=nav-accounts]", SHORT)
        .await?;
    session
        .wait_for_count("[data-testid=account-item]", LONG, |count| count == 2)
        .await?;
    shot(&session, "08-accounts-after-restart").await?;
    session
        .click_on(
            "[data-testid=account-item][data-access=full] [data-testid=open-account]",
            SHORT,
        )
        .await?;
    session
        .wait_for_count("[data-testid=calendar-row]", LONG, |count| {
            count == calendars
        })
        .await?;

    // Disconnect the Free/Busy account, after confirming.
    session
        .click_on("[data-testid=nav-accounts]", SHORT)
        .await?;
    session
        .click_on(
            "[data-testid=account-item][data-access=freeBusy] [data-testid=disconnect]",
            LONG,
        )
        .await?;
    session
        .find("[data-testid=confirm-disconnect]", SHORT)
        .await?;
    shot(&session, "09-disconnect-confirmation").await?;
    session
        .click_on("[data-testid=confirm-disconnect]", SHORT)
        .await?;
    session
        .wait_for_count("[data-testid=account-item]", LONG, |count| count == 1)
        .await?;
    assert_eq!(
        session
            .count("[data-testid=account-item][data-access=full]")
            .await?,
        1
    );
    shot(&session, "10-accounts-after-disconnect").await?;
    session.close().await?;

    let accounts = std::fs::read_to_string(fixture.data_dir().join("sandbox-accounts.json"))?;
    assert!(
        !accounts.contains("freebusy:"),
        "the disconnected account left the accounts file"
    );
    for secret in ["\"access_token\"", "\"refresh_token\"", "eyJ"] {
        assert!(
            !accounts.contains(secret),
            "no token ({secret}) is ever written to the accounts file"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_tenant_that_needs_admin_consent_shows_the_message_and_the_link_to_send(
) -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let person = Person::new(&fixture.sandbox)?;
    let session = fixture.launch().await?;
    choose_access(&session, "full", "[data-testid=connect]", false).await?;
    session
        .click_on("[data-testid=method-browser]", SHORT)
        .await?;
    let authorize = fixture.opened_url(0, LONG).await?;
    let redirect = person
        .sign_in(&authorize, demo::LEE, Consent::Approve)
        .await?;
    person.follow(&redirect).await?;

    let message = session
        .wait_for_text("[data-testid=error-message]", LONG, |text| !text.is_empty())
        .await?;
    let code = session
        .execute(
            "return document.querySelector('[data-testid=error]').dataset.code;",
            vec![],
        )
        .await?;
    assert_eq!(code, "AdminConsentRequired", "message shown: {message}");
    let next_step = session
        .wait_for_text("[data-testid=error-next-step]", SHORT, |_| true)
        .await?;
    assert!(!next_step.is_empty());
    let link = session
        .wait_for_text("[data-testid=admin-consent-url]", SHORT, |_| true)
        .await?;
    assert!(
        link.contains("/adminconsent?") && link.contains(demo::FULL_APP_CLIENT_ID),
        "{link}"
    );
    shot(&session, "11-admin-consent-required").await?;
    session.close().await
}

#[tokio::test]
async fn cancelling_a_device_code_returns_to_the_choice_of_sign_in_method() -> anyhow::Result<()> {
    let fixture = SandboxApp::start().await?;
    let session = fixture.launch().await?;
    choose_access(&session, "freeBusy", "[data-testid=connect]", false).await?;
    session
        .click_on("[data-testid=method-device]", SHORT)
        .await?;
    session
        .wait_for_text("[data-testid=user-code]", LONG, |text| !text.is_empty())
        .await?;
    session
        .click_on("[data-testid=cancel-sign-in]", SHORT)
        .await?;
    session.find("[data-testid=method-device]", SHORT).await?;
    assert_eq!(
        session.count("[data-testid=error]").await?,
        0,
        "cancelling is not an error"
    );
    session.close().await
}

#[tokio::test]
async fn the_built_in_sandbox_keeps_its_address_and_state_across_restarts() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let env = [("CALCONNECT_DATA_DIR", data_dir.as_str())];
    let app = calconnect_e2e::app_binary()?;
    let mut addresses = Vec::new();
    for _run in 0..2 {
        let session = AppSession::launch(&app, &["--sandbox"], &env).await?;
        choose_access(&session, "freeBusy", "[data-testid=connect]", false).await?;
        session
            .click_on("[data-testid=method-device]", SHORT)
            .await?;
        addresses.push(
            session
                .wait_for_text("[data-testid=verification-uri]", LONG, |text| {
                    !text.is_empty()
                })
                .await?,
        );
        session
            .click_on("[data-testid=cancel-sign-in]", SHORT)
            .await?;
        session.find("[data-testid=method-device]", SHORT).await?;
        session.close().await?;
    }
    assert_eq!(
        addresses[0], addresses[1],
        "accounts store the sandbox's URLs, so its address must not change"
    );
    assert!(
        data.path().join("sandbox-state").is_dir(),
        "the sandbox's state is kept in the data directory"
    );
    Ok(())
}
