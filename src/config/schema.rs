//! The config file's shape: every table and key, their defaults, and nothing else
//! (unknown keys are rejected by serde, with the allowed keys named).
//!
//! `config.example.toml` documents each key for people; this file is its twin for
//! the program. Meaning beyond types (ranges, cross references) is in `validate.rs`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

pub use super::register::Register;
pub use super::sinks::*;
pub use crate::gpio::{GpioBackend, Pull};

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub device: Device,
    #[serde(default)]
    pub gpio: Gpio,
    pub button: Button,
    pub arm_switch: Option<ArmSwitch>,
    pub led: Option<Led>,
    pub gestures: Gestures,
    pub quiet_hours: Option<super::quiet::QuietHoursConfig>,
    pub rota: Option<super::rota::RotaConfig>,
    #[serde(default)]
    pub actions: BTreeMap<String, Action>,
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    #[serde(default)]
    pub daemon: Daemon,
    #[serde(default)]
    pub delivery: Delivery,
    #[serde(default)]
    pub clock: ClockConfig,
    #[serde(default)]
    pub register: Register,
}

/// `[daemon]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Daemon {
    /// Where the outbox database lives (`--state-dir` overrides it).
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            state_dir: default_state_dir(),
        }
    }
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/daas")
}

/// `[delivery]`: retries and history.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// The first retry comes after about this long (full jitter around it).
    #[serde(default = "default_backoff_initial_s")]
    pub backoff_initial_s: u64,
    /// Retries are never further apart than this (unless a server's Retry-After says so).
    #[serde(default = "default_backoff_max_s")]
    pub backoff_max_s: u64,
    /// A delivery still pending this long after its announcement is given up as expired:
    /// stale doughnut news is worse than none.
    #[serde(default = "default_expire_after_s")]
    pub expire_after_s: u64,
    /// Finished announcements are kept this long for `daas status`.
    #[serde(default = "default_history_days")]
    pub history_days: u64,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            backoff_initial_s: default_backoff_initial_s(),
            backoff_max_s: default_backoff_max_s(),
            expire_after_s: default_expire_after_s(),
            history_days: default_history_days(),
        }
    }
}

fn default_backoff_initial_s() -> u64 {
    2
}

fn default_backoff_max_s() -> u64 {
    300
}

fn default_expire_after_s() -> u64 {
    7200
}

fn default_history_days() -> u64 {
    90
}

/// `[clock]`: when the wall clock counts as right (see [`crate::clock`]).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    #[serde(default)]
    pub trust: crate::clock::Trust,
}

/// `[device]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Shown in messages; the hostname when absent.
    pub name: Option<String>,
    /// The IANA time zone for messages and quiet hours; the system's when absent.
    pub time_zone: Option<String>,
}

/// `[gpio]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpio {
    #[serde(default)]
    pub backend: GpioBackend,
    #[serde(default = "default_chip")]
    pub chip: PathBuf,
}

impl Default for Gpio {
    fn default() -> Self {
        Gpio {
            backend: GpioBackend::default(),
            chip: default_chip(),
        }
    }
}

fn default_chip() -> PathBuf {
    PathBuf::from("/dev/gpiochip0")
}

/// An electrical level, as written in the config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActiveLevel {
    #[default]
    Low,
    High,
}

/// `[button]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Button {
    pub pin: u32,
    #[serde(default)]
    pub pull: Pull,
    #[serde(default)]
    pub active: ActiveLevel,
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
}

/// `[arm_switch]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSwitch {
    pub pin: u32,
    #[serde(default)]
    pub pull: Pull,
    #[serde(default)]
    pub active: ActiveLevel,
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
}

/// An input's pin settings, from `[button]` or `[arm_switch]`.
pub trait InputPin {
    fn pin(&self) -> crate::gpio::PinSettings;
}

impl InputPin for Button {
    fn pin(&self) -> crate::gpio::PinSettings {
        crate::gpio::PinSettings {
            pin: self.pin,
            pull: self.pull,
            active: self.active.into(),
        }
    }
}

impl InputPin for ArmSwitch {
    fn pin(&self) -> crate::gpio::PinSettings {
        crate::gpio::PinSettings {
            pin: self.pin,
            pull: self.pull,
            active: self.active.into(),
        }
    }
}

/// `[led]`: the feedback LED (usually the one inside the big red button).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Led {
    pub pin: u32,
    /// The level that lights it: `high` for an LED from the pin through a resistor to
    /// ground (the usual wiring), `low` for one from 3.3 V to the pin.
    #[serde(default = "led_active_default")]
    pub active: ActiveLevel,
}

fn led_active_default() -> ActiveLevel {
    ActiveLevel::High
}

fn default_debounce_ms() -> u64 {
    20
}

/// `[gestures]`: gesture → action name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gestures {
    pub press: Option<String>,
    pub long_press: Option<String>,
    pub double_press: Option<String>,
    #[serde(default = "default_long_press_ms")]
    pub long_press_ms: u64,
    #[serde(default = "default_double_press_gap_ms")]
    pub double_press_gap_ms: u64,
}

fn default_long_press_ms() -> u64 {
    1500
}

fn default_double_press_gap_ms() -> u64 {
    400
}

/// `[actions.NAME]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub subject: String,
    pub body: String,
    /// A second trigger within this many seconds is ignored.
    #[serde(default)]
    pub cooldown_s: u64,
}
