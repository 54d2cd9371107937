use calconnect_sandbox::demo;

use crate::support::{aadsts, post_token, sign_in_tokens, world, FULL_SCOPES};

async fn refresh(
    world: &crate::support::World,
    refresh_token: &str,
    scope: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        ("client_id", demo::FULL_APP_CLIENT_ID),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    post_token(world, &form).await
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_stays_valid() {
    let world = world().await;
    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = refresh(&world, first, None).await;
    assert_eq!(status, 200, "{renewed}");
    let second = renewed["refresh_token"].as_str().unwrap();
    assert_ne!(first, second, "a new refresh token is issued");
    let (status, again) = refresh(&world, first, None).await;
    assert_eq!(status, 200, "the old refresh token still works: {again}");
}

#[tokio::test]
async fn refresh_scope_must_stay_within_the_original_grant() {
    let world = world().await;
    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (status, narrowed) = refresh(&world, refresh_token, Some("User.Read offline_access")).await;
    assert_eq!(status, 200);
    assert_eq!(narrowed["scope"], "User.Read");
    let (status, body) = refresh(&world, refresh_token, Some("Mail.Read")).await;
    assert_eq!(status, 400);
    assert_eq!(aadsts(&body), 65001);
}

#[tokio::test]
async fn revoked_refresh_token_gets_aadsts70000_and_expired_gets_700082() {
    let world = world().await;
    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    world.sandbox.faults().revoke_refresh_tokens();
    let (status, body) = refresh(&world, tokens["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(aadsts(&body), 70000);

    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    world.sandbox.faults().expire_refresh_tokens();
    let (_, body) = refresh(&world, tokens["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(aadsts(&body), 700082);
    // "...issued on 2024-05-06T08:30:00.1234567Z and was inactive...": Entra's seven fractional digits.
    let description = body["error_description"].as_str().unwrap();
    let issued = description
        .split("issued on ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("the issue time is named");
    let fraction = issued
        .trim_end_matches('Z')
        .split('.')
        .nth(1)
        .expect("a fraction");
    assert_eq!(fraction.len(), 7, "{issued}");
    assert!(
        fraction.chars().all(|digit| digit.is_ascii_digit()),
        "{issued}"
    );
}

#[tokio::test]
async fn conditional_access_fault_on_refresh_requires_interaction() {
    let world = world().await;
    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    world.sandbox.faults().force_conditional_access(1);
    let (status, body) = refresh(&world, tokens["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "interaction_required");
    assert_eq!(aadsts(&body), 53003);
}

#[tokio::test]
async fn client_credentials_for_exchange_yield_an_app_only_token_with_the_app_role() {
    let world = crate::support::world_with(
        calconnect_sandbox::Sandbox::builder()
            .tenant(calconnect_sandbox::Tenant::demo_exchange_online()),
    )
    .await;
    let (status, body) = post_token(
        &world,
        &[
            ("client_id", demo::EWS_UNLISTED_APP_CLIENT_ID),
            ("client_secret", demo::EWS_UNLISTED_APP_CLIENT_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://outlook.office365.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let claims = world
        .sandbox
        .state()
        .verify_access_token(
            body["access_token"].as_str().unwrap(),
            demo::EXCHANGE_RESOURCE,
        )
        .expect("token verifies for Exchange");
    assert!(claims.has_role("full_access_as_app"));
    assert!(claims.is_app_only());
    // The RBAC-scoped EWS app has no Entra app role: its token carries no `roles` (Exchange applies the
    // RBAC for Applications assignment itself).
    let (status, body) = post_token(
        &world,
        &[
            ("client_id", demo::EWS_APP_CLIENT_ID),
            ("client_secret", demo::EWS_APP_CLIENT_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://outlook.office365.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let scoped = world
        .sandbox
        .state()
        .verify_access_token(
            body["access_token"].as_str().unwrap(),
            demo::EXCHANGE_RESOURCE,
        )
        .unwrap();
    assert!(scoped.roles.is_none(), "{scoped:?}");
    let (status, body) = post_token(
        &world,
        &[
            ("client_id", demo::EWS_APP_CLIENT_ID),
            ("client_secret", "wrong"),
            ("grant_type", "client_credentials"),
            ("scope", "https://outlook.office365.com/.default"),
        ],
    )
    .await;
    assert_eq!((status, aadsts(&body)), (401, 7000215));
}

#[tokio::test]
async fn withdrawn_consent_refuses_the_refresh_with_aadsts65001_consent_required() {
    let world = world().await;
    let tokens = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::ADELE).await;
    let megan = sign_in_tokens(&world, demo::FULL_APP_CLIENT_ID, FULL_SCOPES, demo::MEGAN).await;

    // As deleting Adele's oauth2PermissionGrant does (learn.microsoft.com/graph/api/oauth2permissiongrant-delete).
    world
        .sandbox
        .faults()
        .revoke_consent(Some(demo::ADELE), Some(demo::FULL_APP_CLIENT_ID));
    let (status, body) = refresh(&world, tokens["refresh_token"].as_str().unwrap(), None).await;

    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(aadsts(&body), 65001);
    assert_eq!(body["suberror"], "consent_required");
    let (status, body) = refresh(&world, megan["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(status, 200, "Megan's consent stands: {body}");
}
