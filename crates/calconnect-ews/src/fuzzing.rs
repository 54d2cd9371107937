//! The properties the fuzz targets in `fuzz/` check, kept here so that an ordinary `#[test]` replays the
//! committed corpus through exactly the same code (`fuzz/corpus/ews_soap_response/`), without a fuzzer.
//!
//! Not an API: each function panics when a property is violated, which is how libFuzzer sees a failure.

use crate::parse::{SoapResponse, XmlElement, MAX_ATTRIBUTES, MAX_DEPTH};

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

/// Panics if `text` holds a character [`calconnect_identity::text::strip_control_characters`] removes.
fn assert_printable(what: &str, text: &str) {
    assert_eq!(
        calconnect_identity::text::strip_control_characters(text),
        text,
        "{what} holds a control character"
    );
}

#[cfg(test)]
mod tests {
    /// Every file of the committed seed and regression corpus passes the fuzz target's checks.
    #[test]
    fn the_fuzz_corpus_replays_clean() {
        let corpus = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/corpus/ews_soap_response"
        );
        let mut replayed = 0;
        for entry in std::fs::read_dir(corpus).expect("the corpus folder exists") {
            let path = entry.expect("a corpus entry").path();
            super::check_soap_response(&std::fs::read(&path).expect("a readable corpus file"));
            replayed += 1;
        }
        assert!(replayed >= 3, "only {replayed} corpus files in {corpus}");
    }
}
