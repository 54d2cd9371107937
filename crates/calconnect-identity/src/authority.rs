//! Where to sign in: an authority base URL plus a tenant, with presets for Microsoft's national clouds.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::http::ensure_secure_url;

/// A Microsoft cloud with its sign-in host and Graph root
/// (Microsoft docs: "National cloud deployments", "Microsoft Graph national cloud deployments").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Global,
    #[serde(rename = "usgov")]
    UsGovernment,
    China,
}

impl Cloud {
    pub fn login_base(self) -> Url {
        let base = match self {
            Self::Global => "https://login.microsoftonline.com/",
            Self::UsGovernment => "https://login.microsoftonline.us/",
            Self::China => "https://login.chinacloudapi.cn/",
        };
        Url::parse(base).expect("cloud login URLs are valid")
    }

    pub fn graph_base(self) -> Url {
        let base = match self {
            Self::Global => "https://graph.microsoft.com/",
            Self::UsGovernment => "https://graph.microsoft.us/",
            Self::China => "https://microsoftgraph.chinacloudapi.cn/",
        };
        Url::parse(base).expect("cloud Graph URLs are valid")
    }
}

impl std::str::FromStr for Cloud {
    type Err = String;

    fn from_str(value: &str) -> std::result::Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "global" => Ok(Self::Global),
            "usgov" | "us-gov" | "usgovernment" => Ok(Self::UsGovernment),
            "china" => Ok(Self::China),
            other => Err(format!(
                "unknown cloud `{other}` (expected global, usgov or china)"
            )),
        }
    }
}

/// An authority: `{base}{tenant}/v2.0` (Microsoft identity platform docs: "v2 protocols").
///
/// `tenant` is `common`, `organizations`, `consumers`, a tenant id or a verified domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    base: Url,
    tenant: String,
}

impl Authority {
    /// An authority at `base` (https, or http on loopback) for `tenant`.
    pub fn new(base: Url, tenant: impl Into<String>) -> Result<Self> {
        ensure_secure_url(&base)?;
        let mut base = base;
        if base.query().is_some() || base.fragment().is_some() || base.cannot_be_a_base() {
            return Err(Error::InvalidAuthority {
                url: base.to_string(),
                reason: "an authority base URL has no query or fragment".into(),
            });
        }
        // Joining relative paths needs the trailing slash, and users often leave it off.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let tenant = tenant.into();
        let tenant_is_valid = !tenant.is_empty()
            && tenant.len() <= 253
            && tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !tenant.starts_with('.');
        if !tenant_is_valid {
            return Err(Error::InvalidAuthority {
                url: base.to_string(),
                reason: format!("`{tenant}` is not a tenant (use common, organizations, consumers, a tenant id or a domain)"),
            });
        }
        Ok(Self { base, tenant })
    }

    pub fn for_cloud(cloud: Cloud, tenant: impl Into<String>) -> Result<Self> {
        Self::new(cloud.login_base(), tenant)
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Whether the tenant is one of the multi-tenant aliases rather than a specific directory.
    pub fn is_multi_tenant(&self) -> bool {
        matches!(
            self.tenant.to_ascii_lowercase().as_str(),
            "common" | "organizations" | "consumers"
        )
    }

    /// `{base}{tenant}/v2.0`, the issuer prefix.
    pub fn url(&self) -> Url {
        self.join(&format!("{}/v2.0", self.tenant))
    }

    /// `{base}{tenant}/v2.0/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
    pub fn discovery_url(&self) -> Url {
        self.join(&format!(
            "{}/v2.0/.well-known/openid-configuration",
            self.tenant
        ))
    }

    pub(crate) fn join(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("tenant was validated as URL-safe")
    }
}

impl std::fmt::Display for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_is_under_the_tenant_and_v2() {
        let authority = Authority::for_cloud(Cloud::Global, "contoso.com").unwrap();
        assert_eq!(
            authority.discovery_url().as_str(),
            "https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration"
        );
    }

    #[test]
    fn a_base_url_without_trailing_slash_keeps_its_path() {
        let authority = Authority::new(
            Url::parse("http://127.0.0.1:9000/sandbox").unwrap(),
            "common",
        )
        .unwrap();
        assert_eq!(
            authority.url().as_str(),
            "http://127.0.0.1:9000/sandbox/common/v2.0"
        );
    }

    #[test]
    fn tenants_that_would_change_the_path_are_rejected() {
        for tenant in ["", "../x", "a/b", "a?b", ".hidden"] {
            assert!(
                Authority::for_cloud(Cloud::Global, tenant).is_err(),
                "{tenant:?} should be rejected"
            );
        }
    }

    #[test]
    fn plain_http_is_rejected_for_a_remote_authority() {
        let error =
            Authority::new(Url::parse("http://login.example.com/").unwrap(), "common").unwrap_err();
        assert!(matches!(error, Error::InsecureUrl { .. }));
    }

    #[test]
    fn national_clouds_pair_sign_in_hosts_with_graph_roots() {
        assert_eq!(
            Cloud::UsGovernment.graph_base().as_str(),
            "https://graph.microsoft.us/"
        );
        assert_eq!(
            Cloud::China.login_base().as_str(),
            "https://login.chinacloudapi.cn/"
        );
    }
}
