//! Tenant-wide admin consent (`/{tenant}/adminconsent`, and its v2.0 form) for the "calconnect Enterprise
//! Connect (Graph, awaiting consent)" app: no roles before, only an administrator may grant, a decline
//! records nothing, and after approval client-credential tokens carry the four requested roles.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use calconnect_sandbox::demo;
use calconnect_sandbox::person::{AdminConsentOutcome, Consent};
use serde_json::Value;
use url::Url;

use crate::support::{post_token, world, World};

const CALLBACK: &str = "https://calconnect.example/oauth/callback";
const REQUESTED: [&str; 4] = [
    "Calendars.ReadWrite",
    "Organization.Read.All",
    "Place.Read.All",
    "User.Read.All",
];

async fn roles(world: &World) -> Option<Vec<String>> {
    let (status, body) = post_token(
        world,
        &[
            ("client_id", demo::GRAPH_UNCONSENTED_APP_CLIENT_ID),
            ("client_secret", demo::GRAPH_UNCONSENTED_APP_CLIENT_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("a token");
    let part = token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON");
    claims["roles"].as_array().map(|roles| {
        let mut roles: Vec<String> = roles
            .iter()
            .map(|role| role.as_str().expect("a string").to_owned())
            .collect();
        roles.sort();
        roles
    })
}

fn consent_url(world: &World, path: &str, extra: &[(&str, &str)]) -> Url {
    let mut url = world
        .sandbox
        .base_url()
        .join(&format!("{}/{path}", demo::TENANT_ID))
        .expect("url");
    url.query_pairs_mut()
        .append_pair("client_id", demo::GRAPH_UNCONSENTED_APP_CLIENT_ID)
        .extend_pairs(extra);
    url
}

fn redirect(outcome: &AdminConsentOutcome) -> &Url {
    match outcome {
        AdminConsentOutcome::Redirect(location) => location,
        other => panic!("expected a redirect, got {other:?}"),
    }
}

#[tokio::test]
async fn an_administrator_grants_the_requested_roles_and_new_tokens_carry_them() {
    let world = world().await;
    assert_eq!(roles(&world).await, None, "no roles before consent");

    let url = consent_url(
        &world,
        "adminconsent",
        &[("redirect_uri", CALLBACK), ("state", "s-42")],
    );
    let outcome = world
        .person
        .admin_consent(&url, demo::ADELE, Consent::Approve)
        .await
        .expect("the admin consents");
    let location = redirect(&outcome);
    assert!(location.as_str().starts_with(CALLBACK), "{location}");
    assert_eq!(outcome.parameter("admin_consent").as_deref(), Some("True"));
    assert_eq!(
        outcome.parameter("tenant").as_deref(),
        Some(demo::TENANT_ID)
    );
    assert_eq!(outcome.parameter("state").as_deref(), Some("s-42"));
    assert_eq!(outcome.parameter("error"), None);

    assert_eq!(
        roles(&world).await,
        Some(REQUESTED.map(str::to_owned).to_vec())
    );
}

#[tokio::test]
async fn a_user_who_is_not_an_administrator_is_refused_and_nothing_is_recorded() {
    let world = world().await;
    let url = consent_url(
        &world,
        "adminconsent",
        &[("redirect_uri", CALLBACK), ("state", "s-1")],
    );
    let outcome = world
        .person
        .admin_consent(&url, demo::MEGAN, Consent::Approve)
        .await
        .expect("the page lets her go back");
    redirect(&outcome);
    assert_eq!(outcome.parameter("admin_consent").as_deref(), Some("True"));
    assert_eq!(outcome.parameter("error").as_deref(), Some("access_denied"));
    assert!(outcome
        .parameter("error_description")
        .is_some_and(|description| description.starts_with("AADSTS90094:")));
    assert_eq!(outcome.parameter("state").as_deref(), Some("s-1"));
    assert_eq!(roles(&world).await, None);
}

#[tokio::test]
async fn a_declined_consent_records_nothing() {
    let world = world().await;
    let url = consent_url(
        &world,
        "adminconsent",
        &[("redirect_uri", CALLBACK), ("state", "s-2")],
    );
    let outcome = world
        .person
        .admin_consent(&url, demo::ADELE, Consent::Decline)
        .await
        .expect("the admin declines");
    assert_eq!(outcome.parameter("admin_consent").as_deref(), Some("True"));
    assert_eq!(
        outcome.parameter("error").as_deref(),
        Some("consent_required")
    );
    assert!(outcome
        .parameter("error_description")
        .is_some_and(|description| description.starts_with("AADSTS65004:")));
    assert_eq!(outcome.parameter("state").as_deref(), Some("s-2"));
    assert_eq!(roles(&world).await, None);
}

#[tokio::test]
async fn without_a_redirect_uri_the_result_is_a_page() {
    let world = world().await;
    let url = consent_url(&world, "adminconsent", &[]);
    let outcome = world
        .person
        .admin_consent(&url, demo::ADELE, Consent::Approve)
        .await
        .expect("the admin consents");
    match outcome {
        AdminConsentOutcome::Page { heading, .. } => assert_eq!(heading, "Consent granted"),
        other => panic!("expected a page, got {other:?}"),
    }
    assert_eq!(
        roles(&world).await,
        Some(REQUESTED.map(str::to_owned).to_vec())
    );
}

#[tokio::test]
async fn the_v2_endpoint_grants_with_the_default_scope_and_echoes_it() {
    let world = world().await;
    let scope = "https://graph.microsoft.com/.default";
    let url = consent_url(
        &world,
        "v2.0/adminconsent",
        &[
            ("scope", scope),
            ("redirect_uri", CALLBACK),
            ("state", "v2"),
        ],
    );
    let outcome = world
        .person
        .admin_consent(&url, demo::ADELE, Consent::Approve)
        .await
        .expect("the admin consents");
    assert_eq!(outcome.parameter("admin_consent").as_deref(), Some("True"));
    assert_eq!(outcome.parameter("scope").as_deref(), Some(scope));
    assert_eq!(outcome.parameter("state").as_deref(), Some("v2"));
    assert_eq!(
        roles(&world).await,
        Some(REQUESTED.map(str::to_owned).to_vec())
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_shown_not_followed() {
    let world = world().await;
    let url = consent_url(
        &world,
        "adminconsent",
        &[("redirect_uri", "https://evil.example/")],
    );
    let response = world.http.get(url).send().await.expect("answers");
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .expect("a page")
        .contains("AADSTS50011"));
}
