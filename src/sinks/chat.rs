//! Chat rooms: Slack, Mattermost, Microsoft Teams, Discord and Google Chat, each
//! through its incoming webhook. They differ only in the JSON they take, so one
//! [`ChatSink`] sends, and [`payload`] (pure, tested to the byte) shapes the message.
//!
//! Teams takes an Adaptive Card through a Workflows webhook; the retired Office 365
//! connector (MessageCard) format is not offered. Discord is sent with `?wait=true`
//! so its 2xx confirms the message exists, and its 2000-character limit is kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use super::registry::{SinkTable, default_timeout_s, url_secret};
use super::secret::{Redactor, Secret, SecretError, SecretSpec};
use super::{SendError, Sink, SinkError, http};
use crate::model::Announcement;
use crate::model::BoxFuture;

/// Discord refuses `content` longer than this.
pub const DISCORD_MAX_CHARS: usize = 2000;

/// Which chat, and its optional settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chat {
    Slack {
        channel: Option<String>,
        username: Option<String>,
        icon_emoji: Option<String>,
    },
    Mattermost {
        channel: Option<String>,
        username: Option<String>,
        icon_url: Option<String>,
        icon_emoji: Option<String>,
    },
    Teams,
    Discord {
        username: Option<String>,
        avatar_url: Option<String>,
    },
    GoogleChat,
}

impl Chat {
    fn kind(&self) -> &'static str {
        match self {
            Chat::Slack { .. } => "slack",
            Chat::Mattermost { .. } => "mattermost",
            Chat::Teams => "teams",
            Chat::Discord { .. } => "discord",
            Chat::GoogleChat => "google_chat",
        }
    }
}

/// Slack's mrkdwn treats these three as control characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` cut to `max` characters, the last one an ellipsis when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Adds `key` to a JSON object when the setting is given.
fn with(mut object: Value, key: &str, value: &Option<String>) -> Value {
    if let (Some(value), Some(map)) = (value, object.as_object_mut()) {
        map.insert(key.to_string(), Value::String(value.clone()));
    }
    object
}

/// The JSON body for one announcement.
pub fn payload(chat: &Chat, a: &Announcement) -> Value {
    match chat {
        Chat::Slack {
            channel,
            username,
            icon_emoji,
        } => {
            let text = format!("*{}*\n{}", slack_escape(&a.subject), slack_escape(&a.body));
            let body = with(json!({ "text": text }), "channel", channel);
            with(with(body, "username", username), "icon_emoji", icon_emoji)
        }
        Chat::Mattermost {
            channel,
            username,
            icon_url,
            icon_emoji,
        } => {
            let body = with(
                json!({ "text": format!("**{}**\n{}", a.subject, a.body) }),
                "channel",
                channel,
            );
            let body = with(with(body, "username", username), "icon_url", icon_url);
            with(body, "icon_emoji", icon_emoji)
        }
        Chat::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        { "type": "TextBlock", "text": a.subject, "weight": "Bolder", "size": "Large", "wrap": true },
                        { "type": "TextBlock", "text": a.body, "wrap": true }
                    ]
                }
            }]
        }),
        Chat::Discord {
            username,
            avatar_url,
        } => {
            let content = cut(&format!("**{}**\n{}", a.subject, a.body), DISCORD_MAX_CHARS);
            with(
                with(json!({ "content": content }), "username", username),
                "avatar_url",
                avatar_url,
            )
        }
        Chat::GoogleChat => json!({ "text": format!("*{}*\n{}", a.subject, a.body) }),
    }
}

/// Keys every chat webhook has: the URL (a secret), a CA and the timeout — all that
/// Teams and Google Chat take.
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

/// `type = "teams"`: a Workflows webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct TeamsSinkConfig(pub WebhookOnlySinkConfig);

/// `type = "google_chat"`: a space's webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct GoogleChatSinkConfig(pub WebhookOnlySinkConfig);

/// The table keys every chat sink shares, and how it builds.
macro_rules! chat_table {
    ($table:ty, $type_name:literal, |$c:ident| $base:expr, |$d:ident| $chat:expr) => {
        impl SinkTable for $table {
            fn type_name(&self) -> &'static str {
                $type_name
            }

            fn name(&self) -> &str {
                let $c = self;
                &$base.name
            }

            fn timeout_s(&self) -> u64 {
                let $c = self;
                $base.timeout_s
            }

            fn secrets(&self) -> Vec<SecretSpec> {
                let $c = self;
                vec![url_secret(&$base.url, &$base.url_file, &$base.url_env)]
            }

            fn build(
                &self,
                secrets: Vec<Secret>,
                timeout: Duration,
            ) -> Result<Arc<dyn Sink>, SinkError> {
                let $c = self;
                let $d = self;
                // `secrets` has the one `url` resolved, or building stopped before this.
                let url = secrets
                    .into_iter()
                    .next()
                    .ok_or(SecretError::Missing { key: "url" })?;
                let sink =
                    ChatSink::new(&$base.name, $chat, $base.ca_file.as_deref(), url, timeout)?;
                Ok(Arc::new(sink))
            }
        }
    };
}

