//! Tenant-wide admin consent: `GET /{tenant}/adminconsent` and `GET /{tenant}/v2.0/adminconsent`, with the
//! sign-in and consent forms behind them.
//!
//! - v1: `/{tenant}/adminconsent?client_id=…[&redirect_uri=…&state=…]`, the URL an administrator opens to grant
//!   an app every permission configured on its registration ("Construct the URL for granting tenant-wide admin
//!   consent", learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent).
//! - v2.0: `/{tenant}/v2.0/adminconsent?client_id&scope&redirect_uri&state`; application permissions need the
//!   static `/.default` scope (learn.microsoft.com/entra/identity-platform/v2-admin-consent).
//!
//! Only a Global Administrator or Privileged Role Administrator may grant application permissions
//! ([`crate::tenant::User::can_grant_app_roles`]). On approval the registration's `requested_app_roles` are
//! recorded in the sandbox state ([`crate::store::Store::admin_consents`], saved to the state directory by
//! [`crate::persistence`]) and every later client-credential token carries them as `roles`.
//!
//! The answer goes to `redirect_uri` as documented on the v2 page: success `admin_consent=True&tenant={tenant
//! id}[&scope=…]&state=…`; errors `admin_consent=True&error=…&error_description=…&state=…` ("admin_consent:
//! Will be set to True to indicate that this response occurred on an admin consent flow"; the page's error
//! example is `error=consent_required` with AADSTS65004). Without a `redirect_uri` (allowed on v1) the result
//! is a page.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header::LOCATION, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::identity::authorize::redirect_matches;
use crate::identity::error::{AadError, Diagnostics};
use crate::identity::form::FormBody;
use crate::identity::issuance::{missing_parameter, opaque, unknown_client, unknown_tenant};
use crate::identity::page::{self, Carry};
use crate::journal::JournalNote;
use crate::state::AppState;
use crate::store::AdminConsentFlow;
use crate::tenant::{AppRegistration, User};

/// The roles a client-credential token of `app` carries: those granted on the registration plus those an
/// administrator granted through `/adminconsent` (kept in the state directory, if there is one, as
/// Entra keeps a grant until it is revoked).
pub fn granted_app_roles(state: &AppState, app: &AppRegistration) -> Vec<String> {
    let mut roles = app.app_roles.clone();
    if let Some(consented) = state
        .store()
        .admin_consents
        .get(&app.client_id.to_ascii_lowercase())
    {
        for role in consented {
            if !roles.iter().any(|held| held.eq_ignore_ascii_case(role)) {
                roles.push(role.clone());
            }
        }
    }
    roles
}

/// AADSTS65004, as the v2 admin consent page's error example shows it (`error=consent_required`).
fn declined_error() -> AadError {
    AadError::new(
        "consent_required",
        65004,
        "The resource owner or authorization server denied the request.",
    )
}

/// AADSTS90094 for a signed-in user who holds no role that may grant admin consent: "needs permission to
/// access resources in your organization that only an admin can grant"
/// (learn.microsoft.com/entra/identity/enterprise-apps/application-sign-in-unexpected-user-consent-error);
/// `access_denied`, as on an authorize redirect. Entra's exact `error` value on the admin consent redirect
/// for this case is not documented.
fn not_an_admin_error(user: &User, app: &AppRegistration) -> AadError {
    AadError::new(
        "access_denied",
        90094,
        format!(
            "The grant requires admin permission. {} is not an administrator who may consent to the application permissions of '{}' ({}) on behalf of the organization.",
            user.user_principal_name, app.name, app.client_id
        ),
    )
}

/// `GET /{tenant}/adminconsent` (v1: `redirect_uri` optional, no `scope`).
pub async fn v1(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    start(&state, &segment, &query, false)
}

/// `GET /{tenant}/v2.0/adminconsent` (`redirect_uri` and `scope` required).
pub async fn v2(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    start(&state, &segment, &query, true)
}

