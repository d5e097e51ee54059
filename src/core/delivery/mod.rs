//! Delivery, pure: per-sink queues, attempts, backoff, `Retry-After` and expiry as one
//! state machine on monotonic time, in the sans-IO shape of quinn-proto's `Connection`.
//!
//! The shell ([`crate::commands::notify_fanout`]) feeds it announcements ([`Delivery::announce`]),
//! deliveries brought back from the outbox ([`Delivery::resume`]) and how each send went
//! ([`Delivery::on_attempt`]), always with `now`; it asks what to do
//! ([`Delivery::poll`]: start a send, or record and report an outcome) and when to ask
//! again ([`Delivery::deadline`]). Nothing here reads a clock, sleeps, spawns or touches
//! the disk, so every rule below is tested exactly on virtual time.
//!
//! The rules:
//! - **One queue per sink**, first in first out: the lab never reads "all gone" before
//!   "arrived". The head blocks the rest until it is delivered, failed or expired, and
//!   one sink's backlog never touches another's queue.
//! - **Retries** pause the sink (not just the head): after a retryable failure nothing
//!   goes to that sink before the delay ([`Policy::delay`]: full-jitter backoff, or the
//!   server's `Retry-After` plus at most 10%).
//! - **Expiry** counts the announcement's age on the monotonic clock: a delivery not
//!   made within `expire_after` of its announcement is given up, and a send never
//!   starts after that. No wall-clock reading is involved, so no clock jump either way
//!   can expire or stall anything. A delivery brought back from the outbox carries the
//!   age it had.
//! - **Exactly one final outcome** per delivery: delivered, failed (permanent) or
//!   expired. A send in flight is never expired under its feet: its answer decides.
//!
//! Time is a [`Duration`] on any monotonic line the shell chooses (the daemon uses
//! CLOCK_BOOTTIME, which counts suspend). The randomness for jitter comes from the
//! [`fastrand::Rng`] passed in, so a seeded core is deterministic.

mod backoff;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Duration;

pub use backoff::{MIN_RETRY_AFTER, Policy, RETRY_AFTER_JITTER};

use crate::model::DeliveryState;

/// A sink, by its position in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SinkId(pub usize);

/// How one send went, as the shell saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Worth trying again; the server may have asked for a wait.
    Retryable {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Trying again will not help.
    Permanent {
        error: String,
    },
}

/// A change to one delivery: the shell records it (outbox) and reports it (event line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<P> {
    pub sink: SinkId,
    pub payload: P,
    /// Pending means the attempt failed and the delivery waits to be tried again.
    pub state: DeliveryState,
    /// For a pending delivery: when it will be tried again; `None` when it will expire
    /// before then (it is not tried again).
    pub retry_in: Option<Duration>,
    /// Attempts made so far.
    pub attempts: u32,
    /// The announcement's age when this happened.
    pub age: Duration,
    /// The last error, for anything but a delivery.
    pub error: Option<String>,
}

/// What the shell must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<P> {
    /// Start sending `payload` to `sink`, then report with [`Delivery::on_attempt`].
    Send {
        sink: SinkId,
        payload: P,
        /// This attempt's number, from 1.
        attempt: u32,
        /// The announcement's age now (messages say when it was made).
        age: Duration,
    },
    Outcome(Outcome<P>),
}

/// A pending delivery brought back from the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed<P> {
    pub payload: P,
    /// The announcement's age now, as far as it is known.
    pub age: Duration,
    pub attempts: u32,
    /// The retry wait still to run, if one was running.
    pub wait: Option<Duration>,
    pub last_error: Option<String>,
}

/// A pending delivery, as [`Delivery::pending`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingView<'a, P> {
    pub sink: SinkId,
    pub payload: &'a P,
    pub attempts: u32,
    pub age: Duration,
    /// How long until the sink may be tried again (`None`: as soon as it is its turn).
    pub wait: Option<Duration>,
}

/// Whether an entry was made in this run or brought back from the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Resumed,
    Fresh,
}

#[derive(Debug, Clone)]
struct Entry<P> {
    payload: P,
    origin: Origin,
    /// When the entry came in, and the announcement's age then.
    since: Duration,
    age_then: Duration,
    /// When it expires.
    expires: Duration,
    attempts: u32,
    last_error: Option<String>,
}

impl<P> Entry<P> {
    fn age(&self, now: Duration) -> Duration {
        self.age_then + now.saturating_sub(self.since)
    }
}

