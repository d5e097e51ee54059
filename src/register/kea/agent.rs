//! A client of Kea's control agent: one JSON command to the dhcp4 service over
//! HTTP, and Kea's answer read as success (`result` 0, with its `arguments`) or as
//! an error that says what went wrong: no connection, no answer in time, a server
//! that is not Kea, or Kea's own refusal in its own words.

use std::time::Duration;

use serde_json::{Map, Value};

use super::KeaError;
use super::url::shown;
use crate::net::http::{self, error_chain, root_cause};

/// The most of an answer read: a Kea configuration with thousands of reservations
/// is a few megabytes; anything far beyond that is not Kea.
const ANSWER_CAP: usize = 64 * 1024 * 1024;

/// Kea's control agent at one URL.
pub(super) struct Agent {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The URL for messages: a password in it stays out of them.
    pub(super) shown: String,
    timeout: Duration,
}

impl Agent {
    pub(super) fn new(url: reqwest::Url, timeout: Duration) -> Result<Agent, KeaError> {
        let client = http::client(None, timeout).map_err(KeaError::Client)?;
        Ok(Agent {
            client,
            shown: shown(&url),
            url,
            timeout,
        })
    }

    /// Sends one command to the dhcp4 service; its `arguments` (null when none)
    /// when Kea says `result` 0.
    pub(super) async fn command(
        &self,
        command: &'static str,
        arguments: Option<Value>,
    ) -> Result<Value, KeaError> {
        let mut body = Map::new();
        body.insert("command".into(), command.into());
        body.insert("service".into(), serde_json::json!(["dhcp4"]));
        if let Some(arguments) = arguments {
            body.insert("arguments".into(), arguments);
        }
        let response = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(Value::Object(body).to_string())
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|err| self.transport_error(command, &err))?;
        let status = response.status().as_u16();
        let body = http::read_capped(response, ANSWER_CAP)
            .await
            .map_err(|broken| self.transport_error(command, &broken.cause))?;
        answer(command, status, &body).map_err(|err| match err {
            KeaError::NotKea {
                command,
                status,
                excerpt,
                ..
            } => KeaError::NotKea {
                url: self.shown.clone(),
                command,
                status,
                excerpt,
            },
            other => other,
        })
    }

    fn transport_error(&self, command: &'static str, err: &reqwest::Error) -> KeaError {
        let url = self.shown.clone();
        if err.is_timeout() {
            KeaError::Timeout {
                url,
                command,
                seconds: self.timeout.as_secs(),
            }
        } else if err.is_connect() {
            // The innermost cause says it: "Connection refused (os error 111)".
            KeaError::Unreachable {
                url,
                cause: root_cause(err),
            }
        } else {
            KeaError::Http {
                url,
                command,
                cause: error_chain(err),
            }
        }
    }
}

/// Reads Kea's answer: a list with one answer per service (the agent's own errors
/// come as a single object), each with `result` (0 = success), `text` and
/// `arguments`.
fn answer(command: &'static str, status: u16, body: &[u8]) -> Result<Value, KeaError> {
    let not_kea = || KeaError::NotKea {
        url: String::new(),
        command,
        status,
        excerpt: excerpt(body),
    };
    let parsed: Value = serde_json::from_slice(body).map_err(|_| not_kea())?;
    let first = match parsed {
        Value::Array(mut answers) if !answers.is_empty() => answers.swap_remove(0),
        Value::Object(_) => parsed,
        _ => return Err(not_kea()),
    };
    let result = first
        .get("result")
        .and_then(Value::as_i64)
        .ok_or_else(not_kea)?;
    if result != 0 {
        let text = first
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("no reason given")
            .to_owned();
        let note = if command == "config-test" {
            " (nothing was changed)"
        } else {
            ""
        };
        return Err(KeaError::Refused {
            command,
            result,
            text,
            note,
        });
    }
    Ok(first.get("arguments").cloned().unwrap_or(Value::Null))
}

/// The start of a body that is not Kea's, for an error message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let text = text.trim();
    if text.is_empty() {
        "an empty body".to_owned()
    } else {
        format!("`{}`", text.replace('\n', " "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let ok = br#"[{"result": 0, "arguments": {"filename": "/etc/kea/kea-dhcp4.conf"}}]"#;
        assert_eq!(
            answer("config-write", 200, ok).unwrap()["filename"],
            "/etc/kea/kea-dhcp4.conf"
        );
        let refused = br#"[{"result": 1, "text": "unsupported parameter"}]"#;
        assert_eq!(
            answer("config-test", 200, refused).unwrap_err().to_string(),
            "Kea refused `config-test` (result 1): unsupported parameter (nothing was changed)"
        );
        let agent = br#"{ "result": 400, "text": "Bad Request" }"#;
        assert!(matches!(
            answer("config-get", 400, agent),
            Err(KeaError::Refused { result: 400, .. })
        ));
        let html = b"<html>nope</html>";
        assert!(
            answer("config-get", 404, html)
                .unwrap_err()
                .to_string()
                .contains("HTTP 404 and no Kea answer (`<html>nope</html>`)")
        );
    }

    #[test]
    fn a_password_in_the_url_is_sent_but_not_shown() {
        let url = reqwest::Url::parse("http://admin:s3cret@127.0.0.1:8000/").unwrap();
        let agent = Agent::new(url, Duration::from_secs(1)).unwrap();
        assert_eq!(agent.shown, "http://127.0.0.1:8000/");
        assert_eq!(agent.url.password(), Some("s3cret"));
    }
}
