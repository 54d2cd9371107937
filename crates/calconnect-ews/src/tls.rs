//! The https client and the TLS verdict: which trust anchors are used (calconnect-identity's [`Trust`]), and
//! what exactly was wrong with a certificate that rustls refused (name mismatch, unknown issuer, expired, ...).

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use url::Url;

use calconnect_identity::proxy::{ProxyConfig, ProxyProblem};

use crate::endpoints::Endpoints;
use crate::error::{Error, Result};

/// Trust anchors for server certificates: calconnect's one trust set-up, shared with identity and Graph.
/// [`Trust::default`] is the bundled Mozilla roots **and** the operating system's trust store (so an
/// on-premises Exchange whose certificate comes from a CA the workstation trusts works as it does in
/// Outlook); [`Trust::with_ca_file`] adds an organisation's CA (`--ca-file`); [`Trust::only`] is the
/// emulator's CA alone.
pub use calconnect_identity::trust::{Trust, TrustError};

/// The root store `trust` makes ([`Trust::root_store`]), for connections this crate opens itself (NTLM's
/// in `connection.rs`). OS certificates that cannot be read or used are skipped and logged; a bad extra
/// PEM root is an [`Error::ClientSetup`].
pub fn root_store(trust: &Trust) -> Result<rustls::RootCertStore> {
    trust.root_store().map_err(setup_error)
}

/// A rustls client configuration trusting `trust` ([`Trust::client_config`]: the ring provider, TLS 1.2
/// and 1.3), offering `alpn`: what the pooled client uses with `h2` and `http/1.1`, and what NTLM's own
/// connections can use with `http/1.1` only (IIS refuses NTLM over HTTP/2).
pub fn client_config(trust: &Trust, alpn: &[&[u8]]) -> Result<rustls::ClientConfig> {
    trust.client_config(alpn).map_err(setup_error)
}

fn setup_error(error: TrustError) -> Error {
    Error::ClientSetup {
        detail: error.to_string(),
    }
}

/// Builds the client every request of a run goes through: no automatic redirects (credentials must never
/// follow a redirect unchecked), a per-request timeout, the given trust anchors, the host overrides of
/// `endpoints` ([`Endpoints::resolve`]) and the proxy [`ProxyConfig::system`] names for each request
/// (hosts pinned to an address are reached there directly, as NTLM's connections reach them).
pub fn http_client(
    trust: &Trust,
    request_timeout: Duration,
    endpoints: &Endpoints,
) -> Result<reqwest::Client> {
    builder(trust, request_timeout, endpoints)?
        .build()
        .map_err(|error| Error::ClientSetup {
            detail: error.to_string(),
        })
}

fn builder(
    trust: &Trust,
    request_timeout: Duration,
    endpoints: &Endpoints,
) -> Result<reqwest::ClientBuilder> {
    // One rustls configuration for reqwest and for NTLM's connections, so both trust the same roots.
    let tls = client_config(trust, &[b"h2", b"http/1.1"])?;
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(request_timeout)
        .connect_timeout(request_timeout)
        .user_agent(concat!("calconnect-ews/", env!("CARGO_PKG_VERSION")))
        .use_preconfigured_tls(tls);
    for (host, address) in endpoints.resolved() {
        builder = builder.resolve(host, *address);
    }
    let pinned = endpoints.clone();
    builder = builder.proxy(ProxyConfig::system().reqwest_proxy(move |url| pinned.is_pinned(url)));
    Ok(builder)
}

