//! `GET /organization` (Graph "List organization" / "Get organization"): the signed-in or token's tenant,
//! with its verified domains.
//!
//! Permissions: delegated User.Read, Organization.Read.All, Directory.Read.All, Organization.ReadWrite.All,
//! Directory.ReadWrite.All; application the same without User.Read. "Applications granted the User.Read
//! permission are able to read only the **id**, **displayName**, and **verifiedDomains** properties of the
//! organization. All other properties will return with `null` values."
//! [learn.microsoft.com/graph/api/organization-get; microsoft-graph-docs-contrib api-reference/v1.0/api/organization-get.md]
//! The sandbox's organisation has no other property it could fill in but `tenantType`, so a User.Read
//! token gets it as `null`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::graph::caller::Bearer;
use crate::graph::error::GraphError;
use crate::state::AppState;

/// Permissions that read the whole organisation object.
const ORGANIZATION_PERMISSIONS: &[&str] = &[
    "Organization.Read.All",
    "Directory.Read.All",
    "Organization.ReadWrite.All",
    "Directory.ReadWrite.All",
];

/// `GET /v1.0/organization`.
pub async fn list(State(state): State<AppState>, bearer: Bearer) -> Result<Response, GraphError> {
    let full = bearer.has_any(ORGANIZATION_PERMISSIONS);
    let user_read = !bearer.claims.is_app_only() && bearer.claims.has_scope("User.Read");
    if !full && !user_read {
        return Err(GraphError::insufficient_privileges());
    }
    let tenant = state.tenant();
    let default = tenant.default_domain();
    let initial = tenant.initial_domain();
    let domains: Vec<serde_json::Value> = tenant
        .domains
        .iter()
        .map(|name| {
            serde_json::json!({
                // The organisation example's value for a domain serving mail and Teams.
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": Some(name.as_str()) == default,
                "isInitial": Some(name.as_str()) == initial,
                "name": name,
                "type": "Managed",
            })
        })
        .collect();
    let organization = serde_json::json!({
        "id": tenant.id,
        "deletedDateTime": null,
        "displayName": tenant.display_name,
        "tenantType": if full { serde_json::json!("AAD") } else { serde_json::Value::Null },
        "verifiedDomains": domains,
    });
    Ok(Json(serde_json::json!({
        "@odata.context": format!("{}v1.0/$metadata#organization", state.base_url()),
        "value": [organization],
    }))
    .into_response())
}
