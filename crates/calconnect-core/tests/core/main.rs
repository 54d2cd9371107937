//! Integration tests of calconnect-core against the sandbox over loopback TLS.
//!
//! Tests that use the real keychain (`keychain`, `no_token_leaks`) need a Secret Service: run them with
//! `scripts/with-keyring.sh cargo nextest run -p calconnect-core`.

mod browser_sign_in;
mod calendars;
mod consent;
mod device_code;
mod graph_test;
mod keychain;
mod registration;
mod sessions;
mod shared_files;
mod support;
mod teams;
mod teams_test;
