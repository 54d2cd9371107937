//! Errors of the Graph client, keeping Graph's own error codes (learn.microsoft.com/graph/errors).

use std::time::Duration;

use calconnect_identity::text::strip_control_characters;

/// Why a [`crate::TokenProvider`] could not hand out an access token (sign-in expired, refresh failed, …).
/// The source is kept so the caller can downcast to its own error type.
#[derive(Debug)]
pub struct TokenError(pub Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TokenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Errors of [`crate::GraphClient`]. No variant carries a token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Graph answered 401 twice, the second time with a freshly refreshed token.
    #[error("graph rejected the access token: {message}")]
    Unauthorized {
        /// Graph's `error.message` (e.g. "Access token has expired or is not yet valid.").
        message: String,
    },
    /// Graph answered 403: a scope is missing or a policy blocks the app (`ErrorAccessDenied`, `extensionError`).
    #[error("graph denied access ({code}): {message}")]
    AccessDenied {
        /// Graph's `error.code`.
        code: String,
        /// Graph's `error.message`.
        message: String,
    },
    /// Graph kept answering 429/503 after the bounded retries.
    #[error("graph is throttling requests{}", .retry_after.map(|after| format!(", retry after {} s", after.as_secs())).unwrap_or_default())]
    Throttled {
        /// The last `Retry-After` Graph sent, if any.
        retry_after: Option<Duration>,
    },
    /// Any other Graph error response.
    #[error("graph request failed with HTTP {status} ({code}): {message}{}", .request_id.as_ref().map(|id| format!(" [request-id {id}]")).unwrap_or_default())]
    Api {
        /// HTTP status.
        status: u16,
        /// Graph's `error.code` (empty when the body was not a Graph error).
        code: String,
        /// Graph's `error.message`.
        message: String,
        /// `innerError.request-id`, for support requests.
        request_id: Option<String>,
    },
    /// getSchedule returned an error for the schedule itself (`scheduleInformation.error`, a freeBusyError),
    /// e.g. an unknown mailbox.
    #[error("graph could not read the schedule of {schedule} ({response_code}): {message}")]
    Schedule {
        /// The requested SMTP address.
        schedule: String,
        /// `freeBusyError.responseCode`.
        response_code: String,
        /// `freeBusyError.message`.
        message: String,
    },
    /// The answer was longer than any genuine one ([`crate::MAX_PAGE_BYTES`]); it was not read further.
    #[error("the answer from {url} is larger than {limit} bytes, far more than any Graph page, so calconnect stopped reading it")]
    ResponseTooLarge {
        /// The requested URL.
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A collection did not end: more than [`crate::MAX_PAGES`] pages, or an `@odata.nextLink` that
    /// leads back to a page already read.
    #[error("the collection at {url} does not end: {reason}")]
    EndlessCollection {
        /// The collection's first URL.
        url: String,
        /// Which limit it reached.
        reason: String,
    },
    /// The request did not reach Graph or the response was cut off.
    #[error("graph request failed: {0}")]
    Network(#[from] reqwest::Error),
    /// The token provider failed.
    #[error("could not get an access token for graph: {0}")]
    Token(#[from] TokenError),
    /// Graph's response was not the JSON we expect.
    #[error("unexpected response from {url}: {body_snippet}")]
    Decode {
        /// The requested URL.
        url: String,
        /// The start of the body (Graph bodies carry no tokens).
        body_snippet: String,
    },
    /// A URL we were asked to send the token to is not safe: plain `http` off loopback, or an
    /// `@odata.nextLink` pointing at another origin than the Graph base URL.
    #[error("refusing to send the access token to {url}: {reason}")]
    UnsafeUrl {
        /// The refused URL.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
}

/// Result of Graph operations.
pub type Result<T> = std::result::Result<T, Error>;

/// The Graph error envelope: `{"error":{"code","message","innerError":{"request-id",..}}}`. Docs spell it
/// `innererror`, live responses `innerError`: accept both.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ErrorEnvelope {
    #[serde(default)]
    pub(crate) error: ErrorBody,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default, rename = "innerError", alias = "innererror")]
    pub(crate) inner_error: Option<InnerError>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct InnerError {
    #[serde(default, rename = "request-id")]
    pub(crate) request_id: Option<String>,
}

impl ErrorEnvelope {
    /// Parses an error body; a non-Graph body (a proxy's HTML page) keeps its first characters as the message.
    /// Every text is made printable ([`strip_control_characters`]): it reaches terminals and reports.
    pub(crate) fn parse(body: &str) -> ErrorBody {
        if calconnect_identity::http::json_too_deep(body.as_bytes()) {
            return ErrorBody {
                message: "an error answer nested too deep to read".into(),
                ..ErrorBody::default()
            };
        }
        match serde_json::from_str::<ErrorEnvelope>(body) {
            Ok(envelope)
                if !envelope.error.code.is_empty() || !envelope.error.message.is_empty() =>
            {
                let error = envelope.error;
                ErrorBody {
                    code: strip_control_characters(&error.code),
                    message: strip_control_characters(&error.message),
                    inner_error: error.inner_error.map(|inner| InnerError {
                        request_id: inner.request_id.as_deref().map(strip_control_characters),
                    }),
                }
            }
            _ => ErrorBody {
                message: snippet(body),
                ..ErrorBody::default()
            },
        }
    }
}

/// The first 200 characters of a body, without control characters, for error messages.
pub(crate) fn snippet(body: &str) -> String {
    const MAX: usize = 200;
    let cut = match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_owned(),
    };
    strip_control_characters(&cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_error_envelope_yields_code_message_and_request_id() {
        let body = r#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again.",
            "innerError":{"date":"2024-01-01T00:00:00","request-id":"9f2c-1","client-request-id":"9f2c-1"}}}"#;
        let error = ErrorEnvelope::parse(body);
        assert_eq!(error.code, "ErrorAccessDenied");
        assert_eq!(
            error.message,
            "Access is denied. Check credentials and try again."
        );
        assert_eq!(
            error.inner_error.unwrap().request_id.as_deref(),
            Some("9f2c-1")
        );
    }

    #[test]
    fn the_lowercase_innererror_spelling_of_the_docs_is_accepted() {
        let body = r#"{"error":{"code":"x","message":"y","innererror":{"request-id":"r"}}}"#;
        assert_eq!(
            ErrorEnvelope::parse(body)
                .inner_error
                .unwrap()
                .request_id
                .as_deref(),
            Some("r")
        );
    }

    #[test]
    fn a_non_graph_error_body_becomes_a_short_message() {
        let body = format!("<html>{}</html>", "x".repeat(500));
        let error = ErrorEnvelope::parse(&body);
        assert_eq!(error.code, "");
        assert!(error.message.starts_with("<html>xx"));
        assert!(error.message.chars().count() <= 201);
    }

    #[test]
    fn throttled_display_mentions_the_retry_delay() {
        let error = Error::Throttled {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            error.to_string(),
            "graph is throttling requests, retry after 7 s"
        );
    }
}
