//! App registrations and the credentials a tenant file stores: client secrets and certificates.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::certificate::X509Certificate;

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
    /// Application permissions configured on the registration ("API permissions", the manifest's
    /// `requiredResourceAccess` entries of type `Role`) but not necessarily granted: tenant-wide admin
    /// consent (`/adminconsent`) grants them. Until then the app's client-credential tokens carry only
    /// [`Self::app_roles`]. [learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested_app_roles: Vec<String>,
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
    /// Certificates uploaded under "Certificates & secrets" (Graph `keyCredentials`); a client proves it
    /// holds one by signing a client assertion with its private key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_credentials: Vec<KeyCredential>,
}

impl AppRegistration {
    /// Whether the registration holds any credential (secret or certificate): a confidential client.
    /// One without any is a public client, which must present none (AADSTS700025).
    pub fn has_credentials(&self) -> bool {
        self.client_secret.is_some() || !self.key_credentials.is_empty()
    }

    /// The registered certificates, parsed (the tenant was validated, so each one parses).
    pub fn certificates(&self) -> Vec<(&KeyCredential, X509Certificate)> {
        self.key_credentials
            .iter()
            .filter_map(|credential| Some((credential, credential.parse().ok()?)))
            .collect()
    }
}

/// A certificate credential: Graph's `keyCredential` of `type` AsymmetricX509Cert and `usage` Verify.
/// Its thumbprint (`customKeyIdentifier`), start and end come from the certificate itself, as the portal
/// derives them on upload. [learn.microsoft.com/entra/identity-platform/certificate-credentials]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyCredential {
    /// Graph `keyId`.
    pub key_id: Uuid,
    /// Graph `displayName` (the portal shows the certificate subject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The certificate in PEM (`-----BEGIN CERTIFICATE-----`): public material only, never the key.
    pub certificate: String,
}

impl KeyCredential {
    /// The certificate, parsed.
    pub fn parse(&self) -> Result<X509Certificate, String> {
        X509Certificate::from_pem(&self.certificate)
    }
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