/// Names a failed connection or request to `url`: the proxy's refusal when a proxy refused, the
/// certificate problem when rustls refused one, else the error chain, flattened.
pub(crate) fn failure(url: &Url, operation: &str, error: &(dyn StdError + 'static)) -> Error {
    if let Some(problem) = ProxyProblem::find(error, url) {
        return Error::Proxy {
            operation: operation.into(),
            url: url.to_string(),
            problem: Box::new(problem),
        };
    }
    let host = url.host_str().unwrap_or_default();
    if let Some(problem) = classify(error, host) {
        return Error::Tls {
            url: url.to_string(),
            problem,
        };
    }
    let mut detail = error.to_string();
    let mut current = error.source();
    while let Some(layer) = current {
        detail.push_str(": ");
        detail.push_str(&layer.to_string());
        current = layer.source();
    }
    // rustls reports some certificate failures only as text through hyper's io errors.
    if let Some(problem) = TlsProblem::from_text(&detail, host) {
        return Error::Tls {
            url: url.to_string(),
            problem,
        };
    }
    Error::Transport {
        operation: operation.into(),
        url: url.to_string(),
        detail,
    }
}

/// Why a server certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TlsProblem {
    /// The certificate is not issued for the host name used.
    NotValidForName {
        /// The host connected to.
        host: String,
        /// The names the certificate is valid for.
        names: Vec<String>,
    },
    /// The chain does not end in a trusted root (self-signed or private CA not installed).
    UnknownIssuer,
    /// The certificate expired.
    Expired,
    /// The certificate is not valid yet.
    NotValidYet,
    /// The certificate was revoked.
    Revoked,
    /// A signature in the chain is wrong.
    BadSignature,
    /// Anything else rustls reported.
    Other {
        /// rustls' description.
        detail: String,
    },
}

impl fmt::Display for TlsProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotValidForName { host, names } if names.is_empty() => {
                write!(formatter, "the certificate is not valid for {host}")
            }
            Self::NotValidForName { host, names } => {
                write!(formatter, "the certificate is not valid for {host}; it is issued for {}", names.join(", "))
            }
            Self::UnknownIssuer => formatter.write_str(
                "the certificate chain does not lead to a trusted root (self-signed, or the issuing CA is not trusted on this workstation)",
            ),
            Self::Expired => formatter.write_str("the certificate has expired"),
            Self::NotValidYet => formatter.write_str("the certificate is not valid yet (check the clocks)"),
            Self::Revoked => formatter.write_str("the certificate was revoked"),
            Self::BadSignature => formatter.write_str("a signature in the certificate chain is invalid"),
            Self::Other { detail } => write!(formatter, "the certificate was refused: {detail}"),
        }
    }
}

/// Finds the rustls certificate error inside an error chain (reqwest's, hyper's or tokio-rustls'), if that
/// is what failed.
pub fn classify(error: &(dyn StdError + 'static), host: &str) -> Option<TlsProblem> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(layer) = current {
        if let Some(rustls_error) = layer.downcast_ref::<rustls::Error>() {
            return Some(from_rustls(rustls_error, host));
        }
        // io::Error::source() skips the wrapped error itself, so look inside explicitly.
        if let Some(io_error) = layer.downcast_ref::<std::io::Error>() {
            if let Some(rustls_error) = io_error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return Some(from_rustls(rustls_error, host));
            }
        }
        current = layer.source();
    }
    None
}

impl TlsProblem {
    /// Reads rustls' "invalid peer certificate: ..." text, for chains where the typed error is not reachable.
    pub(crate) fn from_text(detail: &str, host: &str) -> Option<Self> {
        let (_, full_reason) = detail.split_once("invalid peer certificate: ")?;
        // Later layers of the chain follow after ": "; the name list may itself contain colons (`::1`).
        let reason = full_reason.split(':').next().unwrap_or(full_reason).trim();
        let problem = if reason.starts_with("UnknownIssuer") {
            Self::UnknownIssuer
        } else if reason.starts_with("NotValidForName") || reason.contains("not valid for name") {
            Self::NotValidForName {
                host: host.to_owned(),
                names: presented_names(full_reason),
            }
        } else if reason.starts_with("Expired") || reason.contains("expired") {
            Self::Expired
        } else if reason.starts_with("NotValidYet") || reason.contains("not valid yet") {
            Self::NotValidYet
        } else if reason.starts_with("Revoked") {
            Self::Revoked
        } else if reason.starts_with("BadSignature") {
            Self::BadSignature
        } else {
            Self::Other {
                detail: reason.to_owned(),
            }
        };
        Some(problem)
    }
}

