//! Errors of the EWS client. Messages name the failing operation and URL and never carry a password,
//! token or mailbox content.

use calconnect_identity::proxy::ProxyProblem;

use crate::auth::AuthScheme;
use crate::response_code::ResponseCode;
use crate::tls::TlsProblem;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Exchange.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A URL did not parse.
    #[error("invalid url {url}")]
    InvalidUrl {
        /// The text given.
        url: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// Credentials would travel over plain http to a non-loopback host.
    #[error("refusing to send credentials over plain http to {url}; only https (or http to this machine) is allowed")]
    InsecureUrl {
        /// The offending URL.
        url: String,
    },
    /// Offline endpoints refused a host that has no route.
    #[error("{url} is not reachable in offline mode (no route configured for its host)")]
    Unreachable {
        /// The logical URL.
        url: String,
    },
    /// The HTTP client could not be built (bad trust anchor PEM, TLS setup).
    #[error("could not set up the https client: {detail}")]
    ClientSetup {
        /// What failed.
        detail: String,
    },
    /// The TLS handshake failed on the certificate.
    #[error("tls handshake with {url} failed: {problem}")]
    Tls {
        /// The logical URL.
        url: String,
        /// Why the certificate was refused.
        problem: TlsProblem,
    },
    /// No answer in time.
    #[error("{operation} request to {url} timed out")]
    Timeout {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
    },
    /// The proxy between this computer and the server refused (HTTP 407, a refused tunnel) or could not
    /// be reached; the message says which proxy and what to do, never its credentials.
    #[error("{operation} request to {url} failed at the proxy: {problem}")]
    Proxy {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
        /// What the proxy did (boxed: it is the largest variant, and errors travel by value).
        problem: Box<ProxyProblem>,
    },
    /// Connection or protocol failure below HTTP.
    #[error("{operation} request to {url} failed: {detail}")]
    Transport {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
        /// The transport error chain, flattened.
        detail: String,
    },
    /// HTTP 401: the credentials were refused (or the scheme is not accepted).
    #[error(
        "{url} refused the credentials (http 401); it offers {}",
        schemes(offered)
    )]
    Unauthorized {
        /// The logical URL.
        url: String,
        /// Schemes from `WWW-Authenticate`.
        offered: Vec<AuthScheme>,
    },
    /// HTTP 403: authenticated, but not allowed to use the service (Exchange Online's EWS allow list).
    #[error("{operation} at {url} was forbidden (http 403): {detail}")]
    Forbidden {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
        /// The first line of the response body.
        detail: String,
    },
    /// An HTTP status the operation cannot use.
    #[error("{operation} at {url} returned http {status}")]
    Status {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A SOAP fault other than throttling.
    #[error("{operation} at {url} returned a soap fault: {code}: {message}")]
    SoapFault {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
        /// `detail/ResponseCode`, or the `faultcode` without prefix.
        code: ResponseCode,
        /// `faultstring`.
        message: String,
    },
    /// Still `ErrorServerBusy` after every allowed attempt, or the server asked for a longer wait than allowed.
    #[error("{operation} at {url} is throttled (ErrorServerBusy) after {attempts} attempts; the server asks to back off {back_off_ms} ms")]
    Throttled {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last `BackOffMilliseconds` hint.
        back_off_ms: u64,
    },
    /// The answer was longer than any genuine one ([`crate::MAX_BODY_BYTES`]); it was not read further.
    #[error("the {operation} answer from {url} is larger than {limit} bytes, far more than any Exchange answer this test reads, so calconnect stopped reading it")]
    ResponseTooLarge {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The response was not what the protocol says.
    #[error("could not read the {operation} response from {url}: {detail}")]
    Parse {
        /// What was attempted.
        operation: String,
        /// The logical URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// The client-credentials token request failed.
    #[error("token request to {url} failed: {detail}")]
    TokenRequest {
        /// Token endpoint.
        url: String,
        /// OAuth `error` and the first line of `error_description` (never the secret).
        detail: String,
    },
    /// The mailbox is not an email address (its domain is needed to route Autodiscover).
    #[error("the mailbox {mailbox} is not an email address")]
    InvalidMailbox {
        /// What was given.
        mailbox: String,
    },
    /// A list of mailboxes (file or pasted) holds something that is not an address.
    #[error("the mailbox list cannot be used: {detail}")]
    InvalidMailboxList {
        /// Which entry and why.
        detail: String,
    },
    /// Autodiscover found no EWS URL.
    #[error("autodiscover found no ews url for {domain}: {detail}")]
    AutodiscoverFailed {
        /// The mailbox's domain.
        domain: String,
        /// Summary of the candidates tried.
        detail: String,
    },
}

fn schemes(offered: &[AuthScheme]) -> String {
    if offered.is_empty() {
        "no authentication scheme".to_owned()
    } else {
        offered
            .iter()
            .map(AuthScheme::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
