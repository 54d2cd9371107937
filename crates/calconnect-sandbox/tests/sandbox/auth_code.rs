use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use calconnect_sandbox::demo;
use calconnect_sandbox::person::{Consent, Delivery};

use crate::support::{
    aadsts, post_token, query_value, s256, sign_in_tokens, world, Authorize, World,
    FREEBUSY_SCOPES, VERIFIER,
};

async fn code_for(world: &World, authorize: &Authorize<'_>, user: &str) -> String {
    let location = world
        .person
        .sign_in(&authorize.url(world), user, Consent::Approve)
        .await
        .expect("sign-in completes");
    assert_eq!(
        query_value(&location, "state").as_deref(),
        Some(crate::support::STATE),
        "state is echoed"
    );
    query_value(&location, "code").unwrap_or_else(|| panic!("a code comes back: {location}"))
}

async fn redeem(
    world: &World,
    authorize: &Authorize<'_>,
    code: &str,
    verifier: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        ("client_id", authorize.client_id),
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", authorize.redirect_uri),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    post_token(world, &form).await
}

#[tokio::test]
async fn pkce_s256_code_redeems_once_and_reuse_gets_aadsts54005() {
    let world = world().await;
    let challenge = s256(VERIFIER);
    let authorize = Authorize {
        challenge: Some((&challenge, Some("S256"))),
        ..Authorize::full()
    };
    let code = code_for(&world, &authorize, demo::ADELE).await;
    let (status, body) = redeem(&world, &authorize, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "User.Read Calendars.ReadWrite");
    assert!(
        body["refresh_token"].is_string(),
        "offline_access yields a refresh token"
    );
    let (status, body) = redeem(&world, &authorize, &code, Some(VERIFIER)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(aadsts(&body), 54005);
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS54005:"));
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[field].is_string(), "error body has {field}");
    }
}

