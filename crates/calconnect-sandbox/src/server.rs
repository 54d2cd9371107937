//! Starting and stopping a sandbox: builder, handle, and the front door every request passes through.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tower::ServiceExt as _;
use url::Url;

use crate::error::{Error, Result};
use crate::fault::{FaultControl, RouteFault};
use crate::graph::error::GraphError;
use crate::identity::error::AadError;
use crate::journal::{redact_query, JournalEntry, JournalNote};
use crate::route::route_name;
use crate::signing::SigningKey;
use crate::state::{AppState, Lifetimes};
use crate::tenant::Tenant;
use crate::tls::CertificateAuthority;

/// Configures a sandbox; see the crate docs for an example.
#[derive(Debug)]
pub struct SandboxBuilder {
    tenant: Option<Tenant>,
    tls: bool,
    bind: SocketAddr,
    lifetimes: Lifetimes,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            tenant: None,
            tls: true,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            lifetimes: Lifetimes::default(),
        }
    }
}

impl SandboxBuilder {
    /// The tenant to serve (default: [`Tenant::demo`]).
    pub fn tenant(mut self, tenant: Tenant) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// HTTPS with a generated CA (default `true`) or plain HTTP.
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// Listen address (default `127.0.0.1:0`, an ephemeral port).
    pub fn bind(mut self, address: SocketAddr) -> Self {
        self.bind = address;
        self
    }

    /// Access token `expires_in` (default 3599 s).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetimes.access_token = lifetime;
        self
    }

    /// Device code `expires_in` (default 900 s).
    pub fn device_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetimes.device_code = lifetime;
        self
    }

    /// Device code polling `interval` (default 5 s; whole seconds on the wire).
    pub fn device_code_interval(mut self, interval: Duration) -> Self {
        self.lifetimes.device_code_interval = interval;
        self
    }

    /// Binds, generates keys and certificates, and serves until the handle is dropped.
    pub async fn start(self) -> Result<SandboxHandle> {
        let listener = std::net::TcpListener::bind(self.bind).map_err(|source| Error::Bind {
            address: self.bind,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| Error::Bind {
                address: self.bind,
                source,
            })?;
        let local_address = listener.local_addr().map_err(|source| Error::Bind {
            address: self.bind,
            source,
        })?;
        let scheme = if self.tls { "https" } else { "http" };
        let base_url = Url::parse(&format!("{scheme}://{local_address}/"))
            .map_err(|error| Error::Tls(format!("invalid base url: {error}")))?;
        let signing_key = tokio::task::spawn_blocking(SigningKey::shared)
            .await
            .map_err(|error| Error::SigningKey(error.to_string()))??;
        let tenant = self.tenant.unwrap_or_else(Tenant::demo);
        let state = AppState::new(tenant, base_url.clone(), self.lifetimes, signing_key);
        let router = crate::router(state.clone());
        let front_door = tower::service_fn({
            let state = state.clone();
            move |request: Request<hyper::body::Incoming>| {
                front_door(state.clone(), router.clone(), request)
            }
        });
        let make_service = tower::service_fn(move |_peer: SocketAddr| {
            let front_door = front_door.clone();
            async move { Ok::<_, Infallible>(front_door) }
        });
        let handle = axum_server::Handle::new();
        let certificate_authority = if self.tls {
            let authority = CertificateAuthority::generate()?;
            let config =
                axum_server::tls_rustls::RustlsConfig::from_config(authority.server_config());
            let server = axum_server::from_tcp_rustls(listener, config)
                .map_err(|source| Error::Bind {
                    address: local_address,
                    source,
                })?
                .handle(handle.clone());
            tokio::spawn(async move {
                if let Err(error) = server.serve(make_service).await {
                    tracing::error!(%error, "sandbox server stopped");
                }
            });
            Some(authority)
        } else {
            let server = axum_server::from_tcp(listener)
                .map_err(|source| Error::Bind {
                    address: local_address,
                    source,
                })?
                .handle(handle.clone());
            tokio::spawn(async move {
                if let Err(error) = server.serve(make_service).await {
                    tracing::error!(%error, "sandbox server stopped");
                }
            });
            None
        };
        tracing::info!(%base_url, "sandbox listening");
        Ok(SandboxHandle {
            state,
            handle,
            ca_pem: certificate_authority.map(|authority| authority.pem().to_owned()),
        })
    }
}

