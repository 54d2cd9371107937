//! Authentication of EWS and Autodiscover requests, as the tenant's virtual directory offers it: NTLM and
//! Negotiate (raw NTLMSSP tokens, which IIS accepts under `Negotiate` too), Basic, and OAuth bearer tokens
//! for `https://outlook.office365.com`. A 401 lists exactly the methods offered, as IIS does.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::access::Caller;
use super::ntlm::{ChannelBindingPolicy, Outcome};
use super::Connection;
use crate::demo;
use crate::journal::JournalNote;
use crate::state::AppState;
use crate::tenant::AuthMethod;

/// Why a request is answered with HTTP 401 ([`unauthorized`]).
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Not (or wrongly) authenticated; the reason goes to the journal.
    Reason(String),
    /// NTLM handshake in progress: answer with this CHALLENGE_MESSAGE (base64) under `scheme`.
    NtlmChallenge {
        scheme: &'static str,
        challenge: String,
    },
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Self::Reason(reason.to_owned())
    }
}

/// Checks `Authorization` against the methods the virtual directory offers.
pub(crate) fn authenticate(
    state: &AppState,
    connection: &Connection,
    headers: &HeaderMap,
) -> Result<Caller, Refusal> {
    let exchange = &state.tenant().exchange;
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    let ntlm_scheme = if scheme.eq_ignore_ascii_case("ntlm") {
        Some(("NTLM", AuthMethod::Ntlm))
    } else if scheme.eq_ignore_ascii_case("negotiate") {
        Some(("Negotiate", AuthMethod::Negotiate))
    } else {
        None
    };
    if let Some((scheme, method)) = ntlm_scheme {
        if !exchange.offers(method) {
            return Err(Refusal::Reason(format!(
                "{scheme} is not enabled on this virtual directory"
            )));
        }
        let Some(peer) = connection.key else {
            return Err("ntlm needs a connection (no peer address)".into());
        };
        let binding = ChannelBindingPolicy {
            extended_protection: exchange.extended_protection,
            expected: state.channel_binding(),
        };
        return match connection.handshakes.handle(
            state.tenant(),
            peer,
            credentials,
            state.now(),
            binding,
        ) {
            Outcome::Challenge(challenge) => Err(Refusal::NtlmChallenge { scheme, challenge }),
            Outcome::Authenticated(upn) => Ok(Caller::ServiceAccount { upn }),
            Outcome::Refused(reason) => Err(Refusal::Reason(reason)),
        };
    }
    if scheme.eq_ignore_ascii_case("basic") {
        if !exchange.offers(AuthMethod::Basic) {
            return Err("basic authentication is disabled on this server".into());
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
        let (user, password) = decoded.split_once(':').unwrap_or_default();
        // DOMAIN\user is accepted like the UPN, as on-premises IIS does.
        let user = user.rsplit('\\').next().unwrap_or(user);
        let upn = if user.contains('@') {
            user.to_owned()
        } else {
            format!("{user}@{}", demo::DOMAIN)
        };
        if let Some(account) = state.tenant().service_account(&upn) {
            if account.password.matches(password) {
                return Ok(Caller::ServiceAccount {
                    upn: account.upn.clone(),
                });
            }
        }
        return Err("invalid user name or password".into());
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        if !exchange.offers(AuthMethod::Oauth) {
            return Err("OAuth is not enabled on this virtual directory".into());
        }
        return match state.verify_access_token(credentials, demo::EXCHANGE_RESOURCE) {
            Ok(claims) if claims.is_app_only() => Ok(Caller::App {
                roles: claims.roles.clone().unwrap_or_default(),
                app_id: claims.appid,
            }),
            Ok(claims) if claims.has_scope("EWS.AccessAsUser.All") => Ok(Caller::User {
                upn: claims.upn.unwrap_or_default(),
                app_id: claims.appid,
            }),
            Ok(_) => Err("the token carries no EWS permission".into()),
            // Safe to put in the journal note: a TokenRejection describes the token (kind, audience)
            // and must never hold the token itself.
            Err(rejection) => Err(Refusal::Reason(rejection.to_string())),
        };
    }
    // No Authorization header: IIS accepts the request as the account an NTLM handshake authenticated
    // earlier on this connection (`ntlm`'s module comment: authPersistSingleRequest).
    if value.is_empty()
        && (exchange.offers(AuthMethod::Ntlm) || exchange.offers(AuthMethod::Negotiate))
    {
        if let Some(upn) = connection
            .key
            .and_then(|key| connection.handshakes.persisted(key, state.now()))
        {
            return Ok(Caller::ServiceAccount { upn });
        }
    }
    Err("no credentials".into())
}

/// HTTP 401: the NTLM challenge of a handshake in progress, or every method the virtual directory offers.
pub(crate) fn unauthorized(state: &AppState, refusal: &Refusal) -> Response {
    let reason = match refusal {
        Refusal::Reason(reason) => reason,
        Refusal::NtlmChallenge { scheme, challenge } => {
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("{scheme} {challenge}")) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            response
                .extensions_mut()
                .insert(JournalNote("401: ntlm challenge".into()));
            return response;
        }
    };
    let host = state
        .base_url()
        .host_str()
        .unwrap_or("localhost")
        .to_owned();
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    let headers = response.headers_mut();
    for method in state.tenant().exchange.auth_methods() {
        let value = match method {
            AuthMethod::Negotiate => "Negotiate".to_owned(),
            AuthMethod::Ntlm => "NTLM".to_owned(),
            AuthMethod::Basic => format!(r#"Basic realm="{host}""#),
            AuthMethod::Oauth => format!(
                r#"Bearer client_id="{}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="{}common/oauth2/authorize""#,
                demo::EXCHANGE_RESOURCE_APP_ID,
                state.base_url()
            ),
        };
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(header::WWW_AUTHENTICATE, value);
        }
    }
    response
        .extensions_mut()
        .insert(JournalNote(format!("401: {reason}")));
    response
}
