//! `[quiet_hours]` and `[device] time_zone` as written, and their meaning: local
//! times `HH:MM`, day names, gesture names and an IANA zone become the core's
//! [`QuietHours`] rule and a [`TimeZone`]. One parser serves both validation (which
//! names the key that is wrong) and the settings (made from a valid config only).

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::core::quiet::QuietHours;
use crate::model::GestureKind;

/// `[quiet_hours]`: presses in this window are ignored (reported as
/// `"ignored":"quiet_hours"`), once the wall clock is trusted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursConfig {
    /// Local time `HH:MM` the quiet starts.
    pub from: String,
    /// Local time `HH:MM` it ends (the next day when not after `from`).
    pub to: String,
    /// The days a quiet period starts on (`mon` … `sun`); every day when absent.
    #[serde(default)]
    pub days: Vec<String>,
    /// Gestures that go through anyway: `press`, `long_press`, `double_press`.
    #[serde(default)]
    pub bypass: Vec<String>,
}

/// What is wrong with one key of `[quiet_hours]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietProblem {
    pub key: &'static str,
    pub message: String,
}

/// `HH:MM` (24-hour) as a time of day.
pub fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// The days by their full names, as configs write them (or their first three
/// letters) and messages show them.
const DAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

/// A day name: `mon` or `monday`, any case.
pub fn parse_day(text: &str) -> Option<Weekday> {
    let lower = text.to_ascii_lowercase();
    DAYS.into_iter()
        .find(|(name, _)| lower == *name || lower == name[..3])
        .map(|(_, day)| day)
}

/// The day's full name, lower case.
pub fn day_name(day: Weekday) -> &'static str {
    DAYS.into_iter()
        .find(|&(_, d)| d == day)
        .map_or("", |(name, _)| name)
}

impl QuietHoursConfig {
    /// The rule, or every problem with it.
    pub fn rule(&self) -> Result<QuietHours, Vec<QuietProblem>> {
        let mut problems = Vec::new();
        let mut time = |key: &'static str, text: &str| {
            let parsed = parse_time(text);
            if parsed.is_none() {
                problems.push(QuietProblem {
                    key,
                    message: format!(
                        "`quiet_hours.{key}` = {} is not a time of day; write it as HH:MM, 24-hour, e.g. \"22:00\"",
                        crate::quote::quoted(text)
                    ),
                });
            }
            parsed
        };
        let from = time("from", &self.from);
        let to = time("to", &self.to);
        if let (Some(from), Some(to)) = (from, to)
            && from == to
        {
            problems.push(QuietProblem {
                key: "to",
                message: format!(
                    "`quiet_hours.from` and `to` are both {}: that is no window at all; for quiet all day write from = \"00:00\", to = \"23:59\"",
                    self.from
                ),
            });
        }
        let mut days = Vec::new();
        for day in &self.days {
            match parse_day(day) {
                Some(d) if !days.contains(&d) => days.push(d),
                Some(_) => {}
                None => problems.push(QuietProblem {
                    key: "days",
                    message: format!(
                        "`quiet_hours.days` has {}, not a day; use mon, tue, wed, thu, fri, sat, sun",
                        crate::quote::quoted(day)
                    ),
                }),
            }
        }
        let mut bypass = Vec::new();
        for gesture in &self.bypass {
            match GestureKind::from_name(gesture) {
                Some(g) => bypass.push(g),
                None => problems.push(QuietProblem {
                    key: "bypass",
                    message: format!(
                        "`quiet_hours.bypass` has {}, not a gesture; use press, long_press or double_press",
                        crate::quote::quoted(gesture)
                    ),
                }),
            }
        }
        match (from, to, problems.is_empty()) {
            (Some(from), Some(to), true) => Ok(QuietHours {
                from,
                to,
                days,
                bypass,
            }),
            _ => Err(problems),
        }
    }
}

/// The device's time zone: `[device] time_zone` (an IANA name), else the system's.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        None => Ok(TimeZone::system()),
        Some(name) => TimeZone::get(name).map_err(|_| {
            format!(
                "`device.time_zone` = {} is not a time zone this system knows; use an IANA name such as \"Europe/London\" (see /usr/share/zoneinfo), or leave it out for the system's",
                crate::quote::quoted(name)
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(from: &str, to: &str, days: &[&str], bypass: &[&str]) -> QuietHoursConfig {
        QuietHoursConfig {
            from: from.into(),
            to: to.into(),
            days: days.iter().map(|d| d.to_string()).collect(),
            bypass: bypass.iter().map(|b| b.to_string()).collect(),
        }
    }

    #[test]
    fn a_good_window_becomes_the_rule() {
        let rule = config("22:00", "07:30", &["Fri", "saturday"], &["long_press"])
            .rule()
            .expect("valid");
        assert_eq!(rule.from, Time::constant(22, 0, 0, 0));
        assert_eq!(rule.to, Time::constant(7, 30, 0, 0));
        assert_eq!(rule.days, [Weekday::Friday, Weekday::Saturday]);
        assert_eq!(rule.bypass, [GestureKind::LongPress]);
    }

    #[test]
    fn every_bad_key_is_named_once() {
        let problems = config("25:00", "7", &["someday"], &["wave"])
            .rule()
            .unwrap_err();
        let keys: Vec<_> = problems.iter().map(|p| p.key).collect();
        assert_eq!(keys, ["from", "to", "days", "bypass"]);
        assert!(problems[0].message.contains("HH:MM"), "{problems:?}");
    }

    #[test]
    fn from_equal_to_is_no_window() {
        let problems = config("22:00", "22:00", &[], &[]).rule().unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "to");
        assert!(problems[0].message.contains("no window"), "{problems:?}");
    }

    #[test]
    fn an_unknown_zone_says_what_to_write() {
        let err = time_zone(Some("Mars/Olympus")).unwrap_err();
        assert!(err.contains("IANA name"), "{err}");
        assert!(time_zone(Some("Europe/London")).is_ok());
    }
}
