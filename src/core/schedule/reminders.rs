//! Rota reminders, pure: the instants at which people are reminded of their turn,
//! and which of them are due at `now`.
//!
//! A reminder is a local time on a weekday before the turn ("thu 16:00" for a Friday
//! turn is the Thursday before; "fri 09:00" the morning of). Local times become
//! instants through the zone's rules with one answer each: a time the clock skips in
//! spring happens just after the jump (01:30 → 02:30), a time it repeats in autumn
//! happens on its first pass. So a daylight-saving change never doubles or drops a
//! reminder.
//!
//! A reminder that came due while the Pi was off or its clock unsynchronised is sent
//! late if it is at most `grace` late, and reported as missed (to be logged, not
//! sent) after that. The caller keeps the instant of the last reminder it handled, so
//! a restart neither repeats one nor forgets one.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::{Rota, Turn};

/// A reminder's local time: a weekday (on or before the turn) and a time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemindAt {
    pub weekday: Weekday,
    pub time: Time,
}

/// One reminder of one turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub turn: Turn,
    pub at: Timestamp,
}

/// What to do with a reminder that came due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Send it (possibly late, within the grace window).
    Send(Reminder),
    /// Too late to be useful: log it, do not send it.
    Missed(Reminder),
}

/// Every reminder of `turns`, in time order.
pub fn reminders(rota: &Rota, turns: &[Turn], tz: &TimeZone) -> Vec<Reminder> {
    let mut all = Vec::new();
    for turn in turns {
        for remind in &rota.people[turn.person].remind {
            // The weekday on or before the turn's date, within the week before it.
            let back = remind.weekday.until(turn.date.weekday());
            let Ok(day) = turn.date.checked_sub(i64::from(back).days()) else {
                continue;
            };
            let local = day.to_datetime(remind.time);
            // One instant per local time: after the jump in a gap, the first pass in
            // a fold (jiff's "compatible" rule, as RFC 5545 and Temporal have it).
            if let Ok(at) = tz.to_ambiguous_timestamp(local).compatible() {
                all.push(Reminder {
                    turn: turn.clone(),
                    at,
                });
            }
        }
    }
    all.sort_by_key(|r| r.at);
    all
}

/// The reminders due at `now` that come after `handled` (the instant of the last one
/// already sent or missed; `None` the first time, when only those within `grace`
/// count), each to be sent or reported missed.
pub fn due(
    all: &[Reminder],
    handled: Option<Timestamp>,
    now: Timestamp,
    grace: SignedDuration,
) -> Vec<Due> {
    let oldest = now.checked_sub(grace).unwrap_or(now);
    all.iter()
        .filter(|r| r.at <= now && handled.is_none_or(|h| r.at > h))
        .filter(|r| handled.is_some() || r.at >= oldest)
        .map(|r| {
            if r.at >= oldest {
                Due::Send(r.clone())
            } else {
                Due::Missed(r.clone())
            }
        })
        .collect()
}

/// When the next reminder after `now` comes (the caller's only timer).
pub fn next_after(all: &[Reminder], now: Timestamp) -> Option<Timestamp> {
    all.iter().map(|r| r.at).find(|&at| at > now)
}
