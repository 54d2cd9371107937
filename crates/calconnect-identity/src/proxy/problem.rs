//! What a proxy refused, found in a failed request's error chain, with a plain message and a next step.
//!
//! Both reqwest and the EWS crate's NTLM connections open tunnels with hyper-util's `Tunnel`, whose
//! error type is not exported: its text (`tunnel error: proxy authorization required`, …) is what can be
//! matched, as `calconnect_ews::tls` matches rustls' text. The tests of this module run a real tunnel
//! against proxies that refuse, so a change of that text fails them.

use std::error::Error as StdError;
use std::fmt;

use serde::Serialize;
use url::Url;

use super::{ProxyConfig, ProxyRoute};

/// What went wrong at the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyProblemKind {
    /// HTTP 407: the proxy wants credentials, or refused the ones in its URL.
    AuthenticationRequired,
    /// The proxy could not be connected to (wrong address, not running, blocked).
    Unreachable,
    /// The proxy answered the CONNECT with something other than 200 (a policy refusing the
    /// destination), or closed the connection.
    Refused,
}

/// A request that failed at its proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyProblem {
    /// What went wrong.
    pub kind: ProxyProblemKind,
    /// The proxy and where it was configured, e.g. `http://proxy.corp:8080 (from HTTPS_PROXY)`; never
    /// its credentials.
    pub proxy: String,
    /// The setting that named the proxy (`HTTPS_PROXY`, …).
    pub origin: String,
    /// The destination the tunnel was for: `host:port`.
    pub destination: String,
    /// Whether the proxy URL carried a user name and password.
    pub credentials: bool,
}

impl ProxyProblem {
    /// The proxy failure inside `error`, a failed request to `url` through [`ProxyConfig::system`] (the
    /// URL of a reqwest error inside the chain is preferred: it is where the request really went).
    pub fn find(error: &(dyn StdError + 'static), url: &Url) -> Option<Self> {
        let kind = tunnel_failure(error)?;
        let request_url = chain(error)
            .find_map(|layer| layer.downcast_ref::<reqwest::Error>()?.url().cloned())
            .unwrap_or_else(|| url.clone());
        let route = ProxyConfig::system().route(&request_url)?;
        Some(Self::new(kind, &route, &request_url))
    }

    /// The proxy failure inside `error`, a failed tunnel through `route` to `destination`.
    pub fn from_tunnel(
        error: &(dyn StdError + 'static),
        route: &ProxyRoute,
        destination: &Url,
    ) -> Option<Self> {
        tunnel_failure(error).map(|kind| Self::new(kind, route, destination))
    }

    fn new(kind: ProxyProblemKind, route: &ProxyRoute, destination: &Url) -> Self {
        Self {
            kind,
            proxy: route.to_string(),
            origin: route.origin().to_owned(),
            destination: format!(
                "{}:{}",
                destination.host_str().unwrap_or_default(),
                destination.port_or_known_default().unwrap_or(443)
            ),
            credentials: route.authorization().is_some(),
        }
    }

    /// A plain sentence: what the proxy did.
    pub fn message(&self) -> String {
        let Self {
            proxy, destination, ..
        } = self;
        match self.kind {
            ProxyProblemKind::AuthenticationRequired if self.credentials => format!(
                "The proxy {proxy} refused the user name and password in its proxy URL (HTTP 407) and did not connect to {destination}."
            ),
            ProxyProblemKind::AuthenticationRequired => format!(
                "The proxy {proxy} asks for authentication (HTTP 407) before it connects to {destination}."
            ),
            ProxyProblemKind::Unreachable => {
                format!("calconnect could not connect to the proxy {proxy}.")
            }
            ProxyProblemKind::Refused => {
                format!("The proxy {proxy} refused to open a connection to {destination}.")
            }
        }
    }

    /// What to do about it.
    pub fn next_step(&self) -> String {
        let origin = &self.origin;
        let host = self
            .destination
            .rsplit_once(':')
            .map_or(self.destination.as_str(), |(host, _)| host);
        match self.kind {
            ProxyProblemKind::AuthenticationRequired if self.credentials => format!(
                "Check the user name and password in {origin} (special characters percent-encoded). calconnect answers a proxy with Basic authentication only; if it wants Windows sign-in (NTLM or Kerberos), ask your network team to let {host} through without authentication."
            ),
            ProxyProblemKind::AuthenticationRequired => format!(
                "calconnect supports proxies that need no authentication, or Basic authentication with the user name and password in the proxy URL (for example HTTPS_PROXY=http://user:password@proxy.example:8080). If the proxy wants Windows sign-in (NTLM or Kerberos), ask your network team to let {host} through without authentication."
            ),
            ProxyProblemKind::Unreachable => format!(
                "Check the proxy address in {origin} and that the proxy is running; if {host} is reachable without a proxy, add it to NO_PROXY."
            ),
            ProxyProblemKind::Refused => format!(
                "Ask your network team to allow {host} through the proxy, or add it to NO_PROXY if this computer reaches it directly."
            ),
        }
    }
}

impl fmt::Display for ProxyProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.message(), self.next_step())
    }
}

fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |layer: &&'a (dyn StdError + 'static)| {
        (*layer).source()
    })
}

/// hyper-util's tunnel error in the chain, by its text (`tunnel error: …`).
fn tunnel_failure(error: &(dyn StdError + 'static)) -> Option<ProxyProblemKind> {
    chain(error).find_map(|layer| {
        let text = layer.to_string();
        let reason = text.strip_prefix("tunnel error: ")?;
        Some(if reason.starts_with("proxy authorization required") {
            ProxyProblemKind::AuthenticationRequired
        } else if reason.starts_with("failed to create underlying connection") {
            ProxyProblemKind::Unreachable
        } else {
            ProxyProblemKind::Refused
        })
    })
}
