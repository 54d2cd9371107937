//! Injected time: polling loops ask a [`Clock`] for "now" and a [`Sleeper`] to wait, so tests run in milliseconds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// `now + after`, with `after` cut to `at_most` first. Never panics: a server's `expires_in` of
/// 18446744073709551615 seconds becomes `at_most`, and an instant past chrono's range (only with a clock
/// near it) is `now`, i.e. already expired, the safe reading.
pub(crate) fn deadline(now: DateTime<Utc>, after: Duration, at_most: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(after.min(at_most))
        .ok()
        .and_then(|after| now.checked_add_signed(after))
        .unwrap_or(now)
}

/// The current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Waits for a while.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Sleeps on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when something sleeps on it, and records every sleep.
///
/// For tests: a device-code poll that would take 15 minutes finishes at once, and the recorded sleeps
/// show the intervals the loop chose.
#[derive(Debug, Clone)]
pub struct ManualTime {
    inner: Arc<Mutex<ManualTimeState>>,
}

#[derive(Debug)]
struct ManualTimeState {
    now: DateTime<Utc>,
    sleeps: Vec<Duration>,
}

impl ManualTime {
    pub fn starting_at(now: DateTime<Utc>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(ManualTimeState {
                now,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Moves the clock forward without a sleep.
    pub fn advance(&self, duration: Duration) {
        let mut state = self.lock();
        state.now = deadline(state.now, duration, Duration::MAX);
    }

    /// Every duration slept so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ManualTimeState> {
        // A poisoned lock only means another test thread panicked; the time value is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for ManualTime {
    fn now(&self) -> DateTime<Utc> {
        self.lock().now
    }
}

impl Sleeper for ManualTime {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        {
            let mut state = self.lock();
            state.sleeps.push(duration);
            state.now = deadline(state.now, duration, Duration::MAX);
        }
        Box::pin(tokio::task::yield_now())
    }
}
