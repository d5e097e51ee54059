//! `[rota]` as written, and its meaning: the weekday, the first turn's date, the
//! people in turn order with their reminder times, made into the core's [`Rota`].
//! One parser serves validation (which names the key that is wrong, at its line) and
//! the settings (made from a valid config only).

use jiff::civil::Date;
use serde::Deserialize;

use super::quiet::{day_name, parse_day, parse_time};
use super::validate::KeyPart;
use crate::core::schedule::reminders::RemindAt;
use crate::core::schedule::{Person, Rota};

/// `[rota]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotaConfig {
    /// The weekday turns fall on (default friday).
    #[serde(default = "default_day")]
    pub day: String,
    /// The first person's turn, `YYYY-MM-DD` (a `day`).
    pub start: String,
    /// Reminder times for everyone (`["thu 16:00", "fri 09:00"]`); a person's own
    /// `remind` replaces them.
    #[serde(default)]
    pub remind: Vec<String>,
    /// The action reminders announce (its texts may use the rota's placeholders).
    pub action: Option<String>,
    /// A reminder missed while the Pi was off or its clock unsynchronised is still
    /// sent this many seconds late, and skipped (logged) after that.
    #[serde(default = "default_grace_s")]
    pub grace_s: u64,
    pub people: Vec<RotaPerson>,
}

/// `[[rota.people]]`, in turn order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotaPerson {
    pub name: String,
    /// How to reach them (for the texts: `{who}` names them).
    pub email: Option<String>,
    pub mention: Option<String>,
    pub remind: Option<Vec<String>>,
}

fn default_day() -> String {
    "friday".into()
}

fn default_grace_s() -> u64 {
    7200
}

/// What is wrong with one key of `[rota]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotaProblem {
    pub path: Vec<KeyPart>,
    pub message: String,
}

fn key(parts: &[&str]) -> Vec<KeyPart> {
    parts.iter().map(|p| KeyPart::Key(p.to_string())).collect()
}

fn person_key(index: usize, name: &str) -> Vec<KeyPart> {
    vec![
        KeyPart::Key("rota".into()),
        KeyPart::Key("people".into()),
        KeyPart::Index(index),
        KeyPart::Key(name.into()),
    ]
}

/// `thu 16:00`: a weekday and a time of day.
pub fn parse_remind(text: &str) -> Option<RemindAt> {
    let (day, time) = text.trim().split_once(' ')?;
    Some(RemindAt {
        weekday: parse_day(day)?,
        time: parse_time(time.trim())?,
    })
}

fn problem(path: Vec<KeyPart>, message: String) -> RotaProblem {
    RotaProblem { path, message }
}

/// The reminder times in `texts`; a bad one is a problem at `path`.
fn reminders(path: &[KeyPart], texts: &[String], problems: &mut Vec<RotaProblem>) -> Vec<RemindAt> {
    let mut out = Vec::new();
    for text in texts {
        match parse_remind(text) {
            Some(at) => out.push(at),
            None => problems.push(problem(
                path.to_vec(),
                format!(
                    "reminder {} is not a weekday and a time; write e.g. \"thu 16:00\"",
                    crate::quote::quoted(text)
                ),
            )),
        }
    }
    out
}

