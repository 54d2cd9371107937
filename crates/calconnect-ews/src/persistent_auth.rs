//! NTLM-authenticated connections kept between operations. NTLM authenticates the connection, not the
//! request: IIS, by default, accepts later requests on a connection a handshake authenticated without a
//! new one (`windowsAuthentication/@authPersistSingleRequest`, "The default value is `false`":
//! learn.microsoft.com/iis/configuration/system.webServer/security/authentication/windowsAuthentication/),
//! and Exchange's EWS virtual directories keep that default. So each operation first takes an idle
//! authenticated connection and sends without `Authorization`; only without one does it handshake (and
//! then keeps that connection for the next operation).
//!
//! A 401 on such a connection means the server wants a handshake per request (`authPersistSingleRequest`
//! set, or a front end that does not keep it): as MS-N2HT 3.2.5 says of persistent authentication, "When
//! the client receives a '401' status code in the response, it MUST set persistent-auth-value to 0", so
//! from then on this client handshakes every request and keeps no connection
//! (learn.microsoft.com/openspecs/windows_protocols/ms-n2ht/). The pool belongs to one [`crate::client::EwsClient`]
//! and its clones: one EWS URL and one set of credentials, so a connection is never reused for anyone
//! else.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::connection::Connection;

/// Idle authenticated connections kept at most (a bulk run has at most its concurrency in use).
const MAX_IDLE: usize = 16;

/// The idle connections of one client.
#[derive(Debug, Default)]
pub(crate) struct AuthenticatedConnections {
    idle: Mutex<Vec<Connection>>,
    /// The server answered 401 on an authenticated connection: handshake every request from now on.
    per_request: AtomicBool,
}

impl AuthenticatedConnections {
    /// An idle authenticated connection still open, if the server keeps authentication per connection.
    pub(crate) fn take(&self) -> Option<Connection> {
        if self.per_request.load(Ordering::Relaxed) {
            return None;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        while let Some(connection) = idle.pop() {
            if connection.is_reusable() {
                return Some(connection);
            }
        }
        None
    }

    /// Keeps `connection`, which just carried an authenticated request to its end, for the next one.
    pub(crate) fn keep(&self, connection: Connection) {
        if self.per_request.load(Ordering::Relaxed) || !connection.is_reusable() {
            return;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    /// The server refused a request on an authenticated connection: stop reusing connections.
    pub(crate) fn authenticate_every_request(&self) {
        self.per_request.store(true, Ordering::Relaxed);
        self.idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clear();
    }
}
