use std::time::Duration;

use calconnect_sandbox::demo;
use calconnect_sandbox::person::Consent;

use crate::support::{aadsts, post_token, world, World, FULL_SCOPES};

async fn start(world: &World, client_id: &str) -> (u16, serde_json::Value) {
    let url = world
        .sandbox
        .base_url()
        .join("organizations/oauth2/v2.0/devicecode")
        .unwrap();
    let response = world
        .http
        .post(url)
        .form(&[("client_id", client_id), ("scope", FULL_SCOPES)])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn poll(world: &World, device_code: &str) -> (u16, serde_json::Value) {
    post_token(
        world,
        &[
            ("client_id", demo::FULL_APP_CLIENT_ID),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
        ],
    )
    .await
}

#[tokio::test]
async fn device_code_response_has_documented_fields_and_no_verification_uri_complete() {
    let world = world().await;
    let (status, body) = start(&world, demo::FULL_APP_CLIENT_ID).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["verification_uri"],
        format!("{}devicelogin", world.sandbox.base_url())
    );
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["interval"], 5);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains(body["user_code"].as_str().unwrap()));
    assert!(body.get("verification_uri_complete").is_none());
}

#[tokio::test]
async fn polling_is_pending_then_slow_down_then_succeeds_after_the_person_approves() {
    let world = world().await;
    let (_, started) = start(&world, demo::FULL_APP_CLIENT_ID).await;
    let device_code = started["device_code"].as_str().unwrap();
    let (status, body) = poll(&world, device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (_, body) = poll(&world, device_code).await;
    assert_eq!(
        body["error"], "slow_down",
        "polled again within the interval"
    );
    world
        .person
        .enter_device_code(
            started["user_code"].as_str().unwrap(),
            demo::ADELE,
            Consent::Approve,
        )
        .await
        .unwrap();
    world.sandbox.advance_time(Duration::from_secs(11));
    let (status, tokens) = poll(&world, device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "User.Read Calendars.ReadWrite");
    assert!(tokens["refresh_token"].is_string());
}

#[tokio::test]
async fn declined_device_code_reports_authorization_declined() {
    let world = world().await;
    let (_, started) = start(&world, demo::FULL_APP_CLIENT_ID).await;
    world
        .person
        .enter_device_code(
            started["user_code"].as_str().unwrap(),
            demo::ADELE,
            Consent::Decline,
        )
        .await
        .unwrap();
    let (_, body) = poll(&world, started["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "authorization_declined");
}

#[tokio::test]
async fn expired_device_code_reports_expired_token() {
    let world = world().await;
    let (_, started) = start(&world, demo::FULL_APP_CLIENT_ID).await;
    world.sandbox.advance_time(Duration::from_secs(901));
    let (status, body) = poll(&world, started["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "expired_token");
    assert_eq!(
        aadsts(&body),
        70020,
        "an expired device code is AADSTS70020"
    );
    let error = world
        .person
        .enter_device_code(
            started["user_code"].as_str().unwrap(),
            demo::ADELE,
            Consent::Approve,
        )
        .await
        .expect_err("an expired code is refused on the page");
    assert!(error.to_string().contains("expired"), "{error}");
}

#[tokio::test]
async fn unknown_device_code_reports_bad_verification_code() {
    let world = world().await;
    let (_, body) = poll(&world, "not-a-device-code").await;
    assert_eq!(body["error"], "bad_verification_code");
}

#[tokio::test]
async fn public_client_flows_off_lets_devicecode_start_and_refuses_the_poll_with_aadsts7000218() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    let full = tenant
        .apps
        .iter_mut()
        .find(|app| app.client_id == demo::FULL_APP_CLIENT_ID)
        .expect("the Full app is registered");
    full.allow_public_client_flows = false;
    let world =
        crate::support::world_with(calconnect_sandbox::Sandbox::builder().tenant(tenant)).await;
    let (status, started) = start(&world, demo::FULL_APP_CLIENT_ID).await;
    assert_eq!(status, 200, "/devicecode itself succeeds: {started}");
    let (status, body) = poll(&world, started["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(aadsts(&body), 7000218);
}

#[tokio::test]
async fn conditional_access_user_device_poll_requires_interaction_53003() {
    let world = world().await;
    let (_, started) = start(&world, demo::FULL_APP_CLIENT_ID).await;
    world
        .person
        .enter_device_code(
            started["user_code"].as_str().unwrap(),
            demo::ALEX,
            Consent::Approve,
        )
        .await
        .unwrap();
    let (_, body) = poll(&world, started["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "interaction_required");
    assert_eq!(aadsts(&body), 53003);
}

#[tokio::test]
async fn admin_consent_required_device_poll_reports_aadsts65001() {
    let world = world().await;
    let (_, started) = start(&world, demo::FULL_APP_CLIENT_ID).await;
    world
        .person
        .enter_device_code(
            started["user_code"].as_str().unwrap(),
            demo::LEE,
            Consent::Approve,
        )
        .await
        .unwrap();
    let (_, body) = poll(&world, started["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(aadsts(&body), 65001);
    assert_eq!(
        body["suberror"], "consent_required",
        "AADSTS65001 carries suberror consent_required"
    );
}
