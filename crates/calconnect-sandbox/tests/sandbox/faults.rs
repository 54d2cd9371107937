use std::time::{Duration, Instant};

use calconnect_sandbox::demo;
use serde_json::Value;

use crate::support::{post_token, sign_in_tokens, world, FULL_SCOPES};

#[tokio::test]
async fn throttle_knob_answers_429_with_retry_after_then_recovers() {
    let world = world().await;
    let token = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await
        ["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    world
        .sandbox
        .faults()
        .throttle("graph.calendars", 429, 7, 1);
    let url = format!("{}me/calendars", world.sandbox.graph_url());
    let response = world
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
    let response = world
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn admin_endpoint_installs_a_503_on_the_token_route() {
    let world = world().await;
    let admin = world.sandbox.base_url().join("_sandbox/faults").unwrap();
    let response = world
        .http
        .post(admin)
        .bearer_auth(world.sandbox.admin_token())
        .json(&serde_json::json!({"kind": "throttle", "route": "token", "status": 503, "retry_after_secs": 2, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (status, body) = post_token(&world, &[("grant_type", "refresh_token")]).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn drop_connection_knob_closes_the_connection_without_a_response() {
    let world = world().await;
    world.sandbox.faults().drop_connections("devicecode", 1);
    let url = world
        .sandbox
        .base_url()
        .join("organizations/oauth2/v2.0/devicecode")
        .unwrap();
    let form = [
        ("client_id", demo::FULL_APP_CLIENT_ID),
        ("scope", FULL_SCOPES),
    ];
    let error = world
        .http
        .post(url.clone())
        .form(&form)
        .send()
        .await
        .expect_err("connection is dropped");
    assert!(!error.is_status());
    let response = world.http.post(url).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn latency_knob_delays_the_route() {
    let world = world().await;
    world
        .sandbox
        .faults()
        .set_latency("discovery", Duration::from_millis(300));
    let started = Instant::now();
    let url = world.sandbox.authority("common").to_string() + "/.well-known/openid-configuration";
    world.http.get(url).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn journal_records_routes_but_never_codes_tokens_or_passwords() {
    let world = world().await;
    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    world
        .http
        .get(format!("{}me", world.sandbox.graph_url()))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    // A client that wrongly puts a code in a query string must not leak it either.
    let leaky = world
        .sandbox
        .base_url()
        .join("organizations/oauth2/v2.0/token?code=LEAKED-CODE&refresh_token=LEAKED-RT")
        .unwrap();
    world.http.post(leaky).send().await.unwrap();
    let journal = world.sandbox.journal();
    let text = serde_json::to_string(&journal).unwrap();
    let over_http: Value = world
        .http
        .get(world.sandbox.base_url().join("_sandbox/journal").unwrap())
        .bearer_auth(world.sandbox.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let http_text = over_http.to_string();
    for secret in [
        refresh_token,
        access_token,
        "LEAKED-CODE",
        "LEAKED-RT",
        demo::SERVICE_ACCOUNT_PASSWORD,
        crate::support::VERIFIER,
        crate::support::STATE,
        &crate::support::s256(crate::support::VERIFIER),
        world.sandbox.admin_token(),
    ] {
        assert!(!text.contains(secret), "journal leaks a secret");
        assert!(
            !http_text.contains(secret),
            "journal endpoint leaks a secret"
        );
    }
    assert!(journal
        .iter()
        .any(|entry| entry.route == "token" && entry.status == 200));
    assert!(journal
        .iter()
        .any(|entry| entry.route == "graph.me" && entry.status == 200));
    assert!(journal.iter().any(|entry| entry.route == "authorize"));
}

#[tokio::test]
async fn the_admin_endpoints_refuse_a_request_without_the_admin_token() {
    let world = world().await;
    let faults = world.sandbox.base_url().join("_sandbox/faults").unwrap();
    let journal = world.sandbox.base_url().join("_sandbox/journal").unwrap();
    let revoke = serde_json::json!({"kind": "revoke_refresh_tokens"});
    for token in [None, Some("wrong-token"), Some("")] {
        let with = |request: reqwest::RequestBuilder| match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = with(world.http.post(faults.clone()).json(&revoke))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "faults with {token:?}");
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let response = with(world.http.get(journal.clone())).send().await.unwrap();
        assert_eq!(response.status(), 401, "journal with {token:?}");
    }
    // A token in the query string is not the header: refused, and the journal does not keep it.
    let in_query = format!("{journal}?access_token={}", world.sandbox.admin_token());
    assert_eq!(world.http.get(in_query).send().await.unwrap().status(), 401);
    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    let (status, _) = post_token(
        &world,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", demo::FULL_APP_CLIENT_ID),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "no fault was installed without the token");
}

#[tokio::test]
async fn a_chosen_admin_token_is_the_one_accepted() {
    let world = crate::support::world_with(
        calconnect_sandbox::Sandbox::builder().admin_token("chosen-admin-token-0123456789"),
    )
    .await;
    assert_eq!(world.sandbox.admin_token(), "chosen-admin-token-0123456789");
    let journal = world.sandbox.base_url().join("_sandbox/journal").unwrap();
    let response = world
        .http
        .get(journal)
        .bearer_auth("chosen-admin-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let other = calconnect_sandbox::Sandbox::builder()
        .start()
        .await
        .unwrap();
    assert_ne!(
        other.admin_token(),
        world.sandbox.admin_token(),
        "each sandbox draws its own"
    );
    assert!(other.admin_token().len() >= 32);
}
