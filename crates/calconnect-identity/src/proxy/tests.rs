use std::collections::HashMap;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;

fn environment(variables: &[(&str, &str)]) -> ProxyConfig {
    let variables: HashMap<String, String> = variables
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    ProxyConfig::from_variables(&|name| variables.get(name).cloned())
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

/// `host:port` of the proxy a request to `text` goes through, `None` for a direct one.
fn proxy_of(config: &ProxyConfig, text: &str) -> Option<String> {
    config.route(&url(text)).map(|route| route.authority())
}

#[test]
fn each_scheme_takes_its_own_variable_then_all_proxy_upper_case_first() {
    let config = environment(&[
        ("HTTPS_PROXY", "http://secure.corp:3128"),
        ("https_proxy", "http://lower.corp:1"),
        ("ALL_PROXY", "http://all.corp:8080"),
    ]);
    assert_eq!(
        proxy_of(&config, "https://login.microsoftonline.com/x").as_deref(),
        Some("secure.corp:3128")
    );
    assert_eq!(
        proxy_of(&config, "http://intranet.corp/").as_deref(),
        Some("all.corp:8080")
    );
    let summary = config.summary();
    assert_eq!(summary.source, ProxySource::Environment);
    assert_eq!(summary.https.as_ref().unwrap().origin, "HTTPS_PROXY");
    assert_eq!(summary.http.as_ref().unwrap().origin, "ALL_PROXY");

    let lower = config_lower();
    assert_eq!(
        proxy_of(&lower, "https://graph.microsoft.com/").as_deref(),
        Some("lower.corp:3128")
    );
    assert_eq!(
        lower.summary().https.as_ref().unwrap().origin,
        "https_proxy"
    );
}

fn config_lower() -> ProxyConfig {
    environment(&[("https_proxy", "lower.corp:3128")])
}

#[test]
fn no_proxy_follows_curls_rules() {
    let config = environment(&[
        ("HTTPS_PROXY", "http://proxy.corp:8080"),
        (
            "NO_PROXY",
            "corp.example, .intranet.example, 10.0.0.0/8, 192.168.1.5, fe80::1",
        ),
    ]);
    for direct in [
        "https://corp.example/",
        "https://mail.corp.example/EWS/Exchange.asmx",
        "https://intranet.example/",
        "https://a.b.intranet.example/",
        "https://10.20.30.40/",
        "https://192.168.1.5/",
        "https://[fe80::1]/",
    ] {
        assert_eq!(
            proxy_of(&config, direct),
            None,
            "{direct} bypasses the proxy"
        );
    }
    for proxied in [
        "https://notcorp.example/",
        "https://corp.example.evil/",
        "https://192.168.1.6/",
        "https://login.microsoftonline.com/",
    ] {
        assert_eq!(
            proxy_of(&config, proxied).as_deref(),
            Some("proxy.corp:8080"),
            "{proxied} goes through the proxy"
        );
    }
    let everything = environment(&[("HTTPS_PROXY", "http://proxy.corp:8080"), ("no_proxy", "*")]);
    assert_eq!(
        proxy_of(&everything, "https://outlook.office365.com/"),
        None
    );
    assert_eq!(
        everything.summary().bypass_origin.as_deref(),
        Some("no_proxy")
    );
}

#[test]
fn loopback_is_always_direct_even_without_no_proxy() {
    let config = environment(&[("ALL_PROXY", "http://proxy.corp:8080"), ("NO_PROXY", "")]);
    for loopback in [
        "https://127.0.0.1:4431/",
        "http://127.8.9.10/",
        "https://localhost:1/",
        "https://LOCALHOST/",
        "https://[::1]:4431/",
    ] {
        assert_eq!(proxy_of(&config, loopback), None, "{loopback} is direct");
    }
    assert_eq!(
        proxy_of(&config, "https://sandbox.calconnect.test:4431/").as_deref(),
        Some("proxy.corp:8080"),
        "a name that merely resolves to loopback through the proxy is proxied"
    );
    assert!(config.summary().to_string().contains(LOOPBACK_RULE));
}

#[test]
fn credentials_in_the_proxy_url_become_basic_proxy_authorization_and_are_shown_nowhere() {
    let config = environment(&[(
        "HTTPS_PROXY",
        "http://alice:s%40cret%3Aword@proxy.corp:8080",
    )]);
    let route = config.route(&url("https://graph.microsoft.com/")).unwrap();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s@cret:word")
    );
    assert_eq!(route.authorization().unwrap(), expected.as_str());
    assert!(route.authorization().unwrap().is_sensitive());
    // reqwest gets the same credentials back as userinfo.
    let reqwest_url = route.reqwest_url().unwrap();
    assert_eq!(reqwest_url.host_str(), Some("proxy.corp"));
    assert_eq!(reqwest_url.username(), "alice");
    let texts = [
        route.to_string(),
        format!("{route:?}"),
        config.summary().to_string(),
        format!("{config:?}"),
        serde_json::to_string(config.summary()).unwrap(),
    ];
    for text in texts {
        assert!(
            !text.contains("alice") && !text.contains("cret") && !text.contains("%40"),
            "no credentials in {text}"
        );
    }
    assert!(config.summary().https.as_ref().unwrap().credentials);
    assert!(config
        .summary()
        .to_string()
        .contains("http://proxy.corp:8080 (from HTTPS_PROXY, with a user name and password)"));
}

