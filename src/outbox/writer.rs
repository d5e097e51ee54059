//! The outbox's one writer: a thread of its own, so the daemon's runtime never waits on
//! the disk.
//!
//! An SD card can take hundreds of milliseconds for one fsync, and SQLite with
//! `synchronous = FULL` does one per commit. Were that on the runtime thread, a press
//! would wait for the card before its first send, and so would every other sink and the
//! button itself. Instead the runtime hands each change to this thread over a channel
//! and carries on: the first sends start at once, in parallel with the commit that
//! accepts the announcement (a crash before that commit can only have delivered more,
//! never less). The thread writes whatever has queued up meanwhile in one transaction,
//! so a burst of outcomes costs one fsync.
//!
//! What it cannot write it keeps, in order, and writes when it can; the daemon's state
//! is in memory anyway, so nothing is lost while it runs:
//! - **Cannot open** (locked by another program, a directory it may not write, a
//!   corrupt file): logged loudly once, tried again with backoff (1 s doubling to a
//!   minute), and when it opens, the deliveries it held from before are handed to the
//!   daemon ([`Event::Resumed`]) and what was held is written — durable again, logged.
//! - **A failed write** (full card, I/O error): the same. A full card first costs the
//!   ballast ([`super::ballast`]), so the outcomes of deliveries already made reach the
//!   disk and none is sent again after a restart.
//! - **The state directory deleted or replaced** while running: noticed at the next
//!   write (the file's identity changed); the outbox is made again, with every pending
//!   delivery the daemon holds ([`Mirror`]).
//!
//! It also takes [`StateLock`] first: a second daemon on the same state directory is
//! refused before it can send anything.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::lock::{LockError, StateLock};
use super::{Change, DeliveryState, Outbox, OutboxError, Pending, Stamp, ballast, queue};
use crate::model::Draft;

/// A change for the outbox.
#[derive(Debug, Clone)]
enum Command {
    Add {
        draft: Arc<Draft>,
        sinks: Vec<String>,
        stamp: Stamp,
    },
    Update {
        id: String,
        sink: String,
        change: Change,
    },
    Prune {
        before: Timestamp,
    },
}

/// How long the writer gathers changes after the first one before it commits them.
///
/// A press's sends start at once, whatever the disk does; its commit is what makes it
/// survive a power cut. Waiting this long first lets the outcomes of fast sinks (a few
/// milliseconds on a LAN) go into the same commit — one fsync instead of one per sink,
/// which the SD card notices — and keeps the commit's CPU work off the moment the
/// messages go out (on a 2-core machine it competed with them).
pub const GATHER: Duration = Duration::from_millis(10);

/// Something the daemon must know.
#[derive(Debug)]
pub enum Event {
    /// The outbox opened after start-up: the deliveries it held, to resume.
    Resumed(Vec<Pending>),
}

/// The daemon's handle on the writer thread.
pub struct Writer {
    commands: Option<mpsc::Sender<Message>>,
    events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    done: mpsc::Receiver<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

enum Message {
    Command(Command),
    /// Write what is held, then stop.
    Close,
}

/// A started writer and the pending deliveries found at start-up.
pub struct Started {
    pub writer: Writer,
    pub pending: Vec<Pending>,
}

impl Writer {
    /// Locks `state_dir` (another daemon there is an error), then opens the outbox on
    /// the writer thread, waiting at most `wait` for it. Whatever was pending is
    /// returned; an outbox that opens later hands its pending deliveries over as
    /// [`Event::Resumed`].
    pub fn start(state_dir: PathBuf, wait: Duration) -> Result<Started, LockError> {
        let lock = match StateLock::acquire(&state_dir) {
            Ok(lock) => Some(lock),
            Err(held @ LockError::Held { .. }) => return Err(held),
            // A directory that cannot be made yet: the thread keeps trying.
            Err(err @ LockError::Io { .. }) => {
                log::error!("NO OUTBOX: {err}; {WITHOUT}");
                None
            }
        };
        let (commands, inbox) = mpsc::channel();
        let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
        let (first_tx, first) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let thread = WriterThread {
            dir: state_dir,
            lock,
            outbox: None,
            identity: None,
            opened_before: false,
            first: Some(first_tx),
            held: Vec::new(),
            mirror: Mirror::default(),
            failing: None,
            events: events_tx,
        };
        let thread = std::thread::Builder::new()
            .name("outbox writer".into())
            .spawn(move || {
                thread.run(&inbox);
                let _ = done_tx.send(());
            })
            .map_err(|cause| LockError::Io {
                path: PathBuf::from("outbox writer thread"),
                cause,
            })?;
        let pending = first.recv_timeout(wait).unwrap_or_default();
        Ok(Started {
            writer: Writer {
                commands: Some(commands),
                events,
                done,
                thread: Some(thread),
            },
            pending,
        })
    }

