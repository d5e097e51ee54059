//! The `[[sinks]]` entries: one struct per sink type, each with a unique `name` and a
//! `timeout_s`. Secrets (passwords, webhook URLs) may be given inline, as `*_file` (a
//! path, as systemd credentials are) or as `*_env`; they are resolved when the sink is
//! built (`sinks::secret`), never printed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

pub use crate::sinks::secret::SecretSpec;

/// `[[sinks]]`: where announcements go.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SinkConfig {
    Console(ConsoleSinkConfig),
    Email(EmailSinkConfig),
    Slack(SlackSinkConfig),
    Mattermost(MattermostSinkConfig),
    Teams(WebhookOnlySinkConfig),
    Discord(DiscordSinkConfig),
    GoogleChat(WebhookOnlySinkConfig),
    Webhook(WebhookSinkConfig),
}

impl SinkConfig {
    /// The sink's unique name.
    pub fn name(&self) -> &str {
        match self {
            SinkConfig::Console(c) => &c.name,
            SinkConfig::Email(c) => &c.name,
            SinkConfig::Slack(c) => &c.name,
            SinkConfig::Mattermost(c) => &c.name,
            SinkConfig::Teams(c) | SinkConfig::GoogleChat(c) => &c.name,
            SinkConfig::Discord(c) => &c.name,
            SinkConfig::Webhook(c) => &c.name,
        }
    }

    /// The sink's `type` as written in the config.
    pub fn type_name(&self) -> &'static str {
        match self {
            SinkConfig::Console(_) => "console",
            SinkConfig::Email(_) => "email",
            SinkConfig::Slack(_) => "slack",
            SinkConfig::Mattermost(_) => "mattermost",
            SinkConfig::Teams(_) => "teams",
            SinkConfig::Discord(_) => "discord",
            SinkConfig::GoogleChat(_) => "google_chat",
            SinkConfig::Webhook(_) => "webhook",
        }
    }

    /// How long one send may take before it counts as failed (retryable).
    pub fn timeout_s(&self) -> u64 {
        match self {
            SinkConfig::Console(c) => c.timeout_s,
            SinkConfig::Email(c) => c.timeout_s,
            SinkConfig::Slack(c) => c.timeout_s,
            SinkConfig::Mattermost(c) => c.timeout_s,
            SinkConfig::Teams(c) | SinkConfig::GoogleChat(c) => c.timeout_s,
            SinkConfig::Discord(c) => c.timeout_s,
            SinkConfig::Webhook(c) => c.timeout_s,
        }
    }

    /// The secrets this sink needs, as written.
    pub fn secrets(&self) -> Vec<SecretSpec> {
        let url =
            |inline: &Option<String>, file: &Option<PathBuf>, env: &Option<String>| SecretSpec {
                key: "url",
                inline: inline.clone(),
                file: file.clone(),
                env: env.clone(),
            };
        match self {
            SinkConfig::Console(_) => Vec::new(),
            SinkConfig::Email(c) => {
                let given =
                    c.password.is_some() || c.password_file.is_some() || c.password_env.is_some();
                if given || c.username.is_some() {
                    vec![SecretSpec {
                        key: "password",
                        inline: c.password.clone(),
                        file: c.password_file.clone(),
                        env: c.password_env.clone(),
                    }]
                } else {
                    Vec::new()
                }
            }
            SinkConfig::Slack(c) => vec![url(&c.url, &c.url_file, &c.url_env)],
            SinkConfig::Mattermost(c) => vec![url(&c.url, &c.url_file, &c.url_env)],
            SinkConfig::Teams(c) | SinkConfig::GoogleChat(c) => {
                vec![url(&c.url, &c.url_file, &c.url_env)]
            }
            SinkConfig::Discord(c) => vec![url(&c.url, &c.url_file, &c.url_env)],
            SinkConfig::Webhook(c) => vec![url(&c.url, &c.url_file, &c.url_env)],
        }
    }
}

pub(crate) fn default_timeout_s() -> u64 {
    10
}

/// `type = "console"`: prints announcements on standard output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSinkConfig {
    pub name: String,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

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

/// Keys every webhook sink has: the URL (a secret), a CA and the timeout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookOnlySinkConfig {
    pub name: String,
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    pub url_env: Option<String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

/// `type = "slack"`: an incoming webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSinkConfig {
    pub name: String,
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    pub url_env: Option<String>,
    pub channel: Option<String>,
    pub username: Option<String>,
    pub icon_emoji: Option<String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

/// `type = "mattermost"`: an incoming webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostSinkConfig {
    pub name: String,
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    pub url_env: Option<String>,
    pub channel: Option<String>,
    pub username: Option<String>,
    pub icon_url: Option<String>,
    pub icon_emoji: Option<String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

/// `type = "discord"`: a webhook, sent with `?wait=true` so success is confirmed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordSinkConfig {
    pub name: String,
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    pub url_env: Option<String>,
    pub username: Option<String>,
    pub avatar_url: Option<String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

/// The generic webhook's HTTP method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[default]
    Post,
    Put,
}

/// `type = "webhook"`: any HTTP endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSinkConfig {
    pub name: String,
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    pub url_env: Option<String>,
    #[serde(default)]
    pub method: HttpMethod,
    /// Extra request headers (values may be secrets: they are never printed).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A template over {id}, {action}, {subject}, {body}, {device}, {created}; the
    /// default is a JSON object with all of them.
    pub body: Option<String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}