#[test]
fn unusable_values_are_ignored_with_a_note() {
    let config = environment(&[
        ("HTTPS_PROXY", "socks5://proxy.corp:1080"),
        ("HTTP_PROXY", "http://[broken"),
    ]);
    assert_eq!(proxy_of(&config, "https://graph.microsoft.com/"), None);
    assert_eq!(proxy_of(&config, "http://intranet.corp/"), None);
    let notes = &config.summary().notes;
    assert!(
        notes
            .iter()
            .any(|note| note.contains("HTTPS_PROXY") && note.contains("socks5")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|note| note.contains("HTTP_PROXY") && note.contains("not a proxy URL")),
        "{notes:?}"
    );
    assert_eq!(config.summary().source, ProxySource::None);
}

#[test]
fn an_unset_environment_is_direct_and_says_so() {
    let config = environment(&[]);
    assert_eq!(
        proxy_of(&config, "https://login.microsoftonline.com/"),
        None
    );
    assert_eq!(config.summary().source, ProxySource::None);
    assert!(config
        .summary()
        .to_string()
        .starts_with("no proxy: every request goes directly"));
    assert_eq!(ProxyConfig::direct().summary(), config.summary());
}

#[test]
fn the_summary_names_each_proxy_its_variable_and_the_exceptions() {
    let config = environment(&[
        ("HTTPS_PROXY", "http://proxy.corp:8080"),
        ("NO_PROXY", "localhost, .corp"),
    ]);
    assert_eq!(
        config.summary().to_string(),
        format!(
            "https: http://proxy.corp:8080 (from HTTPS_PROXY); http: direct; bypass: localhost, .corp (from NO_PROXY); {LOOPBACK_RULE}"
        )
    );
}

/// GNOME settings as `gsettings get` prints them.
fn gnome(values: &[(&str, &str, &str)]) -> impl Fn(&str, &str) -> Option<String> {
    let values: HashMap<(String, String), String> = values
        .iter()
        .map(|(schema, key, value)| {
            (
                ((*schema).to_owned(), (*key).to_owned()),
                (*value).to_owned(),
            )
        })
        .collect();
    move |schema, key| values.get(&(schema.to_owned(), key.to_owned())).cloned()
}

fn resolve(variables: &[(&str, &str)], get: &dyn Fn(&str, &str) -> Option<String>) -> ProxyConfig {
    let variables: HashMap<String, String> = variables
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    ProxyConfig::resolve(&|name| variables.get(name).cloned(), get)
}

const GNOME_MANUAL: &[(&str, &str, &str)] = &[
    ("org.gnome.system.proxy", "mode", "'manual'"),
    (
        "org.gnome.system.proxy",
        "ignore-hosts",
        "['localhost', '*.corp.example', 'intranet:8080']",
    ),
    ("org.gnome.system.proxy.http", "host", "'webproxy.corp'"),
    ("org.gnome.system.proxy.http", "port", "3128"),
    ("org.gnome.system.proxy.http", "use-authentication", "false"),
    ("org.gnome.system.proxy.https", "host", "''"),
    ("org.gnome.system.proxy.https", "port", "0"),
];

#[test]
fn under_gnome_its_manual_settings_apply_with_the_http_proxy_for_https_too() {
    let config = resolve(
        &[("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")],
        &gnome(GNOME_MANUAL),
    );
    assert_eq!(config.summary().source, ProxySource::Gnome);
    assert_eq!(
        proxy_of(&config, "https://outlook.office365.com/").as_deref(),
        Some("webproxy.corp:3128")
    );
    assert_eq!(
        proxy_of(&config, "http://example.org/").as_deref(),
        Some("webproxy.corp:3128")
    );
    for direct in ["https://mail.corp.example/", "https://intranet/"] {
        assert_eq!(proxy_of(&config, direct), None, "{direct} is ignored");
    }
    assert_eq!(
        config.summary().bypass,
        vec!["localhost", ".corp.example", "intranet"]
    );
}

#[test]
fn gnome_is_read_only_under_gnome_and_only_when_the_environment_names_no_proxy() {
    let not_gnome = resolve(&[("XDG_CURRENT_DESKTOP", "KDE")], &gnome(GNOME_MANUAL));
    assert_eq!(not_gnome.summary().source, ProxySource::None);
    let environment = resolve(
        &[
            ("XDG_CURRENT_DESKTOP", "GNOME"),
            ("HTTPS_PROXY", "http://env.corp:8080"),
        ],
        &gnome(GNOME_MANUAL),
    );
    assert_eq!(environment.summary().source, ProxySource::Environment);
    assert_eq!(
        proxy_of(&environment, "https://graph.microsoft.com/").as_deref(),
        Some("env.corp:8080")
    );
}

