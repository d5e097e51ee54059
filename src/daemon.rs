//! `daas run`: the wiring. An input source feeds the pipeline on real time
//! ([`crate::live`]); fired actions become announcements, committed to the outbox and
//! handed to one delivery worker per sink; event lines go to `--events`. Signals stop
//! it cleanly.
//!
//! The loop sleeps in the kernel until one of: an edge, the pipeline's next deadline,
//! a delivery report, or a signal. With nothing pending there is no timer at all.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::announce;
use crate::config::{Config, GpioBackend};
use crate::dispatch::durable::Deliveries;
use crate::dispatch::policy::RetryPolicy;
use crate::dispatch::worker::DeliveryReport;
use crate::events::Event;
use crate::input::gpiocdev::GpiocdevSource;
use crate::input::rppal::RppalSource;
use crate::input::sim::SimSource;
use crate::input::{EdgeSource, InputError};
use crate::live::{LiveInput, Step};
use crate::monotonic;
use crate::outbox::Outbox;
use crate::pipeline::Pipeline;
use crate::sinks::ConfiguredSink;
use crate::systemd::Systemd;

/// How long shutdown waits for sends in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What went wrong running the daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Input(#[from] InputError),
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

    fn delivery(&mut self, report: DeliveryReport) -> Result<(), DaemonError> {
        self.write(&Event::Delivery {
            at: monotonic::now(),
            announcement: report.announcement,
            sink: report.sink,
            outcome: report.outcome,
            attempt: report.attempt,
        })
    }
}

/// Opens the outbox, or explains loudly why delivery runs without it.
fn open_outbox(state_dir: &std::path::Path) -> Option<Outbox> {
    match Outbox::open(state_dir) {
        Ok(outbox) => Some(outbox),
        Err(err) => {
            log::error!(
                "NO OUTBOX: {err}; presses are still sent, but deliveries pending at a restart or power cut will be lost"
            );
            None
        }
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
                let now = jiff::ZonedDateTime::now();
                if let Some(a) = announce::make(config, action, &now, announce::new_id()) {
                    log::info!(
                        "{} → {action}: announcing \"{}\" ({})",
                        gesture.name(),
                        a.subject,
                        a.id
                    );
                    deliveries.announce(a);
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
    let source = open_source(&config, options.simulate)?;
    let mut sigint =
        signal(SignalKind::interrupt()).map_err(|e| DaemonError::Signal("SIGINT", e))?;
    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| DaemonError::Signal("SIGTERM", e))?;
    let policy = RetryPolicy::from_config(&config.delivery);
    let history = Duration::from_secs(config.delivery.history_days * 86_400);
    let mut deliveries = Deliveries::start(sinks, open_outbox(&options.state_dir), policy, history);
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
            Some(report) = deliveries.next_report() => lines.delivery(report)?,
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

/// The next watchdog tick (never, without a watchdog).
async fn tick(watchdog: &mut Option<tokio::time::Interval>) {
    match watchdog {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}
