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
use super::{BuildError, ConfiguredSink, Sink, SinkError, chat, console, email, webhook};

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

    /// Problems that need no secret, found when the config is read: causes that
    /// [`SinkTable::build`] would find too, in the same words. A type with such checks
    /// overrides this.
    fn problems(&self) -> Vec<SinkError> {
        Vec::new()
    }

    /// The sink, from the table and its resolved secrets (in the order of
    /// [`SinkTable::secrets`]).
    fn build(&self, secrets: Vec<Secret>, timeout: Duration) -> Result<Arc<dyn Sink>, SinkError>;
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
pub fn build(entry: &SinkConfig) -> Result<ConfiguredSink, SinkError> {
    let table = entry.table();
    let secrets = table
        .secrets()
        .iter()
        .map(secret::resolve)
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = Duration::from_secs(table.timeout_s());
    let sink = table.build(secrets, timeout)?;
    Ok(ConfiguredSink { sink, timeout })
}

/// `cause` as the error of the `index`th `[[sinks]]` table, `entry`: with the key it is
/// about as written there, so a secret's problem points at its `url_file` or
/// `password_env` line.
pub(super) fn build_error(index: usize, entry: &SinkConfig, cause: SinkError) -> BuildError {
    let table = entry.table();
    let key = cause.key().and_then(|key| {
        match table.secrets().into_iter().find(|spec| spec.key == key) {
            Some(spec) => spec.written_key(),
            None => Some(key.to_string()),
        }
    });
    BuildError {
        index,
        sink: table.name().to_string(),
        kind: table.type_name(),
        key,
        cause: Box::new(cause),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn slack(url: &str) -> SinkConfig {
        let text = format!("type = \"slack\"\nname = \"lab\"\n{url}\n");
        toml::from_str(&text).expect("a slack table")
    }

    /// The error of the table at index 3, after building it.
    fn error_of(entry: &SinkConfig) -> BuildError {
        let cause = build(entry).err().expect("does not build");
        build_error(3, entry, cause)
    }

    #[test]
    fn a_secret_error_points_at_the_key_the_secret_is_written_as() {
        let err = error_of(&slack("url_file = \"/nonexistent/url\""));
        assert_eq!((err.index, err.key.as_deref()), (3, Some("url_file")));
        let err = error_of(&slack("url_env = \"DAAS_TEST_SURELY_UNSET\""));
        assert_eq!(err.key.as_deref(), Some("url_env"));
        let err = error_of(&slack("url = \"ftp://example.org/x\""));
        assert_eq!(err.key.as_deref(), Some("url"));
        // No `url` at all: nothing to point at but the table.
        let err = error_of(&slack(""));
        assert_eq!(err.key, None);
        assert_eq!(
            err.to_string(),
            "sink \"lab\" (slack): no `url`; give one of `url`, `url_file` or `url_env`"
        );
    }

    #[test]
    fn other_errors_point_at_their_own_key_and_say_their_cause_once() {
        let err = error_of(&slack(
            "url = \"https://example.org/hook\"\nca_file = \"/nonexistent/ca.pem\"",
        ));
        assert_eq!(err.key.as_deref(), Some("ca_file"));
        assert!(
            err.to_string()
                .starts_with("sink \"lab\" (slack): cannot read `ca_file` /nonexistent/ca.pem: "),
            "{err}"
        );
        // The cause is in the message; as a source too, main would print it twice.
        assert!(err.source().is_none());
        assert!(err.cause.source().is_none(), "{:?}", err.cause.source());
    }
}
