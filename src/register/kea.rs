//! `daas register kea`: adds this Pi's reservation to a Kea DHCPv4 server through
//! its control agent, for Kea versions without the `host_cmds` hook (Debian
//! bookworm's Kea 2.2 has none): the only way in is the whole configuration.
//!
//! So: `config-get`, find the subnet by its `id` (also inside `shared-networks`),
//! and look at its reservations. The same MAC, address and host name already there
//! is success (running the command twice is harmless); this MAC with another
//! address, or this address with another client, is refused, naming the entry, as
//! only a person can say which is right. Otherwise the entry is appended, the new
//! configuration checked with `config-test` (a failed `config-set` leaves Kea 2.2
//! in a bad state), applied with `config-set`, and saved with `config-write` to the
//! file Kea was started with. Kea writes that file in its own form, with every
//! default spelled out and comments gone.
//!
//! Between `config-get` and `config-set` another change to Kea's configuration
//! would be overwritten; this is a tool a person runs once per Pi, not a daemon.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde_json::{Map, Value};

use config::{Plan, append, dhcp4_of, plan};

use super::cli::KeaArgs;
use super::dhcp::{self, Reservation, Wanted, pick};
use super::host::mac_text;
use super::{Failure, register_table};
use crate::net::http::{self, error_chain, root_cause};

mod config;

/// The most of an answer read: a Kea configuration with thousands of reservations
/// is a few megabytes; anything far beyond that is not Kea.
const ANSWER_CAP: usize = 64 * 1024 * 1024;

/// Why the reservation was not added.
#[derive(Debug, thiserror::Error)]
pub enum KeaError {
    #[error("no Kea control agent given; use --url URL or set `register.kea_url`")]
    NoUrl,
    #[error(
        "{origin} `{url}` is not a usable URL ({reason}); give the control agent's address, e.g. http://dhcp.lab.example.org:8000/"
    )]
    BadUrl {
        url: String,
        origin: dhcp::Origin,
        reason: String,
    },
    #[error("no Kea subnet given; use --subnet-id N or set `register.subnet_id`")]
    NoSubnetId,
    #[error(
        "cannot reach Kea's control agent at {url} ({cause}); check that kea-ctrl-agent is running and listens there"
    )]
    Unreachable { url: String, cause: String },
    #[error(
        "Kea's control agent at {url} did not answer `{command}` within {seconds} s; check that kea-ctrl-agent and kea-dhcp4 are running, or wait longer with --timeout-s"
    )]
    Timeout {
        url: String,
        command: &'static str,
        seconds: u64,
    },
    #[error("`{command}` to Kea's control agent at {url} failed: {cause}")]
    Http {
        url: String,
        command: &'static str,
        cause: String,
    },
    #[error(
        "{url} answered `{command}` with HTTP {status} and no Kea answer ({excerpt}); is --url the control agent's address?"
    )]
    NotKea {
        url: String,
        command: &'static str,
        status: u16,
        excerpt: String,
    },
    #[error("Kea refused `{command}` (result {result}): {text}{note}")]
    Refused {
        command: &'static str,
        result: i64,
        text: String,
        note: &'static str,
    },
    #[error("Kea's `config-get` answer has no {what}; is this a DHCPv4 server?")]
    Unexpected { what: &'static str },
    #[error(
        "Kea has no subnet with id {id} (its subnets: {known}); give one of them with --subnet-id N"
    )]
    NoSubnet { id: u32, known: String },
    #[error(
        "{ip} is outside Kea subnet {id} ({subnet}); give an address in it with --ip ADDR, or the right subnet with --subnet-id N"
    )]
    OutsideSubnet {
        ip: Ipv4Addr,
        id: u32,
        subnet: String,
    },
    #[error("Kea subnet {id} ({subnet}) already has {entry}; {advice}")]
    Conflict {
        id: u32,
        subnet: String,
        entry: String,
        advice: String,
    },
    #[error(
        "Kea took the reservation but could not save it ({text}); it is lost when Kea restarts unless Kea can write its config file: fix that, then send it {{\"command\": \"config-write\", \"service\": [\"dhcp4\"]}}"
    )]
    NotSaved { text: String },
    #[error("cannot start the HTTP client: {0}")]
    Setup(String),
}

impl KeaError {
    /// Exit 2 when a flag or the config must change, 1 when Kea said no.
    fn into_failure(self) -> Failure {
        match self {
            KeaError::NoUrl
            | KeaError::BadUrl { .. }
            | KeaError::NoSubnetId
            | KeaError::NoSubnet { .. }
            | KeaError::OutsideSubnet { .. } => Failure::Usage(self.into()),
            _ => Failure::Failed(self.into()),
        }
    }
}

