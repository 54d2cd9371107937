//! Thin `#[tauri::command]` adapters, one file per wizard area.
//!
//! `generate_handler!` needs each command's own module path (it refers to hidden items the
//! `#[tauri::command]` macro generates next to the function), so modules are public, not re-exported.

pub mod accounts;
pub mod app;
pub mod calendars;
pub mod exchange;
pub mod graph;
pub mod settings;
pub mod sign_in;
pub mod support;
pub mod teams;
