//! Quiet hours: when a press must not mail the whole lab (the cleaners at 23:00).
//!
//! A rule on local wall-clock time, pure: it takes the time zone's rules and the
//! moment, never reads a clock. Local time is what people mean by "22:00 to 07:00",
//! so across daylight-saving changes it follows the clock on the wall: in a repeated
//! hour both passes are judged alike, and a skipped hour simply never happens. The
//! rule applies only to a wall clock the daemon trusts (DESIGN.md): before the clock
//! is synchronised the pipeline gets no wall time and no press is dropped for quiet
//! hours.

use std::time::Duration;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::model::GestureKind;

/// The quiet-hours rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    /// Quiet from this local time ...
    pub from: Time,
    /// ... to this one (exclusive), the next day when it is not after `from`.
    pub to: Time,
    /// The days a quiet period starts on; every day when empty.
    pub days: Vec<Weekday>,
    /// Gestures that go through anyway (a long press for a real emergency).
    pub bypass: Vec<GestureKind>,
}

impl QuietHours {
    /// Whether a local moment (a weekday and a time of day) is quiet.
    pub fn is_quiet(&self, weekday: Weekday, time: Time) -> bool {
        let starts_on = |day: Weekday| self.days.is_empty() || self.days.contains(&day);
        if self.from < self.to {
            starts_on(weekday) && self.from <= time && time < self.to
        } else {
            // Wraps midnight: the evening part starts today, the morning part began
            // yesterday.
            (time >= self.from && starts_on(weekday))
                || (time < self.to && starts_on(weekday.previous()))
        }
    }

    /// Whether `gesture` at `at` is held back: quiet then, and not a bypass gesture.
    pub fn holds_back(&self, gesture: GestureKind, at: &Wall) -> bool {
        if self.bypass.contains(&gesture) {
            return false;
        }
        let local = at.now.to_zoned_datetime(at.tz.clone());
        self.is_quiet(local.weekday(), local.time())
    }
}

/// A trusted wall clock, anchored to the monotonic time line: the wall time at
/// monotonic `mono`, and the zone people read it in. The pipeline asks it for the wall
/// time of a gesture's first edge.
#[derive(Debug, Clone, PartialEq)]
pub struct WallAnchor {
    pub mono: Duration,
    pub wall: Timestamp,
    pub tz: TimeZone,
}

/// A wall-clock moment in a zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Wall {
    pub now: Timestamp,
    pub tz: TimeZone,
}

