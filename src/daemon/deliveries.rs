//! The daemon's delivery: the pure core ([`crate::core::delivery`]) driven on real time.
//!
//! This is the thin shell around the core. It reads the clock (CLOCK_BOOTTIME), starts
//! each send the core asks for as a task of its own (under the sink's timeout, with
//! the message rendered from the announcement's templates just then, so it carries the
//! best-known time of the press), feeds the answers back, hands every change to the
//! outbox writer (a thread: the runtime never waits on the disk) and reports each
//! outcome for event lines. The core decides everything else: order, retries, expiry.
//!
//! With nothing pending there is no timer at all; with a retry pending, one sleep until
//! the core's next deadline.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinSet;
use tokio::time::Sleep;

use crate::clock::WallClock;
use crate::core::delivery::{Action, Attempt, Delivery, Outcome, Policy, Resumed, SinkId};
use crate::model::{DeliveryState, Draft, Report};
use crate::outbox::writer::{Event as WriterEvent, Started, Writer};
use crate::outbox::{Change, Pending, Stamp};
use crate::sinks::{ConfiguredSink, SendError};

/// How the shell tells time: CLOCK_BOOTTIME in the daemon, tokio's (pausable) clock
/// in tests.
pub type Now = fn() -> Duration;

/// Delivery settings.
pub struct Settings {
    pub policy: Policy,
    /// How long finished history is kept.
    pub history: Duration,
    pub now: Now,
    /// The zone messages show times in.
    pub tz: TimeZone,
}

/// History is pruned at start-up and then at most daily, on an announcement (a write
/// happens then anyway; no timer for it).
const PRUNE_EVERY: Duration = Duration::from_secs(86_400);

/// The daemon's side of delivery.
pub struct Deliveries {
    core: Delivery<Arc<Draft>>,
    sinks: Vec<ConfiguredSink>,
    names: Vec<String>,
    writer: Writer,
    wall: WallClock,
    tz: TimeZone,
    boot_id: Option<String>,
    settings: Settings,
    in_flight: JoinSet<(SinkId, Attempt)>,
    reports: VecDeque<Report>,
    /// The sleep until the core's deadline, and that deadline.
    timer: Option<(Duration, Pin<Box<Sleep>>)>,
    last_prune: Option<Duration>,
}

impl Deliveries {
    /// Takes over the started outbox writer and resumes the pending deliveries it
    /// found. Deliveries to a sink no longer in the config are closed as failed,
    /// saying so.
    pub fn start(
        sinks: Vec<ConfiguredSink>,
        started: Started,
        wall: WallClock,
        settings: Settings,
    ) -> Self {
        let names: Vec<String> = sinks.iter().map(|s| s.sink.name().to_string()).collect();
        let core = Delivery::new(settings.policy, sinks.len(), fastrand::Rng::new());
        let mut deliveries = Deliveries {
            core,
            sinks,
            names,
            writer: started.writer,
            wall,
            tz: settings.tz.clone(),
            boot_id: crate::clock::boot_id(),
            settings,
            in_flight: JoinSet::new(),
            reports: VecDeque::new(),
            timer: None,
            last_prune: None,
        };
        deliveries.resume(started.pending);
        deliveries.prune_if_due();
        deliveries
    }

    /// The configured sinks' names: every announcement goes to each.
    pub fn sink_names(&self) -> &[String] {
        &self.names
    }

    /// Starts every sink's session (see [`crate::sinks::Sink::start`]), all at once,
    /// waiting at most `within` for them; then the first sends (of deliveries resumed
    /// from the outbox) go out.
    pub async fn start_sinks(&mut self, within: Duration) {
        let starts = self.sinks.iter().map(|s| s.sink.start());
        if tokio::time::timeout(within, futures_util::future::join_all(starts))
            .await
            .is_err()
        {
            log::warn!(
                "a sink took more than {} s to start; going on without waiting",
                within.as_secs()
            );
        }
        self.pump();
    }

    /// The wall clock now, and whether it is trusted (announcements record it).
    pub fn wall(&self) -> crate::model::WallNow {
        self.wall.read()
    }

    fn now(&self) -> Duration {
        (self.settings.now)()
    }

    fn stamp(&self, now: Duration) -> Stamp {
        Stamp {
            wall: Timestamp::now(),
            boot_id: self.boot_id.clone(),
            boot: now,
        }
    }

