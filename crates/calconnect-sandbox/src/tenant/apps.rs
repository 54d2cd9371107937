//! App registrations and the credentials a tenant file stores.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An app registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppRegistration {
    pub client_id: String,
    pub name: String,
    /// Delegated permissions configured on the registration, bare Graph names or full resource URIs
    /// (`User.Read`, `https://outlook.office365.com/EWS.AccessAsUser.All`). Users may consent to these;
    /// anything else needs an administrator (the demo tenant's user-consent policy).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Application permissions (app roles) granted by an administrator, e.g. `full_access_as_app`.
    #[serde(default)]
    pub app_roles: Vec<String>,
    /// Redirect URIs of type "Public client (mobile & desktop)" when true, "Web" otherwise.
    #[serde(default = "super::default_true")]
    pub public_client: bool,
    /// "Allow public client flows" (device code flow without a secret).
    #[serde(default = "super::default_true")]
    pub allow_public_client_flows: bool,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Client secret of a confidential client.
    #[serde(default)]
    pub client_secret: Option<TenantSecret>,
}

/// A credential stored in the tenant definition (service account password, client secret).
///
/// Debug and Display print `[redacted]`. It serialises in clear text on purpose: a tenant file is the
/// emulator's own source of truth, like a directory's password store, and the demo values are public.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct TenantSecret(String);

impl TenantSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The stored value, for protocols that derive keys from it (the NT hash of NTLM) instead of
    /// comparing it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a presented credential.
    pub fn matches(&self, presented: &str) -> bool {
        let (stored, presented) = (self.0.as_bytes(), presented.as_bytes());
        stored.len() == presented.len()
            && stored
                .iter()
                .zip(presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl fmt::Debug for TenantSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}
