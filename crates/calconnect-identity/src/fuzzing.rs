//! The properties the fuzz targets in `fuzz/` check, kept here so that ordinary `#[test]`s replay the
//! committed corpus (`fuzz/corpus/identity_token_error/`, `fuzz/corpus/identity_discovery/`) through
//! exactly the same code, without a fuzzer.
//!
//! Not an API: each function panics when a property is violated, which is how libFuzzer sees a failure.

use url::Url;

use crate::aadsts::AadError;
use crate::discovery::Discovery;
use crate::error::Error;
use crate::http::json_too_deep;

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

/// Panics if `text` holds a character [`crate::text::strip_control_characters`] removes.
fn assert_printable(what: &str, text: &str) {
    assert_eq!(
        crate::text::strip_control_characters(text),
        text,
        "{what} holds a control character"
    );
}

#[cfg(test)]
mod tests {
    fn replay(target: &str, check: fn(&[u8])) {
        let corpus = format!("{}/../../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
        let mut replayed = 0;
        for entry in std::fs::read_dir(&corpus).expect("the corpus folder exists") {
            let path = entry.expect("a corpus entry").path();
            check(&std::fs::read(&path).expect("a readable corpus file"));
            replayed += 1;
        }
        assert!(replayed >= 3, "only {replayed} corpus files in {corpus}");
    }

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
}
