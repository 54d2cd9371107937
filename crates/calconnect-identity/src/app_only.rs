//! App-only tokens for an admin's tests: the client credentials grant with a client secret or a
//! certificate (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow), and the
//! `roles` the token carries.
//!
//! The certificate credential is a client assertion JWT signed with the certificate's private key
//! (learn.microsoft.com/entra/identity-platform/certificate-credentials): header `alg` PS256 ("Should be
//! PS256", RSA-PSS padding), `typ` JWT,
//! `x5t#S256` (base64url SHA-256 of the certificate's DER); claims `aud` (the token endpoint), `iss` =
//! `sub` = the client id, `jti`, `nbf`, `exp` (ten minutes). The key is parsed into memory from the PEM
//! the admin gives and never written anywhere; the assertion is a secret like the client secret.
//!
//! Hand-rolled form POST rather than the `oauth2` crate: that crate has no client-assertion
//! authentication, and the grant is one form and one JSON answer.

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use crate::aadsts::AadError;
use crate::authority::Authority;
use crate::error::{Error, Result};
use crate::http::read_json;
use crate::token::MAX_ACCESS_TOKEN_LIFETIME;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long an assertion is valid ("5-10 minutes after nbf at most", certificate-credentials).
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// How the app proves who it is.
pub enum AppCredential {
    /// A client secret.
    Secret(SecretString),
    /// A certificate registered on the app, with its private key.
    Certificate(CertificateCredential),
}

impl std::fmt::Debug for AppCredential {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => formatter.write_str("AppCredential::Secret([redacted])"),
            Self::Certificate(certificate) => formatter
                .debug_tuple("AppCredential::Certificate")
                .field(&certificate.thumbprint_sha256)
                .finish(),
        }
    }
}

/// A certificate and its private key, read from one PEM (or a key PEM and a certificate PEM together).
pub struct CertificateCredential {
    key: jsonwebtoken::EncodingKey,
    /// `x5t#S256`: base64url (no padding) of the certificate DER's SHA-256.
    pub thumbprint_sha256: String,
}

impl CertificateCredential {
    /// Reads the first certificate and the private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE
    /// KEY`) from `pem`.
    pub fn from_pem(pem: &SecretString) -> Result<Self> {
        let text = pem.expose_secret();
        let invalid = |reason: &str| Error::InvalidCredential {
            reason: reason.to_owned(),
        };
        let certificate = pem_block(text, "CERTIFICATE")
            .ok_or_else(|| invalid("the PEM holds no CERTIFICATE block"))?;
        let certificate_der = base64::engine::general_purpose::STANDARD
            .decode(certificate.replace(['\r', '\n', ' '], ""))
            .map_err(|_| invalid("the CERTIFICATE block is not base64"))?;
        let key_pem = ["PRIVATE KEY", "RSA PRIVATE KEY"]
            .iter()
            .find_map(|label| {
                pem_block(text, label).map(|body| {
                    (
                        *label,
                        secrecy::zeroize::Zeroizing::new(format!(
                            "-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"
                        )),
                    )
                })
            })
            .ok_or_else(|| invalid("the PEM holds no PRIVATE KEY block (an RSA key is needed)"))?;
        let private_key = match key_pem.0 {
            "PRIVATE KEY" => {
                use rsa::pkcs8::DecodePrivateKey as _;
                rsa::RsaPrivateKey::from_pkcs8_pem(&key_pem.1)
            }
            _ => {
                use rsa::pkcs1::DecodeRsaPrivateKey as _;
                rsa::RsaPrivateKey::from_pkcs1_pem(&key_pem.1)
                    .map_err(|_| rsa::pkcs8::Error::KeyMalformed)
            }
        }
        .map_err(|_| invalid("the private key is not an RSA key in PEM"))?;
        let der = {
            use rsa::pkcs1::EncodeRsaPrivateKey as _;
            private_key
                .to_pkcs1_der()
                .map_err(|_| invalid("the private key cannot be encoded"))?
        };
        let key = jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes());
        let thumbprint_sha256 = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(&certificate_der));
        Ok(Self {
            key,
            thumbprint_sha256,
        })
    }

    /// The signed client assertion for `client_id` at `token_url`.
    pub fn assertion(
        &self,
        client_id: &str,
        token_url: &Url,
        now: DateTime<Utc>,
    ) -> Result<SecretString> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
        header.typ = Some("JWT".into());
        header.x5t_s256 = Some(self.thumbprint_sha256.clone());
        let issued = now.timestamp();
        let claims = serde_json::json!({
            "aud": token_url.as_str(),
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": issued,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME_SECS,
        });
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(SecretString::from)
            .map_err(|error| Error::InvalidCredential {
                reason: format!("cannot sign the client assertion: {error}"),
            })
    }
}

/// The body between `-----BEGIN {label}-----` and its END line.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end)? + start;
    Some(text[start..stop].trim())
}

