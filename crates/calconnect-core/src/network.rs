//! How calconnect reaches the network, for a Settings page or `calconnect network`: the proxy every
//! request goes through (or none) and where that setting came from, without credentials.

pub use calconnect_identity::proxy::{ProxyEntry, ProxySource, ProxySummary};

/// The proxies in force for this process ([`calconnect_identity::ProxyConfig::system`], read once):
/// per destination scheme the proxy and the setting that named it, the exceptions, and notes on what
/// was ignored. Its `Display` is one line, e.g. `https: http://proxy.corp:8080 (from HTTPS_PROXY);
/// http: direct; bypass: .corp (from NO_PROXY); loopback addresses … are always reached directly`.
pub fn network_summary() -> ProxySummary {
    calconnect_identity::ProxyConfig::system().summary().clone()
}
