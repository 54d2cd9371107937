//! The HTTP client every calconnect network call goes through, and the rule for which URLs it may call.

use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};

/// Builds the reqwest client for identity and Graph calls.
///
/// Redirects are never followed: an OAuth endpoint that redirects is misconfigured, and following it could
/// leak a code or token to another host (oauth2-rs's advice). TLS verification stays on; `extra_ca_pem`
/// adds one more trusted root (the sandbox's own CA) next to the Web PKI roots.
pub fn http_client(extra_ca_pem: Option<&[u8]>) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("calconnect/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = extra_ca_pem {
        let certificate =
            reqwest::Certificate::from_pem(pem).map_err(|source| Error::HttpClient { source })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
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
