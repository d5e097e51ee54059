//! The feedback LED on real time: the pure [`crate::core::feedback`] machine fed with
//! the daemon's events on CLOCK_MONOTONIC, its changes written as event lines and set
//! on the pin. Its timer exists only while a pattern shows.

use std::time::Duration;

use super::DaemonError;
use super::lines::EventLines;
use crate::clock::monotonic;
use crate::core::feedback::{Feedback, LedChange};
use crate::gpio::led::LedOutput;
use crate::model::{Event, Report};

/// The LED and its state machine.
pub struct LedFeedback {
    core: Feedback,
    led: Box<dyn LedOutput>,
    /// The sinks every announcement goes to.
    sinks: Vec<String>,
    changes: Vec<LedChange>,
    /// The pin failed once and was logged: later failures are not.
    failing: bool,
}

impl LedFeedback {
    /// Starts with the LED at the steady state for `armed`.
    pub fn new(
        led: Box<dyn LedOutput>,
        has_arm_switch: bool,
        armed: bool,
        sinks: Vec<String>,
        now: Duration,
    ) -> LedFeedback {
        let core = Feedback::new(has_arm_switch, armed, now);
        let on = core.on();
        let mut feedback = LedFeedback {
            core,
            led,
            sinks,
            changes: Vec::new(),
            failing: false,
        };
        feedback.set_pin(on);
        feedback
    }

    /// A pipeline event: arming, and gestures taken or ignored. `announced` is the id
    /// of the announcement a taken gesture became.
    pub fn event(&mut self, event: &Event, announced: Option<&str>) {
        match event {
            Event::Arm { at, armed } => self.core.arm(*armed, *at, &mut self.changes),
            Event::Gesture { at, .. } => match announced {
                Some(id) => {
                    let sinks = self.sinks.iter().map(String::as_str);
                    self.core.announced(id, sinks, *at, &mut self.changes);
                }
                None => self.core.ignored(*at, &mut self.changes),
            },
            Event::Delivery { .. } | Event::Led { .. } => {}
        }
    }

    /// How an attempt went, reported at `at`.
    pub fn report(&mut self, report: &Report, at: Duration) {
        self.core.delivery(
            &report.announcement,
            &report.sink,
            report.state,
            at,
            &mut self.changes,
        );
    }

    /// When the pattern showing next changes; `None` while the LED is steady.
    pub fn deadline(&self) -> Option<Duration> {
        self.core.deadline()
    }

    /// Serves the pattern's steps up to now.
    pub fn serve(&mut self) {
        self.core.advance(monotonic::now(), &mut self.changes);
    }

    /// Writes the changes since the last call as event lines and sets the pin.
    pub fn flush(&mut self, lines: &mut EventLines) -> Result<(), DaemonError> {
        let Some(last) = self.changes.last().copied() else {
            return Ok(());
        };
        for change in self.changes.drain(..) {
            lines.write(&Event::Led {
                at: change.at,
                on: change.on,
            })?;
        }
        // Only the latest level matters to the pin (steps served late are history).
        self.set_pin(last.on);
        Ok(())
    }

    /// Sets the pin; a failure is logged once until the pin works again.
    fn set_pin(&mut self, on: bool) {
        match self.led.set(on) {
            Ok(()) => self.failing = false,
            Err(err) if !self.failing => {
                log::warn!("the feedback LED: {err}; presses are still announced");
                self.failing = true;
            }
            Err(_) => {}
        }
    }
}
