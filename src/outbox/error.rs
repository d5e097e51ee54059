//! What can go wrong with the outbox database, said as cause + fix.
//!
//! SQLite reports a handful of result codes; the person at the Pi needs to know which
//! file, what happened to it and what to do. [`classify`] turns a rusqlite error into
//! one of these variants according to what we were doing at the time (opening,
//! reading or writing), so the wording fits: a read-only card while opening is a
//! permission problem, while writing it is a write failure.
//!
//! The underlying cause is part of the message rather than a `source()`, so that the
//! binary's `daas: {err:#}` prints the fix last instead of the cause.

use std::io;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// An outbox failure, naming the database file and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(
        "cannot create the state directory {}: {cause}: check that the daas user may write \
         there, or choose another directory with --state-dir",
        dir.display()
    )]
    CreateDir { dir: PathBuf, cause: io::Error },

    #[error(
        "cannot open {}: {cause}: check that the daas user owns {} and that the card is not \
         read-only, or choose another directory with --state-dir",
        path.display(),
        dir.display()
    )]
    Open {
        path: PathBuf,
        dir: PathBuf,
        cause: rusqlite::Error,
    },

    #[error(
        "cannot open {} for reading: {cause}: run daas status as the daas user (or root), \
         or point --state-dir at the daemon's state directory",
        path.display()
    )]
    OpenReadOnly {
        path: PathBuf,
        cause: rusqlite::Error,
    },

    #[error(
        "cannot read {}: it is on a read-only file system, and SQLite must create {} beside \
         it to read it; remount the file system read-write (findmnt -T {} names it), or copy \
         the state directory somewhere writable and point --state-dir at the copy",
        path.display(),
        missing.display(),
        path.display()
    )]
    ReadOnlyFileSystem { path: PathBuf, missing: PathBuf },

    #[error(
        "there is no outbox at {}: the daemon has not run yet, or --state-dir points elsewhere",
        path.display()
    )]
    NotCreated { path: PathBuf },

    #[error(
        "{} is not a readable daas database (corrupt?): move it aside (mv {} {}.corrupt) and \
         daas creates a fresh one",
        path.display(),
        path.display(),
        path.display()
    )]
    Corrupt { path: PathBuf },

    #[error(
        "{} has schema version {found}, newer than the {known} this daas knows: run the daas \
         that wrote it, or move the file aside and let this one create a fresh one",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error(
        "{} stayed locked by another process for {timeout_s} s: try again, and check that \
         only one daas daemon uses this state directory",
        path.display()
    )]
    Busy { path: PathBuf, timeout_s: u64 },

    #[error(
        "cannot write {}: {cause}: check free space on the card (df) and that it is not \
         mounted read-only",
        path.display()
    )]
    Write {
        path: PathBuf,
        cause: rusqlite::Error,
    },

    #[error("cannot read {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: rusqlite::Error,
    },

    #[error(
        "cannot write {}: the card is full; free some space (df -h {})",
        path.display(),
        path.parent().map(Path::display).map(|d| d.to_string()).unwrap_or_default()
    )]
    Full { path: PathBuf },
}

impl OutboxError {
    /// Whether the write failed for want of space.
    pub fn is_full(&self) -> bool {
        matches!(self, OutboxError::Full { .. })
    }
}

/// What the outbox was doing when SQLite failed; it picks the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Doing {
    Open,
    OpenReadOnly,
    Read,
    Write,
}

/// How long a connection waits for another one's lock before giving up.
pub(super) const BUSY_TIMEOUT_S: u64 = 5;

/// Turns a SQLite failure on the database at `path` into the variant that tells the fix.
pub(super) fn classify(cause: rusqlite::Error, path: &Path, doing: Doing) -> OutboxError {
    let path = path.to_path_buf();
    match cause.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            return OutboxError::Corrupt { path };
        }
        Some(ErrorCode::DiskFull) => return OutboxError::Full { path },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            return OutboxError::Busy {
                path,
                timeout_s: BUSY_TIMEOUT_S,
            };
        }
        _ => {}
    }
    match doing {
        Doing::Open => {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            OutboxError::Open { path, dir, cause }
        }
        Doing::OpenReadOnly => OutboxError::OpenReadOnly { path, cause },
        Doing::Read => OutboxError::Read { path, cause },
        Doing::Write => OutboxError::Write { path, cause },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn corrupt_and_not_a_database_always_give_the_mv_advice() {
        let path = Path::new("/var/lib/daas/outbox.sqlite3");
        for code in [rusqlite::ffi::SQLITE_CORRUPT, rusqlite::ffi::SQLITE_NOTADB] {
            let err = classify(failure(code), path, Doing::Write);
            assert!(matches!(err, OutboxError::Corrupt { .. }), "{err:?}");
            assert_eq!(
                err.to_string(),
                "/var/lib/daas/outbox.sqlite3 is not a readable daas database (corrupt?): move \
                 it aside (mv /var/lib/daas/outbox.sqlite3 /var/lib/daas/outbox.sqlite3.corrupt) \
                 and daas creates a fresh one"
            );
        }
    }

    #[test]
    fn a_full_disk_while_writing_names_the_file_and_the_cause() {
        let path = Path::new("/data/outbox.sqlite3");
        let err = classify(failure(rusqlite::ffi::SQLITE_FULL), path, Doing::Write);
        let text = err.to_string();
        assert!(
            text.starts_with("cannot write /data/outbox.sqlite3: "),
            "{text}"
        );
        assert!(err.is_full(), "{err:?}");
        assert_eq!(
            text,
            "cannot write /data/outbox.sqlite3: the card is full; free some space (df -h /data)"
        );
    }

    #[test]
    fn a_read_only_card_while_opening_says_who_must_own_the_directory() {
        let path = Path::new("/data/outbox.sqlite3");
        let err = classify(failure(rusqlite::ffi::SQLITE_READONLY), path, Doing::Open);
        let text = err.to_string();
        assert!(text.contains("daas user owns /data"), "{text}");
        assert!(text.contains("--state-dir"), "{text}");
    }

    #[test]
    fn a_lock_held_too_long_is_busy_whatever_we_were_doing() {
        let path = Path::new("/data/outbox.sqlite3");
        let err = classify(failure(rusqlite::ffi::SQLITE_BUSY), path, Doing::Read);
        assert!(
            matches!(err, OutboxError::Busy { timeout_s: 5, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn messages_are_lower_case_without_a_final_period() {
        let path = Path::new("/d/outbox.sqlite3");
        let errs = [
            OutboxError::NotCreated { path: path.into() },
            OutboxError::Corrupt { path: path.into() },
            OutboxError::ReadOnlyFileSystem {
                path: path.into(),
                missing: "/d/outbox.sqlite3-shm".into(),
            },
            classify(
                failure(rusqlite::ffi::SQLITE_CANTOPEN),
                path,
                Doing::OpenReadOnly,
            ),
        ];
        for err in errs {
            let text = err.to_string();
            assert!(!text.ends_with('.'), "{text}");
            assert!(!text.starts_with(char::is_uppercase), "{text}");
        }
    }
}
