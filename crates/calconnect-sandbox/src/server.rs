//! Starting and stopping a sandbox: builder, handle, and the front door every request passes through.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tower::ServiceExt as _;
use url::Url;

use crate::clock;
use crate::error::{Error, Result};
use crate::fault::{FaultControl, RouteFault};
use crate::graph::error::GraphError;
use crate::identity::error::AadError;
use crate::journal::{redact_query, JournalEntry, JournalNote};
use crate::persistence::StateDir;
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
    preferred_port: Option<u16>,
    state_dir: Option<PathBuf>,
    lifetimes: Lifetimes,
    hostnames: Vec<String>,
    admin_token: Option<secrecy::SecretString>,
    public_hostname: Option<String>,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            tenant: None,
            tls: true,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            preferred_port: None,
            state_dir: None,
            lifetimes: Lifetimes::default(),
            hostnames: Vec::new(),
            admin_token: None,
            public_hostname: None,
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

    /// Listen address (default `127.0.0.1:0`, an ephemeral port). A non-zero port is required: starting
    /// fails if it is taken.
    pub fn bind(mut self, address: SocketAddr) -> Self {
        self.bind = address;
        self
    }

    /// Port to try first when [`SandboxBuilder::bind`] names port 0; if it is taken, the port the state
    /// directory remembers is tried, then an ephemeral one. [`SandboxHandle::base_url`] tells which won.
    pub fn preferred_port(mut self, port: u16) -> Self {
        self.preferred_port = Some(port);
        self
    }

    /// Keeps what Microsoft keeps between visits in `directory` (signing key, CA and server certificate,
    /// refresh-token grants, consents, clock offset, last port) so a restarted sandbox honours earlier
    /// sign-ins. Loaded on start, saved after every request that changed it. Format: [`crate::persistence`].
    /// The issuer contains the port: access tokens outlive a restart only if the port does (it is
    /// remembered and preferred), refresh tokens always do.
    pub fn state_dir(mut self, directory: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(directory.into());
        self
    }

    /// Adds a host name to the server certificate (`--hostname`), for clients that reach the sandbox under
    /// a name only a proxy or a test resolver knows. Requests are still served on the bound address.
    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostnames.push(name.into());
        self
    }

    /// The bearer token the admin routes (`/_sandbox/…`) require (`--admin-token`); by default 32 random
    /// bytes, drawn at start ([`SandboxHandle::admin_token`]). An empty token draws one too.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.admin_token = (!token.trim().is_empty())
            .then(|| secrecy::SecretString::from(token.trim().to_owned()));
        self
    }

    /// Serves under `name` (`--public-hostname`): every URL the sandbox writes (discovery documents,
    /// device-code pages, Graph links, Autodiscover answers, EWS URLs, the token issuer) names
    /// `https://NAME:PORT/` instead of `127.0.0.1`, and the server certificate is issued for it too. For
    /// clients that reach the sandbox through a proxy that resolves `name` (a name nothing else resolves,
    /// such as one under `.test`, proves the proxy was used). Requests are still served on the bound
    /// address; [`SandboxHandle::local_address`] says which.
    pub fn public_hostname(mut self, name: impl Into<String>) -> Self {
        self.public_hostname = Some(name.into());
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

    /// Binds, generates (or loads from the state directory) keys and certificates, and serves until the
    /// handle is dropped or stopped.
    pub async fn start(self) -> Result<SandboxHandle> {
        let state_dir = self
            .state_dir
            .map(StateDir::open)
            .transpose()?
            .map(Arc::new);
        let snapshot = match &state_dir {
            Some(state_dir) => state_dir.load_snapshot()?,
            None => None,
        };
        let remembered_port = snapshot.as_ref().and_then(|snapshot| snapshot.port);
        let listener = bind_listener(self.bind, self.preferred_port, remembered_port)?;
        let local_address = listener.local_addr().map_err(|source| Error::Bind {
            address: self.bind,
            source,
        })?;
        let scheme = if self.tls { "https" } else { "http" };
        let origin = match &self.public_hostname {
            Some(name) => format!("{name}:{}", local_address.port()),
            None => local_address.to_string(),
        };
        let base_url = Url::parse(&format!("{scheme}://{origin}/"))
            .map_err(|error| Error::Tls(format!("invalid base url: {error}")))?;
        let mut hostnames = self.hostnames.clone();
        hostnames.extend(self.public_hostname.iter().cloned());
        let signing_key = match &state_dir {
            Some(state_dir) => {
                let state_dir = Arc::clone(state_dir);
                tokio::task::spawn_blocking(move || {
                    state_dir.signing_key(SigningKey::generate).map(Arc::new)
                })
                .await
            }
            // RSA generation is slow: sandboxes that forget everything share one key per process.
            None => tokio::task::spawn_blocking(SigningKey::shared).await,
        }
        .map_err(|error| Error::SigningKey(error.to_string()))??;
        let tenant = self.tenant.unwrap_or_else(Tenant::demo);
        let state = match &state_dir {
            Some(state_dir) => AppState::persistent(
                tenant,
                base_url.clone(),
                self.lifetimes,
                signing_key,
                Arc::clone(state_dir),
                snapshot.as_ref(),
            ),
            None => AppState::new(tenant, base_url.clone(), self.lifetimes, signing_key),
        };
        if let Some(token) = self.admin_token {
            state.set_admin_token(token);
        }
        // Records the port now, so the next start prefers it even if no request changes anything.
        state.persist()?;
        let router = crate::router(state.clone());
        let front_door = tower::service_fn({
            let state = state.clone();
            move |request: Request<hyper::body::Incoming>| {
                front_door(state.clone(), router.clone(), request)
            }
        });
        let serials = Arc::new(std::sync::atomic::AtomicU64::new(1));
        let make_service = tower::service_fn(move |peer: SocketAddr| {
            // Called once per accepted connection: the peer address and a serial name it, and NTLM binds
            // its handshake (and, as IIS does, the identity it established) to that (`ews::ntlm`).
            let key = crate::ews::ConnectionKey {
                peer,
                serial: serials.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            };
            let front_door = front_door.clone().map_request(
                move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(key);
                    request
                },
            );
            async move { Ok::<_, Infallible>(front_door) }
        });
        let handle = axum_server::Handle::new();
        let (certificate_authority, server_task) = if self.tls {
            let authority = match &state_dir {
                Some(state_dir) => state_dir.certificate_authority(&hostnames)?,
                None => CertificateAuthority::generate(&hostnames)?,
            };
            state.set_server_certificate_hash(&authority.server_certificate_hash());
            let config =
                axum_server::tls_rustls::RustlsConfig::from_config(authority.server_config());
            // TCP_NODELAY, as on the plain listener below: a response written in more than one segment
            // would otherwise wait for the client's delayed ACK (about 40 ms on Linux) before its last
            // segment, a delay no Microsoft front end adds (measured: `cargo bench -p calconnect-core`).
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                .acceptor(axum_server::accept::NoDelayAcceptor::new());
            let server = axum_server::from_tcp(listener)
                .map_err(|source| Error::Bind {
                    address: local_address,
                    source,
                })?
                .acceptor(acceptor)
                .handle(handle.clone());
            let task = tokio::spawn(async move {
                if let Err(error) = server.serve(make_service).await {
                    tracing::error!(%error, "sandbox server stopped");
                }
            });
            (Some(authority), task)
        } else {
            let server = axum_server::from_tcp(listener)
                .map_err(|source| Error::Bind {
                    address: local_address,
                    source,
                })?
                .acceptor(axum_server::accept::NoDelayAcceptor::new())
                .handle(handle.clone());
            let task = tokio::spawn(async move {
                if let Err(error) = server.serve(make_service).await {
                    tracing::error!(%error, "sandbox server stopped");
                }
            });
            (None, task)
        };
        tracing::info!(%base_url, "sandbox listening");
        Ok(SandboxHandle {
            state,
            local_address,
            handle,
            server_task: Some(server_task),
            ca_pem: certificate_authority.map(|authority| authority.pem().to_owned()),
        })
    }
}

