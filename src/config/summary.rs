//! The summary `daas check` prints: what the config makes the device do, in a few
//! lines, with secrets redacted (sinks show only their name, type and timeout).

use std::fmt::Write;

use super::schema::{ActiveLevel, Config, GpioBackend, Pull};
use crate::model::GestureKind;

fn pull(p: Pull) -> &'static str {
    match p {
        Pull::Up => "up",
        Pull::Down => "down",
        Pull::Off => "off",
    }
}

fn active(a: ActiveLevel) -> &'static str {
    match a {
        ActiveLevel::Low => "low",
        ActiveLevel::High => "high",
    }
}

/// `ok` and one line per input, gesture and sink.
pub fn summary(c: &Config) -> String {
    let mut out = String::from("ok\n");
    // Writing to a String cannot fail.
    let _ = writeln!(out, "device: {}", c.device_name());
    let backend = match c.gpio.backend {
        GpioBackend::Rppal => "rppal".to_string(),
        GpioBackend::Gpiocdev => format!("gpiocdev on {}", c.gpio.chip.display()),
    };
    let _ = writeln!(out, "gpio: {backend}");
    let b = &c.button;
    let _ = writeln!(
        out,
        "button: GPIO {} (pull {}, active {}, debounce {} ms)",
        b.pin,
        pull(b.pull),
        active(b.active),
        b.debounce_ms
    );
    match &c.arm_switch {
        Some(a) => {
            let _ = writeln!(
                out,
                "arm switch: GPIO {} (pull {}, active {})",
                a.pin,
                pull(a.pull),
                active(a.active)
            );
        }
        None => out.push_str("arm switch: none (always armed)\n"),
    }
    if let Some(led) = &c.led {
        let _ = writeln!(out, "led: GPIO {} (active {})", led.pin, active(led.active));
    }
    for kind in GestureKind::ALL {
        if let Some(action) = c.action_for(kind) {
            let cooldown = c.actions.get(action).map_or(0, |a| a.cooldown_s);
            let _ = writeln!(
                out,
                "gesture: {} → {action} (cooldown {cooldown} s)",
                kind.name()
            );
        }
    }
    let d = &c.delivery;
    let _ = writeln!(
        out,
        "outbox: {} (retries {}..{} s apart, expire after {} s, history {} days)",
        c.daemon.state_dir.display(),
        d.backoff_initial_s,
        d.backoff_max_s,
        d.expire_after_s,
        d.history_days
    );
    let trust = match c.clock.trust {
        crate::clock::Trust::Kernel => "trusted once the kernel reports it synchronised",
        crate::clock::Trust::Always => "always trusted",
    };
    let zone = c.device.time_zone.as_deref().unwrap_or("the system's");
    let _ = writeln!(out, "wall clock: {trust}; time zone {zone}");
    if let Some(q) = &c.quiet_hours {
        let days = if q.days.is_empty() {
            "every day".to_string()
        } else {
            q.days.join(", ")
        };
        let bypass = if q.bypass.is_empty() {
            String::new()
        } else {
            format!("; {} go through", q.bypass.join(", "))
        };
        let _ = writeln!(
            out,
            "quiet hours: {} to {}, starting {days}{bypass} (presses ignored)",
            q.from, q.to
        );
    }
    for sink in &c.sinks {
        let _ = writeln!(
            out,
            "sink: {} ({}, timeout {} s)",
            sink.name(),
            sink.type_name(),
            sink.timeout_s()
        );
    }
    let r = &c.register;
    if let (Some(server), Some(zone)) = (&r.server, &r.zone) {
        let key = r.key_file.as_ref().map_or("no key_file".to_string(), |k| {
            format!("key {}", k.display())
        });
        let _ = writeln!(out, "register: dns {zone} via {server} ({key})");
    }
    // Not the URL: it may carry the control agent's password.
    if let (Some(_), Some(id)) = (&r.kea_url, r.subnet_id) {
        let _ = writeln!(out, "register: kea subnet {id}");
    }
    out
}
