//! The HTTP client every calconnect network call goes through, the rule for which URLs it may call, and
//! the one way an answer's body is read: [`read_body`], which stops at a size cap, so a hostile or broken
//! server cannot make calconnect hold an endless answer in memory. The `oauth2` crate's requests go through
//! [`OAuthHttp`] for the same reason (its own reqwest glue reads bodies without a limit).

use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::proxy::ProxyConfig;
use crate::trust::Trust;

/// The largest answer read from an identity endpoint (discovery document, token, device code). Entra's
/// are a few KiB (a token answer with a large `id_token` stays well under 64 KiB); 4 MiB is far beyond
/// any genuine one and small enough to hold.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The deepest JSON nesting read. Identity answers nest two or three levels. serde_json stops at 128
/// on its own, but only while its `unbounded_depth` feature is off, and a crate in the app's build
/// (`cargo_metadata`, under tauri's macros) turns it on: this check holds whatever features are unified.
pub const MAX_JSON_DEPTH: usize = 64;

/// Whether `json` nests arrays and objects deeper than [`MAX_JSON_DEPTH`], by one pass over its bytes
/// (brackets inside strings do not count). Run before serde_json, whose parse and drop recurse.
pub fn json_too_deep(json: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The answer said (`Content-Length`) or turned out to be longer than the cap; reading stopped there.
    #[error("the answer is larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The answer is JSON nested deeper than [`MAX_JSON_DEPTH`].
    #[error("the answer nests deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The transfer failed (or timed out) below HTTP.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// The answer could not be handed to `oauth2` as an HTTP response.
    #[error("the answer cannot be represented: {0}")]
    Response(#[from] oauth2::http::Error),
}

/// Reads `response`'s body, refusing it at once when its `Content-Length` exceeds `limit` and otherwise
/// reading chunk by chunk until the end or until more than `limit` bytes arrived. The time bound is the
/// client's timeout ([`http_client`]: 60 s per request, body included).
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Vec<u8>, BodyError> {
    let announced = response.content_length();
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::with_capacity(announced.map_or(0, |length| length as usize));
    while let Some(chunk) = response.chunk().await? {
        if chunk.len() > limit - body.len() {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a JSON answer for this crate: [`read_body`] at [`MAX_BODY_BYTES`], then [`json_too_deep`].
pub(crate) async fn read_json(response: reqwest::Response, url: &Url) -> Result<Vec<u8>> {
    let body = read_body(response, MAX_BODY_BYTES)
        .await
        .map_err(|error| Error::body(url, error))?;
    if json_too_deep(&body) {
        return Err(Error::body(
            url,
            BodyError::TooDeep {
                limit: MAX_JSON_DEPTH,
            },
        ));
    }
    Ok(body)
}

/// `oauth2`'s HTTP client: a reqwest client whose every answer is read with [`read_body`] at
/// [`MAX_BODY_BYTES`]. Pass `&OAuthHttp(http.clone())` to `request_async` (the clone shares the pool).
#[derive(Debug, Clone)]
pub struct OAuthHttp(pub reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = BodyError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::result::Result<oauth2::HttpResponse, BodyError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.0.execute(request.try_into()?).await?;
            let mut builder = oauth2::http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = read_body(response, MAX_BODY_BYTES).await?;
            // oauth2 hands every answer to serde_json.
            if json_too_deep(&body) {
                return Err(BodyError::TooDeep {
                    limit: MAX_JSON_DEPTH,
                });
            }
            Ok(builder.body(body)?)
        })
    }
}

/// Builds the reqwest client for identity and Graph calls, trusting what `trust` names ([`Trust::default`]:
/// the bundled roots and the OS trust store; the sandbox's or an organisation's CA can be added).
///
/// Redirects are never followed: an OAuth endpoint that redirects is misconfigured, and following it could
/// leak a code or token to another host (oauth2-rs's advice). TLS verification stays on. Requests go
/// through the proxy [`ProxyConfig::system`] names for them (none for loopback).
pub fn http_client(trust: &Trust) -> Result<reqwest::Client> {
    // The same rustls set-up as EWS ([`Trust::client_config`]), offering HTTP/2 and HTTP/1.1 as reqwest's
    // own configuration would.
    let tls = trust.client_config(&[b"h2", b"http/1.1"])?;
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("calconnect/", env!("CARGO_PKG_VERSION")))
        .use_preconfigured_tls(tls)
        // The one proxy decision of calconnect, instead of reqwest's own reading of the environment.
        .proxy(ProxyConfig::system().reqwest_proxy(|_| false))
        .build()
        .map_err(|source| Error::HttpClient { source })
}

/// Whether `host` names the local machine (the only hosts allowed over plain `http://`).
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(address) => address.is_loopback(),
        url::Host::Ipv6(address) => address.is_loopback(),
    }
}

/// Accepts `https://` URLs, and `http://` only for loopback addresses (127.0.0.1, ::1, localhost).
pub fn ensure_secure_url(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host().as_ref().is_some_and(is_loopback_host) => Ok(()),
        _ => Err(Error::InsecureUrl {
            url: url.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_counts_brackets_outside_strings_only() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(!json_too_deep(nested(MAX_JSON_DEPTH).as_bytes()));
        assert!(json_too_deep(nested(MAX_JSON_DEPTH + 1).as_bytes()));
        assert!(json_too_deep("[".repeat(300_000).as_bytes()));
        let brackets_in_a_string = format!(
            r#"{{"error_description":"{}\"{}"}}"#,
            "[".repeat(200),
            "{".repeat(200)
        );
        assert!(!json_too_deep(brackets_in_a_string.as_bytes()));
    }

    #[test]
    fn https_and_loopback_http_are_accepted_and_remote_http_is_rejected() {
        for ok in [
            "https://login.microsoftonline.com/",
            "http://127.0.0.1:8080/",
            "http://localhost/x",
            "http://[::1]:3/",
        ] {
            assert!(
                ensure_secure_url(&Url::parse(ok).unwrap()).is_ok(),
                "{ok} should be allowed"
            );
        }
        for bad in [
            "http://login.microsoftonline.com/",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "http://localhost.evil.com/",
        ] {
            assert!(
                matches!(
                    ensure_secure_url(&Url::parse(bad).unwrap()),
                    Err(Error::InsecureUrl { .. })
                ),
                "{bad} should be rejected"
            );
        }
    }
}
