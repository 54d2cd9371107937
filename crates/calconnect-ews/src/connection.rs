//! One HTTP/1.1 connection opened and driven by the client itself, for NTLM: it authenticates the
//! connection, not the request, so the NEGOTIATE request, the CHALLENGE (HTTP 401) and the AUTHENTICATE
//! request must share one TCP/TLS connection ([MS-NTHT], RFC 4559). A pooling client cannot promise
//! that; a [`Connection`] can, since nothing else ever sends on it.
//!
//! A [`Connection`] also keeps the leaf certificate its TLS handshake got
//! ([`Connection::peer_certificate`]): NTLM's channel binding (Extended Protection) must name the
//! certificate of the very connection the AUTHENTICATE_MESSAGE goes out on, never one fetched separately.
//!
//! The trust anchors, the ring provider, the [`Endpoints`] and the proxy ([`ProxyConfig::system`]) are
//! those of the rest of the run, so a certificate refused here is refused (and explained) exactly as by
//! [`crate::tls::http_client`]. Through a proxy the connection is a CONNECT tunnel with TLS inside it:
//! the handshake, hence the certificate the channel binding names, is still the Exchange server's.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use calconnect_identity::proxy::{ProxyConfig, ProxyProblem, ProxyRoute};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, HOST, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tower::ServiceExt as _;
use url::Url;

use crate::body::{read_incoming, too_large, IncomingError, MAX_BODY_BYTES};
use crate::endpoints::Endpoints;
use crate::error::{Error, Result};
use crate::tls::{failure, Trust};

const USER_AGENT_VALUE: &str = concat!("calconnect-ews/", env!("CARGO_PKG_VERSION"));

/// Opens [`Connection`]s where [`Endpoints`] send a URL, trusting what [`Trust`] says.
#[derive(Clone)]
pub struct Connector {
    tls: TlsConnector,
    endpoints: Endpoints,
    timeout: Duration,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Connector")
            .field("endpoints", &self.endpoints)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// A connector with the run's trust anchors, routes and host overrides; `request_timeout` bounds the
    /// connection setup and each request (as [`crate::tls::http_client`]'s timeout does).
    pub fn new(trust: &Trust, request_timeout: Duration, endpoints: &Endpoints) -> Result<Self> {
        Ok(Self {
            tls: TlsConnector::from(Arc::new(client_config(trust)?)),
            endpoints: endpoints.clone(),
            timeout: request_timeout,
        })
    }

    /// Where requests go (shared with the pooled client of the run).
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Connects to `target` (already routed by [`Endpoints::target`]): TCP to the host, to the address
    /// [`Endpoints::resolve`] gives for it, or through the proxy's CONNECT tunnel, then TLS with SNI and
    /// the certificate checked against the host for `https`. `url` (the logical URL) and `operation`
    /// name the failure.
    pub async fn open(&self, target: &Url, url: &Url, operation: &str) -> Result<Connection> {
        match tokio::time::timeout(self.timeout, self.establish(target, url, operation)).await {
            Ok(connection) => connection,
            Err(_) => Err(Error::Timeout {
                operation: operation.into(),
                url: url.to_string(),
            }),
        }
    }

