//! The pure chain from edges to decisions: debounce → gestures (with the arm gate) →
//! announce decisions (quiet hours, cooldown). The daemon drives it on real time, `replay` on a
//! trace's virtual time; both get the same [`Event`]s.
//!
//! It owns the order of deadlines. One subtlety: a gesture deadline (the end of the
//! double-press gap, the long-press hold) is not served while the button's debouncer
//! holds an unsettled edge that started before it, because that edge may turn out to
//! be the press or release that decides the gesture. Time is judged by when the person
//! acted (the first edge), not by when the debouncer could be sure. A deadline held
//! back like that fires when it is finally served, and what it fires carries that
//! time: every event is stamped with the pipeline's time when it is made, which never
//! goes back, so events come out in time order (the event-line contract).

use std::time::Duration;

use crate::core::announce::Cooldown;
use crate::core::debounce::Debouncer;
use crate::core::gesture::{GestureMachine, GestureTiming};
use crate::core::quiet::{QuietHours, WallAnchor};
use crate::model::{Edge, Event, Gesture, GestureKind, Ignored, InputId, Level, StartingLevels};

/// One input as the pipeline needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSettings {
    pub debounce: Duration,
    /// The level that means pressed (the button) or armed (the switch).
    pub active: Level,
}

/// An action a gesture is mapped to, with its cooldown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedAction {
    pub name: String,
    pub cooldown: Duration,
}

/// What the pipeline needs from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineSettings {
    pub button: InputSettings,
    /// `None` without an arm switch: always armed.
    pub arm: Option<InputSettings>,
    pub timing: GestureTiming,
    pub press: Option<MappedAction>,
    pub long_press: Option<MappedAction>,
    pub double_press: Option<MappedAction>,
    /// Quiet hours, if configured: they apply only while [`Pipeline::set_wall`] gave a
    /// trusted wall clock.
    pub quiet: Option<QuietHours>,
}

impl PipelineSettings {
    /// The action `kind` is mapped to, if any.
    pub fn action(&self, kind: GestureKind) -> Option<&MappedAction> {
        match kind {
            GestureKind::Press => self.press.as_ref(),
            GestureKind::LongPress => self.long_press.as_ref(),
            GestureKind::DoublePress => self.double_press.as_ref(),
        }
    }
}

/// A debounced input and the level that means "on" (pressed, armed).
#[derive(Debug, Clone)]
struct DebouncedInput {
    debouncer: Debouncer,
    active: Level,
}

/// What is due next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Arm(Duration),
    Button(Duration),
    Gesture(Duration),
}

impl Due {
    fn at(self) -> Duration {
        match self {
            Due::Arm(t) | Due::Button(t) | Due::Gesture(t) => t,
        }
    }
}

/// Edges in, events out.
#[derive(Debug, Clone)]
pub struct Pipeline {
    settings: PipelineSettings,
    button: DebouncedInput,
    arm: Option<DebouncedInput>,
    gestures: GestureMachine,
    cooldown: Cooldown,
    /// The trusted wall clock, for quiet hours; `None` while it is not trusted.
    wall: Option<WallAnchor>,
    /// The latest time seen; edges are never processed before it.
    now: Duration,
    fired: Vec<Gesture>,
}

impl Pipeline {
    /// A pipeline at rest at time `origin`, with the inputs at their starting levels.
    pub fn new(settings: &PipelineSettings, start: StartingLevels, origin: Duration) -> Self {
        let button = DebouncedInput {
            debouncer: Debouncer::new(start.button, settings.button.debounce),
            active: settings.button.active,
        };
        let arm = settings.arm.map(|arm| DebouncedInput {
            debouncer: Debouncer::new(start.arm.unwrap_or(arm.active.flipped()), arm.debounce),
            active: arm.active,
        });
        let armed = arm.as_ref().is_none_or(|a| a.debouncer.level() == a.active);
        Pipeline {
            settings: settings.clone(),
            button,
            arm,
            gestures: GestureMachine::new(settings.timing, armed),
            cooldown: Cooldown::default(),
            wall: None,
            now: origin,
            fired: Vec::new(),
        }
    }

    /// Whether the button is armed now.
    pub fn armed(&self) -> bool {
        self.gestures.armed()
    }

    /// The wall clock, when it is trusted (`None` otherwise: then no press is ignored
    /// for quiet hours). The shell sets it before feeding edges; `replay --start` once.
    pub fn set_wall(&mut self, wall: Option<WallAnchor>) {
        self.wall = wall;
    }

    /// A raw edge. Serves every deadline up to the edge's time first.
    pub fn edge(&mut self, edge: Edge, out: &mut Vec<Event>) {
        let at = edge.at.max(self.now);
        self.advance(at, out);
        match edge.input {
            InputId::Button => self.button.debouncer.edge(edge.level, at),
            InputId::Arm => {
                if let Some(arm) = &mut self.arm {
                    arm.debouncer.edge(edge.level, at);
                }
            }
        }
    }

    /// When [`advance`](Self::advance) has something to do next.
    pub fn deadline(&self) -> Option<Duration> {
        self.next_due().map(Due::at)
    }

