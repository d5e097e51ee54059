//! Turning a failed send into a [`SendError`]: retryable or permanent, as one
//! password-free line that says what went wrong and, where a person can fix it, how.
//! It exists because the causes come from several layers (the name lookup, TCP, the
//! TLS handshake, lettre's SMTP dialogue with its chain of reply, TLS and I/O errors)
//! that the retry logic and the lab's log both need sorted out.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use lettre::transport::smtp::Error as SmtpError;
use rustls::CertificateError;

use super::EmailSink;
use crate::net::tls;
use crate::sinks::SendError;

/// Why a send failed, by the step that failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The server's name gave no address.
    Resolve(io::Error),
    /// The name lookup did not finish within the timeout.
    ResolveTimeout(Duration),
    /// No TCP connection (refused, unreachable).
    Connect(io::Error),
    /// No TCP connection within the timeout.
    ConnectTimeout(Duration),
    /// The handshake of TLS from the first byte failed.
    Handshake(io::Error),
    /// The SMTP dialogue, STARTTLS included (lettre).
    Smtp(SmtpError),
}

impl From<SmtpError> for Failure {
    fn from(err: SmtpError) -> Failure {
        Failure::Smtp(err)
    }
}

impl EmailSink {
    /// Turns a failure into a one-line, password-free [`SendError`].
    pub(super) fn classify(&self, failure: &Failure) -> SendError {
        let address = &self.address;
        let (retryable, message) = match failure {
            Failure::Smtp(err) => self.classify_smtp(err),
            Failure::Resolve(err) | Failure::Connect(err) => {
                (true, format!("cannot reach {address}: {err}"))
            }
            Failure::ResolveTimeout(limit) => (
                true,
                format!("cannot reach {address}: the name lookup took longer than {limit:?}"),
            ),
            Failure::ConnectTimeout(limit) => (
                true,
                format!("cannot reach {address}: no connection within {limit:?}"),
            ),
            Failure::Handshake(err) => match tls::certificate_problem(err) {
                Some(problem) => (false, self.certificate_message(problem)),
                None => (
                    true,
                    format!("the TLS handshake with {address} failed: {err}"),
                ),
            },
        };
        let message = self.redactor.redact(&message);
        if retryable {
            SendError::Retryable {
                message,
                retry_after: None,
            }
        } else {
            SendError::Permanent { message }
        }
    }

    /// Whether a lettre error is worth a retry, and what to say about it.
    fn classify_smtp(&self, err: &SmtpError) -> (bool, String) {
        let address = &self.address;
        let detail = detail(err);
        if let Some(code) = err.status() {
            self.classify_reply(u16::from(code), err.is_transient(), &detail)
        } else if let Some(problem) = tls::certificate_problem(err) {
            (false, self.certificate_message(problem))
        } else if err.is_client() {
            // lettre's own refusals, e.g. the server offers no login method it knows.
            (false, format!("cannot send through {address}: {detail}"))
        } else if err.is_timeout() {
            (
                true,
                format!("the server {address} did not answer in time: {detail}"),
            )
        } else if err.is_response() {
            (
                true,
                format!("the server {address} sent a reply that cannot be read: {detail}"),
            )
        } else {
            (true, format!("cannot reach {address}: {detail}"))
        }
    }

    /// Classifies a negative SMTP reply: 4xx retryable, 5xx permanent, with login
    /// refusals (530, 534, 535) worded so a person knows to check the credentials.
    fn classify_reply(&self, code: u16, transient: bool, detail: &str) -> (bool, String) {
        let address = &self.address;
        match (code, &self.username) {
            (530 | 534 | 535, Some(username)) => (
                false,
                format!(
                    "the server {address} refused the username or password for `username` \"{username}\" ({code} {detail}); check both"
                ),
            ),
            (530, None) => (
                false,
                format!(
                    "the server {address} requires a login ({code} {detail}); set `username` and `password`"
                ),
            ),
            // Postfix's reject_non_fqdn_helo_hostname and the like: "504 5.5.2
            // <kitchen-pi>: Helo command rejected: need fully-qualified hostname".
            _ if !transient && detail.to_ascii_lowercase().contains("helo") => (
                false,
                format!(
                    "the server {address} refused the name this device gave in EHLO ({code} {detail}); set `helo_name` to the device's fully qualified name, or to its address literal such as \"[192.0.2.7]\""
                ),
            ),
            _ if transient => (
                true,
                format!("the server {address} deferred the message ({code} {detail})"),
            ),
            _ => (
                false,
                format!("the server {address} rejected the message ({code} {detail})"),
            ),
        }
    }

    /// Why the server's certificate was refused, with what to do about it.
    fn certificate_message(&self, problem: &CertificateError) -> String {
        let explained = tls::explain_certificate(problem, self.ca_file.as_deref(), "`server`");
        format!(
            "cannot verify the TLS certificate of {}: {explained}",
            self.address
        )
    }
}

/// The causes behind a lettre error as one line, without repeating a cause that the
/// previous text already quotes.
fn detail(err: &SmtpError) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = err.source();
    while let Some(cause) = next {
        let text = cause.to_string().replace(['\r', '\n'], " ");
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

/// lettre's texts start with a capital; ours do not.
pub(super) fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
