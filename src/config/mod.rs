//! Configuration: the TOML file, loaded with errors that point at `PATH:LINE:COL`,
//! validated, and with the few values that need the machine (the hostname) resolved.
//!
//! The schema is in `schema.rs`, the semantic checks in `validate.rs`, and the error
//! locations come from re-reading the document with spans (`locate.rs`).

mod locate;
pub mod quiet;
mod register;
pub mod rota;
pub mod schema;
mod settings;
mod sinks;
pub mod summary;
pub mod validate;
mod wording;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use schema::*;
pub use settings::Settings;

use crate::core::gesture::GestureTiming;
use crate::model::Level;
use crate::sinks::BuildError;

/// Where daas looks for its config when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/daas/config.toml";

/// The config used when there is no file: button on GPIO 17, press → arrival, console.
pub const BUILT_IN: &str = r#"
[button]
pin = 17

[gestures]
press = "arrival"

[actions.arrival]
subject = "Doughnuts in the {device}!"
body = "Fresh doughnuts arrived at {time}. Come and get them."
cooldown_s = 300

[[sinks]]
type = "console"
name = "console"
"#;

/// What went wrong loading a config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause is in the message and not a `source()`: main prints the chain, and
    // each cause must be said once.
    #[error("cannot read config {}: {cause}; give the right file with --config PATH", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// One or more problems, each `PATH:LINE:COL: message`.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Located>),
}

/// A problem with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values a message quotes are cut: a 100 KB value must not make a 100 KB line.
        let message = crate::quote::cut_quoted(&self.message);
        write!(f, "{}:{}:{}: {message}", self.file, self.line, self.column)
    }
}

fn join_lines(problems: &[Located]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A loaded, valid config and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// The file, or `None` for the built-in default.
    pub path: Option<PathBuf>,
    /// The text it was read from, to point into when a later step (building the
    /// sinks) finds a problem.
    pub text: String,
}

impl Loaded {
    /// A sink that cannot be built, at its place in the file: the key the error is
    /// about, else its `[[sinks]]` table. `None` for the built-in config, which has no
    /// file to point into.
    pub fn locate_sink_error(&self, err: &BuildError) -> Option<Located> {
        let path = self.path.as_ref()?;
        let (line, column) = locate::sink_position(&self.text, err.index, err.key.as_deref());
        Some(Located {
            file: path.display().to_string(),
            line,
            column,
            // Located cuts the values it quotes, once.
            message: err.uncut(),
        })
    }
}

/// Reads and validates the config at `path`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let bytes = std::fs::read(path).map_err(|cause| ConfigError::Read {
        path: path.to_path_buf(),
        cause,
    })?;
    let file = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|err| not_utf8(&file, err))?;
    let config = parse(&text, &file)?;
    Ok(Loaded {
        config,
        path: Some(path.to_path_buf()),
        text,
    })
}

/// The built-in default config (a test proves it is valid). It is for trying daas on
/// a laptop, so its outbox lives in the user's state directory, not /var/lib/daas.
pub fn built_in() -> Result<Loaded, ConfigError> {
    let mut config = parse(BUILT_IN, "<built-in config>")?;
    config.daemon.state_dir = user_state_dir();
    Ok(Loaded {
        config,
        path: None,
        text: BUILT_IN.to_string(),
    })
}

/// `$XDG_STATE_HOME/daas`, else `~/.local/state/daas`, else a folder in the temp dir.
fn user_state_dir() -> PathBuf {
    let from_env = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(state) = from_env("XDG_STATE_HOME") {
        return state.join("daas");
    }
    if let Some(home) = from_env("HOME") {
        return home.join(".local/state/daas");
    }
    std::env::temp_dir().join("daas-state")
}

/// The place of the first byte that is not UTF-8.
fn not_utf8(file: &str, err: std::string::FromUtf8Error) -> ConfigError {
    let bytes = err.as_bytes();
    let at = err.utf8_error().valid_up_to();
    // Everything before `at` is valid UTF-8.
    let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
    let (line, column) = locate::line_column(before, before.len());
    ConfigError::Invalid(vec![Located {
        file: file.to_string(),
        line,
        column,
        message: format!(
            "byte 0x{:02X} is not UTF-8 text; save the file as UTF-8 (an editor's \"encoding\" setting)",
            bytes[at]
        ),
    }])
}

/// Parses and validates config text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let mut config: Config = toml::from_str(text).map_err(|err| {
        let start = err.span().map_or(0, |span| span.start);
        let (line, column) = locate::line_column(text, start);
        ConfigError::Invalid(vec![Located {
            file: file.to_string(),
            line,
            column,
            message: wording::plain(err.message(), text, start),
        }])
    })?;
    let problems = validate::validate(&config);
    if !problems.is_empty() {
        let located = problems
            .into_iter()
            .map(|problem| {
                let (line, column) = locate::key_position(text, &problem.path);
                Located {
                    file: file.to_string(),
                    line,
                    column,
                    message: problem.message,
                }
            })
            .collect();
        return Err(ConfigError::Invalid(located));
    }
    if config.device.name.is_none() {
        config.device.name = Some(crate::machine::hostname());
    }
    Ok(config)
}

impl From<ActiveLevel> for Level {
    fn from(level: ActiveLevel) -> Level {
        match level {
            ActiveLevel::Low => Level::Low,
            ActiveLevel::High => Level::High,
        }
    }
}

impl Config {
    /// The name shown in messages.
    pub fn device_name(&self) -> &str {
        self.device.name.as_deref().unwrap_or("kitchen")
    }

    /// Which gestures are enabled and their timing.
    pub fn gesture_timing(&self) -> GestureTiming {
        let g = &self.gestures;
        GestureTiming {
            long_press: g
                .long_press
                .as_ref()
                .map(|_| Duration::from_millis(g.long_press_ms)),
            double_gap: g
                .double_press
                .as_ref()
                .map(|_| Duration::from_millis(g.double_press_gap_ms)),
        }
    }

    /// The action mapped to a gesture, if any.
    pub fn action_for(&self, gesture: crate::model::GestureKind) -> Option<&str> {
        use crate::model::GestureKind::*;
        let g = &self.gestures;
        match gesture {
            Press => g.press.as_deref(),
            LongPress => g.long_press.as_deref(),
            DoublePress => g.double_press.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests;
