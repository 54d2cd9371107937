//! Everything the identity platform has handed out: interactions in progress, authorization codes,
//! refresh tokens, device codes and the consents users gave.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::fault::{ConsentRevocation, RefreshTokenFault};
use crate::scope::Scope;
use crate::tenant::Tenant;

/// Code challenge of an authorization request (RFC 7636 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeChallenge {
    S256(String),
    Plain(String),
}

/// A validated `/authorize` request waiting for the person to sign in and consent.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<Scope>,
    pub code_challenge: Option<CodeChallenge>,
    /// How the result goes back to the redirect URI (`response_mode`).
    pub response_mode: ResponseMode,
    /// `prompt=consent`: show the consent page even if consent exists.
    pub force_consent: bool,
    pub login_hint: Option<String>,
    pub nonce: Option<String>,
    /// Set once the person picked an account.
    pub user_id: Option<Uuid>,
    /// `{tenant}` segment of the authority used, so the code is redeemed on a compatible authority.
    pub tenant_segment: String,
    pub created_at: DateTime<Utc>,
}

/// `response_mode` of an authorization request ("Microsoft identity platform and OAuth 2.0 authorization
/// code flow": `query` is the default for `code`, `fragment` and `form_post` are the alternatives).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResponseMode {
    #[default]
    Query,
    Fragment,
    /// An HTML page that POSTs the parameters to the redirect URI (OAuth 2.0 Form Post Response Mode).
    FormPost,
}

impl ResponseMode {
    /// Parses the `response_mode` parameter; `None` for values Entra does not accept.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }
}

/// What a user granted to a client: the basis of codes and refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub user_id: Uuid,
    pub client_id: String,
    /// Scopes requested and consented (OIDC scopes included).
    pub scopes: Vec<Scope>,
    pub nonce: Option<String>,
}

/// An issued authorization code (single use, about 10 minutes).
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub grant: Grant,
    pub redirect_uri: String,
    pub code_challenge: Option<CodeChallenge>,
    pub expires_at: DateTime<Utc>,
    pub redeemed: bool,
}

/// Why a refresh token no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokenState {
    Active,
    /// AADSTS70000.
    Revoked,
    /// AADSTS700082.
    Expired,
}

/// An issued refresh token. Using it does not invalidate it (Entra "refresh tokens" page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenRecord {
    pub grant: Grant,
    pub issued_at: DateTime<Utc>,
    pub state: RefreshTokenState,
}

/// The person's decision on the device login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecision {
    Pending,
    Approved(Grant),
    Declined,
    /// Sign-in failed on the device page with this AADSTS code (conditional access, admin consent
    /// required); the token endpoint turns it into its own error on the next poll.
    Failed {
        code: u32,
    },
}

/// An issued device code (RFC 8628).
#[derive(Debug, Clone)]
pub struct DeviceCodeRecord {
    pub client_id: String,
    pub scopes: Vec<Scope>,
    pub user_code: String,
    pub expires_at: DateTime<Utc>,
    pub interval_secs: u64,
    pub last_poll: Option<DateTime<Utc>>,
    pub decision: DeviceDecision,
    pub redeemed: bool,
}

/// All issued artifacts, keyed by their opaque values.
#[derive(Default)]
pub struct Store {
    pub interactions: HashMap<String, Interaction>,
    pub authorization_codes: HashMap<String, AuthorizationCode>,
    /// Keyed by [`refresh_token_digest`] of the token: the sandbox never keeps a refresh token itself,
    /// so neither memory dumps nor the state directory hold a usable one.
    pub refresh_tokens: HashMap<String, RefreshTokenRecord>,
    /// Keyed by `device_code`.
    pub device_codes: HashMap<String, DeviceCodeRecord>,
    /// Consented scopes per (user, client).
    pub consents: HashMap<(Uuid, String), BTreeSet<Scope>>,
    /// `/adminconsent` requests waiting for an administrator, keyed by the opaque `flow` handle.
    pub admin_consent_flows: HashMap<String, AdminConsentFlow>,
    /// Application permissions granted by tenant-wide admin consent, per lower-case client id: added to
    /// the registration's own `app_roles` in client-credential tokens.
    pub admin_consents: HashMap<String, BTreeSet<String>>,
}