impl RotaConfig {
    /// The rota, or every problem with it.
    pub fn rota(&self) -> Result<Rota, Vec<RotaProblem>> {
        let mut problems = Vec::new();
        let day = parse_day(&self.day);
        if day.is_none() {
            problems.push(problem(
                key(&["rota", "day"]),
                format!(
                    "`rota.day` = {} is not a day; use monday … sunday",
                    crate::quote::quoted(&self.day)
                ),
            ));
        }
        let start = self.start.parse::<Date>().ok();
        match (start, day) {
            (None, _) => problems.push(problem(
                key(&["rota", "start"]),
                format!(
                    "`rota.start` = {} is not a date; write the first turn as YYYY-MM-DD, e.g. \"2026-12-04\"",
                    crate::quote::quoted(&self.start)
                ),
            )),
            (Some(start), Some(day)) if start.weekday() != day => problems.push(problem(
                key(&["rota", "start"]),
                format!(
                    "`rota.start` = {start} is a {}, but turns fall on a {}; give the date of the first {} turn",
                    day_name(start.weekday()),
                    day_name(day),
                    day_name(day)
                ),
            )),
            _ => {}
        }
        let everyone = reminders(&key(&["rota", "remind"]), &self.remind, &mut problems);
        let mut people = Vec::new();
        for (index, p) in self.people.iter().enumerate() {
            let remind = match &p.remind {
                Some(own) => reminders(&person_key(index, "remind"), own, &mut problems),
                None => everyone.clone(),
            };
            if p.name.trim().is_empty() {
                problems.push(problem(
                    person_key(index, "name"),
                    format!("person {} on the rota has an empty `name`", index + 1),
                ));
            } else if let Some(first) = self.people[..index].iter().position(|q| q.name == p.name) {
                problems.push(problem(
                    person_key(index, "name"),
                    format!(
                        "{} is on the rota twice (people {} and {}); list each person once, in turn order",
                        crate::quote::quoted(&p.name),
                        first + 1,
                        index + 1
                    ),
                ));
            }
            people.push(Person {
                name: p.name.clone(),
                remind,
            });
        }
        if self.people.is_empty() {
            problems.push(problem(
                key(&["rota"]),
                "the rota has nobody on it; add [[rota.people]] tables with `name`, in turn order"
                    .into(),
            ));
        }
        if self.grace_s > 86_400 {
            problems.push(problem(
                key(&["rota", "grace_s"]),
                format!(
                    "`rota.grace_s` = {} is out of range; use 0..=86400 seconds",
                    self.grace_s
                ),
            ));
        }
        // As written: a reminder that did not parse still needs its action.
        let any_reminder = self
            .people
            .iter()
            .any(|p| !p.remind.as_ref().unwrap_or(&self.remind).is_empty());
        if any_reminder && self.action.is_none() {
            problems.push(problem(
                key(&["rota", "remind"]),
                "reminders need an action to announce: set `rota.action` to an [actions.NAME] for them".into(),
            ));
        }
        match (problems.is_empty(), day, start) {
            (true, Some(day), Some(start)) => Ok(Rota { day, start, people }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::Weekday;

    use super::*;

    fn config(text: &str) -> RotaConfig {
        toml::from_str(text).expect("the [rota] table parses")
    }

    fn messages(text: &str) -> Vec<String> {
        config(text)
            .rota()
            .expect_err("problems")
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn a_good_rota_becomes_the_core_rota_with_its_reminders() {
        let rota = config(
            "start = \"2026-12-04\"\nremind = [\"thu 16:00\"]\naction = \"a\"\n\
             [[people]]\nname = \"Alice\"\n[[people]]\nname = \"Bob\"\nremind = [\"Fri 08:30\"]\n",
        )
        .rota()
        .expect("valid");
        assert_eq!(rota.day, Weekday::Friday);
        assert_eq!(rota.people[0].remind[0].weekday, Weekday::Thursday);
        assert_eq!(rota.people[1].remind.len(), 1);
        assert_eq!(rota.people[1].remind[0].weekday, Weekday::Friday);
    }

    #[test]
    fn every_problem_is_named_with_what_to_write() {
        let found = messages(
            "day = \"funday\"\nstart = \"4 Dec\"\nremind = [\"thursday at four\"]\n\
             [[people]]\nname = \"Alice\"\n[[people]]\nname = \"Alice\"\n",
        );
        let expected = [
            "`rota.day` = \"funday\" is not a day",
            "`rota.start` = \"4 Dec\" is not a date; write the first turn as YYYY-MM-DD",
            "reminder \"thursday at four\" is not a weekday and a time; write e.g. \"thu 16:00\"",
            "\"Alice\" is on the rota twice (people 1 and 2)",
            "reminders need an action to announce",
        ];
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for (message, start) in found.iter().zip(expected) {
            assert!(message.starts_with(start), "{message}");
        }
        assert_eq!(
            messages("start = \"2026-12-04\"\npeople = []\n"),
            ["the rota has nobody on it; add [[rota.people]] tables with `name`, in turn order"]
        );
    }
}