/// An app-only access token and what it carries.
pub struct AppToken {
    /// The bearer token.
    pub access_token: SecretString,
    /// The `roles` claim: the application permissions an administrator consented to.
    pub roles: Vec<String>,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for AppToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppToken")
            .field("roles", &self.roles)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// `{authority base}{tenant}/oauth2/v2.0/token`.
pub fn token_url(authority: &Authority) -> Url {
    authority.join(&format!("{}/oauth2/v2.0/token", authority.tenant()))
}

/// `{authority base}{tenant}/adminconsent?client_id=…`: where an administrator grants the app's
/// application permissions (learn.microsoft.com/entra/identity-platform/v2-admin-consent).
pub fn admin_consent_url(authority: &Authority, client_id: &str) -> Url {
    let mut url = authority.join(&format!("{}/adminconsent", authority.tenant()));
    url.query_pairs_mut().append_pair("client_id", client_id);
    url
}

/// Requests an app-only token for `scope` (e.g. `https://graph.microsoft.com/.default`).
pub async fn request_app_token(
    http: &reqwest::Client,
    authority: &Authority,
    client_id: &str,
    credential: &AppCredential,
    scope: &str,
    now: DateTime<Utc>,
    timeout: Duration,
) -> Result<AppToken> {
    let url = token_url(authority);
    let secret;
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", scope),
    ];
    match credential {
        AppCredential::Secret(client_secret) => {
            form.push(("client_secret", client_secret.expose_secret()));
        }
        AppCredential::Certificate(certificate) => {
            secret = certificate.assertion(client_id, &url, now)?;
            form.push(("client_assertion_type", ASSERTION_TYPE));
            form.push(("client_assertion", secret.expose_secret()));
        }
    }
    let network = |source| Error::Network {
        url: url.to_string(),
        source,
    };
    let response = http
        .post(url.clone())
        .timeout(timeout)
        .form(&form)
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    let body = read_json(response, &url).await?;
    if !status.is_success() {
        let error: AadError = serde_json::from_slice(&body).unwrap_or_default();
        return Err(Error::server("client credentials token request", error));
    }
    #[derive(Deserialize)]
    struct TokenAnswer {
        access_token: String,
        #[serde(default)]
        expires_in: u64,
    }
    let answer: TokenAnswer =
        serde_json::from_slice(&body).map_err(|error| Error::InvalidResponse {
            url: url.to_string(),
            reason: format!("not a token answer: {error}"),
        })?;
    let roles = roles_of(&answer.access_token);
    Ok(AppToken {
        access_token: SecretString::from(answer.access_token),
        roles,
        // Believed up to the longest lifetime Entra issues: a later expiry is a broken or hostile answer.
        expires_in: answer.expires_in.min(MAX_ACCESS_TOKEN_LIFETIME.as_secs()),
    })
}

/// The `roles` claim of a JWT access token, read without verifying it: the token came straight from the
/// token endpoint over verified TLS, and only Graph (which verifies it) acts on it.
pub fn roles_of(token: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Claims {
        #[serde(default)]
        roles: Vec<String>,
    }
    token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())
        .map(|claims| claims.roles)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_from_the_token_payload_and_a_garbled_token_has_none() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"roles":["User.ReadBasic.All","OnlineMeetings.ReadWrite.All"]}"#);
        assert_eq!(
            roles_of(&format!("e30.{payload}.sig")),
            ["User.ReadBasic.All", "OnlineMeetings.ReadWrite.All"]
        );
        assert!(roles_of("not a token").is_empty());
    }

    #[test]
    fn the_admin_consent_link_names_the_tenant_and_the_app() {
        let authority = Authority::new(
            Url::parse("https://login.microsoftonline.com/").unwrap(),
            "contoso.com",
        )
        .unwrap();
        assert_eq!(
            admin_consent_url(&authority, "abc").as_str(),
            "https://login.microsoftonline.com/contoso.com/adminconsent?client_id=abc"
        );
        assert_eq!(
            token_url(&authority).as_str(),
            "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
        );
    }

    #[test]
    fn the_assertion_is_ps256_with_the_sha256_thumbprint_and_the_documented_claims() {
        use rsa::pkcs8::EncodePrivateKey as _;
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let key_pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        // Any DER stands in for the certificate here: only its hash goes into the header.
        let pem = format!(
            "{}-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n",
            key_pem.as_str()
        );
        let credential = CertificateCredential::from_pem(&SecretString::from(pem)).unwrap();
        let url =
            Url::parse("https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token").unwrap();
        let now = chrono::Utc::now();
        let assertion = credential.assertion("abc", &url, now).unwrap();
        let parts: Vec<&str> = assertion.expose_secret().split('.').collect();
        let decode = |part: &str| -> serde_json::Value {
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part)
                    .unwrap(),
            )
            .unwrap()
        };
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "PS256");
        assert_eq!(
            header["x5t#S256"],
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest([0u8, 1, 2]))
        );
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], url.as_str());
        assert_eq!(claims["iss"], "abc");
        assert_eq!(claims["sub"], "abc");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(),
            600
        );
        assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    }

    #[test]
    fn a_pem_without_a_certificate_or_key_is_refused_without_echoing_it() {
        let error = CertificateCredential::from_pem(&SecretString::from("hello"))
            .err()
            .unwrap();
        assert!(error.to_string().contains("no CERTIFICATE"), "{error}");
        assert!(!error.to_string().contains("hello"));
    }
}
