//! Teams conferencing over loopback HTTPS: the "calconnect Teams" public client's meetings under `/me`,
//! the "calconnect Teams Enterprise" app's certificate credentials, app-only meetings under `/users/{id}`
//! behind Teams application access policies, `/organization` and `/users/{id | upn}`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use calconnect_sandbox::tenant::{ApplicationAccessPolicyGrant, X509Certificate};
use calconnect_sandbox::{demo, Sandbox, Tenant};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::PrivatePkcs8KeyDer;
use serde_json::{json, Value};

use crate::support::{
    aadsts, assert_graph_valid, graph_schema, post_token, post_token_at, sign_in_tokens, world,
    world_with, World,
};

const TEAMS_SCOPES: &str = "User.Read OnlineMeetings.ReadWrite offline_access";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn demo_certificate() -> X509Certificate {
    X509Certificate::from_pem(demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM).expect("demo certificate")
}

/// The demo private key, as jsonwebtoken wants an RSA key (PKCS#1 DER).
fn demo_key() -> EncodingKey {
    let pkcs8 =
        PrivatePkcs8KeyDer::from_pem_slice(demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM.as_bytes())
            .expect("the demo PEM holds a PKCS#8 key");
    let key = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8.secret_pkcs8_der()).expect("RSA key");
    EncodingKey::from_rsa_der(key.to_pkcs1_der().expect("PKCS#1").as_bytes())
}

/// The tenant's v2 token endpoint on this sandbox, as `aud` names it.
fn token_endpoint(world: &World, segment: &str) -> String {
    format!("{}{segment}/oauth2/v2.0/token", world.sandbox.base_url())
}

/// Claims Microsoft's certificate credentials page lists, for the enterprise app.
fn claims(world: &World) -> Value {
    let now = now();
    json!({
        "aud": token_endpoint(world, demo::TENANT_ID),
        "iss": demo::TEAMS_ENTERPRISE_APP_CLIENT_ID,
        "sub": demo::TEAMS_ENTERPRISE_APP_CLIENT_ID,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    })
}

/// A PS256 assertion with `x5t#S256`, as the certificate credentials page shows it.
fn sign(claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(Algorithm::PS256);
    header.typ = Some("JWT".to_owned());
    header.x5t_s256 = Some(demo_certificate().x5t_s256());
    jsonwebtoken::encode(&header, claims, key).expect("assertion signs")
}

fn assertion_form(assertion: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", demo::TEAMS_ENTERPRISE_APP_CLIENT_ID.to_owned()),
        ("client_assertion_type", ASSERTION_TYPE.to_owned()),
        ("client_assertion", assertion.to_owned()),
        ("grant_type", "client_credentials".to_owned()),
        ("scope", GRAPH_DEFAULT.to_owned()),
    ]
}

async fn redeem_assertion(world: &World, assertion: &str) -> (u16, Value) {
    let form = assertion_form(assertion);
    let form: Vec<(&str, &str)> = form
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    post_token_at(world, demo::TENANT_ID, &form).await
}

fn assert_invalid_client(status: u16, body: &Value, code: u64, text: &str) {
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert_eq!(aadsts(body), code, "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")) && description.contains(text),
        "{description}"
    );
}

