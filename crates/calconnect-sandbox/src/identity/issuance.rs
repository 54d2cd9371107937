//! Minting tokens: access tokens (RS256 JWT), ID tokens and opaque refresh tokens, and the token response.
//!
//! Response fields follow "Microsoft identity platform and OAuth 2.0 authorization code flow" (successful
//! response): `token_type`, `scope`, `expires_in`, `ext_expires_in`, `access_token`, `refresh_token` (only
//! with `offline_access`), `id_token` (only with `openid`).

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::identity::error::AadError;
use crate::journal::JournalNote;
use crate::scope::{Resource, Scope};
use crate::state::{AccessClaims, AppState};
use crate::store::{refresh_token_digest, Grant, RefreshTokenRecord, RefreshTokenState};
use crate::tenant::{AppRegistration, User};

/// A random opaque value (codes, refresh tokens, device codes).
pub fn opaque(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The resource a token is for: the first permission's resource (Entra: "the token is for the first scope's resource").
pub fn token_resource(scopes: &[Scope]) -> Resource {
    scopes
        .iter()
        .find_map(Scope::resource)
        .unwrap_or(Resource::Graph)
}

/// Permissions of `resource` in `scopes`, with `.default` expanded to the app's configured permissions.
pub fn resource_permissions(
    scopes: &[Scope],
    resource: Resource,
    app: &AppRegistration,
) -> Vec<Scope> {
    let mut permissions: Vec<Scope> = Vec::new();
    for scope in scopes
        .iter()
        .filter(|scope| scope.resource() == Some(resource))
    {
        let expanded: Vec<Scope> = if scope.bare_name() == ".default" {
            configured_permissions(app, resource)
        } else {
            vec![scope.clone()]
        };
        for permission in expanded {
            if !permissions.contains(&permission) {
                permissions.push(permission);
            }
        }
    }
    permissions
}

/// Delegated permissions configured on the app registration for `resource`.
pub fn configured_permissions(app: &AppRegistration, resource: Resource) -> Vec<Scope> {
    app.scopes
        .iter()
        .filter_map(|name| Scope::parse(name))
        .filter(|scope| scope.resource() == Some(resource))
        .collect()
}

#[derive(Serialize)]
struct IdClaims<'a> {
    aud: &'a str,
    iss: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    sub: String,
    tid: Uuid,
    ver: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    oid: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

/// Issues tokens for `grant`, scoped to `requested` (a subset of the grant's scopes), and renders the response.
/// A refresh token is issued when the grant includes `offline_access`; `client_info` when the client
/// asked for it with `client_info=1`.
pub fn token_response(
    state: &AppState,
    grant: &Grant,
    requested: &[Scope],
    grant_type: &str,
    with_client_info: bool,
) -> Result<Response, AadError> {
    let tenant = state.tenant();
    let user = tenant.user_by_id(grant.user_id).ok_or_else(|| {
        AadError::new(
            "invalid_grant",
            50034,
            "The user account does not exist in the directory.",
        )
    })?;
    let app = tenant
        .app(&grant.client_id)
        .ok_or_else(|| unknown_client(&grant.client_id, tenant.display_name.as_str()))?;
    let resource = token_resource(requested);
    let permissions = resource_permissions(requested, resource, app);
    let access_token = access_token(state, app, Some(user), resource, &permissions, None)?;
    let lifetime = state.lifetimes().access_token.as_secs();
    let mut scope_names: Vec<String> = permissions.iter().map(Scope::response_name).collect();
    // OIDC scopes are echoed as the device code doc example shows ("User.Read profile openid email");
    // offline_access is a request for a refresh token, not a permission of the access token.
    for oidc in ["openid", "profile", "email"] {
        if requested.iter().any(|scope| scope.is_oidc(oidc)) {
            scope_names.push(oidc.to_owned());
        }
    }
    let mut body = serde_json::json!({
        "token_type": "Bearer",
        "scope": scope_names.join(" "),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    });
    if grant
        .scopes
        .iter()
        .any(|scope| scope.is_oidc("offline_access"))
    {
        let refresh_token = format!("0.A{}", opaque(96));
        state.store().refresh_tokens.insert(
            refresh_token_digest(&refresh_token),
            RefreshTokenRecord {
                grant: grant.clone(),
                issued_at: state.now(),
                state: RefreshTokenState::Active,
            },
        );
        body["refresh_token"] = serde_json::Value::String(refresh_token);
    }
    if grant.scopes.iter().any(|scope| scope.is_oidc("openid")) {
        body["id_token"] = serde_json::Value::String(id_token(state, grant, user)?);
    }
    if with_client_info {
        body["client_info"] = serde_json::Value::String(client_info(user.id, tenant.id));
    }
    let mut response = axum::Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        "cache-control",
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert("pragma", HeaderValue::from_static("no-cache"));
    response.extensions_mut().insert(JournalNote(format!(
        "{grant_type} granted to {}",
        user.user_principal_name
    )));
    Ok(response)
}

/// Signs an access token. `roles` is for app-only tokens (client credentials), `user` for delegated ones.
pub fn access_token(
    state: &AppState,
    app: &AppRegistration,
    user: Option<&User>,
    resource: Resource,
    permissions: &[Scope],
    roles: Option<Vec<String>>,
) -> Result<String, AadError> {
    let tenant = state.tenant();
    let now = state.now().timestamp();
    let lifetime = i64::try_from(state.lifetimes().access_token.as_secs()).unwrap_or(3599);
    let claims = AccessClaims {
        aud: resource.audience().to_owned(),
        iss: state.issuer(),
        iat: now,
        nbf: now,
        exp: now + lifetime,
        appid: app.client_id.clone(),
        scp: user.map(|_| {
            permissions
                .iter()
                .map(|scope| scope.bare_name().to_owned())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        roles,
        // App-only tokens carry the service principal's object id; derive a stable one from the client id.
        oid: user.map_or_else(|| service_principal_id(&app.client_id), |user| user.id),
        tid: tenant.id,
        upn: user.map(|user| user.user_principal_name.clone()),
        preferred_username: user.map(|user| user.user_principal_name.clone()),
        name: user.map(|user| user.display_name.clone()),
        uti: opaque(16),
        ver: "2.0".to_owned(),
    };
    state
        .signing_key()
        .sign(&claims)
        .map_err(|_| AadError::new("server_error", 90000, "The token could not be signed."))
}

/// Stable object id of an app's service principal in the tenant.
fn service_principal_id(client_id: &str) -> Uuid {
    let digest = Sha256::digest(client_id.to_ascii_lowercase().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn id_token(state: &AppState, grant: &Grant, user: &User) -> Result<String, AadError> {
    let now = state.now().timestamp();
    // Entra gives the ID token the access token's lifetime.
    let lifetime = i64::try_from(state.lifetimes().access_token.as_secs()).unwrap_or(3599);
    let has = |name: &str| grant.scopes.iter().any(|scope| scope.is_oidc(name));
    let subject = pairwise_subject(user.id, &grant.client_id);
    let claims = IdClaims {
        aud: &grant.client_id,
        iss: state.issuer(),
        iat: now,
        nbf: now,
        exp: now + lifetime,
        sub: subject,
        tid: state.tenant().id,
        ver: "2.0",
        oid: has("profile").then_some(user.id),
        preferred_username: has("profile").then_some(user.user_principal_name.as_str()),
        name: has("profile").then_some(user.display_name.as_str()),
        email: has("email").then(|| user.email()),
        nonce: grant.nonce.as_deref(),
    };
    state
        .signing_key()
        .sign(&claims)
        .map_err(|_| AadError::new("server_error", 90000, "The token could not be signed."))
}

/// The `client_info` field: base64url without padding of `{"uid":"<user oid>","utid":"<tenant id>"}`,
/// the home account MSAL keys its cache by (`home_account_id` = `uid.utid`).
pub fn client_info(user_id: Uuid, tenant_id: Uuid) -> String {
    let json = serde_json::json!({"uid": user_id.to_string(), "utid": tenant_id.to_string()});
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// `sub` is pairwise: stable per user and app, different across apps (ID token claims reference).
pub fn pairwise_subject(user_id: Uuid, client_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!(
        "{user_id}:{}",
        client_id.to_ascii_lowercase()
    )))
}

/// AADSTS700016 for an unknown client id.
pub fn unknown_client(client_id: &str, tenant_name: &str) -> AadError {
    AadError::new(
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant_name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        ),
    )
}

/// AADSTS90002 for an unknown `{tenant}` segment; `invalid_request`, as `invalid_tenant` is no
/// documented `error` value (reference-error-codes, facts §1.7).
pub fn unknown_tenant(segment: &str) -> AadError {
    AadError::new(
        "invalid_request",
        90002,
        format!("Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
    )
}

/// AADSTS900144 for a missing parameter.
pub fn missing_parameter(name: &str) -> AadError {
    AadError::new(
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}
