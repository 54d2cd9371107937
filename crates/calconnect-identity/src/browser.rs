//! Opening the system browser, behind a trait so tests and the desktop app can inject their own.

use url::Url;

/// Opens an authorize URL for the person signing in.
pub trait BrowserOpener: Send + Sync {
    fn open(&self, url: &Url) -> std::io::Result<()>;
}

/// The system browser: the `BROWSER` environment variable if set, else the platform's default handler.
///
/// `BROWSER` follows the de-facto convention (xdg-utils, Python's `webbrowser`): a `:`-separated list of
/// commands, each given the URL as its last argument or in place of `%s`. The first that starts wins.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemBrowser;

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &Url) -> std::io::Result<()> {
        match std::env::var("BROWSER") {
            Ok(browsers) if !browsers.trim().is_empty() => {
                open_with_browser_variable(&browsers, url.as_str())
            }
            _ => open::that_detached(url.as_str()),
        }
    }
}

fn open_with_browser_variable(browsers: &str, url: &str) -> std::io::Result<()> {
    let mut last_error =
        std::io::Error::new(std::io::ErrorKind::NotFound, "BROWSER lists no command");
    for command_line in browsers.split(':').filter(|entry| !entry.trim().is_empty()) {
        let mut words = command_line.split_whitespace();
        let Some(program) = words.next() else {
            continue;
        };
        let mut arguments: Vec<String> = words.map(str::to_owned).collect();
        if arguments.iter().any(|argument| argument.contains("%s")) {
            arguments
                .iter_mut()
                .for_each(|argument| *argument = argument.replace("%s", url));
        } else {
            arguments.push(url.to_owned());
        }
        match std::process::Command::new(program)
            .args(&arguments)
            .stdin(std::process::Stdio::null())
            .spawn()
        {
            Ok(_child) => return Ok(()),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}
