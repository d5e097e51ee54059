//! The console sink: prints announcements on standard output. It is what a newcomer
//! sees on a laptop, and a log of announcements on the Pi (stdout goes to the journal).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::registry::{SinkTable, default_timeout_s};
use super::secret::Secret;
use super::{SendError, Sink, SinkError};
use crate::model::Announcement;
use crate::model::BoxFuture;

/// `type = "console"`: prints announcements on standard output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSinkConfig {
    pub name: String,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

impl SinkTable for ConsoleSinkConfig {
    fn type_name(&self) -> &'static str {
        "console"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn timeout_s(&self) -> u64 {
        self.timeout_s
    }

    fn build(&self, _: Vec<Secret>, _: Duration) -> Result<Arc<dyn Sink>, SinkError> {
        Ok(Arc::new(ConsoleSink::new(&self.name)))
    }
}

pub struct ConsoleSink {
    name: String,
}

impl ConsoleSink {
    pub fn new(name: &str) -> Self {
        ConsoleSink {
            name: name.to_string(),
        }
    }
}

/// The announcement as people read it on a terminal.
pub fn format(announcement: &Announcement) -> String {
    format!("🍩 {}\n   {}\n", announcement.subject, announcement.body)
}

impl Sink for ConsoleSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "console"
    }

    fn send<'a>(&'a self, announcement: &'a Announcement) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let text = format(announcement);
            // One write of the whole text, so it never interleaves with event lines.
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|err| SendError::Permanent {
                    message: format!("cannot write to standard output: {err}"),
                })
        })
    }
}
