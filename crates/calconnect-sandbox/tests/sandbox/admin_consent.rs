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

/// The `roles` of a fresh client-credentials token of the awaiting-consent app, sorted.
pub(crate) async fn roles(world: &World) -> Option<Vec<String>> {
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

/// The awaiting-consent app's admin consent URL on the tenant id authority.
pub(crate) fn consent_url(world: &World, path: &str, extra: &[(&str, &str)]) -> Url {
    consent_url_at(world, demo::TENANT_ID, path, extra)
}

fn consent_url_at(world: &World, tenant: &str, path: &str, extra: &[(&str, &str)]) -> Url {
    let mut url = world
        .sandbox
        .base_url()
        .join(&format!("{tenant}/{path}"))
        .expect("url");
    url.query_pairs_mut()
        .append_pair("client_id", demo::GRAPH_UNCONSENTED_APP_CLIENT_ID)
        .extend_pairs(extra);
    url
}

/// The four application permissions the app's registration requests, sorted.
pub(crate) fn requested() -> Vec<String> {
    REQUESTED.map(str::to_owned).to_vec()
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

    assert_eq!(roles(&world).await, Some(requested()));
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
    assert_eq!(roles(&world).await, Some(requested()));
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
    assert_eq!(roles(&world).await, Some(requested()));
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

#[tokio::test]
async fn an_unknown_client_is_shown_not_redirected() {
    let world = world().await;
    let mut url = world
        .sandbox
        .base_url()
        .join(&format!("{}/adminconsent", demo::TENANT_ID))
        .expect("url");
    url.query_pairs_mut()
        .append_pair("client_id", "11111111-2222-4333-8444-555555555555")
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("state", "s-unknown");
    let response = world.http.get(url).send().await.expect("answers");
    assert_eq!(response.status(), 400, "a page, not a redirect");
    let page = response.text().await.expect("a page");
    assert!(page.contains("AADSTS700016"), "{page}");
    assert!(
        page.contains("11111111-2222-4333-8444-555555555555"),
        "{page}"
    );
}

#[tokio::test]
async fn the_v2_endpoint_requires_scope_and_redirect_uri() {
    let world = world().await;
    for (missing, extra) in [
        ("scope", [("redirect_uri", CALLBACK)]),
        (
            "redirect_uri",
            [("scope", "https://graph.microsoft.com/.default")],
        ),
    ] {
        let url = consent_url(&world, "v2.0/adminconsent", &extra);
        let response = world.http.get(url).send().await.expect("answers");
        assert_eq!(response.status(), 400, "without {missing}");
        let page = response.text().await.expect("a page");
        assert!(
            page.contains("AADSTS900144") && page.contains(&format!("&#39;{missing}&#39;")),
            "without {missing}: {page}"
        );
    }
}

#[tokio::test]
async fn the_tenant_on_the_redirect_is_the_tenant_id_whatever_the_link_named() {
    let world = world().await;
    let url = consent_url_at(
        &world,
        demo::INITIAL_DOMAIN,
        "adminconsent",
        &[("redirect_uri", CALLBACK)],
    );
    let outcome = world
        .person
        .admin_consent(&url, demo::ADELE, Consent::Approve)
        .await
        .expect("the admin consents");
    assert_eq!(
        outcome.parameter("tenant").as_deref(),
        Some(demo::TENANT_ID)
    );
    assert_eq!(
        outcome.parameter("state"),
        None,
        "no state asked, none sent"
    );
}

/// The value of the hidden `flow` input of a sandbox page.
fn flow_of(page: &str) -> String {
    let start = page.find("name=\"flow\" value=\"").expect("a flow field") + 19;
    let end = page[start..].find('"').expect("closing quote") + start;
    page[start..end].to_owned()
}

#[tokio::test]
async fn a_non_administrator_posting_accept_directly_is_still_refused() {
    let world = world().await;
    let url = consent_url(
        &world,
        "adminconsent",
        &[("redirect_uri", CALLBACK), ("state", "forged")],
    );
    let sign_in_page = world
        .http
        .get(url)
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("a page");
    let flow = flow_of(&sign_in_page);
    let base = world.sandbox.base_url();
    let approval_page = world
        .http
        .post(
            base.join(&format!("{}/adminconsent/signin", demo::TENANT_ID))
                .expect("url"),
        )
        .form(&[("flow", flow.as_str()), ("login", demo::MEGAN)])
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("a page");
    assert!(
        approval_page.contains("Need admin approval"),
        "{approval_page}"
    );
    // The page offers only "return"; a forged "accept" must not grant anything.
    let response = world
        .http
        .post(
            base.join(&format!("{}/adminconsent/decide", demo::TENANT_ID))
                .expect("url"),
        )
        .form(&[("flow", flow.as_str()), ("decision", "accept")])
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 302);
    let location = Url::parse(
        response.headers()["location"]
            .to_str()
            .expect("ascii location"),
    )
    .expect("a URL");
    let outcome = AdminConsentOutcome::Redirect(location);
    assert_eq!(outcome.parameter("error").as_deref(), Some("access_denied"));
    assert_eq!(outcome.parameter("state").as_deref(), Some("forged"));
    assert_eq!(roles(&world).await, None, "nothing was granted");
}
