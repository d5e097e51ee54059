//! `daas run`: the reactor. One loop feeds the pipeline from real time ([`live`]),
//! turns fired actions into announcements handed to delivery ([`deliveries`]: sent at
//! once, committed in parallel on the outbox writer's thread), writes event lines
//! ([`lines`]) and talks to systemd ([`systemd`]). It runs until the shutdown future
//! the caller passes completes (main.rs: SIGINT or SIGTERM) or the simulated button
//! quits (once the gestures of its last edges have fired) — so tests can drive the
//! daemon in-process, as mini-redis's `run(listener, shutdown)` does.
//!
//! The loop sleeps in the kernel until one of: an edge, the pipeline's next deadline,
//! a delivery event, the watchdog's tick (only under systemd with `WatchdogSec=`), or
//! shutdown. With nothing pending there is no timer at all.

pub mod crash_signals;
pub mod deliveries;
mod feedback;
pub mod inputs;
mod lines;
pub mod live;
pub mod systemd;

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use crate::clock::{self, WallClock};
use crate::config::Settings;
use crate::core::quiet::WallAnchor;
use crate::daemon::deliveries::{Deliveries, Settings as DeliverySettings};
use crate::gpio::led::LedOutput;
use crate::gpio::{EdgeSource, InputError};
use crate::model::Event;
use crate::outbox::writer::Started;
use crate::sinks::ConfiguredSink;
use feedback::LedFeedback;
use lines::EventLines;
use live::{LiveInput, Step};
use systemd::Systemd;

/// How long shutdown waits for sends in flight, and then for the outbox writer.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long start-up waits for the sinks' sessions to start.
const SINK_START_WAIT: Duration = Duration::from_secs(2);

/// How long start-up waits for the outbox to open (a lock held by another program, a
/// slow card) before going on without it; it keeps trying in the background.
pub const OUTBOX_WAIT: Duration = Duration::from_secs(2);

/// What went wrong running the daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("writing event lines failed: {0}; check the --events path and free space")]
    Events(std::io::Error),
}

/// What the daemon runs with, opened by the caller.
pub struct Daemon {
    pub settings: Settings,
    pub sinks: Vec<ConfiguredSink>,
    pub source: Box<dyn EdgeSource>,
    /// The feedback LED, if there is one (or the simulated button's glyph).
    pub led: Option<Box<dyn LedOutput>>,
    /// The outbox writer, started (and the state directory locked).
    pub outbox: Started,
    /// Where event lines go, if anywhere.
    pub events: Option<Box<dyn Write + Send>>,
    /// The start of the daemon's time line (CLOCK_MONOTONIC), taken before the source
    /// opened: an edge that arrives while the outbox is still loading keeps its own
    /// time instead of being squashed to now.
    pub origin: Duration,
}

/// Writes the pipeline's events, announces each accepted action and shows it all on
/// the LED.
fn handle(
    events: &mut Vec<Event>,
    lines: &mut EventLines,
    settings: &Settings,
    deliveries: &mut Deliveries,
    led: &mut Option<LedFeedback>,
) -> Result<(), DaemonError> {
    for event in events.drain(..) {
        lines.write(&event)?;
        let mut announced = None;
        match &event {
            Event::Gesture {
                action: Some(action),
                ignored: None,
                gesture,
                ..
            } => {
                let made = deliveries.wall();
                // `{who}`: whose rota turn today is, when the clock knows the date.
                let who = settings
                    .rota
                    .as_ref()
                    .filter(|_| made.trusted)
                    .and_then(|r| r.whose_turn(&[], made.now, &settings.time_zone));
                if let Some(d) = settings.actions.draft(action, made, clock::new_id(), who) {
                    log::info!("{} → {action}: announcing {}", gesture.name(), d.id);
                    announced = Some(d.id.clone());
                    deliveries.announce(d);
                }
            }
            Event::Gesture {
                gesture,
                ignored: Some(why),
                ..
            } => log::info!("{} ignored: {}", gesture.name(), why.name()),
            Event::Arm { armed, .. } => log::info!("{}", if *armed { "armed" } else { "disarmed" }),
            _ => {}
        }
        if let Some(led) = led {
            led.event(&event, announced.as_deref());
            led.flush(lines)?;
        }
    }
    Ok(())
}

