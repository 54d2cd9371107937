//! What stands between a signed-in person and a grant: conditional access, admin consent, user consent.

use crate::identity::error::AadError;
use crate::identity::issuance::configured_permissions;
use crate::scope::{Resource, Scope};
use crate::state::AppState;
use crate::tenant::{AppRegistration, User};

/// Next step after the person picked an account.
#[derive(Debug)]
pub enum ConsentStep {
    /// Conditional access blocks the sign-in (AADSTS53003, in its authorize-redirect form).
    Blocked(AadError),
    /// Only an administrator can consent (AADSTS90094).
    AdminApproval(AadError),
    /// The person must consent to these scopes.
    Ask(Vec<Scope>),
    /// Consent was given before; issue the grant right away.
    Granted,
}

const CONDITIONAL_ACCESS_MESSAGE: &str =
    "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.";

/// AADSTS53003 as the token endpoint reports it (refresh and device code grants alike).
///
/// `interaction_required` because `access_denied` is not a token-endpoint `error` value: Entra lists it
/// only for authorize redirects (reference-error-codes, facts §1.7).
pub fn conditional_access_error() -> AadError {
    AadError::new("interaction_required", 53003, CONDITIONAL_ACCESS_MESSAGE)
}

/// AADSTS53003 redirected back from `/authorize`, where `access_denied` is the documented value.
pub fn conditional_access_redirect_error() -> AadError {
    AadError::new("access_denied", 53003, CONDITIONAL_ACCESS_MESSAGE)
}

/// The token endpoint's answer to a device code whose sign-in failed with `code` on the device page:
/// AADSTS53003 stays a conditional-access error; a missing admin consent surfaces as AADSTS65001.
pub fn device_sign_in_error(app: &AppRegistration, code: u32) -> AadError {
    match code {
        53003 => conditional_access_error(),
        _ => delegation_missing_error(app),
    }
}

/// AADSTS90094.
pub fn admin_consent_error(app: &AppRegistration) -> AadError {
    AadError::new(
        "access_denied",
        90094,
        format!(
            "Admin consent is required for the permissions requested by this application '{}' ({}). An administrator must grant them.",
            app.name, app.client_id
        ),
    )
}

/// AADSTS65001 (no delegation exists), as the token endpoint reports it.
pub fn delegation_missing_error(app: &AppRegistration) -> AadError {
    AadError::new(
        "invalid_grant",
        65001,
        format!(
            "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
            app.client_id, app.name
        ),
    )
    // Facts §0 (microsoft-graph-docs#12893, #6311): consent missing or revoked, fixable by an
    // interactive sign-in; not by itself "admin consent required" (that is 90094 / 900941).
    .with_suberror("consent_required")
}

/// AADSTS65004.
pub fn declined_error() -> AadError {
    AadError::new(
        "access_denied",
        65004,
        "User declined to consent to access the app.",
    )
}

/// Decides the step for `user` signing in to `app` for `scopes`.
///
/// The demo tenant's user-consent policy lets users consent only to permissions listed on the app
/// registration; anything else, or an app the user is flagged for, needs an administrator.
pub fn next_step(
    state: &AppState,
    user: &User,
    app: &AppRegistration,
    scopes: &[Scope],
    force_prompt: bool,
) -> ConsentStep {
    if user.conditional_access_blocked || state.faults().take_conditional_access() {
        return ConsentStep::Blocked(conditional_access_redirect_error());
    }
    let permissions = expand(app, scopes);
    let configured: Vec<Scope> = [Resource::Graph, Resource::Exchange]
        .into_iter()
        .flat_map(|resource| configured_permissions(app, resource))
        .collect();
    let beyond_configuration = permissions.iter().any(|scope| !configured.contains(scope));
    if user.needs_admin_consent_for(&app.client_id) || beyond_configuration {
        return ConsentStep::AdminApproval(admin_consent_error(app));
    }
    let consented = state
        .store()
        .consents
        .get(&(user.id, app.client_id.to_ascii_lowercase()))
        .cloned()
        .unwrap_or_default();
    let missing = permissions.iter().any(|scope| !consented.contains(scope));
    if force_prompt || missing {
        let mut shown: Vec<Scope> = permissions;
        shown.extend(
            scopes
                .iter()
                .filter(|scope| scope.resource().is_none())
                .cloned(),
        );
        ConsentStep::Ask(shown)
    } else {
        ConsentStep::Granted
    }
}

/// Whether `user`'s consent to `app` still covers every permission in `scopes`: Entra issues nothing a
/// withdrawn consent no longer grants (facts §0: AADSTS65001 is "consent missing or revoked").
pub fn covers(
    state: &AppState,
    user_id: uuid::Uuid,
    app: &AppRegistration,
    scopes: &[Scope],
) -> bool {
    let needed = expand(app, scopes);
    let store = state.store();
    let consented = store
        .consents
        .get(&(user_id, app.client_id.to_ascii_lowercase()));
    needed
        .iter()
        .all(|scope| consented.is_some_and(|consented| consented.contains(scope)))
}

/// Records the person's consent to `scopes`.
pub fn record(state: &AppState, user: &User, app: &AppRegistration, scopes: &[Scope]) {
    let permissions = expand(app, scopes);
    state
        .store()
        .consents
        .entry((user.id, app.client_id.to_ascii_lowercase()))
        .or_default()
        .extend(permissions);
}

/// Permissions in `scopes` with `.default` expanded.
pub fn expand(app: &AppRegistration, scopes: &[Scope]) -> Vec<Scope> {
    let mut permissions = Vec::new();
    for resource in [Resource::Graph, Resource::Exchange] {
        permissions.extend(crate::identity::issuance::resource_permissions(
            scopes, resource, app,
        ));
    }
    permissions
}
