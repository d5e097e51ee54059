//! `daas run`: the wiring. An input source feeds the pipeline on real time; fired
//! actions become announcements and go to the dispatcher; event lines go to
//! `--events`. Signals stop it cleanly.
//!
//! The loop sleeps in the kernel until one of: an edge, the pipeline's next deadline,
//! a finished send, or a signal. With nothing pending there is no timer at all.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::announce;
use crate::config::{Config, GpioBackend};
use crate::dispatch::{Dispatcher, Report};
use crate::events::{Event, Outcome};
use crate::input::gpiocdev::GpiocdevSource;
use crate::input::rppal::RppalSource;
use crate::input::sim::SimSource;
use crate::input::{EdgeSource, InputError};
use crate::monotonic;
use crate::pipeline::Pipeline;
use crate::sinks::ConfiguredSink;

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

struct Daemon {
    config: Config,
    origin: Duration,
    events: Option<Box<dyn Write + Send>>,
    dispatcher: Dispatcher,
    scratch: Vec<Event>,
}

impl Daemon {
    fn write_event(&mut self, event: &Event) -> Result<(), DaemonError> {
        if let Some(out) = &mut self.events {
            let line = event.to_line(self.origin);
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(DaemonError::Events)?;
        }
        Ok(())
    }

    /// Writes the pipeline's events and starts an announcement for each accepted action.
    fn handle_events(&mut self) -> Result<(), DaemonError> {
        let events = std::mem::take(&mut self.scratch);
        for event in &events {
            self.write_event(event)?;
            match event {
                Event::Gesture {
                    action: Some(action),
                    ignored: None,
                    gesture,
                    ..
                } => {
                    let now = jiff::ZonedDateTime::now();
                    if let Some(a) = announce::make(&self.config, action, &now, announce::new_id())
                    {
                        log::info!(
                            "{} → {action}: announcing \"{}\" ({})",
                            gesture.name(),
                            a.subject,
                            a.id
                        );
                        self.dispatcher.send(Arc::new(a));
                    }
                }
                Event::Gesture {
                    gesture,
                    ignored: Some(why),
                    ..
                } => {
                    log::info!("{} ignored: {}", gesture.name(), why.name());
                }
                Event::Arm { armed, .. } => {
                    log::info!("{}", if *armed { "armed" } else { "disarmed" })
                }
                _ => {}
            }
        }
        self.scratch = events;
        self.scratch.clear();
        Ok(())
    }

    fn report(&mut self, report: Report) -> Result<(), DaemonError> {
        let outcome = match &report.result {
            Ok(()) => Outcome::Delivered,
            Err(err) => {
                log::warn!("sink {} ({}): {err}", report.sink, report.kind);
                Outcome::Failed
            }
        };
        self.write_event(&Event::Delivery {
            at: monotonic::now(),
            announcement: report.announcement,
            sink: report.sink,
            outcome,
            attempt: report.attempt,
        })
    }
}

/// Runs the daemon until SIGINT/SIGTERM (or the simulated button quits).
pub async fn run(
    config: Config,
    sinks: Vec<ConfiguredSink>,
    options: RunOptions,
) -> Result<(), DaemonError> {
    let mut source = open_source(&config, options.simulate)?;
    let mut sigint =
        signal(SignalKind::interrupt()).map_err(|e| DaemonError::Signal("SIGINT", e))?;
    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| DaemonError::Signal("SIGTERM", e))?;
    let origin = monotonic::now();
    let mut pipeline = Pipeline::new(&config, source.starting_levels(), origin);
    log::info!(
        "ready: {} on GPIO {}{}",
        config.device_name(),
        config.button.pin,
        if pipeline.armed() {
            ", armed"
        } else {
            ", disarmed"
        }
    );
    let mut daemon = Daemon {
        dispatcher: Dispatcher::new(sinks),
        config,
        origin,
        events: options.events,
        scratch: Vec::new(),
    };

    loop {
        let deadline = pipeline.deadline();
        tokio::select! {
            edge = source.next_edge() => match edge {
                Some(Ok(edge)) => pipeline.edge(edge, &mut daemon.scratch),
                Some(Err(err)) => return Err(err.into()),
                None => {
                    log::info!("the simulated button quit");
                    break;
                }
            },
            () = sleep_until(deadline), if deadline.is_some() => {
                pipeline.advance(monotonic::now(), &mut daemon.scratch);
            }
            Some(report) = daemon.dispatcher.next_report(), if daemon.dispatcher.busy() => daemon.report(report)?,
            _ = sigint.recv() => { log::info!("SIGINT: stopping"); break; }
            _ = sigterm.recv() => { log::info!("SIGTERM: stopping"); break; }
        }
        daemon.handle_events()?;
    }

    // Stop taking presses; let sends in flight finish, within a bound.
    drop(source);
    let grace = tokio::time::sleep(SHUTDOWN_GRACE);
    tokio::pin!(grace);
    while daemon.dispatcher.busy() {
        tokio::select! {
            Some(report) = daemon.dispatcher.next_report() => daemon.report(report)?,
            () = &mut grace => {
                log::warn!("sends still running after {} s; stopping anyway", SHUTDOWN_GRACE.as_secs());
                daemon.dispatcher.abort_all();
                break;
            }
        }
    }
    Ok(())
}

async fn sleep_until(deadline: Option<Duration>) {
    if let Some(at) = deadline {
        tokio::time::sleep_until(monotonic::instant_at(at)).await;
    }
}
