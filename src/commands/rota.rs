//! `daas rota`: the doughnut rota's next turns as a table, one row per turn with its
//! date and the person, from the config's `[rota]` (and, once people change it, the
//! changes kept in the outbox).

use comfy_table::Table;
use jiff::civil::Date;

use crate::core::schedule::{Change, Rota};

/// How many turns `daas rota` lists.
pub const SHOWN: usize = 8;

/// The next [`SHOWN`] turns from `today` (today's turn included) as a table.
pub fn table(rota: &Rota, changes: &[Change], today: Date) -> String {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["date", "day", "who"]);
    for turn in rota.turns(changes, today, SHOWN) {
        table.add_row([
            turn.date.to_string(),
            turn.date.strftime("%A").to_string(),
            rota.people[turn.person].name.clone(),
        ]);
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use jiff::civil::{Weekday, date};

    use super::*;
    use crate::core::schedule::Person;

    #[test]
    fn eight_rows_from_today_each_a_date_and_a_person() {
        let rota = Rota {
            day: Weekday::Friday,
            start: date(2026, 12, 4),
            people: ["Alice", "Bob"]
                .iter()
                .map(|n| Person {
                    name: n.to_string(),
                    remind: Vec::new(),
                })
                .collect(),
        };
        // A Wednesday: the first row is that week's Friday.
        let text = table(&rota, &[], date(2026, 12, 9));
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("2026-") || l.contains("2027-"))
            .collect();
        assert_eq!(rows.len(), SHOWN, "{text}");
        assert!(
            rows[0].contains("2026-12-11") && rows[0].contains("Friday") && rows[0].contains("Bob"),
            "{text}"
        );
        assert!(
            rows[1].contains("2026-12-18") && rows[1].contains("Alice"),
            "{text}"
        );
    }
}
