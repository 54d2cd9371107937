//! Tauri v2's hello world (create-tauri-app's vanilla template: a window, a page and a `greet` command),
//! plus the one thing calconnect's benchmark needs from it: `ui_ready`, which the page calls once its first
//! command has answered and the answer is drawn, exactly as calconnect's welcome step does.

// Hide the console window of a release build on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[tauri::command]
fn greet(name: &str) -> String {
    format!("Hello, {name}! You've been greeted from Rust!")
}

/// Creates the file named by `CALCONNECT_BENCH_READY_FILE` once, like calconnect's `ui_ready`.
#[tauri::command]
fn ui_ready() {
    static SIGNALLED: std::sync::Once = std::sync::Once::new();
    SIGNALLED.call_once(|| {
        if let Some(path) =
            std::env::var_os("CALCONNECT_BENCH_READY_FILE").filter(|path| !path.is_empty())
        {
            if let Err(error) = std::fs::write(path, b"ready\n") {
                eprintln!("could not write the ready file: {error}");
            }
        }
    });
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![greet, ui_ready])
        .run(tauri::generate_context!())
        .expect("error while running tauri application");
}