    fn send(&self, command: Command) {
        if let Some(commands) = &self.commands {
            // The thread only ends after Close.
            let _ = commands.send(Message::Command(command));
        }
    }

    /// A new announcement with a pending delivery to each of `sinks`.
    pub fn add(&self, draft: Arc<Draft>, sinks: Vec<String>, stamp: Stamp) {
        self.send(Command::Add {
            draft,
            sinks,
            stamp,
        });
    }

    /// A change to the delivery of announcement `id` to `sink`.
    pub fn update(&self, id: String, sink: String, change: Change) {
        self.send(Command::Update { id, sink, change });
    }

    /// Deletes finished history made before `before`.
    pub fn prune(&self, before: Timestamp) {
        self.send(Command::Prune { before });
    }

    /// The next event; pending forever when there is none.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Writes what is held and stops the thread, waiting at most `within` (a card that
    /// hangs must not hang the shutdown). Whether everything was written.
    pub fn close(mut self, within: Duration) -> bool {
        if let Some(commands) = self.commands.take() {
            let _ = commands.send(Message::Close);
        }
        match self.done.recv_timeout(within) {
            Ok(()) => {
                if let Some(thread) = self.thread.take() {
                    let _ = thread.join();
                }
                true
            }
            Err(_) => {
                log::error!(
                    "the outbox writer did not finish within {} s; what it had not written \
                     is lost (deliveries may be sent again after the restart)",
                    within.as_secs()
                );
                false
            }
        }
    }
}

/// What to say when there is no outbox.
const WITHOUT: &str = "presses are still sent, and what the outbox must record is held in \
                       memory meanwhile, but it would be lost in a power cut; trying again \
                       in the background";

/// The pending deliveries the daemon holds, as the writer has been told: enough to make
/// the outbox again if its file disappears.
#[derive(Debug, Default)]
struct Mirror {
    /// In the order they were added.
    by_order: BTreeMap<u64, Vec<Pending>>,
    order: HashMap<String, u64>,
    next: u64,
}

impl Mirror {
    fn add_pending(&mut self, pending: Pending) {
        let next = &mut self.next;
        let order = *self
            .order
            .entry(pending.draft.id.clone())
            .or_insert_with(|| {
                *next += 1;
                *next
            });
        self.by_order.entry(order).or_default().push(pending);
    }

    fn add(&mut self, draft: &Draft, sinks: &[String], stamp: &Stamp) {
        for sink in sinks {
            self.add_pending(Pending {
                draft: draft.clone(),
                sink: sink.clone(),
                attempts: 0,
                age: Duration::ZERO,
                wait: None,
                last_error: None,
                stamp: stamp.clone(),
            });
        }
    }

    fn update(&mut self, id: &str, sink: &str, change: &Change) {
        let Some(&order) = self.order.get(id) else {
            return;
        };
        let Some(deliveries) = self.by_order.get_mut(&order) else {
            return;
        };
        if change.state == DeliveryState::Pending {
            if let Some(p) = deliveries.iter_mut().find(|p| p.sink == sink) {
                p.attempts = change.attempts;
                p.age = change.age;
                p.wait = change.wait;
                p.stamp = change.stamp.clone();
                if change.error.is_some() {
                    p.last_error.clone_from(&change.error);
                }
            }
            return;
        }
        deliveries.retain(|p| p.sink != sink);
        if deliveries.is_empty() {
            self.by_order.remove(&order);
            self.order.remove(id);
        }
    }

