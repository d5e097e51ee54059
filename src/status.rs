//! `daas status`: what the outbox holds, as a table for people and as JSON for scripts.
//!
//! The table answers "did my press go out, and if not, why?" at a glance: a line about
//! what is still pending, then one row per (announcement, sink). Times are wall-clock
//! in the Pi's own zone; a time from before the clock was synchronised (the Pi has no
//! real-time clock) shows as "clock unset" rather than a date in 1970. Announcement
//! bodies are never shown: the subject says which one it was. Errors are stored already
//! redacted, so no secret can appear here.
//!
//! The JSON is a contract for scripts: the field names are stable, times are RFC 3339
//! in UTC, and absent values are `null`.

use comfy_table::Table;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::announce::CLOCK_SET_AFTER;
use crate::outbox::{DeliveryRecord, PendingSummary, Record, State};

/// Longest last error shown in a table cell; the JSON has it whole.
const ERROR_WIDTH: usize = 60;

/// The human view: a pending line, then one row per (announcement, sink); every line
/// ends with a newline, ready for `print!`.
pub fn table(records: &[Record], summary: &PendingSummary, now: Timestamp) -> String {
    render_table(records, summary, now, &TimeZone::system())
}

/// The machine view, pretty-printed JSON (see the module doc for the contract).
pub fn json(records: &[Record], summary: &PendingSummary) -> String {
    let status = StatusJson {
        pending: PendingJson {
            count: summary.count,
            oldest: summary.oldest.map(rfc3339),
            next_retry: summary.next_retry.map(rfc3339),
        },
        announcements: records.iter().map(AnnouncementJson::from).collect(),
    };
    // Serialising these plain structs cannot fail.
    serde_json::to_string_pretty(&status).unwrap_or_default()
}

fn render_table(
    records: &[Record],
    summary: &PendingSummary,
    now: Timestamp,
    tz: &TimeZone,
) -> String {
    let clock = Clock { now, tz };
    let mut out = clock.pending_line(summary);
    out.push('\n');
    if records.is_empty() {
        out.push_str("no announcements yet\n");
        return out;
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "created",
        "action",
        "id",
        "sink",
        "state",
        "attempts",
        "last error",
    ]);
    for record in records {
        for row in clock.rows(record) {
            table.add_row(row);
        }
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out
}

/// Formats times for people, relative to `now` in zone `tz`.
struct Clock<'a> {
    now: Timestamp,
    tz: &'a TimeZone,
}

impl Clock<'_> {
    fn pending_line(&self, summary: &PendingSummary) -> String {
        if summary.count == 0 {
            return "pending: none".to_string();
        }
        let plural = if summary.count == 1 { "y" } else { "ies" };
        let mut line = format!("pending: {} deliver{plural}", summary.count);
        if let Some(oldest) = summary.oldest {
            line.push_str(&format!(", oldest {}", self.at(oldest)));
        }
        match summary.next_retry {
            Some(next) => line.push_str(&format!(", next retry {}", self.at(next))),
            None => line.push_str(", no retry scheduled"),
        }
        line
    }

    /// The table rows of one announcement, one per sink.
    fn rows(&self, record: &Record) -> Vec<Vec<String>> {
        let a = &record.announcement;
        // The id's last 8 characters: a UUIDv7 starts with its timestamp, so the
        // first ones are the same for every press in the same minute.
        let id: String =
            a.id.chars()
                .skip(a.id.chars().count().saturating_sub(8))
                .collect();
        let head = [self.local(a.created), a.action.clone(), id];
        let cells = |tail: [String; 4]| head.iter().cloned().chain(tail).collect();
        if record.deliveries.is_empty() {
            return vec![cells([
                "-".into(),
                "no sinks".into(),
                String::new(),
                String::new(),
            ])];
        }
        let delivery = |d: &DeliveryRecord| {
            let error = d.last_error.as_deref().map(cut).unwrap_or_default();
            cells([d.sink.clone(), self.state(d), d.attempts.to_string(), error])
        };
        record.deliveries.iter().map(delivery).collect()
    }

    /// The state, with when the next try is for a pending delivery.
    fn state(&self, d: &DeliveryRecord) -> String {
        match (d.state, d.next_attempt.and_then(|t| self.relative(t))) {
            (State::Pending, Some(when)) => format!("pending, retry {when}"),
            (state, _) => state.name().to_string(),
        }
    }

    /// Local time with its distance from now: "10:03:12 (5 min ago)".
    fn at(&self, t: Timestamp) -> String {
        match self.relative(t) {
            Some(rel) => format!("{} ({rel})", self.local(t)),
            None => self.local(t),
        }
    }

    /// Local wall-clock time; the date only when it is not today.
    fn local(&self, t: Timestamp) -> String {
        if t < CLOCK_SET_AFTER {
            return "clock unset".to_string();
        }
        let zoned = t.to_zoned_datetime(self.tz.clone());
        let today = self.now.to_zoned_datetime(self.tz.clone()).date();
        let format = if zoned.date() == today {
            "%H:%M:%S"
        } else {
            "%Y-%m-%d %H:%M:%S"
        };
        zoned.strftime(format).to_string()
    }

    /// "in 12 s", "5 min ago", "now"; nothing when either clock reading is unset,
    /// since the distance between 1970 and today means nothing.
    fn relative(&self, t: Timestamp) -> Option<String> {
        if t < CLOCK_SET_AFTER || self.now < CLOCK_SET_AFTER {
            return None;
        }
        let ahead = t.duration_since(self.now);
        Some(if ahead >= SignedDuration::from_secs(1) {
            format!("in {}", span(ahead))
        } else if ahead <= SignedDuration::from_secs(-1) {
            format!("{} ago", span(ahead))
        } else {
            "now".to_string()
        })
    }
}

