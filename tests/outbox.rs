//! The outbox through its public API, on real SQLite files in temporary directories:
//! queue order, recorded attempts and outcomes, pruning, durability across reopening,
//! a concurrent read-only reader, and the errors a person at the Pi would meet.

use std::path::Path;

use daas::announce::Announcement;
use daas::outbox::{Final, Outbox, OutboxError, PendingSummary, State};
use jiff::{SignedDuration, Timestamp};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn announcement(id: &str, created: Timestamp) -> Announcement {
    Announcement {
        id: id.into(),
        action: "arrival".into(),
        subject: format!("Doughnuts {id}"),
        body: "In the kitchen.".into(),
        device: "kitchen".into(),
        created,
    }
}

fn ids_and_sinks(outbox: &Outbox) -> Vec<(String, String)> {
    let pending = outbox.pending().expect("pending");
    pending
        .into_iter()
        .map(|p| (p.announcement.id, p.sink))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, s)| (a.to_string(), s.to_string()))
        .collect()
}

#[test]
fn pending_is_in_insertion_order_not_clock_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    // The clock jumps back between the two presses (NTP after boot, say).
    let first = announcement("a1", ts("2026-11-27T10:00:00Z"));
    let second = announcement("a2", ts("1970-01-01T00:01:00Z"));
    outbox.add(&first, &["slack", "email"]).expect("add");
    outbox.add(&second, &["slack", "email"]).expect("add");
    assert_eq!(
        ids_and_sinks(&outbox),
        pairs(&[
            ("a1", "slack"),
            ("a1", "email"),
            ("a2", "slack"),
            ("a2", "email")
        ])
    );
    let pending = outbox.pending().expect("pending");
    assert_eq!(pending[0].announcement, first, "read back exactly as added");
    assert_eq!((pending[0].attempts, pending[0].next_attempt), (0, None));
}

#[test]
fn add_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    let a = announcement("a1", Timestamp::now());
    // The second "slack" violates (announcement, sink) uniqueness half-way through.
    let err = outbox.add(&a, &["slack", "email", "slack"]).unwrap_err();
    assert!(matches!(err, OutboxError::Write { .. }), "{err:?}");
    assert!(outbox.pending().expect("pending").is_empty());
    assert!(outbox.recent(10).expect("recent").is_empty());
}

#[test]
fn retries_and_outcomes_show_in_pending_recent_and_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    let created = ts("2026-11-27T10:00:00Z");
    outbox
        .add(&announcement("a1", created), &["slack", "email", "teams"])
        .expect("add");
    let retry_at = ts("2026-11-27T10:00:30Z");
    outbox
        .record_retry("a1", "email", 1, retry_at, "smtp: 421 try later")
        .expect("retry");
    outbox
        .record_final("a1", "slack", Final::Delivered, 1, None)
        .expect("final");
    outbox
        .record_final("a1", "teams", Final::Failed, 1, Some("http 404"))
        .expect("final");

    let pending = outbox.pending().expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].sink, "email");
    assert_eq!(
        (pending[0].attempts, pending[0].next_attempt),
        (1, Some(retry_at))
    );

    let summary = outbox.pending_summary().expect("summary");
    let expected = PendingSummary {
        count: 1,
        oldest: Some(created),
        next_retry: Some(retry_at),
    };
    assert_eq!(summary, expected);

    let recent = outbox.recent(10).expect("recent");
    let states: Vec<_> = recent[0]
        .deliveries
        .iter()
        .map(|d| {
            (
                d.sink.as_str(),
                d.state,
                d.attempts,
                d.last_error.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("slack", State::Delivered, 1, None),
            ("email", State::Pending, 1, Some("smtp: 421 try later")),
            ("teams", State::Failed, 1, Some("http 404")),
        ]
    );
}

