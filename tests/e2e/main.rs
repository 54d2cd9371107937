//! End-to-end tests of the real calconnect app: a real window under Xvfb, driven over WebDriver.
//!
//! Run them through `scripts/test.sh`, which builds the app and provides the display and a keychain.

mod chromium;
mod exchange;
mod graph;
mod layout;
mod sandbox_app;
mod settings;
mod support;
mod teams;
mod welcome;
mod wizard;
