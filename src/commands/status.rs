//! `daas status`: what the outbox holds, as a table for people and as JSON for scripts.
//!
//! The table answers "did my press go out, and if not, why?" at a glance: a line about
//! what is still pending, then one row per (announcement, sink). It tells the truth
//! the daemon works by: ages, retry waits and expiry are monotonic (carried on from
//! each row's last write when that was in this boot), so "retry in 12 s" is what the
//! daemon will do whatever the wall clock says, and no retry is ever shown after the
//! delivery's expiry. Wall-clock times are shown in the Pi's own zone, and only when
//! they can be believed: a press made before the clock was synchronised shows its real
//! time once the clock is right (now minus its age), "before clock sync" until then —
//! never 1970. Announcement bodies are never shown: the action says which one it was.
//! Errors are stored already redacted, so no secret can appear here.
//!
//! The JSON is a contract for scripts: the field names are stable, times are RFC 3339
//! in UTC or `null` when unknown, durations are seconds.

use std::time::Duration;

use comfy_table::Table;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::model::DeliveryState;
use crate::model::WallNow;
use crate::outbox::{DeliveryRecord, Pending, Record, Stamp};

/// Longest last error shown in a table cell; the JSON has it whole.
const ERROR_WIDTH: usize = 60;

/// What `status` knows about now.
#[derive(Debug, Clone)]
pub struct Now {
    pub wall: WallNow,
    pub boot_id: Option<String>,
    /// CLOCK_BOOTTIME now.
    pub boot: Duration,
    pub tz: TimeZone,
    /// `[delivery] expire_after_s`.
    pub expire_after: Duration,
}

/// A delivery's times as they stand now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Times {
    /// The announcement's age now, if known (its last write was in this boot).
    age: Option<Duration>,
    /// The retry wait left (pending only; `None`: due as soon as it is its turn).
    wait: Option<Duration>,
    /// Until it expires (pending only).
    expires_in: Option<Duration>,
}

impl Now {
    fn times(&self, age: Duration, wait: Option<Duration>, stamp: &Stamp, pending: bool) -> Times {
        let elapsed = stamp.elapsed(self.boot_id.as_deref(), self.boot);
        let age_now = elapsed.map(|e| age + e);
        if !pending {
            return Times {
                age: age_now,
                wait: None,
                expires_in: None,
            };
        }
        // In another boot the daemon carries on from the age written (time off does not
        // count), and so does this.
        let age_then = age_now.unwrap_or(age);
        let expires_in = self.expire_after.saturating_sub(age_then);
        let wait = wait
            .map(|w| w.saturating_sub(elapsed.unwrap_or_default()))
            // A retry after the expiry never happens: the expiry comes first.
            .filter(|&w| w < expires_in);
        Times {
            age: age_now,
            wait,
            expires_in: Some(expires_in),
        }
    }

    /// When an announcement was made, if that can be known: its trusted reading, or
    /// the trusted clock now minus its age.
    fn made_at(&self, record: &Record) -> Option<Timestamp> {
        let age = record.deliveries.iter().find_map(|d| {
            let pending = d.state == DeliveryState::Pending;
            self.times(d.age, d.wait, &d.stamp, pending).age
        });
        record.draft.made_at(age?, self.wall).or_else(|| {
            // Without an age from this boot, only a trusted reading at the time helps.
            record.draft.made.trusted.then_some(record.draft.made.now)
        })
    }
}

/// `--limit N`: how many announcements to show, 1 or more.
///
/// 0 is refused rather than read: it would show an empty history under "no
/// announcements yet" when there are some, and some people mean "no limit" by it.
pub fn parse_limit(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err(
            "0 would show no announcements; give 1 or more (the pending line is shown anyway)"
                .to_string(),
        ),
        Ok(limit) => Ok(limit),
        Err(_) => Err("not a whole number of announcements; give 1 or more".to_string()),
    }
}

/// The human view: a pending line, then one row per (announcement, sink); every line
/// ends with a newline, ready for `print!`.
pub fn table(records: &[Record], pending: &[Pending], now: &Now) -> String {
    let mut out = pending_line(pending, now);
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
        for row in rows(record, now) {
            table.add_row(row);
        }
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out
}

/// "pending: 2 deliveries, oldest 11:02:11 (1 min ago), next retry in 12 s".
fn pending_line(pending: &[Pending], now: &Now) -> String {
    if pending.is_empty() {
        return "pending: none".to_string();
    }
    let plural = if pending.len() == 1 { "y" } else { "ies" };
    let mut line = format!("pending: {} deliver{plural}", pending.len());
    let times: Vec<Times> = pending
        .iter()
        .map(|p| now.times(p.age, p.wait, &p.stamp, true))
        .collect();
    if let (Some(oldest), Some(t)) = (pending.first(), times.first()) {
        let made = t
            .age
            .and_then(|age| oldest.draft.made_at(age, now.wall))
            .or_else(|| oldest.draft.made.trusted.then_some(oldest.draft.made.now));
        let ago = t.age.map(|a| format!(" ({} ago)", span(a)));
        line.push_str(&format!(
            ", oldest {}{}",
            local(made, now),
            ago.unwrap_or_default()
        ));
    }
    match times.iter().filter_map(|t| t.wait).min() {
        Some(wait) => line.push_str(&format!(", next retry {}", in_span(wait))),
        None => line.push_str(", no retry waiting"),
    }
    line
}