#[tokio::test]
async fn plain_challenge_is_assumed_when_the_method_is_omitted() {
    let world = world().await;
    let authorize = Authorize {
        challenge: Some((VERIFIER, None)),
        ..Authorize::full()
    };
    let code = code_for(&world, &authorize, demo::ADELE).await;
    let (status, body) = redeem(&world, &authorize, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn wrong_code_verifier_gets_aadsts501481() {
    let world = world().await;
    let challenge = s256(VERIFIER);
    let authorize = Authorize {
        challenge: Some((&challenge, Some("S256"))),
        ..Authorize::full()
    };
    let code = code_for(&world, &authorize, demo::ADELE).await;
    let wrong = "x".repeat(43);
    let (status, body) = redeem(&world, &authorize, &code, Some(&wrong)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(aadsts(&body), 501481);
}

#[tokio::test]
async fn redirect_uri_must_match_the_one_used_at_authorize() {
    let world = world().await;
    let authorize = Authorize::full();
    let code = code_for(&world, &authorize, demo::ADELE).await;
    let other = Authorize {
        redirect_uri: "http://localhost:1111",
        ..Authorize::full()
    };
    let (status, body) = redeem(&world, &other, &code, None).await;
    assert_eq!(status, 400);
    assert_eq!(aadsts(&body), 50011);
}

#[tokio::test]
async fn loopback_redirect_ignores_port_but_rejects_other_paths_https_and_ipv6() {
    let world = world().await;
    let accepted = Authorize {
        redirect_uri: "http://localhost:40001",
        ..Authorize::full()
    };
    let location = world
        .person
        .sign_in(&accepted.url(&world), demo::ADELE, Consent::Approve)
        .await
        .unwrap();
    assert_eq!(
        location.as_str().split('?').next(),
        Some("http://localhost:40001/"),
        "path-less URI comes back with a slash"
    );
    for redirect_uri in [
        "http://localhost:40001/other",
        "https://localhost:40001",
        "http://[::1]:40001",
        "http://example.com",
    ] {
        let rejected = Authorize {
            redirect_uri,
            ..Authorize::full()
        };
        let response = world.http.get(rejected.url(&world)).send().await.unwrap();
        assert_eq!(
            response.status(),
            400,
            "{redirect_uri} is rejected on a page, not redirected"
        );
        assert!(
            response.text().await.unwrap().contains("AADSTS50011"),
            "{redirect_uri} shows AADSTS50011"
        );
    }
}

#[tokio::test]
async fn declining_consent_redirects_access_denied_with_aadsts65004() {
    let world = world().await;
    let location = world
        .person
        .sign_in(
            &Authorize::full().url(&world),
            demo::ADELE,
            Consent::Decline,
        )
        .await
        .unwrap();
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("access_denied")
    );
    let description = query_value(&location, "error_description").unwrap();
    assert!(description.starts_with("AADSTS65004"), "{description}");
    for line in ["\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "] {
        assert!(description.contains(line), "{line:?} in {description:?}");
    }
    assert_eq!(
        query_value(&location, "error_subcode").as_deref(),
        Some("cancel")
    );
    assert_eq!(
        query_value(&location, "state").as_deref(),
        Some(crate::support::STATE)
    );
}

#[tokio::test]
async fn forced_decline_fault_overrides_the_persons_accept() {
    let world = world().await;
    world.sandbox.faults().decline_consent(1);
    let location = world
        .person
        .sign_in(
            &Authorize::full().url(&world),
            demo::ADELE,
            Consent::Approve,
        )
        .await
        .unwrap();
    assert!(query_value(&location, "error_description")
        .unwrap()
        .starts_with("AADSTS65004"));
}

#[tokio::test]
async fn conditional_access_blocks_alex_with_aadsts53003() {
    let world = world().await;
    let location = world
        .person
        .sign_in(&Authorize::full().url(&world), demo::ALEX, Consent::Approve)
        .await
        .unwrap();
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert!(query_value(&location, "error_description")
        .unwrap()
        .starts_with("AADSTS53003"));
}

#[tokio::test]
async fn lee_needs_admin_consent_for_the_full_app_but_not_for_free_busy() {
    let world = world().await;
    let location = world
        .person
        .sign_in(&Authorize::full().url(&world), demo::LEE, Consent::Approve)
        .await
        .unwrap();
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert!(query_value(&location, "error_description")
        .unwrap()
        .starts_with("AADSTS90094"));
    assert_eq!(
        query_value(&location, "error_subcode"),
        None,
        "needing an admin is not a cancellation"
    );
    let tokens = sign_in_tokens(
        &world,
        demo::FREEBUSY_APP_CLIENT_ID,
        FREEBUSY_SCOPES,
        demo::LEE,
    )
    .await;
    assert_eq!(tokens["scope"], "Calendars.ReadBasic User.Read");
}

#[tokio::test]
async fn unknown_scope_redirects_invalid_scope_aadsts70011() {
    let world = world().await;
    let authorize = Authorize {
        scope: "User.Read Calendars.Teleport",
        ..Authorize::full()
    };
    let response = world.http.get(authorize.url(&world)).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("invalid_scope")
    );
    assert!(query_value(&location, "error_description")
        .unwrap()
        .starts_with("AADSTS70011"));
}

#[tokio::test]
async fn unknown_client_id_is_shown_aadsts700016_on_a_page() {
    let world = world().await;
    let authorize = Authorize {
        client_id: "11111111-2222-3333-4444-555555555555",
        ..Authorize::full()
    };
    let response = world.http.get(authorize.url(&world)).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("AADSTS700016"));
}

