//! Test support only (a dev-dependency of the identity, Graph and EWS tests): one copy instead of three.
//!
//! A hostile HTTP/1.1 server on loopback, on raw TCP because it sends what no well-behaved framework
//! would: a body that never ends, a `Content-Length` of 10 GB. Every request gets the answer the test's
//! script gives for its path; connections are kept alive.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// What the server answers.
pub enum Answer {
    /// A complete answer.
    Full {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// 200, chunked: `bytes` bytes of blanks, then silence with the connection open and no last chunk,
    /// so only a reader that stops at its cap finishes (the test stays light either way).
    Endless { bytes: usize },
    /// 200 announcing 10 GB, a few bytes, then silence.
    HugeLength,
}

impl Answer {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::Full {
            status,
            content_type: "application/json",
            body: body.into(),
        }
    }
}

/// A running hostile server.
pub struct Hostile {
    /// `http://127.0.0.1:{port}/`.
    pub base: Url,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    /// The request targets received, in order.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }

    /// `base` joined with `path`.
    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }
}

/// Starts a server answering each request with `script(request target)`.
pub async fn serve(script: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let paths = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(script);
    let seen = paths.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (script, seen) = (script.clone(), seen.clone());
            tokio::spawn(async move {
                let _ = connection(stream, &*script, &seen).await;
            });
        }
    });
    Hostile { base, paths }
}

async fn connection(
    mut stream: TcpStream,
    script: &(dyn Fn(&str) -> Answer + Send + Sync),
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    loop {
        // The head, then as much body as it announces.
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..read]);
        }
        buffer.drain(..head_end + length);
        let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
        seen.lock().unwrap().push(target.clone());
        match script(&target) {
            Answer::Full {
                status,
                content_type,
                body,
            } => {
                let answer = format!(
                    "HTTP/1.1 {status} Hostile\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).await?;
            }
            Answer::Endless { bytes } => {
                stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
                    )
                    .await?;
                let chunk = vec![b' '; 64 * 1024];
                let mut written = 0;
                while written < bytes {
                    stream
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await?;
                    stream.write_all(&chunk).await?;
                    stream.write_all(b"\r\n").await?;
                    written += chunk.len();
                }
                return silence(stream).await;
            }
            Answer::HugeLength => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10737418240\r\n\r\n{\"a\":")
                    .await?;
                return silence(stream).await;
            }
        }
    }
}

/// Keeps the connection open, sending nothing, until the client closes it.
async fn silence(mut stream: TcpStream) -> std::io::Result<()> {
    let mut sink = [0u8; 4096];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}
