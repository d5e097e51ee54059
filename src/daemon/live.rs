//! The pipeline on real time: edges from a live source, deadlines from the clock.
//!
//! Two rules keep a busy daemon (a loaded Pi, an emulated test run) from losing or
//! merging presses when it falls behind the button:
//! - edges already waiting are fed before a deadline is served, so a deadline never
//!   jumps ahead of edges that happened before it;
//! - a deadline moves the pipeline to the deadline's own time, not to the clock's
//!   "now". The pipeline never takes an edge before its latest time, so running it to
//!   a late "now" would squash the waiting edges onto one instant — a release and the
//!   next press would then look like a bounce, and a press would vanish.

use std::time::Duration;

use crate::clock::monotonic;
use crate::clock::timer::DeadlineTimer;
use crate::core::pipeline::Pipeline;
use crate::gpio::{EdgeSource, InputError};
use crate::model::Event;

/// A source feeding a pipeline.
pub struct LiveInput {
    source: Box<dyn EdgeSource>,
    pipeline: Pipeline,
    /// Deadlines to the microsecond (see [`crate::clock::timer`]); tokio's millisecond timer
    /// where a timerfd cannot be had.
    timer: Option<DeadlineTimer>,
    /// The source has ended: only the deadlines its last edges left are still served.
    ended: bool,
}

/// What one [`LiveInput::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An edge was fed or a deadline served (events may have been added).
    Progress,
    /// The source ended (the simulated button quit) and every deadline its edges left
    /// has been served, so the gestures they make have fired.
    Ended,
}

impl LiveInput {
    pub fn new(source: Box<dyn EdgeSource>, pipeline: Pipeline) -> Self {
        let timer = DeadlineTimer::new()
            .inspect_err(|err| {
                log::warn!("no timerfd ({err}); button deadlines are served to the millisecond")
            })
            .ok();
        LiveInput {
            source,
            pipeline,
            timer,
            ended: false,
        }
    }

    /// Whether the button is armed now.
    pub fn armed(&self) -> bool {
        self.pipeline.armed()
    }

    /// The trusted wall clock for quiet hours (see [`Pipeline::set_wall`]).
    pub fn set_wall(&mut self, wall: Option<crate::core::quiet::WallAnchor>) {
        self.pipeline.set_wall(wall);
    }

    /// Waits, in the kernel, for the next edge or the pipeline's next deadline and feeds
    /// it; the pipeline's events go to `out`. Cancel-safe: everything after the wait
    /// runs without awaiting, so a `select!` that drops this future loses nothing.
    ///
    /// When the source ends, the step goes on serving deadlines until none is left:
    /// the last edges' gestures must still fire. A `press` then `quit` (or end of
    /// input) with long or double presses mapped is decided only after the release's
    /// debounce and the double-press gap; stopping at once would drop it silently.
    pub async fn step(&mut self, out: &mut Vec<Event>) -> Result<Step, InputError> {
        let deadline = self.pipeline.deadline();
        if self.ended {
            if deadline.is_none() {
                return Ok(Step::Ended);
            }
            let at = sleep_until(self.timer.as_mut(), deadline).await;
            self.pipeline.advance(at, out);
            return Ok(Step::Progress);
        }
        tokio::select! {
            biased;
            edge = self.source.next_edge() => match edge {
                Some(Ok(edge)) => self.pipeline.edge(edge, out),
                Some(Err(err)) => return Err(err),
                // A source is not read again once it said it ended.
                None => self.ended = true,
            },
            at = sleep_until(self.timer.as_mut(), deadline) => self.pipeline.advance(at, out),
        }
        Ok(Step::Progress)
    }
}

/// How long before a button deadline the loop stops sleeping and waits awake.
///
/// A CPU woken from idle by a timer can take a millisecond or more to get going: on the
/// 2-core VM the CI runs on, a send made right after a 20 ms sleep reached its receiver
/// 1.2 ms later than the same send made by a thread that was awake (benches/latency.rs
/// shows the effect). So the loop sleeps until this long before the deadline, then
/// yields to the runtime until the deadline (still serving edges and sends), and the
/// press goes out the moment its debounce ends. It costs at most this much CPU per
/// deadline — a few per press — and nothing at all while idle.
pub const WAKE_AHEAD: Duration = Duration::from_millis(1);

