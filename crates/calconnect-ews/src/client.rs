//! Sends EWS operations: SOAP over HTTPS with the `X-AnchorMailbox` routing header when impersonating,
//! authenticating each request with a static header (Basic, Bearer) or an NTLM handshake, honouring
//! `ErrorServerBusy` back-off ("EWS throttling in Exchange"), and logging each request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use calconnect_identity::text::strip_control_characters;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use url::Url;

use crate::auth::{offered_schemes, AuthScheme, Authorization, NtlmCredentials};
use crate::body::read_response;
use crate::clock::Sleeper;
use crate::connection::{Connector, Reply};
use crate::endpoints::{ensure_secure, Endpoints};
use crate::error::{Error, Result};
use crate::ntlm::{self, ClientNonce};
use crate::operations::Operation;
use crate::parse::{ServerVersionInfo, SoapResponse};
use crate::persistent_auth::AuthenticatedConnections;
use crate::request_log::{RequestLog, RequestRecord};
use crate::response_code::ResponseCode;
use crate::soap::{envelope, ExchangeVersion, Headers};
use crate::tls::{classify, failure};

/// How throttling is survived.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per operation, the first included.
    pub max_attempts: u32,
    /// Longest back-off honoured; a longer hint fails the operation as throttled instead of stalling the test.
    pub max_back_off: Duration,
    /// Wait used when the server is busy but gives no hint (HTTP 503).
    pub default_back_off: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            max_back_off: Duration::from_secs(60),
            default_back_off: Duration::from_secs(2),
        }
    }
}

/// The outcome of one operation that reached Exchange and got a response message back.
#[derive(Debug, Clone)]
pub struct OperationResult<T> {
    /// The first response message's code.
    pub response_code: ResponseCode,
    /// Its `MessageText`.
    pub message_text: Option<String>,
    /// The output when the code is `NoError`.
    pub output: Option<T>,
    /// `ServerVersionInfo` of the response.
    pub server_version: Option<ServerVersionInfo>,
}

/// How an operation's request was authenticated, for its log line.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// Its own credentials: a static header or an NTLM handshake on a new connection.
    Handshake,
    /// No `Authorization`: a connection an earlier NTLM handshake authenticated (`persistent_auth`).
    AuthenticatedConnection,
}

/// What the log adds to the operation of a request sent on an NTLM-authenticated connection.
const AUTHENTICATED_CONNECTION: &str = "NTLM-authenticated connection";

/// The unauthenticated probe's findings.
#[derive(Debug, Clone)]
pub struct Probe {
    /// HTTP status of the unauthenticated request.
    pub status: u16,
    /// Schemes offered in `WWW-Authenticate`.
    pub offered: Vec<AuthScheme>,
}

/// An EWS endpoint with its credentials.
#[derive(Clone)]
pub struct EwsClient {
    /// Probes and requests with a static `Authorization` header.
    http: reqwest::Client,
    /// Requests authenticated with NTLM, on connections of their own.
    connector: Connector,
    /// Connections an NTLM handshake authenticated, idle between operations (shared by clones: same URL,
    /// same credentials).
    authenticated: Arc<AuthenticatedConnections>,
    endpoints: Endpoints,
    url: Url,
    authorization: Option<Authorization>,
    version: ExchangeVersion,
    sleeper: Arc<dyn Sleeper>,
    retry: RetryPolicy,
    log: RequestLog,
}

impl std::fmt::Debug for EwsClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("EwsClient")
            .field("url", &self.url.as_str())
            .field("authorization", &self.authorization)
            .finish()
    }
}

impl EwsClient {
    /// A client for the EWS URL `url` (e.g. `https://mail.contoso.com/EWS/Exchange.asmx`). `http` and
    /// `connector` must share trust anchors and endpoints ([`crate::tls::http_client`], [`Connector::new`]).
    pub fn new(
        http: reqwest::Client,
        connector: Connector,
        url: Url,
        sleeper: Arc<dyn Sleeper>,
        log: RequestLog,
    ) -> Self {
        Self {
            http,
            endpoints: connector.endpoints().clone(),
            connector,
            authenticated: Arc::default(),
            url,
            authorization: None,
            version: ExchangeVersion::default(),
            sleeper,
            retry: RetryPolicy::default(),
            log,
        }
    }

    /// Uses these credentials for operations. Refuses plain http to a non-loopback host.
    pub fn with_authorization(mut self, authorization: Authorization) -> Result<Self> {
        ensure_secure(&self.url)?;
        self.authorization = Some(authorization);
        // Connections authenticated as someone else are not this client's.
        self.authenticated = Arc::default();
        Ok(self)
    }

    /// Sets the throttling policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the requested schema version.
    pub fn with_version(mut self, version: ExchangeVersion) -> Self {
        self.version = version;
        self
    }

