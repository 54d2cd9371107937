//! Error responses of the identity platform (Microsoft identity platform "error codes" page, body shape §1.7).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use uuid::Uuid;

use crate::journal::JournalNote;

/// An OAuth error with its AADSTS code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AadError {
    pub status: StatusCode,
    /// OAuth `error` (`invalid_grant`, `authorization_pending`, ...).
    pub error: &'static str,
    /// AADSTS number.
    pub code: u32,
    /// Text after `AADSTS{code}: `.
    pub message: String,
}

impl AadError {
    /// A 400 error.
    pub fn new(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
        }
    }

    /// Same error with another HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// `AADSTS{code}: {message}` as used in redirects and pages.
    pub fn summary(&self) -> String {
        format!("AADSTS{}: {}", self.code, self.message)
    }

    /// The JSON body: `error`, `error_description` (AADSTS code first, then trace/correlation/timestamp lines),
    /// `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
    pub fn body(&self) -> serde_json::Value {
        let trace_id = Uuid::new_v4();
        let correlation_id = Uuid::new_v4();
        let timestamp = Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        serde_json::json!({
            "error": self.error,
            "error_description": format!(
                "{}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.summary()
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        })
    }

    /// Note for the journal.
    pub fn note(&self) -> JournalNote {
        JournalNote(format!("{} AADSTS{}", self.error, self.code))
    }
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            "cache-control",
            HeaderValue::from_static("no-store, no-cache"),
        );
        headers.insert("pragma", HeaderValue::from_static("no-cache"));
        response.extensions_mut().insert(self.note());
        response
    }
}
