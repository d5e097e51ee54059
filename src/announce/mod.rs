//! Announcements: a fired action becomes the message the lab reads.
//!
//! Two parts. [`Cooldown`] is the pure decision — is this trigger too soon after the
//! last one of the same action? — on monotonic time. [`make`] renders the action's
//! templates with the device name and the wall-clock time, which the caller reads
//! (it is a shell concern); until the Pi's clock is synchronised, times read as
//! "just now" instead of a date in 1970.

pub mod template;

use std::collections::HashMap;
use std::time::Duration;

use jiff::{Timestamp, ZonedDateTime as Zoned};

use crate::config::Config;

/// One announcement: what every sink delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Unique and time-ordered; a resend of the same announcement keeps it.
    pub id: String,
    pub action: String,
    pub subject: String,
    pub body: String,
    pub device: String,
    /// Wall-clock creation time.
    pub created: Timestamp,
}

/// Per action, the time of the last trigger that was let through.
#[derive(Debug, Clone, Default)]
pub struct Cooldown {
    last: HashMap<String, Duration>,
}

impl Cooldown {
    /// Whether a trigger of `action` at `at` goes ahead; records it if so.
    pub fn admit(&mut self, action: &str, cooldown: Duration, at: Duration) -> bool {
        if let Some(&last) = self.last.get(action)
            && at < last + cooldown
        {
            return false;
        }
        self.last.insert(action.to_string(), at);
        true
    }
}

/// Before this, the clock has not been set (the Pi has no real-time clock and starts
/// in 1970 until NTP answers).
pub const CLOCK_SET_AFTER: Timestamp = Timestamp::constant(1_735_689_600, 0); // 2025-01-01

/// Renders `action` as an announcement made at `now` (local time).
///
/// `action` must be defined in `config` (validation guarantees it for mapped gestures;
/// `daas notify` checks a name it is given).
pub fn make(config: &Config, action: &str, now: &Zoned, id: String) -> Option<Announcement> {
    let spec = config.actions.get(action)?;
    let clock_set = now.timestamp() >= CLOCK_SET_AFTER;
    let (time, date, weekday) = if clock_set {
        (
            now.strftime("%H:%M").to_string(),
            now.strftime("%-d %B %Y").to_string(),
            now.strftime("%A").to_string(),
        )
    } else {
        (
            "just now".to_string(),
            "today".to_string(),
            "today".to_string(),
        )
    };
    let fields = template::Fields {
        device: config.device_name(),
        time: &time,
        date: &date,
        weekday: &weekday,
        action,
    };
    Some(Announcement {
        id,
        action: action.to_string(),
        subject: template::render(&spec.subject, &fields),
        body: template::render(&spec.body, &fields),
        device: config.device_name().to_string(),
        created: now.timestamp(),
    })
}

/// A new announcement id: a UUIDv7, unique and ordered by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[test]
    fn cooldown_ignores_a_second_trigger_until_it_has_passed() {
        let mut c = Cooldown::default();
        assert!(c.admit("arrival", s(300), s(10)));
        assert!(!c.admit("arrival", s(300), s(309)));
        // Other actions have their own cooldown.
        assert!(c.admit("all_gone", s(300), s(309)));
        assert!(c.admit("arrival", s(300), s(310)));
        // An ignored trigger does not extend the cooldown.
        assert!(!c.admit("arrival", s(300), s(400)));
        assert!(c.admit("arrival", s(300), s(610)));
    }

    #[test]
    fn zero_cooldown_admits_everything() {
        let mut c = Cooldown::default();
        assert!(c.admit("arrival", s(0), s(1)));
        assert!(c.admit("arrival", s(0), s(1)));
    }

    fn config() -> Config {
        crate::config::parse(
            r#"
            [device]
            name = "3rd floor kitchen"
            [button]
            pin = 17
            [gestures]
            press = "arrival"
            [actions.arrival]
            subject = "Doughnuts in the {device}! 🍩"
            body = "{action} on {weekday} {date} at {time}."
            [[sinks]]
            type = "console"
            name = "console"
            "#,
            "test.toml",
        )
        .expect("valid")
    }

    #[test]
    fn renders_local_time_and_device() {
        let now: Zoned = "2026-11-27T10:03:00[Europe/London]".parse().expect("date");
        let a = make(&config(), "arrival", &now, "id-1".into()).expect("defined");
        assert_eq!(a.subject, "Doughnuts in the 3rd floor kitchen! 🍩");
        assert_eq!(a.body, "arrival on Friday 27 November 2026 at 10:03.");
        assert_eq!(a.id, "id-1");
        assert_eq!(a.created, now.timestamp());
    }

    #[test]
    fn an_unset_clock_never_shows_1970() {
        let now: Zoned = "1970-01-01T00:00:42[UTC]".parse().expect("date");
        let a = make(&config(), "arrival", &now, "id".into()).expect("defined");
        assert_eq!(a.body, "arrival on today today at just now.");
    }

    #[test]
    fn unknown_action_makes_nothing() {
        let now = Zoned::now();
        assert_eq!(make(&config(), "nope", &now, new_id()), None);
    }
}