    fn count(&self) -> usize {
        self.by_order.values().map(Vec::len).sum()
    }
}

/// Retrying after a failure.
#[derive(Debug)]
struct Failing {
    tries: u32,
    next: Instant,
}

impl Failing {
    fn delay(tries: u32) -> Duration {
        Duration::from_secs(1u64 << tries.min(6).saturating_sub(1)).min(Duration::from_secs(60))
    }
}

struct WriterThread {
    dir: PathBuf,
    lock: Option<StateLock>,
    outbox: Option<Outbox>,
    /// The open file's (device, inode).
    identity: Option<(u64, u64)>,
    /// Whether the outbox has been open in this run: only its first opening brings
    /// deliveries from an earlier run back.
    opened_before: bool,
    /// Where the pending deliveries found by the first opening go, if start-up is
    /// still waiting for them.
    first: Option<mpsc::Sender<Vec<Pending>>>,
    /// Changes not yet written, in order.
    held: Vec<Command>,
    mirror: Mirror,
    failing: Option<Failing>,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
}

impl WriterThread {
    fn run(mut self, inbox: &mpsc::Receiver<Message>) {
        self.flush();
        loop {
            let message = match self.failing.as_ref().map(|f| f.next) {
                None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(next) => inbox.recv_timeout(next.saturating_duration_since(Instant::now())),
            };
            let mut close = false;
            match message {
                Ok(Message::Command(c)) => {
                    self.accept(c);
                    close = self.gather(inbox);
                }
                Ok(Message::Close) | Err(RecvTimeoutError::Disconnected) => close = true,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if close {
                // One last try, whatever the backoff says.
                self.failing = None;
                self.flush();
                if !self.held.is_empty() {
                    log::error!(
                        "stopping with {} outbox changes not written; deliveries they \
                         finished may be sent again after the restart",
                        self.held.len()
                    );
                }
                return;
            }
            let due = self
                .failing
                .as_ref()
                .is_none_or(|f| f.next <= Instant::now());
            if due {
                self.flush();
            }
        }
    }

    /// Takes what else arrives within [`GATHER`] of a first change, so that a press
    /// and its sinks' outcomes usually share one commit; whether to close.
    fn gather(&mut self, inbox: &mpsc::Receiver<Message>) -> bool {
        let until = Instant::now() + GATHER;
        loop {
            match inbox.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(Message::Command(c)) => self.accept(c),
                Ok(Message::Close) | Err(RecvTimeoutError::Disconnected) => return true,
                Err(RecvTimeoutError::Timeout) => return false,
            }
        }
    }

    fn accept(&mut self, command: Command) {
        match &command {
            Command::Add {
                draft,
                sinks,
                stamp,
            } => self.mirror.add(draft, sinks, stamp),
            Command::Update { id, sink, change } => self.mirror.update(id, sink, change),
            Command::Prune { .. } => {}
        }
        self.held.push(command);
    }

    /// Opens the outbox if need be, then writes everything held in one transaction.
    fn flush(&mut self) {
        if self.outbox.is_some() && self.replaced() {
            log::error!(
                "the outbox {} was deleted or replaced while running; making it again with \
                 the {} pending deliveries held in memory",
                self.dir.join(Outbox::FILE_NAME).display(),
                self.mirror.count()
            );
            self.outbox = None;
            // Forget the old file: a new one may well get the same inode number.
            self.identity = None;
            // The old lock is on a file that is gone: take one on the new directory.
            self.lock = None;
        }
        if self.outbox.is_none() && !self.open() {
            return;
        }
        if self.held.is_empty() {
            return;
        }
        let mut result = self.write_held();
        if let Err(err) = &result
            && err.is_full()
            && ballast::release(&self.dir)
        {
            log::error!(
                "{err}: released the space reserved for this ({}), so that what was \
                 delivered is recorded and not sent again",
                ballast::FILE_NAME
            );
            result = self.write_held();
        }
        match result {
            Ok(()) => {
                if self.failing.take().is_some() {
                    log::info!(
                        "outbox {}: written again; durable again",
                        self.dir.join(Outbox::FILE_NAME).display()
                    );
                }
            }
            Err(err) => self.failed(&err),
        }
    }

    fn write_held(&mut self) -> Result<(), OutboxError> {
        let Some(outbox) = self.outbox.as_mut() else {
            return Ok(());
        };
        let held = &self.held;
        outbox.write(|tx| {
            for command in held {
                apply(tx, command)?;
            }
            Ok(())
        })?;
        self.held.clear();
        Ok(())
    }

    /// Notes a failure: loudly the first time, then quietly, retrying with backoff.
    fn failed(&mut self, err: &OutboxError) {
        let tries = self.failing.as_ref().map_or(0, |f| f.tries) + 1;
        let delay = Failing::delay(tries);
        if tries == 1 {
            log::error!(
                "OUTBOX WRITE FAILED: {err}; holding {} changes in memory ({WITHOUT})",
                self.held.len()
            );
        } else {
            log::debug!("outbox still not writable (try {tries}): {err}");
        }
        self.failing = Some(Failing {
            tries,
            next: Instant::now() + delay,
        });
        // A full card or a lock passes with the same connection; for anything else
        // (an I/O error, a file gone bad) open it afresh next time.
        if !err.is_full() && !matches!(err, OutboxError::Busy { .. }) {
            self.outbox = None;
        }
    }

