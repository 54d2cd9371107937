//! The OPATH subset of `New-ManagementScope -RecipientRestrictionFilter` that scopes here use:
//! comparisons `Property -eq|-ne|-like|-notlike 'value'` joined with `-and`, `-or`, `-not` and
//! parentheses ("Understanding management role scope filters",
//! learn.microsoft.com/exchange/understanding-management-role-scope-filters-exchange-2013-help; `-like`
//! takes `*` wildcards). Properties: `PrimarySmtpAddress`, `WindowsEmailAddress`, `Alias`,
//! `Department`, `DisplayName`.
//!
//! Hand-written because no crate parses OPATH; it is tiny, bounded in length and nesting, and never
//! recurses deeper than [`MAX_DEPTH`].

use super::exchange::wildcard_match;

/// The most nested parentheses or `-not`s a filter may have.
const MAX_DEPTH: usize = 16;
/// The longest filter accepted.
const MAX_LENGTH: usize = 4096;

/// The properties of a recipient a filter can test.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub primary_smtp_address: &'a str,
    pub display_name: &'a str,
    pub department: Option<&'a str>,
}

impl Recipient<'_> {
    fn property(&self, name: &str) -> Option<String> {
        match name.to_ascii_lowercase().as_str() {
            "primarysmtpaddress" | "windowsemailaddress" => {
                Some(self.primary_smtp_address.to_owned())
            }
            "alias" => Some(
                self.primary_smtp_address
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            "department" => Some(self.department.unwrap_or_default().to_owned()),
            "displayname" => Some(self.display_name.to_owned()),
            _ => None,
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientFilter {
    Compare {
        property: String,
        operator: Operator,
        value: String,
    },
    And(Box<RecipientFilter>, Box<RecipientFilter>),
    Or(Box<RecipientFilter>, Box<RecipientFilter>),
    Not(Box<RecipientFilter>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Like,
    NotLike,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
}

impl RecipientFilter {
    /// Parses a filter; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_LENGTH {
            return Err(format!("a filter is at most {MAX_LENGTH} characters"));
        }
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, at: 0 };
        let filter = parser.expression(0)?;
        if parser.at != parser.tokens.len() {
            return Err(format!("unexpected {:?}", parser.tokens[parser.at]));
        }
        Ok(filter)
    }

    /// Whether `recipient` is in the scope. An unknown property matches nothing.
    pub fn matches(&self, recipient: &Recipient<'_>) -> bool {
        match self {
            Self::Compare {
                property,
                operator,
                value,
            } => {
                let Some(actual) = recipient.property(property) else {
                    return false;
                };
                match operator {
                    Operator::Eq => actual.eq_ignore_ascii_case(value),
                    Operator::Ne => !actual.eq_ignore_ascii_case(value),
                    Operator::Like => wildcard_match(value, &actual),
                    Operator::NotLike => !wildcard_match(value, &actual),
                }
            }
            Self::And(left, right) => left.matches(recipient) && right.matches(recipient),
            Self::Or(left, right) => left.matches(recipient) || right.matches(recipient),
            Self::Not(inner) => !inner.matches(recipient),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut characters = text.chars().peekable();
    while let Some(&character) = characters.peek() {
        match character {
            c if c.is_whitespace() => {
                characters.next();
            }
            '(' => {
                characters.next();
                tokens.push(Token::Open);
            }
            ')' => {
                characters.next();
                tokens.push(Token::Close);
            }
            '\'' | '"' => {
                let quote = character;
                characters.next();
                let mut value = String::new();
                loop {
                    match characters.next() {
                        // Two quotes in a row stand for one, as in PowerShell strings.
                        Some(c) if c == quote && characters.peek() == Some(&quote) => {
                            characters.next();
                            value.push(quote);
                        }
                        Some(c) if c == quote => break,
                        Some(c) => value.push(c),
                        None => return Err("unterminated string".to_owned()),
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = characters.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '\'' | '"') {
                        break;
                    }
                    word.push(c);
                    characters.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.at) {
            Some(Token::Word(word)) => Some(word.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn expression(&mut self, depth: usize) -> Result<RecipientFilter, String> {
        let mut left = self.term(depth)?;
        while self.peek_word().as_deref() == Some("-or") {
            self.at += 1;
            let right = self.term(depth)?;
            left = RecipientFilter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self, depth: usize) -> Result<RecipientFilter, String> {
        let mut left = self.factor(depth)?;
        while self.peek_word().as_deref() == Some("-and") {
            self.at += 1;
            let right = self.factor(depth)?;
            left = RecipientFilter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn factor(&mut self, depth: usize) -> Result<RecipientFilter, String> {
        if depth >= MAX_DEPTH {
            return Err(format!("a filter nests at most {MAX_DEPTH} levels"));
        }
        if self.peek_word().as_deref() == Some("-not") {
            self.at += 1;
            return Ok(RecipientFilter::Not(Box::new(self.factor(depth + 1)?)));
        }
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.expression(depth + 1)?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err("missing ')'".to_owned());
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Word(property)) if !property.starts_with('-') => {
                self.at += 1;
                let operator = match self.peek_word().as_deref() {
                    Some("-eq") => Operator::Eq,
                    Some("-ne") => Operator::Ne,
                    Some("-like") => Operator::Like,
                    Some("-notlike") => Operator::NotLike,
                    other => {
                        return Err(format!(
                            "expected -eq, -ne, -like or -notlike after {property}, found {other:?}"
                        ))
                    }
                };
                self.at += 1;
                let value = match self.tokens.get(self.at).cloned() {
                    Some(Token::Quoted(value)) => value,
                    other => return Err(format!("expected a quoted value, found {other:?}")),
                };
                self.at += 1;
                Ok(RecipientFilter::Compare {
                    property,
                    operator,
                    value,
                })
            }
            other => Err(format!("expected a comparison, found {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adele() -> Recipient<'static> {
        Recipient {
            primary_smtp_address: "adele@contoso.com",
            display_name: "Adele Vance",
            department: Some("Retail"),
        }
    }

    #[test]
    fn comparisons_combine_with_and_or_not_and_parentheses() {
        let filter = RecipientFilter::parse(
            "(Department -eq 'Retail' -or Alias -like 'meg*') -and -not (PrimarySmtpAddress -eq 'lee@contoso.com')",
        )
        .unwrap();
        assert!(filter.matches(&adele()));
        let lee = Recipient {
            primary_smtp_address: "lee@contoso.com",
            display_name: "Lee Gu",
            department: Some("Retail"),
        };
        assert!(!filter.matches(&lee));
    }

    #[test]
    fn malformed_and_hostile_filters_are_errors_not_panics() {
        for bad in [
            "Department",
            "Department -eq",
            "(Alias -eq 'a'",
            "'a'",
            "Alias -gt 'a'",
        ] {
            assert!(RecipientFilter::parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}Alias -eq 'a'{}", "(".repeat(100), ")".repeat(100));
        assert!(RecipientFilter::parse(&deep).is_err());
        assert!(RecipientFilter::parse(&"-not ".repeat(100)).is_err());
    }

    #[test]
    fn an_unknown_property_matches_nobody() {
        let filter = RecipientFilter::parse("Office -eq 'Seattle'").unwrap();
        assert!(!filter.matches(&adele()));
    }
}
