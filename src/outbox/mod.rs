//! The outbox: the durable queue of (announcement, sink) deliveries, and their history.
//!
//! It exists so that nothing accepted is lost. An announcement is committed to
//! `outbox.sqlite3` in the state directory, with one pending delivery per sink, in one
//! transaction, before the first send; a power cut or a crash after that point loses
//! nothing, and the daemon picks the pending deliveries up again when it restarts. A
//! delivery leaves the pending state only as delivered, failed (a permanent error) or
//! expired, and the finished ones stay as history for `daas status` until
//! [`Outbox::prune`] removes them.
//!
//! The outbox only stores; the daemon decides. Dispatch reports each attempt, and the
//! daemon records it with [`Outbox::record_retry`] or [`Outbox::record_final`], so the
//! card sees a few small transactions per announcement and none while idle.
//!
//! The queue order is the insertion order (see [`schema`] for why not the clock).
//! How the file is opened and shared with a concurrent `daas status` — WAL,
//! `synchronous = FULL`, a busy timeout — is explained in [`open`].

mod error;
mod history;
mod open;
mod queue;
mod schema;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::Connection;

use crate::announce::Announcement;
use error::{Doing, classify};

pub use error::OutboxError;

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Final {
    Delivered,
    /// A permanent error: retrying would not help.
    Failed,
    /// Still failing when the announcement grew too old to be worth sending.
    Expired,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Delivered,
    Failed,
    Expired,
}

impl State {
    /// The name stored in the database and shown by `daas status`.
    pub fn name(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Failed => "failed",
            State::Expired => "expired",
        }
    }

    fn from_name(name: &str) -> Option<State> {
        [
            State::Pending,
            State::Delivered,
            State::Failed,
            State::Expired,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

impl From<Final> for State {
    fn from(outcome: Final) -> State {
        match outcome {
            Final::Delivered => State::Delivered,
            Final::Failed => State::Failed,
            Final::Expired => State::Expired,
        }
    }
}

/// A delivery still to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub announcement: Announcement,
    pub sink: String,
    /// Attempts made so far (0 for a delivery never tried).
    pub attempts: u32,
    /// When to try again; `None` until the first failed attempt (due at once).
    pub next_attempt: Option<Timestamp>,
}

/// One announcement and how each of its deliveries went, for `daas status`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub announcement: Announcement,
    /// In the order of the sinks given to [`Outbox::add`].
    pub deliveries: Vec<DeliveryRecord>,
}

/// One delivery's state and history.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub sink: String,
    pub state: State,
    pub attempts: u32,
    pub next_attempt: Option<Timestamp>,
    /// Already redacted by whoever recorded it.
    pub last_error: Option<String>,
    /// Wall-clock time of the last change.
    pub updated: Timestamp,
}

/// What is still to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PendingSummary {
    /// Pending deliveries.
    pub count: usize,
    /// Creation time of the oldest announcement (in queue order) with a pending delivery.
    pub oldest: Option<Timestamp>,
    /// The earliest scheduled retry.
    pub next_retry: Option<Timestamp>,
}

/// The outbox database, open for the daemon (read-write) or for `daas status`
/// (read-only).
#[derive(Debug)]
pub struct Outbox {
    conn: Connection,
    path: PathBuf,
}

impl Outbox {
    pub const FILE_NAME: &'static str = "outbox.sqlite3";

    /// Opens the outbox in `state_dir` for reading and writing, creating the
    /// directory, the file and its tables if they are missing.
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

    /// Commits `announcement` with one pending delivery per sink, all or nothing.
    pub fn add(&mut self, announcement: &Announcement, sinks: &[&str]) -> Result<(), OutboxError> {
        queue::add(&mut self.conn, announcement, sinks, Timestamp::now())
            .map_err(|e| classify(e, &self.path, Doing::Write))
    }

    /// Every pending delivery, oldest announcement first (per sink this is the FIFO
    /// order to deliver in), each announcement's sinks in the order they were added.
    pub fn pending(&self) -> Result<Vec<Pending>, OutboxError> {
        queue::pending(&self.conn).map_err(|e| classify(e, &self.path, Doing::Read))
    }

    /// Records a failed attempt that will be retried at `next_attempt`; `error` must
    /// already be redacted. The delivery stays pending.
    pub fn record_retry(
        &mut self,
        announcement_id: &str,
        sink: &str,
        attempts: u32,
        next_attempt: Timestamp,
        error: &str,
    ) -> Result<(), OutboxError> {
        let change = queue::Change {
            state: State::Pending,
            attempts,
            next_attempt: Some(next_attempt),
            error: Some(error),
        };
        self.update(announcement_id, sink, &change)
    }

    /// Records how a delivery ended. `error` (already redacted) is the final attempt's
    /// error; `None` keeps the last one recorded, so an expired delivery still shows
    /// why it kept failing.
    pub fn record_final(
        &mut self,
        announcement_id: &str,
        sink: &str,
        outcome: Final,
        attempts: u32,
        error: Option<&str>,
    ) -> Result<(), OutboxError> {
        let change = queue::Change {
            state: outcome.into(),
            attempts,
            next_attempt: None,
            error,
        };
        self.update(announcement_id, sink, &change)
    }

    /// Deletes announcements created before `before` whose deliveries are all final;
    /// returns how many.
    pub fn prune(&mut self, before: Timestamp) -> Result<usize, OutboxError> {
        queue::prune(&self.conn, before).map_err(|e| classify(e, &self.path, Doing::Write))
    }

    /// The last `limit` announcements, newest first, each with every sink's delivery.
    pub fn recent(&self, limit: usize) -> Result<Vec<Record>, OutboxError> {
        history::recent(&self.conn, limit).map_err(|e| classify(e, &self.path, Doing::Read))
    }

    /// How many deliveries are pending, since when, and when the next retry is due.
    pub fn pending_summary(&self) -> Result<PendingSummary, OutboxError> {
        history::pending_summary(&self.conn).map_err(|e| classify(e, &self.path, Doing::Read))
    }

    /// Applies `change` to a pending delivery; only a pending one may change, so a
    /// final outcome is never overwritten.
    fn update(&mut self, id: &str, sink: &str, change: &queue::Change) -> Result<(), OutboxError> {
        let changed = queue::update(&self.conn, id, sink, change, Timestamp::now())
            .map_err(|e| classify(e, &self.path, Doing::Write))?;
        if changed == 0 {
            return Err(OutboxError::NotPending {
                path: self.path.clone(),
                announcement: id.to_string(),
                sink: sink.to_string(),
            });
        }
        Ok(())
    }
}
