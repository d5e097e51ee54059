//! The config the sink tests start from: a device, the button on GPIO 17 with
//! `press` → `arrival`, the action's texts, and the sinks under test.

use daas::config::Config;
use daas::sinks::ConfiguredSink;

/// A valid config text: `device`, `press` → `arrival` with `subject` and `body` (as
/// TOML basic strings: `{device}` placeholders and all), then `sinks` (whole
/// `[[sinks]]` tables, or the keys of one started by the caller).
pub fn text(device: &str, subject: &str, body: &str, sinks: &str) -> String {
    format!(
        "[device]\nname = {device:?}\n[button]\npin = 17\n[gestures]\npress = \"arrival\"\n\
         [actions.arrival]\nsubject = {subject:?}\nbody = {body:?}\n{sinks}\n"
    )
}

/// `text` parsed and checked; a config that does not parse fails the test, showing it.
pub fn parse(text: &str) -> Config {
    daas::config::parse(text, "test.toml")
        .unwrap_or_else(|err| panic!("config does not parse: {err}\n{text}"))
}

/// The config's first sink, built as the daemon builds it.
pub fn first_sink(config: &Config) -> ConfiguredSink {
    daas::sinks::build(&config.sinks[0]).unwrap_or_else(|err| panic!("sink does not build: {err}"))
}
