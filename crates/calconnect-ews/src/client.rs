//! Sends EWS operations: SOAP over HTTPS with the `X-AnchorMailbox` routing header when impersonating,
//! authenticating each request with a static header (Basic, Bearer) or an NTLM handshake, honouring
//! `ErrorServerBusy` back-off ("EWS throttling in Exchange"), and logging each request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use url::Url;

use crate::auth::{offered_schemes, AuthScheme, Authorization, NtlmCredentials};
use crate::clock::Sleeper;
use crate::endpoints::{ensure_secure, Endpoints};
use crate::error::{Error, Result};
use crate::ntlm::{self, ClientNonce};
use crate::operations::Operation;
use crate::parse::{ServerVersionInfo, SoapResponse};
use crate::request_log::{RequestLog, RequestRecord};
use crate::response_code::ResponseCode;
use crate::soap::{envelope, ExchangeVersion, Headers};
use crate::tls::{classify, TlsProblem};

/// NTLM handshakes per request before a 401 counts as refused credentials (see [`EwsClient::call`]).
const MAX_NTLM_HANDSHAKES: u32 = 3;

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
    http: reqwest::Client,
    endpoints: Endpoints,
    url: Url,
    authorization: Option<Authorization>,
    version: ExchangeVersion,
    sleeper: Arc<dyn Sleeper>,
    retry: RetryPolicy,
    log: RequestLog,
    /// One NTLM handshake at a time, so no other request can take the connection between CHALLENGE and
    /// AUTHENTICATE.
    handshake: Arc<tokio::sync::Mutex<()>>,
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
    /// A client for the EWS URL `url` (e.g. `https://mail.contoso.com/EWS/Exchange.asmx`).
    pub fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        url: Url,
        sleeper: Arc<dyn Sleeper>,
        log: RequestLog,
    ) -> Self {
        Self {
            http,
            endpoints,
            url,
            authorization: None,
            version: ExchangeVersion::default(),
            sleeper,
            retry: RetryPolicy::default(),
            log,
            handshake: Arc::default(),
        }
    }

    /// Uses these credentials for operations. Refuses plain http to a non-loopback host.
    pub fn with_authorization(mut self, authorization: Authorization) -> Result<Self> {
        ensure_secure(&self.url)?;
        self.authorization = Some(authorization);
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
        let _handshake = match ntlm {
            Some(_) => Some(self.handshake.lock().await),
            None => None,
        };
        let mut attempt = 0;
        let mut ntlm_handshakes = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let mut request = self
                .http
                .post(target.clone())
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/xml; charset=utf-8"),
                )
                .body(document.clone());
            if let Some(mailbox) = impersonate {
                // Routes the request to the impersonated mailbox's server; EXO requires it with impersonation.
                request = request
                    .header("X-AnchorMailbox", mailbox)
                    .header("X-PreferServerAffinity", "true");
            }
            if let Some(credentials) = ntlm {
                request = request.header(
                    AUTHORIZATION,
                    self.ntlm_authorization(&target, name, credentials).await?,
                );
            } else if let Some(header) = self
                .authorization
                .as_ref()
                .map(Authorization::header_value)
                .transpose()?
                .flatten()
            {
                request = request.header(AUTHORIZATION, header);
            }
            let mut record = self.record(name, "POST", started);
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) => {
                    let error = self.transport_error(name, error);
                    record.duration_ms = elapsed_ms(started);
                    record.note = Some(error.to_string());
                    self.log.push(record);
                    return Err(error);
                }
            };
            let status = response.status();
            record.status = Some(status.as_u16());
            if status == reqwest::StatusCode::UNAUTHORIZED {
                let offered = offered_schemes(response.headers());
                record.duration_ms = elapsed_ms(started);
                ntlm_handshakes += 1;
                if ntlm.is_some() && ntlm_handshakes < MAX_NTLM_HANDSHAKES {
                    // hyper returns a drained connection to the pool asynchronously; should a new
                    // connection have won the checkout, the server saw an AUTHENTICATE without its
                    // CHALLENGE. Fresh handshakes tell that apart from refused credentials.
                    attempt -= 1;
                    record.note = Some("ntlm refused; redoing the handshake".into());
                    self.log.push(record);
                    let _ = response.bytes().await;
                    continue;
                }
                self.log.push(record);
                return Err(Error::Unauthorized {
                    url: self.url.to_string(),
                    offered,
                });
            }
            if status == reqwest::StatusCode::FORBIDDEN {
                // Exchange Online answers 403 to apps outside its EWS allow list (from 2026-10-01); keep the
                // start of the body so the report shows what the server said.
                let body = response.text().await.unwrap_or_default();
                record.duration_ms = elapsed_ms(started);
                record.note = Some("forbidden (http 403)".into());
                self.log.push(record);
                return Err(Error::Forbidden {
                    operation: name.into(),
                    url: self.url.to_string(),
                    detail: excerpt(&body),
                });
            }
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                record.duration_ms = elapsed_ms(started);
                record.note = Some("server busy (http 503)".into());
                self.log.push(record);
                self.back_off(name, attempt, None).await?;
                continue;
            }
            let text = response
                .text()
                .await
                .map_err(|error| self.transport_error(name, error))?;
            record.duration_ms = elapsed_ms(started);
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

    /// Runs NEGOTIATE → CHALLENGE (HTTP 401 `WWW-Authenticate: NTLM <base64>`) and returns the
    /// AUTHENTICATE header to send, on the same connection, with the real request (MS-NLMP, RFC 4559).
    async fn ntlm_authorization(
        &self,
        target: &Url,
        operation: &str,
        credentials: &NtlmCredentials,
    ) -> Result<HeaderValue> {
        let started = Instant::now();
        let base64 = base64::engine::general_purpose::STANDARD;
        let negotiate = format!("NTLM {}", base64.encode(ntlm::negotiate_message()));
        // No body: IIS answers the NEGOTIATE before reading one, so the SOAP document is sent only once.
        let outcome = self
            .http
            .post(target.clone())
            .header(AUTHORIZATION, negotiate)
            .body(Vec::new())
            .send()
            .await;
        let mut record = self.record(&format!("{operation} (NTLM negotiate)"), "POST", started);
        let response = match outcome {
            Ok(response) => response,
            Err(error) => {
                let error = self.transport_error(operation, error);
                record.note = Some(error.to_string());
                self.log.push(record);
                return Err(error);
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        // Drained so hyper hands the connection back to the pool for the AUTHENTICATE request; the yield
        // lets its pool-return task run before the next checkout.
        let _ = response.bytes().await;
        tokio::task::yield_now().await;
        record.status = Some(status.as_u16());
        record.duration_ms = elapsed_ms(started);
        let Some(token) = ntlm_challenge(&headers) else {
            record.note = Some("no ntlm challenge in the answer".into());
            self.log.push(record);
            return Err(if status == reqwest::StatusCode::UNAUTHORIZED {
                Error::Unauthorized {
                    url: self.url.to_string(),
                    offered: offered_schemes(&headers),
                }
            } else {
                Error::Status {
                    operation: operation.into(),
                    url: self.url.to_string(),
                    status: status.as_u16(),
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
        let message = ntlm::authenticate_message(
            &challenge,
            &credentials.username,
            &credentials.password,
            ClientNonce::fresh(),
        );
        let mut value = HeaderValue::from_str(&format!("NTLM {}", base64.encode(message)))
            .map_err(|_| Error::ClientSetup {
                detail: "ntlm authenticate message is not a valid header".into(),
            })?;
        value.set_sensitive(true);
        Ok(value)
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
    let host = url.host_str().unwrap_or_default();
    if let Some(problem) = classify(&error, host) {
        return Error::Tls {
            url: url.to_string(),
            problem,
        };
    }
    if error.is_timeout() {
        return Error::Timeout {
            operation: operation.into(),
            url: url.to_string(),
        };
    }
    let mut detail = error.to_string();
    let mut current = std::error::Error::source(&error);
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

/// The first line of a response body, at most 300 characters (no markup parsing: it is shown as text).
fn excerpt(body: &str) -> String {
    let line = body.trim().lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(300) {
        Some((index, _)) => format!("{}…", &line[..index]),
        None => line.to_owned(),
    }
}

pub(crate) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
