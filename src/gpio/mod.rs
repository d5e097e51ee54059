//! Inputs, where electrical edges come from, and the feedback LED's outputs ([`led`]).
//!
//! Every backend — real GPIO (`rppal`, `gpiocdev`), the simulated button (`sim`) and
//! recorded traces (`trace`) — produces the same thing: [`Edge`]s, each the level an
//! input went to and when, on one monotonic time line. Everything after this stage
//! (debounce, gestures, announcements) is shared and never knows which backend ran.

pub mod gpiocdev;
pub mod led;
pub mod rppal;
pub mod sim;
pub mod trace;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::model::{BoxFuture, Edge, Level, StartingLevels};

/// Which library talks to the pins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GpioBackend {
    /// rppal: Raspberry Pi 1–4 (and the Pi 5 through its GPIO character device).
    #[default]
    Rppal,
    /// The Linux GPIO character device through the gpiocdev crate: any Linux board.
    Gpiocdev,
}

/// The internal bias resistor of an input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pull {
    #[default]
    Up,
    Down,
    Off,
}

/// One input's pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinSettings {
    /// BCM GPIO number (gpiocdev: the line offset on the chip).
    pub pin: u32,
    pub pull: Pull,
    /// The level that means pressed (the button) or armed (the switch).
    pub active: Level,
}

/// The feedback LED's pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedPin {
    /// BCM GPIO number (gpiocdev: the line offset on the chip).
    pub pin: u32,
    /// The level that lights it.
    pub active: Level,
}

/// What the input backends need from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpioSettings {
    pub backend: GpioBackend,
    /// The GPIO chip (gpiocdev).
    pub chip: PathBuf,
    pub button: PinSettings,
    /// `None` without an arm switch: always armed.
    pub arm: Option<PinSettings>,
    /// The feedback LED, if there is one.
    pub led: Option<LedPin>,
    /// How long the simulated button's `l` key holds: past the long-press time.
    pub long_hold: Duration,
}

/// A live source of edges: the daemon's view of a backend.
pub trait EdgeSource: Send {
    /// The levels read when the source was opened.
    fn starting_levels(&self) -> StartingLevels;

    /// The next edge, waiting (in the kernel, not polling) until one happens.
    /// `None` means the source has ended (the simulated button was told to quit).
    fn next_edge(&mut self) -> BoxFuture<'_, Option<Result<Edge, InputError>>>;
}

/// Why a pin (an input, or the LED) could not be opened, read or set.
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
        "cannot open GPIO chip {chip}: {cause}; check `[gpio] chip` (ls /dev/gpiochip*) or use `daas run --simulate`"
    )]
    Chip { chip: String, cause: std::io::Error },
    #[error("GPIO error: {0}")]
    Gpio(String),
    #[error("reading the simulated button from stdin failed: {0}")]
    Stdin(std::io::Error),
}

impl InputError {
    /// A device that is missing or not accessible yet: at boot, udev may still be
    /// creating it or giving it to group `gpio`, so waiting a little may cure it.
    pub fn may_clear_at_boot(&self) -> bool {
        match self {
            InputError::PermissionDenied(_) => true,
            InputError::Chip { cause, .. } => matches!(
                cause.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ),
            _ => false,
        }
    }
}