/// Adds the reservation.
pub fn run(args: KeaArgs) -> Result<(), Failure> {
    let table = register_table(args.common.config.as_deref())?;
    let (url, url_origin) = pick(args.url, "url", table.kea_url, "kea_url")
        .ok_or_else(|| KeaError::NoUrl.into_failure())?;
    let url = parse_url(&url, url_origin).map_err(KeaError::into_failure)?;
    let subnet_id = args
        .subnet_id
        .or(table.subnet_id)
        .ok_or_else(|| KeaError::NoSubnetId.into_failure())?;
    let reservation = dhcp::resolve(Wanted {
        interface: args.common.interface.or(table.interface),
        ip: args.ip,
        name: pick(args.hostname, "hostname", table.name, "name"),
        domain: None,
    })?;
    let agent =
        Agent::new(url, Duration::from_secs(args.timeout_s)).map_err(KeaError::into_failure)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| KeaError::Setup(err.to_string()).into_failure())?;
    let outcome = runtime
        .block_on(register(&agent, subnet_id, &reservation))
        .map_err(KeaError::into_failure)?;
    print!("{}", outcome.text(&reservation, subnet_id, &agent.shown));
    Ok(())
}

/// What `register` did.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Already { subnet: String },
    Added { subnet: String, file: String },
}

impl Outcome {
    fn text(&self, r: &Reservation, id: u32, url: &str) -> String {
        let what = format!("{} → {} ({})", mac_text(&r.mac), r.ip, r.hostname);
        match self {
            Outcome::Already { subnet } => {
                format!("{what} is already reserved in Kea subnet {id} ({subnet}); nothing to do\n")
            }
            Outcome::Added { subnet, file } => format!(
                "added {what} to Kea subnet {id} ({subnet}) through {url}\nKea wrote its configuration to {file}\n"
            ),
        }
    }
}

/// The whole exchange with Kea; see the module doc.
async fn register(agent: &Agent, id: u32, r: &Reservation) -> Result<Outcome, KeaError> {
    let got = agent.command("config-get", None).await?;
    let mut dhcp4 = dhcp4_of(got)?;
    let subnet = match plan(&dhcp4, id, r)? {
        Plan::Already { subnet } => return Ok(Outcome::Already { subnet }),
        Plan::Add { subnet } => subnet,
    };
    append(&mut dhcp4, id, r)?;
    let config = serde_json::json!({ "Dhcp4": dhcp4 });
    agent.command("config-test", Some(config.clone())).await?;
    agent.command("config-set", Some(config)).await?;
    let written = agent
        .command("config-write", None)
        .await
        .map_err(|err| match err {
            KeaError::Refused { text, .. } => KeaError::NotSaved { text },
            other => other,
        })?;
    let file = written
        .get("filename")
        .and_then(Value::as_str)
        .unwrap_or("the file it was started with")
        .to_owned();
    Ok(Outcome::Added { subnet, file })
}

/// Checks `--url`/`register.kea_url`: http or https, with a host.
fn parse_url(text: &str, origin: dhcp::Origin) -> Result<reqwest::Url, KeaError> {
    let bad = |reason: String| KeaError::BadUrl {
        url: without_credentials(text),
        origin,
        reason,
    };
    let url = reqwest::Url::parse(text).map_err(|err| bad(err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("scheme `{}`, not http or https", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".to_owned()));
    }
    Ok(url)
}

/// A URL as typed, with any `user:password@` cut out, for an error message about
/// a URL too broken to parse.
fn without_credentials(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}…{}", &text[..start + 3], &text[at..])
        }
        _ => text.to_owned(),
    }
}

/// Kea's control agent at one URL.
struct Agent {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The URL for messages: a password in it stays out of them.
    shown: String,
    timeout: Duration,
}

impl Agent {
    fn new(url: reqwest::Url, timeout: Duration) -> Result<Agent, KeaError> {
        let client = http::client(None, timeout).map_err(|err| KeaError::Setup(err.to_string()))?;
        // Credentials in the URL (the agent's basic auth) stay out of messages.
        let mut shown = url.clone();
        let _ = shown.set_password(None);
        let _ = shown.set_username("");
        Ok(Agent {
            client,
            url,
            shown: shown.to_string(),
            timeout,
        })
    }

    /// Sends one command to the dhcp4 service; its `arguments` (null when none)
    /// when Kea says `result` 0.
    async fn command(
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
    fn urls() {
        let origin = dhcp::Origin::Flag("url");
        assert!(parse_url("http://127.0.0.1:8000/", origin).is_ok());
        let err = parse_url("ftp://kea/", origin).unwrap_err().to_string();
        assert!(err.contains("scheme `ftp`"), "{err}");
        assert!(parse_url("kea:8000", origin).is_err());
    }

    #[test]
    fn a_broken_url_is_quoted_without_its_password() {
        let origin = dhcp::Origin::Config("kea_url");
        let err = parse_url("htp://admin:s3cret@kea:8000/", origin)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("`register.kea_url` `htp://…@kea:8000/`"),
            "{err}"
        );
    }

    #[test]
    fn a_password_in_the_url_is_not_shown() {
        let url = reqwest::Url::parse("http://admin:s3cret@127.0.0.1:8000/").unwrap();
        let agent = Agent::new(url, Duration::from_secs(1)).unwrap();
        assert_eq!(agent.shown, "http://127.0.0.1:8000/");
        assert_eq!(agent.url.password(), Some("s3cret"));
    }
}
