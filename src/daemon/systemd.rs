//! systemd integration for `Type=notify`: `READY=1` once the inputs are open and the
//! outbox is loaded, `WATCHDOG=1` from the main loop so that a stuck loop is restarted,
//! `STOPPING=1` on the way out. Outside systemd (no `$NOTIFY_SOCKET`) it does nothing.
//!
//! The watchdog ping is the daemon's one periodic timer, and it exists only when
//! systemd asks for it (`WatchdogSec=` sets `$WATCHDOG_USEC`).

use std::time::Duration;

use sd_notify::NotifyState;

/// The service manager, as far as the daemon talks to it.
#[derive(Debug, Clone, Copy)]
pub struct Systemd {
    watchdog: Option<Duration>,
}

fn send(states: &[NotifyState]) {
    if let Err(err) = sd_notify::notify(states) {
        log::warn!("cannot notify systemd ($NOTIFY_SOCKET): {err}");
    }
}

impl Systemd {
    /// Reads what systemd set in the environment.
    pub fn from_env() -> Self {
        Systemd {
            watchdog: sd_notify::watchdog_enabled(),
        }
    }

    /// How often to ping: twice per watchdog period, as sd_watchdog_enabled(3) advises.
    pub fn ping_every(&self) -> Option<Duration> {
        self.watchdog
            .map(|period| period / 2)
            .filter(|every| !every.is_zero())
    }

    /// The daemon is ready; `status` is shown by `systemctl status`.
    pub fn ready(&self, status: &str) {
        send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    pub fn ping(&self) {
        send(&[NotifyState::Watchdog]);
    }

    pub fn stopping(&self) {
        send(&[NotifyState::Stopping]);
    }
}