#[tokio::test]
async fn public_client_presenting_a_secret_gets_aadsts700025() {
    let world = world().await;
    let authorize = Authorize::full();
    let code = code_for(&world, &authorize, demo::ADELE).await;
    let (status, body) = post_token(
        &world,
        &[
            ("client_id", demo::FULL_APP_CLIENT_ID),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", authorize.redirect_uri),
            ("client_secret", "oops"),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(aadsts(&body), 700025);
}

#[tokio::test]
async fn openid_and_profile_scopes_add_an_id_token_with_profile_claims() {
    let world = world().await;
    let tokens = sign_in_tokens(
        &world,
        demo::FULL_APP_CLIENT_ID,
        "openid profile User.Read offline_access",
        demo::ADELE,
    )
    .await;
    let id_token = tokens["id_token"].as_str().expect("id_token present");
    let claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode(id_token)
        .unwrap()
        .claims;
    assert_eq!(claims["aud"], demo::FULL_APP_CLIENT_ID);
    assert_eq!(claims["preferred_username"], demo::ADELE);
    assert_eq!(claims["name"], "Adele Vance");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        tokens["expires_in"].as_i64().unwrap(),
        "the id_token lives as long as the configured access token lifetime"
    );
}

#[tokio::test]
async fn json_token_request_fails_as_a_missing_grant_type() {
    let world = world().await;
    let response = world
        .http
        .post(crate::support::token_url(&world))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(aadsts(&body), 900144);
}

#[tokio::test]
async fn client_info_is_returned_only_when_asked_for_and_names_the_home_account() {
    let world = world().await;
    let challenge = s256(VERIFIER);
    let authorize = Authorize {
        challenge: Some((&challenge, Some("S256"))),
        ..Authorize::full()
    };
    let code = code_for(&world, &authorize, demo::ADELE).await;
    let (status, body) = post_token(
        &world,
        &[
            ("client_id", authorize.client_id),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", authorize.redirect_uri),
            ("code_verifier", VERIFIER),
            ("client_info", "1"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let encoded = body["client_info"]
        .as_str()
        .expect("client_info is a string");
    assert!(!encoded.contains('='), "base64url without padding");
    let decoded: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).expect("base64url"))
            .expect("client_info is JSON");
    let adele = world.sandbox.tenant().user_by_email(demo::ADELE).unwrap();
    assert_eq!(decoded["uid"], adele.id.to_string());
    assert_eq!(decoded["utid"], demo::TENANT_ID);

    let (status, refreshed) = post_token(
        &world,
        &[
            ("client_id", authorize.client_id),
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert!(
        refreshed.get("client_info").is_none(),
        "no client_info without client_info=1"
    );
}

#[tokio::test]
async fn token_scope_names_graph_scopes_and_requested_oidc_scopes_but_not_offline_access() {
    let world = world().await;
    let body = sign_in_tokens(
        &world,
        demo::FULL_APP_CLIENT_ID,
        "openid profile email offline_access User.Read Calendars.ReadWrite",
        demo::ADELE,
    )
    .await;
    let scopes: Vec<&str> = body["scope"].as_str().unwrap().split(' ').collect();
    for expected in [
        "User.Read",
        "Calendars.ReadWrite",
        "openid",
        "profile",
        "email",
    ] {
        assert!(scopes.contains(&expected), "{expected} in {scopes:?}");
    }
    assert!(!scopes.contains(&"offline_access"), "{scopes:?}");
    assert!(body["id_token"].is_string(), "openid yields an id_token");
}

fn form_post_authorize(challenge: &str) -> Authorize<'_> {
    Authorize {
        challenge: Some((challenge, Some("S256"))),
        extra: vec![("response_mode", "form_post")],
        ..Authorize::full()
    }
}

#[tokio::test]
async fn form_post_posts_code_and_state_to_the_redirect_uri_and_the_code_redeems() {
    let world = world().await;
    let challenge = s256(VERIFIER);
    let authorize = form_post_authorize(&challenge);
    let delivery = world
        .person
        .authorize(&authorize.url(&world), demo::ADELE, Consent::Approve)
        .await
        .expect("sign-in completes");
    let Delivery::FormPost { action, fields } = &delivery else {
        panic!("form_post answers with a form, not {delivery:?}");
    };
    assert_eq!(
        action.as_str(),
        "http://localhost:53682/",
        "posted to the redirect URI"
    );
    let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["code", "state"]);
    assert_eq!(
        delivery.parameter("state").as_deref(),
        Some(crate::support::STATE)
    );
    let code = delivery.parameter("code").expect("a code");
    let (status, body) = redeem(&world, &authorize, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn form_post_page_works_without_script_and_carries_errors_the_same_way() {
    let world = world().await;
    let challenge = s256(VERIFIER);
    let authorize = form_post_authorize(&challenge);
    let page = world
        .http
        .get(authorize.url(&world))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<form"), "the sign-in page comes first");
    let delivery = world
        .person
        .authorize(&authorize.url(&world), demo::ADELE, Consent::Decline)
        .await
        .expect("declining completes");
    assert_eq!(
        delivery.parameter("error").as_deref(),
        Some("access_denied")
    );
    assert!(delivery
        .parameter("error_description")
        .is_some_and(|text| text.starts_with("AADSTS65004:")));
    assert_eq!(
        delivery.parameter("state").as_deref(),
        Some(crate::support::STATE)
    );
    assert!(delivery.parameter("code").is_none());
}

#[tokio::test]
async fn form_post_html_is_a_post_form_with_a_submit_button() {
    let world = world().await;
    let challenge = s256(VERIFIER);
    let authorize = form_post_authorize(&challenge);
    // Consent once so the next sign-in goes straight to the answer page.
    let _ = world
        .person
        .authorize(&authorize.url(&world), demo::ADELE, Consent::Approve)
        .await
        .unwrap();
    let sign_in = world
        .http
        .get(authorize.url(&world))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let flow = sign_in
        .split("name=\"flow\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-in form carries its flow");
    let answer = world
        .http
        .post(
            world
                .sandbox
                .base_url()
                .join("organizations/login")
                .unwrap(),
        )
        .form(&[("flow", flow), ("login", demo::ADELE)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["cache-control"].to_str().unwrap(),
        "no-store, no-cache"
    );
    let html = answer.text().await.unwrap();
    assert!(html.contains("method=\"POST\""), "{html}");
    assert!(html.contains("action=\"http://localhost:53682\""), "{html}");
    assert!(html.contains("<button type=\"submit\">"), "{html}");
    assert!(html.contains("name=\"code\""), "{html}");
}

#[tokio::test]
async fn an_unknown_response_mode_is_refused() {
    let world = world().await;
    let authorize = Authorize {
        extra: vec![("response_mode", "web_message")],
        ..Authorize::full()
    };
    let response = world.http.get(authorize.url(&world)).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.contains("error=invalid_request"), "{location}");
}

#[tokio::test]
async fn prompt_consent_shows_the_consent_page_even_where_consent_is_on_record() {
    let world = world().await;
    // Adele consents once; a second sign-in without a prompt asks nothing (declining changes nothing).
    code_for(&world, &Authorize::full(), demo::ADELE).await;
    let location = world
        .person
        .sign_in(
            &Authorize::full().url(&world),
            demo::ADELE,
            Consent::Decline,
        )
        .await
        .unwrap();
    assert!(
        query_value(&location, "code").is_some(),
        "no consent page without prompt: {location}"
    );

    // prompt=consent shows the page again (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow):
    // declining there is AADSTS65004, approving gives a code.
    let asking = Authorize {
        extra: vec![("prompt", "consent")],
        ..Authorize::full()
    };
    let location = world
        .person
        .sign_in(&asking.url(&world), demo::ADELE, Consent::Decline)
        .await
        .unwrap();
    assert!(
        query_value(&location, "error_description")
            .unwrap_or_default()
            .starts_with("AADSTS65004"),
        "the consent page was shown: {location}"
    );
    code_for(&world, &asking, demo::ADELE).await;
}

#[tokio::test]
async fn prompt_consent_for_a_user_who_may_not_consent_is_need_admin_approval() {
    let world = world().await;
    let asking = Authorize {
        extra: vec![("prompt", "consent")],
        ..Authorize::full()
    };
    let location = world
        .person
        .sign_in(&asking.url(&world), demo::LEE, Consent::Approve)
        .await
        .unwrap();
    assert!(
        query_value(&location, "error_description")
            .unwrap_or_default()
            .starts_with("AADSTS90094"),
        "{location}"
    );
}