#[derive(Debug, Clone)]
struct SinkQueue<P> {
    entries: VecDeque<Entry<P>>,
    /// The head is being sent.
    in_flight: bool,
    /// Nothing goes to this sink before this (a retry's delay).
    paused_until: Option<Duration>,
    /// The sink's last error, for deliveries that expire before their turn.
    last_error: Option<String>,
}

impl<P> Default for SinkQueue<P> {
    fn default() -> Self {
        SinkQueue {
            entries: VecDeque::new(),
            in_flight: false,
            paused_until: None,
            last_error: None,
        }
    }
}

/// Every sink's queue, and the outcomes not yet handed out.
#[derive(Debug, Clone)]
pub struct Delivery<P> {
    policy: Policy,
    rng: fastrand::Rng,
    sinks: Vec<SinkQueue<P>>,
    outcomes: VecDeque<Outcome<P>>,
}

impl<P: Clone> Delivery<P> {
    /// No deliveries yet, for `sinks` sinks (`SinkId(0)` … `SinkId(sinks - 1)`).
    pub fn new(policy: Policy, sinks: usize, rng: fastrand::Rng) -> Self {
        Delivery {
            policy,
            rng,
            sinks: (0..sinks).map(|_| SinkQueue::default()).collect(),
            outcomes: VecDeque::new(),
        }
    }

    /// How many sinks there are.
    pub fn sink_count(&self) -> usize {
        self.sinks.len()
    }

    /// A new announcement, made at `now`, for every sink.
    pub fn announce(&mut self, now: Duration, payload: P) {
        let expires = now.saturating_add(self.policy.expire_after);
        for queue in &mut self.sinks {
            queue.entries.push_back(Entry {
                payload: payload.clone(),
                origin: Origin::Fresh,
                since: now,
                age_then: Duration::ZERO,
                expires,
                attempts: 0,
                last_error: None,
            });
        }
    }

    /// A pending delivery from the outbox. It goes after the other resumed ones and
    /// before anything made in this run that has not started (it is older); a retry
    /// wait it had pauses the sink for what is left of it.
    ///
    /// # Panics
    /// Never: a `sink` out of range is ignored (the shell only resumes configured sinks).
    pub fn resume(&mut self, now: Duration, sink: SinkId, resumed: Resumed<P>) {
        let expire_after = self.policy.expire_after;
        let Some(queue) = self.sinks.get_mut(sink.0) else {
            return;
        };
        let entry = Entry {
            payload: resumed.payload,
            origin: Origin::Resumed,
            since: now,
            age_then: resumed.age,
            expires: now.saturating_add(expire_after.saturating_sub(resumed.age)),
            attempts: resumed.attempts,
            last_error: resumed.last_error,
        };
        let started = usize::from(queue.in_flight);
        let at = queue
            .entries
            .iter()
            .enumerate()
            .skip(started)
            .find(|(_, e)| e.origin == Origin::Fresh)
            .map_or(queue.entries.len(), |(i, _)| i);
        queue.entries.insert(at, entry);
        if let Some(wait) = resumed.wait {
            let until = now.saturating_add(wait);
            queue.paused_until = Some(queue.paused_until.map_or(until, |p| p.max(until)));
        }
    }

    /// How the send to `sink` (its head, started by a [`Action::Send`]) went.
    /// An answer for a sink with no send in flight is ignored.
    pub fn on_attempt(&mut self, now: Duration, sink: SinkId, attempt: Attempt) {
        let policy = self.policy;
        let Some(queue) = self.sinks.get_mut(sink.0) else {
            return;
        };
        if !queue.in_flight {
            return;
        }
        queue.in_flight = false;
        let Some(mut head) = queue.entries.pop_front() else {
            return;
        };
        let age = head.age(now);
        let (state, error) = match attempt {
            Attempt::Delivered => {
                queue.paused_until = None;
                (DeliveryState::Delivered, None)
            }
            Attempt::Permanent { error } => {
                queue.paused_until = None;
                queue.last_error = Some(error.clone());
                (DeliveryState::Failed, Some(error))
            }
            Attempt::Retryable { error, retry_after } => {
                queue.last_error = Some(error.clone());
                // The sink is paused whatever becomes of this delivery: the server's
                // Retry-After holds for the next one too.
                let delay = policy.delay(head.attempts, self.rng.f64(), retry_after);
                let until = now.saturating_add(delay);
                queue.paused_until = Some(until);
                if now >= head.expires {
                    (
                        DeliveryState::Expired,
                        Some(expired_after(head.attempts, &error)),
                    )
                } else {
                    let retry_in = (until < head.expires).then_some(delay);
                    head.last_error = Some(error.clone());
                    let outcome = Outcome {
                        sink,
                        payload: head.payload.clone(),
                        state: DeliveryState::Pending,
                        retry_in,
                        attempts: head.attempts,
                        age,
                        error: Some(error),
                    };
                    queue.entries.push_front(head);
                    self.outcomes.push_back(outcome);
                    return;
                }
            }
        };
        self.outcomes.push_back(Outcome {
            sink,
            payload: head.payload,
            state,
            retry_in: None,
            attempts: head.attempts,
            age,
            error,
        });
    }

