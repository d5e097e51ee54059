//! Opening the outbox file: the daemon's read-write connection and `daas status`'s
//! read-only one, with the settings that make the file safe to share between them.
//!
//! - `journal_mode = WAL`: readers see the last committed state while the daemon
//!   writes, and each commit appends to the `-wal` file instead of rewriting pages
//!   twice, which spares the SD card. The mode is stored in the file, so the read-only
//!   connection inherits it.
//! - `synchronous = FULL`: with WAL, NORMAL skips the fsync at each commit, so a power
//!   cut can undo the last commits (the file stays consistent, but a press whose add
//!   had returned could vanish). The rule is that an accepted press is never lost, and
//!   the outbox writes only on events (a few small transactions per announcement), so
//!   one fsync per commit costs nothing that matters.
//! - `busy_timeout`: the daemon and `daas status` wait for each other's brief locks
//!   instead of failing at once.
//! - `foreign_keys = ON`: pruning an announcement removes its deliveries.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error::{BUSY_TIMEOUT_S, Doing, OutboxError, classify};
use super::schema::{self, Found};

/// Opens (creating the directory, file and tables if need be) for reading and writing.
pub(super) fn read_write(path: &Path) -> Result<Connection, OutboxError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|cause| OutboxError::CreateDir {
            dir: dir.to_path_buf(),
            cause,
        })?;
    }
    let fail = |cause| classify(cause, path, Doing::Open);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    configure_writer(&conn).map_err(fail)?;
    let found = schema::migrate(&mut conn).map_err(fail)?;
    check_version(found, path)?;
    Ok(conn)
}

/// Opens an existing outbox for reading only; a missing file means the daemon has not
/// created it (yet, or here).
pub(super) fn read_only(path: &Path) -> Result<Connection, OutboxError> {
    let not_created = || OutboxError::NotCreated {
        path: path.to_path_buf(),
    };
    // An unreadable directory is not "missing": let the open below say what it is.
    if let Ok(false) = path.try_exists() {
        return Err(not_created());
    }
    let fail = |cause| classify(cause, path, Doing::OpenReadOnly);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    conn.busy_timeout(busy_timeout()).map_err(fail)?;
    match schema::version(&conn).map_err(fail)? {
        // An empty file: created, but the daemon has not written the tables yet.
        0 => Err(not_created()),
        schema::VERSION => Ok(conn),
        newer => check_version(Found::Newer(newer), path).map(|()| conn),
    }
}

fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    // First, so that even switching the journal mode waits for a reader's lock.
    conn.busy_timeout(busy_timeout())?;
    // Returns the mode now in force; a file system without shared memory keeps the old
    // one, which is still durable, only not readable during writes.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn busy_timeout() -> Duration {
    Duration::from_secs(BUSY_TIMEOUT_S)
}

fn check_version(found: Found, path: &Path) -> Result<(), OutboxError> {
    match found {
        Found::Current => Ok(()),
        Found::Newer(found) => Err(OutboxError::NewerSchema {
            path: path.to_path_buf(),
            found,
            known: schema::VERSION,
        }),
    }
}
