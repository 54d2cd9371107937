//! Connected accounts: non-secret metadata in a JSON file, one keychain entry per account for its tokens.

use std::path::{Path, PathBuf};

use calconnect_identity::{AccessLevel, AppKind, ScopeSet};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::shared_file::SharedFile;

/// Whether an account's tokens still work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Connected,
    /// The refresh token was revoked or expired (AADSTS70000, 70008, 700082…): sign in again; metadata is kept.
    NeedsSignInAgain,
}

/// The signed-in user, from Graph `/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// One connected account. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Stable key: `{app}:{user id}`; also names the keychain entry.
    pub id: String,
    pub authority: Url,
    pub tenant: String,
    pub graph: Url,
    pub user: UserInfo,
    pub app: AppKind,
    pub client_id: String,
    /// What the grant allows; a Full request that came back Free/Busy-only is `freebusy`.
    pub access: AccessLevel,
    pub granted_scopes: ScopeSet,
    pub status: AccountStatus,
    pub connected_at: DateTime<Utc>,
    /// Last successful use of the refresh token (sign-in counts as a use).
    pub refresh_token_last_used: DateTime<Utc>,
}

/// Entra's refresh tokens expire after 90 days without use (Microsoft docs, "Refresh tokens in the Microsoft identity platform").
pub const REFRESH_TOKEN_MAX_INACTIVE_DAYS: i64 = 90;

impl Account {
    pub fn account_id(app: AppKind, user_id: &str) -> String {
        format!("{app}:{user_id}")
    }

    /// The keychain key holding this account's token set.
    pub fn vault_key(&self) -> String {
        vault_key(&self.id)
    }

    /// When the refresh token expires if it is not used before.
    pub fn refresh_token_expires_at(&self) -> DateTime<Utc> {
        self.refresh_token_last_used + chrono::Duration::days(REFRESH_TOKEN_MAX_INACTIVE_DAYS)
    }
}

pub(crate) fn vault_key(account_id: &str) -> String {
    format!("tokens:{account_id}")
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AccountsFile {
    version: u8,
    accounts: Vec<Account>,
}

/// The metadata file, `accounts.json`, which the desktop app and the CLI share. Every change is a locked
/// read-modify-write ([`crate::shared_file`]): it starts from the file as it is at that moment, so a change
/// another process made meanwhile is kept; writes are private and atomic ([`crate::private_file`]).
#[derive(Debug)]
pub struct AccountStore {
    file: SharedFile,
    // Changes from this process queue here, so only one of its blocking threads waits for the file lock.
    write_lock: tokio::sync::Mutex<()>,
}

impl AccountStore {
    pub fn new(path: PathBuf) -> Self {
        Self {
            file: SharedFile::new(path),
            write_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// `accounts.json` in the platform's data directory.
    pub fn default_path() -> Result<PathBuf> {
        Ok(crate::config::project_dirs()?
            .data_dir()
            .join("accounts.json"))
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    pub async fn list(&self) -> Result<Vec<Account>> {
        let file = self.file.clone();
        let bytes = tokio::task::spawn_blocking(move || file.read())
            .await
            .map_err(Error::task)??;
        Ok(parse(self.path(), bytes.as_deref())?.accounts)
    }

    pub async fn get(&self, id: &str) -> Result<Account> {
        self.list()
            .await?
            .into_iter()
            .find(|account| account.id == id)
            .ok_or_else(|| Error::AccountNotFound { id: id.to_owned() })
    }

    /// Inserts or replaces the account with the same id.
    pub async fn upsert(&self, account: Account) -> Result<()> {
        self.modify(move |accounts| {
            accounts.retain(|existing| existing.id != account.id);
            accounts.push(account);
        })
        .await
    }

    /// Removes the account `id`; `false` when there was none.
    pub async fn remove(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.modify(move |accounts| {
            let before = accounts.len();
            accounts.retain(|existing| existing.id != id);
            accounts.len() != before
        })
        .await
    }

    /// Applies `change` to the account `id` as it is in the file now, if it still exists.
    pub async fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut Account) + Send + 'static,
    ) -> Result<()> {
        let id = id.to_owned();
        self.modify(move |accounts| {
            if let Some(account) = accounts.iter_mut().find(|account| account.id == id) {
                change(account);
            }
        })
        .await
    }

    /// The one way the file changes: locked, re-read, changed, written (module docs of `shared_file`).
    async fn modify<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Vec<Account>) -> T + Send + 'static,
    ) -> Result<T> {
        let _queued = self.write_lock.lock().await;
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || {
            file.update(|current| {
                let mut contents = parse(file.path(), current)?;
                let outcome = change(&mut contents.accounts);
                contents.version = 1;
                contents.accounts.sort_by(|a, b| a.id.cmp(&b.id));
                let text = serde_json::to_vec_pretty(&contents).map_err(|error| {
                    Error::AccountsInvalid {
                        path: file.path().to_owned(),
                        reason: error.to_string(),
                    }
                })?;
                Ok((text, outcome))
            })
        })
        .await
        .map_err(Error::task)?
    }
}

