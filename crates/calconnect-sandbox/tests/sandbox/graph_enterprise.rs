//! Graph Enterprise Connect over loopback HTTPS: the "calconnect Enterprise Connect (Graph)" app by client
//! secret and by certificate assertion, `/users` with paging, `$select` and the `proxyAddresses` filter,
//! rooms and room lists, and app-only calendars limited by RBAC for Applications (adele and megan in, lee
//! out) in the Exchange Online demo.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use calconnect_sandbox::tenant::X509Certificate;
use calconnect_sandbox::{demo, Sandbox, Tenant};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::PrivatePkcs8KeyDer;
use serde_json::{json, Value};

use crate::support::{
    assert_graph_valid, graph_schema, post_token, post_token_at, world, world_with, World,
};

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ACCESS_DENIED: &str = "Access is denied. Check credentials and try again.";

/// The Exchange Online demo, where the Graph app's calendar access comes from RBAC for Applications.
async fn online_world() -> World {
    world_with(Sandbox::builder().tenant(Tenant::demo_exchange_online())).await
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

async fn secret_token(world: &World, client_id: &str, secret: &str) -> String {
    let (status, body) = post_token(
        world,
        &[
            ("client_id", client_id),
            ("client_secret", secret),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_DEFAULT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn enterprise_token(world: &World) -> String {
    secret_token(
        world,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_ID,
        demo::GRAPH_ENTERPRISE_APP_CLIENT_SECRET,
    )
    .await
}

/// A PS256 client assertion signed with the demo certificate's key, as Microsoft's certificate
/// credentials page describes it.
fn assertion(world: &World, client_id: &str) -> String {
    let pkcs8 =
        PrivatePkcs8KeyDer::from_pem_slice(demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM.as_bytes())
            .expect("the demo PEM holds a PKCS#8 key");
    let key = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8.secret_pkcs8_der()).expect("RSA key");
    let key = EncodingKey::from_rsa_der(key.to_pkcs1_der().expect("PKCS#1").as_bytes());
    let certificate =
        X509Certificate::from_pem(demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM).expect("certificate");
    let mut header = Header::new(Algorithm::PS256);
    header.typ = Some("JWT".to_owned());
    header.x5t_s256 = Some(certificate.x5t_s256());
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "aud": format!("{}{}/oauth2/v2.0/token", world.sandbox.base_url(), demo::TENANT_ID),
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    });
    jsonwebtoken::encode(&header, &claims, &key).expect("assertion signs")
}

async fn get(world: &World, token: &str, path: &str) -> (u16, Value) {
    get_with(world, token, path, &[]).await
}

async fn get_with(
    world: &World,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let url = if path.starts_with("https://") {
        url::Url::parse(path).unwrap()
    } else {
        world.sandbox.graph_url().join(path).unwrap()
    };
    let mut request = world.http.get(url).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

fn assert_graph_error(status: u16, body: &Value, expected: u16, code: &str, message: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["message"], message, "{body}");
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );
}

