//! Starts `tests/oidc/server.mjs` (oidc-provider and the Graph stand-in) on loopback TLS with a CA made
//! here, and reads its journal.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::Value;
use url::Url;

/// The directory with the server and its lockfile.
fn server_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc")
}

/// A running oidc-provider; the node process is killed when this is dropped.
pub struct OidcProvider {
    _child: tokio::process::Child,
    pub directory: tempfile::TempDir,
    pub port: u16,
    pub issuer: Url,
    pub client_id: String,
}

impl OidcProvider {
    /// Starts the server; access tokens live `access_token_ttl` seconds.
    pub async fn start(access_token_ttl: u64) -> Self {
        let server = server_directory();
        assert!(
            server.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed in {}: run `npm ci --prefix tests/oidc` (scripts/test.sh does)",
            server.display()
        );
        let directory = tempfile::tempdir().unwrap();
        write_certificates(directory.path());
        let port_file = directory.path().join("port.json");
        let child = tokio::process::Command::new("node")
            .arg(server.join("server.mjs"))
            .arg("--cert")
            .arg(directory.path().join("leaf.pem"))
            .arg("--key")
            .arg(directory.path().join("leaf-key.pem"))
            .arg("--port-file")
            .arg(&port_file)
            .args(["--access-token-ttl", &access_token_ttl.to_string()])
            .current_dir(&server)
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (Debian's nodejs; scripts/lib.sh installs it)");
        let mut provider = Self {
            _child: child,
            directory,
            port: 0,
            issuer: Url::parse("https://127.0.0.1/").unwrap(),
            client_id: String::new(),
        };
        let started = tokio::time::Instant::now();
        let ready: Value = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                break serde_json::from_str(&text).unwrap();
            }
            if let Some(status) = provider._child.try_wait().unwrap() {
                panic!("the oidc-provider server exited before it was ready: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the oidc-provider server wrote no port file within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        provider.port = u16::try_from(ready["port"].as_u64().unwrap()).unwrap();
        provider.issuer = Url::parse(ready["issuer"].as_str().unwrap()).unwrap();
        provider.client_id = ready["client_id"].as_str().unwrap().to_owned();
        provider
    }

    pub fn ca_file(&self) -> PathBuf {
        self.directory.path().join("ca.pem")
    }

    /// What calconnect's `--authority` names: the base that `{tenant}/v2.0` is joined to.
    pub fn authority(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }

    /// The Graph stand-in's root (calconnect adds `v1.0/`).
    pub fn graph_root(&self) -> String {
        format!("https://127.0.0.1:{}/graph/", self.port)
    }

    /// An https client that trusts only this server's CA, for the test's own requests.
    pub fn http(&self, cookies: bool) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(self.ca_file()).unwrap()).unwrap();
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .cookie_store(cookies)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap()
    }

    /// Makes the Graph stand-in answer the next valid bearer with 401, as Graph does for a revoked token.
    pub async fn refuse_next_bearer(&self) {
        let url = format!("https://127.0.0.1:{}/_test/refuse-next-bearer", self.port);
        let response = self.http(false).post(url).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// Every journal entry so far (grants, refusals, the bearers the Graph stand-in checked).
    pub async fn journal(&self) -> Vec<Value> {
        let url = format!("https://127.0.0.1:{}/_test/journal", self.port);
        self.http(false)
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The entries of `journal` whose `event` is `event`.
pub fn events<'a>(journal: &'a [Value], event: &str) -> Vec<&'a Value> {
    journal
        .iter()
        .filter(|entry| entry["event"] == event)
        .collect()
}

/// A CA and a leaf for 127.0.0.1 and localhost, as an organisation's internal CA would issue.
fn write_certificates(directory: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "calconnect oidc-provider test CA");
    let ca_certificate = ca.self_signed(&ca_key).unwrap();

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "oidc-provider on loopback");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf_certificate = leaf.signed_by(&leaf_key, &ca_certificate, &ca_key).unwrap();

    std::fs::write(directory.join("ca.pem"), ca_certificate.pem()).unwrap();
    std::fs::write(
        directory.join("leaf.pem"),
        format!("{}{}", leaf_certificate.pem(), ca_certificate.pem()),
    )
    .unwrap();
    std::fs::write(directory.join("leaf-key.pem"), leaf_key.serialize_pem()).unwrap();
}
