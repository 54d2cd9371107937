//! Prints what one Autodiscover candidate that never answers costs: the time to find the EWS URL when
//! `https://contoso.com/` accepts the connection and then says nothing (a firewall that drops, a server that
//! hangs), against the time when only the live candidates exist (the same host refused at once), with 50 ms
//! per Autodiscover request. Candidates are raced, so the goal is a dead one costing (almost) nothing.
//! Run with `cargo bench -p calconnect-ews --bench autodiscover`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use calconnect_ews::auth::Credentials;
use calconnect_ews::autodiscover::{Autodiscover, NoSrvResolver};
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::request_log::RequestLog;
use calconnect_ews::tls::{self, Trust};
use calconnect_sandbox::{demo, Sandbox, SandboxHandle};
use secrecy::SecretString;

const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 5;
/// The run's own per-candidate limit (Environment's default): a dead candidate is given up after it.
const CANDIDATE_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let sandbox = Sandbox::builder()
        .tls(true)
        .bind("127.0.0.1:0".parse()?)
        .start()
        .await?;
    sandbox.faults().set_latency("autodiscover", LATENCY);
    let dead = never_answering_listener().await?;

    let live = Endpoints::offline().route(
        "https://autodiscover.contoso.com/",
        sandbox.base_url().as_str(),
    )?;
    let with_dead = live.clone().route("https://contoso.com/", &dead)?;
    let live_ms = median_ms(&sandbox, &live).await?;
    let dead_ms = median_ms(&sandbox, &with_dead).await?;
    println!(
        "Autodiscover of {} with {} ms per request, median of {RUNS}: live candidates only {live_ms:.0} ms, \
         with https://contoso.com/ never answering {dead_ms:.0} ms",
        demo::ADELE,
        LATENCY.as_millis()
    );
    println!(
        "flow autodiscover-dead-candidate: {dead_ms:.0} ms, live {live_ms:.0} ms, ratio {:.2}",
        dead_ms / live_ms
    );
    Ok(())
}

/// Accepts TCP connections and holds them open without a byte: the TLS handshake never completes.
async fn never_answering_listener() -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("https://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    Ok(base)
}

async fn median_ms(sandbox: &SandboxHandle, endpoints: &Endpoints) -> anyhow::Result<f64> {
    let trust = Trust::only(sandbox.ca_pem().unwrap_or_default());
    let credentials = Credentials::Password {
        username: demo::SERVICE_ACCOUNT_UPN.into(),
        password: SecretString::from(demo::SERVICE_ACCOUNT_PASSWORD),
    };
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        // A fresh client each time, as each run of the test has: no connection kept from the last one.
        let http = tls::http_client(&trust, CANDIDATE_TIMEOUT, endpoints)?;
        let autodiscover = Autodiscover::new(
            http,
            endpoints.clone(),
            Arc::new(NoSrvResolver),
            RequestLog::default(),
            CANDIDATE_TIMEOUT,
        );
        let started = Instant::now();
        let discovery = autodiscover.discover(demo::ADELE, &credentials).await;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            discovery.ews_url.is_some(),
            "Autodiscover found no EWS URL: {:?}",
            discovery.attempts
        );
        times.push(elapsed.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}
