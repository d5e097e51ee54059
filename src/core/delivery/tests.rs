//! The delivery core on virtual time: one test per rule, then properties over random
//! histories (order per sink, never before a `Retry-After`, never after expiry,
//! exactly one final outcome per delivery).

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::model::DeliveryState;

fn s(v: u64) -> Duration {
    Duration::from_secs(v)
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn policy() -> Policy {
    Policy {
        initial: s(2),
        max: s(300),
        expire_after: s(7200),
    }
}

fn core(sinks: usize) -> Delivery<&'static str> {
    Delivery::new(policy(), sinks, fastrand::Rng::with_seed(7))
}

/// Everything `poll` has to do at `now`.
fn drain(d: &mut Delivery<&'static str>, now: Duration) -> Vec<Action<&'static str>> {
    std::iter::from_fn(|| d.poll(now)).collect()
}

fn sends(actions: &[Action<&'static str>]) -> Vec<(usize, &'static str, u32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send {
                sink,
                payload,
                attempt,
                ..
            } => Some((sink.0, *payload, *attempt)),
            Action::Outcome(_) => None,
        })
        .collect()
}

fn outcomes(actions: &[Action<&'static str>]) -> Vec<(usize, &'static str, &'static str)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Outcome(o) => Some((o.sink.0, o.payload, o.state.outcome_name())),
            Action::Send { .. } => None,
        })
        .collect()
}

fn retryable(retry_after: Option<Duration>) -> Attempt {
    Attempt::Retryable {
        error: "connection refused".into(),
        retry_after,
    }
}

#[test]
fn an_announcement_goes_to_every_sink_at_once() {
    let mut d = core(3);
    d.announce(s(10), "a");
    let actions = drain(&mut d, s(10));
    assert_eq!(sends(&actions), [(0, "a", 1), (1, "a", 1), (2, "a", 1)]);
    assert_eq!(d.deadline(), None, "only sends in flight: no timer");
    for sink in 0..3 {
        d.on_attempt(ms(10_050), SinkId(sink), Attempt::Delivered);
    }
    let done = drain(&mut d, ms(10_050));
    assert_eq!(
        outcomes(&done),
        [
            (0, "a", "delivered"),
            (1, "a", "delivered"),
            (2, "a", "delivered")
        ]
    );
    let Action::Outcome(first) = &done[0] else {
        panic!("an outcome")
    };
    assert_eq!((first.attempts, first.age), (1, ms(50)));
    assert_eq!(d.pending_count(), 0);
    assert_eq!(d.deadline(), None, "idle: no timer");
}

#[test]
fn a_sink_sends_in_order_one_at_a_time() {
    let mut d = core(1);
    d.announce(s(1), "a");
    d.announce(s(2), "b");
    assert_eq!(sends(&drain(&mut d, s(2))), [(0, "a", 1)]);
    d.on_attempt(s(3), SinkId(0), Attempt::Delivered);
    let next = drain(&mut d, s(3));
    assert_eq!(outcomes(&next), [(0, "a", "delivered")]);
    assert_eq!(sends(&next), [(0, "b", 1)]);
}

#[test]
fn one_slow_sink_never_holds_up_another() {
    let mut d = core(2);
    d.announce(s(1), "a");
    d.announce(s(1), "b");
    assert_eq!(sends(&drain(&mut d, s(1))), [(0, "a", 1), (1, "a", 1)]);
    // Sink 1 answers; sink 0 is still sending "a".
    d.on_attempt(s(2), SinkId(1), Attempt::Delivered);
    assert_eq!(sends(&drain(&mut d, s(2))), [(1, "b", 1)]);
}

#[test]
fn a_retryable_failure_pauses_the_sink_for_the_backoff() {
    let mut d = core(1);
    d.announce(s(0), "a");
    d.announce(s(0), "b");
    drain(&mut d, s(0));
    d.on_attempt(s(1), SinkId(0), retryable(None));
    let actions = drain(&mut d, s(1));
    let [Action::Outcome(o)] = actions.as_slice() else {
        panic!("one outcome: {actions:?}")
    };
    let (DeliveryState::Pending, Some(wait)) = (o.state, o.retry_in) else {
        panic!("retrying: {o:?}")
    };
    assert!(wait <= policy().ceiling(1), "{wait:?}");
    assert_eq!(o.error.as_deref(), Some("connection refused"));
    assert_eq!(d.deadline(), Some(s(1) + wait));
    // Nothing goes before the wait, not even the next announcement.
    assert!(drain(&mut d, s(1) + wait - ms(1)).is_empty());
    assert_eq!(sends(&drain(&mut d, s(1) + wait)), [(0, "a", 2)]);
}

