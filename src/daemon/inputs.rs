//! Opening the input backend at start-up, waiting a bounded time for a device that is
//! not usable yet.
//!
//! At boot systemd may start daas before udev has finished with `/dev/gpiochipN`:
//! the node exists as root-only until udev's rule gives it to group `gpio` (seen on
//! Debian's 6.12 arm64 kernel in two of three boots), or it does not exist yet while
//! its driver probes. Failing then costs a logged failure and a press lost until
//! systemd's restart 5 s later; so start-up retries those two causes, and only
//! those, for [`DEVICE_PATIENCE`], saying once what it waits for. systemd has no
//! ordering that fits: the chip is named in the config, not in the unit, and
//! `systemd-udev-settle` is deprecated.

use std::time::{Duration, Instant};

use crate::gpio::gpiocdev::GpiocdevSource;
use crate::gpio::rppal::RppalSource;
use crate::gpio::sim::SimSource;
use crate::gpio::{EdgeSource, GpioBackend, GpioSettings, InputError};

/// How long start-up waits for a GPIO device that is missing or not yet accessible:
/// udev is done within seconds of boot even on a Pi Zero; a wrong `[gpio] chip` or a
/// user missing from group `gpio` still fails, just this much later.
pub const DEVICE_PATIENCE: Duration = Duration::from_secs(20);

/// How often the device is tried again while waiting (start-up only).
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// Opens the configured input backend (or the simulated button). Started by systemd
/// (`NOTIFY_SOCKET` set: the service, possibly at boot) it waits up to
/// [`DEVICE_PATIENCE`] for a device that udev has not set up yet; started by a person
/// it fails at once, as a wrong chip or a missing group is then the likely cause.
pub fn open_source(gpio: &GpioSettings, simulate: bool) -> Result<Box<dyn EdgeSource>, InputError> {
    if simulate {
        return Ok(Box::new(SimSource::open(gpio)?));
    }
    let patience = if std::env::var_os("NOTIFY_SOCKET").is_some() {
        DEVICE_PATIENCE
    } else {
        Duration::ZERO
    };
    open_waiting(patience, RETRY_EVERY, || {
        Ok(match gpio.backend {
            GpioBackend::Rppal => Box::new(RppalSource::open(gpio)?) as Box<dyn EdgeSource>,
            GpioBackend::Gpiocdev => Box::new(GpiocdevSource::open(gpio)?),
        })
    })
}

/// Calls `open` until it succeeds, fails for a cause waiting cannot cure, or
/// `patience` has passed; logs the wait once when it starts and once when it ends.
pub fn open_waiting<T>(
    patience: Duration,
    retry_every: Duration,
    mut open: impl FnMut() -> Result<T, InputError>,
) -> Result<T, InputError> {
    let started = Instant::now();
    let mut waiting = false;
    loop {
        match open() {
            Ok(opened) => {
                if waiting {
                    log::info!(
                        "the GPIO device is usable after {} ms",
                        started.elapsed().as_millis()
                    );
                }
                return Ok(opened);
            }
            Err(err) if err.may_clear_at_boot() && started.elapsed() < patience => {
                if !waiting {
                    log::warn!(
                        "{err} — waiting up to {} s: at boot udev may still be setting the device up",
                        patience.as_secs()
                    );
                    waiting = true;
                }
                std::thread::sleep(retry_every);
            }
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied() -> InputError {
        InputError::PermissionDenied("/dev/gpiochip0".into())
    }

    #[test]
    fn a_device_that_becomes_accessible_is_opened_without_an_error() {
        let mut tries = 0;
        let opened = open_waiting(Duration::from_secs(5), Duration::from_millis(1), || {
            tries += 1;
            if tries < 3 { Err(denied()) } else { Ok(tries) }
        });
        assert_eq!(opened.expect("opened once accessible"), 3);
    }

    #[test]
    fn a_missing_chip_is_waited_for_too() {
        let mut tries = 0;
        let opened = open_waiting(Duration::from_secs(5), Duration::from_millis(1), || {
            tries += 1;
            if tries < 2 {
                Err(InputError::Chip {
                    chip: "/dev/gpiochip0".into(),
                    cause: std::io::ErrorKind::NotFound.into(),
                })
            } else {
                Ok(())
            }
        });
        assert!(opened.is_ok());
        assert_eq!(tries, 2);
    }

    #[test]
    fn a_cause_waiting_cannot_cure_fails_at_once() {
        let mut tries = 0;
        let result: Result<(), _> =
            open_waiting(Duration::from_secs(60), Duration::from_millis(1), || {
                tries += 1;
                Err(InputError::PinBusy { pin: 17 })
            });
        assert!(matches!(result, Err(InputError::PinBusy { pin: 17 })));
        assert_eq!(tries, 1);
    }

    #[test]
    fn a_device_that_stays_denied_fails_after_the_patience_with_its_own_error() {
        let result: Result<(), _> =
            open_waiting(Duration::from_millis(30), Duration::from_millis(5), || {
                Err(denied())
            });
        let err = result.expect_err("gives up");
        assert!(
            err.to_string()
                .contains("permission denied opening /dev/gpiochip0"),
            "{err}"
        );
    }
}
