//! Record of every request the sandbox answered, for assertions and for humans (`GET /_sandbox/journal`).
//!
//! Architecture Invariant: no credential value (nor `state`, nor a PKCE challenge) reaches the journal. Only method, path, a query string with
//! secret-bearing parameters redacted, status, route name, time and a short note chosen by the handler
//! (grant type, error code) are kept; bodies and headers never are.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Query parameters whose values are credentials or single-use secrets. `state` and `code_challenge` are
/// not credentials, but whoever reads the journal (any local program, before the admin token) could
/// answer a client's loopback listener with the `state` it waits for, and tie a code to its challenge.
const SECRET_PARAMETERS: &[&str] = &[
    "code",
    "state",
    "code_challenge",
    "code_verifier",
    "refresh_token",
    "access_token",
    "id_token",
    "device_code",
    "user_code",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "otc",
];

/// One answered request.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    pub method: String,
    pub path: String,
    /// Query string with secret values replaced by `[redacted]`.
    pub query: Option<String>,
    pub status: u16,
    /// Route name, as used by fault knobs.
    pub route: String,
    pub timestamp: DateTime<Utc>,
    /// Handler's note: grant type, AADSTS code, Graph error code... never a secret.
    pub note: Option<String>,
}

/// A note a handler attaches to its response (as a response extension) for the journal.
#[derive(Debug, Clone)]
pub struct JournalNote(pub String);

/// Append-only, shared journal.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    entries: Arc<Mutex<Vec<JournalEntry>>>,
}

impl Journal {
    /// Appends an entry.
    pub fn record(&self, entry: JournalEntry) {
        self.entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(entry);
    }

    /// A copy of all entries so far.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }
}

/// Replaces the values of secret-bearing parameters in a raw query string.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret(name: &str) -> bool {
    let decoded = url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default();
    SECRET_PARAMETERS
        .iter()
        .any(|secret| secret.eq_ignore_ascii_case(&decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_codes_state_and_the_code_challenge_but_keeps_scope() {
        let redacted = redact_query(
            "code=SECRET&state=abc&scope=User.Read&user_code=XYZ&code_challenge=CH&code_challenge_method=S256",
        );
        assert_eq!(
            redacted,
            "code=[redacted]&state=[redacted]&scope=User.Read&user_code=[redacted]&code_challenge=[redacted]&code_challenge_method=S256"
        );
    }
}
