//! OpenID Connect discovery: the authority's endpoints come from its metadata document
//! (OpenID Connect Discovery 1.0; Microsoft identity platform docs, "OpenID Connect on the Microsoft identity platform").
//!
//! The document decides where authorization codes, PKCE verifiers and refresh tokens go, so it is held to
//! the authority that served it: every endpoint shares the authority's origin, and `issuer` is the
//! authority itself (OpenID Connect Discovery 1.0 §4.3: "MUST be identical to the Issuer URL that was used
//! as the prefix to /.well-known/openid-configuration"). Entra departs from that in two documented ways,
//! which are accepted: the multi-tenant documents (`common`, `organizations`) name the issuer
//! `{base}{tenantid}/v2.0` with the literal placeholder, and a domain or `consumers` authority names its
//! tenant by GUID (<https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc>, "Find your
//! app's OpenID configuration document URI"; <https://learn.microsoft.com/entra/identity-platform/access-tokens>,
//! "Validate the issuer").

use serde::Deserialize;
use url::Url;
use uuid::Uuid;

use crate::authority::Authority;
use crate::error::{Error, Result};
use crate::http::{ensure_secure_url, read_json};

/// The endpoints calconnect uses, from the discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub device_authorization_endpoint: Url,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    device_authorization_endpoint: Option<String>,
}

impl Discovery {
    /// Fetches and validates `{authority}/.well-known/openid-configuration`.
    pub async fn fetch(http: &reqwest::Client, authority: &Authority) -> Result<Self> {
        let url = authority.discovery_url();
        tracing::debug!(%url, "fetching OpenID discovery document");
        let response = http
            .get(url.clone())
            .send()
            .await
            .map_err(|source| Error::Network {
                url: url.to_string(),
                source,
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::DiscoveryStatus {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let body = read_json(response, &url).await?;
        Self::parse(&url, &body)
    }

    /// Parses a discovery document fetched from `url`.
    pub fn parse(url: &Url, body: &[u8]) -> Result<Self> {
        let invalid = |reason: String| Error::DiscoveryInvalid {
            url: url.to_string(),
            reason,
        };
        let document: Document =
            serde_json::from_slice(body).map_err(|error| invalid(error.to_string()))?;
        check_issuer(url, &document.issuer).map_err(invalid)?;
        let endpoint = |name: &str, value: &str| -> Result<Url> {
            let endpoint =
                Url::parse(value).map_err(|error| invalid(format!("{name} `{value}`: {error}")))?;
            ensure_secure_url(&endpoint)?;
            if endpoint.origin() != url.origin() {
                return Err(invalid(format!(
                    "{name} `{value}` is not on the authority's origin {}",
                    url.origin().ascii_serialization()
                )));
            }
            Ok(endpoint)
        };
        let token_endpoint = endpoint("token_endpoint", &document.token_endpoint)?;
        // Entra publishes device_authorization_endpoint; derive it from the token endpoint's sibling if a
        // minimal authority leaves it out (`…/oauth2/v2.0/token` → `…/oauth2/v2.0/devicecode`).
        let device_authorization_endpoint = match document.device_authorization_endpoint.as_deref()
        {
            Some(value) => endpoint("device_authorization_endpoint", value)?,
            None => token_endpoint
                .join("devicecode")
                .map_err(|error| invalid(error.to_string()))?,
        };
        Ok(Self {
            issuer: document.issuer,
            authorization_endpoint: endpoint(
                "authorization_endpoint",
                &document.authorization_endpoint,
            )?,
            token_endpoint,
            device_authorization_endpoint,
        })
    }
}

/// `issuer` must be the authority the document was fetched from (`url` is
/// `{base}{tenant}/v2.0/.well-known/openid-configuration`): `{base}{tenant}/v2.0`, or the same with Entra's
/// `{tenantid}` placeholder or a tenant GUID in place of `{tenant}` (see the module documentation).
fn check_issuer(url: &Url, issuer: &str) -> std::result::Result<(), String> {
    let mismatch = || format!("issuer `{issuer}` is not this authority");
    let authority = url
        .as_str()
        .strip_suffix("/v2.0/.well-known/openid-configuration")
        .ok_or_else(|| format!("{url} is not an authority's discovery URL"))?;
    let (base, tenant) = authority
        .rsplit_once('/')
        .ok_or_else(|| format!("{url} is not an authority's discovery URL"))?;
    let segment = issuer
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.strip_suffix("/v2.0"))
        .ok_or_else(mismatch)?;
    let named = segment.eq_ignore_ascii_case(tenant)
        || segment == "{tenantid}"
        || Uuid::parse_str(segment)
            .is_ok_and(|id| id.hyphenated().to_string().eq_ignore_ascii_case(segment));
    if named {
        Ok(())
    } else {
        Err(mismatch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_without_device_endpoint_gets_the_token_endpoints_sibling() {
        let url = Url::parse("https://login.example/common/v2.0/.well-known/openid-configuration")
            .unwrap();
        let body = br#"{"issuer":"https://login.example/{tenantid}/v2.0","authorization_endpoint":"https://login.example/common/oauth2/v2.0/authorize","token_endpoint":"https://login.example/common/oauth2/v2.0/token"}"#;
        let discovery = Discovery::parse(&url, body).unwrap();
        assert_eq!(
            discovery.device_authorization_endpoint.as_str(),
            "https://login.example/common/oauth2/v2.0/devicecode"
        );
    }

    #[test]
    fn a_document_pointing_at_plain_http_elsewhere_is_rejected() {
        let url = Url::parse("https://login.example/common/v2.0/.well-known/openid-configuration")
            .unwrap();
        let body = br#"{"issuer":"https://login.example/common/v2.0","authorization_endpoint":"http://evil.example/authorize","token_endpoint":"https://login.example/token"}"#;
        assert!(matches!(
            Discovery::parse(&url, body),
            Err(Error::InsecureUrl { .. })
        ));
    }

    #[test]
    fn entras_issuer_shapes_are_this_authority_and_others_are_not() {
        let url = |tenant: &str| {
            Url::parse(&format!(
                "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
            ))
            .unwrap()
        };
        let guid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        for (tenant, issuer) in [
            (
                "common",
                "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned(),
            ),
            (
                "organizations",
                "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned(),
            ),
            (
                "contoso.com",
                format!("https://login.microsoftonline.com/{guid}/v2.0"),
            ),
            (
                "consumers",
                "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
                    .to_owned(),
            ),
            (
                guid,
                format!("https://login.microsoftonline.com/{guid}/v2.0"),
            ),
            (
                "Contoso.com",
                "https://login.microsoftonline.com/contoso.com/v2.0".to_owned(),
            ),
        ] {
            assert_eq!(
                check_issuer(&url(tenant), &issuer),
                Ok(()),
                "{tenant}: {issuer}"
            );
        }
        for (tenant, issuer) in [
            ("common", "https://login.microsoftonline.us/{tenantid}/v2.0"),
            ("common", "https://sts.windows.net/{tenantid}/"),
            (
                "contoso.com",
                "https://login.microsoftonline.com/fabrikam.com/v2.0",
            ),
            (
                "contoso.com",
                "https://login.microsoftonline.com/contoso.com/v2.0/",
            ),
            (
                "contoso.com",
                "https://login.microsoftonline.com/a/contoso.com/v2.0",
            ),
            (
                "contoso.com",
                "https://login.microsoftonline.com/{72f988bf-86f1-41af-91ab-2d7cd011db47}/v2.0",
            ),
        ] {
            assert!(
                check_issuer(&url(tenant), issuer).is_err(),
                "{tenant}: {issuer}"
            );
        }
    }
}
