//! OpenID Connect discovery (`/{tenant}/v2.0/.well-known/openid-configuration`) and the JWKS
//! (`/{tenant}/discovery/v2.0/keys`), shaped like Entra's v2.0 documents.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::identity::issuance::unknown_tenant;
use crate::state::AppState;

/// The discovery document. Entra publishes no `code_challenge_methods_supported` although it supports
/// S256 and plain; the sandbox omits it too. For `common`/`organizations` the issuer is the literal
/// template `{base}{tenantid}/v2.0` and endpoints keep the segment, as Entra's multi-tenant documents
/// do; a domain segment (`contoso.com`) resolves to the tenant, whose GUID then names every endpoint.
/// `userinfo_endpoint` is the sandbox's Graph `/oidc/userinfo`, as Entra's is Graph's.
pub async fn openid_configuration(
    State(state): State<AppState>,
    Path(segment): Path<String>,
) -> Response {
    let tenant = state.tenant();
    if !tenant.accepts_authority_segment(&segment) {
        return unknown_tenant(&segment).into_response();
    }
    let base = state.base_url().as_str();
    let multi_tenant =
        segment.eq_ignore_ascii_case("common") || segment.eq_ignore_ascii_case("organizations");
    let (issuer, segment) = if multi_tenant {
        (format!("{base}{{tenantid}}/v2.0"), segment)
    } else {
        (state.issuer(), tenant.id.to_string())
    };
    let host = state
        .base_url()
        .host_str()
        .unwrap_or("127.0.0.1")
        .to_owned();
    Json(serde_json::json!({
        "token_endpoint": format!("{base}{segment}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}{segment}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{base}{segment}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}{segment}/oauth2/v2.0/devicecode"),
        "userinfo_endpoint": format!("{base}oidc/userinfo"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}{segment}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
            "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": host,
        "cloud_graph_host_name": host,
        "msgraph_host": host,
    }))
    .into_response()
}

/// The signing keys.
pub async fn keys(State(state): State<AppState>, Path(segment): Path<String>) -> Response {
    if !state.tenant().accepts_authority_segment(&segment) {
        return unknown_tenant(&segment).into_response();
    }
    let issuer = format!("{}{{tenantid}}/v2.0", state.base_url());
    Json(state.signing_key().jwks(&issuer)).into_response()
}