/// Runs the daemon until `shutdown` completes or the simulated button quits.
pub async fn run(daemon: Daemon, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    let Daemon {
        settings,
        sinks,
        source,
        led,
        outbox,
        events: out,
        origin,
    } = daemon;
    let delivery = DeliverySettings {
        policy: settings.delivery,
        history: settings.history,
        now: clock::boot_now,
        tz: settings.time_zone.clone(),
    };
    let wall = WallClock::new(settings.trust);
    let mut deliveries = Deliveries::start(sinks, outbox, wall, delivery);
    deliveries.start_sinks(SINK_START_WAIT).await;
    let pipeline =
        crate::core::pipeline::Pipeline::new(&settings.pipeline, source.starting_levels(), origin);
    let mut input = LiveInput::new(source, pipeline);
    let pin = settings.gpio.button.pin;
    log::info!(
        "ready: {} on GPIO {pin}{}",
        settings.actions.device,
        if input.armed() {
            ", armed"
        } else {
            ", disarmed"
        }
    );
    // To line event lines up with other clocks (the journal, a bench's receivers).
    log::debug!(
        "event lines count from CLOCK_MONOTONIC {:.6} s",
        origin.as_secs_f64()
    );
    let mut lines = EventLines::new(origin, out);
    let mut events = Vec::new();
    let mut led = led.map(|output| {
        let sinks = deliveries.sink_names().to_vec();
        let has_arm_switch = settings.pipeline.arm.is_some();
        LedFeedback::new(
            output,
            has_arm_switch,
            input.armed(),
            sinks,
            clock::monotonic::now(),
        )
    });
    // Inputs are open and the outbox is loaded: tell systemd.
    let systemd = Systemd::from_env();
    systemd.ready(&format!("watching GPIO {pin}"));
    let mut watchdog = systemd.ping_every().map(|every| {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    tokio::pin!(shutdown);

    loop {
        if settings.pipeline.quiet.is_some() {
            // Quiet hours read the wall clock, and only a trusted one: an anchor taken
            // now maps the next edges' monotonic times to wall times.
            let wall = deliveries.wall();
            input.set_wall(wall.trusted.then(|| WallAnchor {
                mono: clock::monotonic::now(),
                wall: wall.now,
                tz: settings.time_zone.clone(),
            }));
        }
        let led_deadline = led.as_ref().and_then(LedFeedback::deadline);
        tokio::select! {
            step = input.step(&mut events) => if step? == Step::Ended {
                log::info!("the simulated button quit");
                break;
            },
            report = deliveries.next_report() => {
                let at = clock::monotonic::now();
                if let Some(led) = &mut led {
                    led.report(&report, at);
                }
                lines.delivery(report, at)?;
            }
            () = sleep_until(led_deadline) => {
                if let Some(led) = &mut led {
                    led.serve();
                }
            }
            _ = tick(&mut watchdog), if watchdog.is_some() => systemd.ping(),
            () = &mut shutdown => break,
        }
        handle(
            &mut events,
            &mut lines,
            &settings,
            &mut deliveries,
            &mut led,
        )?;
        if let Some(led) = &mut led {
            led.flush(&mut lines)?;
        }
    }

    // Stop taking presses; let sends in flight finish, within a bound.
    systemd.stopping();
    drop(input);
    let mut result = Ok(());
    deliveries
        .stop(SHUTDOWN_GRACE, |report| {
            if result.is_ok() {
                result = lines.delivery(report, clock::monotonic::now());
            }
        })
        .await;
    result
}

/// Sleeps until `deadline` on CLOCK_MONOTONIC; without one, never returns (no timer).
async fn sleep_until(deadline: Option<Duration>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(clock::monotonic::instant_at(at)).await,
        None => std::future::pending().await,
    }
}

/// The next watchdog tick (never, without a watchdog).
async fn tick(watchdog: &mut Option<tokio::time::Interval>) {
    match watchdog {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}
