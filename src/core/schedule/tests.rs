//! The rota on virtual time: turns with skips, holidays and swaps; reminders across
//! daylight-saving changes in two zones; a power-off's missed reminders.

use jiff::civil::{Date, Time, Weekday, date, time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::reminders::{Due, RemindAt, due, next_after, reminders};
use super::*;

fn person(name: &str, remind: &[(Weekday, Time)]) -> Person {
    Person {
        name: name.into(),
        remind: remind
            .iter()
            .map(|&(weekday, time)| RemindAt { weekday, time })
            .collect(),
    }
}

/// Alice, Bob, Carol on Fridays from Friday 4 Dec 2026; reminders Thursday 16:00 and
/// Friday 09:00.
fn rota() -> Rota {
    let remind = [
        (Weekday::Thursday, time(16, 0, 0, 0)),
        (Weekday::Friday, time(9, 0, 0, 0)),
    ];
    Rota {
        day: Weekday::Friday,
        start: date(2026, 12, 4),
        people: ["Alice", "Bob", "Carol"]
            .iter()
            .map(|n| person(n, &remind))
            .collect(),
    }
}

fn names(rota: &Rota, turns: &[Turn]) -> Vec<String> {
    turns
        .iter()
        .map(|t| format!("{} {}", t.date, rota.people[t.person].name))
        .collect()
}

fn fridays(from: Date, n: usize) -> Vec<Date> {
    (0..n)
        .map(|i| {
            from.checked_add(jiff::Span::new().weeks(i as i64))
                .expect("date")
        })
        .collect()
}

#[test]
fn people_take_turns_round_and_round() {
    let r = rota();
    let turns = r.turns(&[], date(2026, 12, 4), 8);
    let who: Vec<_> = turns
        .iter()
        .map(|t| r.people[t.person].name.as_str())
        .collect();
    assert_eq!(
        who,
        [
            "Alice", "Bob", "Carol", "Alice", "Bob", "Carol", "Alice", "Bob"
        ]
    );
    assert_eq!(
        turns.iter().map(|t| t.date).collect::<Vec<_>>(),
        fridays(date(2026, 12, 4), 8)
    );
    // The order does not depend on where the listing starts.
    let later = r.turns(&[], date(2026, 12, 16), 2);
    assert_eq!(names(&r, &later), ["2026-12-18 Carol", "2026-12-25 Alice"]);
}

#[test]
fn a_skip_passes_the_turn_on_and_the_skipper_goes_next() {
    let r = rota();
    let skip = [Change::Skip {
        name: "Bob".into(),
        date: date(2026, 12, 11),
    }];
    let turns = r.turns(&skip, date(2026, 12, 4), 5);
    assert_eq!(
        names(&r, &turns),
        [
            "2026-12-04 Alice",
            "2026-12-11 Carol",
            "2026-12-18 Bob",
            "2026-12-25 Alice",
            "2027-01-01 Bob"
        ]
    );
}

#[test]
fn someone_away_keeps_their_place_for_when_they_are_back() {
    let r = rota();
    let away = [Change::Away {
        name: "Alice".into(),
        from: date(2026, 12, 20),
        to: date(2027, 1, 10),
    }];
    let turns = r.turns(&away, date(2026, 12, 4), 7);
    assert_eq!(
        names(&r, &turns),
        [
            "2026-12-04 Alice",
            "2026-12-11 Bob",
            "2026-12-18 Carol",
            "2026-12-25 Bob",
            "2027-01-01 Carol",
            "2027-01-08 Bob",
            "2027-01-15 Alice"
        ]
    );
}

#[test]
fn a_swap_exchanges_two_turns_and_nothing_else() {
    let r = rota();
    let swap = [Change::Swap {
        first: date(2026, 12, 4),
        second: date(2026, 12, 18),
    }];
    let turns = r.turns(&swap, date(2026, 12, 4), 4);
    assert_eq!(
        names(&r, &turns),
        [
            "2026-12-04 Carol",
            "2026-12-11 Bob",
            "2026-12-18 Alice",
            "2026-12-25 Alice"
        ]
    );
    // A swap with a date past the listing still swaps both.
    let far = [Change::Swap {
        first: date(2026, 12, 4),
        second: date(2027, 3, 5),
    }];
    let turns = r.turns(&far, date(2026, 12, 4), 1);
    assert_eq!(names(&r, &turns), ["2026-12-04 Bob"]);
}

#[test]
fn everyone_away_means_no_turn_that_week() {
    let r = rota();
    let all_away: Vec<_> = ["Alice", "Bob", "Carol"]
        .iter()
        .map(|n| Change::Away {
            name: n.to_string(),
            from: date(2026, 12, 24),
            to: date(2026, 12, 31),
        })
        .collect();
    let turns = r.turns(&all_away, date(2026, 12, 18), 3);
    assert_eq!(
        names(&r, &turns),
        ["2026-12-18 Carol", "2027-01-01 Alice", "2027-01-08 Bob"]
    );
}

fn ts(zone: &str, y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
    TimeZone::get(zone)
        .expect("zone")
        .to_ambiguous_timestamp(date(y, m, d).at(h, min, 0, 0))
        .compatible()
        .expect("time")
}

#[test]
fn reminders_fall_on_the_weekday_before_the_turn() {
    let r = rota();
    let tz = TimeZone::get("Europe/London").expect("zone");
    let turns = r.turns(&[], date(2026, 12, 4), 1);
    let all = reminders(&r, &turns, &tz);
    let at: Vec<_> = all.iter().map(|x| x.at).collect();
    assert_eq!(
        at,
        [
            ts("Europe/London", 2026, 12, 3, 16, 0),
            ts("Europe/London", 2026, 12, 4, 9, 0)
        ]
    );
}

/// A reminder at 01:30 on the Sundays clocks change (London: 29 Mar and 25 Oct 2026;
/// New York: 8 Mar at 02:30 and 1 Nov 2026 at 01:30): each fires exactly once.
#[test]
fn daylight_saving_never_doubles_or_drops_a_reminder() {
    for (zone, spring, autumn, hour) in [
        ("Europe/London", date(2026, 3, 29), date(2026, 10, 25), 1),
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1), 2),
    ] {
        let tz = TimeZone::get(zone).expect("zone");
        for day in [spring, autumn] {
            let r = Rota {
                day: Weekday::Sunday,
                start: day,
                people: vec![person("Alice", &[(Weekday::Sunday, time(hour, 30, 0, 0))])],
            };
            let turns = r.turns(&[], day, 1);
            let all = reminders(&r, &turns, &tz);
            assert_eq!(all.len(), 1, "{zone} {day}");
            // Walking the day in 10-minute steps, the reminder is due exactly once.
            let mut handled = None;
            let mut fired = 0;
            let mut now = tz.to_timestamp(day.at(0, 0, 0, 0)).expect("midnight");
            for _ in 0..(6 * 24) {
                for d in due(&all, handled, now, SignedDuration::from_hours(2)) {
                    let Due::Send(reminder) = d else {
                        panic!("{zone} {day}: missed")
                    };
                    fired += 1;
                    handled = Some(reminder.at);
                }
                now = now
                    .checked_add(SignedDuration::from_mins(10))
                    .expect("time");
            }
            assert_eq!(fired, 1, "{zone} {day}");
        }
        // Spring: the skipped 01:30 (London) / 02:30 (New York) comes just after the
        // jump, an hour later on the clock; autumn: the first pass.
        let r = Rota {
            day: Weekday::Sunday,
            start: spring,
            people: vec![person("Alice", &[(Weekday::Sunday, time(hour, 30, 0, 0))])],
        };
        let at = reminders(&r, &r.turns(&[], spring, 1), &tz)[0].at;
        assert_eq!(
            at.to_zoned_datetime(tz.clone()).time(),
            time(hour + 1, 30, 0, 0),
            "{zone}"
        );
    }
}

