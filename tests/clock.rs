//! The wall clock cannot hurt a press: the daemon (the built binary, simulated button)
//! with libfaketime moving its wall clock and the preload shim saying whether the
//! kernel reports it synchronised, against a real HTTP receiver on 127.0.0.1.

use std::time::{Duration, Instant};

use crate::util::daemon::{Setup, accepted_json, until, until_or_show};
use crate::util::preload::Clock;
use crate::util::receiver::Receiver;

/// Whether any event line of run 1 says a delivery is being retried.
fn retrying(setup: &Setup) -> bool {
    setup
        .event_lines(1)
        .iter()
        .any(|e| e["outcome"] == "retrying")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_press_while_the_clock_is_10_h_behind_reads_its_real_time_after_the_sync() {
    let mut r = Receiver::start().await;
    let mut setup = Setup::new(&[("lab", r.url("/hook"))], "expire_after_s = 3600");
    // A Pi after a weekend unplugged: fake-hwclock's time, 10 h behind, no NTP yet.
    let clock = Clock::new(setup.dir.path(), "-10h", false);
    setup.env = clock.env();
    let mut daemon = setup.start(1);

    // Sent before the clock is right: no time at all rather than a wrong one.
    daemon.send("press\n");
    until("the first delivery", || r.accepted().len() == 1).await;
    let early = &accepted_json(&r, "/hook")[0];
    assert_eq!(early["body"], "Pressed at just now.", "{early}");
    assert!(early["created"].is_null(), "{early}");

    // The network goes down; a press (after the first one's release has settled);
    // then NTP steps the clock 10 h forward.
    r.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pressed = jiff::Timestamp::now();
    daemon.send("press\n");
    until_or_show(
        "a failed attempt",
        || retrying(&setup),
        || setup.diagnosis(1),
    )
    .await;
    clock.set_offset("+0");
    clock.set_synced(true);
    let back = Receiver::start_on(r.port, std::sync::Arc::clone(&r.received)).await;
    until_or_show(
        "the second delivery",
        || back.accepted().len() == 2,
        || setup.diagnosis(1),
    )
    .await;
    let late = &accepted_json(&back, "/hook")[1];
    let created: jiff::Timestamp = late["created"]
        .as_str()
        .expect("a time, now that the clock is right")
        .parse()
        .expect("RFC 3339");
    let off = created.duration_since(pressed).abs();
    assert!(
        off < jiff::SignedDuration::from_secs(5),
        "the press's real time, not 10 h off: created {created}, pressed {pressed}"
    );
    let hhmm = created
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%H:%M");
    assert_eq!(late["body"], format!("Pressed at {hhmm}."), "{late}");
    // The outbox writer commits a moment after the delivery.
    until("the outcome recorded", || {
        setup.status()["pending"]["count"] == 0
    })
    .await;
    let status = setup.status();
    assert_eq!(
        status["announcements"][0]["deliveries"][0]["state"],
        "delivered"
    );
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("the kernel reports it synchronised"),
        "the log says when the clock became right: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_a_day_ahead_set_back_after_a_429_retries_within_seconds() {
    let r = Receiver::start().await;
    // Answers 429 with Retry-After: 2 once, then 200.
    let mut setup = Setup::new(&[("limited", r.url("/fail-first/1/429"))], "");
    let clock = Clock::new(setup.dir.path(), "+1d", true);
    setup.env = clock.env();
    let mut daemon = setup.start(1);
    daemon.send("press\n");
    until_or_show("the 429", || retrying(&setup), || setup.diagnosis(1)).await;
    let refused_at = r.requests()[0].at;
    // NTP finds the clock a day fast and sets it back.
    clock.set_offset("+0");
    let started = Instant::now();
    until_or_show(
        "the retry",
        || r.accepted().len() == 1,
        || setup.diagnosis(1),
    )
    .await;
    let waited = r.accepted()[0].at - refused_at;
    assert!(
        waited >= Duration::from_secs(2) && started.elapsed() < Duration::from_secs(10),
        "retried {waited:?} after the 429 (Retry-After: 2), not a day later"
    );
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
}
