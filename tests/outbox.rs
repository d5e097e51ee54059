//! The outbox through its public API, on real SQLite files in temporary directories:
//! queue order, recorded attempts and outcomes, pruning, durability across reopening,
//! a concurrent read-only reader, the writer thread (batching, holding what it cannot
//! write, a state directory deleted under it, one daemon per directory), and the
//! errors a person at the Pi would meet.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use daas::model::DeliveryState;
use daas::model::Draft;
use daas::model::WallNow;
use daas::outbox::lock::LockError;
use daas::outbox::writer::{Event, Writer};
use daas::outbox::{Change, Outbox, OutboxError, Stamp};
use jiff::Timestamp;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn draft(id: &str, made: Timestamp) -> Draft {
    Draft {
        id: id.into(),
        action: "arrival".into(),
        subject: format!("Doughnuts {id} at {{time}}"),
        body: "In the kitchen.".into(),
        device: "kitchen".into(),
        made: WallNow {
            now: made,
            trusted: true,
        },
    }
}

fn stamp(boot_s: u64) -> Stamp {
    Stamp {
        wall: Timestamp::now(),
        boot_id: Some("boot-1".into()),
        boot: Duration::from_secs(boot_s),
    }
}

fn change(state: DeliveryState, attempts: u32, error: Option<&str>) -> Change {
    Change {
        state,
        attempts,
        age: Duration::from_secs(5),
        wait: (state == DeliveryState::Pending).then(|| Duration::from_secs(30)),
        error: error.map(str::to_string),
        stamp: stamp(105),
    }
}

fn ids_and_sinks(outbox: &Outbox) -> Vec<(String, String)> {
    let pending = outbox.pending().expect("pending");
    pending.into_iter().map(|p| (p.draft.id, p.sink)).collect()
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
    let first = draft("a1", ts("2026-11-27T10:00:00Z"));
    let mut second = draft("a2", ts("1970-01-01T00:01:00Z"));
    second.made.trusted = false;
    outbox
        .add(&first, &["slack", "email"], &stamp(100))
        .expect("add");
    outbox
        .add(&second, &["slack", "email"], &stamp(101))
        .expect("add");
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
    assert_eq!(pending[0].draft, first, "read back exactly as added");
    assert_eq!(pending[2].draft, second, "untrusted time kept as such");
    assert_eq!(
        (pending[0].attempts, pending[0].age, pending[0].wait),
        (0, Duration::ZERO, None)
    );
    assert_eq!(pending[0].stamp.boot, Duration::from_secs(100));
}

#[test]
fn add_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    let a = draft("a1", Timestamp::now());
    // The second "slack" violates (announcement, sink) uniqueness half-way through.
    let err = outbox
        .add(&a, &["slack", "email", "slack"], &stamp(1))
        .unwrap_err();
    assert!(matches!(err, OutboxError::Write { .. }), "{err:?}");
    assert!(outbox.pending().expect("pending").is_empty());
    assert!(outbox.recent(10).expect("recent").is_empty());
}

#[test]
fn retries_and_outcomes_show_in_pending_and_recent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    let made = ts("2026-11-27T10:00:00Z");
    outbox
        .add(
            &draft("a1", made),
            &["slack", "email", "teams"],
            &stamp(100),
        )
        .expect("add");
    let retry = change(DeliveryState::Pending, 1, Some("smtp: 421 try later"));
    assert!(outbox.update("a1", "email", &retry).expect("retry"));
    let delivered = change(DeliveryState::Delivered, 1, None);
    assert!(outbox.update("a1", "slack", &delivered).expect("final"));
    let failed = change(DeliveryState::Failed, 1, Some("http 404"));
    assert!(outbox.update("a1", "teams", &failed).expect("final"));

    let pending = outbox.pending().expect("pending");
    assert_eq!(pending.len(), 1);
    let p = &pending[0];
    assert_eq!(p.sink, "email");
    assert_eq!(
        (p.attempts, p.age, p.wait, p.last_error.as_deref()),
        (
            1,
            Duration::from_secs(5),
            Some(Duration::from_secs(30)),
            Some("smtp: 421 try later")
        )
    );
    // Carried on within the boot, kept as written in another.
    assert_eq!(
        p.now(Some("boot-1"), Duration::from_secs(115)),
        (Duration::from_secs(15), Some(Duration::from_secs(20)))
    );
    assert_eq!(
        p.now(Some("boot-2"), Duration::from_secs(3)),
        (Duration::from_secs(5), Some(Duration::from_secs(30)))
    );

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
            ("slack", DeliveryState::Delivered, 1, None),
            (
                "email",
                DeliveryState::Pending,
                1,
                Some("smtp: 421 try later")
            ),
            ("teams", DeliveryState::Failed, 1, Some("http 404")),
        ]
    );
}

