//! Reading the history back for `daas status`: the latest announcements with every
//! delivery, and a summary of what is still pending.
//!
//! Each answer is a single SELECT, so it is one consistent snapshot even while the
//! daemon commits in between (WAL readers see the last commit before they started).

use rusqlite::{Connection, params};

use super::queue::{ANNOUNCEMENT_COLUMNS, announcement, optional_time, state};
use super::schema::from_ns;
use super::{DeliveryRecord, PendingSummary, Record};

pub(super) fn recent(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<Record>> {
    // LEFT JOIN: an announcement added with no sinks still shows.
    let sql = format!(
        "SELECT a.seq, {ANNOUNCEMENT_COLUMNS},
                d.sink, d.state, d.attempts, d.next_attempt_ns, d.last_error, d.updated_ns
         FROM (SELECT * FROM announcements ORDER BY seq DESC LIMIT ?1) a
         LEFT JOIN deliveries d ON d.announcement = a.seq
         ORDER BY a.seq DESC, d.position"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut select = conn.prepare(&sql)?;
    let mut rows = select.query(params![limit])?;
    let mut records: Vec<Record> = Vec::new();
    let mut last_seq = None;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        if last_seq != Some(seq) {
            last_seq = Some(seq);
            records.push(Record {
                announcement: announcement(row, 1)?,
                deliveries: Vec::new(),
            });
        }
        let delivery = delivery(row, 7)?;
        if let (Some(record), Some(delivery)) = (records.last_mut(), delivery) {
            record.deliveries.push(delivery);
        }
    }
    Ok(records)
}

/// The delivery columns starting at `first`; `None` where the LEFT JOIN found none.
fn delivery(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Option<DeliveryRecord>> {
    let Some(sink) = row.get::<_, Option<String>>(first)? else {
        return Ok(None);
    };
    Ok(Some(DeliveryRecord {
        sink,
        state: state(row, first + 1)?,
        attempts: row.get(first + 2)?,
        next_attempt: optional_time(row, first + 3)?,
        last_error: row.get(first + 4)?,
        updated: from_ns(row.get(first + 5)?),
    }))
}

pub(super) fn pending_summary(conn: &Connection) -> rusqlite::Result<PendingSummary> {
    conn.query_row(
        "SELECT COUNT(*),
                (SELECT a.created_ns FROM announcements a
                 WHERE EXISTS (SELECT 1 FROM deliveries p
                               WHERE p.announcement = a.seq AND p.state = 'pending')
                 ORDER BY a.seq LIMIT 1),
                MIN(d.next_attempt_ns)
         FROM deliveries d WHERE d.state = 'pending'",
        [],
        |row| {
            Ok(PendingSummary {
                count: usize::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
                oldest: optional_time(row, 1)?,
                next_retry: optional_time(row, 2)?,
            })
        },
    )
}
