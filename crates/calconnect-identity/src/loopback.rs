//! The loopback redirect listener (RFC 8252 §7.3): the registered redirect's loopback addresses on one
//! ephemeral port, until the one callback that carries this sign-in's `state`, then closed.
//!
//! Any local program can connect to a loopback port, so the listener treats every connection as possibly
//! hostile: a request with a wrong or missing `state` gets an error page, is logged (peer address only) and
//! changes nothing; connections are served concurrently, at most [`MAX_CONNECTIONS`] at once, each given
//! [`HEAD_TIMEOUT`] to send its request line, so an idle or slow client cannot hold up the browser's
//! redirect; and a valid code is kept even when the browser has gone before the page reaches it.
//!
//! Which addresses: the registered redirect is usually `http://localhost` (the Entra portal refuses
//! `http://127.0.0.1`, which only a manifest edit adds, and Entra does not support `[::1]`:
//! <https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions>). Entra ignores the
//! port of a `localhost` redirect, so any port works, but a browser may resolve `localhost` to `::1` before
//! `127.0.0.1`. A port bound on 127.0.0.1 only would leave `[::1]:PORT` free for another program to bind
//! and receive the code, so for `localhost` both loopback addresses are bound on the same port, and the
//! sign-in fails clearly if another program holds the port on one of them (after a few other ports were
//! tried). A machine without IPv6 has no `::1` for anyone to take, so there IPv4 alone is fine. A redirect
//! registered as `http://127.0.0.1` binds IPv4 only. Hand-written rather than axum because it serves one
//! GET with a fixed page and must own its sockets' binding; a full HTTP stack would add nothing here.
//! (Windows: a socket another program binds with `SO_REUSEADDR` can share a port bound without
//! `SO_EXCLUSIVEADDRUSE`; std and tokio do not set it, so on Windows the guarantee covers other users only.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use subtle::ConstantTimeEq;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use url::Url;

use crate::aadsts::AadError;
use crate::error::{Error, Result};
use crate::redirect::{LoopbackHost, RegisteredRedirect};

/// Connections served at once; past that, new ones wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 16;
/// How long a connection has to send its request head before it is closed.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing the small answer page may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Ports tried when the one the OS gave on 127.0.0.1 is taken on `::1`.
const BIND_ATTEMPTS: usize = 8;
/// Pause after a failed `accept()` before trying again.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);
/// The largest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// What the authorization server sent back to the redirect URI.
#[derive(Debug)]
pub(crate) enum Callback {
    Code(secrecy::SecretString),
    Error(AadError),
}

/// A listener on the loopback addresses of the registered redirect, on a port the OS picked.
#[derive(Debug)]
pub struct LoopbackListener {
    ipv4: TcpListener,
    /// `[::1]` on the same port, for a `localhost` redirect on a machine with IPv6.
    ipv6: Option<TcpListener>,
    port: u16,
    redirect: RegisteredRedirect,
}

impl LoopbackListener {
    /// Binds 127.0.0.1 on an ephemeral port and, for a `localhost` redirect, `[::1]` on the same port.
    /// Never a wildcard address: the redirect carries a code.
    pub async fn bind(redirect: &RegisteredRedirect) -> Result<Self> {
        let mut last_taken = None;
        for _ in 0..BIND_ATTEMPTS {
            match Self::bind_port(redirect, 0).await {
                Err(Error::LoopbackPortTaken { port, address }) => {
                    tracing::info!(
                        port,
                        address,
                        "loopback port taken on one address, trying another port"
                    );
                    last_taken = Some(Error::LoopbackPortTaken { port, address });
                }
                other => return other,
            }
        }
        Err(last_taken.expect("at least one attempt was made"))
    }