/// A duration, either sign, in its largest whole unit: "12 s", "5 min", "3 h", "2 d".
fn span(d: SignedDuration) -> String {
    let s = d.as_secs().unsigned_abs();
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 => format!("{} h", s / 3_600),
        _ => format!("{} d", s / 86_400),
    }
}

/// An error on one line, at most [`ERROR_WIDTH`] characters.
fn cut(error: &str) -> String {
    let flat: String = error
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= ERROR_WIDTH {
        return flat;
    }
    let mut short: String = flat.chars().take(ERROR_WIDTH - 1).collect();
    short.push('…');
    short
}

fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

#[derive(Serialize)]
struct StatusJson<'a> {
    pending: PendingJson,
    announcements: Vec<AnnouncementJson<'a>>,
}

#[derive(Serialize)]
struct PendingJson {
    count: usize,
    oldest: Option<String>,
    next_retry: Option<String>,
}

#[derive(Serialize)]
struct AnnouncementJson<'a> {
    id: &'a str,
    action: &'a str,
    subject: &'a str,
    created: String,
    deliveries: Vec<DeliveryJson<'a>>,
}

#[derive(Serialize)]
struct DeliveryJson<'a> {
    sink: &'a str,
    state: &'static str,
    attempts: u32,
    next_attempt: Option<String>,
    last_error: Option<&'a str>,
    updated: String,
}

impl<'a> From<&'a Record> for AnnouncementJson<'a> {
    fn from(r: &'a Record) -> Self {
        let a = &r.announcement;
        AnnouncementJson {
            id: &a.id,
            action: &a.action,
            subject: &a.subject,
            created: rfc3339(a.created),
            deliveries: r.deliveries.iter().map(DeliveryJson::from).collect(),
        }
    }
}

