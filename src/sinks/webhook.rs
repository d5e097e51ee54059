//! The generic webhook: any HTTP endpoint, for whatever the lab runs (a dashboard, a
//! home-grown bot, ntfy, Gotify). Method POST or PUT, extra headers, and a body
//! template over the announcement's fields; values are JSON-escaped when the content
//! type is JSON. The default body is a JSON object with every field.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use super::registry::{SinkTable, default_timeout_s, url_secret};
use super::secret::{Redactor, Secret, SecretError, SecretSpec};
use super::{SendError, Sink, SinkError, http};
use crate::core::template::{self, TemplateError};
use crate::model::Announcement;
use crate::model::BoxFuture;
use crate::quote::shown;

/// The placeholders a webhook body may use.
pub const BODY_PLACEHOLDERS: [&str; 6] = ["id", "action", "subject", "body", "device", "created"];

/// What is wrong with a webhook's own keys. Header values are never quoted: they are
/// often credentials (`Authorization`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error(
        "`headers.{}` is not a valid HTTP header name; use letters, digits and `-`, e.g. `X-Lab`",
        shown(name)
    )]
    HeaderName { name: String },
    #[error(
        "`headers.{}` has a value that is not valid in an HTTP header; remove its line \
         breaks and other control characters",
        shown(name)
    )]
    HeaderValue { name: String },
    #[error("webhook `body`: {cause}")]
    Body { cause: TemplateError },
}

impl WebhookError {
    /// The key it is about.
    pub fn key(&self) -> &'static str {
        match self {
            WebhookError::HeaderName { .. } | WebhookError::HeaderValue { .. } => "headers",
            WebhookError::Body { .. } => "body",
        }
    }
}

/// `body`, when given, uses only the placeholders a webhook body has.
fn check_body(body: Option<&str>) -> Result<(), WebhookError> {
    match body {
        Some(body) => template::check_with(body, &BODY_PLACEHOLDERS)
            .map_err(|cause| WebhookError::Body { cause }),
        None => Ok(()),
    }
}

/// A generic HTTP endpoint.
pub struct WebhookSink {
    name: String,
    method: Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<String>,
    json: bool,
    client: reqwest::Client,
    redactor: Redactor,
    ca_file: Option<std::path::PathBuf>,
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
impl SinkTable for WebhookSinkConfig {
    fn type_name(&self) -> &'static str {
        "webhook"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn timeout_s(&self) -> u64 {
        self.timeout_s
    }

    fn secrets(&self) -> Vec<SecretSpec> {
        vec![url_secret(&self.url, &self.url_file, &self.url_env)]
    }

    fn problems(&self) -> Vec<SinkError> {
        check_body(self.body.as_deref())
            .err()
            .into_iter()
            .map(SinkError::from)
            .collect()
    }

    fn build(&self, secrets: Vec<Secret>, timeout: Duration) -> Result<Arc<dyn Sink>, SinkError> {
        // `secrets` has the one `url` resolved, or building stopped before this.
        let url = secrets
            .into_iter()
            .next()
            .ok_or(SecretError::Missing { key: "url" })?;
        Ok(Arc::new(WebhookSink::new(self, url, timeout)?))
    }
}

/// One field of an announcement by placeholder name.
fn field(a: &Announcement, name: &str) -> String {
    match name {
        "id" => a.id.clone(),
        "action" => a.action.clone(),
        "subject" => a.subject.clone(),
        "body" => a.body.clone(),
        "device" => a.device.clone(),
        // Empty while the press's time is not known (the clock is not trusted yet).
        "created" => a.created.map(|t| t.to_string()).unwrap_or_default(),
        _ => String::new(),
    }
}

/// The request body for an announcement.
pub fn render_body(template: Option<&str>, json: bool, a: &Announcement) -> String {
    let Some(template) = template else {
        let object: serde_json::Map<String, serde_json::Value> = BODY_PLACEHOLDERS
            .iter()
            .map(|&name| {
                let value = match (name, a.created) {
                    ("created", None) => serde_json::Value::Null,
                    _ => field(a, name).into(),
                };
                (name.to_string(), value)
            })
            .collect();
        return serde_json::Value::Object(object).to_string();
    };
    template::render_with(template, &BODY_PLACEHOLDERS, |name| {
        let value = field(a, name);
        if json {
            // A JSON string's inside: quoted form minus the quotes.
            let quoted = serde_json::Value::String(value).to_string();
            quoted[1..quoted.len() - 1].to_string()
        } else {
            value
        }
    })
}

/// Whether a header carries a credential (its value is redacted from errors). Other
/// headers (`Priority`, `Title`, `Content-Type`…) are not secret, and redacting a value
/// such as "1" would mangle every error that has a 1 in it.
fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "auth",
        "token",
        "key",
        "secret",
        "signature",
        "password",
        "session",
        "cookie",
    ]
    .iter()
    .any(|word| name.contains(word))
}

