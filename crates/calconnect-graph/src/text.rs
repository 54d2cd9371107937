//! Graph text made safe to print: an error message, a schedule error or a calendar's name goes to a
//! terminal, a log or a report as it came, and an escape sequence in it (`ESC [ 31 m`, a cursor move, an
//! OSC 8 link) would be obeyed by the terminal. The same rule as
//! `calconnect_identity::text::strip_control_characters`, kept here because this crate depends on no
//! other calconnect crate.

/// `text` without control characters: C0 except newline and tab, DEL, C1 (U+0080–U+009F), and the
/// bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069).
pub(crate) fn strip_control_characters(text: &str) -> String {
    text.chars()
        .filter(|c| match c {
            '\n' | '\t' => true,
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => false,
            other => !other.is_control(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_c1_and_bidi_controls_are_removed() {
        assert_eq!(
            strip_control_characters("a\u{1b}[31mb\r\n\u{9b}c\u{202e}d\te"),
            "a[31mb\ncd\te"
        );
        assert_eq!(
            strip_control_characters("Kalender – Ünïcödé"),
            "Kalender – Ünïcödé"
        );
    }
}
