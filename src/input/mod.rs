//! Inputs: where electrical edges come from.
//!
//! Every backend — real GPIO (`rppal`, `gpiocdev`), the simulated button (`sim`) and
//! recorded traces (`trace`) — produces the same thing: [`Edge`]s, each the level an
//! input went to and when, on one monotonic time line. Everything after this stage
//! (debounce, gestures, announcements) is shared and never knows which backend ran.

pub mod gpiocdev;
pub mod rppal;
pub mod sim;
pub mod trace;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The two inputs a daas device has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputId {
    /// The big red button.
    Button,
    /// The flick switch that arms the button.
    Arm,
}

impl InputId {
    /// The name used in trace files and messages.
    pub fn name(self) -> &'static str {
        match self {
            InputId::Button => "button",
            InputId::Arm => "arm",
        }
    }
}

/// An electrical level read at a pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Low,
    High,
}

impl Level {
    /// The other level.
    pub fn flipped(self) -> Level {
        match self {
            Level::Low => Level::High,
            Level::High => Level::Low,
        }
    }
}

/// One change of level at an input.
///
/// `at` is on the monotonic time line of the source: CLOCK_MONOTONIC for the daemon
/// (the clock the kernel stamps GPIO events with), virtual time for a replayed trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub input: InputId,
    pub level: Level,
    pub at: Duration,
}

/// The levels of the inputs when a source starts; they set state without making events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartingLevels {
    pub button: Level,
    /// `None` when no arm switch is configured.
    pub arm: Option<Level>,
}

/// A boxed future, so that sources can be chosen at run time.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A live source of edges: the daemon's view of a backend.
pub trait EdgeSource: Send {
    /// The levels read when the source was opened.
    fn starting_levels(&self) -> StartingLevels;

    /// The next edge, waiting (in the kernel, not polling) until one happens.
    /// `None` means the source has ended (the simulated button was told to quit).
    fn next_edge(&mut self) -> BoxFuture<'_, Option<Result<Edge, InputError>>>;
}

/// Why an input could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(
        "this machine is not a Raspberry Pi that rppal knows; to try daas here use `daas run --simulate`, or set `[gpio] backend = \"gpiocdev\"` on another Linux board"
    )]
    NotAPi,
    #[error(
        "permission denied opening {0}; add the user to the `gpio` group (sudo usermod -aG gpio $USER) and log in again"
    )]
    PermissionDenied(String),
    #[error(
        "GPIO {pin} is busy: another program has claimed it; stop that program or pick another pin"
    )]
    PinBusy { pin: u8 },
    #[error(
        "cannot open GPIO chip {chip}: {source}; check `[gpio] chip` (ls /dev/gpiochip*) or use `daas run --simulate`"
    )]
    Chip {
        chip: String,
        #[source]
        source: std::io::Error,
    },
    #[error("GPIO error: {0}")]
    Gpio(String),
    #[error("reading the simulated button from stdin failed: {0}")]
    Stdin(#[source] std::io::Error),
}