    /// Pending deliveries from the outbox back into the core, oldest first.
    fn resume(&mut self, pending: Vec<Pending>) {
        let now = self.now();
        let mut drafts: HashMap<String, Arc<Draft>> = HashMap::new();
        let mut resumed = vec![0usize; self.names.len()];
        for p in pending {
            let (age, wait) = p.now(self.boot_id.as_deref(), now);
            let draft = Arc::clone(
                drafts
                    .entry(p.draft.id.clone())
                    .or_insert_with(|| Arc::new(p.draft.clone())),
            );
            let Some(sink) = self.names.iter().position(|n| *n == p.sink) else {
                let why = format!("sink \"{}\" is not in the config any more", p.sink);
                log::warn!(
                    "announcement {}: {why}; closing its delivery as failed",
                    draft.id
                );
                let change = Change {
                    state: DeliveryState::Failed,
                    attempts: p.attempts,
                    age,
                    wait: None,
                    error: Some(why),
                    stamp: self.stamp(now),
                };
                self.writer.update(draft.id.clone(), p.sink, change);
                continue;
            };
            resumed[sink] += 1;
            let entry = Resumed {
                payload: draft,
                age,
                attempts: p.attempts,
                wait,
                last_error: p.last_error,
            };
            self.core.resume(now, SinkId(sink), entry);
        }
        for (name, n) in self.names.iter().zip(resumed) {
            if n > 0 {
                log::info!("sink {name}: resuming {n} pending deliveries");
            }
        }
    }

    /// Deletes old finished history, at most daily, and only with a trusted clock.
    fn prune_if_due(&mut self) {
        let now = self.now();
        if self
            .last_prune
            .is_some_and(|last| now.saturating_sub(last) < PRUNE_EVERY)
        {
            return;
        }
        let wall = self.wall.read();
        if !wall.trusted {
            return;
        }
        let keep = SignedDuration::try_from(self.settings.history).unwrap_or(SignedDuration::MAX);
        if let Ok(cutoff) = wall.now.checked_sub(keep) {
            self.writer.prune(cutoff);
            self.last_prune = Some(now);
        }
    }

    /// A new announcement: to the outbox (on the writer thread) and to every sink now.
    pub fn announce(&mut self, draft: Draft) {
        let now = self.now();
        let draft = Arc::new(draft);
        self.writer
            .add(Arc::clone(&draft), self.names.clone(), self.stamp(now));
        self.core.announce(now, draft);
        self.pump();
        self.prune_if_due();
    }

    /// Does everything the core has to do now, then sets the timer for its deadline.
    fn pump(&mut self) {
        let now = self.now();
        let mut started = 0;
        while let Some(action) = self.core.poll(now) {
            match action {
                Action::Send {
                    sink,
                    payload,
                    attempt,
                    age,
                } => {
                    log::debug!(
                        "sink {}: attempt {attempt} for {}",
                        self.names[sink.0],
                        payload.id
                    );
                    self.send(sink, &payload, age, started);
                    started += 1;
                }
                Action::Outcome(outcome) => self.outcome(now, outcome),
            }
        }
        self.timer = self.core.deadline().map(|at| {
            let sleep = tokio::time::sleep(at.saturating_sub(now));
            (at, Box::pin(sleep))
        });
    }

    /// Starts one send; `turn` sends were started before it in this round.
    fn send(&mut self, sink: SinkId, draft: &Draft, age: Duration, turn: usize) {
        let announcement = draft.render(draft.made_at(age, self.wall.read()), &self.tz);
        let configured = self.sinks[sink.0].clone();
        self.in_flight.spawn(async move {
            // Connections and requests take turns. A new connection's first poll only
            // starts connecting (on loopback the connect syscall itself does the whole
            // handshake, ~0.1 ms on a small machine); its request is written after the
            // runtime's next I/O poll — and a yield is woken just before that poll's
            // I/O wakes. Started all at once, every sink's connect would come before
            // the first request; with `2 × turn` yields, sink k starts only after sink
            // k - 1's request is out. No sink waits on another's network: a round is a
            // non-blocking I/O poll, tens of microseconds (benches/latency.rs: the
            // first of 5 webhooks 1.6 → 0.7 ms).
            for _ in 0..2 * turn {
                tokio::task::yield_now().await;
            }
            let attempt = match configured.send(&announcement).await {
                Ok(()) => Attempt::Delivered,
                Err(SendError::Retryable {
                    message,
                    retry_after,
                }) => Attempt::Retryable {
                    error: message,
                    retry_after,
                },
                Err(SendError::Permanent { message }) => Attempt::Permanent { error: message },
            };
            (sink, attempt)
        });
    }

