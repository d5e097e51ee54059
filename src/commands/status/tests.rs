//! `daas status` on hand-made records: what people and scripts see.

use super::*;
use crate::model::Draft;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn s(v: u64) -> Duration {
    Duration::from_secs(v)
}

const BOOT: &str = "boot-1";

/// Now: 10:05:00 UTC, trusted, 1000 s into boot-1; expiry after 2 h.
fn now() -> Now {
    Now {
        wall: WallNow {
            now: ts("2026-11-27T10:05:00Z"),
            trusted: true,
        },
        boot_id: Some(BOOT.into()),
        boot: s(1000),
        tz: TimeZone::UTC,
        expire_after: s(7200),
    }
}

/// Written at boot time `at` of boot-1.
fn stamp(at: u64) -> Stamp {
    Stamp {
        wall: ts("2026-11-27T10:04:00Z"),
        boot_id: Some(BOOT.into()),
        boot: s(at),
    }
}

fn draft(made: &str, trusted: bool) -> Draft {
    Draft {
        id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        action: "arrival".into(),
        device: "kitchen".into(),
        subject: "Doughnuts at {time}!".into(),
        body: "SECRET-BODY-TEXT".into(),
        made: WallNow {
            now: ts(made),
            trusted,
        },
    }
}

fn delivery(
    sink: &str,
    state: DeliveryState,
    wait: Option<u64>,
    error: Option<&str>,
) -> DeliveryRecord {
    DeliveryRecord {
        sink: sink.into(),
        state,
        attempts: 2,
        // 110 s old when written at boot second 990: 120 s old now.
        age: s(110),
        wait: wait.map(s),
        last_error: error.map(str::to_string),
        stamp: stamp(990),
    }
}

fn records() -> Vec<Record> {
    let long_error = format!("smtp: 421 {}\nsecond line", "x".repeat(100));
    vec![Record {
        draft: draft("2026-11-27T10:03:00Z", true),
        deliveries: vec![
            delivery("email", DeliveryState::Pending, Some(22), Some(&long_error)),
            delivery("slack", DeliveryState::Delivered, None, None),
        ],
    }]
}

fn pending_of(records: &[Record]) -> Vec<Pending> {
    records
        .iter()
        .flat_map(|r| {
            r.deliveries
                .iter()
                .filter(|d| d.state == DeliveryState::Pending)
                .map(|d| Pending {
                    draft: r.draft.clone(),
                    sink: d.sink.clone(),
                    attempts: d.attempts,
                    age: d.age,
                    wait: d.wait,
                    last_error: d.last_error.clone(),
                    stamp: d.stamp.clone(),
                })
        })
        .collect()
}

#[test]
fn table_shows_pending_line_and_one_row_per_sink() {
    let records = records();
    let text = table(&records, &pending_of(&records), &now());
    let first = text.lines().next().expect("a line");
    assert_eq!(
        first,
        "pending: 1 delivery, oldest 10:03:00 (2 min ago), next retry in 12 s"
    );
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("2e3f4a5b")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[0].contains("email") && rows[0].contains("pending, retry in 12 s"));
    assert!(rows[1].contains("slack") && rows[1].contains("delivered"));
    assert!(rows[0].contains("10:03:00") && rows[0].contains("arrival"));
    assert!(
        !text.contains("0c1d2e3f4a5b") && !text.contains("0193a1b2"),
        "only the id's last 8 chars: {text}"
    );
}

#[test]
fn table_cuts_long_errors_to_one_line_and_never_shows_the_body() {
    let records = records();
    let text = table(&records, &pending_of(&records), &now());
    assert!(text.contains("smtp: 421 xxx"), "{text}");
    assert!(text.contains('…'), "{text}");
    assert!(!text.contains("second line"), "{text}");
    assert!(!text.contains("SECRET-BODY-TEXT"), "{text}");
}

#[test]
fn a_retry_after_the_expiry_is_never_shown() {
    let mut records = records();
    // 120 s old now, expires in 7080 s; a retry wait of 3 h would come after that.
    records[0].deliveries[0].wait = Some(s(3 * 3600));
    let text = table(&records, &pending_of(&records), &now());
    assert!(text.contains("pending, expires in 1 h"), "{text}");
    assert!(text.contains("no retry waiting"), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&json(&records, &pending_of(&records), &now())).expect("json");
    let email = &v["announcements"][0]["deliveries"][0];
    assert!(
        email["next_attempt"].is_null() && email["retry_in_s"].is_null(),
        "{email}"
    );
    assert_eq!(email["expires_in_s"], 7080.0);
}

