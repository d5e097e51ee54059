//! The sink registry: which `type = "…"` in a `[[sinks]]` table builds which sink.
//!
//! Each sink type lives in one file of `sinks/` with its config table (a struct that
//! implements [`SinkTable`]: its keys, its secrets, the checks that need no secret, and
//! how to build the sink) and the sink itself. Adding a sink type is that file, one
//! variant of [`SinkConfig`] and one arm in [`SinkConfig::table`] — the only `match`
//! over sink types, exhaustive, so a new variant without its arm does not compile.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::secret::{self, Secret, SecretSpec};
use super::{BuildError, ConfiguredSink, Sink, chat, console, email, webhook};

/// A `[[sinks]]` table: one variant per sink type, chosen by its `type` key.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SinkConfig {
    Console(console::ConsoleSinkConfig),
    Email(email::EmailSinkConfig),
    Slack(chat::SlackSinkConfig),
    Mattermost(chat::MattermostSinkConfig),
    Teams(chat::TeamsSinkConfig),
    Discord(chat::DiscordSinkConfig),
    GoogleChat(chat::GoogleChatSinkConfig),
    Webhook(webhook::WebhookSinkConfig),
}

impl SinkConfig {
    /// The table behind the type: the registry.
    pub fn table(&self) -> &dyn SinkTable {
        match self {
            SinkConfig::Console(t) => t,
            SinkConfig::Email(t) => t,
            SinkConfig::Slack(t) => t,
            SinkConfig::Mattermost(t) => t,
            SinkConfig::Teams(t) => t,
            SinkConfig::Discord(t) => t,
            SinkConfig::GoogleChat(t) => t,
            SinkConfig::Webhook(t) => t,
        }
    }

    /// The sink's unique name.
    pub fn name(&self) -> &str {
        self.table().name()
    }

    /// The sink's `type` as written in the config.
    pub fn type_name(&self) -> &'static str {
        self.table().type_name()
    }

    /// How long one send may take before it counts as failed (retryable).
    pub fn timeout_s(&self) -> u64 {
        self.table().timeout_s()
    }
}

/// What a sink type's config table offers: what the registry, `daas check` and the
/// daemon need to know of it.
pub trait SinkTable {
    /// The `type` it is registered under.
    fn type_name(&self) -> &'static str;

    /// Its unique `name`.
    fn name(&self) -> &str;

    /// Its `timeout_s`.
    fn timeout_s(&self) -> u64;

    /// The secrets it needs, as written (resolved before [`SinkTable::build`]).
    fn secrets(&self) -> Vec<SecretSpec> {
        Vec::new()
    }

    /// Problems that need no secret, each with the key it is about (for PATH:LINE:COL).
    fn check(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The sink, from the table and its resolved secrets (in the order of
    /// [`SinkTable::secrets`]).
    fn build(&self, secrets: Vec<Secret>, timeout: Duration) -> Result<Arc<dyn Sink>, String>;
}

/// The default `timeout_s`.
pub(crate) fn default_timeout_s() -> u64 {
    10
}

/// A `url` secret from a table's `url`, `url_file` and `url_env`.
pub(crate) fn url_secret(
    inline: &Option<String>,
    file: &Option<std::path::PathBuf>,
    env: &Option<String>,
) -> SecretSpec {
    SecretSpec {
        key: "url",
        inline: inline.clone(),
        file: file.clone(),
        env: env.clone(),
    }
}

/// Builds one configured sink, reading its secrets.
pub fn build(entry: &SinkConfig) -> Result<ConfiguredSink, BuildError> {
    let table = entry.table();
    let fail = |message: String| BuildError {
        sink: crate::quote::shown(table.name()),
        kind: table.type_name(),
        // Values a message quotes are cut: a 100 KB value must not make a 100 KB line.
        message: crate::quote::cut_quoted(&message),
    };
    let secrets = table
        .secrets()
        .iter()
        .map(secret::resolve)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| fail(err.to_string()))?;
    let timeout = Duration::from_secs(table.timeout_s());
    let sink = table.build(secrets, timeout).map_err(fail)?;
    Ok(ConfiguredSink { sink, timeout })
}
