//! The LED's patterns and their timing: what a person at the button sees. Each is a
//! fixed list of on/off steps, shown once or repeated; the README's table is made from
//! these numbers, and the tests check them to the millisecond.

use std::time::Duration;

/// A pattern the feedback LED shows over its steady state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// A gesture became an announcement and not every sink has answered yet: a quick
    /// blink, 100 ms on, 100 ms off, for as long as that lasts.
    Sending,
    /// Every sink delivered: a 2 s flash framed by 200 ms of dark (off 200, on 2000,
    /// off 200), so it shows on an LED that is lit while armed.
    Delivered,
    /// A sink is retrying: a double blink (on 100, off 100, on 100, off 700) each
    /// second, for as long as one is.
    Retrying,
    /// A sink failed or its delivery expired: a slow blink (1 s on, 1 s off), five times.
    Failed,
    /// The press was seen and ignored (disarmed, cooling down, quiet hours, or no
    /// action for that gesture): off 100 ms, on 100, off 100, on 100, off 100 — two
    /// blips on a dark LED, two gaps in a lit one.
    No,
}

const fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

const SENDING: [(bool, Duration); 2] = [(true, ms(100)), (false, ms(100))];
const DELIVERED: [(bool, Duration); 3] = [(false, ms(200)), (true, ms(2000)), (false, ms(200))];
const RETRYING: [(bool, Duration); 4] = [
    (true, ms(100)),
    (false, ms(100)),
    (true, ms(100)),
    (false, ms(700)),
];
const SLOW_ON: (bool, Duration) = (true, ms(1000));
const SLOW_OFF: (bool, Duration) = (false, ms(1000));
const FAILED: [(bool, Duration); 10] = [
    SLOW_ON, SLOW_OFF, SLOW_ON, SLOW_OFF, SLOW_ON, SLOW_OFF, SLOW_ON, SLOW_OFF, SLOW_ON, SLOW_OFF,
];
const NO: [(bool, Duration); 5] = [
    (false, ms(100)),
    (true, ms(100)),
    (false, ms(100)),
    (true, ms(100)),
    (false, ms(100)),
];

impl Pattern {
    /// The steps: the level and how long it lasts.
    pub fn steps(self) -> &'static [(bool, Duration)] {
        match self {
            Pattern::Sending => &SENDING,
            Pattern::Delivered => &DELIVERED,
            Pattern::Retrying => &RETRYING,
            Pattern::Failed => &FAILED,
            Pattern::No => &NO,
        }
    }

    /// Whether the steps repeat until the pattern is replaced.
    pub fn repeats(self) -> bool {
        matches!(self, Pattern::Sending | Pattern::Retrying)
    }

    /// The name in logs and docs.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Sending => "sending",
            Pattern::Delivered => "delivered",
            Pattern::Retrying => "retrying",
            Pattern::Failed => "failed",
            Pattern::No => "no",
        }
    }

    fn period(self) -> Duration {
        self.steps().iter().map(|&(_, d)| d).sum()
    }
}

/// A pattern being shown since a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Showing {
    pub pattern: Pattern,
    pub since: Duration,
}

impl Showing {
    /// When a pattern shown once is over (`None` for a repeating one).
    pub fn end(&self) -> Option<Duration> {
        (!self.pattern.repeats()).then(|| self.since + self.pattern.period())
    }

    /// Whether it is over at `t`.
    pub fn over_at(&self, t: Duration) -> bool {
        self.end().is_some_and(|end| t >= end)
    }

    /// The level at `t` (`t` at or after `since`), and when the step holding it ends.
    fn step_at(&self, t: Duration) -> Option<(bool, Duration)> {
        if self.over_at(t) {
            return None;
        }
        let period = self.pattern.period();
        let elapsed = t.saturating_sub(self.since);
        let cycles = elapsed.as_nanos() / period.as_nanos();
        let cycle_start = self.since + period * cycles as u32;
        let mut step_end = cycle_start;
        for &(on, length) in self.pattern.steps() {
            step_end += length;
            if t < step_end {
                return Some((on, step_end));
            }
        }
        // Unreachable for t inside the cycle; the start of the next cycle otherwise.
        Some((self.pattern.steps()[0].0, cycle_start + period))
    }

    /// The LED level at `t`, or `None` once it is over.
    pub fn level_at(&self, t: Duration) -> Option<bool> {
        self.step_at(t).map(|(on, _)| on)
    }

    /// The first moment after `t` where its level may change (a step's end, or its own).
    pub fn next_boundary_after(&self, t: Duration) -> Option<Duration> {
        self.step_at(t).map(|(_, end)| end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeating_pattern_cycles_and_a_single_one_ends() {
        let blink = Showing {
            pattern: Pattern::Sending,
            since: ms(1000),
        };
        assert_eq!(blink.level_at(ms(1000)), Some(true));
        assert_eq!(blink.level_at(ms(1150)), Some(false));
        assert_eq!(blink.level_at(ms(1000 + 200 * 50 + 10)), Some(true));
        assert_eq!(blink.next_boundary_after(ms(1250)), Some(ms(1300)));
        let flash = Showing {
            pattern: Pattern::Delivered,
            since: ms(1000),
        };
        assert_eq!(flash.level_at(ms(1199)), Some(false));
        assert_eq!(flash.level_at(ms(3199)), Some(true));
        assert_eq!(flash.level_at(ms(3200)), Some(false));
        assert_eq!(flash.level_at(ms(3400)), None);
        assert_eq!(flash.end(), Some(ms(3400)));
    }

    #[test]
    fn the_failed_pattern_lasts_ten_seconds_and_no_half_a_second() {
        assert_eq!(Pattern::Failed.period(), ms(10_000));
        assert_eq!(Pattern::No.period(), ms(500));
        assert_eq!(Pattern::Retrying.period(), ms(1000));
    }
}
