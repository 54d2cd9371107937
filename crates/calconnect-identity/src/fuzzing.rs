//! The properties the fuzz targets in `fuzz/` check, kept here so that ordinary `#[test]`s replay the
//! committed corpus (`fuzz/corpus/identity_token_error/`, `fuzz/corpus/identity_discovery/`,
//! `fuzz/corpus/identity_loopback_request/`) through
//! exactly the same code, without a fuzzer.
//!
//! Not an API: each function panics when a property is violated, which is how libFuzzer sees a failure.

use url::Url;

use crate::aadsts::AadError;
use crate::discovery::Discovery;
use crate::error::Error;
use crate::http::json_too_deep;
use crate::loopback::{classify, Callback, Expected, Served, Status};

/// The `state` and path [`check_loopback_request`] expects, as a sign-in to `http://localhost` would.
const LOOPBACK_STATE: &str = "fuzz-state-Q2FsY29ubmVjdA";
const LOOPBACK_PATH: &str = "/";

/// The discovery URL [`check_discovery`] parses documents as if fetched from: a named tenant, so the
/// issuer check meets the tenant name, Entra's `{tenantid}` placeholder and GUIDs.
const DISCOVERY_URL: &str =
    "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration";

/// A token or device-code endpoint's error body, as the client reads it (depth check, serde_json into
/// [`AadError`], [`Error::server`]), and the same bytes as an authorize redirect's `error` and
/// `error_description` (split at the first newline) through [`AadError::from_redirect`]. Asserts: no
/// panic, and the error's `Display`, user message, next step, IDs and every text field of the AADSTS
/// answer hold no control character other than newline and tab.
pub fn check_token_error(data: &[u8]) {
    if !json_too_deep(data) {
        if let Ok(response) = serde_json::from_slice::<AadError>(data) {
            check_server_error(response);
        }
    }
    let text = String::from_utf8_lossy(data);
    let (error, description) = match text.split_once('\n') {
        Some((error, description)) => (error, Some(description)),
        None => (text.as_ref(), None),
    };
    check_server_error(AadError::from_redirect(error, description));
}

fn check_server_error(response: AadError) {
    let error = Error::server("sign-in", response);
    check_error(&error);
    let response = error
        .aad()
        .expect("a server error carries the AADSTS answer");
    for (what, field) in [
        ("error", Some(&response.error)),
        ("error_description", response.error_description.as_ref()),
        ("timestamp", response.timestamp.as_ref()),
        ("trace_id", response.trace_id.as_ref()),
        ("correlation_id", response.correlation_id.as_ref()),
        ("error_uri", response.error_uri.as_ref()),
        ("suberror", response.suberror.as_ref()),
    ] {
        if let Some(field) = field {
            assert_printable(what, field);
        }
    }
    let _ = (
        response.kind(),
        response.suggests_browser(),
        response.needs_admin_consent(),
        response.needs_consent_prompt(),
    );
}

/// A discovery document through [`Discovery::parse`]. Asserts: no panic; an accepted document's
/// endpoints are on the authority's origin over https; a refused one's error prints without control
/// characters.
pub fn check_discovery(data: &[u8]) {
    let url = Url::parse(DISCOVERY_URL).expect("a valid discovery URL");
    match Discovery::parse(&url, data) {
        Ok(discovery) => {
            for endpoint in [
                &discovery.authorization_endpoint,
                &discovery.token_endpoint,
                &discovery.device_authorization_endpoint,
            ] {
                assert_eq!(endpoint.origin(), url.origin(), "{endpoint} off the origin");
                assert_eq!(endpoint.scheme(), "https");
            }
        }
        Err(error) => check_error(&error),
    }
}

