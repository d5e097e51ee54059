//! Config loading: good files, and errors that name file, line, column and the fix.

use super::*;

fn err(text: &str) -> String {
    match parse(text, "c.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(err) => err.to_string(),
    }
}

const MINIMAL: &str = r#"
[button]
pin = 17

[gestures]
press = "arrival"

[actions.arrival]
subject = "Doughnuts!"
body = "At {time}."

[[sinks]]
type = "console"
name = "console"
"#;

#[test]
fn minimal_config_gets_documented_defaults() {
    let c = parse(MINIMAL, "c.toml").expect("valid");
    assert_eq!(c.gpio.backend, GpioBackend::Rppal);
    assert_eq!(c.button.pull, Pull::Up);
    assert_eq!(c.button.active, ActiveLevel::Low);
    assert_eq!(c.button.debounce_ms, 20);
    assert_eq!(c.gestures.long_press_ms, 1500);
    assert!(c.arm_switch.is_none());
    assert!(!c.device_name().is_empty(), "defaults to the hostname");
}

#[test]
fn built_in_config_is_valid() {
    let c = built_in().expect("valid").config;
    assert_eq!(c.button.pin, 17);
    assert_eq!(
        c.action_for(crate::model::GestureKind::Press),
        Some("arrival")
    );
}

#[test]
fn misspelt_key_names_place_and_allowed_keys() {
    let text = MINIMAL.replace("pin = 17", "pin = 17\ndebounce = 5");
    assert_eq!(
        err(&text),
        "c.toml:4:1: unknown key `debounce`; the keys allowed here are `pin`, `pull`, `active`, `debounce_ms`"
    );
}

#[test]
fn wrong_enum_value_lists_the_choices() {
    let text = MINIMAL.replace("pin = 17", "pin = 17\npull = \"sideways\"");
    let e = err(&text);
    assert!(
        e.starts_with("c.toml:4:8: `sideways` is not one of "),
        "{e}"
    );
    assert!(e.contains("`up`, `down`, `off`"), "{e}");
}

#[test]
fn two_inputs_on_one_pin_name_both_keys() {
    let text = format!("{MINIMAL}\n[arm_switch]\npin = 17\n");
    assert_eq!(
        err(&text),
        "c.toml:17:1: `arm_switch.pin` and `button.pin` are both GPIO 17; each input needs its own pin"
    );
}

#[test]
fn pins_must_be_on_the_header() {
    let e = err(&MINIMAL.replace("pin = 17", "pin = 40"));
    assert_eq!(
        e,
        "c.toml:3:1: `button.pin` = 40 is not a GPIO on the Pi's header; use a BCM GPIO number 0..=27 (GPIO 17 is physical pin 11)"
    );
}

#[test]
fn gesture_must_name_a_defined_action() {
    let e = err(&MINIMAL.replace("press = \"arrival\"", "press = \"arival\""));
    assert_eq!(
        e,
        "c.toml:6:1: `gestures.press` names action \"arival\", which has no [actions.arival] table; defined actions are \"arrival\""
    );
}

#[test]
fn unknown_placeholder_is_named() {
    let e = err(&MINIMAL.replace("At {time}.", "At {hour}."));
    assert!(
        e.starts_with("c.toml:10:1: `actions.arrival.body`: unknown placeholder `{hour}`"),
        "{e}"
    );
}

#[test]
fn durations_out_of_range_say_the_range() {
    let e = err(&MINIMAL.replace("pin = 17", "pin = 17\ndebounce_ms = 0"));
    assert_eq!(
        e,
        "c.toml:4:1: `button.debounce_ms` = 0 is out of range; use 1..=1000 milliseconds"
    );
    let e = err(&MINIMAL.replace(
        "press = \"arrival\"",
        "press = \"arrival\"\nlong_press_ms = 50",
    ));
    assert!(
        e.contains("`gestures.long_press_ms` = 50 is out of range"),
        "{e}"
    );
}

#[test]
fn sink_names_are_unique() {
    let text = format!("{MINIMAL}\n[[sinks]]\ntype = \"console\"\nname = \"console\"\n");
    let e = err(&text);
    assert_eq!(
        e,
        "c.toml:18:1: sink name \"console\" is used by sinks 1 and 2; sink names must be unique"
    );
}

#[test]
fn unknown_sink_type_is_named() {
    let e = err(&MINIMAL.replace("type = \"console\"", "type = \"pager\""));
    assert!(e.contains("`pager` is not one of `console`"), "{e}");
}

