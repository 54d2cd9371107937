//! An authority someone else controls, on loopback: its discovery document must not send codes, verifiers
//! or tokens to another origin nor name another issuer, and its device-code page must be https.

use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use calconnect_identity::{
    AppKind, AppRegistration, Authority, ErrorKind, IdentityClient, Result, Trust,
};
use url::Url;

const TENANT: &str = "contoso.com";

/// What the hostile authority puts in its documents, given its own base URL.
struct Documents {
    discovery: Box<dyn Fn(&str) -> serde_json::Value + Send + Sync>,
    verification_uri: Box<dyn Fn(&str) -> String + Send + Sync>,
}

/// The discovery document Entra would serve for `base`, every endpoint on it.
fn honest(base: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": format!("{base}{TENANT}/v2.0"),
        "authorization_endpoint": format!("{base}{TENANT}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}{TENANT}/oauth2/v2.0/token"),
        "device_authorization_endpoint": format!("{base}{TENANT}/oauth2/v2.0/devicecode"),
    })
}

/// Serves `documents` on a loopback port; returns its base URL (`http://127.0.0.1:port/`).
async fn hostile(documents: Documents) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let documents = std::sync::Arc::new(documents);
    let served = base.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
        let (documents, base) = (documents.clone(), served.clone());
        async move {
            let path = uri.path();
            if method == Method::GET && path.ends_with("/.well-known/openid-configuration") {
                return axum::Json((documents.discovery)(&base)).into_response();
            }
            if method == Method::POST && path.ends_with("/devicecode") {
                return axum::Json(serde_json::json!({
                    "device_code": "hostile-device-code",
                    "user_code": "HOSTILE1",
                    "verification_uri": (documents.verification_uri)(&base),
                    "expires_in": 900,
                    "interval": 5,
                }))
                .into_response();
            }
            Response::default()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Url::parse(&base).unwrap()
}

async fn discover(base: Url) -> Result<IdentityClient> {
    let http = calconnect_identity::http_client(&Trust::default()).unwrap();
    IdentityClient::discover(
        http,
        Authority::new(base, TENANT).unwrap(),
        AppRegistration::new(AppKind::Full, "00000000-0000-0000-0000-00000000c0de"),
    )
    .await
}

#[tokio::test]
async fn a_discovery_document_sending_codes_or_tokens_to_another_origin_is_refused() {
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "device_authorization_endpoint",
    ] {
        let base = hostile(Documents {
            discovery: Box::new(move |base| {
                let mut document = honest(base);
                // Another loopback port is another origin, as much as another host is.
                document[endpoint] = "http://127.0.0.1:9/collect".into();
                document
            }),
            verification_uri: Box::new(|_| "https://microsoft.com/devicelogin".into()),
        })
        .await;

        let error = discover(base).await.unwrap_err();

        assert_eq!(
            error.kind(),
            ErrorKind::InvalidResponse,
            "{endpoint}: {error:?}"
        );
        assert!(
            error.to_string().contains(&format!(
                "{endpoint} `http://127.0.0.1:9/collect` is not on the authority's origin"
            )),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    for issuer in [
        "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned(),
        "http://127.0.0.1:9/contoso.com/v2.0".to_owned(),
        "{base}fabrikam.com/v2.0".to_owned(),
        "{base}contoso.com/v2.0/extra/v2.0".to_owned(),
    ] {
        let claimed = issuer.clone();
        let base = hostile(Documents {
            discovery: Box::new(move |base| {
                let mut document = honest(base);
                document["issuer"] = claimed.replace("{base}", base).into();
                document
            }),
            verification_uri: Box::new(|_| "https://microsoft.com/devicelogin".into()),
        })
        .await;

        let error = discover(base).await.unwrap_err();

        assert_eq!(
            error.kind(),
            ErrorKind::InvalidResponse,
            "{issuer}: {error:?}"
        );
        assert!(
            error.to_string().contains("is not this authority"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_device_code_page_that_is_not_https_is_refused() {
    for page in [
        // Plain http on another origin than the authority's.
        "http://127.0.0.1:9/devicelogin",
        // Reads as microsoft.com, opens 127.0.0.1.
        "https://microsoft.com@127.0.0.1:9/devicelogin",
    ] {
        let base = hostile(Documents {
            discovery: Box::new(honest),
            verification_uri: Box::new(move |_| page.to_owned()),
        })
        .await;
        let client = discover(base).await.expect("the document itself is honest");

        let error = client.start_device_code().await.unwrap_err();

        assert_eq!(
            error.kind(),
            ErrorKind::InvalidResponse,
            "{page}: {error:?}"
        );
        assert!(error.to_string().contains("verification_uri"), "{error}");
    }
}

#[tokio::test]
async fn the_sandbox_without_tls_may_show_its_own_plain_http_device_code_page() {
    let base = hostile(Documents {
        discovery: Box::new(honest),
        verification_uri: Box::new(|base| format!("{base}devicelogin")),
    })
    .await;
    let client = discover(base.clone()).await.unwrap();

    let device_code = client.start_device_code().await.unwrap();

    assert_eq!(
        device_code.verification_uri.as_str(),
        format!("{base}devicelogin")
    );
}

#[tokio::test]
async fn escape_sequences_in_a_discovery_document_never_reach_the_error_message() {
    for field in ["issuer", "token_endpoint", "authorization_endpoint"] {
        let base = hostile(Documents {
            discovery: Box::new(move |base| {
                let mut document = honest(base);
                // A terminal would obey these: red text, then a line rewritten in place.
                document[field] = "http://127.0.0.1:9/\u{1b}[31mcontoso\u{9b}2J\r/v2.0".into();
                document
            }),
            verification_uri: Box::new(|_| "https://microsoft.com/devicelogin".into()),
        })
        .await;

        let error = discover(base).await.unwrap_err();

        assert_eq!(
            error.kind(),
            ErrorKind::InvalidResponse,
            "{field}: {error:?}"
        );
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains(['\u{1b}', '\u{9b}', '\r']),
            "{field}: {shown:?}"
        );
    }
}
