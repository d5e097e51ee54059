//! The clocks the shells read, and whether the wall clock can be believed.
//!
//! A Pi has no real-time clock: it boots with the time fake-hwclock saved at the last
//! shutdown (hours or days behind) or 1970, and NTP corrects it later — by a jump.
//! So every rule (debounce, retries, expiry) runs on monotonic clocks, and the wall
//! clock is only for the text people read, and only once it can be believed:
//!
//! - [`boot_now`] is CLOCK_BOOTTIME: monotonic, and it keeps counting while the
//!   machine is suspended, so an announcement's age is right after a suspend too.
//!   Delivery runs on it. (GPIO edges are stamped by the kernel on CLOCK_MONOTONIC:
//!   see [`crate::clock::monotonic`].)
//! - [`WallClock`] reads the wall clock and says whether it is trusted. With
//!   `[clock] trust = "kernel"` (the default) that is what the kernel says:
//!   `adjtimex(2)` reports the clock synchronised once an NTP client (systemd-timesyncd,
//!   chrony, ntpd) has disciplined it — `STA_UNSYNC` clear and the return value not
//!   `TIME_ERROR`. A machine whose kernel never reports a sync (a VM or container with
//!   no NTP client, a Pi with no network) can say `trust = "always"`: the admin vouches
//!   for the clock. The log says once which applies and, with `"kernel"`, when the
//!   clock becomes synchronised.
//!
//! Reading the sync state is an `adjtimex` call with no modes set: read-only, allowed
//! without privileges. (systemd's `ProtectClock=` would forbid even that — systemd
//! issue #26413 — which is why the unit leaves it out and relies on an empty
//! capability bounding set instead: without CAP_SYS_TIME the kernel refuses to set
//! the clock.)

pub mod monotonic;
pub mod timer;

use std::cell::Cell;
use std::time::Duration;

use jiff::Timestamp;
use rustix::time::{ClockId, clock_gettime};

use crate::model::WallNow;

/// Now on CLOCK_BOOTTIME: monotonic, counting suspend.
pub fn boot_now() -> Duration {
    let t = clock_gettime(ClockId::Boottime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// A new announcement id: a UUIDv7, unique and ordered by creation time (it reads
/// the wall clock, so it lives with the clocks).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`): CLOCK_BOOTTIME readings can be
/// compared only within one boot. `None` where procfs is not mounted.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
}

/// Who says the wall clock is right (`[clock] trust`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// The kernel, once an NTP client has synchronised the clock.
    #[default]
    Kernel,
    /// The admin: the clock is always right (a machine with a battery-backed clock, or
    /// no NTP client but a clock set by hand).
    Always,
}

/// The wall clock, as the daemon reads it.
#[derive(Debug)]
pub struct WallClock {
    trust: Trust,
    /// Whether the kernel said "synchronised" at the last reading (for the log line
    /// when that changes).
    synced: Cell<Option<bool>>,
}

impl WallClock {
    /// Logs which rule applies.
    pub fn new(trust: Trust) -> Self {
        match trust {
            Trust::Always => log::info!(
                "wall clock: trusted as it is ([clock] trust = \"always\"); messages show its time"
            ),
            Trust::Kernel => log::info!(
                "wall clock: trusted once the kernel reports it synchronised by NTP ([clock] trust = \"kernel\")"
            ),
        }
        WallClock {
            trust,
            synced: Cell::new(None),
        }
    }

    /// Without the log lines (a command that only reads, such as `daas status`).
    pub fn quiet(trust: Trust) -> Self {
        WallClock {
            trust,
            // Known, so no change is logged.
            synced: Cell::new(Some(kernel_synchronised())),
        }
    }

    /// The wall clock now, and whether it is trusted.
    pub fn read(&self) -> WallNow {
        let now = Timestamp::now();
        let trusted = match self.trust {
            Trust::Always => true,
            Trust::Kernel => self.kernel_says_synchronised(),
        };
        WallNow { now, trusted }
    }

    fn kernel_says_synchronised(&self) -> bool {
        let synced = kernel_synchronised();
        let before = self.synced.replace(Some(synced));
        match (before, synced) {
            (Some(false), true) => log::info!(
                "wall clock: the kernel reports it synchronised; messages now show the real time"
            ),
            (None, false) => log::info!(
                "wall clock: not synchronised yet; messages say \"just now\" until it is, and \
                 give the real time of presses once it is (set [clock] trust = \"always\" on a \
                 machine without an NTP client)"
            ),
            (Some(true), false) => {
                log::warn!("wall clock: the kernel reports it no longer synchronised")
            }
            _ => {}
        }
        synced
    }
}

/// Whether the kernel says the wall clock is synchronised. An error reading it (a
/// seccomp filter, say) counts as "not synchronised", logged once by the caller's state.
pub fn kernel_synchronised() -> bool {
    // SAFETY: adjtimex with `modes = 0` only reads the kernel's clock state into the
    // zeroed struct we own.
    let mut state: libc::timex = unsafe { std::mem::zeroed() };
    let result = unsafe { libc::adjtimex(&mut state) };
    if result == -1 {
        log::debug!(
            "adjtimex: {}; taking the wall clock as not synchronised",
            std::io::Error::last_os_error()
        );
        return false;
    }
    result != libc::TIME_ERROR && state.status & libc::STA_UNSYNC == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boottime_moves_forward() {
        let a = boot_now();
        let b = boot_now();
        assert!(b >= a && a > Duration::ZERO);
    }

    #[test]
    fn always_trusts_and_the_kernel_reading_is_whatever_the_kernel_says() {
        assert!(WallClock::new(Trust::Always).read().trusted);
        assert_eq!(
            WallClock::new(Trust::Kernel).read().trusted,
            kernel_synchronised()
        );
    }

    #[test]
    fn the_boot_id_is_a_uuid() {
        let id = boot_id().expect("procfs");
        assert_eq!(id.len(), 36, "{id}");
    }
}
