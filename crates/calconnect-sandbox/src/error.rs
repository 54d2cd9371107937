//! Errors of the sandbox's own API (starting it, loading tenants, the scripted [`crate::person::Person`]).
//!
//! Protocol errors the emulated services answer with are not here: they are responses, rendered by
//! [`crate::identity::error`] and [`crate::graph::error`].

use std::path::PathBuf;

/// Result of the sandbox's own API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while running the sandbox or driving it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read tenant file {path}")]
    TenantFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid tenant definition: {0}")]
    TenantParse(String),
    #[error("failed to bind the sandbox listener on {address}")]
    Bind {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to generate the sandbox certificate authority: {0}")]
    Certificate(String),
    #[error("failed to generate the token signing key: {0}")]
    SigningKey(String),
    #[error("failed to configure tls: {0}")]
    Tls(String),
    #[error("failed to access sandbox state at {path}")]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid sandbox state file {path}: {reason}")]
    StateFile { path: PathBuf, reason: String },
    /// The state directory or a file in it could have been written or read by another user: its keys
    /// are not used.
    #[error("refusing the sandbox state at {path}: {reason}")]
    StateUnsafe { path: PathBuf, reason: String },
    #[error("http request to {url} failed")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("unexpected page at {url}: {reason}")]
    UnexpectedPage { url: String, reason: String },
    #[error("unknown demo user {0}")]
    UnknownUser(String),
}
