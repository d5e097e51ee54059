//! The retry policy, pure: when to try a failed delivery again, and when to give up.
//!
//! Exponential backoff with full jitter: after `n` failed attempts the next one comes
//! after a uniformly random delay in `[0, min(max, initial · 2ⁿ))` — on average
//! `initial` for the first retry (2 s by default), doubling after that, never more
//! than `max` (5 min) apart. Jitter keeps a Pi that lost Wi-Fi from hammering a server
//! in lockstep with its own earlier attempts. A server's `Retry-After` is a floor,
//! never undercut. A delivery older than `expire_after` is given up as expired: stale
//! doughnut news is worse than none.

use std::time::Duration;

use jiff::Timestamp;

use crate::config::Delivery;

/// Retry timing for every sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    pub expire_after: Duration,
}

impl RetryPolicy {
    pub fn from_config(delivery: &Delivery) -> Self {
        RetryPolicy {
            initial: Duration::from_secs(delivery.backoff_initial_s),
            max: Duration::from_secs(delivery.backoff_max_s),
            expire_after: Duration::from_secs(delivery.expire_after_s),
        }
    }

    /// The upper bound of the jittered delay after `failures` failed attempts (≥ 1).
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doubling = 2u32.saturating_pow(failures.min(30));
        self.initial.saturating_mul(doubling).min(self.max)
    }

    /// The delay before the next attempt. `jitter` is a uniform draw from `[0, 1)`;
    /// `retry_after` is what the server asked for, if anything.
    pub fn delay(&self, failures: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let backoff = self.ceiling(failures).mul_f64(jitter.clamp(0.0, 1.0));
        backoff.max(retry_after.unwrap_or_default())
    }

    /// When a delivery of an announcement made at `created` expires.
    pub fn expires_at(&self, created: Timestamp) -> Timestamp {
        let expire_after =
            jiff::SignedDuration::try_from(self.expire_after).unwrap_or(jiff::SignedDuration::MAX);
        created.checked_add(expire_after).unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
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
            .map(|i| p.delay(1, i as f64 / 1000.0, None).as_secs_f64())
            .sum::<f64>()
            / 1000.0;
        assert!((mean - 2.0).abs() < 0.01, "{mean}");
    }

    #[test]
    fn retry_after_is_never_undercut() {
        let p = policy();
        let asked = Some(Duration::from_secs(90));
        assert_eq!(p.delay(1, 0.0, asked), Duration::from_secs(90));
        assert_eq!(p.delay(1, 0.99, asked), Duration::from_secs(90));
        // A longer backoff stands when the server asks for less.
        assert_eq!(
            p.delay(8, 0.5, Some(Duration::from_secs(1))),
            Duration::from_secs(150)
        );
        // Even past the cap: the server knows best when it is busy.
        assert_eq!(
            p.delay(1, 0.5, Some(Duration::from_secs(900))),
            Duration::from_secs(900)
        );
    }

    #[test]
    fn expiry_is_counted_from_creation() {
        let created: Timestamp = "2026-11-27T10:00:00Z".parse().expect("ts");
        assert_eq!(
            policy().expires_at(created).to_string(),
            "2026-11-27T12:00:00Z"
        );
    }

    proptest! {
        #[test]
        fn delays_stay_within_the_ceiling_and_above_retry_after(
            failures in 1u32..64, jitter in 0.0f64..1.0, asked in proptest::option::of(0u64..1000)
        ) {
            let p = policy();
            let asked = asked.map(Duration::from_secs);
            let d = p.delay(failures, jitter, asked);
            prop_assert!(d >= asked.unwrap_or_default());
            prop_assert!(d <= p.ceiling(failures).max(asked.unwrap_or_default()));
        }
    }
}
