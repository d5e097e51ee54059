//! Every pattern on virtual time, to the millisecond.

use std::time::Duration;

use super::*;
use crate::model::DeliveryState::{Delivered, Expired, Failed, Pending};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// The changes as (ms, on).
fn changes(out: &[LedChange]) -> Vec<(u64, bool)> {
    out.iter()
        .map(|c| (c.at.as_millis() as u64, c.on))
        .collect()
}

/// Runs the machine to `until` and returns every change so far.
fn run_to(f: &mut Feedback, until: u64, out: &mut Vec<LedChange>) -> Vec<(u64, bool)> {
    f.advance(ms(until), out);
    changes(out)
}

#[test]
fn steady_states_need_no_timer() {
    let mut out = Vec::new();
    let mut without_switch = Feedback::new(false, true, ms(0));
    assert!(!without_switch.on(), "without an arm switch the LED is off");
    assert_eq!(without_switch.deadline(), None);

    let mut f = Feedback::new(true, true, ms(0));
    assert!(f.on(), "armed: steady on");
    assert_eq!(f.deadline(), None);
    f.arm(false, ms(500), &mut out);
    f.arm(true, ms(900), &mut out);
    assert_eq!(changes(&out), [(500, false), (900, true)]);
    assert_eq!(f.deadline(), None);
    without_switch.arm(true, ms(10), &mut out);
    assert!(!without_switch.on());
}

#[test]
fn a_press_blinks_until_every_sink_answers_then_flashes_two_seconds() {
    let mut out = Vec::new();
    let mut f = Feedback::new(true, true, ms(0));
    f.announced("a1", ["mail", "chat"], ms(1000), &mut out);
    assert_eq!(f.showing(), Some(Pattern::Sending));
    // Armed (on), so the blink's first "on" is no change: off at 1100, on at 1200 ...
    f.delivery("a1", "chat", Delivered, ms(1250), &mut out);
    assert_eq!(
        f.showing(),
        Some(Pattern::Sending),
        "one sink still to answer"
    );
    f.delivery("a1", "mail", Delivered, ms(1450), &mut out);
    assert_eq!(f.showing(), Some(Pattern::Delivered));
    let seen = run_to(&mut f, 10_000, &mut out);
    assert_eq!(
        seen,
        [
            (1100, false),
            (1200, true),
            (1300, false),
            (1400, true),
            (1450, false),
            (1650, true),
            (3650, false),
            (3850, true)
        ],
        "the blink, the framed flash, then armed (on)"
    );
    assert_eq!(f.showing(), None);
    assert_eq!(f.deadline(), None, "idle again: no timer");
}

#[test]
fn without_an_arm_switch_the_delivered_flash_goes_dark_after_it() {
    let mut out = Vec::new();
    let mut f = Feedback::new(false, true, ms(0));
    f.announced("a1", ["hook"], ms(100), &mut out);
    f.delivery("a1", "hook", Delivered, ms(130), &mut out);
    assert_eq!(
        run_to(&mut f, 5000, &mut out),
        [(100, true), (130, false), (330, true), (2330, false)]
    );
}

#[test]
fn a_retrying_sink_double_blinks_each_second_until_it_delivers() {
    let mut out = Vec::new();
    let mut f = Feedback::new(false, true, ms(0));
    f.announced("a1", ["hook", "mail"], ms(0), &mut out);
    f.delivery("a1", "mail", Delivered, ms(50), &mut out);
    f.delivery("a1", "hook", Pending, ms(150), &mut out);
    assert_eq!(f.showing(), Some(Pattern::Retrying));
    // Sending: on 0, off 100; retrying from 150: on, off 250, on 350, off 450, on 1150 ...
    // A second "retrying" outcome keeps the rhythm.
    f.delivery("a1", "hook", Pending, ms(1200), &mut out);
    let seen = run_to(&mut f, 2000, &mut out);
    assert_eq!(
        seen,
        [
            (0, true),
            (100, false),
            (150, true),
            (250, false),
            (350, true),
            (450, false),
            (1150, true),
            (1250, false),
            (1350, true),
            (1450, false)
        ]
    );
    out.clear();
    f.delivery("a1", "hook", Delivered, ms(2100), &mut out);
    assert_eq!(f.showing(), Some(Pattern::Delivered));
    assert_eq!(
        run_to(&mut f, 9000, &mut out),
        [(2300, true), (4300, false)]
    );
}

