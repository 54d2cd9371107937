//! Where requests really go. The test reasons about logical URLs (`https://contoso.com/…`,
//! `https://autodiscover.contoso.com/…`); [`Endpoints`] maps their origins to other base URLs so that
//! tests and demos reach a local emulator without DNS, and can forbid every other host.

use std::net::SocketAddr;

use url::Url;

use crate::error::{Error, Result};

/// Origin-to-base-URL routes and host-to-address overrides, plus whether unrouted non-loopback hosts are refused.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    routes: Vec<(String, Url)>,
    /// Host names resolved to fixed addresses (lowercase host, address).
    resolved: Vec<(String, SocketAddr)>,
    offline: bool,
}

impl Endpoints {
    /// Every URL goes where it says (production).
    pub fn direct() -> Self {
        Self::default()
    }

    /// Only routed origins and loopback URLs are reachable; anything else fails at once without network access.
    pub fn offline() -> Self {
        Self {
            routes: Vec::new(),
            resolved: Vec::new(),
            offline: true,
        }
    }

    /// Connects to `address` whenever a URL names `host`, like an entry in the hosts file: unlike
    /// [`Endpoints::route`] the URL is untouched, so TLS SNI and certificate name checks use `host`. As with
    /// DNS, the port comes from the URL (`reqwest::ClientBuilder::resolve` ignores the address's port).
    pub fn resolve(mut self, host: &str, address: SocketAddr) -> Self {
        self.resolved.push((host.to_ascii_lowercase(), address));
        self
    }

    /// The host overrides, for the https client ([`crate::tls::http_client`]).
    pub fn resolved(&self) -> &[(String, SocketAddr)] {
        &self.resolved
    }

    /// The address `url`'s host is pinned to ([`Endpoints::resolve`]), if it is.
    pub fn pinned_address(&self, url: &Url) -> Option<SocketAddr> {
        let host = url.host_str()?;
        self.resolved
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(host))
            .map(|(_, address)| *address)
    }

    /// Whether `url`'s host is pinned to an address: such a host is reached at that address directly,
    /// never through a proxy (which would resolve the name itself and miss the pin).
    pub fn is_pinned(&self, url: &Url) -> bool {
        self.pinned_address(url).is_some()
    }

    /// Sends requests for `origin` (e.g. `https://contoso.com/`) to `base` (e.g. `https://127.0.0.1:4431/`).
    pub fn route(mut self, origin: &str, base: &str) -> Result<Self> {
        let origin_url = parse(origin)?;
        let base_url = parse(base)?;
        self.routes.push((origin_key(&origin_url), base_url));
        Ok(self)
    }

    /// The URL a request for `logical` is sent to.
    pub fn target(&self, logical: &Url) -> Result<Url> {
        let key = origin_key(logical);
        if let Some((_, base)) = self.routes.iter().find(|(origin, _)| *origin == key) {
            let mut target = base.clone();
            let path = format!("{}{}", base.path().trim_end_matches('/'), logical.path());
            target.set_path(&path);
            target.set_query(logical.query());
            return Ok(target);
        }
        let resolved = logical.host_str().is_some_and(|host| {
            self.resolved
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(host))
        });
        if self.offline && !is_loopback(logical) && !resolved {
            return Err(Error::Unreachable {
                url: logical.to_string(),
            });
        }
        Ok(logical.clone())
    }
}

/// `true` for `localhost` and loopback IP literals.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// Credentials only travel over https, or over http to this machine (the emulator).
pub fn ensure_secure(url: &Url) -> Result<()> {
    if url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url)) {
        Ok(())
    } else {
        Err(Error::InsecureUrl {
            url: url.to_string(),
        })
    }
}

pub(crate) fn parse(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|source| Error::InvalidUrl {
        url: url.to_owned(),
        source,
    })
}

fn origin_key(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routed_origins_keep_path_and_query() {
        let endpoints = Endpoints::offline()
            .route("https://contoso.com/", "http://127.0.0.1:8080/")
            .unwrap();
        let target = endpoints
            .target(&parse("https://contoso.com/autodiscover/autodiscover.xml?x=1").unwrap())
            .unwrap();
        assert_eq!(
            target.as_str(),
            "http://127.0.0.1:8080/autodiscover/autodiscover.xml?x=1"
        );
    }

    #[test]
    fn offline_endpoints_refuse_unrouted_internet_hosts_but_allow_loopback() {
        let endpoints = Endpoints::offline();
        assert!(matches!(
            endpoints.target(&parse("https://outlook.office365.com/EWS/Exchange.asmx").unwrap()),
            Err(Error::Unreachable { .. })
        ));
        assert!(endpoints
            .target(&parse("http://127.0.0.1:9/EWS/Exchange.asmx").unwrap())
            .is_ok());
    }

    #[test]
    fn plain_http_is_refused_for_anything_but_loopback() {
        assert!(
            ensure_secure(&parse("http://mail.contoso.com/EWS/Exchange.asmx").unwrap()).is_err()
        );
        assert!(ensure_secure(&parse("http://localhost:1234/EWS/Exchange.asmx").unwrap()).is_ok());
        assert!(
            ensure_secure(&parse("https://mail.contoso.com/EWS/Exchange.asmx").unwrap()).is_ok()
        );
    }
}
