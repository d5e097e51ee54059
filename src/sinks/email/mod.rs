//! The email sink: sends each announcement as a plain-text email over SMTP.
//!
//! Email is the one channel every lab already has, so this sink exists for labs with
//! no chat room (and for people who filter "doughnuts" into a folder). It speaks SMTP
//! through lettre over rustls — the same TLS stack as the chat sinks, no OpenSSL — in
//! one of three modes: STARTTLS (587), TLS from the first byte (465) or plain (25, for
//! a lab-internal relay). The server certificate is checked against the webpki roots
//! plus, when `ca_file` is set, the lab's own CA.
//!
//! Everything that can be wrong in the config (addresses, the CA file, a username
//! without a password) is found in [`EmailSink::new`], when the daemon starts, not at
//! the first doughnut. Each send opens a fresh connection (lettre's pool is not
//! compiled in): a doughnut is rare, and a mail server restarted in between cannot
//! leave a dead pooled connection behind.
//!
//! The message's `Date` is the announcement's creation time and its `Message-ID` is
//! `<{id}@daas.{device}>` — the announcement id, then the device name reduced to
//! lower-case letters, digits and dashes (`<{id}@daas>` when nothing is left of it).
//! A resend after a failure therefore carries the same `Message-ID`, and mail
//! clients and list servers recognise it as the same message, not a second one.
//!
//! Failures are classified for the retry logic: a 4xx reply, a refused or dropped
//! connection or a timeout are retryable; a 5xx reply, a refused login and a server
//! certificate that cannot be verified are permanent (retrying the same handshake
//! against the same certificate cannot succeed; a person must set `ca_file` or fix
//! the server). Every error text passes through a [`Redactor`] holding the password.
//!
//! The config checks live in `setup` and the wording of failures in `failure`; this
//! file is the sink itself: building the transport and the message, and sending.

mod failure;
mod setup;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use self::setup::{address, check_server, credentials, mailbox, mailboxes, tls};
use super::secret::{Redactor, Secret};
use super::{SendError, Sink};
use crate::announce::Announcement;
use crate::config::EmailSinkConfig;
use crate::input::BoxFuture;

pub struct EmailSink {
    name: String,
    /// `server:port`, for error messages.
    address: String,
    /// For the "refused the username or password" message.
    username: Option<String>,
    /// For the advice on a certificate that does not verify.
    ca_file: Option<PathBuf>,
    from: Mailbox,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    redactor: Redactor,
}

impl EmailSink {
    /// Checks the config and prepares the SMTP transport; connects to nothing yet.
    pub fn new(
        config: &EmailSinkConfig,
        password: Option<Secret>,
        timeout: Duration,
    ) -> Result<EmailSink, String> {
        let server = check_server(&config.server)?;
        let port = config.port.unwrap_or_else(|| config.tls.default_port());
        if port == 0 {
            return Err(
                "`port` 0 is not a port; give 1 to 65535 or leave it out for the usual one"
                    .to_string(),
            );
        }
        let from = mailbox("from", &config.from)?;
        let to = mailboxes("to", &config.to.to_vec())?;
        if to.is_empty() {
            return Err("`to` is empty; give at least one address".to_string());
        }
        let cc = mailboxes("cc", &config.cc)?;
        let credentials = credentials(config.username.as_deref(), password.as_ref())?;
        let tls = tls(config.tls, server, config.ca_file.as_deref())?;

        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
            .port(port)
            .tls(tls)
            // A zero timeout would fail every send at once; the dispatcher's own timeout still applies.
            .timeout((!timeout.is_zero()).then_some(timeout));
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        let mut redactor = Redactor::default();
        if let Some(password) = &password {
            redactor.add(password);
        }
        Ok(EmailSink {
            name: config.name.clone(),
            address: address(server, port),
            username: config.username.clone(),
            ca_file: config.ca_file.clone(),
            from,
            to,
            cc,
            transport: builder.build(),
            redactor,
        })
    }

    /// The email for one announcement.
    fn message(&self, announcement: &Announcement) -> Result<Message, lettre::error::Error> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(one_line(&announcement.subject))
            .message_id(Some(message_id(&announcement.id, &announcement.device)))
            .header(ContentType::TEXT_PLAIN);
        if let Some(created) = announcement.created {
            builder = builder.date(system_time(created));
        }
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        for cc in &self.cc {
            builder = builder.cc(cc.clone());
        }
        let mut message = builder.body(announcement.body.clone())?;
        if announcement.created.is_none() {
            // lettre adds "now" when there is no Date, and now is exactly what cannot
            // be believed yet (1970, or hours behind): no Date beats a wrong one, and
            // the receiving server stamps its own Received: time.
            message
                .headers_mut()
                .remove::<lettre::message::header::Date>();
        }
        Ok(message)
    }
}

