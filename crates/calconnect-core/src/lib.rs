//! calconnect's accounts and flows, shared by the desktop app and the calconnect CLI.