#[test]
fn a_reminder_missed_while_off_is_sent_within_the_grace_window_and_logged_after_it() {
    let r = rota();
    let tz = TimeZone::get("Europe/London").expect("zone");
    let all = reminders(&r, &r.turns(&[], date(2026, 12, 4), 2), &tz);
    let grace = SignedDuration::from_hours(2);
    // Last handled: nothing of these yet; the Pi was off from Thursday 15:00.
    let before = Some(ts("Europe/London", 2026, 12, 3, 15, 0));
    // Back at 17:30: Thursday 16:00 is 1.5 h late, within the grace: sent late.
    let back = ts("Europe/London", 2026, 12, 3, 17, 30);
    assert_eq!(due(&all, before, back, grace), [Due::Send(all[0].clone())]);
    // Back at 10:00 Friday instead: 16:00 is 18 h late (missed); 09:00 is an hour late.
    let friday = ts("Europe/London", 2026, 12, 4, 10, 0);
    assert_eq!(
        due(&all, before, friday, grace),
        [Due::Missed(all[0].clone()), Due::Send(all[1].clone())]
    );
    // The first run ever (nothing handled): old reminders are not even reported.
    assert_eq!(due(&all, None, friday, grace), [Due::Send(all[1].clone())]);
    // The next one, the only timer: Bob's Thursday 16:00.
    assert_eq!(
        next_after(&all, friday),
        Some(ts("Europe/London", 2026, 12, 10, 16, 0))
    );
}
