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
//! without a password, the EHLO name) is found in [`EmailSink::new`], when the daemon
//! starts, not at the first doughnut. Each send opens a fresh connection: a doughnut
//! is rare, and a mail server restarted in between cannot leave a dead pooled
//! connection behind. The connection is opened by `connect` (with `TCP_NODELAY`, which
//! lettre's own transport does not set, at a cost of 40 ms per email) and the dialogue
//! is lettre's; `helo` picks the EHLO name, since strict relays refuse the bare
//! hostname that lettre would give.
//!
//! Failures are classified for the retry logic: a 4xx reply, a refused or dropped
//! connection or a timeout are retryable; a 5xx reply, a refused login and a server
//! certificate that cannot be verified are permanent (retrying the same handshake
//! against the same certificate cannot succeed; a person must set `ca_file` or fix
//! the server). Every error text passes through a [`Redactor`] holding the password.
//!
//! The config checks live in `setup` (their errors in `error`), the message in
//! `message`, the session set-up in `connect` (and `implicit_tls`, `helo`) and the
//! wording of failures in `failure`; this file is the sink itself: putting those
//! together and sending.

mod connect;
mod error;
mod failure;
mod helo;
mod implicit_tls;
mod message;
mod setup;
mod table;

use std::path::PathBuf;
use std::time::Duration;

use lettre::Message;
use lettre::message::Mailbox;

pub use self::error::EmailSetupError;
pub use self::helo::HeloNameError;
pub use self::helo::check as check_helo_name;
pub use self::table::{EmailSinkConfig, OneOrMany, SmtpTls};

use self::connect::Connector;
use self::failure::Failure;
use self::helo::Helo;
use self::setup::{address, check_server, credentials, mailbox, mailboxes, tls};
use super::secret::{Redactor, Secret};
use super::{SendError, Sink};
use crate::model::Announcement;
use crate::model::BoxFuture;

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
    connector: Connector,
    redactor: Redactor,
}

impl EmailSink {
    /// Checks the config and prepares the connection; connects to nothing yet.
    pub fn new(
        config: &EmailSinkConfig,
        password: Option<Secret>,
        timeout: Duration,
    ) -> Result<EmailSink, EmailSetupError> {
        let server = check_server(&config.server)?;
        let port = config.port.unwrap_or_else(|| config.tls.default_port());
        if port == 0 {
            return Err(EmailSetupError::PortZero);
        }
        let from = mailbox("from", &config.from)?;
        let to = mailboxes("to", &config.to.to_vec())?;
        if to.is_empty() {
            return Err(EmailSetupError::NoRecipient);
        }
        let cc = mailboxes("cc", &config.cc)?;
        let credentials = credentials(config.username.as_deref(), password.as_ref())?;
        let security = tls(config.tls, server, config.ca_file.as_deref())?;
        let helo = Helo::new(config.helo_name.as_deref())?;
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
            connector: Connector {
                server: server.to_string(),
                port,
                // A zero timeout would fail every send at once; the dispatcher's own timeout still applies.
                timeout: (!timeout.is_zero()).then_some(timeout),
                security,
                credentials,
                helo,
            },
            redactor,
        })
    }

    /// One session: connect, hand over the message, say goodbye.
    async fn deliver(&self, message: &Message) -> Result<(), Failure> {
        let mut connection = self.connector.open().await?;
        // The whole message in one piece: lettre writes it, then the end of DATA,
        // and with TCP_NODELAY neither waits for the other.
        connection
            .send(message.envelope(), &message.formatted())
            .await?;
        // The server has the message now. A failed QUIT changes nothing, and must not
        // make the delivery a retry: that would send the message twice.
        if let Err(err) = connection.quit().await {
            log::debug!(
                "sink \"{}\": QUIT after delivery failed: {}",
                self.name,
                self.redactor.redact(&err.to_string())
            );
        }
        Ok(())
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
            self.deliver(&message)
                .await
                .map_err(|failure| self.classify(&failure))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::email::{OneOrMany, SmtpTls};

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
            helo_name: None,
            timeout_s: 10,
        }
    }

    pub(super) fn new(
        config: &EmailSinkConfig,
        password: Option<&str>,
    ) -> Result<EmailSink, EmailSetupError> {
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
}
