//! Sinks: where announcements go. One file per family; this file has the [`Sink`]
//! trait, the classification of failures the retry logic relies on, and the
//! constructor from config.
//!
//! A sink sends one announcement and says how it went: delivered, or an error that
//! is either retryable (the network, a busy server; with the server's `Retry-After`
//! when it sent one) or permanent (a refused address, a bad credential). Timeouts are
//! not the sink's business: the dispatcher wraps every send in the sink's
//! `timeout_s`.

pub mod chat;
pub mod console;
pub mod email;
pub mod http;
pub mod secret;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use crate::announce::Announcement;
use crate::config::{Config, SinkConfig};
use crate::input::BoxFuture;

/// Why a send did not deliver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later.
    #[error("{message}")]
    Retryable {
        message: String,
        /// The server asked to wait at least this long.
        retry_after: Option<Duration>,
    },
    /// Trying again will not help; a person has to fix something.
    #[error("{message}")]
    Permanent { message: String },
}

/// A destination for announcements.
pub trait Sink: Send + Sync {
    /// The sink's unique name from the config.
    fn name(&self) -> &str;

    /// The sink's `type` from the config.
    fn kind(&self) -> &'static str;

    /// Delivers one announcement. Must be safe to call again with the same
    /// announcement after a failure (its id stays the same).
    fn send<'a>(&'a self, announcement: &'a Announcement) -> BoxFuture<'a, Result<(), SendError>>;
}

/// A sink with the timeout its sends get.
#[derive(Clone)]
pub struct ConfiguredSink {
    pub sink: Arc<dyn Sink>,
    pub timeout: Duration,
}

/// A sink that cannot be built from its config (an unreadable secret, a bad URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sink \"{sink}\" ({kind}): {message}")]
pub struct BuildError {
    pub sink: String,
    pub kind: &'static str,
    pub message: String,
}

/// Builds one configured sink, reading its secrets.
pub fn build(entry: &SinkConfig) -> Result<ConfiguredSink, BuildError> {
    let fail = |message: String| BuildError {
        sink: entry.name().to_string(),
        kind: entry.type_name(),
        message,
    };
    let mut secrets = entry
        .secrets()
        .iter()
        .map(secret::resolve)
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?
        .into_iter();
    let timeout = Duration::from_secs(entry.timeout_s());
    let sink: Arc<dyn Sink> = match entry {
        SinkConfig::Console(c) => Arc::new(console::ConsoleSink::new(&c.name)),
        SinkConfig::Email(c) => {
            Arc::new(email::EmailSink::new(c, secrets.next(), timeout).map_err(fail)?)
        }
        SinkConfig::Webhook(c) => {
            let url = secrets.next().ok_or_else(|| fail("no url".into()))?;
            Arc::new(webhook::WebhookSink::new(c, url, timeout).map_err(fail)?)
        }
        chat => {
            let url = secrets.next().ok_or_else(|| fail("no url".into()))?;
            Arc::new(chat::ChatSink::new(chat, url, timeout).map_err(fail)?)
        }
    };
    Ok(ConfiguredSink { sink, timeout })
}

/// Builds every configured sink.
pub fn from_config(config: &Config) -> Result<Vec<ConfiguredSink>, BuildError> {
    config.sinks.iter().map(build).collect()
}
