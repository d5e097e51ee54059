//! The queue's statements: add an announcement with its deliveries, list what is
//! pending, record attempts and outcomes, prune finished history. They run inside the
//! caller's transaction, so the writer can put a whole batch into one commit (one
//! fsync) instead of one per change.

use jiff::Timestamp;
use rusqlite::types::Type;
use rusqlite::{Connection, Row, params};

use super::schema::{duration_from_ns, duration_to_ns, from_ns, to_ns};
use super::{Change, DeliveryState, Pending, Stamp};
use crate::model::Draft;
use crate::model::WallNow;

/// The columns [`draft`] reads, from the `announcements` table aliased `a`.
pub(super) const DRAFT_COLUMNS: &str =
    "a.id, a.action, a.subject, a.body, a.device, a.created_ns, a.created_trusted";

/// Reads the [`DRAFT_COLUMNS`] that start at column `first`.
pub(super) fn draft(row: &Row<'_>, first: usize) -> rusqlite::Result<Draft> {
    Ok(Draft {
        id: row.get(first)?,
        action: row.get(first + 1)?,
        subject: row.get(first + 2)?,
        body: row.get(first + 3)?,
        device: row.get(first + 4)?,
        made: WallNow {
            now: from_ns(row.get(first + 5)?),
            trusted: row.get(first + 6)?,
        },
    })
}

/// The delivery time columns, from the `deliveries` table aliased `d`.
pub(super) const TIME_COLUMNS: &str = "d.age_ns, d.wait_ns, d.boot_id, d.boot_ns, d.updated_ns";

/// Reads the [`TIME_COLUMNS`] that start at `first`: (age, wait, stamp).
pub(super) fn times(
    row: &Row<'_>,
    first: usize,
) -> rusqlite::Result<(std::time::Duration, Option<std::time::Duration>, Stamp)> {
    let age = duration_from_ns(row.get(first)?);
    let wait = row.get::<_, Option<i64>>(first + 1)?.map(duration_from_ns);
    let stamp = Stamp {
        boot_id: row.get(first + 2)?,
        boot: duration_from_ns(row.get::<_, Option<i64>>(first + 3)?.unwrap_or(0)),
        wall: from_ns(row.get(first + 4)?),
    };
    Ok((age, wait, stamp))
}

/// Reads a delivery state column.
pub(super) fn state(row: &Row<'_>, index: usize) -> rusqlite::Result<DeliveryState> {
    let name: String = row.get(index)?;
    DeliveryState::from_name(&name).ok_or_else(|| {
        let why = format!("unknown delivery state {name:?}");
        rusqlite::Error::FromSqlConversionFailure(index, Type::Text, why.into())
    })
}

/// Inserts the announcement row (`OR IGNORE` when it may be there already).
fn insert_announcement(tx: &Connection, d: &Draft, or_ignore: bool) -> rusqlite::Result<()> {
    let verb = if or_ignore {
        "INSERT OR IGNORE"
    } else {
        "INSERT"
    };
    tx.prepare_cached(&format!(
        "{verb} INTO announcements (id, action, subject, body, device, created_ns, created_trusted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(params![
        d.id,
        d.action,
        d.subject,
        d.body,
        d.device,
        to_ns(d.made.now),
        d.made.trusted
    ])?;
    Ok(())
}

pub(super) fn add(
    tx: &Connection,
    d: &Draft,
    sinks: &[&str],
    stamp: &Stamp,
) -> rusqlite::Result<()> {
    insert_announcement(tx, d, false)?;
    let seq = tx.last_insert_rowid();
    let mut insert = tx.prepare_cached(
        "INSERT INTO deliveries (announcement, sink, position, updated_ns, age_ns, boot_id, boot_ns)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
    )?;
    for (position, sink) in (0_i64..).zip(sinks) {
        insert.execute(params![
            seq,
            sink,
            position,
            to_ns(stamp.wall),
            stamp.boot_id,
            duration_to_ns(stamp.boot)
        ])?;
    }
    Ok(())
}

/// Adds a pending delivery as it stands (the outbox was recreated with what the
/// daemon held in memory); the announcement row is added once.
pub(super) fn restore(tx: &Connection, pending: &Pending, position: i64) -> rusqlite::Result<()> {
    let d = &pending.draft;
    insert_announcement(tx, d, true)?;
    let s = &pending.stamp;
    tx.execute(
        "INSERT OR REPLACE INTO deliveries
            (announcement, sink, position, attempts, last_error, updated_ns, age_ns, wait_ns, boot_id, boot_ns)
         VALUES ((SELECT seq FROM announcements WHERE id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            d.id,
            pending.sink,
            position,
            pending.attempts,
            pending.last_error,
            to_ns(s.wall),
            duration_to_ns(pending.age),
            pending.wait.map(duration_to_ns),
            s.boot_id,
            duration_to_ns(s.boot)
        ],
    )?;
    Ok(())
}

pub(super) fn pending(conn: &Connection) -> rusqlite::Result<Vec<Pending>> {
    let sql = format!(
        "SELECT {DRAFT_COLUMNS}, d.sink, d.attempts, d.last_error, {TIME_COLUMNS}
         FROM deliveries d JOIN announcements a ON a.seq = d.announcement
         WHERE d.state = 'pending'
         ORDER BY a.seq, d.position"
    );
    let mut select = conn.prepare(&sql)?;
    let rows = select.query_map([], |row| {
        let (age, wait, stamp) = times(row, 10)?;
        Ok(Pending {
            draft: draft(row, 0)?,
            sink: row.get(7)?,
            attempts: row.get(8)?,
            last_error: row.get(9)?,
            age,
            wait,
            stamp,
        })
    })?;
    rows.collect()
}

/// Applies `change` to the delivery of announcement `id` to `sink` if it is still
/// pending; returns how many rows changed (0 or 1).
pub(super) fn update(
    tx: &Connection,
    id: &str,
    sink: &str,
    change: &Change,
) -> rusqlite::Result<usize> {
    let mut update = tx.prepare_cached(
        "UPDATE deliveries
         SET state = ?1, attempts = ?2, last_error = COALESCE(?3, last_error), updated_ns = ?4,
             age_ns = ?5, wait_ns = ?6, boot_id = ?7, boot_ns = ?8
         WHERE state = 'pending' AND sink = ?9
           AND announcement = (SELECT seq FROM announcements WHERE id = ?10)",
    )?;
    let s = &change.stamp;
    update.execute(params![
        change.state.name(),
        change.attempts,
        change.error,
        to_ns(s.wall),
        duration_to_ns(change.age),
        change.wait.map(duration_to_ns),
        s.boot_id,
        duration_to_ns(s.boot),
        sink,
        id,
    ])
}

pub(super) fn prune(tx: &Connection, before: Timestamp) -> rusqlite::Result<usize> {
    // Insertion order is time order, so everything up to the newest announcement whose
    // time was trusted and is older than `before` is older than `before` too — also
    // announcements made before the clock was right, whose own time may say 1970.
    // The deliveries go with their announcement (ON DELETE CASCADE).
    tx.execute(
        "DELETE FROM announcements
         WHERE seq <= (SELECT MAX(seq) FROM announcements
                       WHERE created_trusted = 1 AND created_ns < ?1)
           AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.announcement = announcements.seq AND d.state = 'pending')",
        params![to_ns(before)],
    )
}
