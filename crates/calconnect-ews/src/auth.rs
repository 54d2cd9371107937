//! Authentication to EWS: the schemes a server offers (`WWW-Authenticate`), NTLM (preferred) and Basic for
//! on-premises Exchange ("Authentication and EWS in Exchange": NTLM on premises only, Basic not
//! recommended), and Bearer tokens from the client-credentials grant for Exchange Online
//! ("Authenticate an EWS application by using OAuth", scope `{resource}/.default` of the tenant's
//! [`ExchangeCloud`]).
//!
//! Negotiate (Kerberos) is recognised when offered but not spoken by this tool.

use std::fmt;

use base64::Engine;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use url::Url;

use crate::cloud::ExchangeCloud;
use crate::endpoints::{ensure_secure, parse};
use crate::error::{Error, Result};

/// What the admin typed in.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A service account (user name, `DOMAIN\user` or UPN) and its password: NTLM or Basic authentication.
    Password {
        /// User name or UPN.
        username: String,
        /// The password; never logged.
        password: SecretString,
    },
    /// An Entra app registration with a client secret: client-credentials OAuth for Exchange Online.
    ClientCredentials {
        /// The cloud: identity platform host (token URL) and Exchange resource (scope).
        cloud: ExchangeCloud,
        /// Tenant id or verified domain.
        tenant: String,
        /// Application (client) id.
        client_id: String,
        /// The client secret; never logged.
        client_secret: SecretString,
    },
}

impl Credentials {
    /// The identity named in reports and fix commands (user name or client id).
    pub fn principal(&self) -> &str {
        match self {
            Self::Password { username, .. } => username,
            Self::ClientCredentials { client_id, .. } => client_id,
        }
    }

    /// The scheme these credentials use against a server whose 401 offered `offered`: Bearer for an app;
    /// for a password NTLM when offered (the password never crosses the wire), else Basic. `None` when the
    /// server offers none of them, and when it offers nothing at all: a host that never challenged is
    /// never sent credentials.
    pub fn scheme_for(&self, offered: &[AuthScheme]) -> Option<AuthScheme> {
        match self {
            Self::ClientCredentials { .. } => offered
                .contains(&AuthScheme::Bearer)
                .then_some(AuthScheme::Bearer),
            Self::Password { .. } if offered.contains(&AuthScheme::Ntlm) => Some(AuthScheme::Ntlm),
            Self::Password { .. } => offered
                .contains(&AuthScheme::Basic)
                .then_some(AuthScheme::Basic),
        }
    }

    /// The schemes these credentials can use, in order of preference, for messages.
    pub fn usable_schemes(&self) -> &'static str {
        match self {
            Self::ClientCredentials { .. } => "Bearer",
            Self::Password { .. } => "NTLM or Basic",
        }
    }
}

/// An HTTP authentication scheme named in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AuthScheme {
    /// RFC 7617 Basic.
    Basic,
    /// RFC 6750 Bearer (OAuth).
    Bearer,
    /// NTLM.
    Ntlm,
    /// Negotiate (Kerberos or NTLM).
    Negotiate,
    /// Anything else.
    Other(String),
}

impl AuthScheme {
    fn parse(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "basic" => Self::Basic,
            "bearer" => Self::Bearer,
            "ntlm" => Self::Ntlm,
            "negotiate" => Self::Negotiate,
            _ => Self::Other(name.to_owned()),
        }
    }

    /// Whether this tool can authenticate with the scheme.
    pub fn is_supported(&self) -> bool {
        matches!(self, Self::Basic | Self::Bearer | Self::Ntlm)
    }
}

impl fmt::Display for AuthScheme {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic => formatter.write_str("Basic"),
            Self::Bearer => formatter.write_str("Bearer"),
            Self::Ntlm => formatter.write_str("NTLM"),
            Self::Negotiate => formatter.write_str("Negotiate"),
            Self::Other(name) => formatter.write_str(name),
        }
    }
}

/// The schemes named by every `WWW-Authenticate` header of a response (challenges may share one header,
/// separated by commas; auth-params contain `=` and are skipped).
pub fn offered_schemes(headers: &reqwest::header::HeaderMap) -> Vec<AuthScheme> {
    let mut schemes = Vec::new();
    for value in headers.get_all(reqwest::header::WWW_AUTHENTICATE) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let first = part.split_whitespace().next().unwrap_or_default();
            if first.is_empty() || first.contains('=') {
                continue;
            }
            let scheme = AuthScheme::parse(first);
            if !schemes.contains(&scheme) {
                schemes.push(scheme);
            }
        }
    }
    schemes
}

/// How requests authenticate: a ready `Authorization` header value (Basic, Bearer), or the NTLM
/// credentials a per-request handshake needs. Debug prints `[redacted]`.
#[derive(Clone)]
pub struct Authorization {
    scheme: AuthScheme,
    value: SecretString,
    ntlm: Option<NtlmCredentials>,
}

/// The user name and password of an NTLM handshake.
#[derive(Clone)]
pub(crate) struct NtlmCredentials {
    pub(crate) username: String,
    pub(crate) password: SecretString,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Authorization({} [redacted])", self.scheme)
    }
}

impl Authorization {
    /// `Basic base64(user:password)` (RFC 7617).
    pub fn basic(username: &str, password: &SecretString) -> Self {
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{username}:{}", password.expose_secret()));
        Self {
            scheme: AuthScheme::Basic,
            value: SecretString::from(format!("Basic {encoded}")),
            ntlm: None,
        }
    }

