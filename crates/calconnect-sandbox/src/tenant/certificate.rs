//! The X.509 certificates uploaded to app registrations ("Certificates & secrets" > Certificates): what
//! Entra reads from them to check a client assertion.
//!
//! Entra keeps the certificate as a `keyCredential` (`type` AsymmetricX509Cert, `usage` Verify,
//! `customKeyIdentifier` = the SHA-1 thumbprint) and finds it again by the thumbprint in the assertion's
//! header: `x5t#S256`, the base64url SHA-256 of the certificate's DER encoding, or the legacy `x5t`
//! (SHA-1). [learn.microsoft.com/entra/identity-platform/certificate-credentials]
//!
//! Only what that needs is parsed here (a minimal DER walk to the validity and the subject public key):
//! the RSA public key, the validity window Entra prints as "Found key 'Start=…, End=…'", and both digests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use jsonwebtoken::DecodingKey;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use sha2::{Digest as _, Sha256};

use crate::sha1::sha1;

/// A parsed RSA certificate.
#[derive(Clone)]
pub struct X509Certificate {
    der: Vec<u8>,
    public_key: rsa::RsaPublicKey,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

impl std::fmt::Debug for X509Certificate {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("X509Certificate")
            .field("thumbprint", &self.thumbprint())
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl X509Certificate {
    /// The first `-----BEGIN CERTIFICATE-----` block of `pem` (other blocks and text around them, such as
    /// a private key or comments, are skipped).
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|error| format!("no PEM certificate found: {error:?}"))?;
        Self::from_der(der.as_ref())
    }

    /// A DER-encoded certificate with an RSA subject public key.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let malformed = || "the certificate is not valid DER X.509".to_owned();
        let (certificate, _) = Tlv::read(der).ok_or_else(malformed)?;
        let (tbs, _) = certificate
            .expect(SEQUENCE)
            .and_then(Tlv::read)
            .ok_or_else(malformed)?;
        let mut fields = tbs.expect(SEQUENCE).ok_or_else(malformed)?;
        let mut next = || {
            let (field, rest) = Tlv::read(fields).ok_or_else(malformed)?;
            fields = rest;
            Ok::<_, String>(field)
        };
        let mut field = next()?;
        if field.tag == VERSION {
            field = next()?;
        }
        // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo (RFC 5280 §4.1).
        let _serial = field;
        let _signature = next()?;
        let _issuer = next()?;
        let validity = next()?.expect(SEQUENCE).ok_or_else(malformed)?;
        let _subject = next()?;
        let public_key_info = next()?;
        let (not_before, rest) = Tlv::read(validity).ok_or_else(malformed)?;
        let (not_after, _) = Tlv::read(rest).ok_or_else(malformed)?;
        let public_key = rsa::RsaPublicKey::from_public_key_der(public_key_info.whole)
            .map_err(|error| format!("the certificate's public key is not an RSA key: {error}"))?;
        Ok(Self {
            der: der.to_vec(),
            public_key,
            not_before: not_before.time().ok_or_else(malformed)?,
            not_after: not_after.time().ok_or_else(malformed)?,
        })
    }

    /// The DER encoding, whose digests are the thumbprints.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `x5t#S256`: base64url (no padding) of SHA-256 over the DER encoding.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }

    /// `x5t`: base64url (no padding) of SHA-1 over the DER encoding (RFC 7515 §4.1.7).
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(sha1(&self.der))
    }

    /// The SHA-1 thumbprint in upper-case hex, as the portal and AADSTS700027 show it.
    pub fn thumbprint(&self) -> String {
        hex_upper(&sha1(&self.der))
    }

    /// Whether a header thumbprint (the base64url value of `x5t#S256` or `x5t`) names this certificate.
    pub fn has_thumbprint(&self, header_value: &str, sha256: bool) -> bool {
        let expected = if sha256 { self.x5t_s256() } else { self.x5t() };
        // Tolerate padding and standard-alphabet base64, which some clients send.
        let normalised = header_value
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_");
        normalised == expected
    }

    /// Start of the validity period.
    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }

    /// End of the validity period.
    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// The key that verifies signatures made with the certificate's private key.
    pub fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_rsa_raw_components(
            &self.public_key.n().to_bytes_be(),
            &self.public_key.e().to_bytes_be(),
        )
    }
}

/// Upper-case hex of `bytes`.
pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

const SEQUENCE: u8 = 0x30;
const VERSION: u8 = 0xA0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// One DER tag-length-value (single-byte tags, definite lengths: all X.509 needs up to the public key).
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    /// Tag, length and content together.
    whole: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The TLV at the start of `input` and what follows it.
    fn read(input: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (length, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7F);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (bytes, rest) = rest.split_at(count);
            let length = bytes
                .iter()
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            (length, rest)
        };
        if rest.len() < length {
            return None;
        }
        let header = input.len() - rest.len();
        let (content, after) = rest.split_at(length);
        Some((
            Self {
                tag,
                content,
                whole: &input[..header + length],
            },
            after,
        ))
    }

    fn expect(self, tag: u8) -> Option<&'a [u8]> {
        (self.tag == tag).then_some(self.content)
    }

    /// An RFC 5280 §4.1.2.5 time: UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime
    /// `YYYYMMDDHHMMSSZ`.
    fn time(self) -> Option<DateTime<Utc>> {
        let text = std::str::from_utf8(self.content).ok()?;
        let text = text.strip_suffix('Z')?;
        let full = match self.tag {
            UTC_TIME => {
                let year: u32 = text.get(..2)?.parse().ok()?;
                let century = if year >= 50 { "19" } else { "20" };
                format!("{century}{text}")
            }
            GENERALIZED_TIME => text.to_owned(),
            _ => return None,
        };
        NaiveDateTime::parse_from_str(&full, "%Y%m%d%H%M%S")
            .ok()
            .map(|naive| naive.and_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    #[test]
    fn the_demo_certificate_parses_with_its_openssl_thumbprints_and_dates() {
        let certificate = X509Certificate::from_pem(demo::TEAMS_ENTERPRISE_CERTIFICATE_PEM)
            .expect("the demo PEM holds a certificate");
        // `openssl x509 -outform der | sha1sum` / `sha256sum` at generation time.
        assert_eq!(
            certificate.thumbprint(),
            "848D26F55BF36ABC75857B4BFC50CF56D5FDD797"
        );
        assert_eq!(
            hex_upper(&Sha256::digest(certificate.der())),
            "ECBA5BF04D2E9D8C3114B1B6050EAC7B36DF6253BBEA358FB7C60A0C33D872C0"
        );
        assert_eq!(
            certificate.not_before().format("%Y-%m-%d").to_string(),
            "2026-12-01"
        );
        assert_eq!(
            certificate.not_after().format("%Y-%m-%d").to_string(),
            "2076-11-30"
        );
        assert_eq!(certificate.public_key.size(), 256, "RSA 2048");
        assert!(certificate.has_thumbprint(&certificate.x5t_s256(), true));
        assert!(certificate.has_thumbprint(&certificate.x5t(), false));
        assert!(!certificate.has_thumbprint(&certificate.x5t(), true));
    }

    #[test]
    fn text_that_is_no_certificate_is_refused() {
        assert!(X509Certificate::from_pem("no pem here").is_err());
        assert!(X509Certificate::from_der(&[0x30, 0x03, 0x02, 0x01, 0x01]).is_err());
    }
}
