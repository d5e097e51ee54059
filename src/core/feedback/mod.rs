//! The feedback LED, as a pure state machine: it watches what the person at the button
//! cares about — armed or not, a press taken or ignored, how the announcement's
//! deliveries went — and says when the LED goes on or off. Like the other cores it
//! takes `now` and hands back changes plus the next deadline; the daemon drives it on
//! real time and drives a pin with it, `replay` and the tests on virtual time.
//!
//! What shows, from the top:
//! 1. the "no" pattern, for half a second after a press that was seen and ignored;
//! 2. the last announcement's pattern: sending (until every sink has a first
//!    outcome), then delivered (every sink delivered), retrying (while one is) or
//!    failed (one failed or expired);
//! 3. the steady state: on while armed, off while disarmed, off without an arm
//!    switch.
//!
//! Idle stays idle: [`Feedback::deadline`] is `None` unless a pattern is showing, so a
//! steady LED costs no timer at all.

pub mod pattern;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

pub use pattern::{Pattern, Showing};

use crate::model::DeliveryState;

/// A change of the LED: on or off, from this moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedChange {
    pub at: Duration,
    pub on: bool,
}

/// The deliveries of the last announcement, as far as they are known.
#[derive(Debug, Clone)]
struct Watched {
    id: String,
    /// Each sink's latest state; `None` until its first outcome.
    sinks: BTreeMap<String, Option<DeliveryState>>,
    /// A final pattern (delivered or failed) was shown: nothing more to say about it.
    settled: bool,
}

impl Watched {
    /// The pattern its deliveries call for now, once every sink has had a first outcome.
    fn verdict(&self) -> Option<Pattern> {
        let mut states = Vec::with_capacity(self.sinks.len());
        for state in self.sinks.values() {
            states.push((*state)?);
        }
        Some(
            if states
                .iter()
                .any(|s| matches!(s, DeliveryState::Failed | DeliveryState::Expired))
            {
                Pattern::Failed
            } else if states.contains(&DeliveryState::Pending) {
                Pattern::Retrying
            } else {
                Pattern::Delivered
            },
        )
    }
}

/// The LED's state machine.
#[derive(Debug, Clone)]
pub struct Feedback {
    /// Whether an arm switch exists: without one the steady state is off.
    has_arm_switch: bool,
    armed: bool,
    /// The last announcement's pattern.
    activity: Option<Showing>,
    /// The "no" pattern, over everything else while it shows.
    overlay: Option<Showing>,
    watched: Option<Watched>,
    /// The level last reported.
    on: bool,
    /// The latest time seen; nothing happens before it.
    now: Duration,
}

impl Feedback {
    /// The LED at `now`: the steady state for `armed`. The first change reported is
    /// from that level; the caller sets the pin to [`Feedback::on`] at start.
    pub fn new(has_arm_switch: bool, armed: bool, now: Duration) -> Feedback {
        let mut feedback = Feedback {
            has_arm_switch,
            armed,
            activity: None,
            overlay: None,
            watched: None,
            on: false,
            now,
        };
        feedback.on = feedback.level_at(now);
        feedback
    }

    /// Whether the LED is on (after the last call).
    pub fn on(&self) -> bool {
        self.on
    }

    /// The pattern showing now, if any (the "no" pattern over the announcement's).
    pub fn showing(&self) -> Option<Pattern> {
        self.overlay.or(self.activity).map(|s| s.pattern)
    }

    /// The arm switch moved.
    pub fn arm(&mut self, armed: bool, at: Duration, out: &mut Vec<LedChange>) {
        let at = self.catch_up(at, out);
        self.armed = armed;
        self.settle(at, out);
    }

    /// A gesture was seen and ignored, or maps to no action.
    pub fn ignored(&mut self, at: Duration, out: &mut Vec<LedChange>) {
        let at = self.catch_up(at, out);
        self.overlay = Some(Showing {
            pattern: Pattern::No,
            since: at,
        });
        self.settle(at, out);
    }

