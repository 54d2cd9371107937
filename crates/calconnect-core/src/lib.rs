//! calconnect's accounts and flows, shared by the desktop app and the calconnect CLI.
//!
//! [`Calconnect`] is the one entry point: it signs in (browser or device code), keeps accounts (metadata in
//! a JSON file, tokens in the OS keychain through [`calconnect_vault`]), lists calendars and reads
//! free/busy through [`calconnect_graph`]. Every error is an [`Error`] with a stable [`ErrorKind`], a
//! [`Error::user_message`] and a [`Error::next_step`].
//!
//! ```no_run
//! # async fn example() -> calconnect_core::Result<()> {
//! use std::sync::Arc;
//! use calconnect_core::{Calconnect, Config, Options};
//! use calconnect_identity::AppKind;
//!
//! let config = Config { freebusy_client_id: Some("your-client-id".into()), ..Config::default() };
//! let store = Arc::new(calconnect_vault::KeychainStore::new("calconnect").expect("keychain"));
//! let http = calconnect_identity::http_client(&calconnect_identity::Trust::default())?;
//! let core = Calconnect::new(Options::new(config, "accounts.json".into(), store, http))?;
//! let pending = core.start_device_code(AppKind::FreeBusy).await?;
//! println!("go to {} and enter {}", pending.prompt().verification_uri, pending.prompt().user_code);
//! let connected = pending.finish(|progress| println!("{} s left", progress.remaining_seconds)).await?;
//! println!("connected {}", connected.account.user.email);
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod admin_report;
pub mod config;
pub mod error;
pub mod flows;
mod graph_errors;
pub mod graph_test;
pub mod network;
pub mod private_file;
pub mod registration;
pub mod shared_file;
pub mod teams;
pub mod teams_test;
mod token_source;
pub mod view;

pub use accounts::{Account, AccountStatus, AccountStore, UserInfo};
pub use config::{Config, Endpoints, DEFAULT_TENANT};
pub use error::{Error, ErrorKind, Result};
pub use flows::{
    AccountDetails, Calconnect, Connected, DeviceCodePrompt, Options, PendingBrowserSignIn,
    PendingDeviceCode,
};
pub use network::network_summary;
pub use registration::RegistrationGuide;
pub use teams::{TestMeeting, TEST_MEETING_SUBJECT};
pub use token_source::REFRESH_MARGIN;
pub use view::{BusyBlock, CalendarInfo, FreeBusy, FreeBusySource, FREE_BUSY_CALENDAR_NAME};
