//! Writing calconnect's own files (account lists, settings, configuration, exported reports) so that no
//! other user, and no other program running as someone else, can read them, replace them or aim the write
//! elsewhere.
//!
//! Every write goes through a uniquely named temporary file in the same folder, created exclusively
//! (`O_EXCL`, mode 0600, so a file or symbolic link planted at its name is never opened), written, synced,
//! then renamed over the target (which replaces a symbolic link there instead of writing through it), and
//! the folder is synced so the rename survives a crash: a reader sees the old file or the new one, never
//! half of one. `tempfile` does the exclusive creation and the rename (`NamedTempFile::persist`).
//!
//! Folders: calconnect's own folder ([`write_private`]) is created 0700; an existing one that other users
//! can enter is tightened to 0700 when it is ours, and refused when another user owns it (they could
//! replace our files), when it is shared like `/tmp` (world-writable and sticky) or when it is the home
//! folder (calconnect will not change the home folder's permissions). A folder the user chose for an
//! export ([`write_export`]) is created 0700 if missing and otherwise left as it is: the file itself is
//! still 0600. The sandbox keeps its own copy of these rules (`calconnect_sandbox::persistence`) because
//! it depends on no calconnect crate.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why a private file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PrivateFileError {
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The folder is not safe to keep calconnect's files in; `reason` says why and what to do.
    #[error("calconnect will not keep its files in {path}: {reason}")]
    UnsafeFolder { path: PathBuf, reason: String },
}

/// Whose folder a file goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folder {
    /// calconnect's own (data, configuration): created 0700, tightened or refused.
    Own,
    /// Chosen by the user for an export: created 0700 if missing, else left alone.
    ChosenByUser,
}

/// Writes one of calconnect's own files (accounts, settings, configuration): 0600 in a 0700 folder.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PrivateFileError> {
    write(path, bytes, Folder::Own)
}

/// Writes an exported report to where the user asked: 0600, the folder created 0700 if missing.
pub fn write_export(path: &Path, bytes: &[u8]) -> Result<(), PrivateFileError> {
    write(path, bytes, Folder::ChosenByUser)
}

/// Creates calconnect's own folder `path` (0700) or checks an existing one (module docs).
pub fn ensure_private_folder(path: &Path) -> Result<(), PrivateFileError> {
    prepare_folder(path, Folder::Own)
}

fn write(path: &Path, bytes: &[u8], folder: Folder) -> Result<(), PrivateFileError> {
    let io_error = |source| PrivateFileError::Io {
        path: path.to_owned(),
        source,
    };
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io_error(std::io::ErrorKind::InvalidInput.into()))?;
    prepare_folder(directory, folder)?;
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(io_error)?;
    temporary.write_all(bytes).map_err(io_error)?;
    temporary.as_file().sync_all().map_err(io_error)?;
    temporary
        .persist(path)
        .map_err(|error| io_error(error.error))?;
    sync_folder(directory).map_err(io_error)
}

fn prepare_folder(directory: &Path, folder: Folder) -> Result<(), PrivateFileError> {
    let io_error = |source| PrivateFileError::Io {
        path: directory.to_owned(),
        source,
    };
    match std::fs::metadata(directory) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = directory
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                // The parents are the user's (`~/.local/share`, say): their usual modes.
                std::fs::create_dir_all(parent).map_err(io_error)?;
            }
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(directory) {
                Ok(()) => {}
                // Created meanwhile by another calconnect: checked below like any existing folder.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(io_error(error)),
            }
        }
        Err(error) => return Err(io_error(error)),
    }
    if folder == Folder::Own {
        secure_own_folder(directory)?;
    }
    Ok(())
}