impl WebhookSink {
    pub fn new(
        config: &WebhookSinkConfig,
        url: Secret,
        timeout: Duration,
    ) -> Result<WebhookSink, SinkError> {
        let parsed = http::check_url(&url)?;
        let mut redactor = Redactor::default();
        redactor.add(&url);
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| WebhookError::HeaderName { name: name.clone() })?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| WebhookError::HeaderValue { name: name.clone() })?;
            if is_credential(name) {
                redactor.add(&Secret::new(value.to_str().unwrap_or_default()));
            }
            headers.insert(header, value);
        }
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let json = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        check_body(config.body.as_deref())?;
        Ok(WebhookSink {
            name: config.name.clone(),
            method: match config.method {
                HttpMethod::Post => Method::POST,
                HttpMethod::Put => Method::PUT,
            },
            url: parsed,
            headers,
            body: config.body.clone(),
            json,
            client: http::client(config.ca_file.as_deref(), timeout)?,
            redactor,
            ca_file: config.ca_file.clone(),
        })
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, announcement: &'a Announcement) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let body = render_body(self.body.as_deref(), self.json, announcement).into_bytes();
            let request = http::Request {
                method: self.method.clone(),
                url: self.url.clone(),
                headers: self.headers.clone(),
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

    fn announcement() -> Announcement {
        Announcement {
            id: "id-1".into(),
            action: "arrival".into(),
            subject: "Say \"hi\"".into(),
            body: "line one\nline two".into(),
            device: "kitchen".into(),
            created: Some("2026-11-27T10:03:00Z".parse().expect("timestamp")),
        }
    }

    #[test]
    fn default_body_is_a_json_object_with_every_field() {
        let body: serde_json::Value =
            serde_json::from_str(&render_body(None, true, &announcement())).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "id": "id-1", "action": "arrival", "subject": "Say \"hi\"",
                "body": "line one\nline two", "device": "kitchen", "created": "2026-11-27T10:03:00Z"
            })
        );
    }

    #[test]
    fn templates_escape_values_only_for_json() {
        let t = r#"{"msg": "{subject}: {body}"}"#;
        let json = render_body(Some(t), true, &announcement());
        assert_eq!(json, r#"{"msg": "Say \"hi\": line one\nline two"}"#);
        serde_json::from_str::<serde_json::Value>(&json).expect("still valid JSON");
        let plain = render_body(Some("{subject} @ {device}"), false, &announcement());
        assert_eq!(plain, "Say \"hi\" @ kitchen");
    }

    /// Regression: a `Priority = "1"` header turned "os error 111" into
    /// "os error <redacted><redacted><redacted>": every header value was a secret.
    #[test]
    fn only_credential_headers_are_redacted() {
        let config = WebhookSinkConfig {
            name: "ntfy".into(),
            url: None,
            url_file: None,
            url_env: None,
            method: HttpMethod::Post,
            headers: [
                ("Priority".to_string(), "1".to_string()),
                (
                    "Authorization".to_string(),
                    "Bearer tk_abcdefgh".to_string(),
                ),
            ]
            .into(),
            body: None,
            ca_file: None,
            timeout_s: 10,
        };
        let url = Secret::new("https://ntfy.example.org/doughnuts");
        let sink = WebhookSink::new(&config, url, Duration::from_secs(10)).expect("sink");
        assert_eq!(
            sink.redactor
                .redact("Connection refused (os error 111); sent Bearer tk_abcdefgh"),
            "Connection refused (os error 111); sent <redacted>"
        );
    }

    #[test]
    fn a_bad_header_names_its_key_and_never_quotes_its_value() {
        let config = |name: &str, value: &str| WebhookSinkConfig {
            name: "hook".into(),
            url: None,
            url_file: None,
            url_env: None,
            method: HttpMethod::Post,
            headers: [(name.to_string(), value.to_string())].into(),
            body: None,
            ca_file: None,
            timeout_s: 10,
        };
        let url = || Secret::new("https://example.org/hook");
        let timeout = Duration::from_secs(10);
        let Err(SinkError::Webhook(err)) = WebhookSink::new(
            &config("Authorization", "Bearer tk_s3cret\r\nX-Evil: 1"),
            url(),
            timeout,
        ) else {
            panic!("a line break in a header value");
        };
        assert_eq!(
            err,
            WebhookError::HeaderValue {
                name: "Authorization".into()
            }
        );
        assert_eq!(err.key(), "headers");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let Err(SinkError::Webhook(err)) =
            WebhookSink::new(&config("Bad Name", "x"), url(), timeout)
        else {
            panic!("a space in a header name");
        };
        assert_eq!(
            err.to_string(),
            "`headers.Bad Name` is not a valid HTTP header name; use letters, digits and `-`, e.g. `X-Lab`"
        );
    }
}
