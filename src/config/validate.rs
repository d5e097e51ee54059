//! Meaning beyond types: ranges, distinct pins, gestures that name real actions,
//! templates with known placeholders, unique sink names.
//!
//! Each problem carries the key path it is about, so the loader can point at the
//! line and column in the file.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use super::schema::{Action, Config};
use crate::core::template;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPart {
    Key(String),
    Index(usize),
}

/// Something wrong with a config, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<KeyPart>,
    pub message: String,
}

/// The highest BCM GPIO number on the Pi's 40-pin header.
const MAX_BCM_PIN: u32 = 27;

fn path(parts: &[&str]) -> Vec<KeyPart> {
    parts.iter().map(|p| KeyPart::Key(p.to_string())).collect()
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, path: Vec<KeyPart>, message: String) {
        self.problems.push(Problem { path, message });
    }

    fn range(&mut self, parts: &[&str], value: u64, allowed: RangeInclusive<u64>, unit: &str) {
        if !allowed.contains(&value) {
            self.fail(
                path(parts),
                format!(
                    "`{}` = {value} is out of range; use {}..={} {unit}",
                    parts.join("."),
                    allowed.start(),
                    allowed.end()
                ),
            );
        }
    }

    fn pin(&mut self, parts: &[&str], pin: u32) {
        if pin > MAX_BCM_PIN {
            self.fail(
                path(parts),
                format!(
                    "`{}` = {pin} is not a GPIO on the Pi's header; use a BCM GPIO number 0..={MAX_BCM_PIN} (GPIO 17 is physical pin 11)",
                    parts.join(".")
                ),
            );
        }
    }

    fn action_templates(&mut self, name: &str, action: &Action) {
        for (key, text) in [("subject", &action.subject), ("body", &action.body)] {
            if let Err(err) = template::check(text) {
                self.fail(
                    path(&["actions", name, key]),
                    format!("`actions.{name}.{key}`: {err}"),
                );
            }
        }
        if action.subject.trim().is_empty() {
            self.fail(
                path(&["actions", name, "subject"]),
                format!("`actions.{name}.subject` is empty; write the line people will see"),
            );
        }
        self.range(
            &["actions", name, "cooldown_s"],
            action.cooldown_s,
            0..=86_400,
            "seconds",
        );
    }

    fn gestures(&mut self, config: &Config) {
        let g = &config.gestures;
        let mapped = [
            ("press", &g.press),
            ("long_press", &g.long_press),
            ("double_press", &g.double_press),
        ];
        if mapped.iter().all(|(_, action)| action.is_none()) {
            self.fail(
                path(&["gestures"]),
                "no gesture is mapped; add e.g. `press = \"arrival\"` to [gestures]".to_string(),
            );
        }
        for (gesture, action) in mapped {
            let Some(action) = action else { continue };
            if !config.actions.contains_key(action) {
                self.fail(
                    path(&["gestures", gesture]),
                    unknown_action(gesture, action, &config.actions),
                );
            }
        }
        self.range(
            &["gestures", "long_press_ms"],
            g.long_press_ms,
            100..=10_000,
            "milliseconds",
        );
        self.range(
            &["gestures", "double_press_gap_ms"],
            g.double_press_gap_ms,
            50..=2_000,
            "milliseconds",
        );
    }

    fn sinks(&mut self, config: &Config) {
        if config.sinks.is_empty() {
            self.fail(
                Vec::new(),
                "no [[sinks]] entry; add at least one, e.g. `[[sinks]]` with `type = \"console\"` and `name = \"console\"`".to_string(),
            );
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (index, sink) in config.sinks.iter().enumerate() {
            let at = |key: &str| {
                vec![
                    KeyPart::Key("sinks".into()),
                    KeyPart::Index(index),
                    KeyPart::Key(key.into()),
                ]
            };
            let name = sink.name();
            if name.trim().is_empty() {
                self.fail(
                    at("name"),
                    format!(
                        "sink {} has an empty `name`; name it, e.g. \"{}\"",
                        index + 1,
                        sink.type_name()
                    ),
                );
            } else if let Some(first) = seen.insert(name, index) {
                self.fail(
                    at("name"),
                    format!("sink name \"{name}\" is used by sinks {} and {}; sink names must be unique", first + 1, index + 1),
                );
            }
            // Every such problem is about a key; one that were not would point at
            // the table's `type`.
            for problem in sink.table().problems() {
                self.fail(at(problem.key().unwrap_or("type")), problem.to_string());
            }
            let timeout = sink.timeout_s();
            if !(1..=300).contains(&timeout) {
                self.fail(
                    at("timeout_s"),
                    format!("`timeout_s` = {timeout} is out of range; use 1..=300 seconds"),
                );
            }
        }
    }
}

