//! Delegated scope sets: parsing the token response's `scope` and comparing what was granted with what was asked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::app::AppKind;
use crate::error::{Error, Result};

/// A set of delegated scopes, compared case-insensitively without their resource prefix.
///
/// Entra returns scopes bare (`User.Read`), fully qualified (`https://graph.microsoft.com/User.Read`)
/// or even URL-encoded (the auth-code flow doc's example), so parsing accepts all three.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct ScopeSet {
    // Lower-cased name → name as first seen, so display keeps Microsoft's casing.
    names: BTreeMap<String, String>,
}

impl ScopeSet {
    /// Parses a space-separated `scope` value (RFC 6749 §3.3).
    pub fn parse(value: &str) -> Self {
        let decoded = if value.contains('%') {
            url::form_urlencoded::parse(format!("s={value}").as_bytes())
                .next()
                .map(|(_, decoded)| decoded.into_owned())
                .unwrap_or_else(|| value.to_owned())
        } else {
            value.to_owned()
        };
        Self::from_names(decoded.split_whitespace())
    }

    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = Self::default();
        for name in names {
            set.insert(name);
        }
        set
    }

    pub fn insert(&mut self, name: &str) {
        let short = short_name(name);
        if !short.is_empty() {
            self.names
                .entry(short.to_ascii_lowercase())
                .or_insert_with(|| short.to_owned());
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names
            .contains_key(&short_name(name).to_ascii_lowercase())
    }

    /// Whether `name` is granted directly or through a scope that includes it
    /// (`Calendars.ReadWrite` ⊇ `Calendars.Read` ⊇ `Calendars.ReadBasic`, Graph permissions reference).
    pub fn satisfies(&self, name: &str) -> bool {
        let wanted = short_name(name).to_ascii_lowercase();
        let implied_by: &[&str] = match wanted.as_str() {
            "calendars.readbasic" => &["calendars.read", "calendars.readwrite"],
            "calendars.read" => &["calendars.readwrite"],
            _ => &[],
        };
        self.names.contains_key(&wanted)
            || implied_by
                .iter()
                .any(|broader| self.names.contains_key(*broader))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.values().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.iter().collect();
        f.write_str(&names.join(" "))
    }
}

impl From<Vec<String>> for ScopeSet {
    fn from(names: Vec<String>) -> Self {
        Self::from_names(names.iter().map(String::as_str))
    }
}

impl From<ScopeSet> for Vec<String> {
    fn from(set: ScopeSet) -> Self {
        set.names.into_values().collect()
    }
}

/// `https://graph.microsoft.com/User.Read` → `User.Read`; `offline_access` stays as is.
fn short_name(name: &str) -> &str {
    let name = name.trim();
    if name.contains("://") {
        name.rsplit('/').next().unwrap_or(name)
    } else {
        name
    }
}

/// What a grant lets calconnect do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    /// Everything the Full app asks for.
    Full,
    /// Only what the Free/Busy app asks for: getSchedule busy blocks, no event details.
    #[serde(rename = "freebusy")]
    FreeBusy,
    /// Teams conferencing: meeting links, no calendar access at all.
    Teams,
}

impl AccessLevel {
    pub fn app_kind(self) -> AppKind {
        match self {
            Self::Full => AppKind::Full,
            Self::FreeBusy => AppKind::FreeBusy,
            Self::Teams => AppKind::Teams,
        }
    }
}

/// Compares the granted scopes with the app's requested set.
///
/// `offline_access` is proven by the presence of a refresh token rather than by the `scope` list, which
/// Entra does not always echo it in. An empty `scope` means the requested set (RFC 6749 §5.1). A Full request
/// that came back with only the Free/Busy set is recognised as a Free/Busy grant; any other shortfall is
/// `unable_to_grant_scope` naming the first missing scope.
pub fn check_grant(
    app: AppKind,
    granted: &ScopeSet,
    has_refresh_token: bool,
) -> Result<AccessLevel> {
    let missing = |kind: AppKind| -> Option<&'static str> {
        kind.scopes().iter().copied().find(|scope| {
            if scope.eq_ignore_ascii_case("offline_access") {
                !has_refresh_token
            } else {
                !granted.is_empty() && !granted.satisfies(scope)
            }
        })
    };
    let requested_missing = match missing(app) {
        None => {
            return Ok(match app {
                AppKind::Full => AccessLevel::Full,
                AppKind::FreeBusy => AccessLevel::FreeBusy,
                AppKind::Teams => AccessLevel::Teams,
            })
        }
        Some(scope) => scope,
    };
    if app == AppKind::Full && missing(AppKind::FreeBusy).is_none() {
        return Ok(AccessLevel::FreeBusy);
    }
    Err(Error::UnableToGrantScope {
        scope: requested_missing.to_owned(),
        granted: granted.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_accepts_bare_qualified_and_url_encoded_forms() {
        let set = ScopeSet::parse("https%3A%2F%2Fgraph.microsoft.com%2Fmail.read https://graph.microsoft.com/User.Read offline_access");
        assert!(set.contains("Mail.Read"));
        assert!(set.contains("user.read"));
        assert!(set.contains("offline_access"));
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn a_teams_grant_is_teams_access_and_a_short_one_names_the_missing_scope() {
        let granted = ScopeSet::parse("User.Read OnlineMeetings.ReadWrite");
        assert_eq!(
            check_grant(AppKind::Teams, &granted, true).unwrap(),
            AccessLevel::Teams
        );
        let short = ScopeSet::parse("User.Read");
        assert!(matches!(
            check_grant(AppKind::Teams, &short, true),
            Err(Error::UnableToGrantScope { scope, .. }) if scope == "OnlineMeetings.ReadWrite"
        ));
    }

    #[test]
    fn a_full_grant_is_full_access() {
        let granted = ScopeSet::parse("User.Read Calendars.ReadWrite");
        assert_eq!(
            check_grant(AppKind::Full, &granted, true).unwrap(),
            AccessLevel::Full
        );
    }

    #[test]
    fn a_full_request_answered_with_free_busy_scopes_is_recognised_as_free_busy() {
        let granted = ScopeSet::parse("User.Read Calendars.ReadBasic");
        assert_eq!(
            check_grant(AppKind::Full, &granted, true).unwrap(),
            AccessLevel::FreeBusy
        );
    }

    #[test]
    fn read_write_satisfies_the_free_busy_app() {
        let granted = ScopeSet::parse("User.Read Calendars.ReadWrite");
        assert_eq!(
            check_grant(AppKind::FreeBusy, &granted, true).unwrap(),
            AccessLevel::FreeBusy
        );
    }

    #[test]
    fn a_missing_scope_is_unable_to_grant_scope_naming_it() {
        let granted = ScopeSet::parse("Calendars.ReadBasic");
        let error = check_grant(AppKind::FreeBusy, &granted, true).unwrap_err();
        assert!(
            matches!(&error, Error::UnableToGrantScope { scope, .. } if scope == "User.Read"),
            "{error:?}"
        );
        assert!(error.to_string().contains("User.Read"));
    }

    #[test]
    fn no_refresh_token_means_offline_access_was_not_granted() {
        let granted = ScopeSet::parse("User.Read Calendars.ReadWrite offline_access");
        let error = check_grant(AppKind::Full, &granted, false).unwrap_err();
        assert!(
            matches!(error, Error::UnableToGrantScope { scope, .. } if scope == "offline_access")
        );
    }

    #[test]
    fn an_absent_scope_list_means_the_requested_scopes() {
        assert_eq!(
            check_grant(AppKind::Full, &ScopeSet::default(), true).unwrap(),
            AccessLevel::Full
        );
    }
}
