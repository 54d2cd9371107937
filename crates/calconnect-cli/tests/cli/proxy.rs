//! Proxies, end to end through the binary: a CONNECT proxy on loopback, written here, is the only thing
//! that resolves the sandbox's host name (`sandbox.calconnect.test`, under the reserved `.test` TLD), so a
//! request that succeeds went through it. The proxy variables are set on the child only.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use calconnect_sandbox::tenant::{AuthMethod, ExtendedProtection};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle, Tenant};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::{Cli, Output};

/// The sandbox's public host name: nothing but the test proxy resolves it.
const NAME: &str = "sandbox.calconnect.test";

/// What the proxy does with a CONNECT.
#[derive(Clone)]
enum Policy {
    /// Tunnels to the names it knows.
    Open,
    /// Tunnels only with this `Proxy-Authorization` (Basic); anything else gets 407.
    Basic {
        user: &'static str,
        password: &'static str,
    },
    /// Answers every CONNECT with 407 and asks for Windows sign-in.
    Refuse407,
}

/// One CONNECT the proxy received.
#[derive(Debug, Clone)]
struct Connect {
    /// `host:port` of the request line.
    target: String,
    /// The `Proxy-Authorization` header, if any.
    authorization: Option<String>,
}

/// A CONNECT proxy on loopback that resolves only the names it is given, splices bytes (no TLS of its
/// own: the client's handshake is with the server) and records every CONNECT.
struct ConnectProxy {
    address: SocketAddr,
    connects: Arc<Mutex<Vec<Connect>>>,
}

impl ConnectProxy {
    async fn start(names: HashMap<String, SocketAddr>, policy: Policy) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let connects = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&connects);
        let names = Arc::new(names);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (names, policy, recorded) =
                    (Arc::clone(&names), policy.clone(), Arc::clone(&recorded));
                tokio::spawn(async move {
                    let _ = serve(client, &names, &policy, &recorded).await;
                });
            }
        });
        Self { address, connects }
    }

    /// A proxy that resolves [`NAME`] to `sandbox`.
    async fn for_sandbox(sandbox: &SandboxHandle, policy: Policy) -> Self {
        let names = HashMap::from([(NAME.to_owned(), sandbox.local_address())]);
        Self::start(names, policy).await
    }

    /// `http://127.0.0.1:PORT`, the value of `HTTPS_PROXY`.
    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn connects(&self) -> Vec<Connect> {
        self.connects.lock().unwrap().clone()
    }
}

