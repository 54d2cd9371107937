//! The loopback redirect URI an app registration lists, and the one a sign-in sends with its port.
//!
//! Entra matches `localhost` redirect URIs without their port ("the port component … is ignored for the
//! purposes of matching a redirect URI"), but the scheme and path must match and `[::1]` is not supported
//! (<https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions>). So a sign-in sends
//! the registered URI exactly as it is written, with only the listener's port added: `http://localhost`
//! becomes `http://localhost:PORT` (no slash added), `http://localhost/callback` becomes
//! `http://localhost:PORT/callback`. The same string goes to the token endpoint, which compares it with the
//! authorize request's. A URI without a path comes back with a trailing slash (same page, same reply-url
//! article), which the listener takes as the same path.

use std::net::Ipv4Addr;

use url::{Host, Url};

use crate::error::{Error, Result};

/// What the Microsoft Entra portal registers for "Mobile and desktop applications" (it refuses
/// `http://127.0.0.1`, which only the manifest's `replyUrlsWithType` can add), and what the sandbox's demo
/// apps list.
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost";

/// Which loopback name the registered redirect URI uses; it decides which addresses the listener binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopbackHost {
    /// `localhost`: a browser may resolve it to `127.0.0.1` or `::1`, so both are bound.
    Localhost,
    /// `127.0.0.1`: only the IPv4 loopback is reached.
    Ipv4,
}

/// A registered loopback redirect URI: `http`, host `localhost` or `127.0.0.1`, any path, no query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredRedirect {
    host: LoopbackHost,
    /// The path exactly as registered (`""` when the URI has none).
    path: String,
}

impl Default for RegisteredRedirect {
    fn default() -> Self {
        Self {
            host: LoopbackHost::Localhost,
            path: String::new(),
        }
    }
}

impl RegisteredRedirect {
    /// Reads a redirect URI as the app registration lists it. A port in it is ignored, as Entra ignores it.
    pub fn parse(uri: &str) -> Result<Self> {
        let uri = uri.trim();
        let invalid = |reason: &'static str| Error::InvalidRedirectUri {
            uri: uri.to_owned(),
            reason,
        };
        let url = Url::parse(uri).map_err(|_| invalid("it is not a URL"))?;
        if url.scheme() != "http" {
            return Err(invalid(
                "calconnect receives the sign-in on a plain http loopback listener: register http://localhost",
            ));
        }
        let host = match url.host() {
            Some(Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
                LoopbackHost::Localhost
            }
            Some(Host::Ipv4(address)) if address == Ipv4Addr::LOCALHOST => LoopbackHost::Ipv4,
            Some(Host::Ipv6(_)) => {
                return Err(invalid(
                    "Microsoft Entra does not support the IPv6 loopback [::1] in redirect URIs",
                ))
            }
            _ => return Err(invalid("the host must be localhost or 127.0.0.1")),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("a redirect URI carries no user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "calconnect does not support a query or fragment in the redirect URI",
            ));
        }
        // The path as written: Entra compares the string, so `Url`'s normalisation must not change it.
        let after_scheme = &uri["http://".len()..];
        let path = after_scheme
            .find('/')
            .map_or("", |start| &after_scheme[start..]);
        Ok(Self {
            host,
            path: path.to_owned(),
        })
    }

    pub fn host(&self) -> LoopbackHost {
        self.host
    }

    fn host_name(&self) -> &'static str {
        match self.host {
            LoopbackHost::Localhost => "localhost",
            LoopbackHost::Ipv4 => "127.0.0.1",
        }
    }

    /// The URI sent in the authorize and token requests: the registered one with `port` added.
    pub fn with_port(&self, port: u16) -> String {
        format!("http://{}:{port}{}", self.host_name(), self.path)
    }

    /// The registered URI itself (for the admin-consent link's `redirect_uri`).
    pub fn registered(&self) -> String {
        format!("http://{}{}", self.host_name(), self.path)
    }

    /// The path the browser's request arrives on, normalised as `url` normalises a request target
    /// (`""` becomes `/`).
    pub(crate) fn callback_path(&self) -> String {
        Url::parse(&self.with_port(1))
            .map(|url| url.path().to_owned())
            .unwrap_or_else(|_| "/".to_owned())
    }
}

impl std::fmt::Display for RegisteredRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.registered())
    }
}

impl std::str::FromStr for RegisteredRedirect {
    type Err = Error;

    fn from_str(uri: &str) -> Result<Self> {
        Self::parse(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_added_to_the_registered_uri_and_nothing_else_changes() {
        let bare = RegisteredRedirect::parse(DEFAULT_REDIRECT_URI).unwrap();
        assert_eq!(bare.with_port(53124), "http://localhost:53124");
        assert_eq!(bare.callback_path(), "/");
        let slash = RegisteredRedirect::parse("http://localhost/").unwrap();
        assert_eq!(slash.with_port(53124), "http://localhost:53124/");
        let path = RegisteredRedirect::parse("http://LOCALHOST:7071/Callback").unwrap();
        assert_eq!(path.with_port(1), "http://localhost:1/Callback");
        assert_eq!(path.callback_path(), "/Callback");
        assert_eq!(path.registered(), "http://localhost/Callback");
        let literal = RegisteredRedirect::parse("http://127.0.0.1").unwrap();
        assert_eq!(literal.host(), LoopbackHost::Ipv4);
        assert_eq!(literal.with_port(2), "http://127.0.0.1:2");
    }

    #[test]
    fn uris_the_listener_cannot_serve_are_refused_with_the_reason() {
        for (uri, reason) in [
            ("https://localhost", "plain http"),
            ("http://[::1]", "[::1]"),
            ("http://example.com", "localhost or 127.0.0.1"),
            ("http://127.0.0.2", "localhost or 127.0.0.1"),
            ("http://localhost/?a=b", "query"),
            ("localhost", "not a URL"),
        ] {
            let error = RegisteredRedirect::parse(uri).unwrap_err().to_string();
            assert!(error.contains(reason), "{uri}: {error}");
        }
    }
}
