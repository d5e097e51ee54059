//! Durable delivery for the daemon: announcements committed to the outbox before the
//! first send, one worker per sink, pending deliveries resumed at start-up, and a
//! bounded, clean stop.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::journal::Journal;
use super::policy::RetryPolicy;
use super::worker::{DeliveryReport, Queued, SinkWorker};
use crate::announce::Announcement;
use crate::outbox::{Final, Outbox, Pending};
use crate::sinks::ConfiguredSink;

/// The daemon's side of delivery.
pub struct Deliveries {
    journal: Journal,
    sink_names: Vec<String>,
    inboxes: Vec<mpsc::UnboundedSender<Arc<Announcement>>>,
    reports: mpsc::UnboundedReceiver<DeliveryReport>,
    workers: JoinSet<()>,
    stop: watch::Sender<bool>,
    /// How long finished history is kept, and when it was last pruned.
    history: Duration,
    last_prune: std::time::Instant,
}

/// History is pruned at start-up and then at most daily, on an announcement (a write
/// happens then anyway; no timer for it).
const PRUNE_EVERY: Duration = Duration::from_secs(86_400);

/// Deletes finished history older than `history`.
fn prune(journal: &Journal, history: Duration) {
    let keep = jiff::SignedDuration::try_from(history).unwrap_or(jiff::SignedDuration::MAX);
    if let Ok(cutoff) = Timestamp::now().checked_sub(keep) {
        journal.prune(cutoff);
    }
}

/// Groups pending deliveries by sink, in the outbox's order, sharing each announcement.
fn queues(pending: Vec<Pending>) -> HashMap<String, VecDeque<Queued>> {
    let mut shared: HashMap<String, Arc<Announcement>> = HashMap::new();
    let mut by_sink: HashMap<String, VecDeque<Queued>> = HashMap::new();
    for p in pending {
        let announcement = Arc::clone(
            shared
                .entry(p.announcement.id.clone())
                .or_insert_with(|| Arc::new(p.announcement.clone())),
        );
        by_sink.entry(p.sink).or_default().push_back(Queued {
            announcement,
            attempts: p.attempts,
            not_before: p.next_attempt,
        });
    }
    by_sink
}

impl Deliveries {
    /// Starts one worker per sink with the outbox's pending deliveries. Deliveries to a
    /// sink no longer in the config are closed as failed, saying so.
    pub fn start(
        sinks: Vec<ConfiguredSink>,
        outbox: Option<Outbox>,
        policy: RetryPolicy,
        history: Duration,
    ) -> Self {
        let pending = match outbox.as_ref().map(Outbox::pending) {
            Some(Ok(pending)) => pending,
            Some(Err(err)) => {
                log::error!("cannot read pending deliveries: {err}");
                Vec::new()
            }
            None => Vec::new(),
        };
        let journal = Journal::new(outbox);
        let cutoff = Timestamp::now()
            .checked_sub(jiff::SignedDuration::try_from(history).unwrap_or_default());
        if let Ok(cutoff) = cutoff {
            journal.prune(cutoff);
        }
        let mut queues = queues(pending);
        let (report_tx, reports) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let mut workers = JoinSet::new();
        let mut inboxes = Vec::new();
        let mut sink_names = Vec::new();
        for sink in sinks {
            let name = sink.sink.name().to_string();
            let queue = queues.remove(&name).unwrap_or_default();
            if !queue.is_empty() {
                log::info!("sink {name}: resuming {} pending deliveries", queue.len());
            }
            let (tx, inbox) = mpsc::unbounded_channel();
            let worker = SinkWorker {
                sink,
                queue,
                inbox,
                reports: report_tx.clone(),
                journal: journal.clone(),
                policy,
                stop: stop_rx.clone(),
            };
            workers.spawn(worker.run());
            inboxes.push(tx);
            sink_names.push(name);
        }
        for (sink, orphans) in queues {
            for q in orphans {
                let why = format!("sink \"{sink}\" is not in the config any more");
                log::warn!(
                    "announcement {}: {why}; closing its delivery as failed",
                    q.announcement.id
                );
                journal.finish(
                    &q.announcement.id,
                    &sink,
                    Final::Failed,
                    q.attempts,
                    Some(&why),
                );
            }
        }
        Deliveries {
            journal,
            sink_names,
            inboxes,
            reports,
            workers,
            stop,
            history,
            last_prune: std::time::Instant::now(),
        }
    }

    /// Commits `announcement` to the outbox, then hands it to every sink's worker.
    pub fn announce(&mut self, announcement: Announcement) {
        let names: Vec<&str> = self.sink_names.iter().map(String::as_str).collect();
        self.journal.add(&announcement, &names);
        if self.last_prune.elapsed() >= PRUNE_EVERY {
            prune(&self.journal, self.history);
            self.last_prune = std::time::Instant::now();
        }
        let shared = Arc::new(announcement);
        for inbox in &self.inboxes {
            // A worker only ends at shutdown.
            let _ = inbox.send(Arc::clone(&shared));
        }
    }

    /// The next report from any worker.
    pub async fn next_report(&mut self) -> Option<DeliveryReport> {
        self.reports.recv().await
    }

    /// Stops the workers: none starts a new send; sends in flight get `grace` to finish
    /// (their outcome is recorded); whatever is left stays pending for the next start.
    pub async fn stop(mut self, grace: Duration, mut on_report: impl FnMut(DeliveryReport)) {
        let _ = self.stop.send(true);
        self.inboxes.clear();
        let deadline = tokio::time::sleep(grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                joined = self.workers.join_next() => if joined.is_none() { break },
                Some(report) = self.reports.recv() => on_report(report),
                () = &mut deadline => {
                    log::warn!("sends still running after {} s; they stay pending for the next start", grace.as_secs());
                    self.workers.abort_all();
                    break;
                }
            }
        }
        while let Ok(report) = self.reports.try_recv() {
            on_report(report);
        }
    }
}
