//! The RS256 key that signs access and ID tokens, published as a JWKS (`/{tenant}/discovery/v2.0/keys`).

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use secrecy::SecretString;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A token signing key with its JWKS form.
pub struct SigningKey {
    /// Kept to be written to a state directory; never logged (see the `Debug` impl).
    private_key: rsa::RsaPrivateKey,
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    modulus: String,
    exponent: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The process-wide key. RSA generation costs up to a second; every sandbox in a test binary shares
    /// one key, which is harmless because each sandbox is its own issuer only by URL.
    pub fn shared() -> Result<Arc<SigningKey>> {
        static SHARED: OnceLock<std::result::Result<Arc<SigningKey>, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                SigningKey::generate()
                    .map(Arc::new)
                    .map_err(|error| error.to_string())
            })
            .clone()
            .map_err(Error::SigningKey)
    }

    /// A fresh 2048-bit RSA key.
    pub fn generate() -> Result<Self> {
        let private_key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|error| Error::SigningKey(error.to_string()))?;
        Self::from_private_key(private_key)
    }

    /// The key in a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as [`SigningKey::to_pkcs8_pem`] writes it.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        let private_key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|error| Error::SigningKey(format!("invalid PKCS#8 key: {error}")))?;
        Self::from_private_key(private_key)
    }

    /// The private key as PKCS#8 PEM, for the state directory.
    pub fn to_pkcs8_pem(&self) -> Result<SecretString> {
        let pem = self
            .private_key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|error| Error::SigningKey(error.to_string()))?;
        Ok(SecretString::from(pem.as_str()))
    }

    fn from_private_key(private_key: rsa::RsaPrivateKey) -> Result<Self> {
        let der = private_key
            .to_pkcs1_der()
            .map_err(|error| Error::SigningKey(error.to_string()))?;
        let modulus_bytes = private_key.n().to_bytes_be();
        let exponent_bytes = private_key.e().to_bytes_be();
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(&modulus_bytes)[..15]);
        Ok(Self {
            private_key,
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_raw_components(&modulus_bytes, &exponent_bytes),
            modulus: URL_SAFE_NO_PAD.encode(&modulus_bytes),
            exponent: URL_SAFE_NO_PAD.encode(&exponent_bytes),
        })
    }

    /// Key id, the JWT header `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` as an RS256 JWT with `typ: JWT` and this key's `kid`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|error| Error::SigningKey(error.to_string()))
    }

    /// Key to verify signatures made by [`SigningKey::sign`].
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The JWKS document (`{"keys":[{...}]}`) as Entra publishes it.
    pub fn jwks(&self, issuer: &str) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": self.kid,
                "x5t": self.kid,
                "n": self.modulus,
                "e": self.exponent,
                "issuer": issuer,
            }]
        })
    }
}
