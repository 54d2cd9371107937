//! Server text made safe to print. An error description, a SOAP fault string or a Graph message goes
//! to a terminal, a log or a report as it came; an escape sequence in it (`ESC [ 31 m`, a cursor move, an
//! OSC 8 link, a title change) would be obeyed by the terminal, so a hostile server could repaint what
//! calconnect reports. Every piece of server text is passed through [`strip_control_characters`] where it
//! enters an error or observation type.

/// `text` without control characters: C0 (U+0000–U+001F) except newline and tab, DEL, C1
/// (U+0080–U+009F, which includes the 8-bit CSI), and the bidirectional embedding, override and isolate
/// controls (U+202A–U+202E, U+2066–U+2069), which reorder how the rest of a line is shown. A carriage
/// return goes too (it rewrites a line in place); the newline of a `\r\n` stays.
pub fn strip_control_characters(text: &str) -> String {
    text.chars().filter(|c| !is_stripped(*c)).collect()
}

fn is_stripped(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        other => other.is_control(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_c1_controls_are_removed_and_lines_kept() {
        let hostile = "AADSTS50126: \u{1b}[31mwrong\u{1b}[0m\r\nTrace ID: 1\u{9b}2J\u{7}\u{0}\ttab\u{202e}evil";
        let clean = strip_control_characters(hostile);
        assert_eq!(clean, "AADSTS50126: [31mwrong[0m\nTrace ID: 12J\ttabevil");
        assert!(!clean
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'));
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let text = "Le compte n’a pas l’autorisation — Überprüfen Sie 日本語.";
        assert_eq!(strip_control_characters(text), text);
    }
}