fn start(
    state: &AppState,
    segment: &str,
    query: &HashMap<String, String>,
    version_2: bool,
) -> Response {
    let tenant = state.tenant();
    let parameter = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    };
    if !tenant.accepts_authority_segment(segment) {
        return error_page(state, &unknown_tenant(segment));
    }
    let Some(client_id) = parameter("client_id") else {
        return error_page(state, &missing_parameter("client_id"));
    };
    let Some(app) = tenant.app(client_id) else {
        return error_page(state, &unknown_client(client_id, &tenant.display_name));
    };
    let redirect_uri = parameter("redirect_uri");
    if version_2 && redirect_uri.is_none() {
        return error_page(state, &missing_parameter("redirect_uri"));
    }
    if let Some(redirect_uri) = redirect_uri {
        // Never redirect to an unregistered URI: an open redirector (as on /authorize).
        if !app
            .redirect_uris
            .iter()
            .any(|registered| redirect_matches(registered, redirect_uri))
        {
            let error = AadError::new(
                "invalid_request",
                50011,
                format!(
                    "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.",
                    app.client_id
                ),
            );
            return error_page(state, &error);
        }
    }
    let scope = parameter("scope");
    if version_2 && scope.is_none() {
        return error_page(state, &missing_parameter("scope"));
    }
    let flow = opaque(24);
    state.store().admin_consent_flows.insert(
        flow.clone(),
        AdminConsentFlow {
            client_id: app.client_id.clone(),
            redirect_uri: redirect_uri.map(str::to_owned),
            state: query.get("state").cloned(),
            scope: scope.map(str::to_owned),
            user_id: None,
        },
    );
    let mut response = page::sign_in(
        tenant,
        app,
        &format!("/{segment}/adminconsent/signin"),
        &Carry(&[("flow", &flow)]),
        parameter("login_hint"),
        None,
    );
    response
        .extensions_mut()
        .insert(JournalNote("admin consent sign-in page".to_owned()));
    response
}

/// The application permissions this request grants: the registration's requested ones, on v2.0 only when
/// `scope` holds the static `/.default` ("To request app permissions, you must use the /.default value").
fn roles_to_grant(flow: &AdminConsentFlow, app: &AppRegistration) -> Vec<String> {
    let static_scope = flow.scope.as_deref().is_none_or(|scope| {
        scope
            .split_whitespace()
            .any(|scope| scope == ".default" || scope.ends_with("/.default"))
    });
    if static_scope {
        app.requested_app_roles.clone()
    } else {
        Vec::new()
    }
}

/// `POST /{tenant}/adminconsent/signin`: the person picked an account (`flow`, `login`).
pub async fn sign_in(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    form: FormBody,
) -> Response {
    let tenant = state.tenant();
    let Some((flow_id, flow, app)) = load(&state, &form) else {
        return expired(&state);
    };
    let login = form.get("login").unwrap_or_default();
    let Some(user) = tenant.user_by_email(login) else {
        let message = format!(
            "AADSTS50034: The user account {login} does not exist in the {} directory. To sign into this application, the account must be added to the directory.",
            tenant.domains.first().map_or("", String::as_str)
        );
        return page::sign_in(
            tenant,
            app,
            &format!("/{segment}/adminconsent/signin"),
            &Carry(&[("flow", &flow_id)]),
            None,
            Some(&message),
        );
    };
    if let Some(stored) = state.store().admin_consent_flows.get_mut(&flow_id) {
        stored.user_id = Some(user.id);
    }
    let action = format!("/{segment}/adminconsent/decide");
    if !user.can_grant_app_roles() {
        return page::admin_approval(
            tenant,
            app,
            &not_an_admin_error(user, app).summary(),
            Some(&action),
            &Carry(&[("flow", &flow_id)]),
        );
    }
    page::admin_consent(
        tenant,
        app,
        &user.user_principal_name,
        &roles_to_grant(&flow, app),
        &action,
        &Carry(&[("flow", &flow_id)]),
    )
}

