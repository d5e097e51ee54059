//! The doughnut rota, pure: whose turn each week is, and when to remind them.
//!
//! Turns fall on the rota's day, every week from `start`. People take them in order,
//! round and round; the changes people make (`daas rota skip`, `swap`, `away`) bend
//! that order without breaking it:
//! - someone **away** on a turn's date, or **skipping** that date, is passed over and
//!   keeps their place: they take the first turn they can after it (so the lab's
//!   order survives a holiday);
//! - a **swap** exchanges two people's next turns and nothing else.
//!
//! Reminders ([`reminders`]) are local wall-clock times before each turn ("thu
//! 16:00"), turned into instants with the zone's rules: a time the clock skips
//! (spring) happens once, just after the jump; a time it repeats (autumn) happens
//! once, on the first pass. Nothing here reads a clock: callers pass `now`.

pub mod reminders;
#[cfg(test)]
mod tests;

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

/// One person on the rota, in turn order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    /// When to remind them, before each of their turns.
    pub remind: Vec<reminders::RemindAt>,
}

/// The rota as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rota {
    /// The weekday turns fall on.
    pub day: Weekday,
    /// The first turn (a `day`).
    pub start: Date,
    pub people: Vec<Person>,
}

/// A change people made to the rota (kept in the outbox; applied in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `name` does not take the turn on `date`.
    Skip { name: String, date: Date },
    /// `name` takes no turn from `from` to `to`, inclusive.
    Away { name: String, from: Date, to: Date },
    /// The turns on `first` and `second` change hands.
    Swap { first: Date, second: Date },
}

/// One turn: a date and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub date: Date,
    /// An index into [`Rota::people`].
    pub person: usize,
}

impl Rota {
    /// The index of the person called `name`.
    pub fn person(&self, name: &str) -> Option<usize> {
        self.people.iter().position(|p| p.name == name)
    }

    /// Whose turn it is at `now` (the local date in `tz`), if one falls on that day.
    /// The caller passes a trusted clock only: an unset clock knows no date.
    pub fn whose_turn(
        &self,
        changes: &[Change],
        now: jiff::Timestamp,
        tz: &jiff::tz::TimeZone,
    ) -> Option<&str> {
        let today = now.to_zoned_datetime(tz.clone()).date();
        self.turn_on(changes, today).map(|p| p.name.as_str())
    }

    /// Whose turn falls on `date`, if one does.
    pub fn turn_on(&self, changes: &[Change], date: Date) -> Option<&Person> {
        let turn = self.turns(changes, date, 1).into_iter().next()?;
        (turn.date == date).then(|| &self.people[turn.person])
    }

    /// The turns from the first on or after `from`, as many as `count`, with `changes`
    /// applied. Empty when nobody is on the rota.
    pub fn turns(&self, changes: &[Change], from: Date, count: usize) -> Vec<Turn> {
        let n = self.people.len();
        if n == 0 || count == 0 {
            return Vec::new();
        }
        // Swapped dates must both be worked out, or a swap would apply by halves.
        let last_swap = changes
            .iter()
            .filter_map(|c| match c {
                Change::Swap { first, second } => Some((*first).max(*second)),
                _ => None,
            })
            .max();
        let mut turns = Vec::new();
        let mut wanted = 0;
        // People passed over (away, skipping), in the order they were passed: they
        // go first at the next turn they can take.
        let mut owed: Vec<usize> = Vec::new();
        let mut next = 0;
        let mut date = self.start;
        // Every week from the start, so the order is the same whatever `from` is.
        // Bounded: a rota with everyone away for good ends after a century.
        for _ in 0..5300 {
            if wanted >= count && last_swap.is_none_or(|last| date > last) {
                break;
            }
            let free = |person: usize| !self.unavailable(changes, person, date);
            let mut person = owed.iter().position(|&p| free(p)).map(|i| owed.remove(i));
            for _ in 0..n {
                if person.is_some() {
                    break;
                }
                let candidate = next;
                next = (next + 1) % n;
                if free(candidate) {
                    person = Some(candidate);
                } else if !owed.contains(&candidate) {
                    owed.push(candidate);
                }
            }
            // Nobody free (everyone away): no turn that week.
            if let Some(person) = person {
                if date >= from {
                    wanted += 1;
                }
                turns.push(Turn { date, person });
            }
            date = match date.checked_add(1.week()) {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        apply_swaps(changes, &mut turns);
        turns.retain(|t| t.date >= from);
        turns.truncate(count);
        turns
    }

    fn unavailable(&self, changes: &[Change], person: usize, date: Date) -> bool {
        let name = &self.people[person].name;
        changes.iter().any(|c| match c {
            Change::Skip { name: n, date: d } => n == name && *d == date,
            Change::Away { name: n, from, to } => n == name && *from <= date && date <= *to,
            Change::Swap { .. } => false,
        })
    }
}

/// Swaps exchange the people of two dates, in the order they were made.
fn apply_swaps(changes: &[Change], turns: &mut [Turn]) {
    for change in changes {
        if let Change::Swap { first, second } = change {
            let a = turns.iter().position(|t| t.date == *first);
            let b = turns.iter().position(|t| t.date == *second);
            if let (Some(a), Some(b)) = (a, b) {
                let person = turns[a].person;
                turns[a].person = turns[b].person;
                turns[b].person = person;
            }
        }
    }
}