    /// Records an outcome (outbox), logs it and queues its report.
    fn outcome(&mut self, now: Duration, o: Outcome<Arc<Draft>>) {
        let name = &self.names[o.sink.0];
        let id = &o.payload.id;
        let error = o.error.as_deref().unwrap_or_default();
        match (o.state, o.retry_in) {
            (DeliveryState::Delivered, _) => {
                log::info!("sink {name}: delivered {id} (attempt {})", o.attempts);
            }
            (DeliveryState::Pending, Some(wait)) => log::warn!(
                "sink {name}: attempt {} for {id} failed ({error}); next in {:.1} s",
                o.attempts,
                wait.as_secs_f64()
            ),
            (DeliveryState::Pending, None) => log::warn!(
                "sink {name}: attempt {} for {id} failed ({error}); it expires before the \
                 next could start",
                o.attempts
            ),
            (DeliveryState::Failed, _) => {
                log::error!("sink {name}: announcement {id} failed for good: {error}");
            }
            (DeliveryState::Expired, _) => log::warn!("sink {name}: announcement {id} {error}"),
        }
        let change = Change {
            state: o.state,
            attempts: o.attempts,
            age: o.age,
            wait: o.retry_in,
            error: o.error.clone(),
            stamp: self.stamp(now),
        };
        self.writer.update(id.clone(), name.clone(), change);
        self.reports.push_back(Report {
            announcement: id.clone(),
            sink: name.clone(),
            kind: self.sinks[o.sink.0].sink.kind(),
            state: o.state,
            attempt: o.attempts,
            error: o.error,
            elapsed: None,
        });
    }

    /// The next report. Cancel-safe: every await is on something that keeps its state
    /// (a join set, a stored sleep, a channel), and all handling happens after it.
    pub async fn next_report(&mut self) -> Report {
        loop {
            if let Some(report) = self.reports.pop_front() {
                return report;
            }
            let busy = !self.in_flight.is_empty();
            tokio::select! {
                Some(joined) = self.in_flight.join_next(), if busy => {
                    if let Ok((sink, attempt)) = joined {
                        let now = self.now();
                        self.core.on_attempt(now, sink, attempt);
                    }
                }
                () = deadline(&mut self.timer) => {}
                Some(WriterEvent::Resumed(pending)) = self.writer.next_event() => {
                    self.resume(pending);
                }
            }
            self.pump();
        }
    }

    /// Stops: no new send starts; sends in flight get `grace` to finish (their outcome
    /// is recorded); every pending delivery's age is written down for the next start;
    /// the writer gets `grace` more to write it all. `on_report` gets what happens
    /// meanwhile.
    pub async fn stop(mut self, grace: Duration, mut on_report: impl FnMut(Report)) {
        while let Some(report) = self.reports.pop_front() {
            on_report(report);
        }
        let deadline = tokio::time::sleep(grace);
        tokio::pin!(deadline);
        while !self.in_flight.is_empty() {
            tokio::select! {
                Some(joined) = self.in_flight.join_next() => {
                    if let Ok((sink, attempt)) = joined {
                        let now = self.now();
                        self.core.on_attempt(now, sink, attempt);
                        while let Some(outcome) = self.core.poll_outcome() {
                            self.outcome(now, outcome);
                        }
                        while let Some(report) = self.reports.pop_front() {
                            on_report(report);
                        }
                    }
                }
                () = &mut deadline => {
                    log::warn!(
                        "sends still running after {} s; they stay pending for the next start",
                        grace.as_secs()
                    );
                    self.in_flight.abort_all();
                    break;
                }
            }
        }
        self.checkpoint();
        let stops = self.sinks.iter().map(|s| s.sink.stop());
        if tokio::time::timeout(grace, futures_util::future::join_all(stops))
            .await
            .is_err()
        {
            log::warn!("a sink took more than {} s to stop", grace.as_secs());
        }
        self.writer.close(grace);
    }

    /// Writes every pending delivery's age and wait as they are now, so the next start
    /// carries on from here (after a crash it carries on from the last write instead).
    fn checkpoint(&mut self) {
        let now = self.now();
        let stamp = self.stamp(now);
        for p in self.core.pending(now) {
            let change = Change {
                state: DeliveryState::Pending,
                attempts: p.attempts,
                age: p.age,
                wait: p.wait,
                error: None,
                stamp: stamp.clone(),
            };
            self.writer
                .update(p.payload.id.clone(), self.names[p.sink.0].clone(), change);
        }
    }
}

/// Waits for the stored deadline; never, without one.
async fn deadline(timer: &mut Option<(Duration, Pin<Box<Sleep>>)>) {
    match timer {
        Some((_, sleep)) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