#[test]
fn retry_after_is_a_floor_with_at_most_ten_percent_more() {
    let mut d = core(1);
    d.announce(s(0), "a");
    drain(&mut d, s(0));
    d.on_attempt(s(0), SinkId(0), retryable(Some(s(2))));
    drain(&mut d, s(0));
    let due = d.deadline().expect("a retry is due");
    assert!(due >= s(2) && due <= ms(2200), "{due:?}");
    assert!(drain(&mut d, due - ms(1)).is_empty());
    assert_eq!(sends(&drain(&mut d, due)), [(0, "a", 2)]);
}

#[test]
fn a_permanent_failure_is_final_and_the_next_goes_at_once() {
    let mut d = core(1);
    d.announce(s(0), "a");
    d.announce(s(0), "b");
    drain(&mut d, s(0));
    d.on_attempt(
        s(1),
        SinkId(0),
        Attempt::Permanent {
            error: "404 not found".into(),
        },
    );
    let actions = drain(&mut d, s(1));
    assert_eq!(outcomes(&actions), [(0, "a", "failed")]);
    assert_eq!(sends(&actions), [(0, "b", 1)]);
}

#[test]
fn expiry_counts_the_age_and_keeps_the_last_error() {
    let mut d = core(1);
    d.announce(s(0), "a");
    drain(&mut d, s(0));
    // Fail until the retries would run past the expiry.
    let mut now = s(0);
    loop {
        now += s(1);
        d.on_attempt(now, SinkId(0), retryable(Some(s(3000))));
        let actions = drain(&mut d, now);
        let Some(Action::Outcome(o)) = actions.first() else {
            panic!("{actions:?}")
        };
        if (o.state, o.retry_in) == (DeliveryState::Pending, None) {
            break;
        }
        now = d.deadline().expect("retry");
        assert_eq!(sends(&drain(&mut d, now)).len(), 1);
    }
    // Waits for the expiry, then gives up without another send.
    assert_eq!(d.deadline(), Some(s(7200)));
    assert!(drain(&mut d, s(7199)).is_empty());
    let actions = drain(&mut d, s(7200));
    let [Action::Outcome(o)] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    assert_eq!(o.state, DeliveryState::Expired);
    assert_eq!(o.age, s(7200));
    assert_eq!(
        o.error.as_deref(),
        Some("expired after 3 attempts; last: connection refused")
    );
    assert_eq!(d.deadline(), None);
}

#[test]
fn a_delivery_behind_a_failing_head_expires_with_the_sinks_error() {
    let mut d = Delivery::new(
        Policy {
            expire_after: s(100),
            ..policy()
        },
        1,
        fastrand::Rng::with_seed(1),
    );
    d.announce(s(0), "a");
    drain(&mut d, s(0));
    d.announce(s(50), "b");
    d.on_attempt(s(60), SinkId(0), retryable(Some(s(1000))));
    drain(&mut d, s(60));
    assert_eq!(outcomes(&drain(&mut d, s(100))), [(0, "a", "expired")]);
    let actions = drain(&mut d, s(150));
    let [Action::Outcome(o)] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    assert_eq!(
        (o.payload, o.state, o.attempts),
        ("b", DeliveryState::Expired, 0)
    );
    assert!(
        o.error
            .as_deref()
            .is_some_and(|e| e.ends_with("last error there: connection refused")),
        "{o:?}"
    );
}

#[test]
fn an_answer_after_the_expiry_decides_and_a_failure_then_expires() {
    let mut d = Delivery::new(
        Policy {
            expire_after: s(10),
            ..policy()
        },
        2,
        fastrand::Rng::with_seed(1),
    );
    d.announce(s(0), "a");
    drain(&mut d, s(0));
    // Both sends outlive the expiry: nothing is expired while they are in flight.
    assert!(drain(&mut d, s(20)).is_empty());
    d.on_attempt(s(20), SinkId(0), Attempt::Delivered);
    d.on_attempt(s(20), SinkId(1), retryable(None));
    let actions = drain(&mut d, s(20));
    assert_eq!(
        outcomes(&actions),
        [(0, "a", "delivered"), (1, "a", "expired")]
    );
    assert!(sends(&actions).is_empty());
}

