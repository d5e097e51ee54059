//! `daas notify`: announce an action now, through every sink, and show how each went.
//! The way to test a new sink's config without walking to the kitchen.

use std::sync::Arc;

use comfy_table::Table;

use super::fanout::Fanout;
use crate::clock::{Trust, WallClock};
use crate::core::announce::Actions;
use crate::model::{Announcement, Report};
use crate::sinks::ConfiguredSink;

/// Sends `announcement` to every sink concurrently and returns the reports in the
/// sinks' order.
pub async fn notify(sinks: Vec<ConfiguredSink>, announcement: Announcement) -> Vec<Report> {
    let order: Vec<String> = sinks.iter().map(|s| s.sink.name().to_string()).collect();
    let mut fanout = Fanout::new(sinks);
    fanout.send(Arc::new(announcement));
    let mut reports = Vec::new();
    while let Some(report) = fanout.next_report().await {
        reports.push(report);
    }
    let position = |name: &str| order.iter().position(|s| s == name);
    reports.sort_by_key(|r| position(&r.sink));
    reports
}

/// The announcement `daas notify ACTION` sends, made now; its time is shown only when
/// the wall clock is trusted (`trust`), and `{who}` names today's rota turn only then.
pub fn announcement_now(
    actions: &Actions,
    action: &str,
    trust: Trust,
    tz: &jiff::tz::TimeZone,
    rota: Option<&crate::core::schedule::Rota>,
) -> Option<Announcement> {
    let wall = WallClock::quiet(trust).read();
    let who = rota
        .filter(|_| wall.trusted)
        .and_then(|r| r.whose_turn(&[], wall.now, tz));
    let draft = actions.draft(action, wall, crate::clock::new_id(), who)?;
    Some(draft.render(draft.made_at(std::time::Duration::ZERO, wall), tz))
}

/// The result table: sink, type, result, milliseconds.
pub fn table(reports: &[Report]) -> String {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["sink", "type", "result", "ms"]);
    for r in reports {
        let result = match &r.error {
            None => r.state.name().to_string(),
            Some(err) => format!("{}: {err}", r.state.name()),
        };
        let ms = r
            .elapsed
            .map(|e| e.as_millis().to_string())
            .unwrap_or_default();
        table.add_row([r.sink.clone(), r.kind.to_string(), result, ms]);
    }
    table.to_string()
}
