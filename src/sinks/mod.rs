//! Sinks: where announcements go. One file per family; this file has the [`Sink`]
//! trait, the classification of failures the retry logic relies on, the constructor
//! from config and the errors of building a sink.
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
use crate::net::http::ClientError;
use crate::net::tls::TlsSetupError;
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

/// Why a sink cannot be built from its table: the cause in the words of the module that
/// found it, each a cause and its fix, none quoting a secret. The wrapped errors keep
/// their cause in the message, not as a `source()`, so the chain says it once.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// A `url` or `password` that cannot be had (`url_file` unreadable, `password_env`
    /// unset…).
    #[error(transparent)]
    Secret(#[from] secret::SecretError),
    /// A chat or webhook `url` that is not an http(s) address.
    #[error(transparent)]
    Url(#[from] http::UrlError),
    /// No HTTP client for a chat or webhook sink (its `ca_file`).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A webhook's `headers` or `body`.
    #[error(transparent)]
    Webhook(#[from] webhook::WebhookError),
    /// An email sink's server, port, addresses, login, TLS or `helo_name`.
    #[error(transparent)]
    Email(#[from] email::EmailSetupError),
}

impl SinkError {
    /// The table key the problem is about — a secret by its base name (`url`,
    /// `password`), whichever of its keys it was written as — or `None` when it is
    /// about no one key.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            SinkError::Secret(err) => Some(err.key()),
            SinkError::Url(_) => Some("url"),
            SinkError::Client(ClientError::Tls(TlsSetupError::Protocols { .. })) => None,
            SinkError::Client(ClientError::Tls(_)) => Some("ca_file"),
            SinkError::Client(ClientError::Build { .. }) => None,
            SinkError::Webhook(err) => Some(err.key()),
            SinkError::Email(err) => err.key(),
        }
    }
}

/// A `[[sinks]]` table that cannot be built: which one, the key at fault, and why.
/// It says `sink "NAME" (TYPE): CAUSE`; `config::Loaded` puts `PATH:LINE:COL: ` before
/// it, from [`BuildError::index`] and [`BuildError::key`].
#[derive(Debug)]
pub struct BuildError {
    /// The table's place among the `[[sinks]]`, from 0.
    pub index: usize,
    /// Its `name`, as written.
    pub sink: String,
    /// Its `type`.
    pub kind: &'static str,
    /// The key the cause is about, as written (`url_file`, `from`); `None` for the
    /// table as a whole.
    pub key: Option<String>,
    /// Boxed, so that a `Result` with this error stays small to pass around.
    pub cause: Box<SinkError>,
}

impl BuildError {
    /// The message with the values it quotes as they are, for a caller that cuts them
    /// itself (`config::Located` does): cutting twice would escape twice.
    pub fn uncut(&self) -> String {
        format!("sink \"{}\" ({}): {}", self.sink, self.kind, self.cause)
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values a message quotes are cut: a 100 KB value must not make a 100 KB line.
        f.write_str(&crate::quote::cut_quoted(&self.uncut()))
    }
}

/// The cause is in the message and not a `source()`, to be said once.
impl std::error::Error for BuildError {}

/// Builds every configured sink; the first that cannot be built is the error.
pub fn from_config(entries: &[SinkConfig]) -> Result<Vec<ConfiguredSink>, BuildError> {
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            build(entry).map_err(|cause| registry::build_error(index, entry, cause))
        })
        .collect()
}
