//! Reading the history back for `daas status`: the latest announcements with every
//! delivery.
//!
//! Each answer is a single SELECT, so it is one consistent snapshot even while the
//! daemon commits in between (WAL readers see the last commit before they started).

use rusqlite::{Connection, params};

use super::queue::{DRAFT_COLUMNS, TIME_COLUMNS, draft, state, times};
use super::{DeliveryRecord, Record};

pub(super) fn recent(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<Record>> {
    // LEFT JOIN: an announcement added with no sinks still shows.
    let sql = format!(
        "SELECT a.seq, {DRAFT_COLUMNS},
                d.sink, d.state, d.attempts, d.last_error, {TIME_COLUMNS}
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
                draft: draft(row, 1)?,
                deliveries: Vec::new(),
            });
        }
        let delivery = delivery(row, 8)?;
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
    let (age, wait, stamp) = times(row, first + 4)?;
    Ok(Some(DeliveryRecord {
        sink,
        state: state(row, first + 1)?,
        attempts: row.get(first + 2)?,
        last_error: row.get(first + 3)?,
        age,
        wait,
        stamp,
    }))
}
