//! The HTTP client every calconnect network call goes through, and the rule for which URLs it may call.

use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::proxy::ProxyConfig;
use crate::trust::Trust;

/// Builds the reqwest client for identity and Graph calls, trusting what `trust` names ([`Trust::default`]:
/// the bundled roots and the OS trust store; the sandbox's or an organisation's CA can be added).
///
/// Redirects are never followed: an OAuth endpoint that redirects is misconfigured, and following it could
/// leak a code or token to another host (oauth2-rs's advice). TLS verification stays on. Requests go
/// through the proxy [`ProxyConfig::system`] names for them (none for loopback).
pub fn http_client(trust: &Trust) -> Result<reqwest::Client> {
    // The same rustls set-up as EWS ([`Trust::client_config`]), offering HTTP/2 and HTTP/1.1 as reqwest's
    // own configuration would.
    let tls = trust.client_config(&[b"h2", b"http/1.1"])?;
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("calconnect/", env!("CARGO_PKG_VERSION")))
        .use_preconfigured_tls(tls)
        // The one proxy decision of calconnect, instead of reqwest's own reading of the environment.
        .proxy(ProxyConfig::system().reqwest_proxy(|_| false))
        .build()
        .map_err(|source| Error::HttpClient { source })
}

/// Whether `host` names the local machine (the only hosts allowed over plain `http://`).
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(address) => address.is_loopback(),
        url::Host::Ipv6(address) => address.is_loopback(),
    }
}

/// Accepts `https://` URLs, and `http://` only for loopback addresses (127.0.0.1, ::1, localhost).
pub fn ensure_secure_url(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host().as_ref().is_some_and(is_loopback_host) => Ok(()),
        _ => Err(Error::InsecureUrl {
            url: url.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted_and_remote_http_is_rejected() {
        for ok in [
            "https://login.microsoftonline.com/",
            "http://127.0.0.1:8080/",
            "http://localhost/x",
            "http://[::1]:3/",
        ] {
            assert!(
                ensure_secure_url(&Url::parse(ok).unwrap()).is_ok(),
                "{ok} should be allowed"
            );
        }
        for bad in [
            "http://login.microsoftonline.com/",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "http://localhost.evil.com/",
        ] {
            assert!(
                matches!(
                    ensure_secure_url(&Url::parse(bad).unwrap()),
                    Err(Error::InsecureUrl { .. })
                ),
                "{bad} should be rejected"
            );
        }
    }
}