#[test]
fn a_final_outcome_is_final_and_expiry_keeps_the_last_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    outbox
        .add(&draft("a1", Timestamp::now()), &["email"], &stamp(1))
        .expect("add");
    let retry = change(DeliveryState::Pending, 3, Some("connection refused"));
    outbox.update("a1", "email", &retry).expect("retry");
    let expired = change(DeliveryState::Expired, 3, None);
    assert!(outbox.update("a1", "email", &expired).expect("expire"));
    let late = change(DeliveryState::Pending, 4, Some("late"));
    assert!(!outbox.update("a1", "email", &late).expect("no-op"));
    assert!(!outbox.update("nope", "email", &late).expect("no-op"));

    let delivery = &outbox.recent(1).expect("recent")[0].deliveries[0];
    assert_eq!(delivery.state, DeliveryState::Expired);
    assert_eq!(delivery.last_error.as_deref(), Some("connection refused"));
    assert!(outbox.pending().expect("pending").is_empty());
}

#[test]
fn prune_removes_only_old_finished_announcements() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    let old = ts("2026-01-01T00:00:00Z");
    let new = ts("2026-06-01T00:00:00Z");
    // Made before the clock was synchronised: its own time says 1970.
    let mut unsynced = draft("unsynced-done", ts("1970-01-01T00:00:09Z"));
    unsynced.made.trusted = false;
    outbox.add(&unsynced, &["s"], &stamp(1)).expect("add");
    outbox
        .add(&draft("old-done", old), &["s"], &stamp(2))
        .expect("add");
    outbox
        .add(&draft("old-pending", old), &["s", "t"], &stamp(3))
        .expect("add");
    outbox
        .add(&draft("new-done", new), &["s"], &stamp(4))
        .expect("add");
    // A late press before the sync: newer than everything, despite its 1970.
    let mut late = draft("late-unsynced-done", ts("1970-01-01T00:00:09Z"));
    late.made.trusted = false;
    outbox.add(&late, &["s"], &stamp(5)).expect("add");
    let done = change(DeliveryState::Delivered, 1, None);
    for id in [
        "unsynced-done",
        "old-done",
        "new-done",
        "late-unsynced-done",
    ] {
        outbox.update(id, "s", &done).expect("final");
    }
    // One of two sinks final is not all final.
    outbox.update("old-pending", "s", &done).expect("final");

    assert_eq!(outbox.prune(ts("2026-03-01T00:00:00Z")).expect("prune"), 2);
    let left: Vec<String> = outbox
        .recent(10)
        .expect("recent")
        .into_iter()
        .map(|r| r.draft.id)
        .collect();
    assert_eq!(
        left,
        ["late-unsynced-done", "new-done", "old-pending"],
        "newest first"
    );
    assert_eq!(ids_and_sinks(&outbox), pairs(&[("old-pending", "t")]));
}

#[test]
fn recent_is_newest_first_and_limited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    for id in ["a1", "a2", "a3"] {
        outbox
            .add(&draft(id, Timestamp::now()), &["s", "t"], &stamp(1))
            .expect("add");
    }
    outbox
        .add(&draft("no-sinks", Timestamp::now()), &[], &stamp(1))
        .expect("add");
    let recent = outbox.recent(2).expect("recent");
    let ids: Vec<&str> = recent.iter().map(|r| r.draft.id.as_str()).collect();
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
    let a = draft("a1", Timestamp::now());
    {
        let mut outbox = Outbox::open(dir.path()).expect("open");
        outbox.add(&a, &["email"], &stamp(1)).expect("add");
    }
    let outbox = Outbox::open(dir.path()).expect("reopen");
    let pending = outbox.pending().expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].draft, a);
    assert_eq!(outbox.path(), dir.path().join(Outbox::FILE_NAME));
}

