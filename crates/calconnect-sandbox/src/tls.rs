//! A throwaway certificate authority and a server certificate for `127.0.0.1` and `localhost`.
//!
//! Clients trust the sandbox by adding [`CertificateAuthority::pem`] as a root; nothing is installed system-wide.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use secrecy::{ExposeSecret as _, SecretString};

use crate::error::{Error, Result};

/// The generated CA (public part), the server certificate and the rustls configuration serving it.
///
/// The CA's private key is discarded once the server certificate is signed: the server certificate is
/// valid until 2049 and never reissued, so nothing that can mint trusted certificates outlives
/// [`CertificateAuthority::generate`] (in memory or in a state directory).
pub struct CertificateAuthority {
    pem: String,
    server_chain_pem: String,
    server_key_pem: SecretString,
    server_config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CertificateAuthority")
            .field("pem", &self.pem)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Generates a CA and a leaf certificate for `127.0.0.1`, `localhost`, `::1` and `extra_hostnames`
    /// (`--hostname`: names only a proxy or a test resolver knows).
    pub fn generate(extra_hostnames: &[String]) -> Result<Self> {
        let certificate_error = |error: rcgen::Error| Error::Certificate(error.to_string());
        let ca_key = KeyPair::generate().map_err(certificate_error)?;
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.distinguished_name = distinguished_name("calconnect sandbox CA");
        ca_params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        ca_params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let ca_certificate = ca_params.self_signed(&ca_key).map_err(certificate_error)?;

        let leaf_key = KeyPair::generate().map_err(certificate_error)?;
        let mut names = vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
            "::1".to_owned(),
        ];
        names.extend(extra_hostnames.iter().cloned());
        let mut leaf_params = CertificateParams::new(names).map_err(certificate_error)?;
        leaf_params.distinguished_name = distinguished_name("calconnect sandbox");
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf_params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        leaf_params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let leaf_certificate = leaf_params
            .signed_by(&leaf_key, &ca_certificate, &ca_key)
            .map_err(certificate_error)?;

        let ca_pem = ca_certificate.pem();
        let server_chain_pem = format!("{}{}", leaf_certificate.pem(), ca_pem);
        Self::from_pem(
            ca_pem,
            server_chain_pem,
            SecretString::from(leaf_key.serialize_pem()),
        )
    }

    /// Restores a CA saved with [`CertificateAuthority::pem`], [`CertificateAuthority::server_chain_pem`]
    /// and [`CertificateAuthority::server_key_pem`].
    pub fn from_pem(
        ca_pem: String,
        server_chain_pem: String,
        server_key_pem: SecretString,
    ) -> Result<Self> {
        let chain = CertificateDer::pem_slice_iter(server_chain_pem.as_bytes())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|error| Error::Tls(format!("invalid server certificate chain: {error}")))?;
        if chain.is_empty() {
            return Err(Error::Tls(
                "the server certificate chain is empty".to_owned(),
            ));
        }
        let private_key =
            PrivatePkcs8KeyDer::from_pem_slice(server_key_pem.expose_secret().as_bytes())
                .map_err(|_| Error::Tls("invalid server private key".to_owned()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::Tls(error.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, PrivateKeyDer::Pkcs8(private_key))
            .map_err(|error| Error::Tls(error.to_string()))?;
        server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            pem: ca_pem,
            server_chain_pem,
            server_key_pem,
            server_config: Arc::new(server_config),
        })
    }

    /// The RFC 5929 `tls-server-end-point` hash of the server certificate: SHA-256, as the certificate is
    /// signed with ECDSA P-256 / SHA-256 (RFC 5929 §4.1: the signature's hash, SHA-256 for MD5 or SHA-1).
    pub fn server_certificate_hash(&self) -> Vec<u8> {
        use sha2::Digest as _;
        CertificateDer::pem_slice_iter(self.server_chain_pem.as_bytes())
            .next()
            .and_then(std::result::Result::ok)
            .map(|leaf| sha2::Sha256::digest(leaf.as_ref()).to_vec())
            .unwrap_or_default()
    }

    /// PEM of the CA certificate, the trust anchor for clients.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// PEM of the server certificate followed by the CA certificate.
    pub fn server_chain_pem(&self) -> &str {
        &self.server_chain_pem
    }

    /// PKCS#8 PEM of the server certificate's private key.
    pub fn server_key_pem(&self) -> &SecretString {
        &self.server_key_pem
    }

    /// The rustls configuration serving the leaf certificate (tests also use it to stand up a
    /// TLS-terminating proxy with a certificate of its own).
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(&self.server_config)
    }
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "calconnect sandbox");
    name
}
