//! `daas replay`: a trace played through the same pipeline the daemon runs, on
//! virtual time. Deterministic, instant, and it sends nothing — the way to see what
//! a config makes of a bouncy button or a nervous finger.
//!
//! With an LED configured it also runs the feedback machine and prints its `led`
//! lines. As nothing is sent, each announcement counts as delivered by every sink the
//! moment it is made: the LED shows the delivered flash (and the "no" pattern for
//! ignored presses), never the sending blink.

use std::time::Duration;

use crate::core::feedback::{Feedback, LedChange};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::core::pipeline::{Pipeline, PipelineSettings};
use crate::core::quiet::WallAnchor;
use crate::gpio::trace::Trace;
use crate::model::Event;

/// Every event the trace produces, in order; deadlines after the last edge included.
/// `led`: whether the device has a feedback LED to show; `wall`: the trusted wall
/// clock at the trace's start (`--start`), for quiet hours.
pub fn replay(
    settings: &PipelineSettings,
    led: bool,
    wall: Option<WallAnchor>,
    trace: &Trace,
) -> Vec<Event> {
    let button_inactive = settings.button.active.flipped();
    let arm_inactive = settings.arm.map(|arm| arm.active.flipped());
    let start = trace.starting_levels(button_inactive, arm_inactive);
    let mut pipeline = Pipeline::new(settings, start, Duration::ZERO);
    pipeline.set_wall(wall);
    let mut feedback =
        led.then(|| Feedback::new(settings.arm.is_some(), pipeline.armed(), Duration::ZERO));
    let mut made = Vec::new();
    let mut events = Vec::new();
    for edge in &trace.edges {
        pipeline.edge(*edge, &mut made);
        show(&mut made, feedback.as_mut(), &mut events);
    }
    pipeline.finish(&mut made);
    show(&mut made, feedback.as_mut(), &mut events);
    if let Some(feedback) = &mut feedback {
        let mut changes = Vec::new();
        feedback.finish(&mut changes);
        events.extend(changes.into_iter().map(led_event));
    }
    events
}

/// Moves the pipeline's events to `events`, each with the LED's changes: those from
/// before it first, its own after it, so the lines stay in time order.
fn show(made: &mut Vec<Event>, feedback: Option<&mut Feedback>, events: &mut Vec<Event>) {
    let Some(feedback) = feedback else {
        events.append(made);
        return;
    };
    for event in made.drain(..) {
        let at = event.at();
        let mut changes: Vec<LedChange> = Vec::new();
        match &event {
            Event::Arm { armed, .. } => feedback.arm(*armed, at, &mut changes),
            Event::Gesture {
                action: Some(_),
                ignored: None,
                ..
            } => {
                // Nothing is sent: delivered by every sink at once.
                feedback.announced("replayed", [], at, &mut changes);
            }
            Event::Gesture { .. } => feedback.ignored(at, &mut changes),
            Event::Delivery { .. } | Event::Led { .. } => {
                feedback.advance(at, &mut changes);
            }
        }
        let own = changes.split_off(changes.partition_point(|c| c.at < at));
        events.extend(changes.into_iter().map(led_event));
        events.push(event);
        events.extend(own.into_iter().map(led_event));
    }
}

/// `--start`: local time in `tz` (`2026-12-04T23:00`) or a time with an offset
/// (`2026-12-04T23:00+01:00`, `…Z`), anchored at the trace's t = 0.
pub fn start_anchor(text: &str, tz: &TimeZone) -> Result<WallAnchor, String> {
    let wall = match text.parse::<Timestamp>() {
        Ok(t) => Ok(t),
        Err(_) => text
            .parse::<DateTime>()
            .map_err(|_| ())
            .and_then(|local| tz.to_timestamp(local).map_err(|_| ())),
    }
    .map_err(|()| {
        format!(
            "--start {}: not a date and time; write it as 2026-12-04T23:00 (local, in the device's time zone) or 2026-12-04T23:00+01:00",
            crate::quote::quoted(text)
        )
    })?;
    Ok(WallAnchor {
        mono: Duration::ZERO,
        wall,
        tz: tz.clone(),
    })
}

fn led_event(change: LedChange) -> Event {
    Event::Led {
        at: change.at,
        on: change.on,
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use proptest::prelude::*;

    use super::*;
    use crate::core::gesture::GestureTiming;
    use crate::core::pipeline::{InputSettings, MappedAction};
    use crate::model::Level;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn level(high: bool) -> Level {
        if high { Level::High } else { Level::Low }
    }

    fn action(name: &str, cooldown_s: u64) -> MappedAction {
        MappedAction {
            name: name.to_string(),
            cooldown: Duration::from_secs(cooldown_s),
        }
    }

    /// Any settings a valid config can make: debounce 1..=1000 ms, long press
    /// 100..=10000 ms, double-press gap 50..=2000 ms, either active level, with or
    /// without an arm switch and cooldowns.
    fn settings() -> impl Strategy<Value = PipelineSettings> {
        let input = (1u64..=1000, any::<bool>()).prop_map(|(debounce, high)| InputSettings {
            debounce: ms(debounce),
            active: level(high),
        });
        (
            input.clone(),
            prop::option::of(input),
            prop::option::of(100u64..=10_000),
            prop::option::of(50u64..=2_000),
            0u64..=2,
        )
            .prop_map(|(button, arm, long, gap, cooldown_s)| PipelineSettings {
                button,
                arm,
                timing: GestureTiming {
                    long_press: long.map(ms),
                    double_gap: gap.map(ms),
                },
                press: Some(action("arrival", cooldown_s)),
                long_press: long.map(|_| action("all_gone", cooldown_s)),
                double_press: gap.map(|_| action("more", cooldown_s)),
                quiet: None,
            })
    }

    /// A valid trace as text: optional starting rows, then rows whose gaps range from
    /// bounce-short (a tenth of a millisecond) to seconds, on either input.
    fn trace_text() -> impl Strategy<Value = String> {
        let gap = prop_oneof![0u64..=50, 0u64..=400, 0u64..=4_000];
        let tenths = 0u64..10;
        let row = (gap, tenths, any::<bool>(), any::<bool>());
        (
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::collection::vec(row, 0..80),
        )
            .prop_map(|(button_start, arm_start, rows)| {
                let mut text = String::from("t_ms,input,level\n");
                for (input, start) in [("button", button_start), ("arm", arm_start)] {
                    if let Some(high) = start {
                        let _ = writeln!(text, "0,{input},{}", u8::from(high));
                    }
                }
                let mut tenths_total = 0;
                for (gap, tenths, arm, high) in rows {
                    tenths_total += gap * 10 + tenths;
                    let input = if arm { "arm" } else { "button" };
                    let t = format!("{}.{}", tenths_total / 10, tenths_total % 10);
                    let _ = writeln!(text, "{t},{input},{}", u8::from(high));
                }
                text
            })
    }

    fn stamp(event: &Event) -> Duration {
        event.at()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// DESIGN.md: event lines come out in non-decreasing `t_ms`, whatever the trace.
        #[test]
        fn replay_events_are_in_non_decreasing_time(
            settings in settings(),
            text in trace_text(),
            led in any::<bool>(),
        ) {
            let trace = Trace::parse(&text).expect("a valid trace");
            let events = replay(&settings, led, None, &trace);
            for pair in events.windows(2) {
                prop_assert!(
                    stamp(&pair[0]) <= stamp(&pair[1]),
                    "{:?} came before {:?}",
                    pair[0],
                    pair[1]
                );
            }
        }
    }
}
