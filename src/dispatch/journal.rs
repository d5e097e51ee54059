//! The journal: the outbox as the dispatcher uses it — best effort.
//!
//! Delivery never waits on the disk being healthy. If the database cannot be opened or
//! written (a full or read-only SD card, a corrupt file), the failure is logged loudly,
//! every press is still sent directly from memory, and the daemon keeps running
//! instead of crash-looping. What is lost then is only the guarantee across a restart.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::announce::Announcement;
use crate::outbox::{Final, Outbox, OutboxError};

/// A shared handle on the outbox, or on its absence.
#[derive(Clone)]
pub struct Journal {
    outbox: Arc<Mutex<Option<Outbox>>>,
}

impl Journal {
    pub fn new(outbox: Option<Outbox>) -> Self {
        Journal {
            outbox: Arc::new(Mutex::new(outbox)),
        }
    }

    /// Runs `write` on the outbox; a failure is logged, never returned.
    fn write(&self, what: &str, write: impl FnOnce(&mut Outbox) -> Result<(), OutboxError>) {
        let Ok(mut guard) = self.outbox.lock() else {
            log::error!("outbox lock poisoned; {what} not recorded");
            return;
        };
        if let Some(outbox) = guard.as_mut()
            && let Err(err) = write(outbox)
        {
            log::error!(
                "OUTBOX WRITE FAILED ({what}): {err}; sending from memory, but this will not survive a restart"
            );
        }
    }

    /// Commits a new announcement and its deliveries (before the first send).
    pub fn add(&self, announcement: &Announcement, sinks: &[&str]) {
        self.write("new announcement", |o| o.add(announcement, sinks));
    }

    pub fn retry(&self, id: &str, sink: &str, attempts: u32, next: Timestamp, error: &str) {
        self.write("retry", |o| o.record_retry(id, sink, attempts, next, error));
    }

    pub fn finish(&self, id: &str, sink: &str, outcome: Final, attempts: u32, error: Option<&str>) {
        self.write("outcome", |o| {
            o.record_final(id, sink, outcome, attempts, error)
        });
    }

    /// Deletes finished history created before `before`.
    pub fn prune(&self, before: Timestamp) {
        self.write("pruning history", |o| {
            o.prune(before).map(|n| {
                if n > 0 {
                    log::info!("pruned {n} old announcements from the outbox");
                }
            })
        });
    }
}
