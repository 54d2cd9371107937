//! `GET /{tenant}/oauth2/v2.0/authorize` and the sign-in and consent forms behind it
//! ("Microsoft identity platform and OAuth 2.0 authorization code flow"; redirect URI rules from
//! "Redirect URI (reply URL) best practices and limitations").
//!
//! Errors about the client or the redirect URI are shown as a page: redirecting to an unverified URI would
//! make the endpoint an open redirector. Every later error goes back to the app as `error` +
//! `error_description` on the redirect URI.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header::LOCATION, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use url::Url;
use uuid::Uuid;

use crate::identity::consent::{self, ConsentStep};
use crate::identity::error::{AadError, Diagnostics};
use crate::identity::form::FormBody;
use crate::identity::issuance::{missing_parameter, opaque, unknown_client, unknown_tenant};
use crate::identity::page::{self, Carry};
use crate::journal::JournalNote;
use crate::scope::Scope;
use crate::state::AppState;
use crate::store::{AuthorizationCode, CodeChallenge, Grant, Interaction, ResponseMode};
use crate::tenant::AppRegistration;

/// Whether `requested` matches the registered redirect URI `registered`.
///
/// As Entra matches ("Redirect URI (reply URL) restrictions and limitations",
/// <https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions>): for `localhost`
/// (and `127.0.0.1`) "the port component … is ignored for the purposes of matching a redirect URI", so
/// `http://localhost/MyApp` and `http://localhost:5000/MyApp` are equivalent; `http` is allowed only
/// there; `[::1]` is not supported; paths are case-sensitive and `http://localhost/MyWebApp` does not match
/// `http://localhost/MyNativeApp`, so the path must be the registered one (a URI without a path is the
/// same as one whose path is `/`, which is also how Entra returns it). Scheme, host and query must match.
pub fn redirect_matches(registered: &str, requested: &str) -> bool {
    let (Ok(registered), Ok(requested)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    if requested.fragment().is_some() || registered.scheme() != requested.scheme() {
        return false;
    }
    let same_host = registered.host_str().map(str::to_ascii_lowercase)
        == requested.host_str().map(str::to_ascii_lowercase);
    // `Url` already writes an empty path as `/`; anything else must be identical.
    let same_path = registered.path() == requested.path();
    let same_query = registered.query() == requested.query();
    match requested.scheme() {
        "http" => {
            let loopback = matches!(requested.host_str(), Some("localhost" | "127.0.0.1"));
            loopback && same_host && same_path && same_query
        }
        "https" => {
            same_host
                && registered.port_or_known_default() == requested.port_or_known_default()
                && same_path
                && same_query
        }
        // Custom schemes (msal{client_id}://auth) match exactly.
        _ => registered.as_str() == requested.as_str(),
    }
}

/// AADSTS50011.
fn redirect_mismatch(requested: &str, app: &AppRegistration) -> AadError {
    AadError::new(
        "invalid_request",
        50011,
        format!(
            "The redirect URI '{requested}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.",
            app.client_id
        ),
    )
}

/// Delivers `parameters` to the redirect URI as `mode` says: in its query or fragment (a 302), or as an
/// auto-submitting form (`form_post`).
fn deliver(redirect_uri: &str, parameters: &[(&str, &str)], mode: ResponseMode) -> Response {
    match mode {
        ResponseMode::FormPost => page::form_post(redirect_uri, parameters),
        ResponseMode::Query => redirect_to(redirect_uri, parameters, false),
        ResponseMode::Fragment => redirect_to(redirect_uri, parameters, true),
    }
}

/// Appends `parameters` to the redirect URI (query response mode) or its fragment.
fn redirect_to(redirect_uri: &str, parameters: &[(&str, &str)], fragment: bool) -> Response {
    let mut url = match Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    if fragment {
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(parameters)
            .finish();
        url.set_fragment(Some(&encoded));
    } else {
        url.query_pairs_mut().extend_pairs(parameters);
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// Redirects an error back to the app.
fn redirect_error(state: &AppState, interaction: &Interaction, error: &AadError) -> Response {
    let description = error.description(&Diagnostics::at(state.now()));
    let mut parameters = vec![
        ("error", error.error),
        ("error_description", description.as_str()),
    ];
    // `cancel` says the person cancelled (declined consent); an admin-consent stop is not a cancellation.
    if error.code == 65004 {
        parameters.push(("error_subcode", "cancel"));
    }
    let state = interaction.state.clone().unwrap_or_default();
    if interaction.state.is_some() {
        parameters.push(("state", &state));
    }
    let mut response = deliver(
        &interaction.redirect_uri,
        &parameters,
        interaction.response_mode,
    );
    response.extensions_mut().insert(error.note());
    response
}

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub async fn authorize(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let tenant = state.tenant();
    let parameter = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    };
    if !tenant.accepts_authority_segment(&segment) {
        return error_page(&state, &unknown_tenant(&segment));
    }
    let Some(client_id) = parameter("client_id") else {
        return error_page(&state, &missing_parameter("client_id"));
    };
    let Some(app) = tenant.app(client_id) else {
        return error_page(&state, &unknown_client(client_id, &tenant.display_name));
    };
    let Some(redirect_uri) = parameter("redirect_uri") else {
        return error_page(&state, &missing_parameter("redirect_uri"));
    };
    if !app
        .redirect_uris
        .iter()
        .any(|registered| redirect_matches(registered, redirect_uri))
    {
        return error_page(&state, &redirect_mismatch(redirect_uri, app));
    }
    let requested_mode = parameter("response_mode").unwrap_or("query");
    let response_mode = ResponseMode::parse(requested_mode);
    let mut interaction = Interaction {
        client_id: app.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        state: query.get("state").cloned(),
        scopes: Vec::new(),
        code_challenge: None,
        response_mode: response_mode.unwrap_or_default(),
        force_consent: false,
        login_hint: parameter("login_hint").map(str::to_owned),
        nonce: parameter("nonce").map(str::to_owned),
        user_id: None,
        tenant_segment: segment.clone(),
        created_at: state.now(),
    };
    if response_mode.is_none() {
        let error = AadError::new(
            "invalid_request",
            9002313,
            // The exact AADSTS text for an unknown response_mode is undocumented; 9002313 is Entra's
            // generic "malformed request".
            format!("Invalid request. Request is malformed or invalid. The provided value for the input parameter 'response_mode' is not valid: '{requested_mode}'."),
        );
        return redirect_error(&state, &interaction, &error);
    }
    match parameter("response_type") {
        None => return redirect_error(&state, &interaction, &missing_parameter("response_type")),
        Some(response_type) if !response_type.split_whitespace().any(|part| part == "code") => {
            let error = AadError::new(
                "unsupported_response_type",
                70005,
                format!("The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code'. Received value: '{response_type}'."),
            );
            return redirect_error(&state, &interaction, &error);
        }
        Some(_) => {}
    }
    let Some(scope) = parameter("scope") else {
        return redirect_error(&state, &interaction, &missing_parameter("scope"));
    };
    interaction.scopes = match Scope::parse_list(scope) {
        Ok(scopes) => scopes,
        Err(invalid) => {
            let error = AadError::new(
                "invalid_scope",
                70011,
                format!("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope '{invalid}' does not exist."),
            );
            return redirect_error(&state, &interaction, &error);
        }
    };
    interaction.code_challenge = match (
        parameter("code_challenge"),
        parameter("code_challenge_method"),
    ) {
        (None, None) => None,
        (Some(challenge), None | Some("plain")) => Some(CodeChallenge::Plain(challenge.to_owned())),
        (Some(challenge), Some("S256")) => Some(CodeChallenge::S256(challenge.to_owned())),
        (challenge, method) => {
            let error = AadError::new(
                "invalid_request",
                9002313,
                format!(
                    "Invalid request. Request is malformed or invalid. code_challenge_method '{}' with code_challenge {} is not supported; use S256 or plain.",
                    method.unwrap_or(""),
                    if challenge.is_some() { "present" } else { "absent" }
                ),
            );
            return redirect_error(&state, &interaction, &error);
        }
    };
    let prompt = parameter("prompt");
    if prompt == Some("none") {
        // The sandbox keeps no browser session, so a silent request never finds a signed-in user.
        let error = AadError::new(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        );
        return redirect_error(&state, &interaction, &error);
    }
    interaction.force_consent = prompt == Some("consent");
    let flow = opaque(24);
    let login_hint = interaction.login_hint.clone();
    state.store().interactions.insert(flow.clone(), interaction);
    let action = format!("/{segment}/login");
    let mut response = page::sign_in(
        tenant,
        app,
        &action,
        &Carry(&[("flow", &flow)]),
        login_hint.as_deref(),
        None,
    );
    response
        .extensions_mut()
        .insert(JournalNote("sign-in page".to_owned()));
    response
}

fn error_page(state: &AppState, error: &AadError) -> Response {
    let mut response = page::error(
        state.tenant(),
        StatusCode::BAD_REQUEST,
        "Sorry, but we're having trouble signing you in.",
        &error.summary(),
    );
    response.extensions_mut().insert(error.note());
    response
}

/// `POST /{tenant}/login`: the person picked an account (`flow`, `login`).
pub async fn sign_in(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    form: FormBody,
) -> Response {
    let tenant = state.tenant();
    let Some(flow) = form.get("flow").map(str::to_owned) else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Sign-in session missing",
            "Start again from the application.",
        );
    };
    let Some(interaction) = state.store().interactions.get(&flow).cloned() else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Sign-in session expired",
            "Start again from the application.",
        );
    };
    let Some(app) = tenant.app(&interaction.client_id) else {
        return error_page(
            &state,
            &unknown_client(&interaction.client_id, &tenant.display_name),
        );
    };
    let action = format!("/{segment}/login");
    let login = form.get("login").unwrap_or_default();
    let Some(user) = tenant.user_by_email(login) else {
        let message = format!(
            "AADSTS50034: The user account {login} does not exist in the {} directory. To sign into this application, the account must be added to the directory.",
            tenant.domains.first().map_or("", String::as_str)
        );
        return page::sign_in(
            tenant,
            app,
            &action,
            &Carry(&[("flow", &flow)]),
            None,
            Some(&message),
        );
    };
    if let Some(stored) = state.store().interactions.get_mut(&flow) {
        stored.user_id = Some(user.id);
    }
    match consent::next_step(
        &state,
        user,
        app,
        &interaction.scopes,
        interaction.force_consent,
    ) {
        ConsentStep::Blocked(error) => finish_with_error(&state, &flow, &interaction, &error),
        ConsentStep::AdminApproval(error) => {
            let consent_action = format!("/{segment}/login/consent");
            page::admin_approval(
                tenant,
                app,
                &error.summary(),
                Some(&consent_action),
                &Carry(&[("flow", &flow)]),
            )
        }
        ConsentStep::Ask(scopes) => {
            let consent_action = format!("/{segment}/login/consent");
            page::consent(
                tenant,
                app,
                &user.user_principal_name,
                &scopes,
                &consent_action,
                &Carry(&[("flow", &flow)]),
            )
        }
        ConsentStep::Granted => issue_code(&state, &flow, &interaction, user.id),
    }
}

