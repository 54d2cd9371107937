//! Which certificate authorities calconnect trusts, shared by every https client it builds (identity and
//! Graph through [`crate::http_client`], EWS through `calconnect_ews::tls`, NTLM's own connections too).
//!
//! By default that is the Mozilla root set bundled with calconnect (what Microsoft 365 chains to) **and** the
//! operating system's trust store, so a workstation that trusts its organisation's CA (an on-premises
//! Exchange certificate, or a TLS-inspecting proxy) is trusted here as well, plus any PEM file given with
//! [`Trust::with_ca_file`]. The OS store is read with `rustls-native-certs` each time a client is built
//! (a CA installed while the app runs counts from the next test or sign-in); a store that cannot be read,
//! or certificates in it that rustls cannot use, are logged and skipped, never fatal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{PemObject as _, SectionKind};
use rustls::pki_types::CertificateDer;

/// Trust anchors for server certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    /// Trust the Mozilla root set bundled with calconnect (`webpki-roots`: public CAs, what Exchange Online,
    /// Entra ID and Graph chain to).
    pub builtin_roots: bool,
    /// Trust the operating system's store (Windows certificate store, macOS keychain, the distribution's
    /// CA bundle on Linux; `SSL_CERT_FILE` / `SSL_CERT_DIR` replace it when set).
    pub os_roots: bool,
    /// Extra roots in PEM (an on-premises enterprise CA from `--ca-file`, or the emulator's CA).
    pub extra_roots_pem: Vec<String>,
}

impl Default for Trust {
    /// The bundled roots and the OS store, no extra PEM.
    fn default() -> Self {
        Self {
            builtin_roots: true,
            os_roots: true,
            extra_roots_pem: Vec::new(),
        }
    }
}

/// Why a trust set-up could not be built. Each message names the file or PEM at fault.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The CA file could not be read (missing, unreadable, a directory).
    #[error("cannot read the CA file {path}: {source}")]
    CaFileUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not PEM text (a DER `.cer` file, say) or a PEM block is damaged.
    #[error("{origin} is not a PEM certificate file ({detail}); a DER-encoded .cer/.crt can be converted with `openssl x509 -inform der -in FILE -out FILE.pem`")]
    NotPem { origin: String, detail: String },
    /// PEM, but without a `CERTIFICATE` block (a key, a CSR, an empty file).
    #[error(
        "{origin} holds no certificate: it needs at least one -----BEGIN CERTIFICATE----- block"
    )]
    NoCertificate { origin: String },
    /// A `CERTIFICATE` block that rustls cannot use as a trust anchor.
    #[error("certificate {index} of {origin} cannot be a trust anchor: {detail}")]
    InvalidCertificate {
        origin: String,
        index: usize,
        detail: String,
    },
    /// rustls refused the configuration itself.
    #[error("cannot set up TLS: {detail}")]
    Tls { detail: String },
}

impl Trust {
    /// Only the given PEM roots: no bundled, no OS roots (tests against the emulator).
    pub fn only(pem: impl Into<String>) -> Self {
        Self {
            builtin_roots: false,
            os_roots: false,
            extra_roots_pem: vec![pem.into()],
        }
    }

    /// Adds the roots of a PEM text (one or more `CERTIFICATE` blocks), checked now.
    pub fn with_pem(mut self, pem: impl Into<String>) -> Result<Self, TrustError> {
        let pem = pem.into();
        certificates(pem.as_bytes(), "the trust anchor PEM")?;
        self.extra_roots_pem.push(pem);
        Ok(self)
    }

    /// Adds the roots of the PEM file at `path` (an organisation's CA, `--ca-file`), checked now: a
    /// missing file, one that is not PEM, or one without a certificate is an error that says so.
    pub fn with_ca_file(mut self, path: impl AsRef<Path>) -> Result<Self, TrustError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| TrustError::CaFileUnreadable {
            path: path.to_owned(),
            source,
        })?;
        let origin = format!("the CA file {}", path.display());
        certificates(&bytes, &origin)?;
        // certificates() accepted it as PEM, which is ASCII.
        let pem = String::from_utf8(bytes).map_err(|error| TrustError::NotPem {
            origin,
            detail: error.to_string(),
        })?;
        self.extra_roots_pem.push(pem);
        Ok(self)
    }

    /// The root store these anchors make: bundled roots, what the OS store holds that rustls can use
    /// (failures are logged with their count, not returned), and every extra PEM root (whose failures are
    /// returned).
    pub fn root_store(&self) -> Result<rustls::RootCertStore, TrustError> {
        let mut roots = rustls::RootCertStore::empty();
        if self.builtin_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.os_roots {
            add_os_roots(&mut roots);
        }
        for (number, pem) in self.extra_roots_pem.iter().enumerate() {
            let origin = format!("trust anchor PEM {}", number + 1);
            for (index, certificate) in certificates(pem.as_bytes(), &origin)?
                .into_iter()
                .enumerate()
            {
                roots
                    .add(certificate)
                    .map_err(|error| TrustError::InvalidCertificate {
                        origin: origin.clone(),
                        index: index + 1,
                        detail: error.to_string(),
                    })?;
            }
        }
        Ok(roots)
    }

    /// A rustls client configuration over [`Trust::root_store`]: the ring provider, rustls' safe default
    /// protocol versions (TLS 1.2 and 1.3), no client certificate, offering `alpn` (e.g. `h2` and
    /// `http/1.1` for reqwest, only `http/1.1` for NTLM).
    pub fn client_config(&self, alpn: &[&[u8]]) -> Result<rustls::ClientConfig, TrustError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| TrustError::Tls {
                detail: error.to_string(),
            })?
            .with_root_certificates(self.root_store()?)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        Ok(config)
    }
}