/// The payload of a JWT, unverified (for looking at claims the sandbox issued).
fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// An app-only token of the enterprise app, by certificate.
async fn enterprise_token(world: &World) -> String {
    let (status, body) = redeem_assertion(world, &sign(&claims(world), &demo_key())).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// An app-only token of the EWS app, which holds no Graph role.
async fn roleless_token(world: &World) -> String {
    let (status, body) = post_token(
        world,
        &[
            ("client_id", demo::EWS_APP_CLIENT_ID),
            ("client_secret", demo::EWS_APP_CLIENT_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_DEFAULT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn teams_token(world: &World, user: &str) -> String {
    sign_in_tokens(world, demo::TEAMS_APP_CLIENT_ID, TEAMS_SCOPES, user).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn send(
    world: &World,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let url = world.sandbox.graph_url().join(path).unwrap();
    let mut request = world.http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"))
    };
    (status, body)
}

fn meeting_request() -> Value {
    json!({"startDateTime": "2030-01-01T10:00:00Z", "endDateTime": "2030-01-01T10:30:00Z", "subject": "calconnect test meeting"})
}

fn assert_graph_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );
}

fn user_id(email: &str) -> String {
    Tenant::demo()
        .user_by_email(email)
        .expect("demo user")
        .id
        .to_string()
}

// --- Identity: certificate credentials ---------------------------------------------------------------

#[tokio::test]
async fn a_certificate_assertion_gets_an_app_only_token_with_the_three_roles() {
    let world = world().await;
    let (status, body) = redeem_assertion(&world, &sign(&claims(&world), &demo_key())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body.get("refresh_token").is_none(),
        "client credentials give no refresh token"
    );
    let access = payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["appid"], demo::TEAMS_ENTERPRISE_APP_CLIENT_ID);
    assert_eq!(
        access["roles"],
        json!([
            "User.ReadBasic.All",
            "OnlineMeetings.ReadWrite.All",
            "Organization.Read.All"
        ])
    );
    assert!(
        access.get("scp").is_none(),
        "app-only tokens carry roles, not scp"
    );
}

#[tokio::test]
async fn rs256_with_the_legacy_sha1_x5t_and_an_audience_by_domain_is_accepted_too() {
    let world = world().await;
    for segment in [demo::INITIAL_DOMAIN, demo::DOMAIN] {
        let mut claims = claims(&world);
        claims["aud"] = json!(token_endpoint(&world, segment));
        let mut header = Header::new(Algorithm::RS256);
        header.x5t = Some(demo_certificate().x5t());
        let assertion = jsonwebtoken::encode(&header, &claims, &demo_key()).unwrap();
        let (status, body) = redeem_assertion(&world, &assertion).await;
        assert_eq!(status, 200, "aud on {segment}: {body}");
    }
}

#[tokio::test]
async fn an_unregistered_thumbprint_is_refused_with_aadsts700027_key_not_found() {
    let world = world().await;
    let mut header = Header::new(Algorithm::PS256);
    header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode([7u8; 32]));
    let assertion = jsonwebtoken::encode(&header, &claims(&world), &demo_key()).unwrap();
    let (status, body) = redeem_assertion(&world, &assertion).await;
    assert_invalid_client(status, &body, 700027, "[Reason - The key was not found.");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains(&format!(
            "Thumbprint of key used by client: '{}'",
            "07".repeat(32)
        )) && description.contains(demo::TEAMS_ENTERPRISE_APP_CLIENT_ID),
        "{description}"
    );
    let mut header = Header::new(Algorithm::PS256);
    header.typ = Some("JWT".to_owned());
    let no_thumbprint = jsonwebtoken::encode(&header, &claims(&world), &demo_key()).unwrap();
    let (status, body) = redeem_assertion(&world, &no_thumbprint).await;
    assert_invalid_client(status, &body, 50027, "No certificate thumbprint");
}

#[tokio::test]
async fn a_signature_by_another_key_is_refused_with_aadsts700027_invalid_signature() {
    let world = world().await;
    let other = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let other = EncodingKey::from_rsa_der(other.to_pkcs1_der().unwrap().as_bytes());
    let (status, body) = redeem_assertion(&world, &sign(&claims(&world), &other)).await;
    assert_invalid_client(
        status,
        &body,
        700027,
        "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed.",
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains(demo::TEAMS_ENTERPRISE_CERTIFICATE_THUMBPRINT),
        "{body}"
    );
    let (status, body) = redeem_assertion(&world, "not.a.jwt").await;
    assert_invalid_client(status, &body, 50027, "JWT token is invalid or malformed.");
}