/// A validated `/adminconsent` request waiting for an administrator to sign in and decide.
#[derive(Debug, Clone)]
pub struct AdminConsentFlow {
    pub client_id: String,
    /// Where the answer goes; `None` shows a page instead.
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    /// The v2.0 endpoint's `scope`, echoed on success; `None` on the v1 endpoint.
    pub scope: Option<String>,
    /// Set once the person picked an account.
    pub user_id: Option<Uuid>,
}

/// Counts only: the keys are live authorization codes, device codes and sign-in flow handles, and the
/// device code records hold the user codes a person would type.
impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Store")
            .field("interactions", &self.interactions.len())
            .field("authorization_codes", &self.authorization_codes.len())
            .field("refresh_tokens", &self.refresh_tokens.len())
            .field("device_codes", &self.device_codes.len())
            .field("consents", &self.consents.len())
            .field("admin_consent_flows", &self.admin_consent_flows.len())
            .field("admin_consents", &self.admin_consents.len())
            .finish()
    }
}

/// Lowercase hex SHA-256 of a refresh token, the key it is stored under.
pub fn refresh_token_digest(refresh_token: &str) -> String {
    format!("{:x}", Sha256::digest(refresh_token.as_bytes()))
}

impl Store {
    /// Applies a revocation knob to every matching refresh token issued so far.
    pub fn apply_refresh_token_fault(&mut self, fault: &RefreshTokenFault, tenant: &Tenant) {
        let (user, new_state) = match fault {
            RefreshTokenFault::Revoke { user } => (user, RefreshTokenState::Revoked),
            RefreshTokenFault::Expire { user } => (user, RefreshTokenState::Expired),
        };
        let user_id = user
            .as_deref()
            .map(|email| tenant.user_by_email(email).map(|user| user.id));
        for record in self.refresh_tokens.values_mut() {
            let matches = match user_id {
                None => true,
                Some(Some(id)) => record.grant.user_id == id,
                Some(None) => false,
            };
            if matches && record.state == RefreshTokenState::Active {
                record.state = new_state;
            }
        }
    }

    /// Withdraws the consents a [`ConsentRevocation`] names. Refresh tokens stay, but no longer carry
    /// permissions that are not consented ([`crate::identity::consent::covers`]).
    pub fn revoke_consent(&mut self, revocation: &ConsentRevocation, tenant: &Tenant) {
        let user_id = revocation
            .user
            .as_deref()
            .map(|email| tenant.user_by_email(email).map(|user| user.id));
        self.consents.retain(|(user, client_id), _| {
            let user_matches = match user_id {
                None => true,
                Some(Some(id)) => *user == id,
                Some(None) => false,
            };
            let client_matches = revocation
                .client_id
                .as_deref()
                .is_none_or(|wanted| wanted.eq_ignore_ascii_case(client_id));
            !(user_matches && client_matches)
        });
    }

    /// Finds a device code by the user code the person typed (case-insensitive, dashes ignored).
    pub fn device_code_by_user_code(
        &mut self,
        user_code: &str,
    ) -> Option<(&String, &mut DeviceCodeRecord)> {
        let normalise = |code: &str| -> String {
            code.chars()
                .filter(|character| character.is_ascii_alphanumeric())
                .map(|character| character.to_ascii_uppercase())
                .collect()
        };
        let wanted = normalise(user_code);
        self.device_codes
            .iter_mut()
            .find(|(_, record)| normalise(&record.user_code) == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_counts_but_no_code() {
        let mut store = Store::default();
        store.device_codes.insert(
            "live-device-code".to_owned(),
            DeviceCodeRecord {
                client_id: "client".to_owned(),
                scopes: Vec::new(),
                user_code: "ABCD-EFGH".to_owned(),
                expires_at: Utc::now(),
                interval_secs: 5,
                last_poll: None,
                decision: DeviceDecision::Pending,
                redeemed: false,
            },
        );
        let debug = format!("{store:?}");
        assert!(debug.contains("device_codes: 1"), "{debug}");
        assert!(
            !debug.contains("live-device-code") && !debug.contains("ABCD-EFGH"),
            "{debug}"
        );
    }
}
