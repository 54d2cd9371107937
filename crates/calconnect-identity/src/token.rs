//! The token set of one account. Only [`TokenSet::to_vault_secret`] turns it into text, for the keychain.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scopes::ScopeSet;

/// The longest access-token lifetime believed. Entra's default is 60–90 minutes and `AccessTokenLifetime`
/// can be configured up to one day (learn.microsoft.com/entra/identity-platform/configurable-token-lifetimes);
/// a longer `expires_in` is a broken or hostile answer and is cut to this.
pub const MAX_ACCESS_TOKEN_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(24 * 60 * 60);

/// Access and refresh token of one account, with expiry and granted scopes.
///
/// No `Serialize`, `PartialEq` or `Display`: Debug prints `[redacted]` for both tokens.
#[derive(Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_at: DateTime<Utc>,
    pub granted_scopes: ScopeSet,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("granted_scopes", &self.granted_scopes)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredTokenSet<'a> {
    version: u8,
    access_token: std::borrow::Cow<'a, str>,
    #[serde(default)]
    refresh_token: Option<std::borrow::Cow<'a, str>>,
    expires_at: DateTime<Utc>,
    granted_scopes: ScopeSet,
}

impl TokenSet {
    /// Whether the access token expires within `margin` of `now` (or already has).
    pub fn expires_within(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        // Checked: an expiry at the edge of chrono's range (a corrupted entry) counts as expired, no panic.
        self.expires_at
            .checked_sub_signed(margin)
            .is_none_or(|refresh_at| refresh_at <= now)
    }

    /// The keychain form: a JSON document wrapped in a secret. The only way a token set becomes text.
    pub fn to_vault_secret(&self) -> SecretString {
        let stored = StoredTokenSet {
            version: 1,
            access_token: self.access_token.expose_secret().into(),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|token| token.expose_secret().into()),
            expires_at: self.expires_at,
            granted_scopes: self.granted_scopes.clone(),
        };
        SecretString::from(serde_json::to_string(&stored).expect("a token set always serialises"))
    }

    /// Reads the keychain form written by [`TokenSet::to_vault_secret`].
    pub fn from_vault_secret(secret: &SecretString) -> Result<Self> {
        // The serde error names a position and expected type, never the secret's content.
        let stored: StoredTokenSet<'_> =
            serde_json::from_str(secret.expose_secret()).map_err(|error| {
                Error::TokenSetFormat {
                    reason: format!(
                        "line {} column {}: {:?}",
                        error.line(),
                        error.column(),
                        error.classify()
                    ),
                }
            })?;
        if stored.version != 1 {
            return Err(Error::TokenSetFormat {
                reason: format!("unknown version {}", stored.version),
            });
        }
        Ok(Self {
            access_token: SecretString::from(stored.access_token.into_owned()),
            refresh_token: stored
                .refresh_token
                .map(|token| SecretString::from(token.into_owned())),
            expires_at: stored.expires_at,
            granted_scopes: stored.granted_scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TokenSet {
        TokenSet {
            access_token: SecretString::from("at-very-secret"),
            refresh_token: Some(SecretString::from("rt-very-secret")),
            expires_at: DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            granted_scopes: ScopeSet::parse("User.Read Calendars.ReadWrite"),
        }
    }

    #[test]
    fn debug_output_redacts_both_tokens() {
        let debug = format!("{:?}", sample());
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn the_vault_form_round_trips() {
        let tokens = sample();
        let restored = TokenSet::from_vault_secret(&tokens.to_vault_secret()).unwrap();
        assert_eq!(restored.access_token.expose_secret(), "at-very-secret");
        assert_eq!(
            restored.refresh_token.unwrap().expose_secret(),
            "rt-very-secret"
        );
        assert_eq!(restored.expires_at, tokens.expires_at);
        assert_eq!(restored.granted_scopes, tokens.granted_scopes);
    }

    #[test]
    fn an_unreadable_vault_entry_does_not_echo_its_content() {
        let error =
            TokenSet::from_vault_secret(&SecretString::from("{\"access_token\": \"leak-me\""))
                .unwrap_err();
        assert!(!error.to_string().contains("leak-me"), "{error}");
    }

    #[test]
    fn expiry_margin_is_applied() {
        let tokens = sample();
        let just_before = tokens.expires_at - chrono::Duration::seconds(60);
        assert!(tokens.expires_within(just_before, chrono::Duration::seconds(300)));
        assert!(!tokens.expires_within(just_before, chrono::Duration::seconds(30)));
    }
}