#[test]
fn resumed_deliveries_keep_their_age_attempts_and_wait() {
    let mut d = core(1);
    d.announce(s(100), "fresh");
    d.resume(
        s(100),
        SinkId(0),
        Resumed {
            payload: "old",
            age: s(7000),
            attempts: 3,
            wait: Some(s(5)),
            last_error: Some("503".into()),
        },
    );
    // The wait holds the whole sink; the old one goes first, as attempt 4.
    assert!(drain(&mut d, s(104)).is_empty());
    let actions = drain(&mut d, s(105));
    assert_eq!(sends(&actions), [(0, "old", 4)]);
    let Action::Send { age, .. } = actions[0] else {
        panic!()
    };
    assert_eq!(age, s(7005));
    // It expires 200 s after it came back (7200 - 7000), not 7200 s.
    d.on_attempt(s(106), SinkId(0), retryable(Some(s(500))));
    drain(&mut d, s(106));
    let actions = drain(&mut d, s(300));
    assert_eq!(outcomes(&actions), [(0, "old", "expired")]);
}

#[test]
fn resumed_deliveries_go_in_their_order_before_new_ones_not_yet_started() {
    let mut d = core(1);
    d.announce(s(0), "new-1");
    d.announce(s(0), "new-2");
    assert_eq!(sends(&drain(&mut d, s(0))), [(0, "new-1", 1)]);
    for payload in ["old-1", "old-2"] {
        let resumed = Resumed {
            payload,
            age: s(10),
            attempts: 0,
            wait: None,
            last_error: None,
        };
        d.resume(s(1), SinkId(0), resumed);
    }
    let mut order = Vec::new();
    let mut now = s(1);
    for _ in 0..3 {
        d.on_attempt(now, SinkId(0), Attempt::Delivered);
        order.extend(sends(&drain(&mut d, now)).into_iter().map(|(_, p, _)| p));
        now += s(1);
    }
    assert_eq!(order, ["old-1", "old-2", "new-2"]);
}

#[test]
fn pending_lists_ages_and_waits_for_a_checkpoint() {
    let mut d = core(2);
    d.announce(s(10), "a");
    drain(&mut d, s(10));
    d.on_attempt(s(11), SinkId(0), retryable(Some(s(30))));
    drain(&mut d, s(11));
    let wait = d.deadline().expect("retry") - s(20);
    let pending: Vec<_> = d.pending(s(20)).collect();
    assert_eq!(pending.len(), 2);
    assert_eq!(
        (pending[0].sink, pending[0].attempts, pending[0].age),
        (SinkId(0), 1, s(10))
    );
    assert_eq!(pending[0].wait, Some(wait));
    assert_eq!((pending[1].sink, pending[1].wait), (SinkId(1), None));
    assert!(d.sending());
}

#[test]
fn an_answer_nobody_asked_for_changes_nothing() {
    let mut d = core(1);
    d.on_attempt(s(0), SinkId(0), Attempt::Delivered);
    d.on_attempt(s(0), SinkId(9), Attempt::Delivered);
    d.announce(s(0), "a");
    // Not yet sent: an answer now is not this delivery's.
    d.on_attempt(s(0), SinkId(0), Attempt::Delivered);
    assert_eq!(sends(&drain(&mut d, s(0))), [(0, "a", 1)]);
}

/// One step of a random history.
#[derive(Debug, Clone)]
enum Step {
    Announce,
    /// Time passes.
    Wait(u64),
    /// The oldest send in flight to this sink answers.
    Answer(usize, Answer),
}

#[derive(Debug, Clone, Copy)]
enum Answer {
    Delivered,
    Retry(Option<u64>),
    Permanent,
}

fn step() -> impl Strategy<Value = Step> {
    let answer = prop_oneof![
        3 => Just(Answer::Delivered),
        3 => proptest::option::of(0u64..20_000).prop_map(Answer::Retry),
        1 => Just(Answer::Permanent),
    ];
    prop_oneof![
        1 => Just(Step::Announce),
        2 => (0u64..30_000).prop_map(Step::Wait),
        3 => (0usize..3, answer).prop_map(|(sink, a)| Step::Answer(sink, a)),
    ]
}

