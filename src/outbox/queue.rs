//! The queue's statements: add an announcement with its deliveries, list what is
//! pending, record attempts and outcomes, prune finished history.
//!
//! Each function is one SQLite transaction (an explicit one for `add`, an implicit
//! one for the single statements), which is what keeps the card's writes few.

use jiff::Timestamp;
use rusqlite::types::Type;
use rusqlite::{Connection, Row, TransactionBehavior, params};

use super::schema::{from_ns, to_ns};
use super::{Pending, State};
use crate::announce::Announcement;

/// The columns [`announcement`] reads, from the `announcements` table aliased `a`.
pub(super) const ANNOUNCEMENT_COLUMNS: &str =
    "a.id, a.action, a.subject, a.body, a.device, a.created_ns";

/// Reads the [`ANNOUNCEMENT_COLUMNS`] that start at column `first`.
pub(super) fn announcement(row: &Row<'_>, first: usize) -> rusqlite::Result<Announcement> {
    Ok(Announcement {
        id: row.get(first)?,
        action: row.get(first + 1)?,
        subject: row.get(first + 2)?,
        body: row.get(first + 3)?,
        device: row.get(first + 4)?,
        created: from_ns(row.get(first + 5)?),
    })
}

/// Reads a delivery state column.
pub(super) fn state(row: &Row<'_>, index: usize) -> rusqlite::Result<State> {
    let name: String = row.get(index)?;
    State::from_name(&name).ok_or_else(|| {
        let why = format!("unknown delivery state {name:?}");
        rusqlite::Error::FromSqlConversionFailure(index, Type::Text, why.into())
    })
}

/// Reads an optional timestamp column.
pub(super) fn optional_time(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Timestamp>> {
    Ok(row.get::<_, Option<i64>>(index)?.map(from_ns))
}

pub(super) fn add(
    conn: &mut Connection,
    a: &Announcement,
    sinks: &[&str],
    now: Timestamp,
) -> rusqlite::Result<()> {
    // IMMEDIATE: take the write lock now, so a reader cannot make us fail half-way.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO announcements (id, action, subject, body, device, created_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            a.id,
            a.action,
            a.subject,
            a.body,
            a.device,
            to_ns(a.created)
        ],
    )?;
    let seq = tx.last_insert_rowid();
    {
        let mut insert = tx.prepare(
            "INSERT INTO deliveries (announcement, sink, position, updated_ns)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (position, sink) in (0_i64..).zip(sinks) {
            insert.execute(params![seq, sink, position, to_ns(now)])?;
        }
    }
    tx.commit()
}

pub(super) fn pending(conn: &Connection) -> rusqlite::Result<Vec<Pending>> {
    let sql = format!(
        "SELECT {ANNOUNCEMENT_COLUMNS}, d.sink, d.attempts, d.next_attempt_ns
         FROM deliveries d JOIN announcements a ON a.seq = d.announcement
         WHERE d.state = 'pending'
         ORDER BY a.seq, d.position"
    );
    let mut select = conn.prepare(&sql)?;
    let rows = select.query_map([], |row| {
        Ok(Pending {
            announcement: announcement(row, 0)?,
            sink: row.get(6)?,
            attempts: row.get(7)?,
            next_attempt: optional_time(row, 8)?,
        })
    })?;
    rows.collect()
}

/// A change to one delivery.
pub(super) struct Change<'a> {
    pub state: State,
    pub attempts: u32,
    pub next_attempt: Option<Timestamp>,
    /// `None` keeps the error recorded before.
    pub error: Option<&'a str>,
}

/// Applies `change` to the delivery of announcement `id` to `sink` if it is still
/// pending; returns how many rows changed (0 or 1).
pub(super) fn update(
    conn: &Connection,
    id: &str,
    sink: &str,
    change: &Change<'_>,
    now: Timestamp,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE deliveries
         SET state = ?1, attempts = ?2, next_attempt_ns = ?3,
             last_error = COALESCE(?4, last_error), updated_ns = ?5
         WHERE state = 'pending' AND sink = ?6
           AND announcement = (SELECT seq FROM announcements WHERE id = ?7)",
        params![
            change.state.name(),
            change.attempts,
            change.next_attempt.map(to_ns),
            change.error,
            to_ns(now),
            sink,
            id,
        ],
    )
}

pub(super) fn prune(conn: &Connection, before: Timestamp) -> rusqlite::Result<usize> {
    // The deliveries go with their announcement (ON DELETE CASCADE).
    conn.execute(
        "DELETE FROM announcements
         WHERE created_ns < ?1
           AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.announcement = announcements.seq AND d.state = 'pending')",
        params![to_ns(before)],
    )
}
