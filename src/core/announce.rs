//! Announcements: a fired action becomes the message the lab reads.
//!
//! Three parts. [`Cooldown`] is the pure decision — is this trigger too soon after the
//! last one of the same action? — on monotonic time. [`draft`] turns an accepted action
//! into a [`Draft`]: the action's templates, the device and when it was made. That is
//! what the outbox keeps. [`Draft::render`] fills the templates in at each send, with
//! the best knowledge of when the press happened *then*: a press made while the Pi's
//! clock was not yet synchronised (it has no real-time clock) reads "just now" in a
//! message sent before the clock is right, and its real time — the synchronised clock
//! minus the press's age on the monotonic clock — in every message sent after. No
//! message ever shows 1970 or a stale time.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ZonedDateTime as Zoned};

use super::template;
use crate::model::{Announcement, Draft, WallNow};

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

/// One action's message templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionTexts {
    pub subject: String,
    pub body: String,
}

/// The configured actions, as announcements need them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// The device name messages show.
    pub device: String,
    pub texts: BTreeMap<String, ActionTexts>,
}

impl Actions {
    /// The draft of `action`, made at `made`, with `{who}` filled in (whose rota turn
    /// it is today, or [`template::NOBODY`]). `None` when `action` is not defined
    /// (validation guarantees mapped gestures are; `daas notify` checks a name it is
    /// given).
    pub fn draft(
        &self,
        action: &str,
        made: WallNow,
        id: String,
        who: Option<&str>,
    ) -> Option<Draft> {
        let texts = self.texts.get(action)?;
        let who = who.unwrap_or(template::NOBODY);
        Some(Draft {
            id,
            action: action.to_string(),
            device: self.device.clone(),
            subject: template::fill(&texts.subject, "who", who),
            body: template::fill(&texts.body, "who", who),
            made,
        })
    }

    /// The names of the defined actions, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.texts.keys().map(String::as_str)
    }
}

impl Draft {
    /// When it was made, as well as it can be known at `wall` with the draft `age` old
    /// on the monotonic clock: the reading at the time if that was trusted, else the
    /// trusted clock now minus the age, else unknown.
    pub fn made_at(&self, age: Duration, wall: WallNow) -> Option<Timestamp> {
        if self.made.trusted {
            return Some(self.made.now);
        }
        if !wall.trusted {
            return None;
        }
        let age = SignedDuration::try_from(age).unwrap_or(SignedDuration::MAX);
        wall.now.checked_sub(age).ok()
    }

    /// The announcement with its templates filled in, `made_at` shown in zone `tz`
    /// ("just now" when unknown).
    pub fn render(&self, made_at: Option<Timestamp>, tz: &TimeZone) -> Announcement {
        let (time, date, weekday) = match made_at {
            Some(t) => {
                let zoned: Zoned = t.to_zoned_datetime(tz.clone());
                (
                    zoned.strftime("%H:%M").to_string(),
                    zoned.strftime("%-d %B %Y").to_string(),
                    zoned.strftime("%A").to_string(),
                )
            }
            None => (
                "just now".to_string(),
                "today".to_string(),
                "today".to_string(),
            ),
        };
        let fields = template::Fields {
            device: &self.device,
            time: &time,
            date: &date,
            weekday: &weekday,
            action: &self.action,
        };
        Announcement {
            id: self.id.clone(),
            action: self.action.clone(),
            subject: template::render(&self.subject, &fields),
            body: template::render(&self.body, &fields),
            device: self.device.clone(),
            created: made_at,
        }
    }
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

    fn actions() -> Actions {
        let texts = ActionTexts {
            subject: "Doughnuts in the {device}! 🍩".into(),
            body: "{action} on {weekday} {date} at {time}.".into(),
        };
        Actions {
            device: "3rd floor kitchen".into(),
            texts: [("arrival".to_string(), texts)].into(),
        }
    }

    fn wall(at: &str, trusted: bool) -> WallNow {
        WallNow {
            now: at.parse().expect("timestamp"),
            trusted,
        }
    }

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").expect("tzdb")
    }

    #[test]
    fn renders_local_time_and_device() {
        let made = wall("2026-11-27T10:03:00Z", true);
        let d = actions()
            .draft("arrival", made, "id-1".into(), None)
            .expect("defined");
        let a = d.render(d.made_at(Duration::ZERO, made), &london());
        assert_eq!(a.subject, "Doughnuts in the 3rd floor kitchen! 🍩");
        assert_eq!(a.body, "arrival on Friday 27 November 2026 at 10:03.");
        assert_eq!(a.id, "id-1");
        assert_eq!(a.created, Some(made.now));
    }

    #[test]
    fn an_unset_clock_never_shows_1970() {
        let made = wall("1970-01-01T00:00:42Z", false);
        let d = actions()
            .draft("arrival", made, "id".into(), None)
            .expect("defined");
        let a = d.render(d.made_at(s(5), made), &london());
        assert_eq!(a.body, "arrival on today today at just now.");
        assert_eq!(a.created, None);
    }

    #[test]
    fn a_press_before_the_sync_reads_its_real_time_once_the_clock_is_right() {
        // Pressed while the clock was 10 h behind and not synchronised.
        let made = wall("2026-11-27T00:03:00Z", false);
        let d = actions()
            .draft("arrival", made, "id".into(), None)
            .expect("defined");
        // Sent 90 s later, still unsynchronised: "just now".
        let before = d.render(
            d.made_at(s(90), wall("2026-11-27T00:04:30Z", false)),
            &london(),
        );
        assert_eq!(before.body, "arrival on today today at just now.");
        // Sent 10 min after the press, after NTP set the clock right.
        let after_sync = wall("2026-11-27T10:13:00Z", true);
        let after = d.render(d.made_at(s(600), after_sync), &london());
        assert_eq!(after.body, "arrival on Friday 27 November 2026 at 10:03.");
        assert_eq!(
            after.created,
            Some("2026-11-27T10:03:00Z".parse().expect("timestamp"))
        );
    }

    #[test]
    fn a_trusted_reading_at_the_press_stands_whatever_the_clock_does_later() {
        let made = wall("2026-11-27T10:03:00Z", true);
        let d = actions()
            .draft("arrival", made, "id".into(), None)
            .expect("defined");
        let jumped = wall("2026-11-28T10:00:00Z", true);
        assert_eq!(d.made_at(s(60), jumped), Some(made.now));
    }

    #[test]
    fn unknown_action_makes_nothing() {
        assert_eq!(
            actions().draft(
                "nope",
                wall("2026-11-27T10:03:00Z", true),
                "id".into(),
                None
            ),
            None
        );
    }
}