    /// Serves every deadline up to `now`, in time order.
    pub fn advance(&mut self, now: Duration, out: &mut Vec<Event>) {
        while let Some(due) = self.next_due().filter(|due| due.at() <= now) {
            // A gesture deadline held back for an unsettled edge is served late, once
            // that edge settled: what it fires happens now, not at the deadline, or it
            // would be stamped before events already out (and, for a long press, before
            // the debounce that accepted its press-down).
            let t = self.now.max(due.at());
            self.now = t;
            match due {
                Due::Arm(_) => {
                    let Some(arm) = &mut self.arm else { continue };
                    if let Some(accepted) = arm.debouncer.settle(t) {
                        let armed = accepted.level == arm.active;
                        self.gestures.on_arm(armed);
                        out.push(Event::Arm { at: t, armed });
                    }
                }
                Due::Button(_) => {
                    if let Some(accepted) = self.button.debouncer.settle(t) {
                        if accepted.level == self.button.active {
                            self.gestures
                                .on_press(accepted.first_edge, t, &mut self.fired);
                        } else {
                            self.gestures
                                .on_release(accepted.first_edge, t, &mut self.fired);
                        }
                    }
                }
                Due::Gesture(_) => self.gestures.on_deadline(t, &mut self.fired),
            }
            self.decide(out);
        }
        self.now = self.now.max(now);
    }

    /// Serves every remaining deadline (the end of a trace).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        while let Some(deadline) = self.deadline() {
            self.advance(deadline, out);
        }
    }

    fn next_due(&self) -> Option<Due> {
        let arm = self
            .arm
            .as_ref()
            .and_then(|a| a.debouncer.deadline())
            .map(Due::Arm);
        let button = self.button.debouncer.deadline().map(Due::Button);
        let gesture = self.gestures.deadline().filter(|&deadline| {
            self.button
                .debouncer
                .pending_since()
                .is_none_or(|first| first > deadline)
        });
        // Ties go to the arm switch, then the button, then gestures.
        [arm, button, gesture.map(Due::Gesture)]
            .into_iter()
            .flatten()
            .min_by_key(|due| due.at())
    }

    /// Turns fired gestures into events: ignored when disarmed, in quiet hours (judged
    /// at the gesture's first edge, when the person pressed) or cooling down. A press
    /// ignored for quiet hours does not start a cooldown.
    fn decide(&mut self, out: &mut Vec<Event>) {
        for gesture in self.fired.drain(..) {
            let mapped = self.settings.action(gesture.kind);
            let action = mapped.map(|m| m.name.clone());
            let quiet = match (&self.settings.quiet, &self.wall) {
                (Some(rule), Some(wall)) => {
                    rule.holds_back(gesture.kind, &wall.at(gesture.first_edge))
                }
                _ => false,
            };
            let ignored = if gesture.disarmed {
                Some(Ignored::Disarmed)
            } else if mapped.is_some() && quiet {
                Some(Ignored::QuietHours)
            } else {
                mapped.and_then(|m| {
                    let admitted = self.cooldown.admit(&m.name, m.cooldown, gesture.at);
                    (!admitted).then_some(Ignored::Cooldown)
                })
            };
            out.push(Event::Gesture {
                at: gesture.at,
                gesture: gesture.kind,
                action,
                first_edge: gesture.first_edge,
                ignored,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn edge(level: Level, at: u64) -> Edge {
        Edge {
            input: InputId::Button,
            level,
            at: ms(at),
        }
    }

    /// A double-press gap (50 ms) shorter than the debounce (100 ms): the gap's end is
    /// due before the release that opened it was accepted.
    #[test]
    fn press_after_a_gap_shorter_than_the_debounce_is_not_stamped_before_its_release() {
        let button = InputSettings {
            debounce: ms(100),
            active: Level::Low,
        };
        let settings = PipelineSettings {
            button,
            arm: None,
            timing: GestureTiming {
                long_press: None,
                double_gap: Some(ms(50)),
            },
            press: Some(MappedAction {
                name: "arrival".into(),
                cooldown: Duration::ZERO,
            }),
            long_press: None,
            double_press: Some(MappedAction {
                name: "more".into(),
                cooldown: Duration::ZERO,
            }),
            quiet: None,
        };
        let start = StartingLevels {
            button: Level::High,
            arm: None,
        };
        let mut pipeline = Pipeline::new(&settings, start, Duration::ZERO);
        let mut out = Vec::new();
        pipeline.edge(edge(Level::Low, 1000), &mut out);
        pipeline.edge(edge(Level::High, 1200), &mut out);
        pipeline.finish(&mut out);
        let stamps: Vec<_> = out
            .iter()
            .map(|e| match e {
                Event::Gesture { at, first_edge, .. } => (*at, *first_edge),
                other => panic!("only gestures expected, got {other:?}"),
            })
            .collect();
        // The release was accepted at 1300 ms; the gap had ended by then.
        assert_eq!(stamps, [(ms(1300), ms(1000))]);
    }
}
