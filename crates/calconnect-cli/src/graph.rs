//! `calconnect graph-test`: the admin's Graph Enterprise Connect test, step by step, then the verdict.

use anyhow::Context;
use calconnect_core::graph_test::{self, GraphLevel, GraphReport, GraphTestConfig};
use calconnect_core::Config;

use crate::args::GraphTestArgs;

/// Runs the test; `Ok(true)` when the expected level (or, without `--expect`, any access) was reached.
pub async fn run(
    args: &GraphTestArgs,
    config: &Config,
    http: &reqwest::Client,
    json_output: bool,
) -> anyhow::Result<bool> {
    let expected = match args.expect.as_deref() {
        None => None,
        Some("full") => Some(GraphLevel::Full),
        Some("restricted") => Some(GraphLevel::Restricted),
        Some("free-busy" | "freebusy") => Some(GraphLevel::FreeBusy),
        Some(other) => anyhow::bail!("--expect takes full, restricted or free-busy, not {other:?}"),
    };
    let (credential, authority, endpoints) = crate::admin::app_sign_in(
        config,
        &args.client_id,
        &args.tenant_id,
        args.certificate.as_deref(),
        args.secret_stdin,
    )?;
    let test = GraphTestConfig {
        authority,
        graph: endpoints.graph,
        graph_resource: endpoints.graph_resource,
        client_id: args.client_id.trim().to_owned(),
        credential,
        mailbox: args.mailbox.trim().to_owned(),
        write_test: args.write_test,
        timeout: std::time::Duration::from_secs(30),
    };
    let progress = crate::admin::step_printer(json_output);
    let report = graph_test::run(http, &test, chrono::Utc::now(), &progress).await;
    if let Some(path) = &args.export_json {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.export_text {
        std::fs::write(path, report.to_text())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if json_output {
        println!("{}", report.to_json());
    } else {
        print_verdict(&report);
    }
    Ok(match expected {
        Some(level) => report.level >= level,
        None => report.level != GraphLevel::None,
    })
}

fn print_verdict(report: &GraphReport) {
    println!();
    println!("Access: {}", report.level.label());
    println!("{}", report.summary);
    for line in &report.vendor_can {
        println!("  can:    {line}");
    }
    for line in &report.vendor_cannot {
        println!("  cannot: {line}");
    }
    crate::admin::print_fixes(&report.fixes);
}
