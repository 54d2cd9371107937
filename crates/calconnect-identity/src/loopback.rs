//! The loopback redirect listener (RFC 8252 §7.3): 127.0.0.1 on an ephemeral port, one callback, then closed.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use subtle::ConstantTimeEq;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::aadsts::AadError;
use crate::error::{Error, Result};

/// Pause after a failed `accept()` before trying again.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);

/// What the authorization server sent back to the redirect URI.
#[derive(Debug)]
pub(crate) enum Callback {
    Code(secrecy::SecretString),
    Error(AadError),
}

/// A listener bound to 127.0.0.1 on a port the OS picked.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    address: SocketAddr,
}

impl LoopbackListener {
    /// Binds 127.0.0.1:0. Never a wildcard address: the redirect carries a code.
    pub async fn bind() -> Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|source| Error::LoopbackBind { source })?;
        let address = listener
            .local_addr()
            .map_err(|source| Error::LoopbackBind { source })?;
        Ok(Self { listener, address })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// `http://localhost:{port}/`: Entra ignores the port when matching the registered `http://localhost`
    /// (Microsoft docs "Redirect URI (reply URL) best practices"), and its portal refuses `127.0.0.1`.
    pub fn redirect_uri(&self) -> Url {
        Url::parse(&format!("http://localhost:{}/", self.port())).expect("loopback URL is valid")
    }

    /// Waits for the one redirect that carries `state`, answers it with a small page, then closes.
    ///
    /// Requests without `code`/`error` (a browser's favicon fetch) get a 404 and do not count. A redirect whose
    /// state differs is answered with the failure page and fails the sign-in: it was not started here.
    pub(crate) async fn accept_callback(self, expected_state: &str) -> Result<Callback> {
        loop {
            let stream = match self.listener.accept().await {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // The listener is bound; a failed accept (EMFILE, ECONNABORTED) concerns one connection
                    // or a passing shortage, so keep waiting. The pause keeps a lasting error from spinning.
                    tracing::debug!(%error, "accepting a connection on the loopback listener failed");
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                    continue;
                }
            };
            match handle_connection(stream, expected_state).await {
                Ok(Some(callback)) => return callback,
                Ok(None) => continue,
                Err(error) => {
                    tracing::debug!(%error, "ignoring a broken connection on the loopback listener");
                    continue;
                }
            }
        }
    }
}

async fn handle_connection(
    mut stream: TcpStream,
    expected_state: &str,
) -> std::io::Result<Option<Result<Callback>>> {
    let head = match tokio::time::timeout(Duration::from_secs(10), read_head(&mut stream)).await {
        Ok(head) => head?,
        Err(_) => return Ok(None),
    };
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
        respond(&mut stream, 400, "Bad request", PAGE_NOT_FOUND).await?;
        return Ok(None);
    };
    let parameter = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let (code, error) = (parameter("code"), parameter("error"));
    if url.path() != "/" || (code.is_none() && error.is_none()) {
        respond(&mut stream, 404, "Not Found", PAGE_NOT_FOUND).await?;
        return Ok(None);
    }
    let state = parameter("state").unwrap_or_default();
    // Constant time, so the state cannot be guessed byte by byte from response timing.
    let state_matches: bool = state.as_bytes().ct_eq(expected_state.as_bytes()).into();
    let outcome = if !state_matches {
        Err(Error::StateMismatch)
    } else if let Some(error) = error {
        Ok(Callback::Error(AadError::from_redirect(
            &error,
            parameter("error_description").as_deref(),
        )))
    } else {
        Ok(Callback::Code(secrecy::SecretString::from(
            code.unwrap_or_default(),
        )))
    };
    let page = if matches!(outcome, Ok(Callback::Code(_))) {
        PAGE_SUCCESS
    } else {
        PAGE_FAILURE
    };
    respond(&mut stream, 200, "OK", page).await?;
    Ok(Some(outcome))
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|window| window == b"\r\n\r\n") && buffer.len() < 16 * 1024 {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Ok(String::from_utf8_lossy(&buffer).into_owned())
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    reason: &str,
    body: &str,
) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

const PAGE_SUCCESS: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>calconnect: signed in</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>You are signed in</h1><p>calconnect has your calendar connection. You can close this tab.</p></body></html>";
const PAGE_FAILURE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>calconnect: sign-in failed</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Sign-in did not complete</h1><p>Go back to calconnect to see why and what to do next. You can close this tab.</p></body></html>";
const PAGE_NOT_FOUND: &str = "<!doctype html><html><body>Not found</body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, path: &str) -> String {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn the_listener_binds_only_the_ipv4_loopback() {
        let listener = LoopbackListener::bind().await.unwrap();
        assert!(listener.address.ip().is_loopback());
        assert_eq!(
            listener.redirect_uri().as_str(),
            format!("http://localhost:{}/", listener.port())
        );
    }

    #[tokio::test]
    async fn a_favicon_request_is_ignored_and_the_matching_callback_is_accepted() {
        let listener = LoopbackListener::bind().await.unwrap();
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("s1").await });
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let page = get(port, "/?code=abc&state=s1").await;
        assert!(page.contains("You are signed in"), "{page}");
        assert!(matches!(waiter.await.unwrap(), Ok(Callback::Code(_))));
        assert!(
            TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .await
                .is_err(),
            "the listener closes after one callback"
        );
    }

    #[tokio::test]
    async fn a_callback_with_another_state_is_rejected_as_csrf() {
        let listener = LoopbackListener::bind().await.unwrap();
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("expected").await });
        let page = get(port, "/?code=abc&state=forged").await;
        assert!(page.contains("did not complete"));
        assert!(matches!(waiter.await.unwrap(), Err(Error::StateMismatch)));
    }

    #[tokio::test]
    async fn an_error_redirect_keeps_the_aadsts_code() {
        let listener = LoopbackListener::bind().await.unwrap();
        let port = listener.port();
        let waiter = tokio::spawn(async move { listener.accept_callback("s").await });
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
