//! The wizard's browser sign-in completed in a real browser: headless Chromium is the app's `$BROWSER`,
//! trusts the sandbox's CA through its own NSS database, shows the sandbox's sign-in and consent pages,
//! submits them, and follows the redirect to the app's loopback listener itself — no scripted HTTP client
//! between the pages and the app.

use crate::sandbox_app::SandboxApp;
use calconnect_e2e::{screenshot_dir, Chromium};
use calconnect_sandbox::{demo, Sandbox};
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(45);

#[tokio::test]
async fn the_wizards_browser_sign_in_completes_in_real_chromium_and_reaches_the_apps_listener(
) -> anyhow::Result<()> {
    let mut fixture = SandboxApp::start().await?;
    let chromium = Chromium::start(&fixture.ca_path()).await?;
    let script = fixture.file("chromium-browser.sh");
    chromium.write_browser_script(&script, &fixture.opened_record())?;
    fixture.set_browser(&script);
    let session = fixture.launch().await?;

    session
        .wait_for_text("[data-testid=no-accounts]", LONG, |text| {
            text.contains("No account")
        })
        .await?;
    session.click_on("[data-testid=connect]", LONG).await?;
    session.click_on("[data-testid=access-full]", SHORT).await?;
    session
        .click_on("[data-testid=access-continue]", SHORT)
        .await?;
    session
        .click_on("[data-testid=method-browser]", SHORT)
        .await?;
    session.find("[data-testid=browser-wait]", LONG).await?;

    // The app ran $BROWSER, which opened the authorize URL in Chromium: the sandbox's sign-in page, over
    // TLS that Chromium verified against the NSS database (an untrusted CA stops at an interstitial).
    let authorize = fixture.opened_url(0, SHORT).await?;
    assert_eq!(authorize.origin(), fixture.sandbox.base_url().origin());
    let account = chromium
        .find(
            &format!("form#signin input[name=login][value=\"{}\"]", demo::ADELE),
            LONG,
        )
        .await?;
    assert!(
        chromium.current_url().await?.starts_with("https://"),
        "the sign-in page is served over https"
    );
    chromium
        .screenshot(&screenshot_dir().join("chromium-01-sign-in.png"))
        .await?;
    chromium.click(&account).await?;
    chromium
        .click_on("form#signin button[type=submit]", SHORT)
        .await?;

    let accept = chromium
        .find("form#consent button[name=decision][value=accept]", LONG)
        .await?;
    chromium
        .screenshot(&screenshot_dir().join("chromium-02-consent.png"))
        .await?;
    let accepted_at = Instant::now();
    chromium.click(&accept).await?;

    // Chromium follows the sandbox's redirect to http://localhost:PORT/?code=… and shows the listener's page.
    let landing = chromium
        .wait_for_url(LONG, |url| url.starts_with("http://localhost:"))
        .await?;
    let heading = chromium
        .wait_for_text("h1", LONG, |text| !text.is_empty())
        .await?;
    let to_listener = accepted_at.elapsed();
    chromium
        .screenshot(&screenshot_dir().join("chromium-03-loopback.png"))
        .await?;
    assert_eq!(
        heading,
        "You are signed in",
        "the listener's page (at {})",
        landing.split('?').next().unwrap_or_default()
    );
    eprintln!("consent accepted → listener page in Chromium: {to_listener:?}");

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
    session
        .screenshot(&screenshot_dir().join("chromium-04-app-connected.png"))
        .await?;
    session.close().await?;
    chromium.close().await?;
    Ok(())
}

/// The trust and the fence the test above relies on: Chromium trusts the CA in its NSS database and no
/// other (a sandbox with another CA is `ERR_CERT_AUTHORITY_INVALID`, not a page), and a host name other
/// than localhost does not resolve, so nothing it loads leaves loopback.
#[tokio::test]
async fn chromium_trusts_only_the_ca_in_its_nss_database_and_resolves_only_loopback(
) -> anyhow::Result<()> {
    let trusted = Sandbox::builder().tls(true).start().await?;
    let other = Sandbox::builder().tls(true).start().await?;
    let dir = tempfile::tempdir()?;
    let ca = dir.path().join("trusted-ca.pem");
    trusted.write_ca_pem(&ca)?;
    let chromium = Chromium::start(&ca).await?;
    let discovery = |sandbox: &calconnect_sandbox::SandboxHandle| {
        format!(
            "{}{}/v2.0/.well-known/openid-configuration",
            sandbox.base_url(),
            demo::DOMAIN
        )
    };

    chromium.navigate(&discovery(&trusted)).await?;
    let body = chromium
        .wait_for_text("body", SHORT, |text| !text.is_empty())
        .await?;
    assert!(body.contains("authorization_endpoint"), "{body}");

    let untrusted = chromium.navigate(&discovery(&other)).await;
    let shown = chromium
        .execute(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )
        .await?;
    assert!(
        untrusted
            .as_ref()
            .is_err_and(|error| error.to_string().contains("CERT_AUTHORITY_INVALID"))
            || shown
                .as_str()
                .is_some_and(|text| text.contains("CERT_AUTHORITY_INVALID")),
        "a sandbox whose CA is not in the NSS database is refused: {untrusted:?} {shown}"
    );
    assert!(
        !shown
            .as_str()
            .unwrap_or_default()
            .contains("authorization_endpoint"),
        "the untrusted page was not shown"
    );

    let outside = chromium
        .navigate("https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration")
        .await;
    assert!(
        outside
            .as_ref()
            .is_err_and(|error| error.to_string().contains("ERR_NAME_NOT_RESOLVED")),
        "a host outside loopback does not resolve: {outside:?}"
    );
    chromium.close().await?;
    Ok(())
}