/// `POST /{tenant}/adminconsent/decide`: `flow` and `decision` (`accept`, `cancel`, `return`).
pub async fn decide(State(state): State<AppState>, form: FormBody) -> Response {
    let tenant = state.tenant();
    let Some((flow_id, flow, app)) = load(&state, &form) else {
        return expired(&state);
    };
    let Some(user) = flow.user_id.and_then(|id| tenant.user_by_id(id)) else {
        return page::error(
            tenant,
            StatusCode::BAD_REQUEST,
            "Sign-in session incomplete",
            "Pick an account first.",
        );
    };
    state.store().admin_consent_flows.remove(&flow_id);
    match form.get("decision") {
        // Re-checked here: posting `accept` directly must not bypass the role check.
        Some("accept") if !user.can_grant_app_roles() => {
            finish_with_error(&state, &flow, &not_an_admin_error(user, app))
        }
        Some("accept") if !state.faults().take_declined_consent() => {
            let roles = roles_to_grant(&flow, app);
            state
                .store()
                .admin_consents
                .entry(app.client_id.to_ascii_lowercase())
                .or_default()
                .extend(roles.iter().cloned());
            let mut response = finish_granted(&state, &flow, app);
            response.extensions_mut().insert(JournalNote(format!(
                "admin consent granted to {} by {}: {}",
                app.client_id,
                user.user_principal_name,
                roles.join(" ")
            )));
            response
        }
        Some("return") => finish_with_error(&state, &flow, &not_an_admin_error(user, app)),
        _ => finish_with_error(&state, &flow, &declined_error()),
    }
}

fn load<'a>(
    state: &'a AppState,
    form: &FormBody,
) -> Option<(String, AdminConsentFlow, &'a AppRegistration)> {
    let flow_id = form.get("flow")?.to_owned();
    let flow = state.store().admin_consent_flows.get(&flow_id).cloned()?;
    let app = state.tenant().app(&flow.client_id)?;
    Some((flow_id, flow, app))
}

fn expired(state: &AppState) -> Response {
    page::error(
        state.tenant(),
        StatusCode::BAD_REQUEST,
        "Sign-in session expired",
        "Open the admin consent link again.",
    )
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

fn finish_granted(state: &AppState, flow: &AdminConsentFlow, app: &AppRegistration) -> Response {
    let tenant_id = state.tenant().id.to_string();
    let Some(redirect_uri) = &flow.redirect_uri else {
        return page::done(
            state.tenant(),
            "Consent granted",
            &format!(
                "{} may now use the permissions it requested on behalf of {}. You can close this window.",
                app.name,
                state.tenant().display_name
            ),
        );
    };
    let mut parameters = vec![("admin_consent", "True"), ("tenant", tenant_id.as_str())];
    if let Some(scope) = &flow.scope {
        parameters.push(("scope", scope));
    }
    if let Some(value) = &flow.state {
        parameters.push(("state", value));
    }
    redirect(redirect_uri, &parameters)
}

fn finish_with_error(state: &AppState, flow: &AdminConsentFlow, error: &AadError) -> Response {
    let mut response = match &flow.redirect_uri {
        None => page::done(state.tenant(), "Consent not granted", &error.summary()),
        Some(redirect_uri) => {
            let description = error.description(&Diagnostics::at(state.now()));
            let mut parameters = vec![
                ("admin_consent", "True"),
                ("error", error.error),
                ("error_description", description.as_str()),
            ];
            if let Some(value) = &flow.state {
                parameters.push(("state", value));
            }
            redirect(redirect_uri, &parameters)
        }
    };
    response.extensions_mut().insert(error.note());
    response
}

/// A 302 to `redirect_uri` with `parameters` appended to its query.
fn redirect(redirect_uri: &str, parameters: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    url.query_pairs_mut().extend_pairs(parameters);
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}
