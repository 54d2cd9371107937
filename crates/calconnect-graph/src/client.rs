//! [`GraphClient`]: authenticated requests with one refresh on 401, bounded `Retry-After` retries on
//! 429/503, Graph's error envelope, and `@odata.nextLink` paging (learn.microsoft.com/graph/paging,
//! learn.microsoft.com/graph/throttling, learn.microsoft.com/graph/errors).
//!
//! Every read is bounded, because the answer may come from a hostile or broken server: a body at
//! [`MAX_PAGE_BYTES`] (refused at once when `Content-Length` says more), a collection at [`MAX_PAGES`]
//! pages and [`MAX_ITEMS`] items, and a `nextLink` back to a page already read ends it as an error. JSON
//! nesting is bounded by serde_json's recursion limit (128), and the time by the http client's timeout
//! (`calconnect_identity::http_client`: 60 s per request, body included).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use calconnect_identity::http::{json_too_deep, BodyError, MAX_JSON_DEPTH};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{snippet, Error, ErrorEnvelope, Result};
use crate::model::Page;
use crate::token::{Sleeper, TokenProvider, TokioSleeper};

/// How many times a throttled (429/503) request is retried before [`Error::Throttled`].
pub const MAX_THROTTLE_RETRIES: u32 = 3;

/// Wait when a 429/503 carries no usable `Retry-After`, doubled per attempt.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(2);

/// Longest wait we honour, so a bogus header cannot hang the wizard.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// The largest answer read, one page of a collection: a page of 999 users with the directory fields, the
/// largest Graph sends us, is well under 1 MiB.
pub const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;

/// The most pages one collection is followed for: at Graph's default of 100 users a page, a directory of
/// 100,000 users (calendars and rooms take one or two pages).
pub const MAX_PAGES: usize = 1_000;

/// The most items one collection may hold across its pages (pages of tiny hostile items would otherwise
/// multiply [`MAX_PAGE_BYTES`] by [`MAX_PAGES`]).
pub const MAX_ITEMS: usize = 500_000;

/// Client of Microsoft Graph v1.0 for one base URL (`https://graph.microsoft.com/v1.0/`, or the sandbox's).
#[derive(Clone)]
pub struct GraphClient {
    pub(crate) base: Url,
    http: reqwest::Client,
    sleeper: Arc<dyn Sleeper>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// A request body, re-sent on retries.
pub(crate) enum Body<'a> {
    None,
    Json(&'a serde_json::Value),
}

impl GraphClient {
    /// A client for `base` (the Graph root including the version, e.g. `https://graph.microsoft.com/v1.0/`;
    /// a missing trailing slash is added). Plain `http` is refused at request time unless `base` is loopback.
    pub fn new(mut base: Url, http: reqwest::Client) -> Self {
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Self {
            base,
            http,
            sleeper: Arc::new(TokioSleeper),
        }
    }

    /// Replaces the tokio timer used for `Retry-After` waits.
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// The Graph root this client talks to.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub(crate) fn endpoint(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("relative Graph paths are valid URL references")
    }

    /// The bearer token goes only to the base URL's origin, over https (or http on loopback).
    fn check_url(&self, url: &Url) -> Result<()> {
        let unsafe_url = |reason| Error::UnsafeUrl {
            url: url.to_string(),
            reason,
        };
        if url.origin() != self.base.origin() {
            return Err(unsafe_url("it is not on the Graph base URL's origin"));
        }
        match url.scheme() {
            "https" => Ok(()),
            "http" if is_loopback(url) => Ok(()),
            _ => Err(unsafe_url(
                "plain http is only allowed to loopback addresses",
            )),
        }
    }

