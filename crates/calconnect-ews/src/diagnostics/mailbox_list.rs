//! The mailboxes of a run: `--mailbox` (repeatable), a `--mailboxes` file with one address a line or a
//! CSV export with a header (the column named like an e-mail address is used), or a list pasted into
//! the desktop step.
//!
//! Hand-rolled rather than a CSV crate: the only CSV this reads is an admin's export (Exchange's
//! `Export-Csv` quotes every field), of which one column is needed; quoted fields with commas are
//! handled, multi-line fields are not an address anyway.
//!
//! Every address is validated here, before anything is sent or put into a fix command: an address is
//! one `@` between non-empty parts, ASCII only (an internationalised domain in its punycode form), no
//! whitespace or control characters, and none of the characters that would end or expand a PowerShell
//! string (`"`, `` ` ``, `$`). ASCII only matters: PowerShell treats the typographic quotes “ ” „ ‘ ’ as
//! real quotes ("about_Quoting_Rules"), so one in an address could end a string of a pasted fix.

use crate::error::{Error, Result};

/// At most this many mailboxes in one run.
pub const MAX_MAILBOXES: usize = 5_000;

/// Header names that hold the address, most specific first.
const ADDRESS_COLUMNS: [&str; 6] = [
    "primarysmtpaddress",
    "emailaddress",
    "email",
    "mail",
    "userprincipalname",
    "mailbox",
];

/// Checks one address and returns it trimmed.
pub fn validate(address: &str) -> Result<String> {
    let address = address.trim();
    let invalid = || Error::InvalidMailbox {
        mailbox: address.chars().take(80).collect(),
    };
    let (local, domain) = address.split_once('@').ok_or_else(invalid)?;
    let bad_character = |character: char| {
        character.is_whitespace()
            || character.is_control()
            || matches!(character, '"' | '`' | '$' | '@' | ',' | ';' | '<' | '>')
    };
    if local.is_empty()
        || domain.is_empty()
        || !domain.contains('.')
        || address.len() > 254
        || local.chars().any(bad_character)
        || domain.chars().any(bad_character)
    {
        return Err(invalid());
    }
    Ok(address.to_owned())
}

/// Parses a pasted list or a file: one address a line (blank lines and `#` comments skipped), or a CSV
/// whose first line is a header naming an address column. Duplicates are dropped, order kept.
pub fn parse(text: &str) -> Result<Vec<String>> {
    let mut lines = text
        .lines()
        .map(|line| line.trim_start_matches('\u{feff}').trim())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .peekable();
    let column = match lines.peek() {
        Some(header) if !header.contains('@') && header.contains(',') => {
            let fields = split_csv(header);
            let position = ADDRESS_COLUMNS.iter().find_map(|wanted| {
                fields
                    .iter()
                    .position(|field| field.trim().eq_ignore_ascii_case(wanted))
            });
            let position = position.ok_or_else(|| Error::InvalidMailboxList {
                detail: format!(
                    "the CSV header names no address column (one of {})",
                    ADDRESS_COLUMNS.join(", ")
                ),
            })?;
            lines.next();
            Some(position)
        }
        Some(header)
            if ADDRESS_COLUMNS
                .iter()
                .any(|column| header.trim_matches('"').eq_ignore_ascii_case(column)) =>
        {
            // A one-column file with a header such as "PrimarySmtpAddress"; any other first line is an
            // entry (a mistyped address is an error, not a header silently skipped).
            lines.next();
            None
        }
        _ => None,
    };
    let mut mailboxes: Vec<String> = Vec::new();
    for (number, line) in lines.enumerate() {
        let field = match column {
            Some(position) => split_csv(line).get(position).cloned().unwrap_or_default(),
            None => line.to_owned(),
        };
        let address = validate(&field).map_err(|_| Error::InvalidMailboxList {
            detail: format!(
                "entry {} is not a mailbox address: {:?}",
                number + 1,
                field.chars().take(80).collect::<String>()
            ),
        })?;
        if !mailboxes
            .iter()
            .any(|known| known.eq_ignore_ascii_case(&address))
        {
            mailboxes.push(address);
        }
        if mailboxes.len() > MAX_MAILBOXES {
            return Err(Error::InvalidMailboxList {
                detail: format!("more than {MAX_MAILBOXES} mailboxes; split the list"),
            });
        }
    }
    if mailboxes.is_empty() {
        return Err(Error::InvalidMailboxList {
            detail: "the list holds no mailbox address".into(),
        });
    }
    Ok(mailboxes)
}

/// Splits one CSV line: commas separate, double quotes group (`""` is a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut characters = line.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '"' if quoted && characters.peek() == Some(&'"') => {
                characters.next();
                if let Some(field) = fields.last_mut() {
                    field.push('"');
                }
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            other => {
                if let Some(field) = fields.last_mut() {
                    field.push(other);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_a_line_with_comments_and_duplicates() {
        let list = parse("# pilot\nadele@contoso.com\n\n  megan@contoso.com \nADELE@contoso.com\n")
            .unwrap();
        assert_eq!(list, ["adele@contoso.com", "megan@contoso.com"]);
    }

    #[test]
    fn a_csv_export_uses_its_address_column() {
        let csv = "\u{feff}\"DisplayName\",\"PrimarySmtpAddress\",\"Department\"\n\"Vance, Adele\",\"adele@contoso.com\",\"Retail\"\n\"Megan\",\"megan@contoso.com\",\"\"\n";
        assert_eq!(
            parse(csv).unwrap(),
            ["adele@contoso.com", "megan@contoso.com"]
        );
        assert!(matches!(
            parse("Name,Department\nAdele,Retail\n"),
            Err(Error::InvalidMailboxList { .. })
        ));
    }

    #[test]
    fn a_one_column_file_may_have_a_header() {
        assert_eq!(
            parse("PrimarySmtpAddress\nlee@contoso.com\n").unwrap(),
            ["lee@contoso.com"]
        );
    }

    #[test]
    fn addresses_that_could_break_a_command_are_refused() {
        for bad in [
            "lee",
            "@contoso.com",
            "lee@",
            "lee@contoso",
            "a b@contoso.com",
            "a\"@contoso.com",
            "a$(x)@contoso.com",
            "a`@contoso.com",
            "a@b@contoso.com",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        assert_eq!(
            validate(" o'brien@contoso.com ").unwrap(),
            "o'brien@contoso.com"
        );
        assert!(
            matches!(parse("adele@contoso.com\nnot an address\n"), Err(Error::InvalidMailboxList { detail }) if detail.contains("entry 2"))
        );
        assert!(parse("\n# nothing\n").is_err());
    }
}