#[test]
fn a_final_outcome_is_final_and_expiry_keeps_the_last_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    outbox
        .add(&announcement("a1", Timestamp::now()), &["email"])
        .expect("add");
    let later = Timestamp::now() + SignedDuration::from_secs(60);
    outbox
        .record_retry("a1", "email", 3, later, "connection refused")
        .expect("retry");
    outbox
        .record_final("a1", "email", Final::Expired, 3, None)
        .expect("expire");
    let err = outbox
        .record_retry("a1", "email", 4, later, "late")
        .unwrap_err();
    assert!(matches!(err, OutboxError::NotPending { .. }), "{err:?}");
    assert!(err.to_string().contains("a1"), "{err}");
    let unknown = outbox.record_final("nope", "email", Final::Delivered, 1, None);
    assert!(matches!(unknown, Err(OutboxError::NotPending { .. })));

    let delivery = &outbox.recent(1).expect("recent")[0].deliveries[0];
    assert_eq!(delivery.state, State::Expired);
    assert_eq!(delivery.last_error.as_deref(), Some("connection refused"));
    assert_eq!(delivery.next_attempt, None);
    assert_eq!(
        outbox.pending_summary().expect("summary"),
        PendingSummary::default()
    );
}

#[test]
fn prune_removes_only_old_finished_announcements() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    let old = ts("2026-01-01T00:00:00Z");
    let new = ts("2026-06-01T00:00:00Z");
    outbox
        .add(&announcement("old-done", old), &["s"])
        .expect("add");
    outbox
        .add(&announcement("old-pending", old), &["s", "t"])
        .expect("add");
    outbox
        .add(&announcement("new-done", new), &["s"])
        .expect("add");
    for id in ["old-done", "new-done"] {
        outbox
            .record_final(id, "s", Final::Delivered, 1, None)
            .expect("final");
    }
    // One of two sinks final is not all final.
    outbox
        .record_final("old-pending", "s", Final::Delivered, 1, None)
        .expect("final");

    assert_eq!(outbox.prune(ts("2026-03-01T00:00:00Z")).expect("prune"), 1);
    let left: Vec<String> = outbox
        .recent(10)
        .expect("recent")
        .into_iter()
        .map(|r| r.announcement.id)
        .collect();
    assert_eq!(left, ["new-done", "old-pending"], "newest first");
    assert_eq!(ids_and_sinks(&outbox), pairs(&[("old-pending", "t")]));
}

#[test]
fn recent_is_newest_first_and_limited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    for id in ["a1", "a2", "a3"] {
        outbox
            .add(&announcement(id, Timestamp::now()), &["s", "t"])
            .expect("add");
    }
    outbox
        .add(&announcement("no-sinks", Timestamp::now()), &[])
        .expect("add");
    let recent = outbox.recent(2).expect("recent");
    let ids: Vec<&str> = recent.iter().map(|r| r.announcement.id.as_str()).collect();
    assert_eq!(ids, ["no-sinks", "a3"]);
    assert!(recent[0].deliveries.is_empty());
    let sinks: Vec<&str> = recent[1]
        .deliveries
        .iter()
        .map(|d| d.sink.as_str())
        .collect();
    assert_eq!(sinks, ["s", "t"]);
}

#[test]
fn a_committed_announcement_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = announcement("a1", Timestamp::now());
    {
        let mut outbox = Outbox::open(dir.path()).expect("open");
        outbox.add(&a, &["email"]).expect("add");
    }
    let outbox = Outbox::open(dir.path()).expect("reopen");
    let pending = outbox.pending().expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].announcement, a);
    assert_eq!(outbox.path(), dir.path().join(Outbox::FILE_NAME));
}

#[test]
fn a_read_only_handle_reads_while_the_daemon_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = Outbox::open(dir.path()).expect("open");
    writer
        .add(&announcement("a1", Timestamp::now()), &["s"])
        .expect("add");
    let mut reader = Outbox::open_read_only(dir.path()).expect("open read-only");
    assert_eq!(reader.pending_summary().expect("summary").count, 1);
    // Commits after the reader opened are visible to its next read.
    writer
        .add(&announcement("a2", Timestamp::now()), &["s"])
        .expect("add");
    writer
        .record_final("a1", "s", Final::Delivered, 1, None)
        .expect("final");
    assert_eq!(ids_and_sinks(&reader), pairs(&[("a2", "s")]));
    assert_eq!(reader.recent(10).expect("recent").len(), 2);
    // And it cannot write.
    let err = reader
        .add(&announcement("a3", Timestamp::now()), &["s"])
        .unwrap_err();
    assert!(matches!(err, OutboxError::Write { .. }), "{err:?}");
}