/// A request head (what a local process sent to the loopback listener, lossily decoded as the listener
/// does) through the listener's `classify`. Asserts: no panic; it counts as a callback only when it is a
/// `GET` of the registered path whose first `state` parameter is this sign-in's, answered 200; a wrong or
/// missing state is a 400; anything else is ignored with a 400 or 404; a callback's error fields print
/// without control characters.
pub fn check_loopback_request(data: &[u8]) {
    let head = String::from_utf8_lossy(data);
    let expected = Expected {
        state: LOOPBACK_STATE.into(),
        path: LOOPBACK_PATH.into(),
    };
    let (served, status, _page) = classify(&head, &expected);
    match served {
        Served::Callback(callback) => {
            assert_eq!(status, Status::Ok, "a callback is answered 200");
            // Read the request again, independently of `classify`'s own parsing.
            let target = head
                .split("\r\n")
                .next()
                .and_then(|line| line.split('\n').next())
                .and_then(|line| line.strip_prefix("GET "))
                .and_then(|rest| rest.split(' ').next())
                .expect("a callback comes from a GET request line");
            let url = Url::parse("http://localhost")
                .and_then(|base| base.join(target))
                .expect("a callback's target is a URL");
            assert_eq!(url.path(), LOOPBACK_PATH, "a callback on another path");
            let state = url
                .query_pairs()
                .find(|(key, _)| key == "state")
                .map(|(_, value)| value.into_owned());
            assert_eq!(
                state.as_deref(),
                Some(LOOPBACK_STATE),
                "a callback without this sign-in's state"
            );
            match callback {
                Callback::Error(response) => check_server_error(response),
                Callback::Code(_) => assert!(
                    url.query_pairs().any(|(key, _)| key == "code"),
                    "a code callback without a code"
                ),
            }
        }
        Served::WrongState => assert_eq!(status, Status::BadRequest),
        Served::Ignored => assert_ne!(status, Status::Ok, "an ignored request answered 200"),
    }
}

fn check_error(error: &Error) {
    assert_printable("Display", &error.to_string());
    assert_printable("user_message", &error.user_message());
    assert_printable("next_step", &error.next_step());
    for id in [error.trace_id(), error.correlation_id()]
        .into_iter()
        .flatten()
    {
        assert_printable("ID", id);
    }
}

/// Panics if `text` holds a character [`crate::text::strip_control_characters`] removes. Shared with the
/// other crates' `fuzzing` modules (EWS, Graph), so every target means the same by "printable".
pub fn assert_printable(what: &str, text: &str) {
    assert_eq!(
        crate::text::strip_control_characters(text),
        text,
        "{what} holds a control character"
    );
}

/// Runs `check` over every file of the committed corpus `fuzz/corpus/<target>/` (seeds and regressions),
/// for the crates' replay tests; fails when the folder holds fewer than three files.
pub fn replay_corpus(target: &str, check: fn(&[u8])) {
    // Every crate sits in crates/<name>/, so the repository's fuzz/ is the same path from each.
    let corpus = format!("{}/../../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for entry in std::fs::read_dir(&corpus).expect("the corpus folder exists") {
        let path = entry.expect("a corpus entry").path();
        check(&std::fs::read(&path).expect("a readable corpus file"));
        replayed += 1;
    }
    assert!(replayed >= 3, "only {replayed} corpus files in {corpus}");
}

#[cfg(test)]
mod tests {
    use super::replay_corpus as replay;

    /// Every file of the committed token-error corpus passes the fuzz target's checks.
    #[test]
    fn the_token_error_fuzz_corpus_replays_clean() {
        replay("identity_token_error", super::check_token_error);
    }

    /// Every file of the committed discovery corpus passes the fuzz target's checks.
    #[test]
    fn the_discovery_fuzz_corpus_replays_clean() {
        replay("identity_discovery", super::check_discovery);
    }

    /// Every file of the committed loopback-request corpus passes the fuzz target's checks.
    #[test]
    fn the_loopback_request_fuzz_corpus_replays_clean() {
        replay("identity_loopback_request", super::check_loopback_request);
    }
}
