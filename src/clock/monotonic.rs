//! The daemon's clock: CLOCK_MONOTONIC as a `Duration` since boot.
//!
//! It is the clock the kernel stamps GPIO edge events with, so edges from rppal or
//! gpiocdev, edges from the simulated button and the daemon's own deadlines all sit
//! on one time line. Only shells read it; the cores take its values as inputs.

use std::time::Duration;

use rustix::time::{ClockId, clock_gettime};

/// Now, on the monotonic time line.
pub fn now() -> Duration {
    let t = clock_gettime(ClockId::Monotonic);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The tokio instant for a point on the monotonic time line.
pub fn instant_at(at: Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + at.saturating_sub(now())
}