#[test]
fn gnome_credentials_are_used_and_never_shown() {
    let mut values = GNOME_MANUAL.to_vec();
    values.retain(|(_, key, _)| *key != "use-authentication");
    values.push(("org.gnome.system.proxy.http", "use-authentication", "true"));
    values.push((
        "org.gnome.system.proxy.http",
        "authentication-user",
        "'bob'",
    ));
    values.push((
        "org.gnome.system.proxy.http",
        "authentication-password",
        "'p@ss:w'",
    ));
    let config = resolve(&[("XDG_CURRENT_DESKTOP", "GNOME")], &gnome(&values));
    let route = config.route(&url("http://example.org/")).unwrap();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("bob:p@ss:w")
    );
    assert_eq!(route.authorization().unwrap(), expected.as_str());
    let summary = config.summary().to_string();
    assert!(
        !summary.contains("bob") && !summary.contains("p@ss"),
        "{summary}"
    );
}

#[test]
fn gnome_automatic_configuration_is_not_evaluated_and_the_note_says_so() {
    let config = resolve(
        &[("XDG_CURRENT_DESKTOP", "GNOME")],
        &gnome(&[("org.gnome.system.proxy", "mode", "'auto'")]),
    );
    assert_eq!(proxy_of(&config, "https://graph.microsoft.com/"), None);
    assert!(
        config
            .summary()
            .notes
            .iter()
            .any(|note| note.contains("automatic configuration (PAC)")),
        "{:?}",
        config.summary()
    );
}

/// A proxy on loopback that answers every CONNECT with `status_line` and closes.
async fn refusing_proxy(status_line: &'static str) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let response = format!(
                    "{status_line}\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n"
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

/// The problem a request through `proxy` (an `HTTPS_PROXY` value) to a host behind it meets.
async fn problem_through(proxy: &str) -> ProxyProblem {
    let config = environment(&[("HTTPS_PROXY", proxy)]);
    let client = reqwest::Client::builder()
        .proxy(config.reqwest_proxy(|_| false))
        .build()
        .unwrap();
    let destination = url("https://login.contoso.test/organizations/v2.0");
    let error = client.get(destination.clone()).send().await.unwrap_err();
    let route = config.route(&destination).unwrap();
    ProxyProblem::from_tunnel(&error, &route, &destination)
        .unwrap_or_else(|| panic!("a proxy problem in {error:?}"))
}

#[tokio::test]
async fn a_407_is_authentication_required_and_says_how_to_give_credentials() {
    let port = refusing_proxy("HTTP/1.1 407 Proxy Authentication Required").await;
    let problem = problem_through(&format!("http://127.0.0.1:{port}")).await;
    assert_eq!(problem.kind, ProxyProblemKind::AuthenticationRequired);
    assert_eq!(problem.destination, "login.contoso.test:443");
    let message = problem.message();
    assert!(
        message.contains(&format!("http://127.0.0.1:{port} (from HTTPS_PROXY)"))
            && message.contains("407"),
        "{message}"
    );
    let next_step = problem.next_step();
    assert!(
        next_step.contains("HTTPS_PROXY=http://user:password@") && next_step.contains("NTLM"),
        "{next_step}"
    );
}

#[tokio::test]
async fn a_407_to_credentials_says_they_were_refused_without_quoting_them() {
    let port = refusing_proxy("HTTP/1.1 407 Proxy Authentication Required").await;
    let problem = problem_through(&format!("http://carol:hunter2@127.0.0.1:{port}")).await;
    assert_eq!(problem.kind, ProxyProblemKind::AuthenticationRequired);
    assert!(problem.credentials);
    let text = problem.to_string();
    assert!(
        text.contains("refused the user name and password"),
        "{text}"
    );
    assert!(
        !text.contains("carol") && !text.contains("hunter2"),
        "{text}"
    );
}

#[tokio::test]
async fn a_refused_tunnel_and_an_absent_proxy_are_told_apart() {
    let port = refusing_proxy("HTTP/1.1 403 Forbidden").await;
    let refused = problem_through(&format!("http://127.0.0.1:{port}")).await;
    assert_eq!(refused.kind, ProxyProblemKind::Refused);
    assert!(refused.next_step().contains("login.contoso.test"));

    // A port nothing listens on: bind one, then free it.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = problem_through(&format!("http://127.0.0.1:{closed}")).await;
    assert_eq!(unreachable.kind, ProxyProblemKind::Unreachable);
    assert!(unreachable
        .message()
        .contains("could not connect to the proxy"));
}
