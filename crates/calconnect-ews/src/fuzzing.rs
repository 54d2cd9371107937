//! The properties the fuzz targets in `fuzz/` check, kept here so that ordinary `#[test]`s replay the
//! committed corpus through exactly the same code (`fuzz/corpus/ews_soap_response/`,
//! `fuzz/corpus/autodiscover_pox/`, `fuzz/corpus/autodiscover_json/`, `fuzz/corpus/ntlm_challenge/`),
//! without a fuzzer.
//!
//! Not an API: each function panics when a property is violated, which is how libFuzzer sees a failure.

use calconnect_identity::fuzzing::assert_printable;
use secrecy::SecretString;
use url::Url;

use crate::autodiscover::answer::{read_json_answer, read_pox_answer, PoxAnswer};
use crate::endpoints::ensure_secure;
use crate::ntlm::{self, Binding, Challenge, ClientNonce};
use crate::parse::{SoapResponse, XmlElement, MAX_ATTRIBUTES, MAX_DEPTH};

/// The password [`check_ntlm_challenge`] answers challenges with; the message must never hold it.
const NTLM_PASSWORD: &str = "Fuzz-Passw0rd-\u{e9}";

/// Feeds `data` (as the EWS client does: a UTF-8 body, lossily decoded) to [`XmlElement::parse`] and
/// [`SoapResponse::parse`] + [`SoapResponse::messages`], and asserts: no panic, the tree stays within
/// [`MAX_DEPTH`] and [`MAX_ATTRIBUTES`], and no error, name, attribute, text, fault or message text
/// holds a control character other than newline and tab.
pub fn check_soap_response(data: &[u8]) {
    let document = String::from_utf8_lossy(data);
    match XmlElement::parse(&document) {
        Ok(root) => check_tree(&root),
        Err(error) => assert_printable("XmlElement::parse error", &error),
    }
    match SoapResponse::parse(&document) {
        Ok(response) => {
            if let Some(body) = &response.body {
                check_tree(body);
            }
            if let Some(version) = &response.server_version {
                assert_printable("ServerVersionInfo", &version.display());
            }
            if let Some(fault) = &response.fault {
                assert_printable("faultcode", &fault.fault_code);
                assert_printable("faultstring", &fault.fault_string);
                if let Some(code) = &fault.response_code {
                    assert_printable("fault ResponseCode", code.as_str());
                }
            }
            for message in response.messages() {
                assert_printable("ResponseClass", &message.response_class);
                assert_printable("ResponseCode", message.response_code.as_str());
                if let Some(text) = &message.message_text {
                    assert_printable("MessageText", text);
                }
                if let Some(code) = &message.inner_response_code {
                    assert_printable("InnerErrorResponseCode", code.as_str());
                }
                let _ = message.is_server_busy();
            }
        }
        Err(error) => assert_printable("SoapResponse::parse error", &error),
    }
}

/// The body of a POX 200 answer (lossily decoded, as Autodiscover reads it) through `read_pox_answer`.
/// Asserts: no panic; a redirect URL or EWS URL handed back is https (or loopback http); a redirect
/// address and every error print without control characters.
pub fn check_pox_answer(data: &[u8]) {
    match read_pox_answer(&String::from_utf8_lossy(data)) {
        Ok(PoxAnswer::RedirectAddr(address)) => assert_printable("RedirectAddr", &address),
        Ok(PoxAnswer::RedirectUrl(url)) => assert_secure("RedirectUrl", &url),
        Ok(PoxAnswer::Settings(url)) => assert_secure("EwsUrl", &url),
        Err(error) => assert_printable("POX error", &error),
    }
}

/// The body of an Autodiscover v2 (JSON) 200 answer through `read_json_answer`. Asserts: no panic; an
/// EWS URL handed back is https (or loopback http); errors print without control characters.
pub fn check_json_answer(data: &[u8]) {
    match read_json_answer(&String::from_utf8_lossy(data)) {
        Ok(url) => assert_secure("JSON Url", &url),
        Err(error) => assert_printable("JSON error", &error),
    }
}

