//! The sandbox's notion of "now", which tests can move forward instead of sleeping.

use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Wall clock plus an offset that only grows; every expiry check in the sandbox reads this clock.
#[derive(Debug, Default)]
pub struct Clock {
    offset: Mutex<Duration>,
}

impl Clock {
    /// A clock already `offset` ahead of the wall clock (restored from a state directory).
    pub fn with_offset(offset: Duration) -> Self {
        Self {
            offset: Mutex::new(offset.max(Duration::zero())),
        }
    }

    /// Current sandbox time.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset()
    }

    /// How far sandbox time is ahead of the wall clock.
    pub fn offset(&self) -> Duration {
        *self
            .offset
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Moves sandbox time forward, e.g. past an access token's `exp` or a device code's `interval`.
    pub fn advance(&self, by: std::time::Duration) {
        let by = Duration::from_std(by).unwrap_or(Duration::zero());
        *self
            .offset
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) += by;
    }
}

tokio::task_local! {
    /// Offset of the sandbox serving the current request.
    static SERVING_OFFSET: Duration;
}

/// Runs `future` (one request) on the sandbox time of `clock`, so that [`request_now`] reads it.
pub async fn serving<F: Future>(clock: &Clock, future: F) -> F::Output {
    SERVING_OFFSET.scope(clock.offset(), future).await
}

/// Sandbox time of the request being served, for code that renders a response without the state
/// (`IntoResponse` of error types). Outside [`serving`] it is the wall clock.
pub fn request_now() -> DateTime<Utc> {
    Utc::now()
        + SERVING_OFFSET
            .try_with(|offset| *offset)
            .unwrap_or_else(|_| Duration::zero())
}
