//! One sink's delivery worker: its own queue, its own pace.
//!
//! Each sink gets a task of its own, so one sink's backlog, rate limit or outage never
//! slows another. Within a sink, announcements go out in the order they were made
//! (the lab never reads "all gone" before "arrived"): the head of the queue blocks
//! the rest until it is delivered, failed or expired. A `Retry-After` therefore pauses
//! just this sink. With nothing queued the task waits on its inbox alone — no timer.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use super::journal::Journal;
use super::policy::RetryPolicy;
use super::send_one;
use crate::announce::Announcement;
use crate::events::Outcome;
use crate::outbox::Final;
use crate::sinks::{ConfiguredSink, SendError};

/// One queued delivery.
#[derive(Debug, Clone)]
pub struct Queued {
    pub announcement: Arc<Announcement>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this (a retry's schedule).
    pub not_before: Option<Timestamp>,
}

/// What happened to one attempt, for event lines and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub announcement: String,
    pub sink: String,
    pub kind: &'static str,
    pub outcome: Outcome,
    pub attempt: u32,
    pub error: Option<String>,
}

/// A sink's worker and its channels.
pub struct SinkWorker {
    pub sink: ConfiguredSink,
    pub queue: VecDeque<Queued>,
    pub inbox: mpsc::UnboundedReceiver<Arc<Announcement>>,
    pub reports: mpsc::UnboundedSender<DeliveryReport>,
    pub journal: Journal,
    pub policy: RetryPolicy,
    pub stop: watch::Receiver<bool>,
}

/// Time until `at` on the wall clock (zero if past).
fn until(at: Timestamp) -> Duration {
    Timestamp::now()
        .duration_until(at)
        .try_into()
        .unwrap_or(Duration::ZERO)
}

impl SinkWorker {
    /// Delivers until told to stop; a send in progress is finished first.
    pub async fn run(mut self) {
        loop {
            if *self.stop.borrow() {
                return;
            }
            let Some(head) = self.queue.front().cloned() else {
                // Idle: wait for work or the stop signal only.
                tokio::select! {
                    next = self.inbox.recv() => match next {
                        Some(a) => self.enqueue(a),
                        None => return,
                    },
                    _ = self.stop.changed() => return,
                }
                continue;
            };
            let expires = self.policy.expires_at(head.announcement.created);
            if Timestamp::now() >= expires {
                self.expire(&head);
                continue;
            }
            if let Some(not_before) = head.not_before.filter(|&t| t > Timestamp::now()) {
                let wake = until(not_before.min(expires));
                tokio::select! {
                    () = tokio::time::sleep(wake) => {}
                    next = self.inbox.recv() => if let Some(a) = next { self.enqueue(a) },
                    _ = self.stop.changed() => return,
                }
                continue;
            }
            self.attempt(head).await;
        }
    }

    fn enqueue(&mut self, announcement: Arc<Announcement>) {
        self.queue.push_back(Queued {
            announcement,
            attempts: 0,
            not_before: None,
        });
    }

    fn name(&self) -> &str {
        self.sink.sink.name()
    }

    fn report(&self, q: &Queued, outcome: Outcome, attempt: u32, error: Option<String>) {
        let _ = self.reports.send(DeliveryReport {
            announcement: q.announcement.id.clone(),
            sink: self.name().to_string(),
            kind: self.sink.sink.kind(),
            outcome,
            attempt,
            error,
        });
    }

    fn expire(&mut self, head: &Queued) {
        let error = format!(
            "not delivered within expire_after_s ({} s); given up",
            self.policy.expire_after.as_secs()
        );
        log::warn!(
            "sink {}: announcement {} expired after {} attempts",
            self.name(),
            head.announcement.id,
            head.attempts
        );
        self.journal.finish(
            &head.announcement.id,
            self.name(),
            Final::Expired,
            head.attempts,
            Some(&error),
        );
        self.report(head, Outcome::Expired, head.attempts, Some(error));
        self.queue.pop_front();
    }

    /// One attempt at the head of the queue, and its bookkeeping.
    async fn attempt(&mut self, mut head: Queued) {
        let attempt = head.attempts + 1;
        let report = send_one(&self.sink, &head.announcement, attempt).await;
        let id = head.announcement.id.clone();
        match report.result {
            Ok(()) => {
                self.journal
                    .finish(&id, self.name(), Final::Delivered, attempt, None);
                self.report(&head, Outcome::Delivered, attempt, None);
                self.queue.pop_front();
            }
            Err(SendError::Permanent { message }) => {
                log::error!(
                    "sink {}: announcement {id} failed for good: {message}",
                    self.name()
                );
                self.journal
                    .finish(&id, self.name(), Final::Failed, attempt, Some(&message));
                self.report(&head, Outcome::Failed, attempt, Some(message));
                self.queue.pop_front();
            }
            Err(SendError::Retryable {
                message,
                retry_after,
            }) => {
                let delay = self.policy.delay(attempt, fastrand::f64(), retry_after);
                let next = Timestamp::now()
                    .checked_add(
                        jiff::SignedDuration::try_from(delay).unwrap_or(jiff::SignedDuration::MAX),
                    )
                    .unwrap_or(Timestamp::MAX);
                log::warn!(
                    "sink {}: attempt {attempt} for {id} failed ({message}); next in {:.1} s",
                    self.name(),
                    delay.as_secs_f64()
                );
                self.journal
                    .retry(&id, self.name(), attempt, next, &message);
                self.report(&head, Outcome::Retrying, attempt, Some(message));
                head.attempts = attempt;
                head.not_before = Some(next);
                if let Some(front) = self.queue.front_mut() {
                    *front = head;
                }
            }
        }
    }
}