/// The table rows of one announcement, one per sink.
fn rows(record: &Record, now: &Now) -> Vec<Vec<String>> {
    let d = &record.draft;
    // The id's last 8 characters: a UUIDv7 starts with its timestamp, so the first
    // ones are the same for every press in the same minute.
    let id: String =
        d.id.chars()
            .skip(d.id.chars().count().saturating_sub(8))
            .collect();
    let head = [local(now.made_at(record), now), d.action.clone(), id];
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
        cells([d.sink.clone(), state(d, now), d.attempts.to_string(), error])
    };
    record.deliveries.iter().map(delivery).collect()
}

/// The state, with what comes next for a pending delivery.
fn state(d: &DeliveryRecord, now: &Now) -> String {
    if d.state != DeliveryState::Pending {
        return d.state.name().to_string();
    }
    let t = now.times(d.age, d.wait, &d.stamp, true);
    match (t.wait, t.expires_in) {
        (Some(wait), _) => format!("pending, retry {}", in_span(wait)),
        (None, Some(left)) if d.attempts > 0 => format!("pending, expires {}", in_span(left)),
        _ => "pending".to_string(),
    }
}

/// Local wall-clock time; the date only when it is not today; "before clock sync" when
/// unknown.
fn local(t: Option<Timestamp>, now: &Now) -> String {
    let Some(t) = t else {
        return "before clock sync".to_string();
    };
    let zoned = t.to_zoned_datetime(now.tz.clone());
    let today = now.wall.now.to_zoned_datetime(now.tz.clone()).date();
    let format = if now.wall.trusted && zoned.date() == today {
        "%H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M:%S"
    };
    zoned.strftime(format).to_string()
}

/// "in 12 s", or "now" under a second.
fn in_span(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        "now".to_string()
    } else {
        format!("in {}", span(d))
    }
}

/// A duration in its largest whole unit: "12 s", "5 min", "3 h", "2 d".
fn span(d: Duration) -> String {
    let s = d.as_secs();
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

/// The machine view, pretty-printed JSON (see the module doc for the contract).
pub fn json(records: &[Record], pending: &[Pending], now: &Now) -> String {
    let times: Vec<Times> = pending
        .iter()
        .map(|p| now.times(p.age, p.wait, &p.stamp, true))
        .collect();
    let next_retry = times.iter().filter_map(|t| t.wait).min();
    let oldest = pending.first().zip(times.first()).and_then(|(p, t)| {
        t.age
            .and_then(|age| p.draft.made_at(age, now.wall))
            .or_else(|| p.draft.made.trusted.then_some(p.draft.made.now))
    });
    let status = StatusJson {
        pending: PendingJson {
            count: pending.len(),
            oldest: oldest.map(rfc3339),
            next_retry: next_retry.and_then(|w| at(now, w)),
            next_retry_in_s: next_retry.map(|w| w.as_secs_f64()),
        },
        announcements: records
            .iter()
            .map(|r| AnnouncementJson::new(r, now))
            .collect(),
    };
    // Serialising these plain structs cannot fail.
    serde_json::to_string_pretty(&status).unwrap_or_default()
}

fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

/// The wall-clock time `after` from now, when the clock is trusted.
fn at(now: &Now, after: Duration) -> Option<String> {
    let after = SignedDuration::try_from(after).ok()?;
    now.wall
        .trusted
        .then(|| now.wall.now.checked_add(after).ok())
        .flatten()
        .map(rfc3339)
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
    next_retry_in_s: Option<f64>,
}

#[derive(Serialize)]
struct AnnouncementJson<'a> {
    id: &'a str,
    action: &'a str,
    subject: String,
    created: Option<String>,
    deliveries: Vec<DeliveryJson<'a>>,
}

#[derive(Serialize)]
struct DeliveryJson<'a> {
    sink: &'a str,
    state: &'static str,
    attempts: u32,
    next_attempt: Option<String>,
    retry_in_s: Option<f64>,
    expires_in_s: Option<f64>,
    last_error: Option<&'a str>,
    updated: String,
}

impl<'a> AnnouncementJson<'a> {
    fn new(r: &'a Record, now: &Now) -> Self {
        let made = now.made_at(r);
        AnnouncementJson {
            id: &r.draft.id,
            action: &r.draft.action,
            subject: r.draft.render(made, &now.tz).subject,
            created: made.map(rfc3339),
            deliveries: r
                .deliveries
                .iter()
                .map(|d| DeliveryJson::new(d, now))
                .collect(),
        }
    }
}

impl<'a> DeliveryJson<'a> {
    fn new(d: &'a DeliveryRecord, now: &Now) -> Self {
        let pending = d.state == DeliveryState::Pending;
        let t = now.times(d.age, d.wait, &d.stamp, pending);
        DeliveryJson {
            sink: &d.sink,
            state: d.state.name(),
            attempts: d.attempts,
            next_attempt: t.wait.and_then(|w| at(now, w)),
            retry_in_s: t.wait.map(|w| w.as_secs_f64()),
            expires_in_s: t.expires_in.map(|e| e.as_secs_f64()),
            last_error: d.last_error.as_deref(),
            updated: rfc3339(d.stamp.wall),
        }
    }
}

#[cfg(test)]
mod tests;
