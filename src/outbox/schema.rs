//! The outbox's tables, their version, and how values are stored in them.
//!
//! Two tables. `announcements` keeps each announcement once, keyed by `seq`, an
//! INTEGER PRIMARY KEY that grows with every insert: that, not the creation time, is
//! the order of the queue, because the Pi has no real-time clock and its wall clock
//! can jump (1970 until NTP answers, then suddenly today). Its `subject` and `body` are
//! the action's templates, filled in at each send (see [`crate::core::announce`]);
//! `created_ns` is the wall clock at the press and `created_trusted` whether that
//! reading could be believed. `deliveries` holds one row per (announcement, sink), with
//! `position` keeping the config order of the sinks; its rows go when their
//! announcement goes (`ON DELETE CASCADE`).
//!
//! Time in `deliveries` is monotonic, never the wall clock: `age_ns` is the
//! announcement's age and `wait_ns` the retry wait still to run when the row was
//! written, `boot_id` and `boot_ns` say in which boot and when (CLOCK_BOOTTIME) that
//! was, so the daemon or `daas status` can carry both on exactly within the same boot.
//! `updated_ns` is the wall clock at the write, for people only.
//!
//! `PRAGMA user_version` says which version of this layout a file has. Version 0 is a
//! fresh (empty) file; version 1 (wall-clock retry times, rendered text) is upgraded in
//! place; a version newer than [`VERSION`] was written by a newer daas, and this one
//! leaves it alone rather than guess.
//!
//! Times are stored as whole nanoseconds in an INTEGER, so an announcement reads back
//! exactly as it was added; wall-clock times cover the years 1677 to 2262, and anything
//! outside is clamped (a Pi's clock will not get there).

use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, TransactionBehavior};

/// The layout this daas writes and reads.
pub(super) const VERSION: i64 = 2;

const CREATE: &str = "
    CREATE TABLE announcements (
        seq              INTEGER PRIMARY KEY,
        id               TEXT    NOT NULL UNIQUE,
        action           TEXT    NOT NULL,
        subject          TEXT    NOT NULL,
        body             TEXT    NOT NULL,
        device           TEXT    NOT NULL,
        created_ns       INTEGER NOT NULL,
        created_trusted  INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE deliveries (
        announcement     INTEGER NOT NULL REFERENCES announcements (seq) ON DELETE CASCADE,
        sink             TEXT    NOT NULL,
        position         INTEGER NOT NULL,
        state            TEXT    NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'delivered', 'failed', 'expired')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_error       TEXT,
        updated_ns       INTEGER NOT NULL,
        age_ns           INTEGER NOT NULL DEFAULT 0,
        wait_ns          INTEGER,
        boot_id          TEXT,
        boot_ns          INTEGER,
        PRIMARY KEY (announcement, sink)
    ) WITHOUT ROWID;
    -- The daemon asks for pending deliveries often; finished ones pile up as history.
    CREATE INDEX deliveries_pending ON deliveries (announcement) WHERE state = 'pending';
";

/// Version 1 → 2: templates instead of rendered text (a rendered text is a template
/// with its braces doubled), whether the creation time was trusted (version 1 knew
/// only "after 2025"), and monotonic ages instead of wall-clock retry times. A pending
/// delivery starts again at age 0: version 1 kept no age.
const UPGRADE_1_TO_2: &str = "
    ALTER TABLE announcements ADD COLUMN created_trusted INTEGER NOT NULL DEFAULT 1;
    UPDATE announcements
       SET created_trusted = (created_ns >= 1735689600000000000),
           subject = replace(replace(subject, '{', '{{'), '}', '}}'),
           body = replace(replace(body, '{', '{{'), '}', '}}');
    ALTER TABLE deliveries ADD COLUMN age_ns INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE deliveries ADD COLUMN wait_ns INTEGER;
    ALTER TABLE deliveries ADD COLUMN boot_id TEXT;
    ALTER TABLE deliveries ADD COLUMN boot_ns INTEGER;
    ALTER TABLE deliveries DROP COLUMN next_attempt_ns;
";

/// What [`migrate`] found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// The file has (now) the layout of [`VERSION`].
    Current,
    /// The file was written by a newer daas with this version.
    Newer(i64),
}

/// The file's layout version; 0 for a fresh file.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Creates the tables in a fresh file or upgrades an older one, in one transaction,
/// and checks the version of an existing one. IMMEDIATE takes the write lock first, so
/// two processes opening a fresh file at once cannot both create the tables.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<Found> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = match version(&tx)? {
        0 => {
            tx.execute_batch(CREATE)?;
            tx.pragma_update(None, "user_version", VERSION)?;
            Found::Current
        }
        1 => {
            tx.execute_batch(UPGRADE_1_TO_2)?;
            tx.pragma_update(None, "user_version", VERSION)?;
            Found::Current
        }
        VERSION => Found::Current,
        newer => Found::Newer(newer),
    };
    tx.commit()?;
    Ok(found)
}

