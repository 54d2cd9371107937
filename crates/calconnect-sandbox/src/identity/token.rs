//! `POST /{tenant}/oauth2/v2.0/token`: authorization code (+PKCE), refresh token, device code and client
//! credentials grants (Microsoft identity platform docs for each flow; errors from "AADSTS error codes"),
//! with client secrets or certificate client assertions ([`client_assertion`]) for confidential clients.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::graph::calendars::seven_digit_fraction;
use crate::identity::client_assertion;
use crate::identity::consent;
use crate::identity::error::AadError;
use crate::identity::form::FormBody;
use crate::identity::issuance::{
    access_token, missing_parameter, token_resource, token_response, unknown_client, unknown_tenant,
};
use crate::journal::JournalNote;
use crate::scope::Scope;
use crate::state::AppState;
use crate::store::{refresh_token_digest, CodeChallenge, DeviceDecision, RefreshTokenState};
use crate::tenant::AppRegistration;

/// Device code grant type (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The token endpoint.
pub async fn token(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    form: FormBody,
) -> Response {
    match grant(&state, &segment, &form) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn grant(state: &AppState, segment: &str, form: &FormBody) -> Result<Response, AadError> {
    let tenant = state.tenant();
    if !tenant.accepts_authority_segment(segment) {
        return Err(unknown_tenant(segment));
    }
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| missing_parameter("grant_type"))?;
    let client_id = form
        .get("client_id")
        .ok_or_else(|| missing_parameter("client_id"))?;
    let app = tenant
        .app(client_id)
        .ok_or_else(|| unknown_client(client_id, &tenant.display_name))?;
    let authenticate = |credential_required: bool| {
        authenticate_client(state, segment, app, form, credential_required)
    };
    match grant_type {
        "authorization_code" => {
            authenticate(!app.public_client)?;
            authorization_code(state, app, form)
        }
        "refresh_token" => {
            authenticate(!app.public_client)?;
            refresh_token(state, app, form)
        }
        DEVICE_CODE_GRANT => {
            authenticate(!app.allow_public_client_flows)?;
            device_code(state, app, form)
        }
        "client_credentials" => {
            authenticate(true)?;
            client_credentials(state, app, form)
        }
        other => Err(AadError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// Client authentication. A public client (no credential registered) must present none (AADSTS700025); a
/// confidential one presents a client secret (wrong: AADSTS7000215) or a certificate's client assertion
/// ([`client_assertion::verify`]), and must present one where the flow needs it (AADSTS7000218). Every
/// credential presented must be valid.
fn authenticate_client(
    state: &AppState,
    segment: &str,
    app: &AppRegistration,
    form: &FormBody,
    credential_required: bool,
) -> Result<(), AadError> {
    let missing_credential = || {
        AadError::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    };
    if !app.has_credentials() {
        let presented = form.contains("client_secret")
            || form.contains("client_assertion")
            || form.contains("client_assertion_type");
        return if presented {
            Err(AadError::invalid_client(
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ))
        } else if credential_required {
            Err(missing_credential())
        } else {
            Ok(())
        };
    }
    let secret = form.get("client_secret");
    let assertion_presented =
        form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some();
    if assertion_presented {
        client_assertion::verify(state, segment, app, form)?;
    }
    if let Some(presented) = secret {
        if !app
            .client_secret
            .as_ref()
            .is_some_and(|stored| stored.matches(presented))
        {
            return Err(AadError::invalid_client(
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            ));
        }
    }
    if secret.is_none() && !assertion_presented && credential_required {
        return Err(missing_credential());
    }
    Ok(())
}

fn requested_scopes(form: &FormBody) -> Result<Option<Vec<Scope>>, AadError> {
    form.get("scope")
        .map(|scope| {
            Scope::parse_list(scope).map_err(|invalid| {
                AadError::new(
                    "invalid_scope",
                    70011,
                    format!("The provided value for the input parameter 'scope' is not valid. The scope '{invalid}' does not exist."),
                )
            })
        })
        .transpose()
}

/// Scopes for the token: the request's `scope` if given (must be within the grant), else the grant's.
fn narrow(
    app: &AppRegistration,
    granted: &[Scope],
    requested: Option<Vec<Scope>>,
) -> Result<Vec<Scope>, AadError> {
    let Some(requested) = requested else {
        return Ok(granted.to_vec());
    };
    let granted_permissions = consent::expand(app, granted);
    let within = consent::expand(app, &requested)
        .iter()
        .all(|scope| granted_permissions.contains(scope));
    if within {
        Ok(requested)
    } else {
        Err(consent::delegation_missing_error(app))
    }
}

fn authorization_code(
    state: &AppState,
    app: &AppRegistration,
    form: &FormBody,
) -> Result<Response, AadError> {
    let code = form.get("code").ok_or_else(|| missing_parameter("code"))?;
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| missing_parameter("redirect_uri"))?;
    let requested = requested_scopes(form)?;
    let record = {
        let mut store = state.store();
        let record = store.authorization_codes.get_mut(code).ok_or_else(|| {
            AadError::new(
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            )
        })?;
        if record.redeemed {
            return Err(AadError::new(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        // A code is spent by its first redemption attempt, successful or not.
        record.redeemed = true;
        record.clone()
    };
    if !record.grant.client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(AadError::new("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid. The code was issued to another client."));
    }
    if record.expires_at <= state.now() {
        return Err(AadError::new(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        ));
    }
    if record.redirect_uri != redirect_uri {
        return Err(AadError::new(
            "invalid_grant",
            50011,
            format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URI used to request the authorization code."),
        ));
    }
    if let Some(challenge) = &record.code_challenge {
        let verifier = form.get("code_verifier").unwrap_or_default();
        if !verifier_matches(challenge, verifier) {
            return Err(AadError::new(
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        }
    }
    let scopes = narrow(app, &record.grant.scopes, requested)?;
    if !consent::covers(state, record.grant.user_id, app, &scopes) {
        // Consent withdrawn between the consent page and the redemption.
        return Err(consent::delegation_missing_error(app));
    }
    token_response(
        state,
        &record.grant,
        &scopes,
        "authorization_code",
        wants_client_info(form),
    )
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(verifier)) == challenge` for S256, equality for plain; the verifier
/// must be 43..=128 unreserved characters.
pub fn verifier_matches(challenge: &CodeChallenge, verifier: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '-' | '.' | '_' | '~')
        });
    if !well_formed {
        return false;
    }
    match challenge {
        CodeChallenge::S256(expected) => {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == *expected
        }
        CodeChallenge::Plain(expected) => verifier == expected,
    }
}

fn refresh_token(
    state: &AppState,
    app: &AppRegistration,
    form: &FormBody,
) -> Result<Response, AadError> {
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| missing_parameter("refresh_token"))?;
    let requested = requested_scopes(form)?;
    let record = state
        .store()
        .refresh_tokens
        .get(&refresh_token_digest(presented))
        .cloned()
        .ok_or_else(|| {
            AadError::new(
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            )
        })?;
    match record.state {
        RefreshTokenState::Active => {}
        RefreshTokenState::Revoked => {
            return Err(AadError::new(
                "invalid_grant",
                70000,
                "The provided value for the 'refresh_token' is not valid. The refresh token has been revoked.",
            ))
        }
        RefreshTokenState::Expired => {
            return Err(AadError::new(
                "invalid_grant",
                700082,
                format!(
                    "The refresh token has expired due to inactivity. The token was issued on {} and was inactive for 90.00:00:00.",
                    format_args!("{}Z", seven_digit_fraction(record.issued_at))
                ),
            ))
        }
    }
    if !record.grant.client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(AadError::new("invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid. It was issued to another client."));
    }
    let user_blocked = state
        .tenant()
        .user_by_id(record.grant.user_id)
        .is_some_and(|user| user.conditional_access_blocked);
    if user_blocked || state.faults().take_conditional_access() {
        return Err(consent::conditional_access_error());
    }
    let scopes = narrow(app, &record.grant.scopes, requested)?;
    if !consent::covers(state, record.grant.user_id, app, &scopes) {
        return Err(consent::delegation_missing_error(app));
    }
    // Entra rotates: the response carries a new refresh token, and the presented one stays valid.
    token_response(
        state,
        &record.grant,
        &scopes,
        "refresh_token",
        wants_client_info(form),
    )
}

fn device_code(
    state: &AppState,
    app: &AppRegistration,
    form: &FormBody,
) -> Result<Response, AadError> {
    let device_code = form
        .get("device_code")
        .ok_or_else(|| missing_parameter("device_code"))?;
    let now = state.now();
    let bad_code = || {
        AadError::new(
            "bad_verification_code",
            70018,
            "The provided value for the input parameter 'device_code' is not valid.",
        )
    };
    let grant = {
        let mut store = state.store();
        let record = store
            .device_codes
            .get_mut(device_code)
            .ok_or_else(bad_code)?;
        if !record.client_id.eq_ignore_ascii_case(&app.client_id) {
            return Err(bad_code());
        }
        if record.expires_at <= now {
            // Facts §0 (Azure/azure-cli#22251): an expired device code is reported as AADSTS70020.
            return Err(AadError::new(
                "expired_token",
                70020,
                "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
            ));
        }
        if record.redeemed {
            return Err(AadError::new(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        let interval = chrono::Duration::seconds(i64::try_from(record.interval_secs).unwrap_or(5));
        let too_fast = record.last_poll.is_some_and(|last| now - last < interval);
        record.last_poll = Some(now);
        if too_fast && record.decision == DeviceDecision::Pending {
            // RFC 8628 §3.5: the client must add 5 seconds to its interval; hold it to that.
            record.interval_secs += 5;
            return Err(AadError::new(
                "slow_down",
                70016,
                "The client is polling too quickly; increase the polling interval by 5 seconds.",
            ));
        }
        match &record.decision {
            DeviceDecision::Pending => {
                return Err(AadError::new(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ))
            }
            DeviceDecision::Declined => {
                return Err(AadError::new(
                    "authorization_declined",
                    65004,
                    "User declined to consent to access the app.",
                ))
            }
            DeviceDecision::Failed { code } => {
                return Err(consent::device_sign_in_error(app, *code));
            }
            DeviceDecision::Approved(grant) => {
                record.redeemed = true;
                grant.clone()
            }
        }
    };
    if !consent::covers(state, grant.user_id, app, &grant.scopes) {
        return Err(consent::delegation_missing_error(app));
    }
    token_response(
        state,
        &grant,
        &grant.scopes,
        "device_code",
        wants_client_info(form),
    )
}

/// `client_info=1`: MSAL asks for the `client_info` field, from which it builds the account id
/// `uid.utid` (MSAL's protocol: `client_info` is base64url of `{"uid":…,"utid":…}`).
fn wants_client_info(form: &FormBody) -> bool {
    form.get("client_info") == Some("1")
}

fn client_credentials(
    state: &AppState,
    app: &AppRegistration,
    form: &FormBody,
) -> Result<Response, AadError> {
    let scope = form
        .get("scope")
        .ok_or_else(|| missing_parameter("scope"))?;
    let scopes = requested_scopes(form)?.unwrap_or_default();
    let only_default =
        scopes.len() == 1 && scopes.iter().all(|scope| scope.bare_name() == ".default");
    if !only_default {
        return Err(AadError::new(
            "invalid_scope",
            1002012,
            format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
        ));
    }
    let resource = token_resource(&scopes);
    let granted = crate::identity::admin_consent::granted_app_roles(state, app);
    let roles = (!granted.is_empty()).then_some(granted);
    let access_token = access_token(state, app, None, resource, &[], roles)?;
    let lifetime = state.lifetimes().access_token.as_secs();
    let mut response = axum::Json(serde_json::json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }))
    .into_response();
    response.extensions_mut().insert(JournalNote(format!(
        "client_credentials granted to {}",
        app.client_id
    )));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_verifier_matches_its_challenge() {
        let challenge =
            CodeChallenge::S256("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned());
        assert!(verifier_matches(
            &challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        ));
        assert!(!verifier_matches(
            &challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX"
        ));
    }
}
