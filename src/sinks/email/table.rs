//! The email sink's `[[sinks]]` table: its keys (serde), its secret, the checks that
//! need no secret, and how it builds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{EmailSetupError, EmailSink};
use crate::sinks::registry::{SinkTable, default_timeout_s};
use crate::sinks::secret::{Secret, SecretSpec};
use crate::sinks::{Sink, SinkError};

/// How the email sink secures SMTP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (port 25; lab-internal relays only).
    None,
}

impl SmtpTls {
    /// The usual port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

/// One address or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        }
    }
}

/// `type = "email"`: SMTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSinkConfig {
    pub name: String,
    pub server: String,
    /// Default by `tls`: 587 starttls, 465 tls, 25 none.
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub from: String,
    pub to: OneOrMany,
    #[serde(default)]
    pub cc: Vec<String>,
    /// An extra PEM CA to trust (a lab's own mail server).
    pub ca_file: Option<PathBuf>,
    /// The name given in EHLO: a fully qualified host name or an address literal
    /// (`[192.0.2.7]`). Default: the host's fully qualified name (the kernel hostname
    /// if dotted, else from /etc/hosts), else the connection's local address literal.
    pub helo_name: Option<String>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

impl SinkTable for EmailSinkConfig {
    fn type_name(&self) -> &'static str {
        "email"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn timeout_s(&self) -> u64 {
        self.timeout_s
    }

    fn secrets(&self) -> Vec<SecretSpec> {
        let given =
            self.password.is_some() || self.password_file.is_some() || self.password_env.is_some();
        if !given && self.username.is_none() {
            return Vec::new();
        }
        vec![SecretSpec {
            key: "password",
            inline: self.password.clone(),
            file: self.password_file.clone(),
            env: self.password_env.clone(),
        }]
    }

    fn problems(&self) -> Vec<SinkError> {
        let mut problems = Vec::new();
        if self.to.to_vec().is_empty() {
            problems.push(EmailSetupError::NoRecipient.into());
        }
        if self.server.trim().is_empty() {
            problems.push(EmailSetupError::ServerEmpty.into());
        }
        if let Some(helo_name) = &self.helo_name
            && let Err(err) = super::check_helo_name(helo_name)
        {
            problems.push(EmailSetupError::from(err).into());
        }
        problems
    }

    fn build(&self, secrets: Vec<Secret>, timeout: Duration) -> Result<Arc<dyn Sink>, SinkError> {
        let password = secrets.into_iter().next();
        Ok(Arc::new(EmailSink::new(self, password, timeout)?))
    }
}
