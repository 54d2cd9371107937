//! Who is behind a Graph request, taken from its bearer token: [`Bearer`] for any verified Graph token
//! (delegated or app-only), [`Caller`] for routes under `/me`, which need a signed-in user.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::demo;
use crate::graph::error::GraphError;
use crate::state::{AccessClaims, AppState, TokenRejection};
use crate::tenant::User;

/// A verified delegated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: AccessClaims,
}

/// A verified Graph access token, delegated or app-only (client credentials, with `roles`).
#[derive(Debug, Clone)]
pub struct Bearer {
    pub claims: AccessClaims,
}

impl Bearer {
    /// Whether the token carries one of `permissions`: as app roles in an app-only token, as delegated
    /// scopes otherwise.
    pub fn has_any(&self, permissions: &[&str]) -> bool {
        permissions.iter().any(|permission| {
            if self.claims.is_app_only() {
                self.claims.has_role(permission)
            } else {
                self.claims.has_scope(permission)
            }
        })
    }

    /// The signed-in user of a delegated token (`None` for app-only tokens or unknown users).
    pub fn signed_in_user<'a>(&self, state: &'a AppState) -> Option<&'a User> {
        if self.claims.is_app_only() {
            return None;
        }
        state.tenant().user_by_id(self.claims.oid)
    }
}

impl Caller {
    /// Requires one of `scopes` (any higher permission listed by the Graph permission tables).
    pub fn require_any(&self, scopes: &[&str]) -> Result<(), GraphError> {
        if scopes.iter().any(|scope| self.claims.has_scope(scope)) {
            Ok(())
        } else {
            Err(GraphError::access_denied())
        }
    }

    /// The user the token was issued for.
    pub fn user<'a>(&self, state: &'a AppState) -> Result<&'a User, GraphError> {
        state
            .tenant()
            .user_by_id(self.claims.oid)
            .ok_or_else(|| GraphError::resource_not_found(&self.claims.oid.to_string()))
    }
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = GraphError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let bearer = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .unwrap_or_default();
        let claims = state
            .verify_access_token(bearer, demo::GRAPH_RESOURCE)
            .map_err(|rejection| match rejection {
                TokenRejection::Missing => {
                    GraphError::invalid_token(state.base_url(), "Access token is empty.")
                }
                TokenRejection::Expired => GraphError::invalid_token(
                    state.base_url(),
                    "Access token has expired or is not yet valid.",
                ),
                TokenRejection::Invalid => {
                    GraphError::invalid_token(state.base_url(), "Access token validation failure.")
                }
                TokenRejection::WrongAudience { .. } => GraphError::invalid_token(
                    state.base_url(),
                    "Access token validation failure. Invalid audience.",
                ),
            })?;
        Ok(Self { claims })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = GraphError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Bearer { claims } = Bearer::from_request_parts(parts, state).await?;
        // Routes under /me: an app-only token has no "me" and gets Graph's 403 (facts §2.5).
        if claims.is_app_only() {
            return Err(GraphError::access_denied());
        }
        Ok(Self { claims })
    }
}