    /// Whether the open file is no longer the one at the path.
    fn replaced(&self) -> bool {
        let path = self.dir.join(Outbox::FILE_NAME);
        super::file_identity(&path) != self.identity
    }

    /// Tries to lock and open; whether the outbox is open now.
    fn open(&mut self) -> bool {
        if self
            .failing
            .as_ref()
            .is_some_and(|f| f.next > Instant::now())
        {
            return false;
        }
        if self.lock.is_none() {
            match StateLock::acquire(&self.dir) {
                Ok(lock) => self.lock = Some(lock),
                Err(err) => {
                    self.open_failed(&err.to_string());
                    return false;
                }
            }
        }
        let outbox = match Outbox::open(&self.dir) {
            Ok(outbox) => outbox,
            Err(err) => {
                self.open_failed(&err.to_string());
                return false;
            }
        };
        ballast::ensure(&self.dir);
        let identity = outbox.identity();
        let mut outbox = outbox;
        if self.opened_before && identity != self.identity {
            // Not the file we had: a new one, to fill with what the daemon holds.
            let mirror = &self.mirror;
            let restored = outbox.write(|tx| {
                for deliveries in mirror.by_order.values() {
                    for (position, pending) in (0_i64..).zip(deliveries) {
                        queue::restore(tx, pending, position)?;
                    }
                }
                Ok(())
            });
            if let Err(err) = restored {
                self.failed(&err);
                return false;
            }
            // Everything held is in the mirror, or finished (and that history is gone).
            self.held.clear();
            log::info!(
                "outbox {} made again with {} pending deliveries",
                outbox.path().display(),
                self.mirror.count()
            );
        }
        self.identity = identity;
        if !self.opened_before {
            self.opened_before = true;
            let pending = match outbox.pending() {
                Ok(pending) => pending,
                Err(err) => {
                    log::error!("cannot read the pending deliveries: {err}");
                    Vec::new()
                }
            };
            for p in &pending {
                self.mirror.add_pending(p.clone());
            }
            let pending = match self.first.take() {
                // Start-up is waiting for them.
                Some(first) => first.send(pending).err().map(|e| e.0),
                None => Some(pending),
            };
            if let Some(pending) = pending {
                log::info!(
                    "outbox {}: resuming {} pending deliveries from before",
                    outbox.path().display(),
                    pending.len()
                );
                let _ = self.events.send(Event::Resumed(pending));
            }
        }
        if self.failing.take().is_some() {
            log::info!("outbox {} open: durable again", outbox.path().display());
        }
        self.outbox = Some(outbox);
        true
    }

    fn open_failed(&mut self, err: &str) {
        let tries = self.failing.as_ref().map_or(0, |f| f.tries) + 1;
        if tries == 1 {
            log::error!("NO OUTBOX: {err}; {WITHOUT}");
        } else {
            log::debug!("outbox still cannot be opened (try {tries}): {err}");
        }
        if let Some(first) = self.first.take() {
            // Start-up need not wait: nothing pending is known.
            let _ = first.send(Vec::new());
        }
        self.failing = Some(Failing {
            tries,
            next: Instant::now() + Failing::delay(tries),
        });
    }
}

/// One held change inside the batch's transaction. A change that no longer applies (its
/// delivery already final, or gone with a recreated file) is skipped.
fn apply(tx: &rusqlite::Transaction<'_>, command: &Command) -> rusqlite::Result<()> {
    match command {
        Command::Add {
            draft,
            sinks,
            stamp,
        } => {
            let sinks: Vec<&str> = sinks.iter().map(String::as_str).collect();
            queue::add(tx, draft, &sinks, stamp)
        }
        Command::Update { id, sink, change } => {
            if queue::update(tx, id, sink, change)? == 0 {
                log::debug!("outbox: no pending delivery of {id} to {sink} to update");
            }
            Ok(())
        }
        Command::Prune { before } => {
            let n = queue::prune(tx, *before)?;
            if n > 0 {
                log::info!("pruned {n} old announcements from the outbox");
            }
            Ok(())
        }
    }
}