    async fn establish(&self, target: &Url, url: &Url, operation: &str) -> Result<Connection> {
        let fail = |error: &(dyn StdError + 'static)| failure(url, operation, error);
        let host = target.host().ok_or_else(|| Error::Transport {
            operation: operation.into(),
            url: url.to_string(),
            detail: format!("{target} names no host"),
        })?;
        let port = target.port_or_known_default().unwrap_or(443);
        let tcp = match self.proxy_route(target) {
            Some(route) => tunnel(&route, target, url, operation).await?,
            None => match self.resolved(target) {
                // As with DNS, the port is the URL's (see Endpoints::resolve).
                Some(address) => TcpStream::connect(SocketAddr::new(address.ip(), port)).await,
                None => match &host {
                    url::Host::Domain(domain) => TcpStream::connect((*domain, port)).await,
                    url::Host::Ipv4(address) => TcpStream::connect((*address, port)).await,
                    url::Host::Ipv6(address) => TcpStream::connect((*address, port)).await,
                },
            }
            .map_err(|error| fail(&error))?,
        };
        // Small requests, one after another: waiting for the previous ACK only adds latency.
        let _ = tcp.set_nodelay(true);
        let (sender, driver, peer_certificate) = if target.scheme() == "https" {
            let name = match host {
                url::Host::Domain(domain) => ServerName::try_from(domain.to_owned()),
                url::Host::Ipv4(address) => Ok(ServerName::from(std::net::IpAddr::V4(address))),
                url::Host::Ipv6(address) => Ok(ServerName::from(std::net::IpAddr::V6(address))),
            }
            .map_err(|error| fail(&error))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|error| fail(&error))?;
            // The end-entity certificate comes first (RFC 8446 4.4.2); rustls verified the chain.
            let peer_certificate = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(<[CertificateDer<'_>]>::first)
                .map(|certificate| certificate.clone().into_owned());
            let (sender, connection) = http1::handshake(TokioIo::new(tls))
                .await
                .map_err(|error| fail(&error))?;
            (sender, tokio::spawn(drive(connection)), peer_certificate)
        } else {
            let (sender, connection) = http1::handshake(TokioIo::new(tcp))
                .await
                .map_err(|error| fail(&error))?;
            (sender, tokio::spawn(drive(connection)), None)
        };
        Ok(Connection {
            sender,
            driver,
            peer_certificate,
            authority: authority(target),
            timeout: self.timeout,
        })
    }

    fn resolved(&self, target: &Url) -> Option<SocketAddr> {
        self.endpoints.pinned_address(target)
    }

    /// The proxy of an https `target`, as the pooled client decides it ([`ProxyConfig::system`]); none
    /// for a host pinned to an address, and none over plain http (which only loopback may use, and
    /// loopback is always direct).
    fn proxy_route(&self, target: &Url) -> Option<ProxyRoute> {
        if target.scheme() != "https" || self.endpoints.is_pinned(target) {
            return None;
        }
        ProxyConfig::system().route(target)
    }
}

/// A TCP stream to `target` through `route`'s proxy: `CONNECT host:port` (with the proxy URL's Basic
/// credentials), answered 200, after which the stream carries the TLS handshake with the server itself,
/// so the certificate (and NTLM's channel binding) is the server's, end to end. hyper-util's `Tunnel`
/// is what reqwest opens its tunnels with, so both clients speak to the proxy alike.
async fn tunnel(route: &ProxyRoute, target: &Url, url: &Url, operation: &str) -> Result<TcpStream> {
    let destination: Uri = format!(
        "https://{}/",
        authority_with_port(target).unwrap_or_default()
    )
    .parse()
    .map_err(|error| Error::Transport {
        operation: operation.into(),
        url: url.to_string(),
        detail: format!("{target} cannot be tunnelled to: {error}"),
    })?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let mut tunnel = Tunnel::new(route.uri().clone(), connector);
    if let Some(authorization) = route.authorization() {
        tunnel = tunnel.with_auth(authorization.clone());
    }
    match tunnel.oneshot(destination).await {
        Ok(stream) => Ok(stream.into_inner()),
        Err(error) => Err(match ProxyProblem::from_tunnel(&error, route, target) {
            Some(problem) => Error::Proxy {
                operation: operation.into(),
                url: url.to_string(),
                problem: Box::new(problem),
            },
            None => failure(url, operation, &error),
        }),
    }
}

/// `host:port` with the port always written (CONNECT's authority form, RFC 9110 9.3.6).
fn authority_with_port(target: &Url) -> Option<String> {
    let port = target.port_or_known_default()?;
    Some(match target.host()? {
        url::Host::Ipv6(address) => format!("[{address}]:{port}"),
        host => format!("{host}:{port}"),
    })
}

/// Runs the connection until its [`SendRequest`] is gone or the peer closes it.
async fn drive<T>(connection: http1::Connection<T, Full<Bytes>>)
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    if let Err(error) = connection.await {
        tracing::debug!(%error, "ews connection ended with an error");
    }
}

/// A response read to its end.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers (`WWW-Authenticate` carries an NTLM CHALLENGE).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// One open HTTP/1.1 connection; requests on it go out one at a time, in order.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
    /// The leaf certificate the TLS handshake got (DER); `None` over plain HTTP.
    peer_certificate: Option<CertificateDer<'static>>,
    /// `Host` of every request: the target's host and non-default port.
    authority: String,
    timeout: Duration,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Connection")
            .field("authority", &self.authority)
            .field("tls", &self.peer_certificate.is_some())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The server's leaf certificate (DER) as this connection's TLS handshake received it, for the
    /// channel binding of an NTLM handshake on this connection; `None` over plain HTTP.
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        self.peer_certificate.as_deref()
    }

    /// Whether another request may go out on this connection now: the last response was read to its
    /// end and neither side closed the connection (`Connection: close`, an idle timeout).
    pub fn is_reusable(&self) -> bool {
        self.sender.is_ready() && !self.driver.is_finished()
    }

    /// POSTs `body` to `target` with `headers` and reads the whole response (at most
    /// [`MAX_BODY_BYTES`]), within the request timeout.
    pub async fn post(
        &mut self,
        target: &Url,
        headers: HeaderMap,
        body: Vec<u8>,
        url: &Url,
        operation: &str,
    ) -> Result<Reply> {
        // Origin form: the request line carries only path and query (RFC 9112 3.2.1).
        let path = match target.query() {
            Some(query) => format!("{}?{query}", target.path()),
            None => target.path().to_owned(),
        };
        let uri = path.parse::<Uri>().map_err(|error| Error::Transport {
            operation: operation.into(),
            url: url.to_string(),
            detail: format!("request target {path}: {error}"),
        })?;
        let length = body.len();
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let request_headers = request.headers_mut();
        if let Ok(host) = HeaderValue::from_str(&self.authority) {
            request_headers.insert(HOST, host);
        }
        request_headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        // Also for an empty body, for which hyper writes none: IIS wants a length on every POST (else 411).
        request_headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        request_headers.extend(headers);
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(IncomingError::Hyper(error))) => Err(failure(url, operation, &error)),
            Ok(Err(IncomingError::TooLarge)) => Err(too_large(url, operation, MAX_BODY_BYTES)),
            Err(_) => Err(Error::Timeout {
                operation: operation.into(),
                url: url.to_string(),
            }),
        }
    }

    async fn exchange(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> std::result::Result<Reply, IncomingError> {
        self.sender.ready().await.map_err(IncomingError::Hyper)?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(IncomingError::Hyper)?;
        let (parts, incoming) = response.into_parts();
        // Read to the end (at most MAX_BODY_BYTES): only then may the next request go out on this
        // connection. A body cut off at the cap leaves the connection unusable, and it is dropped.
        let body = read_incoming(&parts.headers, incoming).await?;
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Closes the connection at once, also when a timeout abandoned a request half-way.
        self.driver.abort();
    }
}

