//! `daas run`: the wiring. The state directory is locked (one daemon per outbox) and
//! the outbox writer started; an input source feeds the pipeline on real time
//! ([`crate::daemon::live`]); fired actions become announcements, handed to delivery
//! ([`crate::daemon::deliveries`]: sent at once, committed in parallel on the writer
//! thread); event lines go to `--events`. Signals stop it cleanly.
//!
//! The loop sleeps in the kernel until one of: an edge, the pipeline's next deadline,
//! a delivery report, or a signal. With nothing pending there is no timer at all.

pub mod deliveries;
pub mod live;
pub mod systemd;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::clock::monotonic;
use crate::clock::{self, WallClock};
use crate::config::{Config, GpioBackend};
use crate::core::announce;
use crate::core::delivery::Policy;
use crate::core::pipeline::Pipeline;
use crate::daemon::deliveries::{Deliveries, Settings};
use crate::daemon::live::{LiveInput, Step};
use crate::daemon::systemd::Systemd;
use crate::gpio::gpiocdev::GpiocdevSource;
use crate::gpio::rppal::RppalSource;
use crate::gpio::sim::SimSource;
use crate::gpio::{EdgeSource, InputError};
use crate::model::Event;
use crate::model::Report;
use crate::outbox::lock::LockError;
use crate::outbox::writer::Writer;
use crate::sinks::ConfiguredSink;

/// How long shutdown waits for sends in flight, and then for the outbox writer.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long start-up waits for the outbox to open (a lock held by another program, a
/// slow card) before going on without it; it keeps trying in the background.
const OUTBOX_WAIT: Duration = Duration::from_secs(2);

/// What went wrong running the daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("cannot install the {0} handler: {1}")]
    Signal(&'static str, #[source] std::io::Error),
    #[error("writing event lines failed: {0}; check the --events path and free space")]
    Events(#[source] std::io::Error),
}

/// Options of `daas run`.
pub struct RunOptions {
    pub simulate: bool,
    /// Where event lines go, if anywhere.
    pub events: Option<Box<dyn Write + Send>>,
    /// Where the outbox lives.
    pub state_dir: PathBuf,
}

/// Opens the configured input backend (or the simulated button).
pub fn open_source(config: &Config, simulate: bool) -> Result<Box<dyn EdgeSource>, InputError> {
    if simulate {
        return Ok(Box::new(SimSource::open(config)?));
    }
    Ok(match config.gpio.backend {
        GpioBackend::Rppal => Box::new(RppalSource::open(config)?),
        GpioBackend::Gpiocdev => Box::new(GpiocdevSource::open(config)?),
    })
}

/// Event lines, relative to the daemon's start.
struct EventLines {
    origin: Duration,
    out: Option<Box<dyn Write + Send>>,
}

impl EventLines {
    fn write(&mut self, event: &Event) -> Result<(), DaemonError> {
        if let Some(out) = &mut self.out {
            let line = event.to_line(self.origin);
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(DaemonError::Events)?;
        }
        Ok(())
    }

    fn delivery(&mut self, report: Report) -> Result<(), DaemonError> {
        self.write(&Event::Delivery {
            at: monotonic::now(),
            announcement: report.announcement,
            sink: report.sink,
            outcome: report.state,
            attempt: report.attempt,
        })
    }
}

/// Writes the pipeline's events and announces each accepted action.
fn handle(
    events: &mut Vec<Event>,
    lines: &mut EventLines,
    config: &Config,
    deliveries: &mut Deliveries,
) -> Result<(), DaemonError> {
    for event in events.drain(..) {
        lines.write(&event)?;
        match &event {
            Event::Gesture {
                action: Some(action),
                ignored: None,
                gesture,
                ..
            } => {
                let made = deliveries.wall();
                if let Some(d) = announce::draft(config, action, made, clock::new_id()) {
                    log::info!("{} → {action}: announcing {}", gesture.name(), d.id);
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
    }
    Ok(())
}

/// Runs the daemon until SIGINT/SIGTERM (or the simulated button quits).
pub async fn run(
    config: Config,
    sinks: Vec<ConfiguredSink>,
    options: RunOptions,
) -> Result<(), DaemonError> {
    // The time line starts before the source opens: an edge that arrives while the
    // outbox is still loading keeps its own time instead of being squashed to now.
    let origin = monotonic::now();
    // To line event lines up with other clocks (the journal, a bench's receivers).
    log::debug!(
        "event lines count from CLOCK_MONOTONIC {:.6} s",
        origin.as_secs_f64()
    );
    let source = open_source(&config, options.simulate)?;
    let mut sigint =
        signal(SignalKind::interrupt()).map_err(|e| DaemonError::Signal("SIGINT", e))?;
    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| DaemonError::Signal("SIGTERM", e))?;
    let started = Writer::start(options.state_dir.clone(), OUTBOX_WAIT)?;
    let settings = Settings {
        policy: policy(&config),
        history: Duration::from_secs(config.delivery.history_days.saturating_mul(86_400)),
        now: clock::boot_now,
    };
    let wall = WallClock::new(config.clock.trust);
    let mut deliveries = Deliveries::start(sinks, started, wall, settings);
    let pipeline = Pipeline::new(&config, source.starting_levels(), origin);
    let mut input = LiveInput::new(source, pipeline);
    log::info!(
        "ready: {} on GPIO {}{}",
        config.device_name(),
        config.button.pin,
        if input.armed() {
            ", armed"
        } else {
            ", disarmed"
        }
    );
    let mut lines = EventLines {
        origin,
        out: options.events,
    };
    let mut events = Vec::new();
    // Inputs are open and the outbox is loaded: tell systemd.
    let systemd = Systemd::from_env();
    systemd.ready(&format!("watching GPIO {}", config.button.pin));
    let mut watchdog = systemd.ping_every().map(|every| {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });

    loop {
        tokio::select! {
            step = input.step(&mut events) => if step? == Step::Ended {
                log::info!("the simulated button quit");
                break;
            },
            report = deliveries.next_report() => lines.delivery(report)?,
            _ = tick(&mut watchdog), if watchdog.is_some() => systemd.ping(),
            _ = sigint.recv() => { log::info!("SIGINT: stopping"); break; }
            _ = sigterm.recv() => { log::info!("SIGTERM: stopping"); break; }
        }
        handle(&mut events, &mut lines, &config, &mut deliveries)?;
    }

    // Stop taking presses; let sends in flight finish, within a bound.
    systemd.stopping();
    drop(input);
    let mut result = Ok(());
    deliveries
        .stop(SHUTDOWN_GRACE, |report| {
            if result.is_ok() {
                result = lines.delivery(report);
            }
        })
        .await;
    result
}

/// The retry and expiry rules from `[delivery]`.
pub fn policy(config: &Config) -> Policy {
    let d = &config.delivery;
    Policy {
        initial: Duration::from_secs(d.backoff_initial_s),
        max: Duration::from_secs(d.backoff_max_s),
        expire_after: Duration::from_secs(d.expire_after_s),
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
