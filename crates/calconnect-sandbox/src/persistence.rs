//! What Microsoft keeps between a client's visits, kept in a directory so a restarted sandbox (the
//! desktop app's `--sandbox` mode) still honours the sign-ins made before it (`SandboxBuilder::state_dir`).
//!
//! Files in the directory (created mode 0700); each is written to a uniquely named temporary file created
//! exclusively with mode 0600 (`tempfile`), synced, renamed over `NAME` and the directory synced, so a crash
//! leaves the old or the new version, never half of one:
//!
//! | file | content |
//! | --- | --- |
//! | `signing-key.pem` | PKCS#8 RSA key signing access and ID tokens: tokens issued before a restart still verify |
//! | `ca.pem` | the CA certificate clients pinned |
//! | `server.pem`, `server-key.pem` | the server certificate chain (leaf, CA) and its PKCS#8 key |
//! | `state.json` | [`Snapshot`]: last port, clock offset, consents, tenant-wide admin consents, refresh-token grants |
//!
//! `state.json` looks like
//! `{"version":1,"port":8443,"clock_offset_ms":0,"consents":[{"user_id":"…","client_id":"…","scopes":["User.Read"]}],
//! "refresh_tokens":{"<sha256 hex>":{"grant":{"user_id":"…","client_id":"…","scopes":["openid","User.Read"],"nonce":null},
//! "issued_at":"2026-…Z","state":"active"}},"admin_consents":[{"client_id":"…","app_roles":["User.Read.All"]}]}`. Refresh tokens are present only as the SHA-256 of their
//! value (the in-memory key too): the grant they stand for is kept, the token never is. Access tokens,
//! codes, device codes and sign-ins in progress are short-lived and not kept. The CA's private key is never
//! written (see [`CertificateAuthority`]). One sandbox per directory at a time.
//!
//! Before anything is read, the directory must belong to the user running the sandbox (one of theirs that
//! others could enter is tightened to 0700), and every file in it must be a regular file of theirs that no
//! one else can read or write: a signing key another user could read lets them mint tokens, one they could
//! write lets them choose it. Otherwise the sandbox refuses to start, naming the file and the fix. (The
//! checks on a file are made before it is read; once the directory is private to its owner nobody else can
//! swap the file in between.) This mirrors `calconnect_core::private_file`, which the sandbox cannot use:
//! it depends on no other calconnect crate.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::signing::SigningKey;
use crate::store::{RefreshTokenRecord, Store};
use crate::tls::CertificateAuthority;

const SIGNING_KEY: &str = "signing-key.pem";
const CA: &str = "ca.pem";
const SERVER_CHAIN: &str = "server.pem";
const SERVER_KEY: &str = "server-key.pem";
/// The extra host names the server certificate was issued for (one a line).
const HOSTNAMES: &str = "hostnames.txt";
const STATE: &str = "state.json";
const FORMAT_VERSION: u32 = 1;

/// The mutable part of the persisted state (`state.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    /// Port of the last listener, preferred on the next start so issuers and redirect URLs stay the same.
    pub port: Option<u16>,
    /// How far sandbox time was ahead of the wall clock ([`crate::SandboxHandle::advance_time`]).
    pub clock_offset_ms: i64,
    pub consents: Vec<ConsentRecord>,
    /// Refresh-token grants keyed by [`crate::store::refresh_token_digest`].
    pub refresh_tokens: BTreeMap<String, RefreshTokenRecord>,
    /// Application permissions granted through `/adminconsent`. Absent from files written before the
    /// endpoint existed, hence the default (the format stays version 1: an addition, not a change).
    #[serde(default)]
    pub admin_consents: Vec<AdminConsentRecord>,
}

/// Application permissions (app roles) an administrator granted a client tenant-wide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminConsentRecord {
    /// Lowercase client id.
    pub client_id: String,
    pub app_roles: BTreeSet<String>,
}

/// Permissions a user consented to for a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub user_id: Uuid,
    /// Lowercase client id.
    pub client_id: String,
    pub scopes: BTreeSet<Scope>,
}

impl Snapshot {
    /// The persistent part of `store`, with the listener's port and the clock offset.
    pub fn capture(store: &Store, port: Option<u16>, clock_offset: chrono::Duration) -> Self {
        let mut consents: Vec<ConsentRecord> = store
            .consents
            .iter()
            .map(|((user_id, client_id), scopes)| ConsentRecord {
                user_id: *user_id,
                client_id: client_id.clone(),
                scopes: scopes.clone(),
            })
            .collect();
        consents.sort_by(|a, b| (a.user_id, &a.client_id).cmp(&(b.user_id, &b.client_id)));
        let mut admin_consents: Vec<AdminConsentRecord> = store
            .admin_consents
            .iter()
            .map(|(client_id, app_roles)| AdminConsentRecord {
                client_id: client_id.clone(),
                app_roles: app_roles.clone(),
            })
            .collect();
        admin_consents.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Self {
            version: FORMAT_VERSION,
            port,
            clock_offset_ms: clock_offset.num_milliseconds(),
            consents,
            refresh_tokens: store
                .refresh_tokens
                .iter()
                .map(|(digest, record)| (digest.clone(), record.clone()))
                .collect(),
            admin_consents,
        }
    }

