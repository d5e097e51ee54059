//! Gestures: clean button changes become press, long press or double press — and the
//! arm switch decides whether they count.
//!
//! One physical gesture yields exactly one gesture, fired at the earliest moment that
//! is unambiguous for the gestures that are enabled:
//! - only `press` enabled: on the (debounced) press-down;
//! - `long_press` enabled: a long press fires the moment the hold reaches
//!   `long_press`, while still held (so the person gets feedback); a shorter press
//!   fires on release;
//! - `double_press` enabled: a second press-down within `double_gap` of the first
//!   release fires a double press; otherwise the single press fires once the gap has
//!   passed.
//!
//! A press is always recognised (its action may be unmapped); long and double presses
//! only when enabled, because enabling them delays the plain press.
//!
//! Arming: a gesture counts only if the switch was armed for the whole of it, from its
//! first press-down until it fired. Others fire marked `disarmed`, so they can be
//! reported as ignored.
//!
//! Pure: the caller passes edge times (the first edge of each debounced change) and the
//! current time, and calls [`GestureMachine::on_deadline`] at [`GestureMachine::deadline`].

use std::time::Duration;

use crate::model::{Gesture, GestureKind};

/// Which gestures are enabled, and their timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GestureTiming {
    /// `Some(hold)` when long presses are enabled.
    pub long_press: Option<Duration>,
    /// `Some(gap)` when double presses are enabled: the longest time from the first
    /// release to the second press-down.
    pub double_gap: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// The first press is down, nothing has fired yet.
    Down {
        start: Duration,
    },
    /// A short first press was released; a second one would make a double.
    Released {
        start: Duration,
        released: Duration,
    },
    /// A gesture fired while the button is still down; waiting for release.
    Held,
}

/// The gesture recogniser and arm gate for one button.
#[derive(Debug, Clone)]
pub struct GestureMachine {
    timing: GestureTiming,
    state: State,
    armed: bool,
    /// The gesture in progress saw the switch off.
    spoiled: bool,
}

impl GestureMachine {
    /// A machine at rest with the button up.
    pub fn new(timing: GestureTiming, armed: bool) -> Self {
        GestureMachine {
            timing,
            state: State::Idle,
            armed,
            spoiled: false,
        }
    }

    pub fn armed(&self) -> bool {
        self.armed
    }

    /// The arm switch changed.
    pub fn on_arm(&mut self, armed: bool) {
        self.armed = armed;
        if !armed && matches!(self.state, State::Down { .. } | State::Released { .. }) {
            self.spoiled = true;
        }
    }

    /// The button went down; `at` is the first edge of the change, `now` the time it
    /// was accepted.
    pub fn on_press(&mut self, at: Duration, now: Duration, out: &mut Vec<Gesture>) {
        match self.state {
            State::Released { start, released } => {
                let gap = self.timing.double_gap.unwrap_or_default();
                if at <= released + gap {
                    self.fire(GestureKind::DoublePress, start, now, out);
                    self.state = State::Held;
                    return;
                }
                // The gap ran out before this press (its deadline was not served):
                // the first press stands alone and this one starts afresh.
                self.fire(GestureKind::Press, start, now, out);
                self.start_press(at, now, out);
            }
            State::Idle => self.start_press(at, now, out),
            State::Down { .. } | State::Held => {}
        }
    }

    /// The button came up.
    pub fn on_release(&mut self, at: Duration, now: Duration, out: &mut Vec<Gesture>) {
        match self.state {
            State::Down { start } => {
                if self
                    .timing
                    .long_press
                    .is_some_and(|hold| at >= start + hold)
                {
                    // The long-press deadline was not served before the release.
                    self.fire(GestureKind::LongPress, start, now, out);
                    self.state = State::Idle;
                } else if self.timing.double_gap.is_some() {
                    self.state = State::Released {
                        start,
                        released: at,
                    };
                } else {
                    self.fire(GestureKind::Press, start, now, out);
                    self.state = State::Idle;
                }
            }
            State::Held => self.state = State::Idle,
            State::Idle | State::Released { .. } => {}
        }
    }

    /// When [`on_deadline`](Self::on_deadline) must be called, if anything is pending.
    pub fn deadline(&self) -> Option<Duration> {
        match self.state {
            State::Down { start } => self.timing.long_press.map(|hold| start + hold),
            State::Released { released, .. } => self.timing.double_gap.map(|gap| released + gap),
            State::Idle | State::Held => None,
        }
    }

    /// Fires what is due at `now`.
    pub fn on_deadline(&mut self, now: Duration, out: &mut Vec<Gesture>) {
        if self.deadline().is_none_or(|deadline| now < deadline) {
            return;
        }
        match self.state {
            State::Down { start } => {
                self.fire(GestureKind::LongPress, start, now, out);
                self.state = State::Held;
            }
            State::Released { start, .. } => {
                self.fire(GestureKind::Press, start, now, out);
                self.state = State::Idle;
            }
            State::Idle | State::Held => {}
        }
    }

    fn start_press(&mut self, at: Duration, now: Duration, out: &mut Vec<Gesture>) {
        self.spoiled = !self.armed;
        if self.timing.long_press.is_none() && self.timing.double_gap.is_none() {
            self.fire(GestureKind::Press, at, now, out);
            self.state = State::Held;
        } else {
            self.state = State::Down { start: at };
        }
    }

