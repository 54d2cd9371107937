//! The identity client against the sandbox over loopback TLS, and against hostile servers and
//! authorities (`hostile` with `calconnect-hostile-server`, `hostile_authority`).

mod hostile;
mod hostile_authority;

use std::time::Duration;

use calconnect_identity::{
    AppKind, AppRegistration, Authority, CancellationToken, ErrorKind, IdentityClient, Prompt,
    Trust,
};
use calconnect_sandbox::person::{Consent, Person};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use secrecy::ExposeSecret;

async fn client(sandbox: &SandboxHandle, app: AppKind) -> IdentityClient {
    let http = calconnect_identity::http_client(&Trust::only(sandbox.ca_pem().unwrap())).unwrap();
    let authority = Authority::new(sandbox.base_url(), demo::DOMAIN).unwrap();
    let client_id = match app {
        AppKind::Full => demo::FULL_APP_CLIENT_ID,
        AppKind::FreeBusy => demo::FREEBUSY_APP_CLIENT_ID,
        AppKind::Teams => demo::TEAMS_APP_CLIENT_ID,
    };
    IdentityClient::discover(http, authority, AppRegistration::new(app, client_id))
        .await
        .expect("discovery succeeds")
}

#[tokio::test]
async fn discovery_finds_the_sandbox_endpoints_under_the_tenant() {
    let sandbox = Sandbox::builder().start().await.unwrap();

    let client = client(&sandbox, AppKind::Full).await;

    let discovery = client.discovery();
    // Discovery under a domain authority names the tenant by its id, as Entra's does.
    assert_eq!(
        discovery.token_endpoint.as_str(),
        format!(
            "{}{}/oauth2/v2.0/token",
            sandbox.base_url(),
            demo::TENANT_ID
        )
    );
    assert!(discovery
        .authorization_endpoint
        .path()
        .ends_with("/oauth2/v2.0/authorize"));
    assert!(discovery
        .device_authorization_endpoint
        .path()
        .ends_with("/oauth2/v2.0/devicecode"));
}

#[tokio::test]
async fn an_untrusted_certificate_fails_discovery_instead_of_skipping_verification() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let http = calconnect_identity::http_client(&Trust::default()).unwrap();
    let authority = Authority::new(sandbox.base_url(), demo::DOMAIN).unwrap();

    let error = IdentityClient::discover(
        http,
        authority,
        AppRegistration::new(AppKind::Full, demo::FULL_APP_CLIENT_ID),
    )
    .await
    .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Network, "{error:?}");
}

#[tokio::test]
async fn a_browser_sign_in_then_refresh_rotates_the_refresh_token() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let client = client(&sandbox, AppKind::Full).await;
    let sign_in = client.begin_browser_sign_in().await.unwrap();
    let person = Person::new(&sandbox).unwrap();
    let authorize_url = sign_in.authorize_url().clone();
    tokio::spawn(async move {
        let location = person
            .sign_in(&authorize_url, demo::ADELE, Consent::Approve)
            .await
            .unwrap();
        person.follow(&location).await.unwrap();
    });

    let signed_in = sign_in
        .complete(Duration::from_secs(20), &CancellationToken::new())
        .await
        .expect("signed in");
    let refreshed = client.refresh(&signed_in.tokens).await.expect("refreshed");

    assert!(signed_in
        .tokens
        .granted_scopes
        .contains("Calendars.ReadWrite"));
    assert_ne!(
        refreshed.refresh_token.unwrap().expose_secret(),
        signed_in.tokens.refresh_token.unwrap().expose_secret(),
        "Entra-style rotation: a new refresh token replaces the old one"
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_is_a_sign_in_expired_error_with_trace_ids() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let client = client(&sandbox, AppKind::FreeBusy).await;
    let device_code = client.start_device_code().await.unwrap();
    let person = Person::new(&sandbox).unwrap();
    let user_code = device_code.user_code.clone();
    let entering = tokio::spawn(async move {
        person
            .enter_device_code(&user_code, demo::ADELE, Consent::Approve)
            .await
    });
    // Real time here: the sandbox's interval is honoured, so shorten it through the sandbox's clock.
    let time = std::sync::Arc::new(SandboxTime(std::sync::Arc::new(sandbox)));
    let client = client.with_time(
        std::sync::Arc::new(calconnect_identity::SystemClock),
        time.clone(),
    );
    let signed_in = client
        .poll_device_code(&device_code, &CancellationToken::new(), &mut |_| {})
        .await
        .expect("signed in");
    entering.await.unwrap().unwrap();
    time.0.faults().revoke_refresh_tokens();

    let error = client.refresh(&signed_in.tokens).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::SignInExpired, "{error:?}");
    assert!(error.trace_id().is_some() && error.correlation_id().is_some());
}

/// Signs in through the browser flow, the person approving whatever page the sandbox shows.
async fn browser_sign_in(
    sandbox: &SandboxHandle,
    client: &IdentityClient,
    prompt: Option<Prompt>,
) -> (
    url::Url,
    calconnect_identity::Result<calconnect_identity::SignIn>,
) {
    let sign_in = client
        .begin_browser_sign_in_prompting(prompt)
        .await
        .unwrap();
    let person = Person::new(sandbox).unwrap();
    let authorize_url = sign_in.authorize_url().clone();
    let url = authorize_url.clone();
    tokio::spawn(async move {
        let location = person
            .sign_in(&url, demo::ADELE, Consent::Approve)
            .await
            .unwrap();
        person.follow(&location).await.unwrap();
    });
    let outcome = sign_in
        .complete(Duration::from_secs(20), &CancellationToken::new())
        .await;
    (authorize_url, outcome)
}

#[tokio::test]
async fn withdrawn_consent_is_consent_required_and_a_sign_in_with_prompt_consent_gives_it_again() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let client = client(&sandbox, AppKind::FreeBusy).await;
    let (_, signed_in) = browser_sign_in(&sandbox, &client, None).await;
    let signed_in = signed_in.expect("signed in");
    sandbox
        .faults()
        .revoke_consent(Some(demo::ADELE), Some(demo::FREEBUSY_APP_CLIENT_ID));

    let error = client.refresh(&signed_in.tokens).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::ConsentRequired, "{error:?}");
    assert!(error.needs_consent_prompt() && !error.needs_admin_consent());
    assert_eq!(
        error.aad().unwrap().suberror.as_deref(),
        Some("consent_required")
    );
    assert!(error.trace_id().is_some() && error.correlation_id().is_some());

    let (authorize_url, again) = browser_sign_in(&sandbox, &client, Some(Prompt::Consent)).await;
    assert!(authorize_url
        .query_pairs()
        .any(|(name, value)| name == "prompt" && value == "consent"));
    let again = again.expect("consent given again on Microsoft's page");
    client
        .refresh(&again.tokens)
        .await
        .expect("the new grant refreshes");
}

/// Sleeps a few real milliseconds while moving the sandbox's clock by the requested time.
struct SandboxTime(std::sync::Arc<SandboxHandle>);

impl calconnect_identity::Sleeper for SandboxTime {
    fn sleep(&self, duration: Duration) -> futures::future::BoxFuture<'static, ()> {
        self.0.advance_time(duration);
        Box::pin(tokio::time::sleep(Duration::from_millis(5)))
    }
}