chat_table!(SlackSinkConfig, "slack", |c| c, |d| Chat::Slack {
    channel: d.channel.clone(),
    username: d.username.clone(),
    icon_emoji: d.icon_emoji.clone(),
});
chat_table!(MattermostSinkConfig, "mattermost", |c| c, |d| {
    Chat::Mattermost {
        channel: d.channel.clone(),
        username: d.username.clone(),
        icon_url: d.icon_url.clone(),
        icon_emoji: d.icon_emoji.clone(),
    }
});
chat_table!(TeamsSinkConfig, "teams", |c| c.0, |_d| Chat::Teams);
chat_table!(DiscordSinkConfig, "discord", |c| c, |d| Chat::Discord {
    username: d.username.clone(),
    avatar_url: d.avatar_url.clone(),
});
chat_table!(GoogleChatSinkConfig, "google_chat", |c| c.0, |_d| {
    Chat::GoogleChat
});

/// A chat room's webhook.
pub struct ChatSink {
    name: String,
    chat: Chat,
    url: reqwest::Url,
    client: reqwest::Client,
    redactor: Redactor,
    ca_file: Option<std::path::PathBuf>,
}

impl ChatSink {
    /// The sink `name` for `chat`; `url` is its resolved secret.
    pub fn new(
        name: &str,
        chat: Chat,
        ca_file: Option<&Path>,
        url: Secret,
        timeout: Duration,
    ) -> Result<ChatSink, SinkError> {
        let mut url_parsed = http::check_url(&url)?;
        if matches!(chat, Chat::Discord { .. }) {
            // Discord answers 204 without waiting; with wait=true it confirms the message exists.
            url_parsed.query_pairs_mut().append_pair("wait", "true");
        }
        let mut redactor = Redactor::default();
        redactor.add(&url);
        redactor.add(&Secret::new(url_parsed.as_str()));
        Ok(ChatSink {
            name: name.to_string(),
            chat,
            url: url_parsed,
            client: http::client(ca_file, timeout)?,
            redactor,
            ca_file: ca_file.map(Path::to_path_buf),
        })
    }
}

impl Sink for ChatSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        self.chat.kind()
    }

    fn send<'a>(&'a self, announcement: &'a Announcement) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let body = payload(&self.chat, announcement).to_string().into_bytes();
            let request = http::Request {
                method: Method::POST,
                url: self.url.clone(),
                headers,
                body,
                redactor: &self.redactor,
                ca_file: self.ca_file.as_deref(),
            };
            http::send(&self.client, request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement(subject: &str, body: &str) -> Announcement {
        Announcement {
            id: "id-1".into(),
            action: "arrival".into(),
            subject: subject.into(),
            body: body.into(),
            device: "kitchen".into(),
            created: None,
        }
    }

    /// What a Teams Workflows webhook takes: a message with one Adaptive Card whose
    /// text blocks are the subject (bold, large) and the body.
    #[test]
    fn teams_gets_an_adaptive_card_with_subject_and_body() {
        let body = payload(&Chat::Teams, &announcement("Doughnuts!", "In the kitchen."));
        assert_eq!(body["type"], "message");
        let card = &body["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        let blocks = card["content"]["body"].as_array().expect("card body");
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            (&blocks[0]["text"], &blocks[0]["weight"], &blocks[0]["size"]),
            (&json!("Doughnuts!"), &json!("Bolder"), &json!("Large"))
        );
        assert_eq!(blocks[1]["text"], "In the kitchen.");
    }

    #[test]
    fn slack_escapes_its_control_characters() {
        let chat = Chat::Slack {
            channel: Some("#lab".into()),
            username: None,
            icon_emoji: Some(":doughnut:".into()),
        };
        let p = payload(&chat, &announcement("R&D <3 doughnuts", "now"));
        assert_eq!(
            p,
            json!({ "text": "*R&amp;D &lt;3 doughnuts*\nnow", "channel": "#lab", "icon_emoji": ":doughnut:" })
        );
    }

    #[test]
    fn discord_content_is_cut_to_2000_characters_with_an_ellipsis() {
        let chat = Chat::Discord {
            username: None,
            avatar_url: None,
        };
        let long = "🍩".repeat(3000);
        let p = payload(&chat, &announcement("s", &long));
        let content = p["content"].as_str().expect("content");
        assert_eq!(content.chars().count(), DISCORD_MAX_CHARS);
        assert!(content.ends_with('…'));
        let short = payload(&chat, &announcement("s", "b"));
        assert_eq!(short, json!({ "content": "**s**\nb" }));
    }
}
