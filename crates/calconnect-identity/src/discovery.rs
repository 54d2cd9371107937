//! OpenID Connect discovery: the authority's endpoints come from its metadata document
//! (OpenID Connect Discovery 1.0; Microsoft identity platform docs, "OpenID Connect on the Microsoft identity platform").

use serde::Deserialize;
use url::Url;

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
        let endpoint = |name: &str, value: &str| -> Result<Url> {
            let endpoint =
                Url::parse(value).map_err(|error| invalid(format!("{name} `{value}`: {error}")))?;
            ensure_secure_url(&endpoint)?;
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
        let body = br#"{"issuer":"x","authorization_endpoint":"http://evil.example/authorize","token_endpoint":"https://login.example/token"}"#;
        assert!(matches!(
            Discovery::parse(&url, body),
            Err(Error::InsecureUrl { .. })
        ));
    }
}
