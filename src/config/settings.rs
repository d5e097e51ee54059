//! The config as the parts of daas need it. Nothing downstream of `config` takes the
//! TOML structs: each part gets its own settings, made here once from a valid config,
//! so the schema can change shape without touching the cores, and no core depends on
//! the config module (DESIGN.md: `config/` produces Settings).

use std::path::PathBuf;
use std::time::Duration;

use super::schema::{Config, InputPin};
use crate::clock::Trust;
use crate::core::announce::{ActionTexts, Actions};
use crate::core::delivery::Policy;
use crate::core::pipeline::{InputSettings, MappedAction, PipelineSettings};
use crate::gpio::{GpioSettings, LedPin, PinSettings};
use crate::model::GestureKind;

/// Everything the daemon and the commands need, from one valid config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub gpio: GpioSettings,
    pub pipeline: PipelineSettings,
    pub actions: Actions,
    pub delivery: Policy,
    /// How long finished history stays in the outbox.
    pub history: Duration,
    pub trust: Trust,
    /// The doughnut rota, if there is one.
    pub rota: Option<crate::core::schedule::Rota>,
    /// The zone messages and quiet hours read the wall clock in.
    pub time_zone: jiff::tz::TimeZone,
    /// Where the outbox lives (`--state-dir` overrides it).
    pub state_dir: PathBuf,
}

impl Settings {
    /// The settings of a valid config (one [`super::parse`] returned).
    pub fn of(config: &Config) -> Settings {
        let pipeline = PipelineSettings {
            button: input(&config.button.pin(), config.button.debounce_ms),
            arm: config
                .arm_switch
                .as_ref()
                .map(|arm| input(&arm.pin(), arm.debounce_ms)),
            timing: config.gesture_timing(),
            press: mapped(config, GestureKind::Press),
            long_press: mapped(config, GestureKind::LongPress),
            double_press: mapped(config, GestureKind::DoublePress),
            // A valid config's rule parses.
            quiet: config.quiet_hours.as_ref().and_then(|q| q.rule().ok()),
        };
        let gpio = GpioSettings {
            backend: config.gpio.backend,
            chip: config.gpio.chip.clone(),
            button: config.button.pin(),
            arm: config.arm_switch.as_ref().map(|arm| arm.pin()),
            led: config.led.as_ref().map(|led| LedPin {
                pin: led.pin,
                active: led.active.into(),
            }),
            long_hold: Duration::from_millis(config.gestures.long_press_ms + 200),
        };
        let texts = config
            .actions
            .iter()
            .map(|(name, action)| {
                let texts = ActionTexts {
                    subject: action.subject.clone(),
                    body: action.body.clone(),
                };
                (name.clone(), texts)
            })
            .collect();
        let d = &config.delivery;
        Settings {
            gpio,
            pipeline,
            actions: Actions {
                device: config.device_name().to_string(),
                texts,
            },
            delivery: Policy {
                initial: Duration::from_secs(d.backoff_initial_s),
                max: Duration::from_secs(d.backoff_max_s),
                expire_after: Duration::from_secs(d.expire_after_s),
            },
            history: Duration::from_secs(d.history_days.saturating_mul(86_400)),
            trust: config.clock.trust,
            // A valid config's rota parses.
            rota: config.rota.as_ref().and_then(|r| r.rota().ok()),
            // A valid config's zone is known; the system's otherwise.
            time_zone: super::quiet::time_zone(config.device.time_zone.as_deref())
                .unwrap_or_else(|_| jiff::tz::TimeZone::system()),
            state_dir: config.daemon.state_dir.clone(),
        }
    }
}

fn input(pin: &PinSettings, debounce_ms: u64) -> InputSettings {
    InputSettings {
        debounce: Duration::from_millis(debounce_ms),
        active: pin.active,
    }
}

fn mapped(config: &Config, kind: GestureKind) -> Option<MappedAction> {
    let name = config.action_for(kind)?;
    let cooldown = config.actions.get(name).map_or(0, |a| a.cooldown_s);
    Some(MappedAction {
        name: name.to_string(),
        cooldown: Duration::from_secs(cooldown),
    })
}
