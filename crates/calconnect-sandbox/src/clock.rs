//! The sandbox's notion of "now", which tests can move forward instead of sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Wall clock plus an offset that only grows; every expiry check in the sandbox reads this clock.
#[derive(Debug, Default)]
pub struct Clock {
    offset: Mutex<Duration>,
}

impl Clock {
    /// Current sandbox time.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
            + *self
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
