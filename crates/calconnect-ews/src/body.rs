//! Reading an answer's body with a size cap, for every EWS and Autodiscover request: through the pooled
//! reqwest client ([`read_response`], over [`calconnect_identity::http::read_body`]) and on NTLM's own
//! connection ([`read_incoming`], over `http_body_util::Limited`). A body that says (`Content-Length`) or
//! turns out to be longer than [`MAX_BODY_BYTES`] is [`Error::ResponseTooLarge`]: the server may be
//! hostile or broken, and either way calconnect does not hold more of it. Reads are also bounded in time:
//! the run's request timeout covers the body ([`crate::tls::http_client`], [`crate::connection::Connector`]).

use calconnect_identity::http::{read_body, BodyError};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, CONTENT_LENGTH};
use url::Url;

use crate::error::{Error, Result};

/// The largest answer read from Exchange or Autodiscover. The test's answers are a few KiB (a calendar
/// view of one week, a folder's permissions); 4 MiB is far beyond any of them and small enough to hold.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Reads a reqwest response's body, at most [`MAX_BODY_BYTES`]. `url` (the logical URL) and `operation`
/// name a failure.
pub(crate) async fn read_response(
    response: reqwest::Response,
    url: &Url,
    operation: &str,
) -> Result<Bytes> {
    match read_body(response, MAX_BODY_BYTES).await {
        Ok(body) => Ok(Bytes::from(body)),
        Err(BodyError::TooLarge { limit }) => Err(too_large(url, operation, limit)),
        Err(BodyError::Http(error)) => Err(crate::client::transport_error(url, operation, error)),
        // `read_body` checks sizes only (nesting is `json_too_deep`'s, which XML has no use for).
        Err(error @ (BodyError::Response(_) | BodyError::TooDeep { .. })) => {
            Err(Error::Transport {
                operation: operation.into(),
                url: url.to_string(),
                detail: error.to_string(),
            })
        }
    }
}

/// Why [`read_incoming`] stopped.
#[derive(Debug)]
pub(crate) enum IncomingError {
    /// More than [`MAX_BODY_BYTES`], announced or received.
    TooLarge,
    /// The connection failed.
    Hyper(hyper::Error),
}

/// Reads a hyper body to its end, at most [`MAX_BODY_BYTES`]; refuses at once a `Content-Length` above it.
pub(crate) async fn read_incoming(
    headers: &HeaderMap,
    body: Incoming,
) -> std::result::Result<Bytes, IncomingError> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(IncomingError::TooLarge);
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) => match error.downcast::<hyper::Error>() {
            Ok(error) => Err(IncomingError::Hyper(*error)),
            // `Limited`'s only other error is its LengthLimitError.
            Err(error) => {
                debug_assert!(error.is::<LengthLimitError>());
                Err(IncomingError::TooLarge)
            }
        },
    }
}

/// [`Error::ResponseTooLarge`] for `operation` at `url`.
pub(crate) fn too_large(url: &Url, operation: &str, limit: usize) -> Error {
    Error::ResponseTooLarge {
        operation: operation.into(),
        url: url.to_string(),
        limit,
    }
}