#[test]
fn no_sinks_and_no_gestures_are_errors() {
    let text = MINIMAL.replace("[[sinks]]\ntype = \"console\"\nname = \"console\"\n", "");
    assert!(err(&text).contains("no [[sinks]] entry"));
    let text = MINIMAL.replace("press = \"arrival\"", "");
    assert!(err(&text).contains("no gesture is mapped"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = MINIMAL.replace("pin = 17", "pin = 30\ndebounce_ms = 5000");
    assert_eq!(err(&text).lines().count(), 2);
}

#[test]
fn example_config_is_valid() {
    let text = include_str!("../../config.example.toml");
    parse(text, "config.example.toml").expect("config.example.toml must always pass");
}

/// The commented sink examples in config.example.toml, uncommented, are valid too.
#[test]
fn example_sink_and_register_blocks_are_valid_when_uncommented() {
    let text = include_str!("../../config.example.toml");
    let (head, sinks) = text
        .split_once("# Every sink below")
        .expect("the sink examples section");
    let uncommented: String = sinks
        .lines()
        .map(|line| {
            let code = line.strip_prefix("# ").unwrap_or("");
            let looks_like_toml = code == "[[sinks]]"
                || code == "[register]"
                || code
                    .split_once(" = ")
                    .is_some_and(|(k, _)| !k.contains(' '));
            if looks_like_toml {
                format!("{code}\n")
            } else {
                String::new()
            }
        })
        .collect();
    let config = parse(&format!("{head}\n{uncommented}"), "config.example.toml")
        .expect("uncommented examples are valid");
    let types: Vec<_> = config.sinks.iter().map(|s| s.type_name()).collect();
    assert_eq!(
        types,
        [
            "console",
            "email",
            "slack",
            "mattermost",
            "teams",
            "discord",
            "google_chat",
            "webhook"
        ]
    );
    assert_eq!(config.register.zone.as_deref(), Some("lab.example.org"));
    assert_eq!(config.register.subnet_id, Some(1));
}

/// Regression: "cannot read config adir: Is a directory (os error 21); give the right
/// file with --config PATH: Is a directory (os error 21)" — the cause said twice.
#[test]
fn a_config_that_cannot_be_read_says_the_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = load(dir.path()).expect_err("a directory");
    let text = err.to_string();
    assert_eq!(text.matches("os error 21").count(), 1, "{text}");
    assert!(
        std::error::Error::source(&err).is_none(),
        "the cause is in the message"
    );
    assert!(
        text.ends_with("give the right file with --config PATH"),
        "{text}"
    );
}

/// Regression: a Latin-1 config said "stream did not contain valid UTF-8", twice,
/// with no place.
#[test]
fn a_config_that_is_not_utf8_points_at_the_first_bad_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, b"[button]\npin = 17\n# caf\xe9\n").expect("write");
    let text = load(&path).expect_err("not UTF-8").to_string();
    assert_eq!(
        text,
        format!(
            "{}:3:6: byte 0xE9 is not UTF-8 text; save the file as UTF-8 (an editor's \"encoding\" setting)",
            path.display()
        )
    );
}

/// Regression: "invalid value: integer `-1`, expected u32" — Rust's words, not the lab's.
#[test]
fn type_errors_are_said_without_rust_jargon() {
    for (value, said) in [
        (
            "-1",
            "-1 is out of range: give a whole number from 0 to 4294967295",
        ),
        ("\"x\"", "expected a whole number, found the text \"x\""),
        ("1.5", "expected a whole number, found 1.5"),
        (
            "99999999999",
            "99999999999 is out of range: give a whole number from 0 to 4294967295",
        ),
    ] {
        let e = err(&MINIMAL.replace("pin = 17", &format!("pin = {value}")));
        assert_eq!(e, format!("c.toml:3:7: {said}"));
        for jargon in ["u32", "i128", "invalid type", "invalid value"] {
            assert!(!e.contains(jargon), "{e}");
        }
    }
}

/// Regression: a second [button] table was reported as "duplicate key".
#[test]
fn a_duplicated_table_is_named_as_such() {
    let text = MINIMAL.replace("[gestures]", "[button]\npin = 18\n\n[gestures]");
    assert_eq!(
        err(&text),
        "c.toml:5:2: the [button] table is given twice; merge the two into one"
    );
}

#[test]
fn a_debounce_not_shorter_than_the_long_press_is_refused() {
    let text = MINIMAL
        .replace("pin = 17", "pin = 17\ndebounce_ms = 600")
        .replace(
            "press = \"arrival\"",
            "press = \"arrival\"\nlong_press = \"arrival\"\nlong_press_ms = 500",
        );
    let e = err(&text);
    assert!(
        e.starts_with("c.toml:4:1: `button.debounce_ms` = 600 is not shorter than `gestures.long_press_ms` = 500"),
        "{e}"
    );
}