    /// Records into `log` from now on (one log per mailbox of a bulk run, so concurrent mailboxes'
    /// requests do not interleave in each other's steps).
    pub fn with_log(mut self, log: RequestLog) -> Self {
        self.log = log;
        self
    }

    /// The EWS URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Sends an unauthenticated GET to read the offered schemes; also the TLS probe.
    pub async fn probe(&self) -> Result<Probe> {
        let target = self.endpoints.target(&self.url)?;
        let started = Instant::now();
        let outcome = self.http.get(target).send().await;
        let mut record = self.record("probe (unauthenticated)", "GET", started);
        match outcome {
            Ok(response) => {
                record.status = Some(response.status().as_u16());
                self.log.push(record);
                Ok(Probe {
                    status: response.status().as_u16(),
                    offered: offered_schemes(response.headers()),
                })
            }
            Err(error) => {
                let error = self.transport_error("probe", error);
                record.note = Some(error.to_string());
                self.log.push(record);
                Err(error)
            }
        }
    }

    /// Sends `operation`, impersonating `impersonate` when given (`ExchangeImpersonation` + `X-AnchorMailbox`).
    pub async fn call<O: Operation>(
        &self,
        operation: &O,
        impersonate: Option<&str>,
    ) -> Result<OperationResult<O::Output>> {
        let name = operation.name();
        let headers = Headers {
            version: self.version,
            impersonate: impersonate.map(str::to_owned),
        };
        let document = envelope(&headers, &operation.body());
        let target = self.endpoints.target(&self.url)?;
        let ntlm = self
            .authorization
            .as_ref()
            .and_then(Authorization::ntlm_credentials);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        );
        if let Some(mailbox) = impersonate {
            // Routes the request to the impersonated mailbox's server; EXO requires it with impersonation.
            headers.insert(
                "X-AnchorMailbox",
                HeaderValue::from_str(mailbox).map_err(|_| Error::ClientSetup {
                    detail: format!("mailbox {mailbox:?} is not a valid header value"),
                })?,
            );
            headers.insert("X-PreferServerAffinity", HeaderValue::from_static("true"));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (outcome, started, via) = match ntlm {
                Some(credentials) => {
                    self.send_with_ntlm(&target, name, headers.clone(), &document, credentials)
                        .await?
                }
                None => {
                    let started = Instant::now();
                    (
                        self.send(&target, name, headers.clone(), &document).await,
                        started,
                        Via::Handshake,
                    )
                }
            };
            // The log says which requests rode on a connection authenticated earlier.
            let mut record = match via {
                Via::Handshake => self.record(name, "POST", started),
                Via::AuthenticatedConnection => self.record(
                    &format!("{name} ({AUTHENTICATED_CONNECTION})"),
                    "POST",
                    started,
                ),
            };
            let reply = match outcome {
                Ok(reply) => reply,
                Err(error) => {
                    record.note = Some(error.to_string());
                    self.log.push(record);
                    return Err(error);
                }
            };
            let status = reply.status;
            record.status = Some(status.as_u16());
            record.duration_ms = elapsed_ms(started);
            if status == StatusCode::UNAUTHORIZED {
                // With NTLM the AUTHENTICATE went out on the connection that received the CHALLENGE, so a
                // 401 here is a refusal of the credentials, not a lost handshake.
                self.log.push(record);
                return Err(Error::Unauthorized {
                    url: self.url.to_string(),
                    offered: offered_schemes(&reply.headers),
                });
            }
            if status == StatusCode::FORBIDDEN {
                // Exchange Online answers 403 to apps outside its EWS allow list (from 2026-10-01); keep the
                // start of the body so the report shows what the server said.
                let body = String::from_utf8_lossy(&reply.body);
                record.note = Some("forbidden (http 403)".into());
                self.log.push(record);
                return Err(Error::Forbidden {
                    operation: name.into(),
                    url: self.url.to_string(),
                    detail: excerpt(&body),
                });
            }
            if status == StatusCode::SERVICE_UNAVAILABLE {
                record.note = Some("server busy (http 503)".into());
                self.log.push(record);
                self.back_off(name, attempt, None).await?;
                continue;
            }
            let text = String::from_utf8_lossy(&reply.body);
            let parsed = match SoapResponse::parse(&text) {
                Ok(parsed) => parsed,
                Err(detail) => {
                    self.log.push(record);
                    if !status.is_success() {
                        return Err(Error::Status {
                            operation: name.into(),
                            url: self.url.to_string(),
                            status: status.as_u16(),
                        });
                    }
                    return Err(Error::Parse {
                        operation: name.into(),
                        url: self.url.to_string(),
                        detail,
                    });
                }
            };
            if let Some(fault) = &parsed.fault {
                let code = fault.response_code.clone().unwrap_or_else(|| {
                    ResponseCode::parse(
                        fault
                            .fault_code
                            .rsplit(':')
                            .next()
                            .unwrap_or(&fault.fault_code),
                    )
                });
                record.response_code = Some(code.to_string());
                self.log.push(record);
                if code == ResponseCode::ErrorServerBusy {
                    self.back_off(name, attempt, fault.back_off_milliseconds)
                        .await?;
                    continue;
                }
                return Err(Error::SoapFault {
                    operation: name.into(),
                    url: self.url.to_string(),
                    code,
                    message: fault.fault_string.clone(),
                });
            }
            let Some(message) = parsed.messages().into_iter().next() else {
                self.log.push(record);
                return Err(Error::Parse {
                    operation: name.into(),
                    url: self.url.to_string(),
                    detail: format!("http {} without a response message", status.as_u16()),
                });
            };
            record.response_code = Some(message.response_code.to_string());
            self.log.push(record);
            if message.is_server_busy() {
                self.back_off(name, attempt, message.back_off_milliseconds)
                    .await?;
                continue;
            }
            let output = match (&parsed.body, message.response_code.is_success()) {
                (Some(body), true) => Some(operation.read(body)),
                _ => None,
            };
            return Ok(OperationResult {
                response_code: message.response_code,
                message_text: message.message_text,
                output,
                server_version: parsed.server_version,
            });
        }
    }

    /// Sends the SOAP document through the pooled client with the static `Authorization` header, if any.
    async fn send(
        &self,
        target: &Url,
        operation: &str,
        mut headers: HeaderMap,
        document: &str,
    ) -> Result<Reply> {
        if let Some(header) = self
            .authorization
            .as_ref()
            .map(Authorization::header_value)
            .transpose()?
            .flatten()
        {
            headers.insert(AUTHORIZATION, header);
        }
        let response = self
            .http
            .post(target.clone())
            .headers(headers)
            .body(document.to_owned())
            .send()
            .await
            .map_err(|error| self.transport_error(operation, error))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_response(response, &self.url, operation).await?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// Sends the SOAP document authenticated with NTLM on a connection of its own: NEGOTIATE, the
    /// CHALLENGE in an HTTP 401 (`WWW-Authenticate: NTLM <base64>`), then AUTHENTICATE with the document
    /// (MS-NLMP, RFC 4559). The AUTHENTICATE names the service `HTTP/<host>` and, over TLS, is bound to
    /// the certificate this connection got (Extended Protection, [`ntlm::Binding`]). Returns the outcome
    /// of that last request and when it started; failures before it are logged with the NEGOTIATE
    /// request and returned as `Err`.
    async fn send_with_ntlm(
        &self,
        target: &Url,
        operation: &str,
        mut headers: HeaderMap,
        document: &str,
        credentials: &NtlmCredentials,
    ) -> Result<(Result<Reply>, Instant, Via)> {
        if let Some(mut connection) = self.authenticated.take() {
            // No Authorization: the connection is authenticated already (`persistent_auth`).
            let started = Instant::now();
            let outcome = connection
                .post(
                    target,
                    headers.clone(),
                    document.as_bytes().to_vec(),
                    &self.url,
                    operation,
                )
                .await;
            let (status, note) = match outcome {
                Ok(reply) if reply.status != StatusCode::UNAUTHORIZED => {
                    self.authenticated.keep(connection);
                    return Ok((Ok(reply), started, Via::AuthenticatedConnection));
                }
                Ok(reply) => {
                    self.authenticated.authenticate_every_request();
                    (
                        Some(reply.status.as_u16()),
                        "the server wants a new NTLM handshake for every request; handshaking each from now on"
                            .to_owned(),
                    )
                }
                // Closed while idle, most often: every EWS operation here reads, so sending it again
                // after a fresh handshake is safe.
                Err(error) => (None, format!("{error}; handshaking on a new connection")),
            };
            let mut record = self.record(
                &format!("{operation} ({AUTHENTICATED_CONNECTION})"),
                "POST",
                started,
            );
            record.status = status;
            record.duration_ms = elapsed_ms(started);
            record.note = Some(note);
            self.log.push(record);
        }
        let started = Instant::now();
        let base64 = base64::engine::general_purpose::STANDARD;
        let mut record = self.record(&format!("{operation} (NTLM negotiate)"), "POST", started);
        let negotiate_message = ntlm::negotiate_message();
        let negotiate = async {
            let mut connection = self.connector.open(target, &self.url, operation).await?;
            let mut negotiate_headers = HeaderMap::new();
            negotiate_headers.insert(
                AUTHORIZATION,
                HeaderValue::from_str(&format!("NTLM {}", base64.encode(&negotiate_message)))
                    .map_err(|_| Error::ClientSetup {
                        detail: "ntlm negotiate message is not a valid header".into(),
                    })?,
            );
            // No body: IIS answers the NEGOTIATE before reading one, so the SOAP document is sent only once.
            let reply = connection
                .post(target, negotiate_headers, Vec::new(), &self.url, operation)
                .await?;
            Ok::<_, Error>((connection, reply))
        };
        let (mut connection, reply) = match negotiate.await {
            Ok(negotiated) => negotiated,
            Err(error) => {
                record.duration_ms = elapsed_ms(started);
                record.note = Some(error.to_string());
                self.log.push(record);
                return Err(error);
            }
        };
        record.status = Some(reply.status.as_u16());
        record.duration_ms = elapsed_ms(started);
        let Some(token) = ntlm_challenge(&reply.headers) else {
            record.note = Some("no ntlm challenge in the answer".into());
            self.log.push(record);
            return Err(if reply.status == StatusCode::UNAUTHORIZED {
                Error::Unauthorized {
                    url: self.url.to_string(),
                    offered: offered_schemes(&reply.headers),
                }
            } else {
                Error::Status {
                    operation: operation.into(),
                    url: self.url.to_string(),
                    status: reply.status.as_u16(),
                }
            });
        };
        record.note = Some("ntlm challenge received".into());
        self.log.push(record);
        let challenge = base64
            .decode(token)
            .map_err(|error| error.to_string())
            .and_then(|bytes| ntlm::Challenge::parse(&bytes))
            .map_err(|detail| Error::Parse {
                operation: operation.into(),
                url: self.url.to_string(),
                detail: format!("ntlm challenge: {detail}"),
            })?;
        // The SPN names the host this connection went to (the route's, when one applies): the host its
        // certificate was checked against.
        let binding = ntlm::Binding::for_http(
            target.host_str().unwrap_or_default(),
            connection.peer_certificate(),
        );
        let message = ntlm::authenticate_message(
            &negotiate_message,
            &challenge,
            &credentials.username,
            &credentials.password,
            &binding,
            ClientNonce::fresh(),
        );
        let mut value = HeaderValue::from_str(&format!("NTLM {}", base64.encode(message)))
            .map_err(|_| Error::ClientSetup {
                detail: "ntlm authenticate message is not a valid header".into(),
            })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        let started = Instant::now();
        let outcome = connection
            .post(
                target,
                headers,
                document.as_bytes().to_vec(),
                &self.url,
                operation,
            )
            .await;
        if matches!(&outcome, Ok(reply) if reply.status != StatusCode::UNAUTHORIZED) {
            self.authenticated.keep(connection);
        }
        Ok((outcome, started, Via::Handshake))
    }

    async fn back_off(&self, operation: &str, attempt: u32, hint_ms: Option<u64>) -> Result<()> {
        let wait = hint_ms.map_or(self.retry.default_back_off, Duration::from_millis);
        if attempt >= self.retry.max_attempts || wait > self.retry.max_back_off {
            return Err(Error::Throttled {
                operation: operation.into(),
                url: self.url.to_string(),
                attempts: attempt,
                back_off_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            });
        }
        tracing::info!(
            operation,
            wait_ms = wait.as_millis() as u64,
            "ews throttled; backing off"
        );
        self.sleeper.sleep(wait).await;
        Ok(())
    }

    fn record(&self, operation: &str, method: &str, started: Instant) -> RequestRecord {
        RequestRecord {
            operation: operation.into(),
            method: method.into(),
            url: self.url.to_string(),
            status: None,
            response_code: None,
            duration_ms: elapsed_ms(started),
            note: None,
        }
    }

    fn transport_error(&self, operation: &str, error: reqwest::Error) -> Error {
        transport_error(&self.url, operation, error)
    }
}

/// Classifies a reqwest failure: certificate problem, timeout, or other transport failure.
pub(crate) fn transport_error(url: &Url, operation: &str, error: reqwest::Error) -> Error {
    if error.is_timeout() && classify(&error, url.host_str().unwrap_or_default()).is_none() {
        return Error::Timeout {
            operation: operation.into(),
            url: url.to_string(),
        };
    }
    failure(url, operation, &error)
}

/// The token of a `WWW-Authenticate: NTLM <base64>` challenge.
fn ntlm_challenge(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("ntlm") && !token.is_empty()).then_some(token)
        })
}

/// The first line of a response body, at most 300 characters, without control characters (no markup
/// parsing: it is shown as text, on a terminal too).
fn excerpt(body: &str) -> String {
    let line = body.trim().lines().next().unwrap_or_default().trim();
    let line = match line.char_indices().nth(300) {
        Some((index, _)) => format!("{}…", &line[..index]),
        None => line.to_owned(),
    };
    strip_control_characters(&line)
}

pub(crate) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