/// `POST /{tenant}/login/consent`: `flow` and `decision` (`accept`, `cancel`, `return`).
pub async fn decide(State(state): State<AppState>, form: FormBody) -> Response {
    let tenant = state.tenant();
    let Some(flow) = form.get("flow").map(str::to_owned) else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Sign-in session missing",
            "Start again from the application.",
        );
    };
    let Some(interaction) = state.store().interactions.get(&flow).cloned() else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Sign-in session expired",
            "Start again from the application.",
        );
    };
    let (Some(user_id), Some(app)) = (interaction.user_id, tenant.app(&interaction.client_id))
    else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Sign-in session incomplete",
            "Pick an account first.",
        );
    };
    let Some(user) = tenant.user_by_id(user_id) else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Unknown account",
            "Pick an account first.",
        );
    };
    match form.get("decision") {
        Some("accept") if !state.faults().take_declined_consent() => {
            // Re-check: the approval page must not be bypassed by posting `accept` directly.
            if let ConsentStep::AdminApproval(error) | ConsentStep::Blocked(error) =
                consent::next_step(&state, user, app, &interaction.scopes, false)
            {
                return finish_with_error(&state, &flow, &interaction, &error);
            }
            consent::record(&state, user, app, &interaction.scopes);
            issue_code(&state, &flow, &interaction, user.id)
        }
        Some("return") => finish_with_error(
            &state,
            &flow,
            &interaction,
            &consent::admin_consent_error(app),
        ),
        _ => finish_with_error(&state, &flow, &interaction, &consent::declined_error()),
    }
}

