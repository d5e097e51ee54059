//! A deadline timer to the microsecond, for the button's own deadlines.
//!
//! tokio's timer wheel counts whole milliseconds and rounds every deadline up, so a
//! press whose debounce ends at 20.0 ms fires at 21 ms — up to a millisecond of pure
//! waiting on the one path where latency is the point (press → first message). A
//! `timerfd` armed at the absolute deadline on CLOCK_MONOTONIC (the clock GPIO edges
//! are stamped with) wakes the loop when the deadline is due, not after the next tick.
//! It is one file descriptor, armed only while a deadline exists: idle stays idle.

use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, timerfd_create, timerfd_settime,
};
use tokio::io::unix::AsyncFd;

use crate::clock::monotonic;

/// A one-shot timer on CLOCK_MONOTONIC.
#[derive(Debug)]
pub struct DeadlineTimer {
    fd: AsyncFd<OwnedFd>,
}

impl DeadlineTimer {
    pub fn new() -> io::Result<Self> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        // SAFETY: `register` needs the descriptor to stay open and be the same file for
        // as long as the AsyncFd lives; it owns the OwnedFd, which nothing else can
        // close or replace (tokio PR #8587 made this explicit).
        let fd = unsafe { AsyncFd::register(fd) }.map_err(|err| err.into_parts().1)?;
        Ok(DeadlineTimer { fd })
    }

    /// Sleeps until `at` on the monotonic time line. Cancel-safe: arming again replaces
    /// the old deadline and clears an expiry nobody read.
    pub async fn sleep_until(&mut self, at: Duration) -> io::Result<()> {
        if at <= monotonic::now() {
            return Ok(());
        }
        let value = Itimerspec {
            it_interval: rustix::time::Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: rustix::time::Timespec {
                tv_sec: i64::try_from(at.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(at.subsec_nanos()),
            },
        };
        timerfd_settime(self.fd.get_ref(), TimerfdTimerFlags::ABSTIME, &value)?;
        loop {
            let mut ready = self.fd.readable().await?;
            let mut expirations = [0u8; 8];
            match rustix::io::read(self.fd.get_ref(), &mut expirations) {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
                Err(err) => return Err(err.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn wakes_at_the_deadline_not_before() {
        let mut timer = DeadlineTimer::new().expect("timerfd");
        let at = monotonic::now() + Duration::from_millis(5);
        timer.sleep_until(at).await.expect("sleep");
        assert!(monotonic::now() >= at);
        // A deadline already past returns at once.
        timer.sleep_until(Duration::ZERO).await.expect("past");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_dropped_sleep_leaves_nothing_behind() {
        let mut timer = DeadlineTimer::new().expect("timerfd");
        let soon = monotonic::now() + Duration::from_millis(1);
        // Armed, then abandoned; its expiry must not end the next, later sleep.
        let _ = tokio::time::timeout(Duration::ZERO, timer.sleep_until(soon)).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
        let later = monotonic::now() + Duration::from_millis(20);
        timer.sleep_until(later).await.expect("sleep");
        assert!(monotonic::now() >= later);
    }
}