    /// Sends one Graph request and parses the JSON answer, with the retry rules of this module.
    pub(crate) async fn request<T: DeserializeOwned>(
        &self,
        tokens: &dyn TokenProvider,
        method: Method,
        url: Url,
        body: Body<'_>,
        headers: &[(&'static str, &str)],
    ) -> Result<T> {
        self.check_url(&url)?;
        // `refreshed` remembers the one refresh this request may use; `refresh_next` asks for it on the
        // next attempt only, so a throttled retry after a refresh does not redeem the refresh token again.
        let mut refreshed = false;
        let mut refresh_next = false;
        let mut throttled_attempts = 0;
        loop {
            let mut request = self.http.request(method.clone(), url.clone());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Body::Json(json) = body {
                request = request.json(json);
            }
            // The token is fetched and put in the (sensitive) `Authorization` header right before sending.
            let token = tokens
                .access_token(std::mem::take(&mut refresh_next))
                .await?;
            let request = request.bearer_auth(token.expose_secret());
            drop(token);
            let response = request.send().await?;
            let status = response.status();
            tracing::debug!(%method, %url, status = status.as_u16(), "graph response");
            if status.is_success() {
                let body = read_body(response, &url).await?;
                // 204 No Content (a DELETE) has no body: read it as JSON `null`, which `()` accepts.
                let body: &[u8] = if body.trim_ascii().is_empty() {
                    b"null"
                } else {
                    &body
                };
                if json_too_deep(body) {
                    return Err(Error::Decode {
                        url: url.to_string(),
                        body_snippet: format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"),
                    });
                }
                return serde_json::from_slice(body).map_err(|error| Error::Decode {
                    url: url.to_string(),
                    body_snippet: format!("{error}: {}", snippet(&String::from_utf8_lossy(body))),
                });
            }
            let retry_after = retry_after(response.headers());
            // An error answer cut off on the way reads as empty, as before; one past the cap is an error.
            let text = match read_body(response, &url).await {
                Ok(body) => String::from_utf8_lossy(&body).into_owned(),
                Err(error @ Error::ResponseTooLarge { .. }) => return Err(error),
                Err(_) => String::new(),
            };
            let graph_error = ErrorEnvelope::parse(&text);
            match status {
                StatusCode::UNAUTHORIZED if !refreshed => {
                    tracing::info!(%url, code = %graph_error.code, "graph rejected the token; refreshing once");
                    refreshed = true;
                    refresh_next = true;
                }
                StatusCode::UNAUTHORIZED => {
                    return Err(Error::Unauthorized {
                        message: graph_error.message,
                    })
                }
                StatusCode::FORBIDDEN => {
                    return Err(Error::AccessDenied {
                        code: graph_error.code,
                        message: graph_error.message,
                    })
                }
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    if throttled_attempts >= MAX_THROTTLE_RETRIES {
                        return Err(Error::Throttled { retry_after });
                    }
                    let wait = retry_after
                        .unwrap_or(DEFAULT_BACKOFF * 2u32.pow(throttled_attempts))
                        .min(MAX_RETRY_AFTER);
                    throttled_attempts += 1;
                    tracing::info!(%url, status = status.as_u16(), wait_secs = wait.as_secs(), attempt = throttled_attempts, "graph is throttling; waiting");
                    self.sleeper.sleep(wait).await;
                }
                _ => {
                    return Err(Error::Api {
                        status: status.as_u16(),
                        code: graph_error.code,
                        message: graph_error.message,
                        request_id: graph_error.inner_error.and_then(|inner| inner.request_id),
                    })
                }
            }
        }
    }

    /// Every item of a collection, following the full `@odata.nextLink` until it is absent (never rebuilding
    /// it from `$skiptoken`, as learn.microsoft.com/graph/paging asks), for at most [`MAX_PAGES`] pages and
    /// [`MAX_ITEMS`] items; a `nextLink` to a page already read is [`Error::EndlessCollection`].
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        tokens: &dyn TokenProvider,
        first: Url,
    ) -> Result<Vec<T>> {
        self.get_all_with(tokens, first, &[]).await
    }

