//! The connection a request arrived on, as the NTLM handshake needs it: the endpoint's pending
//! handshakes and the peer address the server stored in the request (`ConnectInfo`).

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::ntlm::NtlmHandshakes;

/// Extracted by the EWS and Autodiscover handlers.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub(crate) handshakes: NtlmHandshakes,
    /// `None` when the router runs without the server (`oneshot` tests): NTLM is then refused.
    pub(crate) peer: Option<SocketAddr>,
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
            peer: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        })
    }
}