fn finish_with_error(
    state: &AppState,
    flow: &str,
    interaction: &Interaction,
    error: &AadError,
) -> Response {
    state.store().interactions.remove(flow);
    redirect_error(state, interaction, error)
}

fn issue_code(state: &AppState, flow: &str, interaction: &Interaction, user_id: Uuid) -> Response {
    let code = format!("1.A{}", opaque(64));
    let expires_at = state.now()
        + chrono::Duration::from_std(state.lifetimes().authorization_code)
            .unwrap_or(chrono::Duration::minutes(10));
    {
        let mut store = state.store();
        store.interactions.remove(flow);
        store.authorization_codes.insert(
            code.clone(),
            AuthorizationCode {
                grant: Grant {
                    user_id,
                    client_id: interaction.client_id.clone(),
                    scopes: interaction.scopes.clone(),
                    nonce: interaction.nonce.clone(),
                },
                redirect_uri: interaction.redirect_uri.clone(),
                code_challenge: interaction.code_challenge.clone(),
                expires_at,
                redeemed: false,
            },
        );
    }
    let mut parameters = vec![("code", code.as_str())];
    let state_value = interaction.state.clone().unwrap_or_default();
    if interaction.state.is_some() {
        parameters.push(("state", &state_value));
    }
    let mut response = deliver(
        &interaction.redirect_uri,
        &parameters,
        interaction.response_mode,
    );
    response
        .extensions_mut()
        .insert(JournalNote("authorization code issued".to_owned()));
    response
}

