//! How the client gets access tokens and waits: both injected, so tests control them.

use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::SecretString;

use crate::error::TokenError;

/// Source of Graph access tokens (`calconnect-identity` implements it over its token cache and refresh).
pub trait TokenProvider: Send + Sync {
    /// A valid access token. With `force_refresh` the provider must not return a cached token: Graph has
    /// just rejected one with 401 (revoked, or expired early).
    fn access_token(&self, force_refresh: bool) -> BoxFuture<'_, Result<SecretString, TokenError>>;
}

/// Waits between retries (`Retry-After`). Tests inject one that records the durations and returns at once.
pub trait Sleeper: Send + Sync {
    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// [`Sleeper`] on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}