impl<'a> From<&'a DeliveryRecord> for DeliveryJson<'a> {
    fn from(d: &'a DeliveryRecord) -> Self {
        DeliveryJson {
            sink: &d.sink,
            state: d.state.name(),
            attempts: d.attempts,
            next_attempt: d.next_attempt.map(rfc3339),
            last_error: d.last_error.as_deref(),
            updated: rfc3339(d.updated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::announce::Announcement;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn delivery(sink: &str, state: State, error: Option<&str>) -> DeliveryRecord {
        DeliveryRecord {
            sink: sink.into(),
            state,
            attempts: 2,
            next_attempt: (state == State::Pending).then(|| ts("2026-11-27T10:05:12Z")),
            last_error: error.map(str::to_string),
            updated: ts("2026-11-27T10:04:00Z"),
        }
    }

    fn records() -> Vec<Record> {
        let announcement = Announcement {
            id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
            action: "arrival".into(),
            subject: "Doughnuts in the kitchen!".into(),
            body: "SECRET-BODY-TEXT".into(),
            device: "kitchen".into(),
            created: ts("2026-11-27T10:03:00Z"),
        };
        let long_error = format!("smtp: 421 {}\nsecond line", "x".repeat(100));
        vec![Record {
            announcement,
            deliveries: vec![
                delivery("email", State::Pending, Some(&long_error)),
                delivery("slack", State::Delivered, None),
            ],
        }]
    }

    fn summary() -> PendingSummary {
        PendingSummary {
            count: 1,
            oldest: Some(ts("2026-11-27T10:03:00Z")),
            next_retry: Some(ts("2026-11-27T10:05:12Z")),
        }
    }

    const NOW: &str = "2026-11-27T10:05:00Z";

    #[test]
    fn table_shows_pending_line_and_one_row_per_sink() {
        let text = render_table(&records(), &summary(), ts(NOW), &TimeZone::UTC);
        let first = text.lines().next().expect("a line");
        assert_eq!(
            first,
            "pending: 1 delivery, oldest 10:03:00 (2 min ago), next retry 10:05:12 (in 12 s)"
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
        let text = render_table(&records(), &summary(), ts(NOW), &TimeZone::UTC);
        assert!(text.contains("smtp: 421 xxx"), "{text}");
        assert!(text.contains('…'), "{text}");
        assert!(!text.contains("second line"), "{text}");
        assert!(!text.contains("SECRET-BODY-TEXT"), "{text}");
    }

    #[test]
    fn table_shows_the_date_only_when_not_today_and_never_1970() {
        let mut records = records();
        records[0].announcement.created = ts("2026-11-20T08:00:00Z");
        let text = render_table(&records, &summary(), ts(NOW), &TimeZone::UTC);
        assert!(text.contains("2026-11-20 08:00:00"), "{text}");
        records[0].announcement.created = ts("1970-01-01T00:00:42Z");
        let text = render_table(&records, &summary(), ts(NOW), &TimeZone::UTC);
        assert!(text.contains("clock unset"), "{text}");
        assert!(!text.contains("1970"), "{text}");
    }

    #[test]
    fn table_uses_the_given_zone_for_wall_clock() {
        let tz = TimeZone::fixed(jiff::tz::offset(2));
        let text = render_table(&records(), &summary(), ts(NOW), &tz);
        assert!(text.contains("12:03:00"), "{text}");
    }

    #[test]
    fn empty_history_says_so() {
        let text = render_table(&[], &PendingSummary::default(), ts(NOW), &TimeZone::UTC);
        assert_eq!(text, "pending: none\nno announcements yet\n");
    }

    #[test]
    fn spans_use_the_largest_whole_unit() {
        assert_eq!(span(SignedDuration::from_secs(12)), "12 s");
        assert_eq!(span(SignedDuration::from_secs(-300)), "5 min");
        assert_eq!(span(SignedDuration::from_hours(3)), "3 h");
        assert_eq!(span(SignedDuration::from_hours(49)), "2 d");
    }

    #[test]
    fn json_has_the_stable_fields_with_rfc3339_times_and_nulls() {
        let text = json(&records(), &summary());
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v["pending"]["count"], 1);
        assert_eq!(v["pending"]["oldest"], "2026-11-27T10:03:00Z");
        assert_eq!(v["pending"]["next_retry"], "2026-11-27T10:05:12Z");
        let a = &v["announcements"][0];
        assert_eq!(a["id"], "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        assert_eq!(a["action"], "arrival");
        assert_eq!(a["subject"], "Doughnuts in the kitchen!");
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
    }

    #[test]
    fn json_of_an_empty_outbox() {
        let v: serde_json::Value =
            serde_json::from_str(&json(&[], &PendingSummary::default())).expect("valid JSON");
        assert_eq!(v["pending"]["count"], 0);
        assert!(v["pending"]["oldest"].is_null() && v["pending"]["next_retry"].is_null());
        assert_eq!(v["announcements"], serde_json::json!([]));
    }
}
