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
pub mod registry;
pub mod secret;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use crate::model::Announcement;
use crate::model::BoxFuture;
pub use registry::{SinkConfig, build};

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

    /// Opens what the sink keeps for the daemon's whole run — a long-lived session such
    /// as an MQTT broker connection with its last will. Called once when the daemon
    /// starts, before any send; it must not wait on the network for long (a session
    /// connects in the background), as the daemon waits for every sink's start
    /// before it says it is ready. Default: nothing to open (one connection per send).
    fn start(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// Delivers one announcement. Must be safe to call again with the same
    /// announcement after a failure (its id stays the same).
    fn send<'a>(&'a self, announcement: &'a Announcement) -> BoxFuture<'a, Result<(), SendError>>;

    /// Closes what [`Sink::start`] opened (a clean disconnect) when the daemon stops,
    /// after the last send. Default: nothing.
    fn stop(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A sink with the timeout its sends get.
#[derive(Clone)]
pub struct ConfiguredSink {
    pub sink: Arc<dyn Sink>,
    pub timeout: Duration,
}

impl ConfiguredSink {
    /// One send under the sink's timeout: a server that never answers is a retryable
    /// failure after `timeout_s`, the same for every sink type.
    pub async fn send(&self, announcement: &Announcement) -> Result<(), SendError> {
        match tokio::time::timeout(self.timeout, self.sink.send(announcement)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Retryable {
                message: format!("no answer within {} s (timeout_s)", self.timeout.as_secs()),
                retry_after: None,
            }),
        }
    }
}

/// A sink that cannot be built from its config (an unreadable secret, a bad URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sink \"{sink}\" ({kind}): {message}")]
pub struct BuildError {
    pub sink: String,
    pub kind: &'static str,
    pub message: String,
}

/// Builds every configured sink.
pub fn from_config(entries: &[SinkConfig]) -> Result<Vec<ConfiguredSink>, BuildError> {
    entries.iter().map(build).collect()
}
