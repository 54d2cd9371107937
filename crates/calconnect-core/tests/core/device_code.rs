use std::sync::{Arc, Mutex};
use std::time::Duration;

use calconnect_core::ErrorKind;
use calconnect_identity::{AccessLevel, AppKind, PollState};
use calconnect_sandbox::demo;
use calconnect_sandbox::person::Consent;

use crate::support::Bench;

#[tokio::test]
async fn full_app_device_code_sign_in_connects_and_loads_calendars() {
    let bench = Bench::start().await;

    let connected = bench
        .connect_device_code(AppKind::Full, demo::ADELE, Consent::Approve)
        .await
        .expect("sign-in succeeds");

    assert_eq!(connected.account.access, AccessLevel::Full);
    assert!(connected.calendars.len() > 1);
}

#[tokio::test]
async fn free_busy_app_device_code_sign_in_connects_a_free_busy_account() {
    let bench = Bench::start().await;

    let connected = bench
        .connect_device_code(AppKind::FreeBusy, demo::MEGAN, Consent::Approve)
        .await
        .expect("sign-in succeeds");

    assert_eq!(connected.account.access, AccessLevel::FreeBusy);
    assert_eq!(connected.account.user.email, demo::MEGAN);
}

#[tokio::test]
async fn the_prompt_shows_code_uri_and_remaining_time_and_progress_counts_down() {
    let bench = Bench::start().await;
    let pending = bench
        .core
        .start_device_code(AppKind::FreeBusy)
        .await
        .unwrap();
    let prompt = pending.prompt().clone();
    assert!(!prompt.user_code.is_empty());
    assert_eq!(prompt.verification_uri.path(), "/devicelogin");
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let person = bench.person.clone();
    let user_code = prompt.user_code.clone();
    let entering = tokio::spawn(async move {
        // Let a few polls come back pending before the person finishes.
        tokio::time::sleep(Duration::from_millis(60)).await;
        person
            .enter_device_code(&user_code, demo::ADELE, Consent::Approve)
            .await
    });

    pending
        .finish(move |progress| sink.lock().unwrap().push(progress))
        .await
        .expect("sign-in succeeds");
    entering.await.unwrap().unwrap();

    let reports = reports.lock().unwrap();
    assert!(reports.len() >= 2, "{reports:?}");
    assert!(
        reports
            .windows(2)
            .all(|pair| pair[1].remaining_seconds < pair[0].remaining_seconds),
        "time counts down: {reports:?}"
    );
    assert!(
        reports
            .iter()
            .any(|report| report.state == PollState::Pending),
        "{reports:?}"
    );
}

#[tokio::test]
async fn declining_on_the_device_page_stops_polling_with_a_declined_error() {
    let bench = Bench::start().await;

    let error = bench
        .connect_device_code(AppKind::Full, demo::ADELE, Consent::Decline)
        .await
        .unwrap_err();

    assert!(
        matches!(
            error.kind(),
            ErrorKind::DeviceCodeDeclined | ErrorKind::ConsentDeclined
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unentered_code_expires_with_a_clear_error() {
    let bench = Bench::start().await;
    let pending = bench.core.start_device_code(AppKind::Full).await.unwrap();

    let error = pending.finish(|_| {}).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::DeviceCodeExpired, "{error:?}");
    let slept: Duration = bench.time.sleeps().iter().sum();
    assert!(
        slept >= Duration::from_secs(14 * 60),
        "polled until the 15-minute lifetime ran out, slept {slept:?}"
    );
}

#[tokio::test]
async fn slow_down_adds_five_seconds_to_the_interval() {
    let bench = Bench::start().await;
    // The second wait is not mirrored to the sandbox, so the second poll arrives too early.
    bench.time.skip_mirroring_sleep(2);
    let pending = bench
        .core
        .start_device_code(AppKind::FreeBusy)
        .await
        .unwrap();
    let interval = Duration::from_secs(pending.prompt().interval_seconds);
    let states = Arc::new(Mutex::new(Vec::new()));
    let sink = states.clone();
    let person = bench.person.clone();
    let user_code = pending.prompt().user_code.clone();
    let entering = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        person
            .enter_device_code(&user_code, demo::ADELE, Consent::Approve)
            .await
    });

    pending
        .finish(move |progress| sink.lock().unwrap().push(progress.state))
        .await
        .expect("sign-in succeeds");
    entering.await.unwrap().unwrap();

    let sleeps = bench.time.sleeps();
    assert_eq!(sleeps[0], interval);
    assert_eq!(sleeps[1], interval);
    assert_eq!(
        sleeps[2],
        interval + Duration::from_secs(5),
        "slow_down adds 5 s: {sleeps:?}"
    );
    assert!(states.lock().unwrap().contains(&PollState::SlowDown));
}

#[tokio::test]
async fn a_cancelled_device_code_sign_in_stops_polling() {
    let bench = Bench::start().await;
    let pending = bench.core.start_device_code(AppKind::Full).await.unwrap();
    let cancel = pending.cancel_token();
    let mut polls = 0;

    let error = pending
        .finish(move |_| {
            polls += 1;
            if polls == 3 {
                cancel.cancel();
            }
        })
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Cancelled);
    assert!(
        bench.routes("token") <= 2,
        "no poll after cancelling:\n{}",
        bench.journal_text()
    );
}

#[tokio::test]
async fn conditional_access_on_the_device_code_offers_the_browser() {
    let bench = Bench::start().await;

    let error = bench
        .connect_device_code(AppKind::Full, demo::ALEX, Consent::Approve)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::ConditionalAccess, "{error:?}");
    assert!(
        error.suggests_browser(),
        "AADSTS53003 on the device code suggests the browser"
    );
    assert!(error.trace_id().is_some());
}
