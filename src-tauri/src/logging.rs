//! Where the app's log goes: stderr (for a terminal) and a file a person can send to their helpdesk,
//! rotated daily with a week kept, under the platform's log folder (or `<CALCONNECT_DATA_DIR>/logs`).
//!
//! Nothing secret is ever logged (tokens, codes and passwords are `SecretString`s whose `Debug` is
//! redacted, and no log line formats a credential), so the file needs no filter of its own. It is
//! created 0600 in a 0700 folder: the process runs with umask 077 (see [`private_umask`]).

use std::path::{Path, PathBuf};

/// Days of log files kept; older ones are deleted when the log rotates.
const KEPT_DAYS: usize = 7;

/// Makes every file the app creates private to its user (0600; folders 0700): accounts, settings,
/// exports, logs, and WebKit's caches. Called first thing, before any thread starts, because the
/// umask is process-wide state.
pub fn private_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Starts logging to stderr and, when `dir` can be made private, to `dir/calconnect.YYYY-MM-DD.log`.
/// Returns the folder actually used, for Settings' "Open log folder".
pub fn init(dir: &Path) -> Option<PathBuf> {
    use tracing_subscriber::fmt::writer::MakeWriterExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CALCONNECT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let file = match private_dir(dir).and_then(|()| appender(dir)) {
        Ok(appender) => Some(appender),
        Err(error) => {
            eprintln!(
                "calconnect: no log file in {} ({error}); logging to the terminal only",
                dir.display()
            );
            None
        }
    };
    let used = file.as_ref().map(|_| dir.to_owned());
    let stderr = std::io::stderr.with_max_level(tracing::Level::TRACE);
    // A second initialisation (tests) is harmless, so its error is ignored on purpose.
    let _ = match file {
        Some(file) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(stderr.and(file))
            .try_init(),
        None => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(stderr)
            .try_init(),
    };
    used
}

fn appender(dir: &Path) -> std::io::Result<tracing_appender::rolling::RollingFileAppender> {
    tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("calconnect")
        .filename_suffix("log")
        .max_log_files(KEPT_DAYS)
        .build(dir)
        .map_err(std::io::Error::other)
}

/// Creates `dir` 0700, or tightens an existing one of ours that others could read.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let metadata = std::fs::symlink_metadata(dir)?;
        let me = rustix::process::geteuid().as_raw();
        if !metadata.is_dir() || metadata.uid() != me {
            return Err(std::io::Error::other(
                "the log folder is not a folder owned by you",
            ));
        }
        if metadata.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_loose_log_folder_of_ours_is_tightened_to_0700() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("logs");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_log_folder_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = root.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let dir = root.path().join("logs");
        std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
        assert!(private_dir(&dir).is_err());
    }
}
