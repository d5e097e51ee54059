//! The delivery shell on paused time: the timing rules as the daemon carries them out
//! (retries, Retry-After, expiry, a permanent failure beside a healthy sink), with the
//! real outbox writer in a temporary directory and sinks that answer from a script.
//! What takes seconds on a real clock takes milliseconds here; the same behaviour
//! against real HTTP servers is in tests/delivery.rs.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use super::*;
use crate::clock::Trust;
use crate::model::Announcement;
use crate::model::BoxFuture;
use crate::model::WallNow;
use crate::sinks::Sink;

/// A sink that answers from a script (then delivers), noting when each send came.
struct Scripted {
    name: &'static str,
    answers: Mutex<VecDeque<Result<(), SendError>>>,
    sends: Arc<Mutex<Vec<Instant>>>,
}

impl Sink for Scripted {
    fn name(&self) -> &str {
        self.name
    }

    fn kind(&self) -> &'static str {
        "scripted"
    }

    fn send<'a>(&'a self, _: &'a Announcement) -> BoxFuture<'a, Result<(), SendError>> {
        self.sends.lock().expect("lock").push(Instant::now());
        let answer = self.answers.lock().expect("lock").pop_front();
        Box::pin(async move { answer.unwrap_or(Ok(())) })
    }
}

/// A scripted sink and the log of its sends.
fn scripted(
    name: &'static str,
    answers: Vec<Result<(), SendError>>,
) -> (ConfiguredSink, Arc<Mutex<Vec<Instant>>>) {
    let sends = Arc::new(Mutex::new(Vec::new()));
    let sink = Scripted {
        name,
        answers: Mutex::new(answers.into()),
        sends: Arc::clone(&sends),
    };
    let configured = ConfiguredSink {
        sink: Arc::new(sink),
        timeout: Duration::from_secs(10),
    };
    (configured, sends)
}

fn retryable(retry_after: Option<u64>) -> Result<(), SendError> {
    Err(SendError::Retryable {
        message: "503 service unavailable".into(),
        retry_after: retry_after.map(Duration::from_secs),
    })
}

/// tokio's clock (paused in these tests) as the delivery time line, from the test's
/// first reading of it. The origin is tokio's own clock, per test thread (each
/// `#[tokio::test]` has one): a real-clock origin, or one shared by the tests, would be
/// later than this test's paused clock, and the core's time would sit at zero while
/// the test's clock moved on — under qemu by a second, so a send the core made just
/// before the expiry looked to the test like one after it.
fn paused_now() -> Duration {
    thread_local! {
        static ORIGIN: Instant = Instant::now();
    }
    ORIGIN.with(|origin| Instant::now().duration_since(*origin))
}

fn draft(id: &str) -> Draft {
    Draft {
        id: id.into(),
        action: "arrival".into(),
        device: "kitchen".into(),
        subject: "Doughnuts".into(),
        body: "At {time}.".into(),
        made: WallNow {
            now: jiff::Timestamp::now(),
            trusted: true,
        },
    }
}

/// Deliveries over `sinks` with retries 1..2 s apart and `expire_after`.
fn start(dir: &std::path::Path, sinks: Vec<ConfiguredSink>, expire_after: Duration) -> Deliveries {
    let started = Writer::start(dir.to_path_buf(), Duration::from_secs(5)).expect("writer");
    let settings = Settings {
        policy: Policy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(2),
            expire_after,
        },
        history: Duration::from_secs(86_400),
        now: paused_now,
        tz: jiff::tz::TimeZone::UTC,
    };
    Deliveries::start(sinks, started, WallClock::new(Trust::Always), settings)
}

