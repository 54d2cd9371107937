use std::time::Duration;

use calconnect_identity::AppKind;
use calconnect_sandbox::demo;
use chrono::Utc;

use crate::support::{Bench, BenchOptions};

#[tokio::test]
async fn megans_25_calendars_are_read_in_one_page_and_again_without_duplicates() {
    let bench = Bench::start().await;

    let connected = bench
        .connect_browser(AppKind::Full, demo::MEGAN)
        .await
        .expect("sign-in succeeds");

    // Graph (and the sandbox) page 10 by default; the client asks for 100 (paging itself: calconnect-graph's tests).
    assert_eq!(connected.calendars.len(), 25);
    assert_eq!(
        bench.routes("graph.calendars"),
        1,
        "one page holds them all:\n{}",
        bench.journal_text()
    );
    let again = bench.core.calendars(&connected.account.id).await.unwrap();
    assert_eq!(again.len(), connected.calendars.len());
    let mut ids: Vec<&str> = again.iter().map(|calendar| calendar.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), again.len(), "no calendar twice");
}

#[tokio::test]
async fn throttled_calendar_requests_wait_for_retry_after_and_succeed() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    bench
        .sandbox
        .faults()
        .throttle("graph.calendars", 429, 7, 1);

    let calendars = bench
        .core
        .calendars(&connected.account.id)
        .await
        .expect("retried after throttling");

    assert_eq!(calendars.len(), connected.calendars.len());
    assert!(
        bench.time.sleeps().contains(&Duration::from_secs(7)),
        "Retry-After honoured: {:?}",
        bench.time.sleeps()
    );
}

#[tokio::test]
async fn a_free_busy_year_is_fetched_in_chunks_within_graphs_62_day_limit() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::FreeBusy, demo::ADELE)
        .await
        .unwrap();
    let start = Utc::now() - chrono::Duration::days(7);
    let end = start + chrono::Duration::days(365);

    let free_busy = bench
        .core
        .free_busy(&connected.account.id, start, end)
        .await
        .expect("free/busy loads");

    assert_eq!(free_busy.calendar.name, "Free Busy");
    assert!(!free_busy.blocks.is_empty(), "Adele has a busy week");
    assert!(
        bench.routes("graph.getSchedule") >= 6,
        "365 days need at least 6 requests:\n{}",
        bench.journal_text()
    );
    assert!(
        free_busy
            .blocks
            .windows(2)
            .all(|pair| pair[0].start <= pair[1].start),
        "merged in order"
    );
    assert!(free_busy.blocks.iter().all(|block| block.status != "free"));
}

#[tokio::test]
async fn a_full_account_can_read_its_own_free_busy_too() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    let start = Utc::now() - chrono::Duration::days(7);

    let free_busy = bench
        .core
        .free_busy(
            &connected.account.id,
            start,
            start + chrono::Duration::days(14),
        )
        .await
        .unwrap();

    assert!(!free_busy.blocks.is_empty());
}

#[tokio::test]
async fn an_empty_range_is_rejected_before_any_request() {
    let bench = Bench::start().await;
    let connected = bench
        .connect_browser(AppKind::FreeBusy, demo::ADELE)
        .await
        .unwrap();
    let now = Utc::now();

    let error = bench
        .core
        .free_busy(&connected.account.id, now, now)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), calconnect_core::ErrorKind::Configuration);
    assert_eq!(bench.routes("graph.getSchedule"), 0);
}

/// Microsoft's pages disagree on whether getSchedule takes Calendars.ReadBasic (facts §0); where it is
/// refused, a Free/Busy account still shows its own busy times, read from `/me/calendarView`.
#[tokio::test]
async fn a_free_busy_account_refused_get_schedule_reads_the_same_busy_blocks_from_calendar_view() {
    let mut tenant = calconnect_sandbox::Tenant::demo();
    tenant.graph.get_schedule_requires = Some("Calendars.Read".to_owned());
    let bench = Bench::start_with(BenchOptions {
        sandbox_tenant: Some(tenant),
        ..BenchOptions::default()
    })
    .await;
    let free_busy_account = bench
        .connect_browser(AppKind::FreeBusy, demo::ADELE)
        .await
        .unwrap();
    let full_account = bench
        .connect_browser(AppKind::Full, demo::ADELE)
        .await
        .unwrap();
    let start = calconnect_sandbox::tenant::week_start(Utc::now()) - chrono::Duration::days(7);
    let end = start + chrono::Duration::days(21);

    let fallback = bench
        .core
        .free_busy(&free_busy_account.account.id, start, end)
        .await
        .expect("free/busy survives getSchedule's 403");
    let reference = bench
        .core
        .free_busy(&full_account.account.id, start, end)
        .await
        .expect("Calendars.ReadWrite may call getSchedule");

    assert_eq!(
        fallback.source,
        calconnect_core::FreeBusySource::CalendarView
    );
    assert_eq!(
        reference.source,
        calconnect_core::FreeBusySource::GetSchedule
    );
    assert!(!fallback.blocks.is_empty(), "Adele has a busy week");
    assert_eq!(
        fallback.blocks, reference.blocks,
        "calendarView gives the blocks getSchedule gives"
    );
    assert!(fallback.blocks.iter().all(|block| block.status != "free"));
    let journal = bench.journal_text();
    assert!(
        journal.contains("graph.getSchedule") && journal.contains(" 403 "),
        "{journal}"
    );
    let view_requests: Vec<_> = bench
        .sandbox
        .journal()
        .into_iter()
        .filter(|entry| entry.route == "graph.calendarView")
        .collect();
    assert!(!view_requests.is_empty(), "{journal}");
    assert!(
        view_requests.iter().all(|entry| entry.status == 200
            && entry
                .query
                .as_deref()
                .is_some_and(|query| query.contains("select=showAs"))),
        "{journal}"
    );
}
