//! Error responses of the identity platform (Microsoft identity platform "error codes" page, body shape §1.7).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::clock;
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
    /// Entra's `suberror` (`consent_required`, `basic_action`, `bad_token`, ...), where Entra sends one
    /// (facts §0: AADSTS65001 comes as `invalid_grant` + `suberror: consent_required`).
    pub suberror: Option<&'static str>,
}

impl AadError {
    /// A 400 error.
    pub fn new(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
            suberror: None,
        }
    }

    /// A 401 `invalid_client`: client authentication failed (a credential missing, wrong or unusable).
    pub fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self::new("invalid_client", code, message).with_status(StatusCode::UNAUTHORIZED)
    }

    /// Same error with Entra's `suberror`.
    pub fn with_suberror(mut self, suberror: &'static str) -> Self {
        self.suberror = Some(suberror);
        self
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

    /// `error_description` as Entra writes it, on the token endpoint and in authorize redirects alike:
    /// the AADSTS summary, then `Trace ID`, `Correlation ID` and `Timestamp` lines (facts §1.7).
    pub fn description(&self, diagnostics: &Diagnostics) -> String {
        format!(
            "{}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.summary(),
            diagnostics.trace_id,
            diagnostics.correlation_id,
            diagnostics.timestamp()
        )
    }

    /// The JSON body: `error`, `error_description` (AADSTS code first, then trace/correlation/timestamp lines),
    /// `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
    pub fn body(&self, diagnostics: &Diagnostics) -> serde_json::Value {
        let mut body = serde_json::json!({
            "error": self.error,
            "error_description": self.description(diagnostics),
            "error_codes": [self.code],
            "timestamp": diagnostics.timestamp(),
            "trace_id": diagnostics.trace_id,
            "correlation_id": diagnostics.correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        if let Some(suberror) = self.suberror {
            body["suberror"] = serde_json::Value::from(suberror);
        }
        body
    }

    /// Note for the journal.
    pub fn note(&self) -> JournalNote {
        JournalNote(format!("{} AADSTS{}", self.error, self.code))
    }
}

/// Trace id, correlation id and time of one failed request, as Entra reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Diagnostics {
    pub trace_id: Uuid,
    pub correlation_id: Uuid,
    pub at: DateTime<Utc>,
}

impl Diagnostics {
    /// Fresh ids for a request failing at sandbox time `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self {
            trace_id: Uuid::new_v4(),
            correlation_id: Uuid::new_v4(),
            at,
        }
    }

    /// `2016-01-09 02:02:12Z`.
    fn timestamp(&self) -> String {
        self.at.format("%Y-%m-%d %H:%M:%SZ").to_string()
    }
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let body = self.body(&Diagnostics::at(clock::request_now()));
        let mut response = (self.status, axum::Json(body)).into_response();
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