/// Binds `bind`; when its port is 0, tries `preferred` then `remembered` first, falling back to an
/// ephemeral port when they are taken.
fn bind_listener(
    bind: SocketAddr,
    preferred: Option<u16>,
    remembered: Option<u16>,
) -> Result<std::net::TcpListener> {
    let mut candidates: Vec<u16> = Vec::new();
    if bind.port() == 0 {
        candidates.extend(preferred.into_iter().chain(remembered));
        candidates.retain(|port| *port != 0);
        candidates.dedup();
    }
    candidates.push(bind.port());
    let last = candidates.len() - 1;
    for (index, port) in candidates.into_iter().enumerate() {
        let address = SocketAddr::new(bind.ip(), port);
        let listener = match std::net::TcpListener::bind(address) {
            Ok(listener) => listener,
            Err(error) if index < last => {
                tracing::info!(%address, %error, "preferred sandbox port unavailable, trying the next");
                continue;
            }
            Err(source) => return Err(Error::Bind { address, source }),
        };
        listener
            .set_nonblocking(true)
            .map_err(|source| Error::Bind { address, source })?;
        return Ok(listener);
    }
    unreachable!("the last candidate either binds or returns an error")
}

/// A running sandbox. Dropping it shuts the server down.
#[derive(Debug)]
pub struct SandboxHandle {
    state: AppState,
    local_address: SocketAddr,
    handle: axum_server::Handle<SocketAddr>,
    server_task: Option<tokio::task::JoinHandle<()>>,
    ca_pem: Option<String>,
}