/// Reports until `done` says enough.
async fn reports_until(
    deliveries: &mut Deliveries,
    mut done: impl FnMut(&[Report]) -> bool,
) -> Vec<Report> {
    let mut reports = Vec::new();
    while !done(&reports) {
        let report = tokio::time::timeout(Duration::from_secs(3600), deliveries.next_report())
            .await
            .expect("a report within an hour of virtual time");
        reports.push(report);
    }
    reports
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn retry_after_is_honoured_never_earlier_and_at_most_ten_percent_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sink, sends) = scripted("limited", vec![retryable(Some(2)), retryable(Some(2))]);
    let mut deliveries = start(dir.path(), vec![sink], Duration::from_secs(7200));
    deliveries.announce(draft("a1"));
    let reports = reports_until(&mut deliveries, |r| {
        r.last()
            .is_some_and(|r| r.state == DeliveryState::Delivered)
    })
    .await;
    let outcomes: Vec<(&str, u32)> = reports
        .iter()
        .map(|r| (r.state.outcome_name(), r.attempt))
        .collect();
    assert_eq!(
        outcomes,
        [("retrying", 1), ("retrying", 2), ("delivered", 3)]
    );
    let sends = sends.lock().expect("lock").clone();
    for pair in sends.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_secs(2) && gap <= Duration::from_millis(2200),
            "retried after {gap:?}; Retry-After said 2 s"
        );
    }
    deliveries.stop(Duration::from_secs(1), |_| {}).await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_delivery_that_cannot_succeed_in_time_expires_keeping_its_last_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sink, sends) = scripted("down", (0..100).map(|_| retryable(None)).collect());
    let mut deliveries = start(dir.path(), vec![sink], Duration::from_secs(8));
    let began = Instant::now();
    deliveries.announce(draft("a1"));
    let reports = reports_until(&mut deliveries, |r| {
        r.last().is_some_and(|r| r.state.is_final())
    })
    .await;
    let last = reports.last().expect("a report");
    assert_eq!(last.state, DeliveryState::Expired);
    let attempts = last.attempt;
    assert!(attempts >= 3, "retried 1..2 s apart for 8 s: {attempts}");
    assert_eq!(
        last.error.as_deref(),
        Some(format!("expired after {attempts} attempts; last: 503 service unavailable").as_str())
    );
    // Never sent after the expiry, and given up at it.
    let sends = sends.lock().expect("lock").clone();
    assert!(sends.iter().all(|&t| t - began < Duration::from_secs(8)));
    assert!(began.elapsed() >= Duration::from_secs(8));
    assert!(began.elapsed() < Duration::from_secs(10));
    deliveries.stop(Duration::from_secs(1), |_| {}).await;
    // The outbox says so too.
    let outbox = crate::outbox::Outbox::open_read_only(dir.path()).expect("outbox");
    let record = &outbox.recent(1).expect("recent")[0].deliveries[0];
    assert_eq!(record.state, DeliveryState::Expired);
    assert_eq!(record.last_error, last.error);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_permanent_failure_is_not_retried_and_holds_up_no_other_sink() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gone = Err(SendError::Permanent {
        message: "404 not found".into(),
    });
    let (bad, bad_sends) = scripted("gone", vec![gone.clone(), gone]);
    let (good, good_sends) = scripted("fine", vec![]);
    let mut deliveries = start(dir.path(), vec![bad, good], Duration::from_secs(7200));
    deliveries.announce(draft("a1"));
    deliveries.announce(draft("a2"));
    let reports = reports_until(&mut deliveries, |r| r.len() == 4).await;
    let mut outcomes: Vec<(&str, &str, &str)> = reports
        .iter()
        .map(|r| {
            (
                r.announcement.as_str(),
                r.sink.as_str(),
                r.state.outcome_name(),
            )
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("a1", "fine", "delivered"),
            ("a1", "gone", "failed"),
            ("a2", "fine", "delivered"),
            ("a2", "gone", "failed"),
        ]
    );
    // An hour later: still one attempt each.
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(bad_sends.lock().expect("lock").len(), 2);
    assert_eq!(good_sends.lock().expect("lock").len(), 2);
    deliveries.stop(Duration::from_secs(1), |_| {}).await;
}