/// The file's contents; no file yet is no accounts.
fn parse(path: &Path, bytes: Option<&[u8]>) -> Result<AccountsFile> {
    match bytes {
        None => Ok(AccountsFile::default()),
        Some(bytes) => serde_json::from_slice(bytes).map_err(|error| Error::AccountsInvalid {
            path: path.to_owned(),
            reason: error.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str) -> Account {
        let now = Utc::now();
        Account {
            id: id.to_owned(),
            authority: Url::parse("https://login.microsoftonline.com/").unwrap(),
            tenant: "organizations".into(),
            graph: Url::parse("https://graph.microsoft.com/").unwrap(),
            user: UserInfo {
                id: "u".into(),
                name: "Adele Vance".into(),
                email: "adele@contoso.com".into(),
            },
            app: AppKind::Full,
            client_id: "c".into(),
            access: AccessLevel::Full,
            granted_scopes: ScopeSet::parse("User.Read Calendars.ReadWrite"),
            status: AccountStatus::Connected,
            connected_at: now,
            refresh_token_last_used: now,
        }
    }

    #[tokio::test]
    async fn accounts_are_added_updated_and_removed_in_the_file() {
        let directory = tempfile::tempdir().unwrap();
        let store = AccountStore::new(directory.path().join("nested/accounts.json"));
        store.upsert(account("full:a")).await.unwrap();
        store.upsert(account("freebusy:a")).await.unwrap();
        store
            .update("full:a", |account| {
                account.status = AccountStatus::NeedsSignInAgain
            })
            .await
            .unwrap();
        assert_eq!(
            store.get("full:a").await.unwrap().status,
            AccountStatus::NeedsSignInAgain
        );
        assert!(store.remove("full:a").await.unwrap());
        assert!(!store.remove("full:a").await.unwrap());
        let remaining: Vec<String> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|account| account.id)
            .collect();
        assert_eq!(remaining, ["freebusy:a"]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_accounts_file_is_private_and_a_planted_link_is_not_followed() {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("calconnect");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let victim = elsewhere.path().join("victim.json");
        let untouched = br#"{"version":1,"accounts":[]}"#;
        std::fs::write(&victim, untouched).unwrap();
        // Where the old writer put its temporary file, and the target itself: links to another file.
        std::os::unix::fs::symlink(&victim, folder.join("accounts.tmp")).unwrap();
        let path = folder.join("accounts.json");
        std::os::unix::fs::symlink(&victim, &path).unwrap();

        AccountStore::new(path.clone())
            .upsert(account("full:a"))
            .await
            .unwrap();

        let mode = |path: &Path| std::fs::symlink_metadata(path).unwrap().mode() & 0o777;
        assert_eq!(std::fs::read(&victim).unwrap(), untouched);
        assert!(std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_file());
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&folder), 0o700, "the folder is tightened");
    }

    #[test]
    fn the_refresh_token_expires_ninety_days_after_last_use() {
        let account = account("x");
        assert_eq!(
            (account.refresh_token_expires_at() - account.refresh_token_last_used).num_days(),
            90
        );
    }
}