/// A duration as stored: whole nanoseconds, clamped to what an i64 holds (292 years).
pub(super) fn duration_to_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// A stored duration; a negative one (never written) reads as zero.
pub(super) fn duration_from_ns(ns: i64) -> Duration {
    Duration::from_nanos(u64::try_from(ns).unwrap_or(0))
}

/// A timestamp as stored: nanoseconds since the epoch, clamped to what an i64 holds.
pub(super) fn to_ns(t: Timestamp) -> i64 {
    let ns = t.as_nanosecond();
    i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
}

/// A stored timestamp. Every i64 of nanoseconds is within jiff's range, so the
/// fallback is never taken.
pub(super) fn from_ns(ns: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(ns)).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_to_the_nanosecond() {
        let t: Timestamp = "2026-11-27T10:03:00.123456789Z".parse().expect("timestamp");
        assert_eq!(from_ns(to_ns(t)), t);
        let before_1970: Timestamp = "1969-07-20T20:17:40Z".parse().expect("timestamp");
        assert_eq!(from_ns(to_ns(before_1970)), before_1970);
    }

    #[test]
    fn timestamps_beyond_an_i64_are_clamped_not_wrapped() {
        assert_eq!(to_ns(Timestamp::MAX), i64::MAX);
        assert_eq!(to_ns(Timestamp::MIN), i64::MIN);
    }

    #[test]
    fn a_fresh_file_gets_the_current_layout_once() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        assert_eq!(migrate(&mut conn).expect("migrate"), Found::Current);
        assert_eq!(version(&conn).expect("version"), VERSION);
        // A second open of the same file changes nothing.
        assert_eq!(migrate(&mut conn).expect("migrate"), Found::Current);
    }

    #[test]
    fn a_version_1_file_is_upgraded_in_place() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.execute_batch(VERSION_1).expect("version 1 tables");
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO announcements VALUES
                (1, 'a1', 'arrival', 'Doughnuts {now}', 'In the kitchen.', 'k', 1764237600000000000),
                (2, 'a2', 'arrival', 'Doughnuts', 'Early.', 'k', 42000000000);
             INSERT INTO deliveries (announcement, sink, position, attempts, next_attempt_ns, updated_ns)
                VALUES (1, 'slack', 0, 2, 1764237700000000000, 1764237600000000000);",
        )
        .expect("version 1 rows");
        assert_eq!(migrate(&mut conn).expect("migrate"), Found::Current);
        assert_eq!(version(&conn).expect("version"), VERSION);
        let (subject, trusted): (String, Vec<bool>) = (
            conn.query_row("SELECT subject FROM announcements WHERE seq = 1", [], |r| {
                r.get(0)
            })
            .expect("subject"),
            conn.prepare("SELECT created_trusted FROM announcements ORDER BY seq")
                .expect("select")
                .query_map([], |r| r.get(0))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("trusted"),
        );
        // Rendering the upgraded template gives the text as it was.
        assert_eq!(subject, "Doughnuts {{now}}");
        assert_eq!(trusted, [true, false]);
        let (attempts, age, wait): (u32, i64, Option<i64>) = conn
            .query_row(
                "SELECT attempts, age_ns, wait_ns FROM deliveries",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("delivery");
        assert_eq!((attempts, age, wait), (2, 0, None));
    }

    /// The layout of version 1, as daas 0.1 created it.
    const VERSION_1: &str = "
        CREATE TABLE announcements (
            seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, action TEXT NOT NULL,
            subject TEXT NOT NULL, body TEXT NOT NULL, device TEXT NOT NULL,
            created_ns INTEGER NOT NULL);
        CREATE TABLE deliveries (
            announcement INTEGER NOT NULL REFERENCES announcements (seq) ON DELETE CASCADE,
            sink TEXT NOT NULL, position INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'delivered', 'failed', 'expired')),
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ns INTEGER, last_error TEXT,
            updated_ns INTEGER NOT NULL, PRIMARY KEY (announcement, sink)) WITHOUT ROWID;
        CREATE INDEX deliveries_pending ON deliveries (announcement) WHERE state = 'pending';
    ";

    #[test]
    fn a_newer_layout_is_reported_not_touched() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.pragma_update(None, "user_version", 7)
            .expect("set version");
        assert_eq!(migrate(&mut conn).expect("migrate"), Found::Newer(7));
        assert_eq!(version(&conn).expect("version"), 7);
    }
}
