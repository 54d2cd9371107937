//! How this run reaches the network, in words for Settings and the diagnostic summary.

/// The proxies in force (the same decision identity, Graph and EWS use), credentials removed, each
/// with the setting that named it.
pub fn proxy_summary() -> String {
    calconnect_core::network::network_summary().to_string()
}
