//! Exchange Web Services client and the Enterprise Connect service-account test.
//!
//! The client speaks SOAP 1.1 to EWS with quick-xml ([`soap`], [`parse`], [`operations`]), authenticates with
//! Basic or an app-only Bearer token ([`auth`]), finds the EWS URL by racing Autodiscover candidates
//! ([`autodiscover`]) and explains certificate failures ([`tls`]). [`diagnostics::run`] strings these together
//! into the step-by-step test an Exchange admin runs before handing service-account credentials to a vendor:
//!
//! ```no_run
//! # async fn example() {
//! use calconnect_ews::auth::Credentials;
//! use calconnect_ews::diagnostics::{run, SilentReporter, TestConfig};
//! let credentials = Credentials::Password {
//!     username: "svc-calconnect@contoso.com".into(),
//!     password: secrecy::SecretString::from("…"),
//! };
//! let report = run(&TestConfig::new(credentials, "adele@contoso.com"), &SilentReporter).await;
//! println!("{}", report.to_text());
//! # }
//! ```
//!
//! Every endpoint, trust anchor, clock, sleep and DNS lookup is injected through
//! [`diagnostics::Environment`], so tests run offline against the emulator in milliseconds.

pub mod auth;
pub mod autodiscover;
mod body;
pub mod client;
pub mod clock;
pub mod cloud;
pub mod connection;
pub mod diagnostics;
pub mod endpoints;
mod error;
/// The fuzz targets' properties (`fuzz/`), replayed over the committed corpus by this crate's tests.
#[doc(hidden)]
pub mod fuzzing;
pub mod ntlm;
pub mod operations;
pub mod parse;
mod persistent_auth;
pub mod request_log;
pub mod response_code;
pub mod soap;
pub mod srv;
pub mod tls;

pub use body::MAX_BODY_BYTES;
pub use error::{Error, Result};