impl Sink for EmailSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "email"
    }

    fn send<'a>(&'a self, announcement: &'a Announcement) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let message = self
                .message(announcement)
                .map_err(|err| SendError::Permanent {
                    message: self
                        .redactor
                        .redact(&format!("cannot build the email: {err}")),
                })?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|err| self.classify(&err))
        })
    }
}

/// A subject is one header line; a line break from a multi-line template becomes a space.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The announcement's creation time; "now" in the (impossible in practice) case that
/// it is outside what `SystemTime` can hold.
fn system_time(created: jiff::Timestamp) -> SystemTime {
    SystemTime::try_from(created).unwrap_or_else(|_| SystemTime::now())
}

/// `<{id}@daas.{device}>`: stable across resends of one announcement.
fn message_id(id: &str, device: &str) -> String {
    // Both halves must be dot-atoms; a UUID already is, anything else is made one.
    let left = atom(id, false);
    let left = if left.is_empty() {
        "announcement".to_string()
    } else {
        left
    };
    match atom(device, true) {
        right if right.is_empty() => format!("<{left}@daas>"),
        right => format!("<{left}@daas.{right}>"),
    }
}

/// `text` with every run of characters other than ASCII letters, digits, `-` and `_`
/// replaced by one dash, without dashes at either end; lower-cased if asked (host-like).
fn atom(text: &str, lower: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || (c == '-' && !out.ends_with('-')) {
            out.push(if lower { c.to_ascii_lowercase() } else { c });
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{OneOrMany, SmtpTls};

    /// A valid config; the tests change one thing in it.
    pub(super) fn config() -> EmailSinkConfig {
        EmailSinkConfig {
            name: "mail".into(),
            server: "smtp.example.org".into(),
            port: None,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            password_file: None,
            password_env: None,
            from: "Doughnut Button <donuts@example.org>".into(),
            to: OneOrMany::One("lab@example.org".into()),
            cc: Vec::new(),
            ca_file: None,
            timeout_s: 10,
        }
    }

    pub(super) fn new(
        config: &EmailSinkConfig,
        password: Option<&str>,
    ) -> Result<EmailSink, String> {
        EmailSink::new(config, password.map(Secret::new), Duration::from_secs(10))
    }

    #[test]
    fn builds_with_the_usual_port_for_each_mode() {
        for (mode, port) in [
            (SmtpTls::Starttls, 587),
            (SmtpTls::Tls, 465),
            (SmtpTls::None, 25),
        ] {
            let sink = new(
                &EmailSinkConfig {
                    tls: mode,
                    ..config()
                },
                None,
            )
            .expect("valid config");
            assert_eq!(sink.address, format!("smtp.example.org:{port}"));
        }
        let sink = new(
            &EmailSinkConfig {
                port: Some(2525),
                ..config()
            },
            None,
        )
        .expect("valid config");
        assert_eq!(sink.address, "smtp.example.org:2525");
        let sink = new(
            &EmailSinkConfig {
                server: "::1".into(),
                ..config()
            },
            None,
        )
        .expect("an IPv6 address is a valid server");
        assert_eq!(sink.address, "[::1]:587");
    }

    #[test]
    fn message_ids_are_stable_and_well_formed() {
        assert_eq!(
            message_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "Kitchen Pi #2"),
            "<0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b@daas.kitchen-pi-2>"
        );
        assert_eq!(message_id("abc", "🍩"), "<abc@daas>");
        assert_eq!(message_id("a b<c>@d", "--x--"), "<a-b-c-d@daas.x>");
        assert_eq!(message_id("", ""), "<announcement@daas>");
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(
            one_line("Doughnuts!\nCome quick\r\n"),
            "Doughnuts! Come quick"
        );
    }

    #[test]
    fn the_message_has_date_id_and_plain_text() {
        let sink = new(
            &EmailSinkConfig {
                cc: vec!["boss@example.org".into()],
                ..config()
            },
            None,
        )
        .expect("valid config");
        let announcement = Announcement {
            id: "id-1".into(),
            action: "arrival".into(),
            subject: "🍩 Doughnuts".into(),
            body: "In the kitchen.".into(),
            device: "kitchen".into(),
            created: Some(jiff::Timestamp::from_second(1_750_000_000).expect("timestamp")),
        };
        let text = String::from_utf8(sink.message(&announcement).expect("message").formatted())
            .expect("utf-8");
        assert!(
            text.contains("Message-ID: <id-1@daas.kitchen>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Date: Sun, 15 Jun 2025 15:06:40 +0000\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{text}"
        );
        assert!(text.contains("Cc: boss@example.org\r\n"), "{text}");
        assert!(!text.contains("🍩"), "the subject must be encoded: {text}");
    }
}