/// A running sandbox. Dropping it shuts the server down.
#[derive(Debug)]
pub struct SandboxHandle {
    state: AppState,
    handle: axum_server::Handle<SocketAddr>,
    ca_pem: Option<String>,
}

impl SandboxHandle {
    /// `https://127.0.0.1:PORT/` (or `http://` without TLS).
    pub fn base_url(&self) -> Url {
        self.state.base_url().clone()
    }

    /// `{base}{tenant}/v2.0`, e.g. `authority("common")` or `authority("contoso.com")`.
    pub fn authority(&self, tenant: &str) -> Url {
        self.state.url(&format!("{tenant}/v2.0"))
    }

    /// `{base}v1.0/`.
    pub fn graph_url(&self) -> Url {
        self.state.url("v1.0/")
    }

    /// `{base}EWS/Exchange.asmx`.
    pub fn ews_url(&self) -> Url {
        self.state.url("EWS/Exchange.asmx")
    }

    /// `{base}autodiscover/autodiscover.xml`.
    pub fn autodiscover_url(&self) -> Url {
        self.state.url("autodiscover/autodiscover.xml")
    }

    /// PEM of the CA that signed the server certificate (`None` over plain HTTP).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Writes the CA PEM to `path` (no-op error-free when TLS is off: writes nothing).
    pub fn write_ca_pem(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        match &self.ca_pem {
            Some(pem) => std::fs::write(path, pem),
            None => Ok(()),
        }
    }

    /// Every request answered so far.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal().entries()
    }

    /// Fault knobs.
    pub fn faults(&self) -> FaultControl {
        self.state.faults().clone()
    }

    /// The tenant being served.
    pub fn tenant(&self) -> &Tenant {
        self.state.tenant()
    }

    /// Moves sandbox time forward (token and code expiry, device code `interval`) without sleeping.
    pub fn advance_time(&self, by: Duration) {
        self.state.clock().advance(by);
    }

    /// The shared state, for embedding the routes elsewhere.
    pub fn state(&self) -> &AppState {
        &self.state
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// The connection was deliberately dropped by a fault knob; hyper closes the connection on service errors.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by a sandbox fault")]
pub struct ConnectionDropped;

/// Applies fault knobs, calls the router and writes the journal.
async fn front_door(
    state: AppState,
    router: Router,
    request: Request<hyper::body::Incoming>,
) -> std::result::Result<Response<Body>, ConnectionDropped> {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(redact_query);
    let route = route_name(&path);
    if let Some(latency) = state.faults().latency_for(&route) {
        tokio::time::sleep(latency).await;
    }
    let response = match state.faults().take_route_fault(&route) {
        Some(RouteFault::DropConnection) => {
            record(
                &state,
                &method,
                &path,
                query,
                0,
                &route,
                Some("connection dropped".to_owned()),
            );
            return Err(ConnectionDropped);
        }
        Some(RouteFault::Throttle {
            status,
            retry_after_secs,
        }) => throttled(&route, status, retry_after_secs),
        None => match router.oneshot(request.map(Body::new)).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
    };
    let note = response
        .extensions()
        .get::<JournalNote>()
        .map(|note| note.0.clone());
    record(
        &state,
        &method,
        &path,
        query,
        response.status().as_u16(),
        &route,
        note,
    );
    Ok(response)
}

fn record(
    state: &AppState,
    method: &str,
    path: &str,
    query: Option<String>,
    status: u16,
    route: &str,
    note: Option<String>,
) {
    state.journal().record(JournalEntry {
        method: method.to_owned(),
        path: path.to_owned(),
        query,
        status,
        route: route.to_owned(),
        timestamp: state.now(),
        note,
    });
}

/// A throttled response in the shape of the service behind `route`.
fn throttled(route: &str, status: u16, retry_after_secs: u64) -> Response<Body> {
    let mut response = if route.starts_with("graph") {
        GraphError::throttled(status, retry_after_secs).into_response()
    } else if matches!(
        route,
        "token" | "devicecode" | "authorize" | "discovery" | "keys"
    ) {
        let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
        AadError::new(
            "temporarily_unavailable",
            90055,
            "There are too many incoming requests. Retry later.",
        )
        .with_status(status_code)
        .into_response()
    } else {
        // IIS answers throttled EWS/Autodiscover requests without a SOAP body.
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "Service Unavailable",
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from(retry_after_secs));
    response
        .extensions_mut()
        .insert(JournalNote(format!("throttled {status}")));
    response
}
