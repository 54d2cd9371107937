//! The device authorization grant (RFC 8628; Microsoft identity platform docs, "OAuth 2.0 device authorization grant").
//!
//! The poll loop is our own rather than oauth2's so that it can report progress, be cancelled, run on
//! injected time, and keep Entra's `error_codes`/`trace_id` (oauth2's device error type drops them).

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;
use url::Url;

/// What to show the person: the code, where to enter it, and until when.
#[derive(Clone)]
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: Url,
    /// Entra's localised instruction sentence, when present.
    pub message: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The poll interval the server asked for (RFC 8628 §3.2, default 5 s).
    pub interval: Duration,
    pub(crate) device_code: SecretString,
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCode")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri.as_str())
            .field("expires_at", &self.expires_at)
            .field("interval", &self.interval)
            .field("device_code", &"[redacted]")
            .finish()
    }
}

impl DeviceCode {
    /// Seconds left before the code expires, at `now`.
    pub fn remaining(&self, now: DateTime<Utc>) -> Duration {
        (self.expires_at - now).to_std().unwrap_or_default()
    }
}

/// Checks the page the person is sent to (`verification_uri`) against the authority that named it
/// (`authority`, its device authorization endpoint): they type a code there that signs this app in, so it
/// must be https (Entra's is `https://microsoft.com/devicelogin`). Plain http is accepted only on the
/// authority's own origin when that is itself plain http on loopback (the sandbox without TLS). A URL with
/// user information (`https://microsoft.com@evil.example/`) reads as one host and opens another: refused.
pub(crate) fn check_verification_uri(
    uri: &Url,
    authority: &Url,
) -> std::result::Result<(), String> {
    if uri.has_authority() && (!uri.username().is_empty() || uri.password().is_some()) {
        return Err(format!(
            "verification_uri `{uri}` carries a user name, which hides the host it opens"
        ));
    }
    let sandbox_page = uri.scheme() == "http"
        && authority.scheme() == "http"
        && uri.origin() == authority.origin();
    if uri.scheme() == "https" || sandbox_page {
        Ok(())
    } else {
        Err(format!("verification_uri `{uri}` is not an https page"))
    }
}

/// Where the poll loop is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PollState {
    /// Waiting before the next poll.
    Waiting,
    /// The server said `authorization_pending`: the person has not finished yet.
    Pending,
    /// The server said `slow_down`: the interval grew by 5 seconds (RFC 8628 §3.5).
    SlowDown,
}

/// A progress report of the poll loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceProgress {
    pub state: PollState,
    pub remaining_seconds: u64,
    pub interval_seconds: u64,
    pub polls: u32,
}