    /// Puts the consents, admin consents and refresh-token grants back into a fresh store.
    pub fn restore_into(&self, store: &mut Store) {
        for consent in &self.admin_consents {
            store
                .admin_consents
                .entry(consent.client_id.to_ascii_lowercase())
                .or_default()
                .extend(consent.app_roles.iter().cloned());
        }
        for consent in &self.consents {
            store
                .consents
                .entry((consent.user_id, consent.client_id.clone()))
                .or_default()
                .extend(consent.scopes.iter().cloned());
        }
        store.refresh_tokens.extend(
            self.refresh_tokens
                .iter()
                .map(|(digest, record)| (digest.clone(), record.clone())),
        );
    }

    /// The persisted clock offset.
    pub fn clock_offset(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(self.clock_offset_ms)
    }
}

/// A state directory: loads at start, saves on change.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    /// Bytes of the last `state.json` written; also serialises writers so an older snapshot never
    /// overwrites a newer one.
    last_saved: Mutex<Option<Vec<u8>>>,
}

impl StateDir {
    /// Opens (creating it with mode 0700 if needed) the directory at `path`, after checking that it is
    /// private to the user running the sandbox (module docs).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path).map_err(|source| Error::StateDir {
            path: path.clone(),
            source,
        })?;
        secure_directory(&path)?;
        Ok(Self {
            path,
            last_saved: Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `state.json`, if a previous sandbox wrote one.
    pub fn load_snapshot(&self) -> Result<Option<Snapshot>> {
        let Some(bytes) = self.read(STATE)? else {
            return Ok(None);
        };
        let snapshot: Snapshot =
            serde_json::from_slice(&bytes).map_err(|error| self.invalid(STATE, error))?;
        if snapshot.version != FORMAT_VERSION {
            return Err(self.invalid(STATE, format!("unsupported version {}", snapshot.version)));
        }
        *self.lock() = Some(bytes);
        Ok(Some(snapshot))
    }

    /// Writes `snapshot()` unless it equals what was last written; returns whether it wrote.
    pub fn save_if_changed(&self, snapshot: impl FnOnce() -> Snapshot) -> Result<bool> {
        let mut last_saved = self.lock();
        let bytes =
            serde_json::to_vec_pretty(&snapshot()).map_err(|error| self.invalid(STATE, error))?;
        if last_saved.as_deref() == Some(bytes.as_slice()) {
            return Ok(false);
        }
        self.write(STATE, &bytes)?;
        *last_saved = Some(bytes);
        Ok(true)
    }

    /// The saved token signing key, or `fresh()` (saved for next time).
    pub fn signing_key(&self, fresh: impl FnOnce() -> Result<SigningKey>) -> Result<SigningKey> {
        if let Some(pem) = self.read(SIGNING_KEY)? {
            let pem = SecretString::from(
                String::from_utf8(pem).map_err(|error| self.invalid(SIGNING_KEY, error))?,
            );
            return SigningKey::from_pkcs8_pem(pem.expose_secret());
        }
        let key = fresh()?;
        self.write(SIGNING_KEY, key.to_pkcs8_pem()?.expose_secret().as_bytes())?;
        Ok(key)
    }

    /// The saved CA and server certificate, or a generated one (saved for next time).
    pub fn certificate_authority(
        &self,
        extra_hostnames: &[String],
    ) -> Result<CertificateAuthority> {
        let saved = (
            self.read_text(CA)?,
            self.read_text(SERVER_CHAIN)?,
            self.read_text(SERVER_KEY)?,
        );
        let saved_names = self.read_text(HOSTNAMES)?.unwrap_or_default();
        let wanted_names = extra_hostnames.join("\n");
        if let (Some(ca), Some(chain), Some(key)) = saved {
            if saved_names.trim() == wanted_names.trim() {
                return CertificateAuthority::from_pem(ca, chain, SecretString::from(key));
            }
            // The CA key is never kept, so other names mean a new CA: clients must trust it again.
            tracing::info!("--hostname changed: issuing a new sandbox CA and server certificate");
        }
        let authority = CertificateAuthority::generate(extra_hostnames)?;
        // The key and chain first: a `ca.pem` on disk always belongs to a complete set.
        self.write(
            SERVER_KEY,
            authority.server_key_pem().expose_secret().as_bytes(),
        )?;
        self.write(SERVER_CHAIN, authority.server_chain_pem().as_bytes())?;
        self.write(HOSTNAMES, wanted_names.as_bytes())?;
        self.write(CA, authority.pem().as_bytes())?;
        Ok(authority)
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path.join(name);
        if !check_private_file(&path)? {
            return Ok(None);
        }
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::StateDir { path, source }),
        }
    }

    fn read_text(&self, name: &str) -> Result<Option<String>> {
        self.read(name)?
            .map(|bytes| String::from_utf8(bytes).map_err(|error| self.invalid(name, error)))
            .transpose()
    }

    /// Atomic replace: a uniquely named temporary file (created exclusively, 0600, never through a
    /// symbolic link) is written and synced, renamed over `name` (replacing a link there, not following
    /// it), then the directory is synced so the rename itself survives a crash.
    fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path.join(name);
        let io_error = |source| Error::StateDir {
            path: path.clone(),
            source,
        };
        let mut temporary = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(&self.path)
            .map_err(io_error)?;
        temporary.write_all(bytes).map_err(io_error)?;
        temporary.as_file().sync_all().map_err(io_error)?;
        temporary
            .persist(&path)
            .map_err(|error| io_error(error.error))?;
        #[cfg(unix)]
        fs::File::open(&self.path)
            .and_then(|directory| directory.sync_all())
            .map_err(io_error)?;
        Ok(())
    }

    fn invalid(&self, name: &str, reason: impl std::fmt::Display) -> Error {
        Error::StateFile {
            path: self.path.join(name),
            reason: reason.to_string(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<u8>>> {
        self.last_saved
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Refuses a directory another user owns; tightens one of ours that others can enter to 0700.
fn secure_directory(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let metadata = fs::metadata(path).map_err(|source| Error::StateDir {
            path: path.to_owned(),
            source,
        })?;
        let unsafe_state = |reason: String| Error::StateUnsafe {
            path: path.to_owned(),
            reason,
        };
        if !metadata.is_dir() {
            return Err(unsafe_state("it is not a directory".to_owned()));
        }
        let owner = metadata.uid();
        let me = rustix::process::geteuid().as_raw();
        if owner != me {
            return Err(unsafe_state(format!(
                "it belongs to user id {owner}, not to the user running the sandbox ({me}): use a directory of your own"
            )));
        }
        let mode = metadata.mode() & 0o777;
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(|source| {
                Error::StateDir {
                    path: path.to_owned(),
                    source,
                }
            })?;
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "the sandbox state directory was open to other users; it is now 0700");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Whether `path` exists; an error if it is not a regular file of ours that only we can read and write.
fn check_private_file(path: &Path) -> Result<bool> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(Error::StateDir {
                path: path.to_owned(),
                source,
            })
        }
    };
    let unsafe_state = |reason: String| Error::StateUnsafe {
        path: path.to_owned(),
        reason,
    };
    if !metadata.file_type().is_file() {
        return Err(unsafe_state(
            "it is not a regular file (a symbolic link?): remove it and the sandbox writes a new one"
                .to_owned(),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let owner = metadata.uid();
        let me = rustix::process::geteuid().as_raw();
        if owner != me {
            return Err(unsafe_state(format!(
                "it belongs to user id {owner}, not to the user running the sandbox ({me}): remove it"
            )));
        }
        let mode = metadata.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(unsafe_state(format!(
                "other users can read or write it (mode {mode:o}): remove it (the sandbox writes a new one) or chmod 600 it"
            )));
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_files_are_private_to_the_owner() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let state_dir = StateDir::open(directory.path().join("state")).expect("opens");
        let wrote = state_dir
            .save_if_changed(|| {
                Snapshot::capture(&Store::default(), Some(1), chrono::Duration::zero())
            })
            .expect("saves");
        assert!(wrote);
        let again = state_dir
            .save_if_changed(|| {
                Snapshot::capture(&Store::default(), Some(1), chrono::Duration::zero())
            })
            .expect("saves");
        assert!(!again, "an unchanged snapshot is not written again");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode =
                |path: &Path| fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode(state_dir.path()), 0o700);
            assert_eq!(mode(&state_dir.path().join(STATE)), 0o600);
        }
        assert!(!state_dir.path().join("state.json.tmp").exists());
        let loaded = state_dir.load_snapshot().expect("loads").expect("exists");
        assert_eq!(loaded.port, Some(1));
    }

    #[test]
    fn a_state_file_from_before_admin_consent_still_loads() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let before_admin_consent =
            br#"{"version":1,"port":8443,"clock_offset_ms":0,"consents":[],"refresh_tokens":{}}"#;
        #[cfg(unix)]
        super::private_tests::write_private(&directory.path().join(STATE), before_admin_consent);
        #[cfg(not(unix))]
        fs::write(directory.path().join(STATE), before_admin_consent).expect("writes");
        let state_dir = StateDir::open(directory.path()).expect("opens");
        let loaded = state_dir.load_snapshot().expect("loads").expect("exists");
        assert!(loaded.admin_consents.is_empty());
    }

    #[test]
    fn a_corrupt_state_file_is_an_error_naming_it() {
        let directory = tempfile::tempdir().expect("temporary directory");
        #[cfg(unix)]
        super::private_tests::write_private(&directory.path().join(STATE), b"{not json");
        #[cfg(not(unix))]
        fs::write(directory.path().join(STATE), b"{not json").expect("writes");
        let state_dir = StateDir::open(directory.path()).expect("opens");
        let error = state_dir.load_snapshot().expect_err("corrupt");
        assert!(error.to_string().contains("state.json"), "{error}");
    }
}