    /// Binds `port` (0: one the OS picks on 127.0.0.1) on every address the redirect needs.
    async fn bind_port(redirect: &RegisteredRedirect, port: u16) -> Result<Self> {
        let ipv4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| Error::LoopbackBind { source })?;
        let port = ipv4
            .local_addr()
            .map_err(|source| Error::LoopbackBind { source })?
            .port();
        let ipv6 = match redirect.host() {
            LoopbackHost::Ipv4 => None,
            LoopbackHost::Localhost => match TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await {
                Ok(listener) => Some(listener),
                Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
                    return Err(Error::LoopbackPortTaken {
                        port,
                        address: "IPv6 (::1)",
                    })
                }
                Err(error) => {
                    // No IPv6 loopback here (disabled, or no such address family): nobody can take it.
                    tracing::debug!(%error, "IPv6 loopback unavailable; listening on 127.0.0.1 only");
                    None
                }
            },
        };
        Ok(Self {
            ipv4,
            ipv6,
            port,
            redirect: redirect.clone(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The addresses listened on.
    pub fn addresses(&self) -> Vec<SocketAddr> {
        let mut addresses = vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port)];
        if self.ipv6.is_some() {
            addresses.push(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), self.port));
        }
        addresses
    }

    /// The registered redirect URI with this listener's port: what the authorize and token requests send.
    pub fn redirect_uri(&self) -> String {
        self.redirect.with_port(self.port)
    }

    /// Waits up to `timeout` for the redirect that carries `expected_state`, answers it with a small page,
    /// then closes.
    ///
    /// Requests on another path or without `code`/`error` (a browser's favicon fetch) get a 404; requests
    /// with a wrong or missing `state` get an error page. Neither ends the wait. If the time runs out after
    /// only wrong-state callbacks, the error says so ([`Error::StateMismatch`]).
    pub(crate) async fn accept_callback(
        self,
        expected_state: &str,
        timeout: Duration,
    ) -> Result<Callback> {
        let expected = Arc::new(Expected {
            state: expected_state.to_owned(),
            path: self.redirect.callback_path(),
        });
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut connections = JoinSet::new();
        let mut refused = 0usize;
        loop {
            let room = connections.len() < MAX_CONNECTIONS;
            tokio::select! {
                () = &mut deadline => {
                    return Err(if refused > 0 {
                        Error::StateMismatch
                    } else {
                        Error::RedirectTimedOut { seconds: timeout.as_secs() }
                    });
                }
                accepted = accept_either(&self.ipv4, self.ipv6.as_ref()), if room => match accepted {
                    Ok((stream, peer)) => {
                        connections.spawn(serve_connection(stream, peer, Arc::clone(&expected)));
                    }
                    Err(error) => {
                        // The listener is bound; a failed accept (EMFILE, ECONNABORTED) concerns one
                        // connection or a passing shortage. The pause keeps a lasting error from spinning.
                        tracing::debug!(%error, "accepting a connection on the loopback listener failed");
                        tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                    }
                },
                Some(served) = connections.join_next(), if !connections.is_empty() => match served {
                    Ok(Served::Callback(callback)) => return Ok(callback),
                    Ok(Served::WrongState) => refused += 1,
                    Ok(Served::Ignored) => {}
                    Err(error) => tracing::debug!(%error, "a loopback connection task failed"),
                },
            }
        }
    }
}

/// What a callback must carry to count.
pub(crate) struct Expected {
    pub(crate) state: String,
    pub(crate) path: String,
}

/// What one connection amounted to.
pub(crate) enum Served {
    Callback(Callback),
    WrongState,
    Ignored,
}