#[cfg(unix)]
fn secure_own_folder(directory: &Path) -> Result<(), PrivateFileError> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let metadata = std::fs::metadata(directory).map_err(|source| PrivateFileError::Io {
        path: directory.to_owned(),
        source,
    })?;
    let refuse = |reason: String| PrivateFileError::UnsafeFolder {
        path: directory.to_owned(),
        reason,
    };
    if !metadata.is_dir() {
        return Err(refuse("it is not a folder".to_owned()));
    }
    let owner = metadata.uid();
    let me = rustix::process::geteuid().as_raw();
    if owner != me {
        return Err(refuse(format!(
            "it belongs to user id {owner}, not to you ({me}), who could replace calconnect's files there; use a folder of your own"
        )));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    if mode & 0o1002 == 0o1002 {
        return Err(refuse(format!(
            "it is shared with every user (mode {mode:o}, like /tmp); use a folder of your own"
        )));
    }
    if is_home_folder(directory) {
        return Err(refuse(format!(
            "it is your home folder, which other users can enter (mode {mode:o}); use a folder inside it"
        )));
    }
    std::fs::set_permissions(directory, std::fs::Permissions::from_mode(0o700)).map_err(
        |source| PrivateFileError::Io {
            path: directory.to_owned(),
            source,
        },
    )?;
    tracing::warn!(folder = %directory.display(), old_mode = format!("{mode:o}"), "calconnect's folder was open to other users; it is now 0700");
    Ok(())
}

#[cfg(not(unix))]
fn secure_own_folder(_directory: &Path) -> Result<(), PrivateFileError> {
    // Windows: a new folder under the user's profile inherits the profile's owner-only ACL.
    Ok(())
}

#[cfg(unix)]
fn is_home_folder(directory: &Path) -> bool {
    let Some(home) = directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_owned()) else {
        return false;
    };
    match (directory.canonicalize(), home.canonicalize()) {
        (Ok(directory), Ok(home)) => directory == home,
        _ => false,
    }
}

/// Makes the rename durable (POSIX: the new directory entry is on disk only once the directory is synced).
fn sync_folder(directory: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(directory)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = directory;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    fn leftovers(directory: &Path) -> Vec<String> {
        std::fs::read_dir(directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn a_private_file_is_0600_in_a_new_0700_folder() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("data/calconnect");
        let path = folder.join("accounts.json");
        write_private(&path, b"{}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&folder), 0o700);
        write_private(&path, b"[1]").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"[1]");
        assert_eq!(mode(&path), 0o600);
        assert!(leftovers(&folder).is_empty(), "{:?}", leftovers(&folder));
    }

    #[test]
    fn an_existing_file_open_to_others_is_replaced_by_a_0600_one() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("settings.toml");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_loose_folder_of_ours_is_tightened() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("calconnect");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        write_private(&folder.join("accounts.json"), b"{}").unwrap();
        assert_eq!(mode(&folder), 0o700);
    }

    #[test]
    fn a_shared_sticky_folder_is_refused_not_tightened() {
        let root = tempfile::tempdir().unwrap();
        let shared = root.path().join("tmp");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let error = write_private(&shared.join("accounts.json"), b"{}").unwrap_err();
        assert!(
            matches!(error, PrivateFileError::UnsafeFolder { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("shared"), "{error}");
        assert_eq!(mode(&shared), 0o1777, "left as it was");
        assert!(!shared.join("accounts.json").exists());
    }

    #[test]
    fn a_folder_of_another_user_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("theirs");
        std::fs::create_dir(&folder).unwrap();
        // Only root can give a folder away; elsewhere there is nothing to check.
        if std::process::Command::new("chown")
            .args(["65534", folder.to_str().unwrap()])
            .status()
            .map_or(true, |status| !status.success())
        {
            eprintln!("cannot chown here (not root): skipping");
            return;
        }
        let error = write_private(&folder.join("accounts.json"), b"{}").unwrap_err();
        assert!(
            error.to_string().contains("belongs to user id 65534"),
            "{error}"
        );
        assert!(!folder.join("accounts.json").exists());
    }

    #[test]
    fn a_symbolic_link_at_the_target_is_replaced_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let victim = elsewhere.path().join("victim");
        std::fs::write(&victim, b"untouched").unwrap();
        let path = root.path().join("accounts.json");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        // The old fixed temporary name, planted as a link: never opened.
        std::os::unix::fs::symlink(&victim, root.path().join("accounts.tmp")).unwrap();
        write_private(&path, b"{}").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
        assert!(std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_file());
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
    }

    #[test]
    fn an_export_leaves_the_users_folder_alone_but_the_file_is_0600() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = root.path().join("report.json");
        write_export(&path, b"{}").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(root.path()), 0o755);
        let new_folder = root.path().join("reports/2026");
        write_export(&new_folder.join("report.txt"), b"x").unwrap();
        assert_eq!(mode(&new_folder), 0o700);
    }
}