/// A server's NTLM CHALLENGE_MESSAGE (the decoded `WWW-Authenticate: NTLM` token) through
/// [`Challenge::parse`], then, when accepted, answered by [`ntlm::authenticate_message`] with channel
/// binding to the same bytes read as the server's certificate ([`ntlm::tls_server_end_point`] parses its
/// DER). Asserts: no panic; an accepted challenge keeps the message verbatim; the AUTHENTICATE_MESSAGE is
/// well formed (signature, type 3, every security buffer inside the message) and holds neither the
/// password nor its UTF-16 form.
pub fn check_ntlm_challenge(data: &[u8]) {
    let _ = ntlm::tls_server_end_point(data);
    let Ok(challenge) = Challenge::parse(data) else {
        return;
    };
    assert_eq!(challenge.message(), data, "the challenge is kept verbatim");
    let _ = challenge.netbios_domain();
    let binding = Binding::for_http("mail.contoso.com", Some(data));
    let nonce = ClientNonce {
        client_challenge: [7; 8],
        filetime: 0x01d9_0000_0000_0000,
    };
    let negotiate = ntlm::negotiate_message();
    let password = SecretString::from(NTLM_PASSWORD);
    let message = ntlm::authenticate_message(
        &negotiate,
        &challenge,
        "CONTOSO\\svc-calendar",
        &password,
        &binding,
        nonce,
    );
    assert!(message.starts_with(b"NTLMSSP\0"), "no NTLMSSP signature");
    assert_eq!(
        message.get(8..12),
        Some(&3u32.to_le_bytes()[..]),
        "not type 3"
    );
    // LmChallengeResponse, NtChallengeResponse, DomainName, UserName, Workstation, EncryptedRandomSessionKey.
    for field in [12usize, 20, 28, 36, 44, 52] {
        let length = u16::from_le_bytes([message[field], message[field + 1]]) as usize;
        let offset =
            u32::from_le_bytes(message[field + 4..field + 8].try_into().expect("4 bytes")) as usize;
        assert!(
            offset + length <= message.len(),
            "security buffer at {field} outside the message"
        );
    }
    let utf16: Vec<u8> = NTLM_PASSWORD
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let holds = |haystack: &[u8], secret: &[u8]| {
        haystack
            .windows(secret.len())
            .any(|window| window == secret)
    };
    for secret in [NTLM_PASSWORD.as_bytes(), &utf16] {
        // The challenge's TargetInfo is echoed verbatim, so a challenge that itself holds the bytes
        // (libFuzzer's comparison tracing can learn them from this very check) proves nothing.
        if !holds(data, secret) {
            assert!(
                !holds(&message, secret),
                "the authenticate message holds the password"
            );
        }
    }
}

fn assert_secure(what: &str, url: &Url) {
    assert!(ensure_secure(url).is_ok(), "{what} {url} is not secure");
}

/// Walks the tree with an explicit stack (the property under test is that it is shallow; the check
/// itself must not rely on it).
fn check_tree(root: &XmlElement) {
    let mut pending = vec![(root, 1usize)];
    while let Some((element, depth)) = pending.pop() {
        assert!(depth <= MAX_DEPTH, "tree deeper than {MAX_DEPTH}");
        assert!(
            element.attributes.len() <= MAX_ATTRIBUTES,
            "more than {MAX_ATTRIBUTES} attributes"
        );
        assert_printable("element name", &element.name);
        assert_printable("element text", &element.text);
        for (key, value) in &element.attributes {
            assert_printable("attribute name", key);
            assert_printable("attribute value", value);
        }
        pending.extend(element.children.iter().map(|child| (child, depth + 1)));
    }
}

#[cfg(test)]
mod tests {
    use calconnect_identity::fuzzing::replay_corpus as replay;

    /// Every file of the committed seed and regression corpus passes the fuzz target's checks.
    #[test]
    fn the_fuzz_corpus_replays_clean() {
        replay("ews_soap_response", super::check_soap_response);
    }

    /// Every file of the committed POX Autodiscover corpus passes the fuzz target's checks.
    #[test]
    fn the_pox_autodiscover_fuzz_corpus_replays_clean() {
        replay("autodiscover_pox", super::check_pox_answer);
    }

    /// Every file of the committed JSON Autodiscover corpus passes the fuzz target's checks.
    #[test]
    fn the_json_autodiscover_fuzz_corpus_replays_clean() {
        replay("autodiscover_json", super::check_json_answer);
    }

    /// Every file of the committed NTLM challenge corpus passes the fuzz target's checks.
    #[test]
    fn the_ntlm_challenge_fuzz_corpus_replays_clean() {
        replay("ntlm_challenge", super::check_ntlm_challenge);
    }
}