/// The next connection on either listener (`accept` is cancel-safe).
async fn accept_either(
    ipv4: &TcpListener,
    ipv6: Option<&TcpListener>,
) -> std::io::Result<(TcpStream, SocketAddr)> {
    match ipv6 {
        Some(ipv6) => tokio::select! {
            accepted = ipv4.accept() => accepted,
            accepted = ipv6.accept() => accepted,
        },
        None => ipv4.accept().await,
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    expected: Arc<Expected>,
) -> Served {
    let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "a loopback connection broke before its request");
            return Served::Ignored;
        }
        Err(_) => {
            tracing::debug!(%peer, seconds = HEAD_TIMEOUT.as_secs(), "closed a loopback connection that sent no request in time");
            return Served::Ignored;
        }
    };
    let (served, status, page) = classify(&head, &expected);
    if matches!(served, Served::WrongState) {
        // The peer address only: the request holds a code (maybe a real one, replayed) and a state.
        tracing::warn!(%peer, "refused a sign-in redirect whose state is wrong or missing; still waiting for this sign-in's");
    }
    // The page is a courtesy: a browser that has gone (closed tab, reset) must not lose a valid code.
    match tokio::time::timeout(WRITE_TIMEOUT, respond(&mut stream, status, page)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%peer, %error, "could not send the page to the browser"),
        Err(_) => tracing::debug!(%peer, "sending the page to the browser timed out"),
    }
    served
}

