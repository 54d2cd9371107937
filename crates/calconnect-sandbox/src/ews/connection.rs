//! The connection a request arrived on, as the NTLM handshake needs it: the endpoint's pending and
//! completed handshakes and the [`ConnectionKey`] the server stored in the request.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ntlm::NtlmHandshakes;

/// One accepted TCP connection: its peer address and the serial the server gave it when it accepted it,
/// so a later connection from the same address and port (ports are reused) never inherits its NTLM state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionKey {
    pub peer: SocketAddr,
    pub serial: u64,
}

/// Extracted by the EWS and Autodiscover handlers.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub(crate) handshakes: NtlmHandshakes,
    /// `None` when the router runs without the server (`oneshot` tests): NTLM is then refused.
    pub(crate) key: Option<ConnectionKey>,
}

impl<S: Send + Sync> FromRequestParts<S> for Connection {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            // Every route that extracts a Connection is layered with its NtlmHandshakes; a fresh one
            // only means no handshake can complete.
            handshakes: parts
                .extensions
                .get::<NtlmHandshakes>()
                .cloned()
                .unwrap_or_default(),
            key: parts.extensions.get::<ConnectionKey>().copied(),
        })
    }
}