#[cfg(all(test, unix))]
mod private_tests {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    use super::*;

    /// A file as the sandbox writes them: 0600.
    pub(super) fn write_private(path: &Path, bytes: &[u8]) {
        fs::write(path, bytes).expect("writes");
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).expect("metadata").mode() & 0o777
    }

    #[test]
    fn a_state_directory_of_ours_open_to_others_is_tightened() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("state");
        fs::create_dir(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        StateDir::open(&path).expect("opens");
        assert_eq!(mode(&path), 0o700);
    }

    #[test]
    fn a_state_directory_of_another_user_is_refused() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("state");
        fs::create_dir(&path).unwrap();
        // Only root can give a directory away; elsewhere there is nothing to check.
        if std::process::Command::new("chown")
            .args(["65534", path.to_str().unwrap()])
            .status()
            .map_or(true, |status| !status.success())
        {
            eprintln!("cannot chown here (not root): skipping");
            return;
        }
        let error = StateDir::open(&path).expect_err("refused");
        assert!(matches!(error, Error::StateUnsafe { .. }), "{error:?}");
        assert!(error.to_string().contains("65534"), "{error}");
    }

    #[test]
    fn a_signing_key_other_users_can_read_is_refused_not_used() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let state_dir = StateDir::open(directory.path()).expect("opens");
        let key = directory.path().join(SIGNING_KEY);
        fs::write(&key, b"-----BEGIN PRIVATE KEY-----\n").unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let error = state_dir
            .signing_key(|| panic!("no new key while the old one is in doubt"))
            .expect_err("refused");
        assert!(matches!(error, Error::StateUnsafe { .. }), "{error:?}");
        assert!(error.to_string().contains("signing-key.pem"), "{error}");
        assert!(error.to_string().contains("644"), "{error}");
    }

    #[test]
    fn a_key_file_that_is_a_symbolic_link_is_refused() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let elsewhere = tempfile::tempdir().expect("temporary directory");
        let target = elsewhere.path().join("planted.pem");
        write_private(&target, b"-----BEGIN PRIVATE KEY-----\n");
        let state_dir = StateDir::open(directory.path()).expect("opens");
        std::os::unix::fs::symlink(&target, directory.path().join(SIGNING_KEY)).unwrap();
        let error = state_dir
            .signing_key(|| panic!("no new key"))
            .expect_err("refused");
        assert!(error.to_string().contains("not a regular file"), "{error}");
    }

    #[test]
    fn writing_replaces_a_symbolic_link_at_the_target_without_following_it() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let elsewhere = tempfile::tempdir().expect("temporary directory");
        let victim = elsewhere.path().join("victim");
        write_private(&victim, b"untouched");
        let state_dir = StateDir::open(directory.path()).expect("opens");
        std::os::unix::fs::symlink(&victim, directory.path().join(STATE)).unwrap();
        // The old fixed temporary name, planted as a link: no longer used.
        std::os::unix::fs::symlink(&victim, directory.path().join("state.json.tmp")).unwrap();
        state_dir
            .save_if_changed(|| {
                Snapshot::capture(&Store::default(), Some(7), chrono::Duration::zero())
            })
            .expect("saves");
        assert_eq!(fs::read(&victim).unwrap(), b"untouched");
        let state = directory.path().join(STATE);
        assert!(fs::symlink_metadata(&state).unwrap().file_type().is_file());
        assert_eq!(mode(&state), 0o600);
    }
}