    /// A gesture became announcement `id`, to be delivered to `sinks`.
    pub fn announced<'a>(
        &mut self,
        id: &str,
        sinks: impl IntoIterator<Item = &'a str>,
        at: Duration,
        out: &mut Vec<LedChange>,
    ) {
        let at = self.catch_up(at, out);
        self.watched = Some(Watched {
            id: id.to_string(),
            sinks: sinks.into_iter().map(|s| (s.to_string(), None)).collect(),
            settled: false,
        });
        self.activity = Some(Showing {
            pattern: Pattern::Sending,
            since: at,
        });
        // An ignored press just before does not hide the new one's blink.
        self.overlay = None;
        self.judge(at);
        self.settle(at, out);
    }

    /// An attempt to deliver announcement `id` to `sink` ended in `state` (pending:
    /// it will be retried). Outcomes of other announcements (older ones, resumed from
    /// the outbox) do not show.
    pub fn delivery(
        &mut self,
        id: &str,
        sink: &str,
        state: DeliveryState,
        at: Duration,
        out: &mut Vec<LedChange>,
    ) {
        let at = self.catch_up(at, out);
        let Some(watched) = self.watched.as_mut().filter(|w| w.id == id && !w.settled) else {
            return;
        };
        let Some(slot) = watched.sinks.get_mut(sink) else {
            return;
        };
        *slot = Some(state);
        self.judge(at);
        self.settle(at, out);
    }

    /// When the LED may next change by itself: the next step of the pattern showing.
    /// `None` when none is (a steady LED needs no timer).
    pub fn deadline(&self) -> Option<Duration> {
        [self.overlay, self.activity]
            .into_iter()
            .flatten()
            .filter_map(|s| s.next_boundary_after(self.now))
            .min()
    }

    /// Serves every deadline up to `now`, each change stamped with its own time;
    /// returns the time it got to (never before the latest one seen).
    pub fn advance(&mut self, now: Duration, out: &mut Vec<LedChange>) -> Duration {
        self.serve_until(now, true, out)
    }

    /// Before an input at `at`: serves the deadlines before it (one exactly at `at` is
    /// judged after the input, so a pattern that ends or steps just then cannot make a
    /// zero-length blip); returns the time of the input (never before the latest seen).
    fn catch_up(&mut self, at: Duration, out: &mut Vec<LedChange>) -> Duration {
        self.serve_until(at, false, out)
    }

    /// Serves the deadlines before `limit` (and at it, when `inclusive`), each change
    /// stamped with its own time; returns the time it got to.
    fn serve_until(
        &mut self,
        limit: Duration,
        inclusive: bool,
        out: &mut Vec<LedChange>,
    ) -> Duration {
        while let Some(due) = self
            .deadline()
            .filter(|&due| due < limit || (inclusive && due == limit))
        {
            self.now = due;
            self.settle(due, out);
        }
        self.now = self.now.max(limit);
        self.now
    }

    /// Serves every remaining deadline (the end of a replay). A pattern that repeats
    /// (sending, retrying) would go on for ever: it is left showing.
    pub fn finish(&mut self, out: &mut Vec<LedChange>) {
        while let Some(due) = self.deadline() {
            if self.overlay.is_none() && self.activity.is_some_and(|a| a.pattern.repeats()) {
                break;
            }
            self.advance(due, out);
        }
    }

    /// Picks the announcement's pattern from its deliveries' outcomes.
    fn judge(&mut self, at: Duration) {
        let Some(watched) = self.watched.as_mut() else {
            return;
        };
        let Some(verdict) = watched.verdict() else {
            return; // still sending
        };
        let current = self.activity.map(|a| a.pattern);
        if current == Some(verdict) && verdict.repeats() {
            return; // already retrying: keep the rhythm
        }
        if verdict != Pattern::Retrying {
            watched.settled = true;
        }
        self.activity = Some(Showing {
            pattern: verdict,
            since: at,
        });
    }

    /// Drops patterns that are over and reports the level at `at` if it changed.
    fn settle(&mut self, at: Duration, out: &mut Vec<LedChange>) {
        if self.overlay.is_some_and(|s| s.over_at(at)) {
            self.overlay = None;
        }
        if self.activity.is_some_and(|s| s.over_at(at)) {
            self.activity = None;
        }
        let on = self.level_at(at);
        if on != self.on {
            self.on = on;
            out.push(LedChange { at, on });
        }
    }

    fn level_at(&self, at: Duration) -> bool {
        [self.overlay, self.activity]
            .into_iter()
            .flatten()
            .find_map(|s| s.level_at(at))
            .unwrap_or(self.has_arm_switch && self.armed)
    }
}
