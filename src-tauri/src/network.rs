//! How this run reaches the network, in words for Settings and the diagnostic summary.

/// The proxy in use, with any user name or password in its URL removed.
pub fn proxy_summary() -> String {
    "none: calconnect connects directly".to_owned()
}
