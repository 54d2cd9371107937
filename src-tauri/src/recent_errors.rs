//! The last few errors the person saw, for Settings' "Copy diagnostic info": what a helpdesk asks
//! first. Only [`IpcError`](crate::ipc::error::IpcError) messages are kept, which never hold a secret.

use std::collections::VecDeque;
use std::sync::Mutex;

const KEPT: usize = 10;

static RECENT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// Remembers an error shown to the person (and logs it).
pub fn record(code: &str, message: &str) {
    tracing::warn!(code, message, "error shown");
    let line = format!(
        "{} {code}: {message}",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    let mut recent = RECENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if recent.len() == KEPT {
        recent.pop_front();
    }
    recent.push_back(line);
}

/// The remembered errors, oldest first.
pub fn snapshot() -> Vec<String> {
    RECENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
        .cloned()
        .collect()
}