/// What a history did, for the properties.
#[derive(Default)]
struct Log {
    /// (sink, announcement index, time) of each send.
    sends: Vec<(usize, usize, Duration)>,
    /// (sink, announcement index) → final states seen.
    finals: HashMap<(usize, usize), Vec<DeliveryState>>,
    /// Per sink, the time before which no send may start (a Retry-After).
    not_before: HashMap<usize, Duration>,
    /// Sinks with a send in flight.
    in_flight: std::collections::HashSet<usize>,
    violations: Vec<String>,
}

fn run(d: &mut Delivery<usize>, now: Duration, made: &[Duration], log: &mut Log) {
    while let Some(action) = d.poll(now) {
        match action {
            Action::Send { sink, payload, .. } => {
                let i = payload;
                if now >= made[i] + policy_short().expire_after {
                    log.violations.push(format!("{payload} sent after expiry"));
                }
                if let Some(&t) = log.not_before.get(&sink.0)
                    && now < t
                {
                    log.violations
                        .push(format!("sink {} sent before Retry-After", sink.0));
                }
                log.sends.push((sink.0, i, now));
                log.in_flight.insert(sink.0);
            }
            Action::Outcome(o) if o.state.is_final() => {
                log.finals
                    .entry((o.sink.0, o.payload))
                    .or_default()
                    .push(o.state);
            }
            Action::Outcome(_) => {}
        }
    }
}

fn policy_short() -> Policy {
    Policy {
        initial: s(1),
        max: s(8),
        expire_after: s(60),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_history_keeps_the_rules(steps in proptest::collection::vec(step(), 1..120), seed in any::<u64>()) {
        let sinks = 3;
        let mut d = Delivery::new(policy_short(), sinks, fastrand::Rng::with_seed(seed));
        let mut log = Log::default();
        let mut made: Vec<Duration> = Vec::new();
        let mut now = Duration::ZERO;
        for step in steps {
            match step {
                Step::Announce => {
                    d.announce(now, made.len());
                    made.push(now);
                }
                Step::Wait(t) => now += ms(t),
                Step::Answer(sink, answer) => {
                    let asked_by_a_send = log.in_flight.remove(&sink);
                    let attempt = match answer {
                        Answer::Delivered => Attempt::Delivered,
                        Answer::Permanent => Attempt::Permanent { error: "no".into() },
                        Answer::Retry(asked) => {
                            let asked = asked.map(ms);
                            if let Some(asked) = asked.filter(|_| asked_by_a_send) {
                                let floor = asked.max(MIN_RETRY_AFTER);
                                log.not_before.insert(sink, now + floor);
                            }
                            Attempt::Retryable { error: "busy".into(), retry_after: asked }
                        }
                    };
                    d.on_attempt(now, SinkId(sink), attempt);
                }
            }
            run(&mut d, now, &made, &mut log);
            if let Some(at) = d.deadline() {
                // Deadlines never lie in the past once everything due was done.
                prop_assert!(at > now, "deadline {at:?} at {now:?}");
            }
        }
        // Drain: every send in flight succeeds, time runs out past every expiry.
        for _ in 0..(made.len() * sinks + 5) {
            for sink in 0..sinks {
                log.in_flight.remove(&sink);
                d.on_attempt(now, SinkId(sink), Attempt::Delivered);
            }
            run(&mut d, now, &made, &mut log);
            now = d.deadline().unwrap_or(now).max(now + ms(1));
        }
        run(&mut d, now, &made, &mut log);
        prop_assert!(log.violations.is_empty(), "{:?}", log.violations);
        prop_assert_eq!(d.pending_count(), 0);
        for sink in 0..sinks {
            for i in 0..made.len() {
                let finals = log.finals.get(&(sink, i)).cloned().unwrap_or_default();
                prop_assert_eq!(finals.len(), 1, "sink {} announcement {}: {:?}", sink, i, finals);
            }
            // Per sink, sends go in the order the announcements were made.
            let order: Vec<usize> = log.sends.iter().filter(|s| s.0 == sink).map(|s| s.1).collect();
            prop_assert!(order.windows(2).all(|w| w[0] <= w[1]), "sink {}: {:?}", sink, order);
        }
    }
}
