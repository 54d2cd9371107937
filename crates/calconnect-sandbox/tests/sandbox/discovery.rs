use calconnect_sandbox::state::AccessClaims;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};

use crate::support::{sign_in_tokens, world, FULL_SCOPES};
use calconnect_sandbox::demo;

#[tokio::test]
async fn discovery_document_lists_entra_endpoints_without_code_challenge_methods() {
    let world = world().await;
    let url =
        world.sandbox.authority("organizations").to_string() + "/.well-known/openid-configuration";
    let document: serde_json::Value = world
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let base = world.sandbox.base_url();
    assert_eq!(
        document["authorization_endpoint"],
        format!("{base}organizations/oauth2/v2.0/authorize")
    );
    assert_eq!(
        document["token_endpoint"],
        format!("{base}organizations/oauth2/v2.0/token")
    );
    assert_eq!(
        document["device_authorization_endpoint"],
        format!("{base}organizations/oauth2/v2.0/devicecode")
    );
    assert_eq!(document["issuer"], format!("{base}{{tenantid}}/v2.0"));
    assert!(
        document.get("code_challenge_methods_supported").is_none(),
        "Entra omits it"
    );
    let tenant_document: serde_json::Value = world
        .http
        .get(
            world.sandbox.authority(demo::DOMAIN).to_string() + "/.well-known/openid-configuration",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tenant_document["issuer"],
        format!("{base}{}/v2.0", demo::TENANT_ID)
    );
    assert_eq!(
        tenant_document["token_endpoint"],
        format!("{base}{}/oauth2/v2.0/token", demo::TENANT_ID),
        "a domain authority resolves to the tenant id, as Entra's does"
    );
    assert_eq!(
        tenant_document["userinfo_endpoint"],
        format!("{base}oidc/userinfo")
    );
}

#[tokio::test]
async fn userinfo_returns_the_id_tokens_subject_and_the_users_names() {
    let world = world().await;
    let tokens = sign_in_tokens(
        &world,
        demo::FULL_APP_CLIENT_ID,
        "openid profile User.Read offline_access",
        demo::ADELE,
    )
    .await;
    let response = world
        .http
        .get(format!("{}oidc/userinfo", world.sandbox.base_url()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let userinfo: serde_json::Value = response.json().await.unwrap();
    let id_token = tokens["id_token"]
        .as_str()
        .expect("openid gives an id_token");
    let id_claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode(id_token)
        .unwrap()
        .claims;
    assert_eq!(userinfo["sub"], id_claims["sub"]);
    assert_eq!(userinfo["given_name"], "Adele");
    assert_eq!(userinfo["email"], demo::ADELE);
}

#[tokio::test]
async fn unknown_tenant_gets_aadsts90002() {
    let world = world().await;
    let url =
        world.sandbox.authority("fabrikam.com").to_string() + "/.well-known/openid-configuration";
    let response = world.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error_codes"][0], 90002);
    assert_eq!(
        body["error"], "invalid_request",
        "invalid_tenant is no documented error value"
    );
}

#[tokio::test]
async fn access_token_signature_verifies_with_the_published_jwks() {
    let world = world().await;
    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let document: serde_json::Value = world
        .http
        .get(world.sandbox.authority("common").to_string() + "/.well-known/openid-configuration")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks: serde_json::Value = world
        .http
        .get(document["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = decode_header(access_token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header.kid.clone().unwrap())
        .expect("kid is published");
    let decoding_key =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[demo::GRAPH_RESOURCE_APP_ID]);
    let claims = decode::<AccessClaims>(access_token, &decoding_key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims.scp.as_deref(), Some("User.Read Calendars.ReadWrite"));
    assert_eq!(claims.upn.as_deref(), Some(demo::ADELE));
    assert_eq!(claims.appid, demo::FULL_APP_CLIENT_ID);
    assert_eq!(claims.tid.to_string(), demo::TENANT_ID);
    assert_eq!(tokens["expires_in"], 3599);
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        tokens.get("id_token").is_none(),
        "no openid scope, no id_token"
    );
}
