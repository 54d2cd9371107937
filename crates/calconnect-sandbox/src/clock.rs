//! The sandbox's notion of "now", which tests can move forward instead of sleeping.

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
