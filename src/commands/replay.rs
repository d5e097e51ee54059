//! `daas replay`: a trace played through the same pipeline the daemon runs, on
//! virtual time. Deterministic, instant, and it sends nothing — the way to see what
//! a config makes of a bouncy button or a nervous finger.

use std::time::Duration;

use crate::config::Config;
use crate::core::pipeline::Pipeline;
use crate::gpio::trace::Trace;
use crate::model::Event;
use crate::model::Level;

/// Every event the trace produces, in order; deadlines after the last edge included.
pub fn replay(config: &Config, trace: &Trace) -> Vec<Event> {
    let button_inactive = Level::from(config.button.active).flipped();
    let arm_inactive = config
        .arm_switch
        .as_ref()
        .map(|arm| Level::from(arm.active).flipped());
    let start = trace.starting_levels(button_inactive, arm_inactive);
    let mut pipeline = Pipeline::new(config, start, Duration::ZERO);
    let mut events = Vec::new();
    for edge in &trace.edges {
        pipeline.edge(*edge, &mut events);
    }
    pipeline.finish(&mut events);
    events
}
