//! The IPC boundary: the only place that shapes what crosses into the webview.

pub mod dto;
pub mod error;
pub mod event;