    /// The next thing to do at `now`, or `None` until [`Delivery::deadline`] (or new
    /// input). Call it until it returns `None`.
    pub fn poll(&mut self, now: Duration) -> Option<Action<P>> {
        if let Some(outcome) = self.outcomes.pop_front() {
            return Some(Action::Outcome(outcome));
        }
        for (index, queue) in self.sinks.iter_mut().enumerate() {
            let sink = SinkId(index);
            let started = usize::from(queue.in_flight);
            let expired = queue
                .entries
                .iter()
                .skip(started)
                .position(|e| e.expires <= now)
                .map(|i| i + started);
            if let Some(i) = expired
                && let Some(entry) = queue.entries.remove(i)
            {
                let error = match (&entry.last_error, &queue.last_error) {
                    (Some(own), _) => expired_after(entry.attempts, own),
                    (None, Some(sink_error)) => format!(
                        "expired before its turn, behind earlier deliveries to this sink; \
                         last error there: {sink_error}"
                    ),
                    (None, None) => "expired before it could be sent".to_string(),
                };
                return Some(Action::Outcome(Outcome {
                    sink,
                    age: entry.age(now),
                    payload: entry.payload,
                    state: DeliveryState::Expired,
                    retry_in: None,
                    attempts: entry.attempts,
                    error: Some(error),
                }));
            }
            let paused = queue.paused_until.is_some_and(|until| until > now);
            if queue.in_flight || paused {
                continue;
            }
            if let Some(head) = queue.entries.front_mut() {
                head.attempts += 1;
                queue.in_flight = true;
                queue.paused_until = None;
                return Some(Action::Send {
                    sink,
                    payload: head.payload.clone(),
                    attempt: head.attempts,
                    age: head.age(now),
                });
            }
        }
        None
    }

    /// The next outcome already decided, without starting anything (shutting down:
    /// sends in flight are answered, no new one starts).
    pub fn poll_outcome(&mut self) -> Option<Outcome<P>> {
        self.outcomes.pop_front()
    }

    /// When [`Delivery::poll`] has something to do next, without new input; `None`
    /// when nothing is waiting on time (idle, or only sends in flight).
    pub fn deadline(&self) -> Option<Duration> {
        let mut earliest: Option<Duration> = None;
        let mut consider = |t: Duration| earliest = Some(earliest.map_or(t, |e| e.min(t)));
        for queue in &self.sinks {
            let started = usize::from(queue.in_flight);
            for entry in queue.entries.iter().skip(started) {
                consider(entry.expires);
            }
            if !queue.in_flight
                && !queue.entries.is_empty()
                && let Some(until) = queue.paused_until
            {
                consider(until);
            }
        }
        if !self.outcomes.is_empty() {
            earliest = Some(Duration::ZERO);
        }
        earliest
    }

    /// Every pending delivery, sink by sink in queue order, as it stands at `now`.
    pub fn pending(&self, now: Duration) -> impl Iterator<Item = PendingView<'_, P>> + '_ {
        self.sinks
            .iter()
            .enumerate()
            .flat_map(move |(index, queue)| {
                let wait = queue
                    .paused_until
                    .filter(|&until| until > now)
                    .map(|until| until - now);
                queue.entries.iter().map(move |entry| PendingView {
                    sink: SinkId(index),
                    payload: &entry.payload,
                    attempts: entry.attempts,
                    age: entry.age(now),
                    wait,
                })
            })
    }

    /// How many deliveries are pending (in flight ones included).
    pub fn pending_count(&self) -> usize {
        self.sinks.iter().map(|q| q.entries.len()).sum()
    }

    /// Whether any send is in flight.
    pub fn sending(&self) -> bool {
        self.sinks.iter().any(|q| q.in_flight)
    }
}

/// The error an expired delivery keeps: how many attempts, and the last real error.
fn expired_after(attempts: u32, last: &str) -> String {
    let plural = if attempts == 1 { "" } else { "s" };
    format!("expired after {attempts} attempt{plural}; last: {last}")
}