async fn serve(
    mut client: TcpStream,
    names: &HashMap<String, SocketAddr>,
    policy: &Policy,
    recorded: &Mutex<Vec<Connect>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    let end = loop {
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        if head.len() > 16 * 1024 {
            return Ok(());
        }
        let read = client.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let authorization = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    recorded.lock().unwrap().push(Connect {
        target: target.to_owned(),
        authorization: authorization.clone(),
    });
    if method != "CONNECT" {
        return answer(&mut client, "405 Method Not Allowed", "").await;
    }
    match policy {
        Policy::Open => {}
        Policy::Basic { user, password } => {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            );
            if authorization.as_deref() != Some(expected.as_str()) {
                let challenge = "Proxy-Authenticate: Basic realm=\"corp\"\r\n";
                return answer(&mut client, "407 Proxy Authentication Required", challenge).await;
            }
        }
        Policy::Refuse407 => {
            let challenge = "Proxy-Authenticate: Negotiate\r\nProxy-Authenticate: NTLM\r\n";
            return answer(&mut client, "407 Proxy Authentication Required", challenge).await;
        }
    }
    let upstream = target
        .rsplit_once(':')
        .and_then(|(host, port)| Some((names.get(host)?, port.parse::<u16>().ok()?)))
        .map(|(address, port)| SocketAddr::new(address.ip(), port));
    let Some(upstream) = upstream else {
        return answer(&mut client, "502 Bad Gateway", "").await;
    };
    let mut server = TcpStream::connect(upstream).await?;
    client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    // Anything the client sent after the request head belongs to the tunnel.
    server.write_all(&head[end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

async fn answer(client: &mut TcpStream, status: &str, headers: &str) -> std::io::Result<()> {
    let response =
        format!("HTTP/1.1 {status}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n");
    client.write_all(response.as_bytes()).await
}

/// A TLS sandbox serving `tenant` under [`NAME`].
async fn public_sandbox(tenant: Tenant) -> SandboxHandle {
    Sandbox::builder()
        .tenant(tenant)
        .public_hostname(NAME)
        .start()
        .await
        .expect("sandbox starts")
}

/// The demo tenant with an EWS virtual directory that offers NTLM only and requires Extended
/// Protection: only a channel binding of the server's own certificate gets in.
fn ntlm_only_with_extended_protection_required() -> Tenant {
    let mut tenant = Tenant::demo();
    tenant.exchange.extended_protection = ExtendedProtection::Require;
    tenant.exchange.authentication = Some(vec![AuthMethod::Ntlm]);
    tenant
}

/// `calconnect --json exchange-test` for adele against the sandbox's EWS URL, with the service account's
/// password in the environment.
async fn exchange_test(cli: &Cli) -> Output {
    let ews_url = cli.sandbox.ews_url().to_string();
    cli.run(&[
        "exchange-test",
        "--user",
        demo::SERVICE_ACCOUNT_UPN,
        "--mailbox",
        demo::ADELE,
        "--ews-url",
        &ews_url,
    ])
    .await
}

fn step(report: &Value, id: &str) -> Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("the report has a {id} step: {report}"))
}

/// The sandbox's `host:port` as a CONNECT names it.
fn tunnel_target(sandbox: &SandboxHandle) -> String {
    format!("{NAME}:{}", sandbox.local_address().port())
}

#[tokio::test]
async fn sign_in_and_graph_go_through_the_proxy_to_a_sandbox_only_it_resolves() {
    let sandbox = public_sandbox(Tenant::demo()).await;
    let proxy = ConnectProxy::for_sandbox(&sandbox, Policy::Open).await;
    let target = tunnel_target(&sandbox);
    let cli = Cli::with_sandbox("proxy-sign-in", sandbox).env("HTTPS_PROXY", &proxy.url());

    let login = cli
        .login_device_code("freebusy", demo::FREEBUSY_APP_CLIENT_ID, demo::ADELE)
        .await;
    assert_eq!(login.code, 0, "login through the proxy:\n{}", login.stderr);
    assert_eq!(login.json()["calendars"][0]["name"], "Free Busy");
    let after_login = proxy.connects().len();
    let from = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let free_busy = cli.run(&["freebusy", demo::ADELE, "--from", &from]).await;
    assert_eq!(free_busy.code, 0, "{}", free_busy.stderr);
    assert!(free_busy.json()["free_busy"]["blocks"].is_array());
    let graph_reads = cli
        .sandbox
        .journal()
        .into_iter()
        .filter(|entry| entry.path.ends_with("getSchedule") && entry.status == 200)
        .count();
    assert_eq!(graph_reads, 1, "{:#?}", cli.sandbox.journal());

    let connects = proxy.connects();
    assert!(
        after_login >= 1 && connects.len() > after_login,
        "the sign-in and the getSchedule read each tunnelled: {connects:?}"
    );
    assert!(
        connects.iter().all(|connect| connect.target == target),
        "every tunnel is to the sandbox: {connects:?}"
    );
    assert!(
        login.stderr.contains("proxy settings") && login.stderr.contains(&proxy.url()),
        "the trace log says which proxy is used:\n{}",
        login.stderr
    );
}

#[tokio::test]
async fn ntlm_with_extended_protection_required_authenticates_through_the_proxy() {
    let sandbox = public_sandbox(ntlm_only_with_extended_protection_required()).await;
    let proxy = ConnectProxy::for_sandbox(&sandbox, Policy::Open).await;
    let target = tunnel_target(&sandbox);
    let cli = Cli::with_sandbox("proxy-ntlm", sandbox)
        .env("HTTPS_PROXY", &proxy.url())
        .env("CALCONNECT_EWS_SECRET", demo::SERVICE_ACCOUNT_PASSWORD);

    let run = exchange_test(&cli).await;

    assert_eq!(
        run.code, 0,
        "full access through the proxy:\n{}\n{}",
        run.stdout, run.stderr
    );
    let report = run.json();
    assert_eq!(report["verdict"]["level"], "full", "{report}");
    let authentication = step(&report, "authentication");
    assert_eq!(authentication["status"], "passed", "{authentication}");
    assert!(
        authentication["detail"].as_str().unwrap().contains("NTLM"),
        "{authentication}"
    );
    // The channel binding named the certificate of the connection NTLM went out on: the sandbox's own,
    // reached inside the tunnel. No NTLM AUTHENTICATE was refused.
    let refused: Vec<_> = cli
        .sandbox
        .journal()
        .into_iter()
        .filter(|entry| entry.method == "POST" && entry.path == "/EWS/Exchange.asmx")
        .filter(|entry| entry.status == 401 && entry.note.as_deref() != Some("401: ntlm challenge"))
        .collect();
    assert!(refused.is_empty(), "{refused:#?}");
    let connects = proxy.connects();
    assert!(
        connects.len() >= 2 && connects.iter().all(|connect| connect.target == target),
        "the pooled client and NTLM's own connections both tunnelled to the sandbox: {connects:?}"
    );
    assert!(!run.stdout.contains(demo::SERVICE_ACCOUNT_PASSWORD));
    assert!(!run.stderr.contains(demo::SERVICE_ACCOUNT_PASSWORD));
}

#[tokio::test]
async fn a_proxy_that_wants_authentication_gets_a_message_naming_it_and_the_way_out() {
    let sandbox = public_sandbox(ntlm_only_with_extended_protection_required()).await;
    let proxy = ConnectProxy::for_sandbox(&sandbox, Policy::Refuse407).await;
    let cli = Cli::with_sandbox("proxy-407", sandbox)
        .env("HTTPS_PROXY", &proxy.url())
        .env("CALCONNECT_EWS_SECRET", demo::SERVICE_ACCOUNT_PASSWORD);
    let named = format!("{} (from HTTPS_PROXY)", proxy.url());

    let login = cli
        .run(&[
            "login",
            "--app",
            "freebusy",
            "--device-code",
            "--client-id",
            demo::FREEBUSY_APP_CLIENT_ID,
        ])
        .await;
    assert_eq!(login.code, 7, "a network problem:\n{}", login.stderr);
    let error = &login.json()["error"];
    assert_eq!(error["kind"], "network", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(&named) && message.contains("asks for authentication (HTTP 407)"),
        "{message}"
    );
    let next_step = error["next_step"].as_str().unwrap();
    assert!(
        next_step.contains("HTTPS_PROXY=http://user:password@")
            && next_step.contains("NTLM or Kerberos")
            && next_step.contains(NAME),
        "{next_step}"
    );

    let run = exchange_test(&cli).await;
    assert_eq!(run.code, 10, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let summary = report["verdict"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("through the proxy")
            && summary.contains(&named)
            && summary.contains("407"),
        "{summary}"
    );
    let fix = &report["verdict"]["fixes"][0];
    assert!(
        fix["problem"]
            .as_str()
            .unwrap()
            .contains("HTTPS_PROXY=http://user:password@"),
        "{fix}"
    );
    assert!(!proxy.connects().is_empty());
}

#[tokio::test]
async fn credentials_in_the_proxy_url_are_sent_as_basic_and_never_printed() {
    let sandbox = public_sandbox(ntlm_only_with_extended_protection_required()).await;
    let policy = Policy::Basic {
        user: "alice",
        password: "s3cr3t-proxy",
    };
    let proxy = ConnectProxy::for_sandbox(&sandbox, policy).await;
    let with = |password: &str| format!("http://alice:{password}@{}", proxy.address);
    let cli = Cli::with_sandbox("proxy-basic", sandbox)
        .env("CALCONNECT_EWS_SECRET", demo::SERVICE_ACCOUNT_PASSWORD);

    let right = cli.env("HTTPS_PROXY", &with("s3cr3t-proxy"));
    let run = exchange_test(&right).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        proxy.connects().iter().all(|connect| connect
            .authorization
            .as_deref()
            .is_some_and(|value| value.starts_with("Basic "))),
        "every CONNECT carried the credentials: {:?}",
        proxy.connects()
    );
    let shown = right.run(&["network"]).await;
    assert_eq!(shown.json()["proxy"]["https"]["credentials"], true);

    let mut wrong = right;
    wrong.environment.retain(|(name, _)| name != "HTTPS_PROXY");
    let wrong = wrong.env("HTTPS_PROXY", &with("not-it"));
    let refused = exchange_test(&wrong).await;
    assert_eq!(refused.code, 10, "{}\n{}", refused.stdout, refused.stderr);
    let summary = refused.json()["verdict"]["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        summary.contains("refused the user name and password in its proxy URL"),
        "{summary}"
    );
    for output in [&run, &shown, &refused] {
        for secret in ["s3cr3t-proxy", "not-it", "alice"] {
            assert!(
                !output.stdout.contains(secret) && !output.stderr.contains(secret),
                "{secret} was printed (trace logging on):\n{}\n{}",
                output.stdout,
                output.stderr
            );
        }
    }
}

#[tokio::test]
async fn no_proxy_sends_a_host_directly_and_the_proxy_sees_nothing() {
    let sandbox = public_sandbox(Tenant::demo()).await;
    let proxy = ConnectProxy::for_sandbox(&sandbox, Policy::Open).await;
    let cli = Cli::with_sandbox("proxy-bypass", sandbox)
        .env("HTTPS_PROXY", &proxy.url())
        .env("NO_PROXY", "localhost,.calconnect.test");

    let login = cli
        .run(&[
            "login",
            "--app",
            "freebusy",
            "--device-code",
            "--client-id",
            demo::FREEBUSY_APP_CLIENT_ID,
        ])
        .await;

    // Directly, the name does not resolve (only the proxy knows it): the sign-in cannot start.
    assert_eq!(login.code, 7, "{}", login.stderr);
    let error = &login.json()["error"];
    assert_eq!(error["kind"], "network", "{error}");
    assert!(
        !error["message"].as_str().unwrap().contains("proxy"),
        "not a proxy failure: {error}"
    );
    assert!(
        proxy.connects().is_empty(),
        "NO_PROXY kept the request away from the proxy: {:?}",
        proxy.connects()
    );
    let shown = cli.run(&["network"]).await;
    assert_eq!(
        shown.json()["proxy"]["bypass"],
        serde_json::json!(["localhost", ".calconnect.test"])
    );
}

#[tokio::test]
async fn loopback_is_reached_directly_even_when_no_proxy_is_unset() {
    // The sandbox on 127.0.0.1, a proxy that refuses everything, and no NO_PROXY: the sign-in works.
    let sandbox = Sandbox::builder().start().await.expect("sandbox starts");
    let proxy = ConnectProxy::start(HashMap::new(), Policy::Refuse407).await;
    let cli = Cli::with_sandbox("proxy-loopback", sandbox).env("ALL_PROXY", &proxy.url());

    let login = cli
        .login_device_code("freebusy", demo::FREEBUSY_APP_CLIENT_ID, demo::ADELE)
        .await;

    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(proxy.connects().is_empty(), "{:?}", proxy.connects());
}

#[tokio::test]
async fn gnome_proxy_settings_apply_when_the_environment_names_no_proxy() {
    let sandbox = public_sandbox(ntlm_only_with_extended_protection_required()).await;
    let proxy = ConnectProxy::for_sandbox(&sandbox, Policy::Open).await;
    // GNOME's settings in GIO's keyfile backend, read by the real `gsettings`.
    let config = tempfile::tempdir().unwrap();
    let settings = config.path().join("glib-2.0/settings");
    std::fs::create_dir_all(&settings).unwrap();
    std::fs::write(
        settings.join("keyfile"),
        format!(
            "[system/proxy]\nmode='manual'\nignore-hosts=['localhost', '127.0.0.0/8', '::1']\n\n[system/proxy/https]\nhost='127.0.0.1'\nport={}\n",
            proxy.address.port()
        ),
    )
    .unwrap();
    let cli = Cli::with_sandbox("proxy-gnome", sandbox)
        .env("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")
        .env("GSETTINGS_BACKEND", "keyfile")
        .env("XDG_CONFIG_HOME", &config.path().display().to_string())
        .env("CALCONNECT_EWS_SECRET", demo::SERVICE_ACCOUNT_PASSWORD);

    let shown = cli.run(&["network"]).await;
    let summary = &shown.json()["proxy"];
    assert_eq!(
        summary["source"], "gnome",
        "gsettings (with the GNOME proxy schemas) must be installed: {summary}\n{}",
        shown.stderr
    );
    assert_eq!(summary["https"]["proxy"], proxy.url());

    let run = exchange_test(&cli).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        proxy.connects().len() >= 2,
        "the test ran through GNOME's proxy: {:?}",
        proxy.connects()
    );
}
