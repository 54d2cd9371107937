//! The Graph client over loopback HTTP.
//!
//! `double` is a small scripted Graph on axum that records what the client sends (URLs, tokens, overlap of
//! requests), for the transport rules: paging, windows, throttling, 401 refresh, unsafe URLs. `hostile`
//! runs it against raw servers that send what Graph never would (endless bodies and collections, escape
//! sequences). The sandbox suites exercise the same client against the emulator's Graph.

mod double;
mod hostile;
mod sandbox;
mod transport;

use std::sync::Mutex;
use std::time::Duration;

use calconnect_graph::{Sleeper, TokenError, TokenProvider};
use futures::future::BoxFuture;
use secrecy::SecretString;

/// Hands out `stale-token` until asked to refresh, then `fresh-token`; records every `force_refresh`.
#[derive(Default)]
pub struct RecordingTokens {
    pub calls: Mutex<Vec<bool>>,
}

pub const STALE_TOKEN: &str = "stale-token";
pub const FRESH_TOKEN: &str = "fresh-token";

impl TokenProvider for RecordingTokens {
    fn access_token(&self, force_refresh: bool) -> BoxFuture<'_, Result<SecretString, TokenError>> {
        let mut calls = self.calls.lock().unwrap();
        calls.push(force_refresh);
        let refreshed = calls.iter().any(|forced| *forced);
        Box::pin(async move {
            Ok(SecretString::from(if refreshed {
                FRESH_TOKEN
            } else {
                STALE_TOKEN
            }))
        })
    }
}

/// Always hands out the same token.
pub struct FixedToken(pub &'static str);

impl TokenProvider for FixedToken {
    fn access_token(
        &self,
        _force_refresh: bool,
    ) -> BoxFuture<'_, Result<SecretString, TokenError>> {
        Box::pin(async move { Ok(SecretString::from(self.0)) })
    }
}

/// Records requested waits and returns at once.
#[derive(Default)]
pub struct RecordingSleeper {
    pub waits: Mutex<Vec<Duration>>,
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.waits.lock().unwrap().push(duration);
        Box::pin(async {})
    }
}
