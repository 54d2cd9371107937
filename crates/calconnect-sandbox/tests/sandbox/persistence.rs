//! A sandbox on a state directory survives a restart as Microsoft would: same keys, same CA, same grants.

use std::path::Path;
use std::time::Duration;

use calconnect_sandbox::person::Consent;
use calconnect_sandbox::{demo, Sandbox};

use crate::support::{
    post_token, query_value, s256, sign_in_tokens, world_with, Authorize, World, FULL_SCOPES,
    VERIFIER,
};

/// Every file under `directory` as text (lossy), for searching for secrets that must not be there.
fn contents_of(directory: &Path) -> Vec<(String, String)> {
    std::fs::read_dir(directory)
        .expect("state directory is readable")
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let bytes = std::fs::read(&path).expect("state file is readable");
            (
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_restarted_sandbox_on_the_same_state_dir_honours_earlier_tokens_ca_and_consent() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let first = world_with(Sandbox::builder().state_dir(directory.path())).await;
    let tokens = sign_in_tokens(&first, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    let access_token = tokens["access_token"].as_str().expect("access token");
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh token");
    let base_url = first.sandbox.base_url();
    let ca_pem = first.sandbox.ca_pem().expect("tls on").to_owned();
    let World { sandbox, http, .. } = first;
    sandbox.stop().await;

    let second = world_with(Sandbox::builder().state_dir(directory.path())).await;
    assert_eq!(
        second.sandbox.base_url(),
        base_url,
        "the remembered port is used again"
    );
    assert_eq!(second.sandbox.ca_pem(), Some(ca_pem.as_str()));
    // The client built against the first sandbox's CA still connects: the pinned CA stays valid.
    let me = http
        .get(second.sandbox.graph_url().join("me").expect("url"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("the old client trusts the restarted sandbox");
    assert_eq!(me.status(), 200, "the old access token still verifies");
    let (status, renewed) = post_token(
        &second,
        &[
            ("client_id", demo::FULL_APP_CLIENT_ID),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 200, "the old refresh token is accepted: {renewed}");
    let renewed_refresh_token = renewed["refresh_token"].as_str().expect("rotated");

    // Adele consented before the restart: no consent page now, so declining one cannot happen.
    let challenge = s256(VERIFIER);
    let authorize = Authorize {
        challenge: Some((&challenge, Some("S256"))),
        ..Authorize::full()
    };
    let location = second
        .person
        .sign_in(&authorize.url(&second), demo::ADELE, Consent::Decline)
        .await
        .expect("person signs in");
    assert!(
        query_value(&location, "code").is_some(),
        "consent is remembered: {location}"
    );

    for (path, text) in contents_of(directory.path()) {
        for (name, secret) in [
            ("refresh token", refresh_token),
            ("rotated refresh token", renewed_refresh_token),
            ("access token", access_token),
        ] {
            assert!(!text.contains(secret), "{path} contains the {name}");
        }
    }
}

#[tokio::test]
async fn revocation_and_clock_offset_survive_a_restart() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let first = world_with(Sandbox::builder().state_dir(directory.path())).await;
    let tokens = sign_in_tokens(&first, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh token");
    first.sandbox.faults().revoke_refresh_tokens();
    let refresh = [
        ("client_id", demo::FULL_APP_CLIENT_ID),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let (status, _) = post_token(&first, &refresh).await;
    assert_eq!(status, 400, "revoked before the restart");
    first.sandbox.advance_time(Duration::from_secs(86_400));
    first.sandbox.stop().await;

    let second = world_with(Sandbox::builder().state_dir(directory.path())).await;
    let (status, body) = post_token(&second, &refresh).await;
    assert_eq!(status, 400, "still revoked after the restart: {body}");
    assert_eq!(crate::support::aadsts(&body), 70000);
    let ahead = second.sandbox.state().now() - chrono::Utc::now();
    assert!(
        ahead >= chrono::Duration::hours(23),
        "the clock offset is restored: {ahead}"
    );
}

#[tokio::test]
async fn a_taken_preferred_port_falls_back_to_an_ephemeral_one() {
    let occupant = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let taken = occupant.local_addr().expect("address").port();
    let sandbox = Sandbox::builder()
        .tls(false)
        .preferred_port(taken)
        .start()
        .await
        .expect("starts despite the taken port");
    let port = sandbox.base_url().port().expect("port");
    assert_ne!(port, taken);

    // Once the sandbox is stopped its port is free, and preferring it gets it.
    sandbox.stop().await;
    let again = Sandbox::builder()
        .tls(false)
        .preferred_port(port)
        .start()
        .await
        .expect("starts");
    assert_eq!(again.base_url().port(), Some(port));
    let status = reqwest::get(
        again
            .base_url()
            .join("common/v2.0/.well-known/openid-configuration")
            .expect("url"),
    )
    .await
    .expect("the sandbox answers on its preferred port")
    .status();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_extra_hostname_is_on_the_certificate_and_only_there() {
    let sandbox = calconnect_sandbox::Sandbox::builder()
        .hostname("exchange.contoso.test")
        .start()
        .await
        .expect("sandbox starts");
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], sandbox.base_url().port().unwrap()));
    let client = |name: &str| {
        reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(sandbox.ca_pem().unwrap().as_bytes()).unwrap(),
            )
            .resolve(name, address)
            .build()
            .unwrap()
    };
    let url = |name: &str| {
        format!(
            "https://{name}:{}/contoso.com/v2.0/.well-known/openid-configuration",
            address.port()
        )
    };
    let named = client("exchange.contoso.test")
        .get(url("exchange.contoso.test"))
        .send()
        .await
        .expect("the name is on the certificate");
    assert_eq!(named.status(), 200);
    let error = client("other.contoso.test")
        .get(url("other.contoso.test"))
        .send()
        .await
        .expect_err("a name not on the certificate fails TLS");
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test]
async fn tenant_wide_admin_consent_survives_a_restart() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let first = world_with(Sandbox::builder().state_dir(directory.path())).await;
    let url = crate::admin_consent::consent_url(&first, "adminconsent", &[]);
    first
        .person
        .admin_consent(&url, demo::ADELE, Consent::Approve)
        .await
        .expect("the administrator consents");
    assert_eq!(
        crate::admin_consent::roles(&first).await,
        Some(crate::admin_consent::requested()),
        "granted before the restart"
    );
    first.sandbox.stop().await;

    let second = world_with(Sandbox::builder().state_dir(directory.path())).await;
    assert_eq!(
        crate::admin_consent::roles(&second).await,
        Some(crate::admin_consent::requested()),
        "the grant is Microsoft's, not the process's: it outlives a restart"
    );
}

#[tokio::test]
async fn a_public_hostname_names_every_url_the_sandbox_writes_and_is_on_the_certificate() {
    const NAME: &str = "sandbox.calconnect.test";
    let sandbox = calconnect_sandbox::Sandbox::builder()
        .public_hostname(NAME)
        .start()
        .await
        .expect("sandbox starts");
    let port = sandbox.local_address().port();
    let base = format!("https://{NAME}:{port}/");
    assert_eq!(sandbox.base_url().as_str(), base);
    assert!(sandbox.local_address().ip().is_loopback());
    // A client that resolves the name as a proxy would, trusting only the sandbox CA.
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(sandbox.ca_pem().unwrap().as_bytes()).unwrap(),
        )
        .resolve(NAME, sandbox.local_address())
        .build()
        .unwrap();
    let discovery: serde_json::Value = client
        .get(format!(
            "{base}organizations/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .expect("the name is on the certificate")
        .json()
        .await
        .unwrap();
    for endpoint in [
        "token_endpoint",
        "device_authorization_endpoint",
        "jwks_uri",
    ] {
        assert!(
            discovery[endpoint].as_str().unwrap().starts_with(&base),
            "{endpoint}: {discovery}"
        );
    }
    let device_code: serde_json::Value = client
        .post(format!("{base}organizations/oauth2/v2.0/devicecode"))
        .form(&[
            (
                "client_id",
                calconnect_sandbox::demo::FREEBUSY_APP_CLIENT_ID,
            ),
            (
                "scope",
                "https://graph.microsoft.com/Calendars.ReadBasic offline_access",
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        device_code["verification_uri"],
        format!("{base}devicelogin")
    );
    let autodiscover: serde_json::Value = client
        .get(format!(
            "{base}autodiscover/autodiscover.json/v1.0/{}?Protocol=EWS",
            calconnect_sandbox::demo::ADELE
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(autodiscover["Url"], format!("{base}EWS/Exchange.asmx"));
    assert_eq!(
        sandbox.ews_url().as_str(),
        format!("{base}EWS/Exchange.asmx")
    );
}
