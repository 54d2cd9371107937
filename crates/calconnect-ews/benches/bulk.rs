//! Prints how long the service-account test takes over 200 mailboxes when every EWS round trip costs
//! 50 ms, against the floor: mailboxes × sequential probes × RTT ÷ concurrency. Run with
//! `cargo bench -p calconnect-ews --bench bulk`.
//!
//! The probes of a mailbox are sequential (each decides the next), so the floor counts each mailbox's
//! own operations. NTLM adds a NEGOTIATE round trip per connection it authenticates, not per operation:
//! later operations ride on an authenticated connection, as IIS allows by default (`persistent_auth`),
//! so the HTTP requests column stays close to the operations column; the Basic row shows the same run
//! without handshakes.
//!
//! With `--flow` (as `scripts/bench.sh` runs it) only the run's defaults are measured, NTLM at
//! [`DEFAULT_CONCURRENCY`], and printed as its `flow bulk-mailboxes-200` line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use calconnect_ews::auth::Credentials;
use calconnect_ews::clock::TokioSleeper;
use calconnect_ews::diagnostics::{
    run, Environment, Report, SilentReporter, TestConfig, DEFAULT_CONCURRENCY,
};
use calconnect_ews::endpoints::Endpoints;
use calconnect_ews::tls::Trust;
use calconnect_sandbox::tenant::AuthMethod;
use calconnect_sandbox::{demo, Sandbox, Tenant};
use secrecy::SecretString;

const MAILBOXES: usize = 200;
const LATENCY: Duration = Duration::from_millis(50);

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench` to a harness-less bench; only `--flow` means anything here.
    if std::env::args().any(|argument| argument == "--flow") {
        let (floor, wall) = measure("NTLM", vec![AuthMethod::Ntlm], DEFAULT_CONCURRENCY).await?;
        println!(
            "flow bulk-mailboxes-{MAILBOXES}: {:.0} ms, floor {:.0} ms, ratio {:.2}",
            wall.as_secs_f64() * 1000.0,
            floor.as_secs_f64() * 1000.0,
            wall.as_secs_f64() / floor.as_secs_f64()
        );
        return Ok(());
    }
    println!(
        "service-account test over {MAILBOXES} mailboxes, {} ms per EWS round trip",
        LATENCY.as_millis()
    );
    println!(
        "{:<8} {:>11} {:>10} {:>9} {:>9} {:>7} {:>11}",
        "scheme", "concurrency", "operations", "requests", "floor", "wall", "wall/floor"
    );
    for (scheme, methods) in [
        ("NTLM", vec![AuthMethod::Ntlm]),
        ("Basic", vec![AuthMethod::Basic]),
    ] {
        for concurrency in [1, 8, 16] {
            if scheme == "NTLM" || concurrency == 8 {
                measure(scheme, methods.clone(), concurrency).await?;
            }
        }
    }
    Ok(())
}

/// Runs the test once and prints its row; returns (floor, wall).
async fn measure(
    scheme: &str,
    methods: Vec<AuthMethod>,
    concurrency: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let mut tenant = Tenant::demo().with_bulk_mailboxes(MAILBOXES);
    tenant.exchange.authentication = Some(methods);
    let sandbox = Sandbox::builder()
        .tenant(tenant)
        .tls(true)
        .bind("127.0.0.1:0".parse()?)
        .start()
        .await?;
    sandbox.faults().set_latency("ews", LATENCY);
    let mailboxes: Vec<String> = (1..=MAILBOXES)
        .map(|index| format!("bulk{index:03}@{}", demo::DOMAIN))
        .collect();
    let mut config = TestConfig::with_mailboxes(
        Credentials::Password {
            username: demo::SERVICE_ACCOUNT_UPN.into(),
            password: SecretString::from(demo::SERVICE_ACCOUNT_PASSWORD),
        },
        mailboxes,
    );
    config.ews_url = Some(sandbox.ews_url());
    config.concurrency = concurrency;
    config.environment = Environment {
        endpoints: Endpoints::offline(),
        trust: Trust::only(sandbox.ca_pem().unwrap_or_default()),
        sleeper: Arc::new(TokioSleeper),
        ..Environment::default()
    };

    let started = Instant::now();
    let report = run(&config, &SilentReporter).await;
    let wall = started.elapsed();
    let (operations, requests) = counts(&report);
    // The mailboxes' probes only: the shared steps run once, before them.
    let floor = LATENCY.mul_f64(operations as f64 / concurrency as f64);
    println!(
        "{scheme:<8} {concurrency:>11} {operations:>10} {requests:>9} {:>8.2}s {:>6.2}s {:>10.2}x",
        floor.as_secs_f64(),
        wall.as_secs_f64(),
        wall.as_secs_f64() / floor.as_secs_f64()
    );
    Ok((floor, wall))
}

/// EWS operations and HTTP requests the mailboxes' probes made.
fn counts(report: &Report) -> (usize, usize) {
    let records: Vec<_> = report
        .mailboxes
        .iter()
        .flat_map(|mailbox| &mailbox.steps)
        .flat_map(|step| &step.requests)
        .collect();
    let operations = records
        .iter()
        .filter(|record| !record.operation.contains("negotiate"))
        .count();
    (operations, records.len())
}