/// Reads one request head: the callback it carries, and the status and page to answer with.
pub(crate) fn classify(head: &str, expected: &Expected) -> (Served, Status, &'static str) {
    let target = head
        .lines()
        .next()
        .and_then(|request_line| {
            let mut parts = request_line.split(' ');
            let method = parts.next()?;
            (method == "GET").then(|| parts.next()).flatten()
        })
        .unwrap_or("");
    let Ok(url) = Url::parse("http://localhost").and_then(|base| base.join(target)) else {
        return (Served::Ignored, Status::BadRequest, PAGE_NOT_FOUND);
    };
    let parameter = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let (code, error) = (parameter("code"), parameter("error"));
    if url.path() != expected.path || (code.is_none() && error.is_none()) {
        return (Served::Ignored, Status::NotFound, PAGE_NOT_FOUND);
    }
    let state = parameter("state").unwrap_or_default();
    // Constant time, so the state cannot be guessed byte by byte from response timing.
    let state_matches: bool = state.as_bytes().ct_eq(expected.state.as_bytes()).into();
    if state.is_empty() || !state_matches {
        return (Served::WrongState, Status::BadRequest, PAGE_WRONG_STATE);
    }
    match (code, error) {
        (_, Some(error)) => (
            Served::Callback(Callback::Error(AadError::from_redirect(
                &error,
                parameter("error_description").as_deref(),
            ))),
            Status::Ok,
            PAGE_FAILURE,
        ),
        (code, None) => (
            Served::Callback(Callback::Code(secrecy::SecretString::from(
                code.unwrap_or_default(),
            ))),
            Status::Ok,
            PAGE_SUCCESS,
        ),
    }
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|window| window == b"\r\n\r\n") && buffer.len() < MAX_HEAD {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Ok(String::from_utf8_lossy(&buffer).into_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    BadRequest,
    NotFound,
}

async fn respond(stream: &mut TcpStream, status: Status, body: &str) -> std::io::Result<()> {
    let status_line = match status {
        Status::Ok => "200 OK",
        Status::BadRequest => "400 Bad Request",
        Status::NotFound => "404 Not Found",
    };
    let response = format!(
        "HTTP/1.1 {status_line}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

const PAGE_SUCCESS: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>calconnect: signed in</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>You are signed in</h1><p>calconnect has your calendar connection. You can close this tab.</p></body></html>";
const PAGE_FAILURE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>calconnect: sign-in failed</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Sign-in did not complete</h1><p>Go back to calconnect to see why and what to do next. You can close this tab.</p></body></html>";
const PAGE_WRONG_STATE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>calconnect: not this sign-in</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>This answer does not belong to the sign-in calconnect is waiting for</h1><p>It was refused for your safety. If you started a sign-in, finish it in the tab calconnect opened, or start it again from calconnect.</p></body></html>";
const PAGE_NOT_FOUND: &str = "<!doctype html><html><body>Not found</body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(20);

    async fn bind() -> LoopbackListener {
        LoopbackListener::bind(&RegisteredRedirect::default())
            .await
            .unwrap()
    }

    async fn get_at(address: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    async fn get(port: u16, path: &str) -> String {
        get_at((Ipv4Addr::LOCALHOST, port).into(), path).await
    }

    /// Whether this machine has an IPv6 loopback at all (without one, nobody can take `[::1]`).
    fn ipv6_loopback_exists() -> bool {
        match std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)) {
            Ok(_) => true,
            Err(error) => {
                eprintln!(
                    "no IPv6 loopback on this machine ({error}): the [::1] checks do not apply"
                );
                false
            }
        }
    }

    #[tokio::test]
    async fn a_localhost_redirect_listens_on_both_loopbacks_and_sends_the_registered_uri_with_the_port(
    ) {
        let listener = bind().await;
        assert!(listener
            .addresses()
            .iter()
            .all(|address| address.ip().is_loopback()));
        if ipv6_loopback_exists() {
            assert_eq!(listener.addresses().len(), 2, "{:?}", listener.addresses());
        }
        assert_eq!(
            listener.redirect_uri(),
            format!("http://localhost:{}", listener.port())
        );
    }

    #[tokio::test]
    async fn a_127_0_0_1_redirect_listens_on_the_ipv4_loopback_only() {
        let redirect = RegisteredRedirect::parse("http://127.0.0.1/callback").unwrap();
        let listener = LoopbackListener::bind(&redirect).await.unwrap();
        assert_eq!(
            listener.addresses(),
            [SocketAddr::from((Ipv4Addr::LOCALHOST, listener.port()))]
        );
        assert_eq!(
            listener.redirect_uri(),
            format!("http://127.0.0.1:{}/callback", listener.port())
        );
    }

    #[tokio::test]
    async fn a_favicon_request_is_ignored_and_the_matching_callback_is_accepted() {
        let listener = bind().await;
        let addresses = listener.addresses();
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("s1", WAIT).await });
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let page = get(port, "/?code=abc&state=s1").await;
        assert!(page.contains("You are signed in"), "{page}");
        assert!(matches!(waiter.await.unwrap(), Ok(Callback::Code(_))));
        for address in addresses {
            assert!(
                TcpStream::connect(address).await.is_err(),
                "the listener on {address} closes after one callback"
            );
        }
    }

    #[tokio::test]
    async fn a_registered_path_is_the_only_one_that_counts() {
        let redirect = RegisteredRedirect::parse("http://localhost/callback").unwrap();
        let listener = LoopbackListener::bind(&redirect).await.unwrap();
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("s", WAIT).await });
        assert!(get(port, "/?code=abc&state=s")
            .await
            .starts_with("HTTP/1.1 404"));
        assert!(get(port, "/callback?code=abc&state=s")
            .await
            .contains("You are signed in"));
        assert!(matches!(waiter.await.unwrap(), Ok(Callback::Code(_))));
    }

    #[tokio::test]
    async fn a_forged_callback_is_refused_and_the_real_one_still_signs_in() {
        let listener = bind().await;
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("expected", WAIT).await });
        let forged = get(port, "/?code=forged&state=forged").await;
        assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
        let missing = get(port, "/?code=forged").await;
        assert!(missing.starts_with("HTTP/1.1 400"), "{missing}");
        let forged_error = get(port, "/?error=access_denied&state=forged").await;
        assert!(forged_error.starts_with("HTTP/1.1 400"), "{forged_error}");
        let page = get(port, "/?code=real&state=expected").await;
        assert!(page.contains("You are signed in"), "{page}");
        match waiter.await.unwrap() {
            Ok(Callback::Code(code)) => {
                assert_eq!(secrecy::ExposeSecret::expose_secret(&code), "real")
            }
            other => panic!("expected the real code, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_wait_that_saw_only_forged_callbacks_ends_as_a_state_mismatch() {
        let listener = bind().await;
        let port = listener.port();
        let waiter = tokio::spawn(async move {
            listener
                .accept_callback("expected", Duration::from_millis(500))
                .await
        });
        let page = get(port, "/?code=abc&state=forged").await;
        assert!(page.contains("does not belong"), "{page}");
        assert!(matches!(waiter.await.unwrap(), Err(Error::StateMismatch)));
    }

    #[tokio::test]
    async fn a_client_that_sends_nothing_does_not_hold_up_the_real_callback() {
        let listener = bind().await;
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("s", WAIT).await });
        let mut silent = Vec::new();
        for _ in 0..MAX_CONNECTIONS - 1 {
            silent.push(
                TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                    .await
                    .unwrap(),
            );
        }
        let page = tokio::time::timeout(Duration::from_secs(2), get(port, "/?code=abc&state=s"))
            .await
            .expect("the real callback is answered while the silent clients wait");
        assert!(page.contains("You are signed in"), "{page}");
        assert!(matches!(waiter.await.unwrap(), Ok(Callback::Code(_))));
    }

    #[tokio::test]
    async fn a_silent_client_is_closed_after_the_head_timeout() {
        let listener = bind().await;
        let port = listener.port();
        let _waiter = tokio::spawn(async move { listener.accept_callback("s", WAIT).await });
        let mut silent = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(HEAD_TIMEOUT * 2, silent.read(&mut byte))
            .await
            .expect("the listener closes the idle connection");
        assert_eq!(read.unwrap(), 0, "closed without an answer");
        assert!(started.elapsed() >= HEAD_TIMEOUT - Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_valid_code_is_kept_when_the_browser_hangs_up_before_the_page() {
        let listener = bind().await;
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("s", WAIT).await });
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        stream
            .write_all(b"GET /?code=abc&state=s HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        // A reset before the listener answers: writing the "you can close this tab" page fails.
        stream.set_zero_linger().unwrap();
        drop(stream);
        let outcome = tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("the code is kept although the page could not be written")
            .unwrap();
        assert!(matches!(outcome, Ok(Callback::Code(_))), "{outcome:?}");
    }

    #[tokio::test]
    async fn the_ipv6_loopback_side_of_the_port_cannot_be_taken_by_another_process() {
        if !ipv6_loopback_exists() {
            return;
        }
        let listener = bind().await;
        match std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, listener.port())) {
            Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}"),
            Ok(_) => panic!(
                "another process could listen on [::1]:{} and take the redirect",
                listener.port()
            ),
        }
    }

    #[tokio::test]
    async fn a_browser_that_resolves_localhost_to_ipv6_reaches_the_listener() {
        if !ipv6_loopback_exists() {
            return;
        }
        let listener = bind().await;
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("s", WAIT).await });
        let page = get_at((Ipv6Addr::LOCALHOST, port).into(), "/?code=abc&state=s").await;
        assert!(page.contains("You are signed in"), "{page}");
        assert!(matches!(waiter.await.unwrap(), Ok(Callback::Code(_))));
    }

    #[tokio::test]
    async fn a_port_another_program_holds_on_ipv6_fails_the_bind_clearly() {
        if !ipv6_loopback_exists() {
            return;
        }
        // A port free on 127.0.0.1 but held on [::1] by "another program".
        let squatter = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
        let port = squatter.local_addr().unwrap().port();
        if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
            eprintln!("port {port} is also taken on 127.0.0.1; nothing to check");
            return;
        }
        let error = LoopbackListener::bind_port(&RegisteredRedirect::default(), port)
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::LoopbackPortTaken { port: taken, .. } if taken == port),
            "{error:?}"
        );
        assert!(error.suggests_device_code());
        assert!(
            error.user_message().contains("Another program"),
            "{}",
            error.user_message()
        );
    }

    #[tokio::test]
    async fn an_error_redirect_keeps_the_aadsts_code() {
        let listener = bind().await;
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("s", WAIT).await });
        get(
            port,
            "/?error=access_denied&error_description=AADSTS65004%3A+declined&state=s",
        )
        .await;
        match waiter.await.unwrap() {
            Ok(Callback::Error(error)) => assert_eq!(error.code(), Some(65004)),
            other => panic!("expected an error callback, got {other:?}"),
        }
    }
}
