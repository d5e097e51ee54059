//! `run --events`: the daemon's event lines (the format is the contract in
//! [`crate::events`]), timed from the daemon's start on the monotonic clock.

use std::io::Write;
use std::time::Duration;

use super::DaemonError;
use crate::model::{Event, Report};

/// Event lines, relative to the daemon's start.
pub struct EventLines {
    origin: Duration,
    out: Option<Box<dyn Write + Send>>,
}

impl EventLines {
    pub fn new(origin: Duration, out: Option<Box<dyn Write + Send>>) -> Self {
        EventLines { origin, out }
    }

    pub fn write(&mut self, event: &Event) -> Result<(), DaemonError> {
        if let Some(out) = &mut self.out {
            let line = event.to_line(self.origin);
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(DaemonError::Events)?;
        }
        Ok(())
    }

    /// A delivery report, stamped `at`.
    pub fn delivery(&mut self, report: Report, at: Duration) -> Result<(), DaemonError> {
        self.write(&Event::Delivery {
            at,
            announcement: report.announcement,
            sink: report.sink,
            outcome: report.state,
            attempt: report.attempt,
        })
    }
}