    /// [`Self::get_all`] sending `headers` with every page (Graph keeps no memory of them between pages).
    pub(crate) async fn get_all_with<T: DeserializeOwned>(
        &self,
        tokens: &dyn TokenProvider,
        first: Url,
        headers: &[(&'static str, &str)],
    ) -> Result<Vec<T>> {
        let endless = |reason: String| Error::EndlessCollection {
            url: first.to_string(),
            reason,
        };
        let mut items = Vec::new();
        let mut read = HashSet::new();
        let mut next = Some(first.clone());
        while let Some(url) = next.take() {
            if read.len() == MAX_PAGES {
                return Err(endless(format!("it has more than {MAX_PAGES} pages")));
            }
            let page: Page<T> = self
                .request(tokens, Method::GET, url.clone(), Body::None, headers)
                .await?;
            if page.value.len() > MAX_ITEMS - items.len() {
                return Err(endless(format!("it has more than {MAX_ITEMS} items")));
            }
            items.extend(page.value);
            if let Some(link) = page.next_link {
                let link = url.join(&link).map_err(|_| Error::Decode {
                    url: url.to_string(),
                    body_snippet: snippet(&format!("invalid @odata.nextLink {link:?}")),
                })?;
                read.insert(url);
                if read.contains(&link) {
                    return Err(endless(format!(
                        "@odata.nextLink leads back to {link}, a page already read"
                    )));
                }
                next = Some(link);
            }
        }
        Ok(items)
    }
}

/// Reads a body, at most [`MAX_PAGE_BYTES`], with the reader every calconnect client shares
/// ([`calconnect_identity::http::read_body`]: refused at once when `Content-Length` says more, otherwise
/// read chunk by chunk until the end or the cap).
async fn read_body(response: reqwest::Response, url: &Url) -> Result<Vec<u8>> {
    match calconnect_identity::http::read_body(response, MAX_PAGE_BYTES).await {
        Ok(body) => Ok(body),
        Err(BodyError::TooLarge { limit }) => Err(Error::ResponseTooLarge {
            url: url.to_string(),
            limit,
        }),
        Err(BodyError::Http(error)) => Err(error.into()),
        // `read_body` checks sizes only: nesting is `json_too_deep`'s, which the caller runs.
        Err(error @ (BodyError::TooDeep { .. } | BodyError::Response(_))) => Err(Error::Decode {
            url: url.to_string(),
            body_snippet: error.to_string(),
        }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// `Retry-After` in seconds (Graph's form). An HTTP-date or garbage counts as absent.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> GraphClient {
        GraphClient::new(Url::parse(base).unwrap(), reqwest::Client::new())
    }

    #[test]
    fn the_base_url_gets_a_trailing_slash_so_paths_join_under_the_version() {
        let client = client("https://graph.microsoft.com/v1.0");
        assert_eq!(
            client.endpoint("me/calendars").as_str(),
            "https://graph.microsoft.com/v1.0/me/calendars"
        );
    }

    #[test]
    fn tokens_go_only_to_the_base_origin_over_https_or_loopback_http() {
        let graph = client("https://graph.microsoft.com/v1.0/");
        assert!(graph
            .check_url(&Url::parse("https://graph.microsoft.com/v1.0/me").unwrap())
            .is_ok());
        assert!(matches!(
            graph.check_url(&Url::parse("https://evil.example/v1.0/me").unwrap()),
            Err(Error::UnsafeUrl { .. })
        ));
        let plain = client("http://graph.example.com/v1.0/");
        assert!(matches!(
            plain.check_url(&Url::parse("http://graph.example.com/v1.0/me").unwrap()),
            Err(Error::UnsafeUrl { .. })
        ));
        for loopback in ["http://127.0.0.1:8080/v1.0/", "http://localhost:8080/v1.0/"] {
            let local = client(loopback);
            assert!(local.check_url(&local.endpoint("me")).is_ok(), "{loopback}");
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_dates_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