fn unknown_action(gesture: &str, action: &str, actions: &BTreeMap<String, Action>) -> String {
    let defined = if actions.is_empty() {
        "none is defined".to_string()
    } else {
        let names: Vec<_> = actions.keys().map(|k| format!("\"{k}\"")).collect();
        format!("defined actions are {}", names.join(", "))
    };
    format!(
        "`gestures.{gesture}` names action \"{action}\", which has no [actions.{action}] table; {defined}"
    )
}

/// Every problem with a parsed config; empty when it is good.
pub fn validate(config: &Config) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    if config
        .device
        .name
        .as_deref()
        .is_some_and(|n| n.trim().is_empty())
    {
        c.fail(
            path(&["device", "name"]),
            "`device.name` is empty; name the place, or leave it out to use the hostname".into(),
        );
    }
    c.pin(&["button", "pin"], config.button.pin);
    c.range(
        &["button", "debounce_ms"],
        config.button.debounce_ms,
        1..=1000,
        "milliseconds",
    );
    if let Some(arm) = &config.arm_switch {
        c.pin(&["arm_switch", "pin"], arm.pin);
        c.range(
            &["arm_switch", "debounce_ms"],
            arm.debounce_ms,
            1..=1000,
            "milliseconds",
        );
        if arm.pin == config.button.pin {
            c.fail(
                path(&["arm_switch", "pin"]),
                format!(
                    "`arm_switch.pin` and `button.pin` are both GPIO {}; each input needs its own pin",
                    arm.pin
                ),
            );
        }
    }
    if let Some(led) = &config.led {
        c.pin(&["led", "pin"], led.pin);
        let inputs = [
            ("button.pin", Some(config.button.pin)),
            ("arm_switch.pin", config.arm_switch.as_ref().map(|a| a.pin)),
        ];
        for (key, pin) in inputs {
            if pin == Some(led.pin) {
                c.fail(
                    path(&["led", "pin"]),
                    format!(
                        "`led.pin` and `{key}` are both GPIO {}; the LED is an output and needs a pin of its own",
                        led.pin
                    ),
                );
            }
        }
    }
    if let Some(Err(problems)) = config.quiet_hours.as_ref().map(|q| q.rule()) {
        for problem in problems {
            c.fail(path(&["quiet_hours", problem.key]), problem.message);
        }
    }
    if let Some(rota) = &config.rota {
        if let Err(problems) = rota.rota() {
            for problem in problems {
                c.fail(problem.path, problem.message);
            }
        }
        if let Some(action) = rota.action.as_deref()
            && !config.actions.contains_key(action)
        {
            c.fail(
                path(&["rota", "action"]),
                format!(
                    "`rota.action` names action \"{action}\", which has no [actions.{action}] table"
                ),
            );
        }
    }
    if let Err(message) = super::quiet::time_zone(config.device.time_zone.as_deref()) {
        c.fail(path(&["device", "time_zone"]), message);
    }
    c.gestures(config);
    if config.gestures.long_press.is_some()
        && config.button.debounce_ms >= config.gestures.long_press_ms
    {
        c.fail(
            path(&["button", "debounce_ms"]),
            format!(
                "`button.debounce_ms` = {} is not shorter than `gestures.long_press_ms` = {}: every \
                 press would be long before it even counted as a press; make debounce_ms much \
                 shorter (20 is usual)",
                config.button.debounce_ms, config.gestures.long_press_ms
            ),
        );
    }
    for (name, action) in &config.actions {
        c.action_templates(name, action);
    }
    c.sinks(config);
    let d = &config.delivery;
    c.range(
        &["delivery", "backoff_initial_s"],
        d.backoff_initial_s,
        1..=3600,
        "seconds",
    );
    c.range(
        &["delivery", "backoff_max_s"],
        d.backoff_max_s,
        d.backoff_initial_s.max(1)..=86_400,
        "seconds (at least backoff_initial_s)",
    );
    c.range(
        &["delivery", "expire_after_s"],
        d.expire_after_s,
        1..=7 * 86_400,
        "seconds",
    );
    c.range(
        &["delivery", "history_days"],
        d.history_days,
        1..=3650,
        "days",
    );
    if let Some(ttl) = config.register.ttl {
        c.range(&["register", "ttl"], ttl.into(), 1..=7 * 86_400, "seconds");
    }
    if config.register.subnet_id == Some(0) {
        c.fail(
            path(&["register", "subnet_id"]),
            "`register.subnet_id` = 0 is not a Kea subnet id; use the `id` of the subnet in kea-dhcp4.conf (1 or more)".to_string(),
        );
    }
    c.problems
}
