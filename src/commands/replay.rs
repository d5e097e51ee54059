//! `daas replay`: a trace played through the same pipeline the daemon runs, on
//! virtual time. Deterministic, instant, and it sends nothing — the way to see what
//! a config makes of a bouncy button or a nervous finger.

use std::time::Duration;

use crate::core::pipeline::{Pipeline, PipelineSettings};
use crate::gpio::trace::Trace;
use crate::model::Event;

/// Every event the trace produces, in order; deadlines after the last edge included.
pub fn replay(settings: &PipelineSettings, trace: &Trace) -> Vec<Event> {
    let button_inactive = settings.button.active.flipped();
    let arm_inactive = settings.arm.map(|arm| arm.active.flipped());
    let start = trace.starting_levels(button_inactive, arm_inactive);
    let mut pipeline = Pipeline::new(settings, start, Duration::ZERO);
    let mut events = Vec::new();
    for edge in &trace.edges {
        pipeline.edge(*edge, &mut events);
    }
    pipeline.finish(&mut events);
    events
}