#[tokio::test]
async fn an_assertion_outside_its_time_range_is_refused_with_aadsts700024() {
    let world = world().await;
    let now = now();
    for (nbf, exp) in [(now - 1200, now - 600), (now + 3600, now + 4200)] {
        let mut claims = claims(&world);
        claims["nbf"] = json!(nbf);
        claims["exp"] = json!(exp);
        let (status, body) = redeem_assertion(&world, &sign(&claims, &demo_key())).await;
        assert_invalid_client(
            status,
            &body,
            700024,
            "Client assertion is not within its valid time range. Current time: ",
        );
    }
    let mut claims = claims(&world);
    claims["exp"] = json!(now - 60);
    let (status, body) = redeem_assertion(&world, &sign(&claims, &demo_key())).await;
    assert_eq!(status, 200, "a minute of clock skew is tolerated: {body}");
}

#[tokio::test]
async fn an_assertion_for_another_audience_is_refused() {
    let world = world().await;
    let mut wrong = claims(&world);
    wrong["aud"] = json!(format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        demo::TENANT_ID
    ));
    let (status, body) = redeem_assertion(&world, &sign(&wrong, &demo_key())).await;
    assert_invalid_client(status, &body, 50012, "audience claim does not match");
    let mut two = claims(&world);
    two["aud"] = json!([
        token_endpoint(&world, demo::TENANT_ID),
        format!("{}{}/v2.0", world.sandbox.base_url(), demo::TENANT_ID)
    ]);
    let (status, body) = redeem_assertion(&world, &sign(&two, &demo_key())).await;
    assert_invalid_client(status, &body, 5002741, "2 audience values provided");
}

#[tokio::test]
async fn iss_and_sub_must_both_be_the_client_id() {
    let world = world().await;
    let mut mismatch = claims(&world);
    mismatch["sub"] = json!("someone-else");
    let (status, body) = redeem_assertion(&world, &sign(&mismatch, &demo_key())).await;
    assert_invalid_client(status, &body, 50048, "Subject mismatches Issuer");
    let mut other = claims(&world);
    other["iss"] = json!(demo::EWS_APP_CLIENT_ID);
    other["sub"] = json!(demo::EWS_APP_CLIENT_ID);
    let (status, body) = redeem_assertion(&world, &sign(&other, &demo_key())).await;
    assert_invalid_client(status, &body, 50027, "Unexpected issuer");
}

#[tokio::test]
async fn the_client_secret_still_works_and_a_public_client_may_present_no_assertion() {
    let world = world().await;
    let secret = |secret: &'static str| {
        [
            ("client_id", demo::TEAMS_ENTERPRISE_APP_CLIENT_ID),
            ("client_secret", secret),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_DEFAULT),
        ]
    };
    let (status, body) =
        post_token(&world, &secret(demo::TEAMS_ENTERPRISE_APP_CLIENT_SECRET)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_token(&world, &secret("wrong")).await;
    assert_invalid_client(status, &body, 7000215, "Invalid client secret");
    let (status, body) = post_token(
        &world,
        &[
            ("client_id", demo::TEAMS_ENTERPRISE_APP_CLIENT_ID),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_DEFAULT),
        ],
    )
    .await;
    assert_invalid_client(
        status,
        &body,
        7000218,
        "'client_assertion' or 'client_secret'",
    );
    let assertion = sign(&claims(&world), &demo_key());
    let (status, body) = post_token(
        &world,
        &[
            ("client_id", demo::TEAMS_APP_CLIENT_ID),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_DEFAULT),
        ],
    )
    .await;
    assert_invalid_client(status, &body, 700025, "Client is public");
}