    fn fire(
        &mut self,
        kind: GestureKind,
        first_edge: Duration,
        now: Duration,
        out: &mut Vec<Gesture>,
    ) {
        out.push(Gesture {
            kind,
            first_edge,
            at: now,
            disarmed: self.spoiled || !self.armed,
        });
        self.spoiled = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    const LONG: u64 = 1500;
    const GAP: u64 = 400;

    fn timing(long: bool, double: bool) -> GestureTiming {
        GestureTiming {
            long_press: long.then_some(ms(LONG)),
            double_gap: double.then_some(ms(GAP)),
        }
    }

    /// Feeds clean presses `(down, up)` into a machine, serving deadlines on the way.
    fn run(m: &mut GestureMachine, presses: &[(u64, u64)]) -> Vec<Gesture> {
        let mut out = Vec::new();
        let serve = |m: &mut GestureMachine, until: u64, out: &mut Vec<Gesture>| {
            while let Some(deadline) = m.deadline().filter(|&d| d <= ms(until)) {
                m.on_deadline(deadline, out);
            }
        };
        for &(down, up) in presses {
            serve(m, down, &mut out);
            m.on_press(ms(down), ms(down), &mut out);
            serve(m, up, &mut out);
            m.on_release(ms(up), ms(up), &mut out);
        }
        serve(m, u64::MAX / 2, &mut out);
        out
    }

    /// The rules written plainly: what a person expects from each physical gesture.
    fn expected(long: bool, double: bool, presses: &[(u64, u64)]) -> Vec<(GestureKind, u64, u64)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < presses.len() {
            let (down, up) = presses[i];
            let is_long = long && up - down >= LONG;
            let next_within_gap = presses.get(i + 1).filter(|next| next.0 - up <= GAP);
            if let (true, false, Some(next)) = (double, is_long, next_within_gap) {
                out.push((GestureKind::DoublePress, down, next.0));
                i += 2;
                continue;
            }
            if is_long {
                out.push((GestureKind::LongPress, down, down + LONG));
            } else {
                let at = match (long, double) {
                    (false, false) => down,
                    (_, true) => up + GAP,
                    (true, false) => up,
                };
                out.push((GestureKind::Press, down, at));
            }
            i += 1;
        }
        out
    }

    /// Presses as (hold, gap before the next); times avoid exact ties with the
    /// long-press and gap thresholds, where the order of equal deadlines decides.
    fn presses() -> impl Strategy<Value = Vec<(u64, u64)>> {
        prop::collection::vec((30u64..3000, 30u64..1200), 1..12).prop_map(|holds| {
            let mut t = 1000;
            holds
                .into_iter()
                .map(|(hold, gap)| {
                    let hold = if hold == LONG { hold + 1 } else { hold };
                    let gap = if gap == GAP { gap + 1 } else { gap };
                    let press = (t, t + hold);
                    t += hold + gap;
                    press
                })
                .collect()
        })
    }

    proptest! {
        /// One physical gesture yields exactly one gesture, for every combination of
        /// enabled gestures (press only; press + long; press + double; all three).
        #[test]
        fn every_physical_gesture_yields_exactly_one(long: bool, double: bool, presses in presses()) {
            let mut m = GestureMachine::new(timing(long, double), true);
            let got: Vec<_> = run(&mut m, &presses)
                .into_iter()
                .map(|g| (g.kind, g.first_edge.as_millis() as u64, g.at.as_millis() as u64))
                .collect();
            prop_assert_eq!(got, expected(long, double, &presses));
        }
    }

    #[test]
    fn press_only_fires_on_press_down() {
        let mut m = GestureMachine::new(timing(false, false), true);
        let mut out = Vec::new();
        m.on_press(ms(100), ms(120), &mut out);
        assert_eq!(
            out,
            vec![Gesture {
                kind: GestureKind::Press,
                first_edge: ms(100),
                at: ms(120),
                disarmed: false
            }]
        );
        assert_eq!(m.deadline(), None);
    }

    #[test]
    fn long_press_fires_while_held_and_release_adds_nothing() {
        let mut m = GestureMachine::new(timing(true, false), true);
        let mut out = Vec::new();
        m.on_press(ms(100), ms(120), &mut out);
        assert_eq!(m.deadline(), Some(ms(1600)));
        m.on_deadline(ms(1600), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, GestureKind::LongPress);
        assert_eq!(out[0].at, ms(1600));
        m.on_release(ms(5000), ms(5020), &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn disarmed_at_start_or_during_a_gesture_marks_it() {
        let mut m = GestureMachine::new(timing(true, false), false);
        let mut out = Vec::new();
        m.on_press(ms(0), ms(20), &mut out);
        m.on_arm(true);
        m.on_release(ms(200), ms(220), &mut out);
        assert!(out[0].disarmed, "pressed while disarmed");

        m.on_press(ms(1000), ms(1020), &mut out);
        m.on_arm(false);
        m.on_arm(true);
        m.on_release(ms(1200), ms(1220), &mut out);
        assert!(out[1].disarmed, "disarmed during the hold");

        m.on_press(ms(2000), ms(2020), &mut out);
        m.on_release(ms(2200), ms(2220), &mut out);
        assert!(!out[2].disarmed, "armed throughout");
    }

    #[test]
    fn late_second_press_after_an_unserved_gap_is_a_new_press() {
        let mut m = GestureMachine::new(timing(false, true), true);
        let mut out = Vec::new();
        m.on_press(ms(0), ms(20), &mut out);
        m.on_release(ms(100), ms(120), &mut out);
        m.on_press(ms(900), ms(920), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].kind, out[0].first_edge),
            (GestureKind::Press, ms(0))
        );
        m.on_release(ms(1000), ms(1020), &mut out);
        m.on_deadline(ms(1400), &mut out);
        assert_eq!(
            (out[1].kind, out[1].first_edge),
            (GestureKind::Press, ms(900))
        );
    }
}
