//! `calconnect graph-test`: the admin's Graph Enterprise Connect test, step by step, then the verdict.

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
    crate::admin::write_exports(
        args.export_json.as_deref(),
        args.export_text.as_deref(),
        || report.to_json(),
        || report.to_text(),
    )?;
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

/// The Free/Busy variant: getSchedule for the test mailbox and the `--also` addresses with the admin's
/// delegated token (`Calendars.ReadBasic User.Read offline_access`). Only status, start and end come back
/// and are kept (seed 001). `Ok(true)` when the test mailbox's schedule was read.
pub async fn free_busy(
    core: &calconnect_core::Calconnect,
    account: &calconnect_core::Account,
    args: &GraphTestArgs,
    json_output: bool,
) -> anyhow::Result<bool> {
    let mut addresses = vec![args.mailbox.trim().to_owned()];
    addresses.extend(args.also.iter().map(|address| address.trim().to_owned()));
    if addresses.len() > calconnect_graph::MAX_SCHEDULES_PER_REQUEST {
        anyhow::bail!(
            "getSchedule reads at most {} schedules per request (a distribution list's members count too): give at most {} addresses with --also",
            calconnect_graph::MAX_SCHEDULES_PER_REQUEST,
            calconnect_graph::MAX_SCHEDULES_PER_REQUEST - 1
        );
    }
    let start = chrono::Utc::now();
    let outcomes = core
        .schedules(
            &account.id,
            &addresses,
            start,
            start + chrono::Duration::days(7),
        )
        .await?;
    let read = outcomes
        .first()
        .is_some_and(|outcome| outcome.blocks.is_ok());
    let schedules: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|outcome| match &outcome.blocks {
            Ok(blocks) => serde_json::json!({ "schedule": outcome.schedule, "busyBlocks": blocks }),
            Err(error) => serde_json::json!({ "schedule": outcome.schedule, "error": error }),
        })
        .collect();
    let summary = if read {
        format!(
            "Free-busy only: signed in as {} with the Free/Busy app, getSchedule read {} of {} schedule(s); Graph may return more, only status, start and end are kept",
            account.user.email,
            outcomes.iter().filter(|outcome| outcome.blocks.is_ok()).count(),
            outcomes.len()
        )
    } else {
        format!("None: the schedule of {} could not be read", args.mailbox)
    };
    if json_output {
        crate::output::print_json(&serde_json::json!({
            "app": "free-busy",
            "admin": account.user.email,
            "level": if read { "freeBusy" } else { "none" },
            "summary": summary,
            "kept": ["status", "start", "end"],
            "schedules": schedules,
        }));
    } else {
        println!();
        for outcome in &outcomes {
            match &outcome.blocks {
                Ok(blocks) => println!(
                    "  {}: {} busy block(s) (status, start, end)",
                    outcome.schedule,
                    blocks.len()
                ),
                Err(error) => println!("  {}: {error}", outcome.schedule),
            }
        }
        println!();
        println!("{summary}");
    }
    Ok(read)
}
