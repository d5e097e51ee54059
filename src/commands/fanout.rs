//! The one-shot fan-out of `daas notify`: an announcement goes to every sink at once,
//! each send in its own task under its sink's timeout, so a dead server never delays
//! another; reports come back as sends finish. No outbox and no retries: the person at
//! the keyboard sees at once what each sink said. (The daemon's delivery, with both, is
//! [`crate::daemon::deliveries`].)

use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use crate::model::{Announcement, DeliveryState, Report};
use crate::sinks::ConfiguredSink;

/// Sends in flight.
pub struct Fanout {
    sinks: Vec<ConfiguredSink>,
    in_flight: JoinSet<Report>,
}

impl Fanout {
    pub fn new(sinks: Vec<ConfiguredSink>) -> Self {
        Fanout {
            sinks,
            in_flight: JoinSet::new(),
        }
    }

    /// Starts sending `announcement` to every sink.
    pub fn send(&mut self, announcement: Arc<Announcement>) {
        for configured in &self.sinks {
            let configured = configured.clone();
            let announcement = Arc::clone(&announcement);
            self.in_flight.spawn(async move {
                let started = Instant::now();
                let result = configured.send(&announcement).await;
                let (state, error) = match result {
                    Ok(()) => (DeliveryState::Delivered, None),
                    // One shot: whatever the kind of failure, this send failed.
                    Err(err) => (DeliveryState::Failed, Some(err.to_string())),
                };
                Report {
                    announcement: announcement.id.clone(),
                    sink: configured.sink.name().to_string(),
                    kind: configured.sink.kind(),
                    state,
                    attempt: 1,
                    error,
                    elapsed: Some(started.elapsed()),
                }
            });
        }
    }

    /// Abandons the sends still running (the fan-out bench's hanging sinks).
    pub fn abort_all(&mut self) {
        self.in_flight.abort_all();
    }

    /// The next finished send; `None` when nothing is in flight.
    pub async fn next_report(&mut self) -> Option<Report> {
        loop {
            match self.in_flight.join_next().await? {
                Ok(report) => return Some(report),
                // A send task cannot panic in release (panic = abort); in debug builds
                // a panicking sink is logged and the others carry on.
                Err(err) => log::error!("a sink's send task failed: {err}"),
            }
        }
    }
}