#[cfg(test)]
mod tests {
    use super::redirect_matches;

    #[test]
    fn loopback_redirects_ignore_the_port_but_not_the_path() {
        assert!(redirect_matches(
            "http://localhost",
            "http://localhost:53124"
        ));
        assert!(redirect_matches(
            "http://localhost",
            "http://localhost:53124/"
        ));
        assert!(redirect_matches(
            "http://localhost/callback",
            "http://localhost:1/callback"
        ));
        assert!(!redirect_matches(
            "http://localhost/callback",
            "http://localhost:1/other"
        ));
        assert!(!redirect_matches(
            "http://localhost",
            "https://localhost:53124"
        ));
        assert!(!redirect_matches("http://localhost", "http://[::1]:53124"));
        // The path must match as registered, case and trailing slash included (only an empty path and
        // `/` are the same URL).
        assert!(!redirect_matches(
            "http://localhost/callback",
            "http://localhost:1/callback/"
        ));
        assert!(!redirect_matches(
            "http://localhost/callback/",
            "http://localhost:1/callback"
        ));
        assert!(!redirect_matches(
            "http://localhost/Callback",
            "http://localhost:1/callback"
        ));
        assert!(redirect_matches("http://localhost/", "http://localhost:1"));
        assert!(redirect_matches("http://127.0.0.1", "http://127.0.0.1:9/"));
        assert!(!redirect_matches("http://localhost", "http://127.0.0.1:9"));
        assert!(!redirect_matches(
            "http://example.com",
            "http://example.com"
        ));
    }
}