/// The names of rustls' name-mismatch text (`certificate not valid for name "a"; certificate is only valid
/// for DnsName("b"), IpAddress(127.0.0.1) or ...`), without their wrappers.
fn presented_names(reason: &str) -> Vec<String> {
    let Some((_, names)) = reason.split_once("is only valid for ") else {
        return Vec::new();
    };
    names
        .split(", ")
        .flat_map(|part| part.split(" or "))
        .map(presented_name)
        .filter(|name| !name.is_empty())
        .collect()
}

/// `DnsName("mail.contoso.com")` → `mail.contoso.com`, `IpAddress(127.0.0.1)` → `127.0.0.1`.
fn presented_name(name: &str) -> String {
    let name = name.trim();
    let inner = match name.split_once('(') {
        Some((_, rest)) if name.ends_with(')') => &rest[..rest.len() - 1],
        _ => name,
    };
    inner.trim_matches('"').to_owned()
}

fn from_rustls(error: &rustls::Error, host: &str) -> TlsProblem {
    use rustls::CertificateError;
    match error {
        rustls::Error::InvalidCertificate(certificate_error) => match certificate_error {
            CertificateError::NotValidForName => TlsProblem::NotValidForName {
                host: host.to_owned(),
                names: Vec::new(),
            },
            CertificateError::NotValidForNameContext { presented, .. } => {
                TlsProblem::NotValidForName {
                    host: host.to_owned(),
                    names: presented.iter().map(|name| presented_name(name)).collect(),
                }
            }
            CertificateError::UnknownIssuer => TlsProblem::UnknownIssuer,
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsProblem::Expired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsProblem::NotValidYet
            }
            CertificateError::Revoked => TlsProblem::Revoked,
            CertificateError::BadSignature => TlsProblem::BadSignature,
            other => TlsProblem::Other {
                detail: format!("{other:?}"),
            },
        },
        other => TlsProblem::Other {
            detail: other.to_string(),
        },
    }
}

/// What a proxy between users and Microsoft 365 must let through ("Microsoft 365 URLs and IP address
/// ranges"), for a proxy that refused a request.
pub const PROXY_DOC: &str =
    "https://learn.microsoft.com/en-us/microsoft-365/enterprise/urls-and-ip-address-ranges";

/// The doc page for certificate problems with Exchange.
pub const TLS_DOC: &str =
    "https://learn.microsoft.com/en-us/exchange/architecture/client-access/certificates";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_mismatch_names_the_host_and_the_certificate_names() {
        let problem = from_rustls(
            &rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
                expected: rustls::pki_types::ServerName::try_from("mail.contoso.com")
                    .unwrap()
                    .to_owned(),
                presented: vec!["DnsName(\"localhost\")".into()],
            }),
            "mail.contoso.com",
        );
        let text = problem.to_string();
        assert!(
            text.contains("mail.contoso.com") && text.contains("localhost"),
            "{text}"
        );
    }

    #[test]
    fn rustls_text_is_classified_when_the_typed_error_is_hidden() {
        let text = "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer";
        assert_eq!(
            TlsProblem::from_text(text, "x"),
            Some(TlsProblem::UnknownIssuer)
        );
        assert_eq!(TlsProblem::from_text("connection refused", "x"), None);
    }

    #[test]
    fn name_mismatch_text_yields_the_certificate_names_without_the_expected_one() {
        let text = r#"invalid peer certificate: certificate not valid for name "mail.contoso.com"; certificate is only valid for IpAddress(127.0.0.1), DnsName("localhost") or IpAddress(::1)"#;
        assert_eq!(
            TlsProblem::from_text(text, "mail.contoso.com"),
            Some(TlsProblem::NotValidForName {
                host: "mail.contoso.com".into(),
                names: vec!["127.0.0.1".into(), "localhost".into(), "::1".into()],
            })
        );
    }

    #[test]
    fn unknown_issuer_is_recognised() {
        let problem = from_rustls(
            &rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
            "x",
        );
        assert_eq!(problem, TlsProblem::UnknownIssuer);
    }
}