#[test]
fn a_failed_or_expired_delivery_blinks_slowly_for_ten_seconds() {
    for end in [Failed, Expired] {
        let mut out = Vec::new();
        let mut f = Feedback::new(true, true, ms(0));
        f.announced("a1", ["hook", "mail"], ms(0), &mut out);
        f.delivery("a1", "mail", Pending, ms(10), &mut out);
        f.delivery("a1", "hook", Delivered, ms(20), &mut out);
        assert_eq!(f.showing(), Some(Pattern::Retrying));
        f.delivery("a1", "mail", end, ms(60_000), &mut out);
        assert_eq!(f.showing(), Some(Pattern::Failed), "{end:?}");
        out.clear();
        let seen = run_to(&mut f, 80_000, &mut out);
        // Armed: the "on" seconds are no change; off at 61 s, 63 s ... and on again.
        assert_eq!(
            seen,
            [
                (61_000, false),
                (62_000, true),
                (63_000, false),
                (64_000, true),
                (65_000, false),
                (66_000, true),
                (67_000, false),
                (68_000, true),
                (69_000, false),
                (70_000, true)
            ],
            "{end:?}"
        );
        assert_eq!(f.deadline(), None);
        // Later outcomes of a settled announcement change nothing.
        f.delivery("a1", "hook", Delivered, ms(90_000), &mut out);
        assert_eq!(f.showing(), None);
    }
}

#[test]
fn an_ignored_press_shows_no_over_the_steady_state_and_over_a_blink() {
    let mut out = Vec::new();
    let mut f = Feedback::new(true, true, ms(0));
    f.ignored(ms(1000), &mut out);
    assert_eq!(f.showing(), Some(Pattern::No));
    let seen = run_to(&mut f, 3000, &mut out);
    assert_eq!(
        seen,
        [
            (1000, false),
            (1100, true),
            (1200, false),
            (1300, true),
            (1400, false),
            (1500, true)
        ]
    );
    assert_eq!(f.deadline(), None);

    // Over a retrying announcement: "no" for half a second, then the rhythm goes on.
    let mut out = Vec::new();
    let mut f = Feedback::new(false, true, ms(0));
    f.announced("a1", ["hook"], ms(0), &mut out);
    f.delivery("a1", "hook", Pending, ms(0), &mut out);
    f.ignored(ms(2000), &mut out);
    assert_eq!(f.showing(), Some(Pattern::No));
    f.advance(ms(2500), &mut out);
    assert_eq!(f.showing(), Some(Pattern::Retrying));
}

#[test]
fn only_the_last_announcement_shows() {
    let mut out = Vec::new();
    let mut f = Feedback::new(false, true, ms(0));
    f.announced("old", ["hook"], ms(0), &mut out);
    f.delivery("old", "hook", Pending, ms(10), &mut out);
    f.announced("new", ["hook"], ms(500), &mut out);
    assert_eq!(f.showing(), Some(Pattern::Sending));
    // The old one's outcomes (and those of announcements resumed from the outbox, or
    // of sinks it does not have) are not this press's news.
    f.delivery("old", "hook", Failed, ms(600), &mut out);
    f.delivery("resumed", "hook", Delivered, ms(610), &mut out);
    f.delivery("new", "other", Delivered, ms(620), &mut out);
    assert_eq!(f.showing(), Some(Pattern::Sending));
    f.delivery("new", "hook", Delivered, ms(700), &mut out);
    assert_eq!(f.showing(), Some(Pattern::Delivered));
}

#[test]
fn changes_come_out_in_time_order_even_when_served_late() {
    let mut out = Vec::new();
    let mut f = Feedback::new(false, true, ms(0));
    f.announced("a1", ["hook"], ms(0), &mut out);
    // Nothing served for a second, then an outcome: the blinks before it come first,
    // each at its own time.
    f.delivery("a1", "hook", Delivered, ms(1000), &mut out);
    let times: Vec<u64> = changes(&out).iter().map(|c| c.0).collect();
    // The blink's step due at 1000 is judged after the outcome: the flash's dark
    // start (already dark since 900), not an on-and-off blip.
    assert_eq!(times, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    assert!(!f.on());
    // An input stamped before the latest time is taken at the latest time.
    f.arm(false, ms(400), &mut out);
    assert!(out.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn finish_stops_at_a_pattern_that_repeats() {
    let mut out = Vec::new();
    let mut f = Feedback::new(false, true, ms(0));
    f.ignored(ms(0), &mut out);
    f.finish(&mut out);
    assert_eq!(
        changes(&out),
        [(100, true), (200, false), (300, true), (400, false)]
    );
    f.announced("a1", ["hook"], ms(1000), &mut out);
    f.finish(&mut out);
    assert_eq!(
        f.showing(),
        Some(Pattern::Sending),
        "left blinking, not looped for ever"
    );
}
