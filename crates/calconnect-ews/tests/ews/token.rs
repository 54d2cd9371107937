//! The app-only token request: a malformed answer is described by where it broke, never by its contents.

use axum::routing::post;
use calconnect_ews::auth::{authorize, Credentials};
use calconnect_ews::cloud::ExchangeCloud;
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::tls::{http_client, Trust};
use secrecy::SecretString;
use url::Url;

const LEAKED: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOi-secret-token";

#[tokio::test]
async fn an_unreadable_token_response_names_the_failing_field_but_not_its_value() {
    // A token endpoint whose answer quotes a token where a number belongs: serde's message would repeat it.
    let body =
        format!(r#"{{"access_token":"{LEAKED}","token_type":"Bearer","expires_in":"{LEAKED}"}}"#);
    let app = axum::Router::new().route(
        "/contoso.com/oauth2/v2.0/token",
        post(move || async move { ([("content-type", "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let credentials = Credentials::ClientCredentials {
        cloud: ExchangeCloud::emulator(base),
        tenant: "contoso.com".into(),
        client_id: "00000000-0000-0000-0000-000000000001".into(),
        client_secret: SecretString::from("client-secret"),
    };
    let http = http_client(
        &Trust::default(),
        std::time::Duration::from_secs(10),
        &Endpoints::offline(),
    )
    .unwrap();

    let error = authorize(&credentials, &http, |url| Ok(url.clone()))
        .await
        .expect_err("the answer is malformed");

    let text = error.to_string();
    assert!(!text.contains(LEAKED), "{text}");
    assert!(text.contains("`expires_in`"), "{text}");
}
