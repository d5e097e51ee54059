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
//!
//! On a read-only file system (a card the kernel remounted read-only, a read-only
//! bind mount) the read-only open works while the `-wal` and `-shm` files are both
//! there or both gone, and fails when SQLite must create one of them, with a bare
//! SQLITE_CANTOPEN that reads as a permission problem even for root;
//! [`needs_files_on_read_only_fs`] tells that case apart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};
use rustix::fs::StatVfsMountFlags;

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
    let fail = |cause: rusqlite::Error| {
        let read_only_fs = path_on_read_only_fs(path);
        needs_files_on_read_only_fs(&cause, path, read_only_fs)
            .unwrap_or_else(|| classify(cause, path, Doing::OpenReadOnly))
    };
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

/// Whether `path`'s directory is on a file system mounted read-only (a card the kernel
/// remounted read-only after errors, a read-only bind mount).
fn path_on_read_only_fs(path: &Path) -> bool {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    rustix::fs::statvfs(dir).is_ok_and(|fs| fs.f_flag.contains(StatVfsMountFlags::RDONLY))
}

/// The failure of a read-only open that had to create a file SQLite reads a WAL
/// database with, on a read-only file system: it reports only SQLITE_CANTOPEN
/// ("unable to open database file"), which reads as a permission problem, and even
/// root gets it.
///
/// Reading needs the `-wal` file (the commits not yet in the main file) and the
/// `-shm` file (its index) together. With neither, SQLite reads the main file alone
/// (the daemon stopped cleanly), so that is never this failure; with one of them,
/// it must create the other (a crash or a copy left one behind), and cannot.
pub(super) fn needs_files_on_read_only_fs(
    cause: &rusqlite::Error,
    path: &Path,
    read_only_fs: bool,
) -> Option<OutboxError> {
    if !read_only_fs || cause.sqlite_error_code() != Some(ErrorCode::CannotOpen) {
        return None;
    }
    let beside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let (shm, wal) = (beside("-shm"), beside("-wal"));
    let missing = match (shm.exists(), wal.exists()) {
        (false, true) => shm,
        (true, false) => wal,
        (true, true) | (false, false) => return None,
    };
    Some(OutboxError::ReadOnlyFileSystem {
        path: path.to_path_buf(),
        missing,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cannot_open() -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some("unable to open database file".into()),
        )
    }

    #[test]
    fn cannot_open_on_a_read_only_fs_with_one_wal_file_left_names_the_missing_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("outbox.sqlite3");
        std::fs::write(dir.path().join("outbox.sqlite3-wal"), "").expect("wal");
        let err = needs_files_on_read_only_fs(&cannot_open(), &path, true).expect("this cause");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "cannot read {}: it is on a read-only file system, and SQLite must create {}-shm",
                path.display(),
                path.display()
            )),
            "{text}"
        );
        assert!(
            text.contains("remount the file system read-write"),
            "{text}"
        );
        assert!(
            !text.contains("daas user"),
            "not a permission problem: {text}"
        );

        // The file system is writable: something else (permissions) is wrong.
        assert!(needs_files_on_read_only_fs(&cannot_open(), &path, false).is_none());
        // Another failure than "cannot open" is not this one.
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(needs_files_on_read_only_fs(&busy, &path, true).is_none());
        // Both files there: SQLite had nothing to create.
        std::fs::write(dir.path().join("outbox.sqlite3-shm"), "").expect("shm");
        assert!(needs_files_on_read_only_fs(&cannot_open(), &path, true).is_none());
        // Neither: SQLite reads the main file alone, so the failure is something else.
        let lone = dir.path().join("other.sqlite3");
        assert!(needs_files_on_read_only_fs(&cannot_open(), &lone, true).is_none());
    }

    #[test]
    fn a_writable_temporary_directory_is_not_read_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!path_on_read_only_fs(&dir.path().join("outbox.sqlite3")));
    }
}
