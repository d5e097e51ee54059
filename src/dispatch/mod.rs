//! Dispatch: every announcement goes to every sink at once, each send in its own task
//! under its sink's timeout, so a dead server never delays another sink.
//!
//! [`Dispatcher`] is the one-shot fan-out (`daas notify`): reports come back as sends
//! finish. The daemon uses [`deliveries::Deliveries`]: the delivery core on real time,
//! with the outbox writer.

pub mod deliveries;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::announce::Announcement;
use crate::sinks::{ConfiguredSink, SendError};

/// How one send went.
#[derive(Debug, Clone)]
pub struct Report {
    pub announcement: String,
    pub sink: String,
    pub kind: &'static str,
    pub attempt: u32,
    pub result: Result<(), SendError>,
    pub elapsed: Duration,
}

/// Sends in flight.
pub struct Dispatcher {
    sinks: Vec<ConfiguredSink>,
    in_flight: JoinSet<Report>,
}

impl Dispatcher {
    pub fn new(sinks: Vec<ConfiguredSink>) -> Self {
        Dispatcher {
            sinks,
            in_flight: JoinSet::new(),
        }
    }

    /// Starts sending `announcement` to every sink.
    pub fn send(&mut self, announcement: Arc<Announcement>) {
        for configured in &self.sinks {
            let configured = configured.clone();
            let announcement = Arc::clone(&announcement);
            self.in_flight
                .spawn(async move { send_one(&configured, &announcement, 1).await });
        }
    }

    /// Whether any send is still running.
    pub fn busy(&self) -> bool {
        !self.in_flight.is_empty()
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

    /// Abandons the sends still running (shutdown after the grace period).
    pub fn abort_all(&mut self) {
        self.in_flight.abort_all();
    }
}

/// One send under the sink's timeout.
pub async fn send_one(
    configured: &ConfiguredSink,
    announcement: &Announcement,
    attempt: u32,
) -> Report {
    let started = Instant::now();
    let sink = &configured.sink;
    let result = match tokio::time::timeout(configured.timeout, sink.send(announcement)).await {
        Ok(result) => result,
        Err(_) => Err(SendError::Retryable {
            message: format!(
                "no answer within {} s (timeout_s)",
                configured.timeout.as_secs()
            ),
            retry_after: None,
        }),
    };
    Report {
        announcement: announcement.id.clone(),
        sink: sink.name().to_string(),
        kind: sink.kind(),
        attempt,
        result,
        elapsed: started.elapsed(),
    }
}
