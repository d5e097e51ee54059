//! When to try a failed delivery again: the arithmetic of retries, pure.
//!
//! Exponential backoff with full jitter: after `n` failed attempts the next one comes
//! after a uniformly random delay in `[0, min(max, initial · 2ⁿ))` — on average
//! `initial` for the first retry (2 s by default), doubling after that, never more than
//! `max` (5 min) apart. Jitter keeps a Pi that lost Wi-Fi from hammering a server in
//! lockstep with its own earlier attempts.
//!
//! A server's `Retry-After` replaces the backoff: the retry comes after it, never
//! before, and at most 10% later (a little jitter, so a fleet of buttons told "60 s"
//! does not come back in the same millisecond). A `Retry-After` below
//! [`MIN_RETRY_AFTER`] counts as that minimum, so a server answering "0" cannot make a
//! tight loop.

use std::time::Duration;

/// The shortest wait a `Retry-After` can ask for.
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The most a retry comes after a server's `Retry-After`, as a fraction of it.
pub const RETRY_AFTER_JITTER: f64 = 0.1;

/// Retry timing and expiry, for every sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The first retry comes after about this long (on average).
    pub initial: Duration,
    /// Retries are never further apart than this (unless a server asks for more).
    pub max: Duration,
    /// A delivery still not made this long after its announcement was made is given up
    /// as expired: stale doughnut news is worse than none. Counted on the monotonic
    /// clock, from the announcement's age, never from the wall clock.
    pub expire_after: Duration,
}

impl Policy {
    /// The upper bound of the jittered delay after `failures` failed attempts (≥ 1).
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doubling = 2u32.saturating_pow(failures.min(30));
        self.initial.saturating_mul(doubling).min(self.max)
    }

    /// The delay before the next attempt after `failures` failed ones. `jitter` is a
    /// uniform draw from `[0, 1)`; `retry_after` is what the server asked for, if
    /// anything.
    pub fn delay(&self, failures: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let jitter = jitter.clamp(0.0, 1.0);
        match retry_after {
            Some(asked) => asked
                .max(MIN_RETRY_AFTER)
                .mul_f64(1.0 + RETRY_AFTER_JITTER * jitter),
            None => self.ceiling(failures).mul_f64(jitter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> Policy {
        Policy {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(300),
            expire_after: Duration::from_secs(7200),
        }
    }

    #[test]
    fn backoff_doubles_from_the_initial_delay_up_to_the_cap() {
        let p = policy();
        let ceilings: Vec<u64> = (1..=10).map(|n| p.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn first_retry_averages_the_initial_delay() {
        let p = policy();
        let mean = (0..1000)
            .map(|i| p.delay(1, f64::from(i) / 1000.0, None).as_secs_f64())
            .sum::<f64>()
            / 1000.0;
        assert!((mean - 2.0).abs() < 0.01, "{mean}");
    }

    #[test]
    fn retry_after_is_a_floor_with_at_most_ten_percent_on_top() {
        let p = policy();
        let two = Some(Duration::from_secs(2));
        assert_eq!(p.delay(1, 0.0, two), Duration::from_secs(2));
        assert_eq!(p.delay(1, 0.5, two), Duration::from_millis(2100));
        assert!(p.delay(1, 0.999_999, two) < Duration::from_millis(2200));
        // It replaces the backoff, also when the backoff would be longer.
        assert_eq!(p.delay(8, 0.0, two), Duration::from_secs(2));
        // And past the cap: the server knows best when it is busy.
        assert_eq!(
            p.delay(1, 0.0, Some(Duration::from_secs(900))),
            Duration::from_secs(900)
        );
    }

    #[test]
    fn a_zero_retry_after_cannot_make_a_tight_loop() {
        assert_eq!(
            policy().delay(1, 0.0, Some(Duration::ZERO)),
            MIN_RETRY_AFTER
        );
    }

    proptest! {
        #[test]
        fn delays_stay_within_their_bounds(
            failures in 1u32..64, jitter in 0.0f64..1.0, asked in proptest::option::of(0u64..100_000)
        ) {
            let p = policy();
            let asked = asked.map(Duration::from_millis);
            let d = p.delay(failures, jitter, asked);
            match asked {
                Some(asked) => {
                    let floor = asked.max(MIN_RETRY_AFTER);
                    prop_assert!(d >= floor);
                    prop_assert!(d <= floor.mul_f64(1.0 + RETRY_AFTER_JITTER));
                }
                None => prop_assert!(d <= p.ceiling(failures)),
            }
        }
    }
}
