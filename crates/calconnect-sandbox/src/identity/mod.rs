//! Microsoft identity platform v2.0: discovery, JWKS, authorize pages, token and device code endpoints.

pub mod admin_consent;
pub mod authorize;
pub mod client_assertion;
pub mod consent;
pub mod device_code;
pub mod discovery;
pub mod error;
pub mod form;
pub mod issuance;
pub mod page;
pub mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Identity platform routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::authorize))
        .route("/{tenant}/login", post(authorize::sign_in))
        .route("/{tenant}/login/consent", post(authorize::decide))
        .route("/{tenant}/adminconsent", get(admin_consent::v1))
        .route("/{tenant}/v2.0/adminconsent", get(admin_consent::v2))
        .route(
            "/{tenant}/adminconsent/signin",
            post(admin_consent::sign_in),
        )
        .route("/{tenant}/adminconsent/decide", post(admin_consent::decide))
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code::start))
        .route(
            "/devicelogin",
            get(device_code::entry).post(device_code::enter_code),
        )
        .route("/devicelogin/signin", post(device_code::sign_in))
        .route("/devicelogin/consent", post(device_code::decide))
}
