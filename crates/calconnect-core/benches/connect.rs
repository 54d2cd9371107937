//! Prints how long connecting takes when every Microsoft round trip costs a fixed latency:
//! sequential round trips and wall time from the browser's redirect to loaded calendars, and the
//! wall time of a one-year free/busy read. Run with `cargo bench -p calconnect-core`.
//!
//! The `flow ...` lines are the ones `scripts/bench.sh` prints beside its footprint figures; the others say where
//! the time went (when each request after the redirect was answered, relative to the redirect).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use calconnect_core::{Calconnect, Config, Options};
use calconnect_identity::{AppKind, BrowserOpener};
use calconnect_sandbox::person::{Consent, Person};
use calconnect_sandbox::{demo, Sandbox};
use url::Url;

const LATENCY: Duration = Duration::from_millis(100);
const ROUTES: &[&str] = &[
    "discovery",
    "authorize",
    "login",
    "token",
    "graph.me",
    "graph.calendars",
    "graph.getSchedule",
];

/// Plays the person and notes the instant the redirect is handed to the loopback listener.
/// When the browser's redirect came back: a monotonic instant for the wall time, and the clock time the
/// sandbox's journal is stamped with, for the per-step timings.
type Redirect = (Instant, chrono::DateTime<chrono::Utc>);

struct TimedPerson {
    person: Person,
    email: Arc<Mutex<String>>,
    redirected_at: Arc<Mutex<Option<Redirect>>>,
}

impl BrowserOpener for TimedPerson {
    fn open(&self, url: &Url) -> std::io::Result<()> {
        let person = self.person.clone();
        let redirected_at = self.redirected_at.clone();
        let email = self.email.lock().unwrap().clone();
        let url = url.clone();
        tokio::spawn(async move {
            let location = person
                .sign_in(&url, &email, Consent::Approve)
                .await
                .expect("person signs in");
            *redirected_at.lock().unwrap() = Some((Instant::now(), chrono::Utc::now()));
            person.follow(&location).await.expect("redirect delivered");
        });
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let sandbox = Sandbox::builder().start().await?;
    for route in ROUTES {
        sandbox.faults().set_latency(route, LATENCY);
    }
    let directory = tempfile::tempdir()?;
    let config = Config {
        authority: Some(sandbox.base_url()),
        graph: Some(sandbox.base_url()),
        tenant: demo::DOMAIN.to_owned(),
        full_client_id: Some(demo::FULL_APP_CLIENT_ID.to_owned()),
        freebusy_client_id: Some(demo::FREEBUSY_APP_CLIENT_ID.to_owned()),
        ..Config::default()
    };
    let http = calconnect_identity::http_client(&sandbox.ca_pem().map_or_else(
        calconnect_identity::Trust::default,
        calconnect_identity::Trust::only,
    ))?;
    let redirected_at = Arc::new(Mutex::new(None));
    let email = Arc::new(Mutex::new(String::new()));
    let mut options = Options::new(
        config,
        directory.path().join("accounts.json"),
        Arc::new(calconnect_vault::MemoryStore::new()),
        http,
    );
    options.browser = Arc::new(TimedPerson {
        person: Person::new(&sandbox)?,
        email: email.clone(),
        redirected_at: redirected_at.clone(),
    });
    let core = Calconnect::new(options)?;
    println!("latency per Microsoft request: {} ms", LATENCY.as_millis());

    let mut adele = None;
    for user in [demo::ADELE, demo::MEGAN] {
        *email.lock().unwrap() = user.to_owned();
        let pending = core.start_browser_sign_in(AppKind::Full).await?;
        let journal_before = sandbox.journal().len();
        let connected = pending.finish().await?;
        let (redirect_instant, redirect_time) =
            redirected_at.lock().unwrap().expect("redirect happened");
        let redirect_to_loaded = redirect_instant.elapsed();
        let after_redirect: Vec<_> = sandbox.journal()[journal_before..]
            .iter()
            .filter(|entry| entry.route == "token" || entry.route.starts_with("graph."))
            .cloned()
            .collect();
        let sequential = (redirect_to_loaded.as_secs_f64() / LATENCY.as_secs_f64()).floor();
        let wall_ms = redirect_to_loaded.as_secs_f64() * 1000.0;
        println!(
            "{user}: redirect -> {} calendars loaded in {wall_ms:.0} ms wall, {} sequential round trips; requests: {}",
            connected.calendars.len(),
            sequential,
            after_redirect
                .iter()
                .map(|entry| entry.route.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
        // Per step: when the sandbox answered each request, counted from the redirect (its latency included).
        println!(
            "{user}: answered after the redirect: {}, connected +{wall_ms:.0} ms",
            after_redirect
                .iter()
                .map(|entry| format!(
                    "{} +{} ms",
                    entry.route,
                    (entry.timestamp - redirect_time).num_milliseconds()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let floor = LATENCY * 2;
        if user == demo::ADELE {
            println!(
                "flow redirect-to-calendars: {wall_ms:.0} ms, floor {} ms, ratio {:.2}",
                floor.as_millis(),
                redirect_to_loaded.as_secs_f64() / floor.as_secs_f64()
            );
        } else {
            // Whole latency units on the critical path (the code's round trip, then /me beside every page).
            let round_trips = (redirect_to_loaded.as_secs_f64() / LATENCY.as_secs_f64()).round();
            // The goal: the code's round trip, then every calendar in one page beside /me.
            const GOAL_ROUND_TRIPS: f64 = 2.0;
            println!(
                "flow calendars-{}: {round_trips} round trips, goal {GOAL_ROUND_TRIPS}, ratio {:.2}",
                connected.calendars.len(),
                round_trips / GOAL_ROUND_TRIPS
            );
        }
        adele.get_or_insert(connected);
    }
    let connected = adele.expect("adele connected");

    let start = chrono::Utc::now();
    let started = Instant::now();
    let schedule_before = sandbox
        .journal()
        .iter()
        .filter(|entry| entry.route == "graph.getSchedule")
        .count();
    let free_busy = core
        .free_busy(
            &connected.account.id,
            start,
            start + chrono::Duration::days(365),
        )
        .await?;
    let elapsed = started.elapsed();
    let requests = sandbox
        .journal()
        .iter()
        .filter(|entry| entry.route == "graph.getSchedule")
        .count()
        - schedule_before;
    println!(
        "free/busy for one year: {:.0} ms wall, {} getSchedule requests (at most 4 in flight), {} busy blocks",
        elapsed.as_secs_f64() * 1000.0,
        requests,
        free_busy.blocks.len()
    );
    // Six windows under 62 days, four in flight: two waves of one round trip each.
    let floor = LATENCY * 2;
    println!(
        "flow freebusy-year: {:.0} ms, floor {} ms, ratio {:.2}",
        elapsed.as_secs_f64() * 1000.0,
        floor.as_millis(),
        elapsed.as_secs_f64() / floor.as_secs_f64()
    );
    Ok(())
}