/// `host[:port]` as the `Host` header wants it (IPv6 literals in brackets, default port left out).
fn authority(target: &Url) -> String {
    let host = match target.host() {
        Some(url::Host::Ipv6(address)) => format!("[{address}]"),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    match target.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// rustls with the ring provider, the Mozilla roots when [`Trust::builtin_roots`] and every extra PEM root,
/// offering only HTTP/1.1 (IIS refuses NTLM over HTTP/2).
fn client_config(trust: &Trust) -> Result<rustls::ClientConfig> {
    // The same roots as the shared client (bundled, OS trust store, extra PEMs): a CA only the OS
    // store holds must not pass the TLS step and then fail NTLM's own connection.
    crate::tls::client_config(trust, &[b"http/1.1"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_header_keeps_non_default_ports_and_brackets_ipv6() {
        let url = |text: &str| Url::parse(text).unwrap();
        assert_eq!(
            authority(&url("https://mail.contoso.com/EWS/Exchange.asmx")),
            "mail.contoso.com"
        );
        assert_eq!(authority(&url("http://127.0.0.1:8080/x")), "127.0.0.1:8080");
        assert_eq!(authority(&url("https://[::1]:4431/x")), "[::1]:4431");
    }

    #[test]
    fn a_trust_anchor_that_is_not_a_certificate_is_a_setup_error() {
        let trust =
            Trust::only("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        assert!(matches!(
            Connector::new(&trust, Duration::from_secs(1), &Endpoints::direct()),
            Err(Error::ClientSetup { .. })
        ));
    }
}
