//! The gpiocdev backend: the Linux GPIO character device (`/dev/gpiochipN`) through
//! the maintained gpiocdev crate. For the Pi 5 and later, and any other Linux board.
//!
//! Both inputs are one line request; tokio waits on its file descriptor, so the
//! daemon sleeps in the kernel until an edge. Edges carry the kernel's
//! CLOCK_MONOTONIC timestamp, the daemon's time line.

use std::path::Path;
use std::time::Duration;

use gpiocdev::line::{Bias, EdgeDetection, EdgeKind, Value};
use gpiocdev::tokio::AsyncRequest;

use super::led::LedOutput;
use super::{EdgeSource, GpioSettings, InputError, LedPin, Pull};

use crate::model::{BoxFuture, Edge, InputId, Level, StartingLevels};

/// The open line request.
pub struct GpiocdevSource {
    request: AsyncRequest,
    button_line: u32,
    starting: StartingLevels,
}

fn bias(pull: Pull) -> Bias {
    match pull {
        Pull::Up => Bias::PullUp,
        Pull::Down => Bias::PullDown,
        Pull::Off => Bias::Disabled,
    }
}

fn level(value: Value) -> Level {
    // No active-low flag is set, so active means electrically high.
    match value {
        Value::Active => Level::High,
        Value::Inactive => Level::Low,
    }
}

fn chip_error(chip: &str, err: gpiocdev::Error) -> InputError {
    match err {
        gpiocdev::Error::GpioChip(path, kind) => InputError::Chip {
            chip: path.display().to_string(),
            cause: std::io::Error::other(kind.to_string()),
        },
        other => InputError::Gpio(format!(
            "{chip}: {other}; check that the pins are free (`gpioinfo` shows who holds them) and that this user may open {chip} (the `gpio` group)"
        )),
    }
}

impl GpiocdevSource {
    /// Requests the button and arm switch lines on the configured chip.
    pub fn open(gpio: &GpioSettings) -> Result<GpiocdevSource, InputError> {
        let chip = gpio.chip.display().to_string();
        // Opened once here for the io::Error's kind, which gpiocdev's own error does
        // not keep: a chip that is missing or not yet accessible (udev at boot) is
        // worth waiting for, anything else is not (daemon::inputs).
        if let Err(cause) = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&gpio.chip)
        {
            return Err(match cause.kind() {
                std::io::ErrorKind::PermissionDenied => InputError::PermissionDenied(chip),
                _ => InputError::Chip { chip, cause },
            });
        }
        let mut builder = gpiocdev::Request::builder();
        builder.on_chip(&gpio.chip).with_consumer("daas");
        builder
            .with_line(gpio.button.pin)
            .as_input()
            .with_bias(bias(gpio.button.pull))
            .with_edge_detection(EdgeDetection::BothEdges);
        if let Some(arm) = &gpio.arm {
            builder
                .with_line(arm.pin)
                .as_input()
                .with_bias(bias(arm.pull))
                .with_edge_detection(EdgeDetection::BothEdges);
        }
        let request = builder.request().map_err(|e| chip_error(&chip, e))?;
        let read = |line: u32| {
            request
                .value(line)
                .map(level)
                .map_err(|e| chip_error(&chip, e))
        };
        let starting = StartingLevels {
            button: read(gpio.button.pin)?,
            arm: gpio.arm.map(|arm| read(arm.pin)).transpose()?,
        };
        Ok(GpiocdevSource {
            request: AsyncRequest::new(request),
            button_line: gpio.button.pin,
            starting,
        })
    }
}

impl EdgeSource for GpiocdevSource {
    fn starting_levels(&self) -> StartingLevels {
        self.starting
    }

    fn next_edge(&mut self) -> BoxFuture<'_, Option<Result<Edge, InputError>>> {
        Box::pin(async move {
            let event = match self.request.read_edge_event().await {
                Ok(event) => event,
                Err(err) => {
                    return Some(Err(InputError::Gpio(format!("reading a GPIO edge: {err}"))));
                }
            };
            let input = if event.offset == self.button_line {
                InputId::Button
            } else {
                InputId::Arm
            };
            let level = match event.kind {
                EdgeKind::Rising => Level::High,
                EdgeKind::Falling => Level::Low,
            };
            Some(Ok(Edge {
                input,
                level,
                at: Duration::from_nanos(event.timestamp_ns),
            }))
        })
    }
}

/// The feedback LED as an output line, in its own request on the chip.
pub struct GpiocdevLed {
    request: gpiocdev::Request,
    led: LedPin,
}

fn value(level: Level) -> Value {
    match level {
        Level::High => Value::Active,
        Level::Low => Value::Inactive,
    }
}

impl GpiocdevLed {
    /// Requests the LED's line as an output, off.
    pub fn open(chip: &Path, led: LedPin) -> Result<GpiocdevLed, InputError> {
        let name = chip.display().to_string();
        let request = gpiocdev::Request::builder()
            .on_chip(chip)
            .with_consumer("daas-led")
            .with_line(led.pin)
            .as_output(value(super::led::level_for(led, false)))
            .request()
            .map_err(|e| chip_error(&name, e))?;
        Ok(GpiocdevLed { request, led })
    }
}

impl LedOutput for GpiocdevLed {
    fn set(&mut self, on: bool) -> Result<(), InputError> {
        self.request
            .set_value(self.led.pin, value(super::led::level_for(self.led, on)))
            .map(|_| ())
            .map_err(|e| InputError::Gpio(format!("setting the LED on GPIO {}: {e}", self.led.pin)))
    }
}
