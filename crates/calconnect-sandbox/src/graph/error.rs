//! Graph's error envelope (`{"error":{"code","message","innerError":{...}}}`, Graph "errors" page).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::clock;
use crate::demo;
use crate::journal::JournalNote;

/// A Graph error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `Retry-After` seconds for 429/503.
    pub retry_after_secs: Option<u64>,
    /// `authorization_uri` of the `WWW-Authenticate` challenge on a 401: this sandbox's authority.
    pub authorization_uri: Option<String>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after_secs: None,
            authorization_uri: None,
        }
    }

    /// 401 for a missing, malformed or expired token, challenging with the authority at `base_url`
    /// (as Graph points at login.microsoftonline.com and the sandbox's EWS at itself).
    pub fn invalid_token(base_url: &url::Url, message: &str) -> Self {
        Self {
            authorization_uri: Some(format!("{base_url}common/oauth2/authorize")),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                message,
            )
        }
    }

    /// 403 when the token lacks the permission.
    pub fn access_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    }

    /// 403 of Graph's directory APIs (`/users`, `/organization`) when the token lacks the permission:
    /// `Authorization_RequestDenied`, "Insufficient privileges to complete the operation."
    /// (BakkerJan/M365Portal#1: app-only `GET /users/{id}` without User.Read.All;
    /// microsoftgraph/microsoft-graph-docs-contrib#8159).
    pub fn insufficient_privileges() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 404 of Graph's directory APIs for an object that does not exist ("Get user": "If a user with the ID
    /// doesn't exist, this method returns a `404 Not Found` error code").
    pub fn resource_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    }

    /// 400 for a malformed request.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 429/503 throttling with `Retry-After`.
    pub fn throttled(status: u16, retry_after_secs: u64) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
        let (code, message) = if status == StatusCode::SERVICE_UNAVAILABLE {
            (
                "ServiceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
            )
        } else {
            (
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
            )
        };
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(status, code, message)
        }
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let request_id = Uuid::new_v4();
        let body = serde_json::json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": clock::request_now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": request_id,
                    "client-request-id": request_id,
                }
            }
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
        }
        if let Some(authorization_uri) = &self.authorization_uri {
            let challenge = format!(
                r#"Bearer realm="", authorization_uri="{authorization_uri}", client_id="{}""#,
                demo::GRAPH_RESOURCE_APP_ID
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert("www-authenticate", value);
            }
        }
        response.extensions_mut().insert(JournalNote(self.code));
        response
    }
}