/// Sleeps until `deadline` and returns it; without one, never returns (no timer).
async fn sleep_until(timer: Option<&mut DeadlineTimer>, deadline: Option<Duration>) -> Duration {
    let Some(at) = deadline else {
        return std::future::pending().await;
    };
    let wake = at.saturating_sub(WAKE_AHEAD);
    let precise = match timer {
        Some(timer) => timer.sleep_until(wake).await.is_ok(),
        None => false,
    };
    if !precise {
        tokio::time::sleep_until(monotonic::instant_at(wake)).await;
    }
    // Awake for the last stretch: each yield lets the runtime poll its I/O and tasks.
    while monotonic::now() < at {
        tokio::task::yield_now().await;
    }
    at
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::config;
    use crate::model::GestureKind;
    use crate::model::{BoxFuture, Edge, InputId, Level, StartingLevels};

    /// Edges that happened already and wait to be read, as when the daemon was busy
    /// while the person pressed. The test decides which have reached the daemon.
    #[derive(Clone, Default)]
    struct Backlog(Arc<Mutex<VecDeque<Edge>>>);

    impl Backlog {
        fn arrive(&self, edges: impl IntoIterator<Item = Edge>) {
            self.0.lock().expect("lock").extend(edges);
        }
    }

    impl EdgeSource for Backlog {
        fn starting_levels(&self) -> StartingLevels {
            StartingLevels {
                button: Level::High,
                arm: None,
            }
        }

        fn next_edge(&mut self) -> BoxFuture<'_, Option<Result<Edge, InputError>>> {
            let edge = self.0.lock().expect("lock").pop_front();
            Box::pin(async move {
                match edge {
                    Some(edge) => Some(Ok(edge)),
                    // Nothing has arrived: like a button nobody touches.
                    None => std::future::pending().await,
                }
            })
        }
    }

    fn press_times(out: &[Event]) -> Vec<Duration> {
        out.iter()
            .filter_map(|e| match e {
                Event::Gesture {
                    gesture: GestureKind::Press,
                    first_edge,
                    ..
                } => Some(*first_edge),
                _ => None,
            })
            .collect()
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Button edges (level, ms after `origin`) in order.
    fn button(origin: Duration, edges: &[(Level, u64)]) -> Vec<Edge> {
        edges
            .iter()
            .map(|&(level, t)| Edge {
                input: InputId::Button,
                level,
                at: origin + ms(t),
            })
            .collect()
    }

    /// Runs the built-in config (debounce 20 ms) from `origin`, three seconds ago. For
    /// each batch, its edges reach the daemon together, then `steps` steps run.
    async fn run(origin: Duration, batches: Vec<(Vec<Edge>, usize)>) -> Vec<Event> {
        let config = config::parse(config::BUILT_IN, "built-in").expect("built-in config");
        let backlog = Backlog::default();
        let settings = config::Settings::of(&config);
        let pipeline = Pipeline::new(&settings.pipeline, backlog.starting_levels(), origin);
        let mut live = LiveInput::new(Box::new(backlog.clone()), pipeline);
        let mut out = Vec::new();
        for (edges, steps) in batches {
            backlog.arrive(edges);
            for _ in 0..steps {
                assert_eq!(live.step(&mut out).await.expect("step"), Step::Progress);
            }
        }
        out
    }

    /// Edges that are all there, then the end of the source (the simulated button's
    /// script ran out, or `quit`).
    struct Ending(VecDeque<Edge>);

    impl EdgeSource for Ending {
        fn starting_levels(&self) -> StartingLevels {
            StartingLevels {
                button: Level::High,
                arm: None,
            }
        }

        fn next_edge(&mut self) -> BoxFuture<'_, Option<Result<Edge, InputError>>> {
            let edge = self.0.pop_front();
            Box::pin(async move { edge.map(Ok) })
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_press_right_before_the_source_ends_still_fires_when_long_press_is_mapped() {
        let text = config::BUILT_IN.replace(
            "[gestures]",
            "[gestures]\nlong_press = \"arrival\"\ndouble_press = \"arrival\"",
        );
        let config = config::parse(&text, "built-in").expect("config");
        let settings = config::Settings::of(&config);
        // Just now: the release's debounce and the double-press gap are still ahead.
        let origin = monotonic::now().saturating_sub(ms(100));
        let source = Ending(button(origin, &[(Level::Low, 0), (Level::High, 100)]).into());
        let pipeline = Pipeline::new(&settings.pipeline, source.starting_levels(), origin);
        let mut live = LiveInput::new(Box::new(source), pipeline);
        let mut out = Vec::new();
        let mut steps = 0;
        while live.step(&mut out).await.expect("step") == Step::Progress {
            steps += 1;
            assert!(steps < 20, "the source ended, yet the steps go on: {out:?}");
        }
        assert_eq!(press_times(&out), [origin]);
        assert_eq!(
            live.step(&mut out).await.expect("step"),
            Step::Ended,
            "ended stays ended"
        );
    }

    fn three_seconds_ago() -> Duration {
        monotonic::now().saturating_sub(ms(3000))
    }

    /// Three 100 ms presses, 100 ms apart.
    const PRESSES: [(Level, u64); 6] = [
        (Level::Low, 100),
        (Level::High, 200),
        (Level::Low, 300),
        (Level::High, 400),
        (Level::Low, 500),
        (Level::High, 600),
    ];

    #[tokio::test(flavor = "current_thread")]
    async fn presses_read_late_are_recognised_at_their_own_times() {
        let origin = three_seconds_ago();
        // All six edges wait together: six steps for them, one for the last deadline.
        let out = run(origin, vec![(button(origin, &PRESSES), 7)]).await;
        assert_eq!(press_times(&out), [100, 300, 500].map(|t| origin + ms(t)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_late_deadline_does_not_squash_the_edges_after_it() {
        let origin = three_seconds_ago();
        // Each edge reaches the daemon only after the deadline before it, long past,
        // was served (the next edge still on its way through the kernel).
        let batches = button(origin, &PRESSES)
            .into_iter()
            .map(|edge| (vec![edge], 2))
            .collect();
        let out = run(origin, batches).await;
        assert_eq!(press_times(&out), [100, 300, 500].map(|t| origin + ms(t)));
    }
}