impl SandboxHandle {
    /// `https://127.0.0.1:PORT/` (or `http://` without TLS; `https://NAME:PORT/` with
    /// [`SandboxBuilder::public_hostname`]).
    pub fn base_url(&self) -> Url {
        self.state.base_url().clone()
    }

    /// The address the server listens on (what a proxy or resolver maps the public host name to).
    pub fn local_address(&self) -> SocketAddr {
        self.local_address
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

    /// The bearer token `/_sandbox/faults` and `/_sandbox/journal` require.
    pub fn admin_token(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(self.state.admin_token())
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
    /// With a state directory the new offset is saved at once (a small blocking write).
    pub fn advance_time(&self, by: Duration) {
        self.state.clock().advance(by);
        if let Err(error) = self.state.persist() {
            tracing::warn!(%error, "failed to save the sandbox clock offset");
        }
    }

    /// Shuts the server down and waits until its listener is closed, so its port can be bound again
    /// (by a restarted sandbox on the same state directory, for instance).
    pub async fn stop(mut self) {
        self.handle.shutdown();
        if let Some(task) = self.server_task.take() {
            if let Err(error) = task.await {
                tracing::warn!(%error, "sandbox server task failed");
            }
        }
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

/// Applies fault knobs, calls the router and writes the journal, all on the sandbox clock.
async fn front_door(
    state: AppState,
    router: Router,
    request: Request<hyper::body::Incoming>,
) -> std::result::Result<Response<Body>, ConnectionDropped> {
    let serving = state.clone();
    clock::serving(serving.clock(), serve(state, router, request)).await
}

async fn serve(
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
    // Saved before the response leaves: a client holding a refresh token knows the sandbox kept it.
    persist(&state).await;
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

async fn persist(state: &AppState) {
    if !state.is_persistent() {
        return;
    }
    let state = state.clone();
    match tokio::task::spawn_blocking(move || state.persist()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(
            %error,
            cause = ?std::error::Error::source(&error).map(ToString::to_string),
            "failed to save the sandbox state"
        ),
        Err(error) => tracing::warn!(%error, "saving the sandbox state failed"),
    }
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
