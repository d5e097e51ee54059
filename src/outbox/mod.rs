//! The outbox: the durable queue of (announcement, sink) deliveries, and their history.
//!
//! It exists so that nothing accepted is lost. An announcement is committed to
//! `outbox.sqlite3` in the state directory, with one pending delivery per sink, in one
//! transaction; a power cut or a crash after that point loses nothing, and the daemon
//! picks the pending deliveries up again when it restarts. A delivery leaves the
//! pending state only as delivered, failed (a permanent error) or expired, and the
//! finished ones stay as history for `daas status` until pruned.
//!
//! The outbox only stores; the delivery core decides. The daemon never writes from its
//! runtime thread: [`writer::Writer`] owns the read-write connection on a thread of its
//! own, batches changes into few transactions, and keeps them in memory and retries
//! when the card is full, locked or gone (see there). [`lock::StateLock`] keeps a
//! second daemon off the same state directory.
//!
//! The queue order is the insertion order (see [`schema`] for why not the clock), and
//! every stored time a rule depends on is monotonic (ages and waits with the boot they
//! were measured in), so no wall-clock jump can expire or stall a delivery. How the
//! file is opened and shared with a concurrent `daas status` — WAL, `synchronous =
//! FULL`, a busy timeout — is explained in [`open`].

mod ballast;
mod error;
mod history;
pub mod lock;
mod open;
mod queue;
mod schema;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::Connection;

pub use crate::model::DeliveryState;
use crate::model::Draft;
use error::{Doing, classify};

pub use error::OutboxError;

/// When something was written: the wall clock (for people only), and the boot and
/// CLOCK_BOOTTIME reading (so ages and waits carry on exactly within one boot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub wall: Timestamp,
    pub boot_id: Option<String>,
    pub boot: Duration,
}

impl Stamp {
    /// How long ago this was, if it was in boot `boot_id` (now `boot_now` there).
    pub fn elapsed(&self, boot_id: Option<&str>, boot_now: Duration) -> Option<Duration> {
        match (&self.boot_id, boot_id) {
            (Some(then), Some(now)) if then == now => Some(boot_now.saturating_sub(self.boot)),
            _ => None,
        }
    }
}

/// A change to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub state: DeliveryState,
    pub attempts: u32,
    /// The announcement's age at the change.
    pub age: Duration,
    /// The retry wait from the change on (a pending delivery paused by a failure).
    pub wait: Option<Duration>,
    /// Already redacted; `None` keeps the error recorded before.
    pub error: Option<String>,
    pub stamp: Stamp,
}

/// A delivery still to make, as last written.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub draft: Draft,
    pub sink: String,
    /// Attempts made so far (0 for a delivery never tried).
    pub attempts: u32,
    pub age: Duration,
    pub wait: Option<Duration>,
    pub last_error: Option<String>,
    /// When `age` and `wait` were written.
    pub stamp: Stamp,
}

impl Pending {
    /// The age and the wait left now: carried on from the write when that was in this
    /// boot, as written otherwise (time the machine was off does not count).
    pub fn now(&self, boot_id: Option<&str>, boot_now: Duration) -> (Duration, Option<Duration>) {
        match self.stamp.elapsed(boot_id, boot_now) {
            Some(elapsed) => (
                self.age + elapsed,
                self.wait
                    .map(|w| w.saturating_sub(elapsed))
                    .filter(|w| !w.is_zero()),
            ),
            None => (self.age, self.wait),
        }
    }
}

/// One announcement and how each of its deliveries went, for `daas status`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub draft: Draft,
    /// In the order of the sinks it was added with.
    pub deliveries: Vec<DeliveryRecord>,
}

/// One delivery's state and history.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub sink: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub age: Duration,
    pub wait: Option<Duration>,
    /// Already redacted by whoever recorded it.
    pub last_error: Option<String>,
    /// When it last changed.
    pub stamp: Stamp,
}

/// The outbox database, open for the daemon's writer (read-write) or for `daas status`
/// (read-only).
#[derive(Debug)]
pub struct Outbox {
    conn: Connection,
    path: PathBuf,
}

impl Outbox {
    pub const FILE_NAME: &'static str = "outbox.sqlite3";

    /// Opens the outbox in `state_dir` for reading and writing, creating the
    /// directory, the file and its tables if they are missing (or upgrading an older
    /// layout).
    pub fn open(state_dir: &Path) -> Result<Outbox, OutboxError> {
        let path = state_dir.join(Self::FILE_NAME);
        let conn = open::read_write(&path)?;
        Ok(Outbox { conn, path })
    }

    /// Opens an existing outbox for reading only, while the daemon may be writing it.
    /// A missing file is an error that says the daemon has not run (with this state
    /// directory).
    pub fn open_read_only(state_dir: &Path) -> Result<Outbox, OutboxError> {
        let path = state_dir.join(Self::FILE_NAME);
        let conn = open::read_only(&path)?;
        Ok(Outbox { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits `draft` with one pending delivery per sink, all or nothing.
    pub fn add(&mut self, draft: &Draft, sinks: &[&str], stamp: &Stamp) -> Result<(), OutboxError> {
        self.write(|tx| queue::add(tx, draft, sinks, stamp))
    }

    /// Applies `change` to the delivery of announcement `id` to `sink`, if it is still
    /// pending (a final outcome is never overwritten); returns whether it was.
    pub fn update(&mut self, id: &str, sink: &str, change: &Change) -> Result<bool, OutboxError> {
        self.write(|tx| queue::update(tx, id, sink, change).map(|n| n > 0))
    }

    /// Runs `write` in one IMMEDIATE transaction (the write lock first, so a reader
    /// cannot make it fail half-way): the writer batches many changes this way.
    pub fn write<T>(
        &mut self,
        write: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, OutboxError> {
        let fail = |e| classify(e, &self.path, Doing::Write);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let result = write(&tx).map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(result)
    }

    /// Every pending delivery, oldest announcement first (per sink this is the FIFO
    /// order to deliver in), each announcement's sinks in the order they were added.
    pub fn pending(&self) -> Result<Vec<Pending>, OutboxError> {
        queue::pending(&self.conn).map_err(|e| classify(e, &self.path, Doing::Read))
    }

    /// Deletes announcements created before `before` whose deliveries are all final;
    /// returns how many.
    pub fn prune(&mut self, before: Timestamp) -> Result<usize, OutboxError> {
        self.write(|tx| queue::prune(tx, before))
    }

    /// The last `limit` announcements, newest first, each with every sink's delivery.
    pub fn recent(&self, limit: usize) -> Result<Vec<Record>, OutboxError> {
        history::recent(&self.conn, limit).map_err(|e| classify(e, &self.path, Doing::Read))
    }

    /// The file's identity (device, inode): a state directory deleted or replaced
    /// under the daemon has a file with another one, or none.
    fn identity(&self) -> Option<(u64, u64)> {
        file_identity(&self.path)
    }
}

/// (device, inode) of the file at `path`, if there is one.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}