/// The `CERTIFICATE` blocks of `pem`, at least one; `origin` names it in errors.
fn certificates(pem: &[u8], origin: &str) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let mut certificates = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
        let (kind, der) = section.map_err(|error| TrustError::NotPem {
            origin: origin.to_owned(),
            detail: error.to_string(),
        })?;
        if kind == SectionKind::Certificate {
            certificates.push(CertificateDer::from(der));
        }
    }
    if !certificates.is_empty() {
        return Ok(certificates);
    }
    if contains(pem, b"-----BEGIN ") {
        Err(TrustError::NoCertificate {
            origin: origin.to_owned(),
        })
    } else if pem.iter().all(u8::is_ascii_whitespace) {
        Err(TrustError::NoCertificate {
            origin: format!("{origin} (empty)"),
        })
    } else {
        Err(TrustError::NotPem {
            origin: origin.to_owned(),
            detail: if pem.first() == Some(&0x30) {
                "it looks like DER (binary)".to_owned()
            } else {
                "no -----BEGIN line".to_owned()
            },
        })
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Adds what the OS store holds to `roots`, logging (never failing on) what cannot be read or used.
fn add_os_roots(roots: &mut rustls::RootCertStore) {
    let loaded = rustls_native_certs::load_native_certs();
    let found = loaded.certs.len();
    let (added, unusable) = roots.add_parsable_certificates(loaded.certs);
    if !loaded.errors.is_empty() {
        tracing::warn!(
            added,
            unusable,
            errors = loaded.errors.len(),
            first_error = %loaded.errors[0],
            "parts of the OS trust store could not be read; using the certificates that could"
        );
    } else if found == 0 {
        tracing::warn!("the OS trust store holds no certificate; only calconnect's bundled roots and --ca-file apply");
    } else {
        tracing::debug!(added, unusable, "OS trust store loaded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A freshly generated self-signed certificate, as PEM.
    fn ca_pem() -> String {
        rcgen::generate_simple_self_signed(vec!["ca.contoso.com".to_owned()])
            .unwrap()
            .cert
            .pem()
    }

    fn write(directory: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = directory.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn the_default_trusts_the_bundled_roots_and_the_os_store() {
        let trust = Trust::default();
        assert!(trust.builtin_roots && trust.os_roots && trust.extra_roots_pem.is_empty());
        let only = Trust::only("PEM");
        assert!(!only.builtin_roots && !only.os_roots);
    }

    #[test]
    fn a_ca_file_adds_its_certificates_to_the_roots() {
        let directory = tempfile::tempdir().unwrap();
        let pem = ca_pem();
        let path = write(&directory, "ca.pem", pem.as_bytes());
        let trust = Trust {
            builtin_roots: false,
            os_roots: false,
            extra_roots_pem: Vec::new(),
        }
        .with_ca_file(&path)
        .unwrap();
        assert_eq!(trust.extra_roots_pem, vec![pem]);
        assert_eq!(trust.root_store().unwrap().len(), 1);
    }

    #[test]
    fn a_missing_ca_file_names_the_path() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("absent.pem");
        let error = Trust::default().with_ca_file(&path).unwrap_err();
        assert!(matches!(error, TrustError::CaFileUnreadable { .. }));
        assert!(error.to_string().contains("absent.pem"), "{error}");
    }

    #[test]
    fn a_der_file_is_not_pem_and_the_message_says_how_to_convert_it() {
        let directory = tempfile::tempdir().unwrap();
        let path = write(&directory, "ca.cer", &[0x30, 0x82, 0x01, 0x0a, 0x02, 0x82]);
        let error = Trust::default().with_ca_file(&path).unwrap_err();
        assert!(matches!(error, TrustError::NotPem { .. }), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains("ca.cer") && text.contains("DER") && text.contains("openssl x509"),
            "{text}"
        );
    }

    #[test]
    fn a_pem_file_without_a_certificate_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let key =
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        let path = write(&directory, "key.pem", key.as_bytes());
        let error = Trust::default().with_ca_file(&path).unwrap_err();
        assert!(
            matches!(error, TrustError::NoCertificate { .. }),
            "{error:?}"
        );
        let empty = write(&directory, "empty.pem", b"\n");
        let error = Trust::default().with_ca_file(&empty).unwrap_err();
        assert!(error.to_string().contains("empty"), "{error}");
    }

    #[test]
    fn a_damaged_pem_block_is_not_pem() {
        let broken = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        let error = Trust::default().with_pem(broken).unwrap_err();
        assert!(matches!(error, TrustError::NotPem { .. }), "{error:?}");
    }

    #[test]
    fn a_certificate_rustls_cannot_parse_is_an_error_of_the_extra_roots() {
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let error = Trust::only(garbage).root_store().unwrap_err();
        assert!(
            matches!(error, TrustError::InvalidCertificate { index: 1, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn the_bundled_roots_are_there_and_a_client_config_offers_the_given_alpn() {
        let trust = Trust {
            os_roots: false,
            ..Trust::default()
        };
        assert_eq!(
            trust.root_store().unwrap().len(),
            webpki_roots::TLS_SERVER_ROOTS.len()
        );
        let config = trust.client_config(&[b"http/1.1"]).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn the_os_store_loads_without_failing() {
        // Whatever this machine's store holds (even nothing, or unreadable parts): never an error.
        let trust = Trust {
            builtin_roots: false,
            ..Trust::default()
        };
        trust.root_store().unwrap();
    }
}
