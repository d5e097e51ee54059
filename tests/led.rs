//! The feedback LED in a running daemon (the built binary, simulated button, real
//! webhook receivers): its `led` event lines follow the patterns the pure core
//! promises, with the timing of real sends. The patterns themselves are pinned to the
//! millisecond in `core::feedback`'s tests; here the daemon wires them to the real
//! deliveries.

use serde_json::Value;

use crate::util::daemon::{Setup, until_or_show};
use crate::util::receiver::Receiver;

/// An LED on GPIO 22; no arm switch, so the LED is dark between patterns.
const LED: &str = "[led]\npin = 22\n";

fn t_ms(line: &Value) -> f64 {
    line["t_ms"].as_f64().expect("t_ms")
}

/// The `led` lines as (t_ms, on).
fn led_lines(lines: &[Value]) -> Vec<(f64, bool)> {
    lines
        .iter()
        .filter(|l| l["type"] == "led")
        .map(|l| (t_ms(l), l["on"].as_bool().expect("on")))
        .collect()
}

/// The gaps between successive changes, rounded to the millisecond.
fn gaps(changes: &[(f64, bool)]) -> Vec<u64> {
    changes
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).round() as u64)
        .collect()
}

/// The first line of `kind` for which `matches` holds.
fn first<'a>(lines: &'a [Value], kind: &str, matches: impl Fn(&Value) -> bool) -> &'a Value {
    lines
        .iter()
        .find(|l| l["type"] == kind && matches(l))
        .unwrap_or_else(|| panic!("no {kind} line: {lines:?}"))
}

/// Runs `script`, waits until the event lines hold `done`, then quits.
async fn run(
    setup: &Setup,
    script: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut daemon = setup.start(1);
    daemon.send(script);
    until_or_show(what, || done(&setup.event_lines(1)), || setup.diagnosis(1)).await;
    daemon.send("quit\n");
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    setup.event_lines(1)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_press_blinks_until_the_slow_sink_answers_then_flashes_delivered() {
    let r = Receiver::start().await;
    let sinks = [("slow", r.url("/slow/900")), ("quick", r.url("/quick"))];
    let setup = Setup::with(&sinks, "", LED);
    // The flash ends 2.4 s after the last delivery: the LED goes dark for good.
    let lines = run(&setup, "press\n", "the delivered flash to end", |lines| {
        let leds = led_lines(lines);
        lines.iter().filter(|l| l["type"] == "delivery").count() == 2
            && leds.last().is_some_and(|&(t, on)| {
                !on && lines
                    .iter()
                    .filter(|l| l["type"] == "delivery")
                    .all(|d| t >= t_ms(d) + 2199.5)
            })
    })
    .await;
    let gesture = t_ms(first(&lines, "gesture", |_| true));
    let slow = t_ms(first(&lines, "delivery", |l| l["sink"] == "slow"));
    let leds = led_lines(&lines);
    assert!(
        leds[0].1 && leds[0].0 >= gesture,
        "the blink starts lit, at the press: {leds:?}"
    );
    let blink: Vec<_> = leds.iter().copied().filter(|&(t, _)| t < slow).collect();
    // 900 ms of sending at 100 ms on, 100 ms off: about nine changes.
    assert!(
        blink.len() >= 6,
        "a blink while the slow sink works: {leds:?}"
    );
    assert!(
        gaps(&blink).iter().all(|&g| g == 100),
        "steps of 100 ms: {leds:?}"
    );
    // Then the flash, from the slow sink's answer: dark 200 ms, lit 2000, dark.
    let flash: Vec<_> = leds.iter().copied().filter(|&(t, _)| t >= slow).collect();
    let lit = flash
        .iter()
        .position(|&(_, on)| on)
        .expect("the flash lights");
    assert_eq!(
        gaps(&flash[lit..]),
        [2000],
        "a 2 s flash, then dark: {leds:?}"
    );
    assert!(
        (flash[lit].0 - slow - 200.0).abs() < 1.0,
        "lit 200 ms after the answer: {leds:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retrying_sink_double_blinks_until_it_delivers() {
    let r = Receiver::start().await;
    // A 429 with `Retry-After: 2`: the retry comes 2 to 2.2 s later.
    let sinks = [("flaky", r.url("/fail-first/1/429"))];
    let setup = Setup::with(&sinks, "", LED);
    let lines = run(
        &setup,
        "press\n",
        "the retry delivered and its flash over",
        |lines| {
            let delivered = lines
                .iter()
                .find(|l| l["type"] == "delivery" && l["outcome"] == "delivered");
            delivered.is_some_and(|d| {
                led_lines(lines)
                    .last()
                    .is_some_and(|&(t, on)| !on && t >= t_ms(d) + 2199.5)
            })
        },
    )
    .await;
    let retrying = t_ms(first(&lines, "delivery", |l| l["outcome"] == "retrying"));
    let delivered = t_ms(first(&lines, "delivery", |l| l["outcome"] == "delivered"));
    let leds = led_lines(&lines);
    // From the 429 on, a double blink each second: lit at +0 (it may be lit already,
    // from the sending blink), dark at +100, lit +200, dark +300, lit +1000 ...
    let offsets: Vec<u64> = leds
        .iter()
        .filter(|&&(t, _)| t > retrying + 0.5 && t < delivered)
        .map(|&(t, _)| (t - retrying).round() as u64)
        .collect();
    assert!(offsets.len() >= 8, "double blinks while retrying: {leds:?}");
    assert_eq!(
        offsets[..8],
        [100, 200, 300, 1000, 1100, 1200, 1300, 2000],
        "{leds:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_press_in_the_cooldown_shows_no() {
    let r = Receiver::start().await;
    let sinks = [("hook", r.url("/hook"))];
    let setup = Setup::with(&sinks, "", LED);
    setup.edit_config("cooldown_s = 0", "cooldown_s = 600");
    // The second press comes after the first's flash is over (2.4 s from its
    // delivery, even on a busy machine).
    let lines = run(
        &setup,
        "press\nwait 5000\npress\n",
        "the no pattern to end",
        |lines| {
            lines.iter().any(|l| l.get("ignored").is_some())
                && led_lines(lines).last().is_some_and(|&(t, _)| {
                    lines
                        .iter()
                        .filter(|l| l.get("ignored").is_some())
                        .all(|g| t >= t_ms(g) + 399.5)
                })
        },
    )
    .await;
    let ignored = first(&lines, "gesture", |l| l.get("ignored").is_some());
    assert_eq!(ignored["ignored"], "cooldown");
    // Two blips, 100 ms each: lit at +100 and +300, dark at +200 and +400 (dark at +0
    // too, should the LED still have been lit).
    let offsets: Vec<(u64, bool)> = led_lines(&lines)
        .into_iter()
        .filter(|&(t, _)| t > t_ms(ignored) + 0.5)
        .map(|(t, on)| ((t - t_ms(ignored)).round() as u64, on))
        .collect();
    assert_eq!(
        offsets,
        [(100, true), (200, false), (300, true), (400, false)],
        "{lines:?}"
    );
}