    /// NTLMv2 ([`crate::ntlm`]): each request is preceded by a NEGOTIATE/CHALLENGE exchange on the same
    /// connection, which the [`crate::client::EwsClient`] opens for it ([`crate::connection`]).
    pub fn ntlm(username: &str, password: &SecretString) -> Self {
        Self {
            scheme: AuthScheme::Ntlm,
            value: SecretString::from(String::new()),
            ntlm: Some(NtlmCredentials {
                username: username.to_owned(),
                password: password.clone(),
            }),
        }
    }

    /// `Bearer <token>` (RFC 6750).
    pub fn bearer(token: &str) -> Self {
        Self {
            scheme: AuthScheme::Bearer,
            value: SecretString::from(format!("Bearer {token}")),
            ntlm: None,
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> &AuthScheme {
        &self.scheme
    }

    /// NTLM credentials, when the scheme is NTLM.
    pub(crate) fn ntlm_credentials(&self) -> Option<&NtlmCredentials> {
        self.ntlm.as_ref()
    }

    /// The static header value; `None` for NTLM, whose header is computed per handshake.
    pub(crate) fn header_value(&self) -> Result<Option<reqwest::header::HeaderValue>> {
        if self.ntlm.is_some() {
            return Ok(None);
        }
        let mut value = reqwest::header::HeaderValue::from_str(self.value.expose_secret())
            .map_err(|_| Error::ClientSetup {
                detail: "credentials contain characters not allowed in a header".into(),
            })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

/// The token endpoint of a tenant: `{authority_host}{tenant}/oauth2/v2.0/token`.
pub fn token_url(authority_host: &Url, tenant: &str) -> Result<Url> {
    let base = authority_host.as_str().trim_end_matches('/');
    parse(&format!("{base}/{tenant}/oauth2/v2.0/token"))
}

/// Turns credentials into an `Authorization` header, requesting an app-only token for client credentials.
///
/// `http` must be the run's client (trust anchors, no redirects); `token_target` maps the logical token URL
/// to where it is really sent.
pub async fn authorize(
    credentials: &Credentials,
    http: &reqwest::Client,
    token_target: impl Fn(&Url) -> Result<Url>,
) -> Result<Authorization> {
    match credentials {
        Credentials::Password { username, password } => {
            Ok(Authorization::basic(username, password))
        }
        Credentials::ClientCredentials {
            cloud,
            tenant,
            client_id,
            client_secret,
        } => {
            let logical = token_url(cloud.authority_host(), tenant)?;
            ensure_secure(&logical)?;
            let target = token_target(&logical)?;
            let token_url = TokenUrl::from_url(target);
            let client = oauth2::basic::BasicClient::new(ClientId::new(client_id.clone()))
                .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
                .set_token_uri(token_url)
                // Microsoft accepts the secret in the body; it rejects nothing about this form.
                .set_auth_type(AuthType::RequestBody);
            let response = client
                .exchange_client_credentials()
                .add_scope(Scope::new(cloud.scope()))
                // Through the identity crate's bounded reader: oauth2's own reads a body without a limit.
                .request_async(&calconnect_identity::http::OAuthHttp(http.clone()))
                .await
                .map_err(|error| Error::TokenRequest {
                    url: logical.to_string(),
                    detail: describe_token_error(&error),
                })?;
            Ok(Authorization::bearer(response.access_token().secret()))
        }
    }
}

fn describe_token_error<RE: std::error::Error + 'static>(
    error: &oauth2::RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> String {
    match error {
        oauth2::RequestTokenError::ServerResponse(response) => {
            let description = response
                .error_description()
                .map(|text| text.lines().next().unwrap_or_default().to_owned());
            match description {
                Some(description) => format!("{}: {description}", response.error()),
                None => response.error().to_string(),
            }
        }
        oauth2::RequestTokenError::Request(source) => {
            let mut detail = source.to_string();
            let mut current = source.source();
            while let Some(layer) = current {
                detail.push_str(": ");
                detail.push_str(&layer.to_string());
                current = layer.source();
            }
            detail
        }
        // serde's message may quote the body (an access token): keep only the JSON path that failed.
        oauth2::RequestTokenError::Parse(source, _) => {
            format!("unreadable token response at `{}`", source.path())
        }
        oauth2::RequestTokenError::Other(text) => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};

    #[test]
    fn schemes_are_read_from_every_www_authenticate_header() {
        let mut headers = HeaderMap::new();
        headers.append(WWW_AUTHENTICATE, HeaderValue::from_static("Negotiate"));
        headers.append(WWW_AUTHENTICATE, HeaderValue::from_static("NTLM"));
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token""#),
        );
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="mail.contoso.com""#),
        );
        assert_eq!(
            offered_schemes(&headers),
            vec![
                AuthScheme::Negotiate,
                AuthScheme::Ntlm,
                AuthScheme::Bearer,
                AuthScheme::Basic
            ]
        );
    }

    #[test]
    fn authorization_debug_never_shows_the_secret() {
        let authorization = Authorization::basic("svc", &SecretString::from("hunter2"));
        let debug = format!("{authorization:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("aHVudGVyMg"),
            "{debug}"
        );
        let credentials = Credentials::Password {
            username: "svc".into(),
            password: SecretString::from("hunter2"),
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }

    #[test]
    fn token_url_follows_the_v2_endpoint_shape() {
        let url = token_url(
            &Url::parse("https://login.microsoftonline.com/").unwrap(),
            "contoso.com",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
        );
    }
}
