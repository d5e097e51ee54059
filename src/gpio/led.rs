//! The feedback LED's outputs: a GPIO line through rppal or gpiocdev, or a glyph on
//! the simulated button's terminal. Each only sets a level; which level and when is
//! decided by the pure [`crate::core::feedback`] machine.
//!
//! The LED is a courtesy to the person at the button, never a reason to miss a press:
//! a pin that cannot be opened or set is logged (once) and the daemon goes on.

use std::io::{IsTerminal, Write};

use super::{GpioBackend, GpioSettings, InputError, LedPin};
use crate::model::Level;

/// Something that shows the LED's level.
pub trait LedOutput: Send {
    fn set(&mut self, on: bool) -> Result<(), InputError>;
}

/// The electrical level that shows `on` on `led`.
pub fn level_for(led: LedPin, on: bool) -> Level {
    if on { led.active } else { led.active.flipped() }
}

/// Opens the configured LED (or, simulating, the terminal's glyph); `Ok(None)` when
/// there is none.
pub fn open(gpio: &GpioSettings, simulate: bool) -> Result<Option<Box<dyn LedOutput>>, InputError> {
    if simulate {
        return Ok(Some(Box::new(TerminalLed::new())));
    }
    let Some(led) = gpio.led else {
        return Ok(None);
    };
    Ok(Some(match gpio.backend {
        GpioBackend::Rppal => Box::new(super::rppal::RppalLed::open(led)?),
        GpioBackend::Gpiocdev => Box::new(super::gpiocdev::GpiocdevLed::open(&gpio.chip, led)?),
    }))
}

/// The simulated button's LED: `LED ●` or `LED ○` on the terminal's current line. It
/// ends with a carriage return, so the next log line writes over it (log lines start
/// with `daas: `, longer than the glyph); the next change draws it again. Not on a
/// terminal (a script, a test) it stays silent: `--events` has the `led` lines.
pub struct TerminalLed {
    terminal: bool,
}

impl TerminalLed {
    pub fn new() -> TerminalLed {
        TerminalLed {
            terminal: std::io::stderr().is_terminal(),
        }
    }
}

impl Default for TerminalLed {
    fn default() -> Self {
        TerminalLed::new()
    }
}

impl LedOutput for TerminalLed {
    fn set(&mut self, on: bool) -> Result<(), InputError> {
        if self.terminal {
            let glyph = if on { "LED ●" } else { "LED ○" };
            let mut err = std::io::stderr().lock();
            // A terminal that went away is no reason to stop.
            let _ = write!(err, "\x1b[2K{glyph}\r").and_then(|()| err.flush());
        }
        Ok(())
    }
}
