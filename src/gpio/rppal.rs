//! The rppal backend: Raspberry Pi GPIO through rppal's interrupt API.
//!
//! rppal's async interrupts run the callback on rppal's own thread, blocked in the
//! kernel until an edge; the callback hands each edge, stamped by the kernel on
//! CLOCK_MONOTONIC, to tokio through a channel. No polling anywhere. rppal 0.22 is the
//! final release (the project was retired in 2025), so nothing outside this file
//! knows it exists.

use rppal::gpio::{Event, Gpio, InputPin, OutputPin, Trigger};
use tokio::sync::mpsc;

use super::led::{LedOutput, level_for};
use super::{EdgeSource, GpioSettings, InputError, LedPin, Pull};

use crate::model::{BoxFuture, Edge, InputId, Level, StartingLevels};

/// Edges waiting for the daemon; beyond this the interrupt thread waits (and the
/// kernel buffers).
const QUEUE: usize = 256;

/// The open pins and the channel their interrupts feed.
pub struct RppalSource {
    // Kept open: dropping a pin clears its interrupt.
    _pins: Vec<InputPin>,
    starting: StartingLevels,
    edges: mpsc::Receiver<Edge>,
}

fn gpio_error(err: rppal::gpio::Error, pin: u32) -> InputError {
    use rppal::gpio::Error as E;
    match err {
        E::UnknownModel => InputError::NotAPi,
        E::PermissionDenied(path) => InputError::PermissionDenied(path),
        E::PinUsed(_) | E::PinNotAvailable(_) => InputError::PinBusy { pin: pin as u8 },
        other => InputError::Gpio(format!("GPIO {pin}: {other}")),
    }
}

fn open_pin(
    gpio: &Gpio,
    pin: u32,
    pull: Pull,
    input: InputId,
    tx: mpsc::Sender<Edge>,
) -> Result<(InputPin, Level), InputError> {
    let raw = gpio.get(pin as u8).map_err(|e| gpio_error(e, pin))?;
    let mut pin_in = match pull {
        Pull::Up => raw.into_input_pullup(),
        Pull::Down => raw.into_input_pulldown(),
        Pull::Off => raw.into_input(),
    };
    // Interrupts first, then the level: an edge in between shows up as a repeat of
    // the level read, which the debouncer takes in its stride; the other order could
    // miss it.
    pin_in
        .set_async_interrupt(Trigger::Both, None, move |event: Event| {
            let level = match event.trigger {
                Trigger::RisingEdge => Level::High,
                _ => Level::Low,
            };
            // The receiver is gone only when the daemon is shutting down.
            let _ = tx.blocking_send(Edge {
                input,
                level,
                at: event.timestamp,
            });
        })
        .map_err(|e| gpio_error(e, pin))?;
    let level = if pin_in.is_high() {
        Level::High
    } else {
        Level::Low
    };
    Ok((pin_in, level))
}

impl RppalSource {
    /// Opens the button and the arm switch (if configured).
    pub fn open(gpio_settings: &GpioSettings) -> Result<RppalSource, InputError> {
        let gpio = Gpio::new().map_err(|e| gpio_error(e, gpio_settings.button.pin))?;
        let (tx, edges) = mpsc::channel(QUEUE);
        let b = &gpio_settings.button;
        let (button_pin, button) = open_pin(&gpio, b.pin, b.pull, InputId::Button, tx.clone())?;
        let mut pins = vec![button_pin];
        let mut arm = None;
        if let Some(a) = &gpio_settings.arm {
            let (arm_pin, level) = open_pin(&gpio, a.pin, a.pull, InputId::Arm, tx)?;
            pins.push(arm_pin);
            arm = Some(level);
        }
        Ok(RppalSource {
            _pins: pins,
            starting: StartingLevels { button, arm },
            edges,
        })
    }
}

impl EdgeSource for RppalSource {
    fn starting_levels(&self) -> StartingLevels {
        self.starting
    }

    fn next_edge(&mut self) -> BoxFuture<'_, Option<Result<Edge, InputError>>> {
        Box::pin(async move { self.edges.recv().await.map(Ok) })
    }
}

/// The feedback LED as an output pin. rppal sets the pin back to an input when it is
/// dropped, so the LED goes dark when the daemon stops.
pub struct RppalLed {
    pin: OutputPin,
    led: LedPin,
}

impl RppalLed {
    /// Opens the LED's pin as an output, off.
    pub fn open(led: LedPin) -> Result<RppalLed, InputError> {
        let gpio = Gpio::new().map_err(|e| gpio_error(e, led.pin))?;
        let raw = gpio
            .get(led.pin as u8)
            .map_err(|e| gpio_error(e, led.pin))?;
        let pin = match level_for(led, false) {
            Level::High => raw.into_output_high(),
            Level::Low => raw.into_output_low(),
        };
        Ok(RppalLed { pin, led })
    }
}

impl LedOutput for RppalLed {
    fn set(&mut self, on: bool) -> Result<(), InputError> {
        match level_for(self.led, on) {
            Level::High => self.pin.set_high(),
            Level::Low => self.pin.set_low(),
        }
        Ok(())
    }
}
