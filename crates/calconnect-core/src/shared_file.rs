//! The files the desktop app and the CLI share (the accounts lists, the settings, the configuration): every
//! change is a read-modify-write under an exclusive, cross-process lock, so when both change a file at the
//! same moment neither loses the other's change.
//!
//! [`SharedFile::update`] is the only way to write one: it takes the lock, reads the file as it is now,
//! hands it to the change, writes the result through [`crate::private_file::write_private`] (0600,
//! atomic rename) and only then releases the lock. Reads ([`SharedFile::read`]) take no lock: every write
//! is an atomic rename, so a reader sees the whole old file or the whole new one, and a window that only
//! shows the accounts never waits for a CLI that is saving.
//!
//! The lock is `.{name}.lock` beside the file, never the file itself, because each write replaces the
//! file by a rename: a lock on it would stay on the old inode while the next process opens the new one.
//! The lock file is created 0600 (in the folder `write_private` makes 0700), without following a
//! symbolic link planted at its name, and is never deleted (deleting it would let two processes lock
//! two different files). It holds the process id and program of the last holder, so a person told to
//! wait knows which calconnect it is. A process that dies holding the lock releases it with its handles.
//!
//! Locking is std's `File::try_lock` (Rust 1.89: `flock` on Unix, `LockFileEx` on Windows), the calls
//! fs4 and fd-lock wrap, so no crate is added. std's blocking `File::lock` cannot time out, so the wait
//! polls `try_lock` and gives up after [`LOCK_WAIT`] with [`SharedFileError::Busy`]: a change takes
//! milliseconds, so a lock held that long belongs to a calconnect that is stuck or suspended.
//! The lock is advisory: it binds calconnect's processes, which is what the file needs.

use std::fs::{File, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::private_file::PrivateFileError;

/// How long a change waits for another process to finish its own.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Why a shared file could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum SharedFileError {
    /// Another process held the lock for the whole wait. `holder` is what it wrote in the lock file:
    /// its process id and program name.
    #[error("{path} stayed locked by another calconnect for {} s", waited.as_secs())]
    Busy {
        path: PathBuf,
        holder: Option<String>,
        waited: Duration,
    },
    #[error(transparent)]
    File(#[from] PrivateFileError),
}

/// One of calconnect's shared files. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SharedFile {
    path: PathBuf,
    lock_path: PathBuf,
    wait: Duration,
}

impl SharedFile {
    pub fn new(path: PathBuf) -> Self {
        let name = path
            .file_name()
            .map_or_else(|| "calconnect".into(), |name| name.to_string_lossy());
        let lock_path = path.with_file_name(format!(".{name}.lock"));
        Self {
            path,
            lock_path,
            wait: LOCK_WAIT,
        }
    }

    /// Gives up waiting for the lock after `wait` instead of [`LOCK_WAIT`].
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file as it is now, `None` when there is none yet. Takes no lock (module docs).
    pub fn read(&self) -> Result<Option<Vec<u8>>, PrivateFileError> {
        read(&self.path)
    }

    /// Changes the file under the lock: `change` gets the file as it is now (`None` when there is none yet)
    /// and returns the new contents and what the caller wants back. Blocks for up to the wait; call it
    /// off the async runtime.
    pub fn update<T, E>(
        &self,
        change: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, T), E>,
    ) -> Result<T, E>
    where
        E: From<SharedFileError>,
    {
        let _lock = self.lock()?;
        let current = read(&self.path).map_err(SharedFileError::from)?;
        let (contents, outcome) = change(current.as_deref())?;
        crate::private_file::write_private(&self.path, &contents).map_err(SharedFileError::from)?;
        Ok(outcome)
    }

    /// Takes the exclusive lock, waiting up to `self.wait`; released when the returned file is dropped.
    fn lock(&self) -> Result<File, SharedFileError> {
        if let Some(folder) = self
            .lock_path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            crate::private_file::ensure_private_folder(folder)?;
        }
        let mut file = open_lock_file(&self.lock_path).map_err(|source| self.io_error(source))?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < self.wait => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(SharedFileError::Busy {
                        path: self.path.clone(),
                        holder: holder(&self.lock_path),
                        waited: started.elapsed(),
                    })
                }
                Err(TryLockError::Error(source)) => return Err(self.io_error(source)),
            }
        }
        // Who holds it, for the message another process shows if it has to give up (module docs).
        let me = format!("process {} ({})\n", std::process::id(), program_name());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(me.as_bytes()))
            .map_err(|source| self.io_error(source))?;
        Ok(file)
    }

    fn io_error(&self, source: std::io::Error) -> SharedFileError {
        SharedFileError::File(PrivateFileError::Io {
            path: self.lock_path.clone(),
            source,
        })
    }
}

