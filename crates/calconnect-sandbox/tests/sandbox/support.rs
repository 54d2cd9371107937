//! Shared fixtures: a running sandbox, an HTTPS client trusting its CA, and sign-in shortcuts.

use std::process::Command;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use calconnect_sandbox::person::{Consent, Person};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

/// The `state` every test authorize request carries.
pub const STATE: &str = "state-123-of-the-client";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-calconnect-tests";
pub const FULL_SCOPES: &str = "User.Read Calendars.ReadWrite offline_access";
pub const FREEBUSY_SCOPES: &str = "Calendars.ReadBasic User.Read offline_access";

pub struct World {
    pub sandbox: SandboxHandle,
    pub http: reqwest::Client,
    pub person: Person,
}

pub async fn world() -> World {
    world_with(Sandbox::builder()).await
}

pub async fn world_with(builder: calconnect_sandbox::SandboxBuilder) -> World {
    let sandbox = builder.start().await.expect("sandbox starts");
    let certificate = reqwest::Certificate::from_pem(sandbox.ca_pem().expect("tls on").as_bytes())
        .expect("CA parses");
    let http = reqwest::Client::builder()
        .add_root_certificate(certificate)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client builds");
    let person = Person::new(&sandbox).expect("person builds");
    World {
        sandbox,
        http,
        person,
    }
}

pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub struct Authorize<'a> {
    pub client_id: &'a str,
    pub scope: &'a str,
    pub redirect_uri: &'a str,
    pub challenge: Option<(&'a str, Option<&'a str>)>,
    pub extra: Vec<(&'a str, &'a str)>,
}

impl<'a> Authorize<'a> {
    pub fn full() -> Self {
        Self {
            client_id: demo::FULL_APP_CLIENT_ID,
            scope: FULL_SCOPES,
            redirect_uri: "http://localhost:53682",
            challenge: None,
            extra: Vec::new(),
        }
    }

    pub fn url(&self, world: &World) -> Url {
        let mut url = world
            .sandbox
            .base_url()
            .join("organizations/oauth2/v2.0/authorize")
            .expect("valid url");
        {
            let mut pairs = url.query_pairs_mut();
            pairs
                .append_pair("client_id", self.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", self.redirect_uri)
                .append_pair("scope", self.scope)
                .append_pair("state", STATE);
            if let Some((challenge, method)) = self.challenge {
                pairs.append_pair("code_challenge", challenge);
                if let Some(method) = method {
                    pairs.append_pair("code_challenge_method", method);
                }
            }
            for (name, value) in &self.extra {
                pairs.append_pair(name, value);
            }
        }
        url
    }
}

pub fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

pub fn token_url(world: &World) -> Url {
    world
        .sandbox
        .base_url()
        .join("organizations/oauth2/v2.0/token")
        .unwrap()
}

pub async fn post_token(world: &World, form: &[(&str, &str)]) -> (u16, Value) {
    let response = world
        .http
        .post(token_url(world))
        .form(form)
        .send()
        .await
        .expect("token request sent");
    let status = response.status().as_u16();
    (
        status,
        response.json().await.expect("token response is JSON"),
    )
}

/// Signs `user` in with the Full app (PKCE S256) and redeems the code.
pub async fn sign_in_tokens(world: &World, client_id: &str, scope: &str, user: &str) -> Value {
    let challenge = s256(VERIFIER);
    let authorize = Authorize {
        client_id,
        scope,
        challenge: Some((&challenge, Some("S256"))),
        ..Authorize::full()
    };
    let location = world
        .person
        .sign_in(&authorize.url(world), user, Consent::Approve)
        .await
        .expect("person signs in");
    let code =
        query_value(&location, "code").unwrap_or_else(|| panic!("redirect has a code: {location}"));
    let (status, body) = post_token(
        world,
        &[
            ("client_id", client_id),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", authorize.redirect_uri),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "code redemption succeeds: {body}");
    body
}

/// POSTs a token request to `{segment}/oauth2/v2.0/token` (a tenant id or domain, as client assertions'
/// `aud` names it).
pub async fn post_token_at(world: &World, segment: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let url = world
        .sandbox
        .base_url()
        .join(&format!("{segment}/oauth2/v2.0/token"))
        .unwrap();
    let response = world
        .http
        .post(url)
        .form(form)
        .send()
        .await
        .expect("token request sent");
    let status = response.status().as_u16();
    (
        status,
        response.json().await.expect("token response is JSON"),
    )
}

/// A validator for the Graph definition `definition` of `shared/reference/graph-schema`, or for a page
/// (`{"value": [definition…]}`) of them when `paged`.
pub fn graph_schema(definition: &str, paged: bool) -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/graph-schema/graph-subset.schema.json"
    ))
    .or_else(|_| {
        std::fs::read_to_string("/work/shared/reference/graph-schema/graph-subset.schema.json")
    })
    .expect("graph schema is readable");
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    let reference = serde_json::json!({"$ref": format!("#/$defs/{definition}")});
    let root = if paged {
        serde_json::json!({"type": "object", "required": ["value"], "properties": {"value": {"type": "array", "items": reference}}})
    } else {
        reference
    };
    for (key, value) in root.as_object().unwrap() {
        schema[key] = value.clone();
    }
    schema.as_object_mut().unwrap().remove("oneOf");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// Asserts that `instance` is valid against `validator`, listing every error otherwise.
pub fn assert_graph_valid(validator: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{error} at {}", error.instance_path))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:?}\n{instance}");
}

pub fn aadsts(body: &Value) -> u64 {
    body["error_codes"][0].as_u64().unwrap_or_default()
}

/// The EWS message schema (`shared/reference/ews-schema`).
pub const MESSAGES_XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/ews-schema/messages.xsd"
);

/// Validates the child of `soap:Body` against `messages.xsd` with xmllint.
pub fn assert_valid(name: &str, body: &str) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join(format!("{name}.xml"));
    std::fs::write(&path, body).unwrap();
    let output = Command::new("xmllint")
        .args(["--noout", "--schema", MESSAGES_XSD])
        .arg(&path)
        .output()
        .expect("xmllint installed");
    assert!(
        output.status.success(),
        "{name} is not valid EWS:\n{}\n{body}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Checks that `document` is well-formed XML with xmllint.
pub fn assert_well_formed(name: &str, document: &str) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join(format!("{name}.xml"));
    std::fs::write(&path, document).unwrap();
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg(&path)
        .output()
        .expect("xmllint installed");
    assert!(
        output.status.success(),
        "{name} is not well-formed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `Authorization: Basic` for the demo service account.
pub fn basic() -> String {
    let pair = format!(
        "{}:{}",
        demo::SERVICE_ACCOUNT_UPN,
        demo::SERVICE_ACCOUNT_PASSWORD
    );
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}