fn roles(token: &str) -> Vec<String> {
    payload(token)["roles"]
        .as_array()
        .map(|roles| {
            roles
                .iter()
                .filter_map(|role| role.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_secret_and_the_shared_certificate_give_the_same_roles() {
    let world = online_world().await;
    let by_secret = enterprise_token(&world).await;
    let form = [
        ("client_id", demo::GRAPH_ENTERPRISE_APP_CLIENT_ID.to_owned()),
        ("client_assertion_type", ASSERTION_TYPE.to_owned()),
        (
            "client_assertion",
            assertion(&world, demo::GRAPH_ENTERPRISE_APP_CLIENT_ID),
        ),
        ("grant_type", "client_credentials".to_owned()),
        ("scope", GRAPH_DEFAULT.to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = post_token_at(&world, demo::TENANT_ID, &form).await;
    assert_eq!(status, 200, "{body}");
    let by_certificate = body["access_token"].as_str().unwrap();
    let mut expected = vec!["Organization.Read.All", "Place.Read.All", "User.Read.All"];
    for token in [by_secret.as_str(), by_certificate] {
        let mut got = roles(token);
        got.sort();
        expected.sort();
        // Exchange Online: Calendars.ReadWrite comes from RBAC for Applications, not from Entra, so
        // the token does not carry it.
        assert_eq!(got, expected, "{}", payload(token));
        assert_eq!(
            payload(token)["appid"],
            demo::GRAPH_ENTERPRISE_APP_CLIENT_ID
        );
    }
    let on_premises = crate::support::world().await;
    let mut got = roles(&enterprise_token(&on_premises).await);
    got.sort();
    assert_eq!(
        got,
        [
            "Calendars.ReadWrite",
            "Organization.Read.All",
            "Place.Read.All",
            "User.Read.All"
        ],
        "on premises the grant is tenant-wide"
    );
    let (status, body) = get(&world, by_certificate, "organization").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"][0]["id"], demo::TENANT_ID);
    assert_graph_valid(&graph_schema("organization", true), &body);
}

#[tokio::test]
async fn users_page_by_next_link_and_select_the_seed_fields() {
    let world = world().await;
    let token = enterprise_token(&world).await;
    let select = "id,displayName,userPrincipalName,mail,preferredLanguage,userType,accountEnabled,proxyAddresses";
    let validator = graph_schema("user", true);
    let mut next = Some(format!("users?$select={select}"));
    let (mut pages, mut users) = (0, Vec::new());
    while let Some(path) = next {
        let (status, body) = get(&world, &token, &path).await;
        assert_eq!(status, 200, "{body}");
        assert_graph_valid(&validator, &body);
        assert!(
            body["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with(&format!("$metadata#users({select})")),
            "{body}"
        );
        let value = body["value"].as_array().unwrap();
        assert!(value.len() <= 2, "the demo's page size is 2: {body}");
        for user in value {
            let keys: Vec<&str> = user
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys.len(), 8, "only the selected properties: {user}");
            users.push(user.clone());
        }
        pages += 1;
        next = body["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3, "five users in pages of two");
    assert_eq!(users.len(), 5);
    let adele = users
        .iter()
        .find(|user| user["userPrincipalName"] == demo::ADELE)
        .expect("adele listed");
    assert_eq!(adele["userType"], "Member");
    assert_eq!(adele["accountEnabled"], true);
    assert_eq!(adele["preferredLanguage"], "en-US");
    assert_eq!(adele["proxyAddresses"][0], "SMTP:adele@contoso.com");

    let (status, body) = get(&world, &token, "users?$top=4").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 4);
    assert!(
        body["value"][0].get("proxyAddresses").is_none(),
        "not a default property"
    );
    assert!(body["value"][0]["businessPhones"].is_array());
    let (status, body) = get(&world, &token, "users?$top=1000").await;
    assert_graph_error(
        status,
        &body,
        400,
        "Request_UnsupportedQuery",
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    );
    let (status, body) = get(&world, &token, "users?$select=id,shoeSize").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "Request_BadRequest");
}

#[tokio::test]
async fn the_proxy_addresses_filter_finds_a_mailbox_by_any_of_its_addresses() {
    let world = world().await;
    let token = enterprise_token(&world).await;
    for address in [
        "smtp:adele@contoso.com",
        "SMTP:ADELE@CONTOSO.COM",
        "smtp:adele.vance@contoso.com",
    ] {
        let path = format!("users?$filter=proxyAddresses/any(x:x eq '{address}')&$select=id,userPrincipalName,proxyAddresses");
        let (status, body) = get(&world, &token, &path).await;
        assert_eq!(status, 200, "{body}");
        assert_graph_valid(&graph_schema("user", true), &body);
        let value = body["value"].as_array().unwrap();
        assert_eq!(value.len(), 1, "{address}: {body}");
        assert_eq!(value[0]["userPrincipalName"], demo::ADELE);
    }
    let (status, body) = get(
        &world,
        &token,
        "users?$filter=proxyAddresses/any(x:x eq 'smtp:nobody@contoso.com')",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["value"].as_array().unwrap().is_empty());

    // endsWith is an advanced query: refused without ConsistencyLevel and $count, answered with both.
    let ends_with = "users?$filter=proxyAddresses/any(p:endsWith(p,'contoso.onmicrosoft.com'))";
    let (status, body) = get(&world, &token, ends_with).await;
    assert_graph_error(
        status,
        &body,
        400,
        "Request_UnsupportedQuery",
        "Operator 'endsWith' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
    );
    let (status, body) = get_with(
        &world,
        &token,
        &format!("{ends_with}&$count=true&$top=10"),
        &[("ConsistencyLevel", "eventual")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["@odata.count"], 5, "{body}");
    let (status, body) = get(&world, &token, "users?$filter=jobTitle eq 'Director'").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
}

#[tokio::test]
async fn rooms_and_room_lists_need_place_read_all() {
    let world = world().await;
    let token = enterprise_token(&world).await;
    let (status, body) = get(&world, &token, "places/microsoft.graph.room").await;
    assert_eq!(status, 200, "{body}");
    assert_graph_valid(&graph_schema("room", true), &body);
    let rooms: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|room| room["emailAddress"].as_str().unwrap())
        .collect();
    assert_eq!(
        rooms,
        [demo::ROOM_RAINIER, demo::ROOM_BAKER, demo::ROOM_ADAMS]
    );
    assert_eq!(body["value"][0]["displayName"], "Conf Room Rainier");
    assert_eq!(body["value"][0]["@odata.type"], "#microsoft.graph.room");

    let (status, body) = get(&world, &token, "places/microsoft.graph.roomList").await;
    assert_eq!(status, 200, "{body}");
    assert_graph_valid(&graph_schema("roomList", true), &body);
    assert_eq!(body["value"][0]["emailAddress"], demo::BUILDING_1);
    assert_eq!(body["value"][0]["displayName"], "Building 1");

    let path = format!("places/{}/microsoft.graph.roomlist/rooms", demo::BUILDING_1);
    let (status, body) = get(&world, &token, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_graph_valid(&graph_schema("room", true), &body);
    assert_eq!(body["value"].as_array().unwrap().len(), 2, "{body}");

    let no_places = secret_token(
        &world,
        demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_ID,
        demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_SECRET,
    )
    .await;
    for path in [
        "places/microsoft.graph.room",
        "places/microsoft.graph.roomList",
    ] {
        let (status, body) = get(&world, &no_places, path).await;
        assert_graph_error(status, &body, 403, "ErrorAccessDenied", ACCESS_DENIED);
    }
}

#[tokio::test]
async fn rbac_for_applications_lets_the_app_into_adele_and_megan_not_lee() {
    let world = online_world().await;
    let token = enterprise_token(&world).await;
    let start = chrono::Utc::now().format("%Y-%m-%dT00:00:00Z").to_string();
    let end = (chrono::Utc::now() + chrono::Duration::days(7))
        .format("%Y-%m-%dT00:00:00Z")
        .to_string();
    for user in [demo::ADELE, demo::MEGAN] {
        let (status, body) = get(&world, &token, &format!("users/{user}/calendars")).await;
        assert_eq!(status, 200, "{user}: {body}");
        assert_graph_valid(&graph_schema("calendar", true), &body);
        assert!(!body["value"].as_array().unwrap().is_empty());
        let path = format!("users/{user}/calendarView?startDateTime={start}&endDateTime={end}");
        let (status, body) = get(&world, &token, &path).await;
        assert_eq!(status, 200, "{user}: {body}");
        assert_graph_valid(&graph_schema("event", true), &body);
    }
    // By object id too.
    let (status, body) = get(
        &world,
        &token,
        &format!("users?$filter=userPrincipalName eq '{}'", demo::MEGAN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let megan_id = body["value"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = get(&world, &token, &format!("users/{megan_id}/calendars")).await;
    assert_eq!(status, 200, "{body}");

    for path in [
        format!("users/{}/calendars", demo::LEE),
        format!(
            "users/{}/calendarView?startDateTime={start}&endDateTime={end}",
            demo::LEE
        ),
        format!(
            "users/{}/calendar/calendarView?startDateTime={start}&endDateTime={end}",
            demo::LEE
        ),
    ] {
        let (status, body) = get(&world, &token, &path).await;
        assert_graph_error(status, &body, 403, "ErrorAccessDenied", ACCESS_DENIED);
    }
    // The directory still lists lee: the scope limits mailboxes, not User.Read.All.
    let (status, body) = get(&world, &token, &format!("users/{}", demo::LEE)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_tenant_wide_entra_grant_adds_to_rbac_and_reaches_every_mailbox() {
    let world = online_world().await;
    let token = secret_token(
        &world,
        demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_ID,
        demo::GRAPH_ENTERPRISE_NO_PLACES_APP_CLIENT_SECRET,
    )
    .await;
    let (status, body) = get(&world, &token, &format!("users/{}/calendars", demo::LEE)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&world, &token, "users/nobody@contoso.com/calendars").await;
    assert_graph_error(
        status,
        &body,
        404,
        "ErrorInvalidUser",
        "The requested user 'nobody@contoso.com' is invalid.",
    );
}

#[tokio::test]
async fn missing_roles_are_refused_with_the_directory_and_exchange_403s() {
    let world = online_world().await;
    // The EWS app holds no Graph role and no calendar RBAC assignment.
    let token = secret_token(&world, demo::EWS_APP_CLIENT_ID, demo::EWS_APP_CLIENT_SECRET).await;
    let (status, body) = get(&world, &token, "users").await;
    assert_graph_error(
        status,
        &body,
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    );
    let (status, body) = get(&world, &token, "places/microsoft.graph.room").await;
    assert_graph_error(status, &body, 403, "ErrorAccessDenied", ACCESS_DENIED);
    let (status, body) = get(&world, &token, &format!("users/{}/calendars", demo::ADELE)).await;
    assert_graph_error(status, &body, 403, "ErrorAccessDenied", ACCESS_DENIED);
}

#[tokio::test]
async fn the_demo_registers_the_free_busy_app_as_a_public_client() {
    let tenant = Tenant::demo_exchange_online();
    let app = tenant
        .app(demo::GRAPH_FREEBUSY_APP_CLIENT_ID)
        .expect("free/busy app");
    assert!(app.public_client && !app.has_credentials());
    assert_eq!(app.scopes, ["Calendars.ReadBasic", "User.Read"]);
    let printed = tenant.to_annotated_toml().unwrap();
    for expected in [
        "# the Graph Enterprise Connect app",
        "# the Graph Free/Busy app",
        "# adele and megan: the scope of the Graph app's Application Calendars.ReadWrite",
        "# the room list Building 1",
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in\n{printed}"
        );
    }
}