#[test]
fn status_without_an_outbox_says_the_daemon_has_not_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Outbox::open_read_only(dir.path()).unwrap_err();
    assert!(matches!(err, OutboxError::NotCreated { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&dir.path().join(Outbox::FILE_NAME).display().to_string()));
    assert!(
        text.contains("has not run yet") && text.contains("--state-dir"),
        "{text}"
    );
}

fn assert_corrupt(err: OutboxError, path: &Path) {
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{err:?}");
    let path = path.display();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{path} is not a readable daas database")),
        "{text}"
    );
    assert!(
        text.contains(&format!("mv {path} {path}.corrupt")),
        "{text}"
    );
}

#[test]
fn a_garbage_file_is_reported_as_corrupt_with_the_mv_advice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(Outbox::FILE_NAME);
    let garbage: Vec<u8> = (0..8192_u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(&path, garbage).expect("write garbage");
    assert_corrupt(Outbox::open(dir.path()).unwrap_err(), &path);
    assert_corrupt(Outbox::open_read_only(dir.path()).unwrap_err(), &path);
    // A short text file too.
    std::fs::write(&path, "not a database\n").expect("write text");
    assert_corrupt(Outbox::open(dir.path()).unwrap_err(), &path);
}

#[test]
fn a_state_dir_that_cannot_be_created_names_it_and_the_fix() {
    // Root ignores permission bits, so provoke the failure with a path under a file.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write file");
    let state_dir = file.join("sub");
    let err = Outbox::open(&state_dir).unwrap_err();
    assert!(matches!(err, OutboxError::CreateDir { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&state_dir.display().to_string()), "{text}");
    assert!(text.contains("--state-dir"), "{text}");
}

#[test]
fn a_database_path_that_cannot_be_opened_names_it_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(Outbox::FILE_NAME);
    std::fs::create_dir(&path).expect("a directory where the file should be");
    let err = Outbox::open(dir.path()).unwrap_err();
    assert!(matches!(err, OutboxError::Open { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot open {}: ", path.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("daas user owns {}", dir.path().display())),
        "{text}"
    );
}

#[test]
fn a_file_from_a_newer_daas_is_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(Outbox::open(dir.path()).expect("open"));
    let path = dir.path().join(Outbox::FILE_NAME);
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.pragma_update(None, "user_version", 2)
        .expect("bump version");
    drop(conn);
    for err in [
        Outbox::open(dir.path()).unwrap_err(),
        Outbox::open_read_only(dir.path()).unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                OutboxError::NewerSchema {
                    found: 2,
                    known: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("schema version 2"), "{err}");
    }
}

#[test]
fn status_renders_a_real_outbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    let a = announcement("0193a1b2-0000-7000-8000-0000c0ffee42", Timestamp::now());
    outbox.add(&a, &["email", "slack"]).expect("add");
    let next = Timestamp::now() + SignedDuration::from_secs(30);
    outbox
        .record_retry(&a.id, "email", 1, next, "timed out")
        .expect("retry");
    let reader = Outbox::open_read_only(dir.path()).expect("open read-only");
    let records = reader.recent(20).expect("recent");
    let summary = reader.pending_summary().expect("summary");
    let table = daas::status::table(&records, &summary, Timestamp::now());
    assert!(table.starts_with("pending: 2 deliveries"), "{table}");
    assert!(
        table.contains("c0ffee42") && table.contains("timed out"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&daas::status::json(&records, &summary)).expect("JSON");
    assert_eq!(
        json["announcements"][0]["deliveries"][0]["last_error"],
        "timed out"
    );
}