#[test]
fn the_wall_clock_jumping_changes_no_wait() {
    let records = records();
    let mut jumped = now();
    jumped.wall.now = ts("2026-11-28T09:00:00Z");
    let text = table(&records, &pending_of(&records), &jumped);
    assert!(text.contains("pending, retry in 12 s"), "{text}");
}

#[test]
fn a_press_before_the_sync_shows_its_real_time_once_the_clock_is_right() {
    let mut records = records();
    records[0].draft = draft("1970-01-01T00:00:42Z", false);
    let text = table(&records, &pending_of(&records), &now());
    // Now (10:05:00) minus its age (120 s).
    assert!(text.contains("10:03:00"), "{text}");
    assert!(!text.contains("1970"), "{text}");
    let mut unsynced = now();
    unsynced.wall = WallNow {
        now: ts("1970-01-01T00:02:42Z"),
        trusted: false,
    };
    let text = table(&records, &pending_of(&records), &unsynced);
    assert!(text.contains("before clock sync"), "{text}");
    assert!(!text.contains("1970"), "{text}");
}

#[test]
fn another_boot_keeps_the_written_age_and_wait() {
    let records = records();
    let mut rebooted = now();
    rebooted.boot_id = Some("boot-2".into());
    rebooted.boot = s(30);
    let text = table(&records, &pending_of(&records), &rebooted);
    assert!(text.contains("pending, retry in 22 s"), "{text}");
}

#[test]
fn empty_history_says_so() {
    assert_eq!(
        table(&[], &[], &now()),
        "pending: none\nno announcements yet\n"
    );
}

#[test]
fn spans_use_the_largest_whole_unit() {
    assert_eq!(span(s(12)), "12 s");
    assert_eq!(span(s(300)), "5 min");
    assert_eq!(span(s(3 * 3600)), "3 h");
    assert_eq!(span(s(49 * 3600)), "2 d");
    assert_eq!(in_span(Duration::from_millis(300)), "now");
}

#[test]
fn json_has_the_stable_fields_with_rfc3339_times_and_nulls() {
    let records = records();
    let text = json(&records, &pending_of(&records), &now());
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["pending"]["count"], 1);
    assert_eq!(v["pending"]["oldest"], "2026-11-27T10:03:00Z");
    assert_eq!(v["pending"]["next_retry"], "2026-11-27T10:05:12Z");
    assert_eq!(v["pending"]["next_retry_in_s"], 12.0);
    let a = &v["announcements"][0];
    assert_eq!(a["id"], "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    assert_eq!(a["action"], "arrival");
    assert_eq!(a["subject"], "Doughnuts at 10:03!");
    assert_eq!(a["created"], "2026-11-27T10:03:00Z");
    assert!(a.get("body").is_none(), "{text}");
    let email = &a["deliveries"][0];
    assert_eq!(email["sink"], "email");
    assert_eq!(email["state"], "pending");
    assert_eq!(email["attempts"], 2);
    assert_eq!(email["next_attempt"], "2026-11-27T10:05:12Z");
    assert!(
        email["last_error"]
            .as_str()
            .expect("error")
            .ends_with("second line")
    );
    assert_eq!(email["updated"], "2026-11-27T10:04:00Z");
    let slack = &a["deliveries"][1];
    assert_eq!(slack["state"], "delivered");
    assert!(slack["next_attempt"].is_null() && slack["last_error"].is_null());
    assert!(slack["expires_in_s"].is_null());
}

#[test]
fn json_of_an_empty_outbox() {
    let v: serde_json::Value = serde_json::from_str(&json(&[], &[], &now())).expect("valid JSON");
    assert_eq!(v["pending"]["count"], 0);
    assert!(v["pending"]["oldest"].is_null() && v["pending"]["next_retry"].is_null());
    assert_eq!(v["announcements"], serde_json::json!([]));
}

#[test]
fn limit_zero_is_refused_saying_what_to_give() {
    assert_eq!(parse_limit("10"), Ok(10));
    assert_eq!(parse_limit("1"), Ok(1));
    let zero = parse_limit("0").expect_err("zero");
    assert!(
        zero.starts_with("0 would show no announcements; give 1 or more"),
        "{zero}"
    );
    let word = parse_limit("all").expect_err("not a number");
    assert!(word.contains("give 1 or more"), "{word}");
    assert!(parse_limit("-1").is_err());
}
