//! Debouncing: raw edges from a bouncing contact become clean changes of state.
//!
//! A mechanical button does not switch once; its contacts bounce for a few
//! milliseconds. The rule here: a change is accepted once the level has held steady
//! for `debounce` since the last edge, and the accepted change carries the time of the
//! *first* edge of its burst (when the person actually pressed). A burst that settles
//! back on the old level — a glitch — produces nothing.
//!
//! Pure: no clock, no I/O. The caller feeds edges and asks for the next deadline; at
//! that deadline it calls [`Debouncer::settle`].

use std::time::Duration;

use crate::model::Level;

/// A change of level the debouncer accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub level: Level,
    /// The first raw edge of the burst that led here.
    pub first_edge: Duration,
}

/// One input's debouncer.
#[derive(Debug, Clone)]
pub struct Debouncer {
    debounce: Duration,
    /// The accepted level.
    stable: Level,
    /// The level the pin shows right now.
    raw: Level,
    /// The first and the latest edge of an unsettled burst.
    burst: Option<(Duration, Duration)>,
}

impl Debouncer {
    /// A debouncer that starts at `level` with nothing pending.
    pub fn new(level: Level, debounce: Duration) -> Self {
        Debouncer {
            debounce,
            stable: level,
            raw: level,
            burst: None,
        }
    }

    /// The accepted level.
    pub fn level(&self) -> Level {
        self.stable
    }

    /// A raw edge to `level` at `at`. Edges must come in time order; an edge that
    /// repeats the current raw level (a missed interrupt) still restarts the wait.
    pub fn edge(&mut self, level: Level, at: Duration) {
        self.raw = level;
        self.burst = Some(match self.burst {
            Some((first, _)) => (first, at),
            None => (at, at),
        });
    }

    /// When [`settle`](Self::settle) must next be called, if anything is pending.
    pub fn deadline(&self) -> Option<Duration> {
        self.burst.map(|(_, last)| last + self.debounce)
    }

    /// The first edge of an unsettled burst, if there is one.
    pub fn pending_since(&self) -> Option<Duration> {
        self.burst.map(|(first, _)| first)
    }

