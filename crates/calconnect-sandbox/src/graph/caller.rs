//! The signed-in user behind a Graph request, taken from its bearer token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;

use crate::demo;
use crate::graph::error::GraphError;
use crate::state::{AccessClaims, AppState, TokenRejection};
use crate::tenant::User;

/// A verified delegated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: AccessClaims,
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
            .ok_or_else(|| GraphError::new(StatusCode::NOT_FOUND, "Request_ResourceNotFound", format!("Resource '{}' does not exist or one of its queried reference-property objects are not present.", self.claims.oid)))
    }
}

impl FromRequestParts<AppState> for Caller {
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
        // Every route here is under /me: an app-only token has no "me" and gets Graph's 403 (facts §2.5).
        if claims.is_app_only() {
            return Err(GraphError::access_denied());
        }
        Ok(Self { claims })
    }
}
