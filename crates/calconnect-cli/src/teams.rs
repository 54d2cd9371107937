//! `calconnect teams-test`: the admin's Enterprise Teams test, printed step by step, then the verdict.

use calconnect_core::teams_test::{self, TeamsReport, TeamsTestConfig};
use calconnect_core::Config;

use crate::args::TeamsTestArgs;

/// Runs the test; `Ok(true)` when a meeting could be created on the user's behalf.
pub async fn run(
    args: &TeamsTestArgs,
    config: &Config,
    http: &reqwest::Client,
    json_output: bool,
) -> anyhow::Result<bool> {
    let (credential, authority, endpoints) = crate::admin::app_sign_in(
        config,
        &args.client_id,
        &args.tenant_id,
        args.certificate.as_deref(),
        args.secret_stdin,
    )?;
    let test = TeamsTestConfig {
        authority,
        graph: endpoints.graph,
        graph_resource: endpoints.graph_resource,
        client_id: args.client_id.trim().to_owned(),
        credential,
        user: args.user.clone(),
        timeout: std::time::Duration::from_secs(30),
    };
    let progress = crate::admin::step_printer(json_output);
    let report = teams_test::run(http, &test, chrono::Utc::now(), &progress).await;
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
    Ok(report.passed)
}

fn print_verdict(report: &TeamsReport) {
    println!();
    println!("{}", report.summary);
    crate::admin::print_fixes(&report.fixes);
}