    /// Called at or after the deadline: accepts the new level if it held, or drops a
    /// glitch. Before the deadline it does nothing.
    pub fn settle(&mut self, now: Duration) -> Option<Accepted> {
        let deadline = self.deadline()?;
        if now < deadline {
            return None;
        }
        let (first_edge, _) = self.burst.take()?;
        if self.raw == self.stable {
            return None;
        }
        self.stable = self.raw;
        Some(Accepted {
            level: self.stable,
            first_edge,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn clean_edge_is_accepted_after_debounce_with_its_own_time() {
        let mut d = Debouncer::new(Level::High, ms(20));
        d.edge(Level::Low, ms(100));
        assert_eq!(d.deadline(), Some(ms(120)));
        assert_eq!(d.settle(ms(119)), None);
        assert_eq!(
            d.settle(ms(120)),
            Some(Accepted {
                level: Level::Low,
                first_edge: ms(100)
            })
        );
        assert_eq!(d.deadline(), None);
        assert_eq!(d.level(), Level::Low);
    }

    #[test]
    fn bounce_burst_is_one_change_stamped_with_the_first_edge() {
        let mut d = Debouncer::new(Level::High, ms(20));
        for (i, at) in [100, 102, 103, 107, 110].into_iter().enumerate() {
            let level = if i % 2 == 0 { Level::Low } else { Level::High };
            d.edge(level, ms(at));
        }
        assert_eq!(d.deadline(), Some(ms(130)));
        assert_eq!(
            d.settle(ms(130)),
            Some(Accepted {
                level: Level::Low,
                first_edge: ms(100)
            })
        );
    }

    #[test]
    fn glitch_shorter_than_debounce_is_dropped() {
        let mut d = Debouncer::new(Level::High, ms(20));
        d.edge(Level::Low, ms(100));
        d.edge(Level::High, ms(105));
        assert_eq!(d.settle(ms(125)), None);
        assert_eq!(d.deadline(), None);
        assert_eq!(d.level(), Level::High);
    }

    /// One intended press: the contact closes with a bounce burst, is held, then opens
    /// with another burst. Bursts last at most 80% of the debounce time (at most four
    /// bounce pairs of at most a tenth of it each); presses are at least four debounce
    /// times apart, so a stray glitch can sit in the gap without touching a burst.
    #[derive(Debug, Clone)]
    struct Press {
        gap_before: u64,
        close_bounces: Vec<u64>,
        hold: u64,
        open_bounces: Vec<u64>,
    }

    fn bounces(debounce: u64) -> impl Strategy<Value = Vec<u64>> {
        // Pairs of bounce edges whose offsets stay within 80% of debounce.
        prop::collection::vec(1..=debounce * 8 / 10 / 8, 0..=4).prop_map(|steps| {
            let mut out = Vec::new();
            let mut t = 0;
            for s in steps {
                t += s;
                out.push(t);
                t += s;
                out.push(t);
            }
            out
        })
    }

    fn press(debounce: u64) -> impl Strategy<Value = Press> {
        (
            debounce * 4..2000,
            bounces(debounce),
            debounce * 2..3000,
            bounces(debounce),
        )
            .prop_map(|(gap_before, close_bounces, hold, open_bounces)| Press {
                gap_before,
                close_bounces,
                hold,
                open_bounces,
            })
    }

    /// Plays presses (and optional glitches between them) into a debouncer, settling at
    /// every deadline on the way, and returns what it accepted.
    fn play(debounce: u64, presses: &[Press], glitch: Option<u64>) -> Vec<Accepted> {
        let mut edges: Vec<(u64, Level)> = Vec::new();
        let mut t = 0;
        for p in presses {
            t += p.gap_before;
            if let Some(width) = glitch {
                // A stray spike in the middle of the idle gap.
                let at = t - p.gap_before / 2;
                edges.push((at, Level::Low));
                edges.push((at + width, Level::High));
            }
            edges.push((t, Level::Low));
            for (i, b) in p.close_bounces.iter().enumerate() {
                let level = if i % 2 == 0 { Level::High } else { Level::Low };
                edges.push((t + b, level));
            }
            t += p.hold;
            edges.push((t, Level::High));
            for (i, b) in p.open_bounces.iter().enumerate() {
                let level = if i % 2 == 0 { Level::Low } else { Level::High };
                edges.push((t + b, level));
            }
        }
        let mut d = Debouncer::new(Level::High, Duration::from_millis(debounce));
        let mut out = Vec::new();
        for (at, level) in edges {
            while let Some(deadline) = d.deadline().filter(|&dl| dl <= ms(at)) {
                out.extend(d.settle(deadline));
            }
            d.edge(level, ms(at));
        }
        while let Some(deadline) = d.deadline() {
            out.extend(d.settle(deadline));
        }
        out
    }

    proptest! {
        #[test]
        fn bouncy_presses_yield_exactly_the_intended_presses(
            debounce in 5u64..=100,
            presses in prop::collection::vec(press(100), 1..8),
            glitch in prop::option::of(1u64..5),
        ) {
            // Scale the generated bursts (made for 100 ms) down to this debounce.
            let scaled: Vec<Press> = presses.iter().map(|p| Press {
                gap_before: p.gap_before,
                close_bounces: p.close_bounces.iter().map(|b| b * debounce / 100).collect(),
                hold: p.hold,
                open_bounces: p.open_bounces.iter().map(|b| b * debounce / 100).collect(),
            }).collect();
            let glitch = glitch.map(|g| (g * debounce / 10).clamp(1, debounce - 1));
            let accepted = play(debounce, &scaled, glitch);
            prop_assert_eq!(accepted.len(), scaled.len() * 2);
            let mut t = 0;
            for (p, pair) in scaled.iter().zip(accepted.chunks(2)) {
                t += p.gap_before;
                prop_assert_eq!(pair[0], Accepted { level: Level::Low, first_edge: ms(t) });
                t += p.hold;
                prop_assert_eq!(pair[1], Accepted { level: Level::High, first_edge: ms(t) });
            }
        }
    }
}