fn read(path: &Path) -> Result<Option<Vec<u8>>, PrivateFileError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PrivateFileError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Opens (creating it 0600 if needed) the lock file, refusing to follow a symbolic link at its name.
#[cfg(unix)]
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let descriptor = rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    )?;
    Ok(File::from(descriptor))
}

#[cfg(not(unix))]
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    // Windows: created in calconnect's folder under the profile, which inherits its owner-only ACL.
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// What the lock's holder wrote about itself: one short printable line, or nothing.
fn holder(lock_path: &Path) -> Option<String> {
    let mut text = String::new();
    File::open(lock_path)
        .ok()?
        .take(200)
        .read_to_string(&mut text)
        .ok()?;
    let line: String = text
        .lines()
        .next()?
        .chars()
        .filter(|character| !character.is_control())
        .collect();
    (!line.is_empty()).then_some(line)
}

fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "calconnect".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(file: &SharedFile, text: &str) {
        file.update(|current| {
            let mut contents = current.unwrap_or_default().to_vec();
            contents.extend_from_slice(text.as_bytes());
            Ok::<_, SharedFileError>((contents, ()))
        })
        .unwrap();
    }

    #[test]
    fn each_change_starts_from_the_file_as_the_last_one_left_it() {
        let directory = tempfile::tempdir().unwrap();
        let file = SharedFile::new(directory.path().join("calconnect/list.txt"));
        assert_eq!(file.read().unwrap(), None);
        // Two handles on the same file, as two processes have: each sees the other's change.
        let other = SharedFile::new(file.path().to_owned());
        append(&file, "a");
        append(&other, "b");
        append(&file, "c");
        assert_eq!(file.read().unwrap().as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn a_change_gives_up_after_the_wait_naming_the_process_that_holds_the_lock() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("accounts.json");
        let holder = SharedFile::new(path.clone());
        let held = holder.lock().unwrap();

        let started = Instant::now();
        let error = SharedFile::new(path.clone())
            .with_wait(Duration::from_millis(200))
            .update(|_| Ok::<_, SharedFileError>((b"new".to_vec(), ())))
            .unwrap_err();

        assert!(started.elapsed() >= Duration::from_millis(200));
        let SharedFileError::Busy {
            path: busy,
            holder: Some(holder_line),
            ..
        } = error
        else {
            panic!("busy, naming the holder: {error:?}");
        };
        assert_eq!(busy, path);
        assert!(
            holder_line.starts_with(&format!("process {} (", std::process::id())),
            "{holder_line}"
        );
        assert!(!path.exists(), "nothing was written without the lock");
        drop(held);
        append(&SharedFile::new(path.clone()), "after");
        assert_eq!(std::fs::read(&path).unwrap(), b"after");
    }

    #[test]
    fn a_failed_change_writes_nothing_and_releases_the_lock() {
        let directory = tempfile::tempdir().unwrap();
        let file = SharedFile::new(directory.path().join("settings.toml"));
        append(&file, "kept");
        let error = file
            .update(|_| -> Result<(Vec<u8>, ()), SharedFileError> {
                Err(SharedFileError::Busy {
                    path: PathBuf::new(),
                    holder: None,
                    waited: Duration::ZERO,
                })
            })
            .unwrap_err();
        assert!(matches!(error, SharedFileError::Busy { .. }));
        append(&file.clone().with_wait(Duration::ZERO), "+more");
        assert_eq!(file.read().unwrap().as_deref(), Some(&b"kept+more"[..]));
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_private_and_a_planted_link_is_not_followed() {
        use std::os::unix::fs::PermissionsExt as _;
        let directory = tempfile::tempdir().unwrap();
        let file = SharedFile::new(directory.path().join("calconnect/accounts.json"));
        append(&file, "x");
        let lock = directory.path().join("calconnect/.accounts.json.lock");
        let mode = std::fs::metadata(&lock).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let elsewhere = tempfile::tempdir().unwrap();
        let victim = elsewhere.path().join("victim");
        std::fs::write(&victim, b"untouched").unwrap();
        std::fs::remove_file(&lock).unwrap();
        std::os::unix::fs::symlink(&victim, &lock).unwrap();
        let error = file
            .update(|_| Ok::<_, SharedFileError>((b"y".to_vec(), ())))
            .unwrap_err();
        assert!(
            matches!(error, SharedFileError::File(PrivateFileError::Io { .. })),
            "{error:?}"
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
        assert_eq!(file.read().unwrap().as_deref(), Some(&b"x"[..]));
    }
}