#[test]
fn a_read_only_handle_reads_while_the_daemon_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = Outbox::open(dir.path()).expect("open");
    writer
        .add(&draft("a1", Timestamp::now()), &["s"], &stamp(1))
        .expect("add");
    let mut reader = Outbox::open_read_only(dir.path()).expect("open read-only");
    assert_eq!(reader.pending().expect("pending").len(), 1);
    // Commits after the reader opened are visible to its next read.
    writer
        .add(&draft("a2", Timestamp::now()), &["s"], &stamp(2))
        .expect("add");
    let done = change(DeliveryState::Delivered, 1, None);
    writer.update("a1", "s", &done).expect("final");
    assert_eq!(ids_and_sinks(&reader), pairs(&[("a2", "s")]));
    assert_eq!(reader.recent(10).expect("recent").len(), 2);
    // And it cannot write.
    let err = reader
        .add(&draft("a3", Timestamp::now()), &["s"], &stamp(3))
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
    conn.pragma_update(None, "user_version", 3)
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
                    found: 3,
                    known: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("schema version 3"), "{err}");
    }
}

#[test]
fn status_renders_a_real_outbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outbox = Outbox::open(dir.path()).expect("open");
    let a = draft("0193a1b2-0000-7000-8000-0000c0ffee42", Timestamp::now());
    outbox
        .add(&a, &["email", "slack"], &stamp(100))
        .expect("add");
    let retry = change(DeliveryState::Pending, 1, Some("timed out"));
    outbox.update(&a.id, "email", &retry).expect("retry");
    let reader = Outbox::open_read_only(dir.path()).expect("open read-only");
    let records = reader.recent(20).expect("recent");
    let pending = reader.pending().expect("pending");
    let now = daas::commands::status::Now {
        wall: WallNow {
            now: Timestamp::now(),
            trusted: true,
        },
        boot_id: Some("boot-1".into()),
        boot: Duration::from_secs(110),
        tz: jiff::tz::TimeZone::UTC,
        expire_after: Duration::from_secs(7200),
    };
    let table = daas::commands::status::table(&records, &pending, &now);
    assert!(table.starts_with("pending: 2 deliveries"), "{table}");
    assert!(
        table.contains("c0ffee42") && table.contains("timed out"),
        "{table}"
    );
    // Written at boot second 105 with 30 s to wait; now it is 110.
    assert!(table.contains("pending, retry in 25 s"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&daas::commands::status::json(&records, &pending, &now))
            .expect("JSON");
    assert_eq!(
        json["announcements"][0]["deliveries"][0]["last_error"],
        "timed out"
    );
}

/// Waits up to 10 s for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_pending(dir: &Path) -> Vec<(String, String)> {
    Outbox::open_read_only(dir)
        .map(|o| ids_and_sinks(&o))
        .unwrap_or_default()
}

#[test]
fn the_writer_commits_in_the_background_and_stops_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Writer::start(dir.path().into(), Duration::from_secs(5)).expect("start");
    assert!(started.pending.is_empty());
    let writer = started.writer;
    writer.add(
        Arc::new(draft("a1", Timestamp::now())),
        vec!["s".into(), "t".into()],
        stamp(1),
    );
    writer.update(
        "a1".into(),
        "s".into(),
        change(DeliveryState::Delivered, 1, None),
    );
    eventually("the add and the outcome", || {
        read_pending(dir.path()) == pairs(&[("a1", "t")])
    });
    writer.update(
        "a1".into(),
        "t".into(),
        change(DeliveryState::Failed, 1, Some("no")),
    );
    assert!(writer.close(Duration::from_secs(5)), "closed in time");
    assert!(
        read_pending(dir.path()).is_empty(),
        "the last change was written at close"
    );

    // The next start finds nothing pending; one with a pending delivery finds it.
    let started = Writer::start(dir.path().into(), Duration::from_secs(5)).expect("again");
    assert!(started.pending.is_empty());
    started.writer.add(
        Arc::new(draft("a2", Timestamp::now())),
        vec!["s".into()],
        stamp(2),
    );
    started.writer.close(Duration::from_secs(5));
    let started = Writer::start(dir.path().into(), Duration::from_secs(5)).expect("third");
    let found: Vec<_> = started.pending.iter().map(|p| p.draft.id.clone()).collect();
    assert_eq!(found, ["a2"]);
}

