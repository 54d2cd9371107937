//! The app's own failures, next to the core's: settings files and starting the built-in sandbox.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read or write settings file {path}")]
    SettingsIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("settings file {path} is invalid: {reason}")]
    SettingsInvalid { path: PathBuf, reason: String },
    #[error("cannot start the built-in sandbox")]
    Sandbox(#[source] calconnect_sandbox::Error),
    #[error(transparent)]
    Core(#[from] calconnect_core::Error),
}

impl From<calconnect_core::shared_file::SharedFileError> for Error {
    fn from(error: calconnect_core::shared_file::SharedFileError) -> Self {
        Self::Core(error.into())
    }
}