impl WallAnchor {
    /// The wall time at monotonic `at` (before or after the anchor).
    pub fn at(&self, at: Duration) -> Wall {
        let offset = if at >= self.mono {
            SignedDuration::try_from(at - self.mono).unwrap_or(SignedDuration::MAX)
        } else {
            -SignedDuration::try_from(self.mono - at).unwrap_or(SignedDuration::MAX)
        };
        Wall {
            now: self.wall.checked_add(offset).unwrap_or(self.wall),
            tz: self.tz.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};

    use super::*;

    fn rule(from: Time, to: Time, days: &[Weekday]) -> QuietHours {
        QuietHours {
            from,
            to,
            days: days.to_vec(),
            bypass: vec![GestureKind::LongPress],
        }
    }

    #[test]
    fn an_evening_to_morning_window_wraps_midnight() {
        let q = rule(time(22, 0, 0, 0), time(7, 0, 0, 0), &[]);
        assert!(!q.is_quiet(Weekday::Monday, time(21, 59, 59, 0)));
        assert!(q.is_quiet(Weekday::Monday, time(22, 0, 0, 0)));
        assert!(q.is_quiet(Weekday::Tuesday, time(0, 30, 0, 0)));
        assert!(q.is_quiet(Weekday::Tuesday, time(6, 59, 59, 0)));
        assert!(!q.is_quiet(Weekday::Tuesday, time(7, 0, 0, 0)));
    }

    #[test]
    fn a_daytime_window_does_not_wrap() {
        let q = rule(time(12, 0, 0, 0), time(13, 30, 0, 0), &[]);
        assert!(!q.is_quiet(Weekday::Friday, time(11, 59, 0, 0)));
        assert!(q.is_quiet(Weekday::Friday, time(12, 0, 0, 0)));
        assert!(!q.is_quiet(Weekday::Friday, time(13, 30, 0, 0)));
    }

    #[test]
    fn days_name_the_evening_a_period_starts() {
        // Friday and Saturday nights only: Saturday 03:00 is quiet (Friday's night),
        // Monday 03:00 is not (Sunday night is not listed).
        let q = rule(
            time(23, 0, 0, 0),
            time(6, 0, 0, 0),
            &[Weekday::Friday, Weekday::Saturday],
        );
        assert!(q.is_quiet(Weekday::Friday, time(23, 30, 0, 0)));
        assert!(q.is_quiet(Weekday::Saturday, time(3, 0, 0, 0)));
        assert!(q.is_quiet(Weekday::Sunday, time(3, 0, 0, 0)));
        assert!(!q.is_quiet(Weekday::Sunday, time(23, 30, 0, 0)));
        assert!(!q.is_quiet(Weekday::Monday, time(3, 0, 0, 0)));
        assert!(!q.is_quiet(Weekday::Thursday, time(23, 30, 0, 0)));
    }

    fn wall(zone: &str, y: i16, m: i8, d: i8, h: i8, min: i8, second_pass: bool) -> Wall {
        let tz = TimeZone::get(zone).expect("tzdata has the zone");
        let dt = date(y, m, d).at(h, min, 0, 0);
        let ambiguous = tz.to_ambiguous_timestamp(dt);
        let now = if second_pass {
            ambiguous.later().expect("a time")
        } else {
            ambiguous.earlier().expect("a time")
        };
        Wall { now, tz }
    }

    /// Autumn: 01:00-02:00 happens twice (London 25 Oct 2026, New York 1 Nov 2026).
    /// Both passes of 01:30 are quiet in a window that holds it; the hour after the
    /// window's end is not.
    #[test]
    fn a_repeated_hour_is_quiet_on_both_passes() {
        let q = rule(time(0, 30, 0, 0), time(1, 45, 0, 0), &[]);
        for (zone, d) in [("Europe/London", 25), ("America/New_York", 1)] {
            let month = if zone == "Europe/London" { 10 } else { 11 };
            for second in [false, true] {
                let at = wall(zone, 2026, month, d, 1, 30, second);
                assert!(
                    q.holds_back(GestureKind::Press, &at),
                    "{zone} second pass {second}"
                );
                let after = wall(zone, 2026, month, d, 1, 50, second);
                assert!(!q.holds_back(GestureKind::Press, &after), "{zone} {second}");
            }
        }
    }

    /// Spring: 01:00-02:00 (London, 29 Mar 2026) and 02:00-03:00 (New York, 8 Mar
    /// 2026) never happen. A window ending inside the gap ends with it: the first
    /// moment after the jump is not quiet; one moment before it is.
    #[test]
    fn a_skipped_hour_ends_a_window_that_ends_inside_it() {
        for (zone, month, d, gap_hour) in
            [("Europe/London", 3, 29, 1), ("America/New_York", 3, 8, 2)]
        {
            let q = rule(time(23, 0, 0, 0), time(gap_hour, 30, 0, 0), &[]);
            let tz = TimeZone::get(zone).expect("zone");
            let before_jump = tz
                .to_timestamp(date(2026, month, d).at(gap_hour - 1, 59, 0, 0))
                .expect("a time");
            let after_jump = before_jump
                .checked_add(SignedDuration::from_mins(2))
                .expect("time");
            let quiet = |now| {
                q.holds_back(
                    GestureKind::Press,
                    &Wall {
                        now,
                        tz: tz.clone(),
                    },
                )
            };
            assert!(quiet(before_jump), "{zone}");
            assert!(!quiet(after_jump), "{zone}: {after_jump}");
        }
    }

    #[test]
    fn a_bypass_gesture_goes_through() {
        let q = rule(time(0, 0, 0, 0), time(23, 59, 0, 0), &[]);
        let at = wall("Europe/London", 2026, 12, 2, 12, 0, false);
        assert!(q.holds_back(GestureKind::Press, &at));
        assert!(!q.holds_back(GestureKind::LongPress, &at));
    }

    #[test]
    fn the_anchor_reads_the_wall_time_of_a_monotonic_moment() {
        let anchor = WallAnchor {
            mono: Duration::from_secs(100),
            wall: Timestamp::from_second(1_000_000).expect("ts"),
            tz: TimeZone::UTC,
        };
        assert_eq!(anchor.at(Duration::from_secs(90)).now.as_second(), 999_990);
        assert_eq!(
            anchor.at(Duration::from_secs(130)).now.as_second(),
            1_000_030
        );
    }
}
