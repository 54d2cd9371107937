//! GNOME's proxy settings (`org.gnome.system.proxy`), as glib-networking's resolver reads them: in
//! `manual` mode the `http` child's host and port for http destinations, the `https` child's for https
//! ones (falling back to the http proxy when it has no host), and `ignore-hosts` as the exceptions.
//!
//! They are read with the `gsettings` tool rather than by linking GIO: one short-lived process per key,
//! only under a GNOME desktop and only when the environment names no proxy (a GNOME session usually
//! exports none). `auto` mode (a PAC file) is not evaluated: a note says so.

use std::process::{Command, Stdio};

use super::{ProxySource, Setting, Settings};

const SCHEMA: &str = "org.gnome.system.proxy";
const ORIGIN: &str = "the GNOME proxy settings";

/// `gsettings get SCHEMA KEY`: the value in GVariant text, or `None` when gsettings is missing, the
/// schema is not installed or the key is unknown.
pub(super) fn gsettings(schema: &str, key: &str) -> Option<String> {
    let output = Command::new("gsettings")
        .args(["get", schema, key])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout)
        .ok()
        .map(|text| text.trim().to_owned())
}

/// GNOME's settings when its mode is `manual` or `auto`; `None` when it is `none` or unreadable.
pub(super) fn settings(get: &dyn Fn(&str, &str) -> Option<String>) -> Option<Settings> {
    let mode = string(&get(SCHEMA, "mode")?)?;
    let mut notes = Vec::new();
    let (http, https) = match mode.as_str() {
        "manual" => {
            let http = proxy(get, "http", true);
            let https = proxy(get, "https", false).or_else(|| {
                http.as_ref().map(|setting| Setting {
                    value: setting.value.clone(),
                    origin: format!("{ORIGIN} (the HTTP proxy, as GNOME uses it for https)"),
                })
            });
            (http, https)
        }
        "auto" => {
            notes.push(format!(
                "{ORIGIN} use automatic configuration (PAC), which calconnect does not evaluate: requests go directly unless HTTPS_PROXY names the proxy"
            ));
            (None, None)
        }
        _ => return None,
    };
    let ignore_hosts = get(SCHEMA, "ignore-hosts")
        .map(|value| strings(&value))
        .unwrap_or_default();
    let no_proxy = (!ignore_hosts.is_empty()).then(|| Setting {
        value: ignore_hosts
            .iter()
            .map(|entry| no_proxy_entry(entry))
            .collect::<Vec<_>>()
            .join(","),
        origin: format!("{ORIGIN} (ignore-hosts)"),
    });
    Some(Settings {
        source: ProxySource::Gnome,
        https,
        http,
        no_proxy,
        notes,
    })
}

/// The proxy of the `child` schema (`http`, `https`) as a URL; with the http child's user name and
/// password when `use-authentication` is on (GNOME keeps them only there).
fn proxy(
    get: &dyn Fn(&str, &str) -> Option<String>,
    child: &str,
    authentication: bool,
) -> Option<Setting> {
    let schema = format!("{SCHEMA}.{child}");
    let host = string(&get(&schema, "host")?)?;
    if host.is_empty() {
        return None;
    }
    let port: u16 = get(&schema, "port")?.trim().parse().ok()?;
    let userinfo = if authentication
        && get(&schema, "use-authentication").is_some_and(|value| value.trim() == "true")
    {
        let user = get(&schema, "authentication-user")
            .and_then(|value| string(&value))
            .unwrap_or_default();
        let password = get(&schema, "authentication-password")
            .and_then(|value| string(&value))
            .unwrap_or_default();
        format!("{}:{}@", encode(&user), encode(&password))
    } else {
        String::new()
    };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    Some(Setting {
        value: format!("http://{userinfo}{host}:{port}"),
        origin: format!("{ORIGIN} ({child} proxy)"),
    })
}

/// Percent-encodes a userinfo part (everything but unreserved characters).
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A GNOME `ignore-hosts` entry as a `NO_PROXY` entry: `*.example.com` is `.example.com`, and a port
/// (`host:8080`) is dropped (`NO_PROXY` has none: the exception then covers every port).
fn no_proxy_entry(entry: &str) -> String {
    let entry = entry.trim();
    let entry = entry.strip_prefix('*').unwrap_or(entry);
    if entry.contains('/') || entry.parse::<std::net::IpAddr>().is_ok() {
        return entry.to_owned();
    }
    match entry.rsplit_once(':') {
        Some((host, port))
            if !host.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host.to_owned()
        }
        _ => entry.to_owned(),
    }
}

/// A GVariant string literal (`'text'` or `"text"`, backslash escapes) as text.
fn string(value: &str) -> Option<String> {
    let value = value.trim();
    let mut characters = value.chars();
    let quote = characters.next().filter(|c| *c == '\'' || *c == '"')?;
    let mut text = String::new();
    let mut escaped = false;
    for character in characters {
        match (escaped, character) {
            (true, c) => {
                text.push(c);
                escaped = false;
            }
            (false, '\\') => escaped = true,
            (false, c) if c == quote => return Some(text),
            (false, c) => text.push(c),
        }
    }
    None
}

/// A GVariant array of strings (`['a', 'b']`, or `@as []` when empty) as its strings.
fn strings(value: &str) -> Vec<String> {
    let value = value.trim();
    let value = value.strip_prefix("@as").unwrap_or(value).trim();
    let Some(inner) = value
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            break;
        };
        // Find the closing quote, skipping escaped characters.
        let mut end = None;
        let mut escaped = false;
        for (index, character) in rest.char_indices().skip(1) {
            match (escaped, character) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, c) if c == quote => {
                    end = Some(index);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        if let Some(entry) = string(&rest[..=end]) {
            entries.push(entry);
        }
        rest = rest[end + 1..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gvariant_strings_and_arrays_are_read_as_gsettings_prints_them() {
        assert_eq!(string("'proxy.corp'").as_deref(), Some("proxy.corp"));
        assert_eq!(string(r#""it's""#).as_deref(), Some("it's"));
        assert_eq!(string(r"'a\'b'").as_deref(), Some("a'b"));
        assert_eq!(string("8080"), None);
        assert_eq!(
            strings("['localhost', '127.0.0.0/8', '::1', '*.corp.example']"),
            vec!["localhost", "127.0.0.0/8", "::1", "*.corp.example"]
        );
        assert!(strings("@as []").is_empty());
    }

    #[test]
    fn ignore_hosts_entries_become_no_proxy_entries() {
        assert_eq!(no_proxy_entry("*.corp.example"), ".corp.example");
        assert_eq!(no_proxy_entry("intranet:8080"), "intranet");
        assert_eq!(no_proxy_entry("10.0.0.0/8"), "10.0.0.0/8");
        assert_eq!(no_proxy_entry("fe80::1"), "fe80::1");
        assert_eq!(no_proxy_entry("localhost"), "localhost");
    }

    #[test]
    fn userinfo_is_percent_encoded() {
        assert_eq!(encode("p@ss word:"), "p%40ss%20word%3A");
    }
}