#[test]
fn a_second_writer_on_the_same_state_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = Writer::start(dir.path().into(), Duration::from_secs(5)).expect("first");
    let Err(err) = Writer::start(dir.path().into(), Duration::from_secs(5)) else {
        panic!("a second writer started")
    };
    assert!(matches!(err, LockError::Held { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("(process {})", std::process::id())),
        "{err}"
    );
    first.writer.close(Duration::from_secs(5));
    Writer::start(dir.path().into(), Duration::from_secs(5)).expect("free again");
}

#[test]
fn a_state_directory_deleted_under_the_writer_is_made_again_with_what_is_pending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let writer = Writer::start(state.clone(), Duration::from_secs(5))
        .expect("start")
        .writer;
    writer.add(
        Arc::new(draft("a1", Timestamp::now())),
        vec!["s".into(), "t".into()],
        stamp(1),
    );
    writer.add(
        Arc::new(draft("a2", Timestamp::now())),
        vec!["s".into()],
        stamp(2),
    );
    writer.update(
        "a1".into(),
        "s".into(),
        change(DeliveryState::Delivered, 1, None),
    );
    eventually("written", || read_pending(&state).len() == 2);

    std::fs::remove_dir_all(&state).expect("rm -r state");
    // The next write notices, and brings back every pending delivery.
    writer.update(
        "a1".into(),
        "t".into(),
        change(DeliveryState::Pending, 1, Some("503")),
    );
    eventually("made again", || read_pending(&state).len() == 2);
    assert_eq!(read_pending(&state), pairs(&[("a1", "t"), ("a2", "s")]));
    let reader = Outbox::open_read_only(&state).expect("read");
    let t = &reader.pending().expect("pending")[0];
    assert_eq!((t.attempts, t.last_error.as_deref()), (1, Some("503")));
    // And it holds the lock on the new directory.
    assert!(matches!(
        Writer::start(state.clone(), Duration::from_secs(1)),
        Err(LockError::Held { .. })
    ));
    writer.close(Duration::from_secs(5));
}

#[test]
fn an_outbox_locked_at_start_is_opened_later_and_its_pending_deliveries_come_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut outbox = Outbox::open(dir.path()).expect("open");
        outbox
            .add(&draft("old", Timestamp::now()), &["s"], &stamp(1))
            .expect("add");
    }
    // Another program holds the database's write lock.
    let blocker = rusqlite::Connection::open(dir.path().join(Outbox::FILE_NAME)).expect("open");
    blocker.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let started = Writer::start(dir.path().into(), Duration::from_millis(300)).expect("start");
    assert!(started.pending.is_empty(), "nothing known yet");
    let mut writer = started.writer;
    writer.add(
        Arc::new(draft("new", Timestamp::now())),
        vec!["s".into()],
        stamp(2),
    );
    std::thread::sleep(Duration::from_millis(500));
    blocker.execute_batch("COMMIT").expect("unlock");
    drop(blocker);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let event = runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(20), writer.next_event()).await
        })
        .expect("resumed in time");
    let Some(Event::Resumed(pending)) = event else {
        panic!("no event")
    };
    let ids: Vec<_> = pending.iter().map(|p| p.draft.id.as_str()).collect();
    assert_eq!(ids, ["old"]);
    eventually("the held add written", || {
        read_pending(dir.path()).len() == 2
    });
    assert_eq!(
        read_pending(dir.path()),
        pairs(&[("old", "s"), ("new", "s")])
    );
    writer.close(Duration::from_secs(5));
}