#[tokio::test]
async fn the_assertion_never_reaches_the_journal() {
    let world = world().await;
    let assertion = sign(&claims(&world), &demo_key());
    let (status, _) = redeem_assertion(&world, &assertion).await;
    assert_eq!(status, 200);
    let url = world
        .sandbox
        .base_url()
        .join(&format!("{}/oauth2/v2.0/token", demo::TENANT_ID))
        .unwrap();
    // Even a client that puts it in the query string.
    let response = world
        .http
        .post(format!("{url}?client_assertion={assertion}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let journal = serde_json::to_string(&world.sandbox.journal()).unwrap();
    let signature = assertion.rsplit('.').next().unwrap();
    assert!(!journal.contains(signature), "{journal}");
    assert!(journal.contains("client_assertion=[redacted]"), "{journal}");
}

// --- Graph: meetings under /me -----------------------------------------------------------------------

#[tokio::test]
async fn a_teams_account_creates_reads_and_deletes_its_own_meeting() {
    let world = world().await;
    let token = teams_token(&world, demo::ADELE).await;
    let schema = graph_schema("onlineMeeting", false);
    let (status, created) = send(
        &world,
        reqwest::Method::POST,
        &token,
        "me/onlineMeetings",
        Some(&meeting_request()),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_graph_valid(&schema, &created);
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["joinWebUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://teams.microsoft.com/l/meetup-join/"));
    assert_eq!(created["subject"], "calconnect test meeting");
    let path = format!("me/onlineMeetings/{id}");
    let (status, read) = send(&world, reqwest::Method::GET, &token, &path, None).await;
    assert_eq!(status, 200, "{read}");
    assert_graph_valid(&schema, &read);
    assert_eq!(read["joinWebUrl"], created["joinWebUrl"]);
    assert_eq!(read["participants"]["organizer"]["upn"], demo::ADELE);
    let (status, body) = send(&world, reqwest::Method::DELETE, &token, &path, None).await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, body) = send(&world, reqwest::Method::GET, &token, &path, None).await;
    assert_graph_error(status, &body, 404, "NotFound");
    let (status, body) = send(&world, reqwest::Method::DELETE, &token, &path, None).await;
    assert_graph_error(status, &body, 404, "NotFound");
    let (status, body) = send(
        &world,
        reqwest::Method::GET,
        &token,
        "me/onlineMeetings/not-a-meeting-id",
        None,
    )
    .await;
    assert_graph_error(status, &body, 404, "NotFound");
    assert_eq!(body["error"]["message"], "Meeting Id is corrupted.");
}

#[tokio::test]
async fn lee_is_licensed_for_teams_and_the_unlicensed_service_account_is_refused() {
    let world = world().await;
    let lee = teams_token(&world, demo::LEE).await;
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &lee,
        "me/onlineMeetings",
        Some(&meeting_request()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let service = teams_token(&world, demo::SERVICE_ACCOUNT_UPN).await;
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &service,
        "me/onlineMeetings",
        Some(&meeting_request()),
    )
    .await;
    assert_graph_error(status, &body, 403, "Forbidden");
}

#[tokio::test]
async fn a_teams_token_gets_403_on_calendar_calls_but_reads_its_profile() {
    let world = world().await;
    let token = teams_token(&world, demo::ADELE).await;
    let monday = calconnect_sandbox::tenant::week_start(chrono::Utc::now());
    let window = format!(
        "startDateTime={}&endDateTime={}",
        monday.format("%Y-%m-%dT%H:%M:%SZ"),
        (monday + chrono::Duration::days(7)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    for path in [
        "me/calendars".to_owned(),
        format!("me/calendarView?{window}"),
        format!("me/calendars/AAMkAGAdeleCalendar/calendarView?{window}"),
    ] {
        let (status, body) = send(&world, reqwest::Method::GET, &token, &path, None).await;
        assert_graph_error(status, &body, 403, "ErrorAccessDenied");
    }
    let schedule = json!({
        "schedules": [demo::ADELE],
        "startTime": {"dateTime": monday.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
        "endTime": {"dateTime": (monday + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
    });
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &token,
        "me/calendar/getSchedule",
        Some(&schedule),
    )
    .await;
    assert_graph_error(status, &body, 403, "ErrorAccessDenied");
    let (status, me) = send(&world, reqwest::Method::GET, &token, "me", None).await;
    assert_eq!(status, 200, "User.Read reads the profile: {me}");
    assert_eq!(me["userPrincipalName"], demo::ADELE);
}

// --- Graph: app-only meetings under /users/{id} -------------------------------------------------------

#[tokio::test]
async fn the_enterprise_app_creates_reads_and_deletes_a_meeting_for_adele_inside_the_policy() {
    let world = world().await;
    let token = enterprise_token(&world).await;
    let schema = graph_schema("onlineMeeting", false);
    let (status, created) = send(
        &world,
        reqwest::Method::POST,
        &token,
        &format!("users/{}/onlineMeetings", user_id(demo::ADELE)),
        Some(&meeting_request()),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_graph_valid(&schema, &created);
    assert_eq!(created["participants"]["organizer"]["upn"], demo::ADELE);
    let id = created["id"].as_str().unwrap();
    // By user principal name too.
    let path = format!("users/{}/onlineMeetings/{id}", demo::ADELE);
    let (status, read) = send(&world, reqwest::Method::GET, &token, &path, None).await;
    assert_eq!(status, 200, "{read}");
    assert_graph_valid(&schema, &read);
    assert_eq!(read["joinWebUrl"], created["joinWebUrl"]);
    let (status, _) = send(&world, reqwest::Method::DELETE, &token, &path, None).await;
    assert_eq!(status, 204);
    let (status, body) = send(&world, reqwest::Method::GET, &token, &path, None).await;
    assert_graph_error(status, &body, 404, "NotFound");
    assert!(world.sandbox.state().online_meetings().is_empty());
}

#[tokio::test]
async fn outside_the_policy_lee_gets_graphs_documented_403() {
    let world = world().await;
    let token = enterprise_token(&world).await;
    let lee = user_id(demo::LEE);
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &token,
        &format!("users/{lee}/onlineMeetings"),
        Some(&meeting_request()),
    )
    .await;
    assert_graph_error(status, &body, 403, "Unauthorized");
    assert_eq!(
        body["error"]["message"],
        format!(
            "App {} is not authorized to Create meeting on behalf of user {lee}",
            demo::TEAMS_ENTERPRISE_APP_CLIENT_ID
        )
    );
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let (status, body) = send(
            &world,
            method,
            &token,
            &format!("users/{}/onlineMeetings/MSo1", demo::LEE),
            None,
        )
        .await;
        assert_graph_error(status, &body, 403, "General");
        assert_eq!(
            body["error"]["message"],
            "No application access policy found for this app."
        );
    }
}

#[tokio::test]
async fn a_global_grant_covers_lee_and_an_unlicensed_user_is_still_refused() {
    let mut tenant = Tenant::demo();
    tenant
        .teams
        .application_access_policy_grants
        .push(ApplicationAccessPolicyGrant {
            policy_name: Some(demo::TEAMS_APPLICATION_ACCESS_POLICY.to_owned()),
            identity: None,
            global: true,
        });
    let world = world_with(Sandbox::builder().tenant(tenant)).await;
    let token = enterprise_token(&world).await;
    let (status, lee_meeting) = send(
        &world,
        reqwest::Method::POST,
        &token,
        &format!("users/{}/onlineMeetings", demo::LEE),
        Some(&meeting_request()),
    )
    .await;
    assert_eq!(status, 201, "-Global covers lee: {lee_meeting}");
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &token,
        &format!("users/{}/onlineMeetings", demo::SERVICE_ACCOUNT_UPN),
        Some(&meeting_request()),
    )
    .await;
    assert_graph_error(status, &body, 403, "Forbidden");
    // Lee's meeting read through adele's path is someone else's meeting.
    let (status, body) = send(
        &world,
        reqwest::Method::GET,
        &token,
        &format!(
            "users/{}/onlineMeetings/{}",
            demo::ADELE,
            lee_meeting["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_graph_error(status, &body, 404, "NotFound");
    assert_eq!(
        body["error"]["message"],
        format!("Organizer Id mismatch User Id: {}.", user_id(demo::ADELE))
    );
}

#[tokio::test]
async fn tokens_without_the_meeting_permission_or_for_someone_else_are_refused() {
    let world = world().await;
    let roleless = roleless_token(&world).await;
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &roleless,
        &format!("users/{}/onlineMeetings", demo::ADELE),
        Some(&meeting_request()),
    )
    .await;
    assert_graph_error(status, &body, 403, "ErrorAccessDenied");
    let enterprise = enterprise_token(&world).await;
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &enterprise,
        "me/onlineMeetings",
        Some(&meeting_request()),
    )
    .await;
    assert_graph_error(status, &body, 403, "ErrorAccessDenied");
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &enterprise,
        "users/nobody@contoso.com/onlineMeetings",
        Some(&meeting_request()),
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let adele = teams_token(&world, demo::ADELE).await;
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &adele,
        &format!("users/{}/onlineMeetings", user_id(demo::ADELE)),
        Some(&meeting_request()),
    )
    .await;
    assert_eq!(
        status, 201,
        "a delegated token may name its own user: {body}"
    );
    let (status, body) = send(
        &world,
        reqwest::Method::POST,
        &adele,
        &format!("users/{}/onlineMeetings", demo::LEE),
        Some(&meeting_request()),
    )
    .await;
    assert_graph_error(status, &body, 403, "ErrorAccessDenied");
}

// --- Graph: /organization and /users/{id | upn} -------------------------------------------------------

#[tokio::test]
async fn organization_names_the_tenant_and_its_verified_domains() {
    let world = world().await;
    let schema = graph_schema("organization", true);
    let token = enterprise_token(&world).await;
    let (status, body) = send(&world, reqwest::Method::GET, &token, "organization", None).await;
    assert_eq!(status, 200, "{body}");
    assert_graph_valid(&schema, &body);
    let organization = &body["value"][0];
    assert_eq!(organization["id"], demo::TENANT_ID);
    assert_eq!(organization["displayName"], demo::TENANT_NAME);
    let domains = organization["verifiedDomains"].as_array().unwrap();
    let domain = |name: &str| {
        domains
            .iter()
            .find(|domain| domain["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {domains:?}"))
            .clone()
    };
    assert_eq!(domain(demo::DOMAIN)["isDefault"], true);
    assert_eq!(domain(demo::DOMAIN)["isInitial"], false);
    assert_eq!(domain(demo::INITIAL_DOMAIN)["isInitial"], true);
    assert_eq!(domain(demo::INITIAL_DOMAIN)["type"], "Managed");
    // A delegated User.Read token reads id, displayName and verifiedDomains.
    let delegated = teams_token(&world, demo::ADELE).await;
    let (status, body) = send(
        &world,
        reqwest::Method::GET,
        &delegated,
        "organization",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_graph_valid(&schema, &body);
    assert_eq!(
        body["value"][0]["verifiedDomains"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(body["value"][0]["tenantType"].is_null());
    let roleless = roleless_token(&world).await;
    let (status, body) = send(
        &world,
        reqwest::Method::GET,
        &roleless,
        "organization",
        None,
    )
    .await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    assert_eq!(
        body["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
}

#[tokio::test]
async fn users_by_upn_or_id_give_user_readbasic_all_the_basic_profile() {
    let world = world().await;
    let schema = graph_schema("user", false);
    let token = enterprise_token(&world).await;
    let adele = user_id(demo::ADELE);
    for key in [demo::ADELE.to_owned(), adele.clone()] {
        let (status, user) = send(
            &world,
            reqwest::Method::GET,
            &token,
            &format!("users/{key}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{user}");
        assert_graph_valid(&schema, &user);
        assert_eq!(user["id"], adele.as_str());
        assert_eq!(user["userPrincipalName"], demo::ADELE);
        assert_eq!(user["mail"], demo::ADELE);
        assert_eq!(user["displayName"], "Adele Vance");
        assert!(
            user.get("jobTitle").is_none() && user.get("officeLocation").is_none(),
            "the basic profile only: {user}"
        );
    }
    let (status, body) = send(
        &world,
        reqwest::Method::GET,
        &token,
        "users/nobody@contoso.com",
        None,
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let roleless = roleless_token(&world).await;
    let (status, body) = send(
        &world,
        reqwest::Method::GET,
        &roleless,
        &format!("users/{}", demo::ADELE),
        None,
    )
    .await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    // A delegated User.Read token reads its own user in full, and no one else.
    let delegated = teams_token(&world, demo::ADELE).await;
    let (status, me) = send(
        &world,
        reqwest::Method::GET,
        &delegated,
        &format!("users/{}", demo::ADELE),
        None,
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["jobTitle"], "Retail Manager");
    let (status, body) = send(
        &world,
        reqwest::Method::GET,
        &delegated,
        &format!("users/{}", demo::LEE),
        None,
    )
    .await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
}
