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

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rustls::CertificateError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::secret::{Redactor, Secret};
use super::{SendError, Sink};
use crate::announce::Announcement;
use crate::config::{EmailSinkConfig, SmtpTls};
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
            .date(system_time(announcement.created))
            .message_id(Some(message_id(&announcement.id, &announcement.device)))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        for cc in &self.cc {
            builder = builder.cc(cc.clone());
        }
        builder.body(announcement.body.clone())
    }

    /// Turns a lettre error into a one-line, password-free [`SendError`].
    fn classify(&self, err: &SmtpError) -> SendError {
        let address = &self.address;
        let detail = detail(err);
        let (retryable, message) = if let Some(code) = err.status() {
            self.classify_reply(u16::from(code), err.is_transient(), &detail)
        } else if let Some(problem) = certificate_problem(err) {
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
}

impl EmailSink {
    /// Why the server's certificate was refused, with what to do about it.
    fn certificate_message(&self, problem: &CertificateError) -> String {
        let text = problem.to_string();
        let advice = match (problem, &self.ca_file) {
            (CertificateError::UnknownIssuer, None) => {
                "no trusted CA signed it; if the server uses the lab's own CA, set `ca_file` to \
                 that CA's certificate"
                    .to_string()
            }
            (CertificateError::UnknownIssuer, Some(path)) => {
                format!(
                    "`ca_file` {} does not hold the CA that signed it",
                    path.display()
                )
            }
            // webpki's reason for a self-signed certificate made as a CA (what
            // `openssl req -x509` makes by default); it only shows in the text.
            _ if text.contains("CaUsedAsEndEntity") => {
                "the server presents a CA certificate as its own, which TLS clients refuse; give \
                 the server a certificate signed by a CA and set `ca_file` to that CA"
                    .to_string()
            }
            (
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
                _,
            ) => "`server` must be a name (or address) the certificate is for".to_string(),
            _ => String::new(),
        };
        let address = &self.address;
        if advice.is_empty() {
            format!("cannot verify the TLS certificate of {address}: {text}")
        } else {
            format!("cannot verify the TLS certificate of {address}: {text}; {advice}")
        }
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

/// `server` as a host name or IP address; catches the URL and `host:port` forms
/// people paste from mail-client settings.
fn check_server(server: &str) -> Result<&str, String> {
    let server = server.trim();
    if server.is_empty() {
        return Err(
            "`server` is empty; give the mail server's host name, e.g. \"smtp.example.org\""
                .to_string(),
        );
    }
    if server.contains("://") {
        return Err(format!(
            "`server` \"{server}\" is a URL; give only the host name, e.g. \"smtp.example.org\""
        ));
    }
    // An IPv6 address has colons too; anything else with one is `host:port`.
    if server.contains(':') && server.parse::<std::net::IpAddr>().is_err() {
        return Err(format!(
            "`server` \"{server}\" has a port in it; give the host name alone and the port as `port`"
        ));
    }
    if server.contains(char::is_whitespace) {
        return Err(format!(
            "`server` \"{server}\" has a space in it; give the host name alone"
        ));
    }
    Ok(server)
}

/// `host:port` as people write it, with an IPv6 address in brackets.
fn address(server: &str, port: u16) -> String {
    if server.contains(':') {
        format!("[{server}]:{port}")
    } else {
        format!("{server}:{port}")
    }
}

/// One address, as `a@b` or `Name <a@b>`.
fn mailbox(key: &str, text: &str) -> Result<Mailbox, String> {
    text.trim().parse::<Mailbox>().map_err(|err| {
        format!(
            "`{key}` \"{text}\" is not an email address: {}",
            lower_first(&err.to_string())
        )
    })
}

fn mailboxes(key: &str, texts: &[String]) -> Result<Vec<Mailbox>, String> {
    texts.iter().map(|text| mailbox(key, text)).collect()
}

/// The login, if any. A password without a username (or the reverse) is a config
/// mistake, not a reason to send without logging in.
fn credentials(
    username: Option<&str>,
    password: Option<&Secret>,
) -> Result<Option<Credentials>, String> {
    match (username, password) {
        (Some(username), Some(password)) => {
            if username.trim().is_empty() {
                return Err("`username` is empty; give the login name (often the `from` address)".to_string());
            }
            Ok(Some(Credentials::new(username.to_string(), password.expose().to_string())))
        }
        (Some(_), None) => {
            Err("`username` is set but no password; give one of `password`, `password_file` or `password_env`".to_string())
        }
        (None, Some(_)) => {
            Err("a password is set but no `username`; set `username` to the login name (often the `from` address)".to_string())
        }
        (None, None) => Ok(None),
    }
}

/// The TLS mode, with certificates checked against the webpki roots plus `ca_file`.
fn tls(mode: SmtpTls, server: &str, ca_file: Option<&Path>) -> Result<Tls, String> {
    if mode == SmtpTls::None {
        return match ca_file {
            Some(path) => Err(format!(
                "`ca_file` {} is set but `tls` is \"none\", so no certificate is checked; remove `ca_file` or set `tls`",
                path.display()
            )),
            None => Ok(Tls::None),
        };
    }
    let mut builder =
        TlsParameters::builder(server.to_string()).certificate_store(CertificateStore::WebpkiRoots);
    if let Some(path) = ca_file {
        for certificate in read_ca_file(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    let parameters = builder.build_rustls().map_err(|err| match ca_file {
        // The only input that can make this fail is a certificate rustls rejects.
        Some(path) => format!("cannot use `ca_file` {}: {err}", path.display()),
        None => format!("cannot set up TLS for `server` \"{server}\": {err}"),
    })?;
    Ok(match mode {
        SmtpTls::Tls => Tls::Wrapper(parameters),
        _ => Tls::Required(parameters),
    })
}

/// The certificates in a PEM file. lettre accepts a file with none, which would
/// silently trust nothing extra, so an empty one is an error here.
fn read_ca_file(path: &Path) -> Result<Vec<Certificate>, String> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|err| format!("cannot read `ca_file` {shown}: {err}; check the path and that the daas user may read it"))?;
    let ders = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("`ca_file` {shown} is not valid PEM: {err}"))?;
    if ders.is_empty() {
        return Err(format!(
            "`ca_file` {shown} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)"
        ));
    }
    ders.into_iter()
        .map(|der| {
            Certificate::from_der(der.to_vec()).map_err(|err| {
                format!("`ca_file` {shown} holds a certificate that cannot be used: {err}")
            })
        })
        .collect()
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

/// The reason, when the failure is a server certificate that does not verify.
fn certificate_problem(err: &SmtpError) -> Option<&CertificateError> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(cause) = next {
        if let Some(rustls::Error::InvalidCertificate(reason)) = as_rustls(cause) {
            return Some(reason);
        }
        next = cause.source();
    }
    None
}

/// `cause` as a rustls error. The TLS stream reports one wrapped in an `io::Error`,
/// whose `source()` skips the wrapped error itself, so look inside explicitly.
fn as_rustls<'a>(cause: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = cause.downcast_ref::<std::io::Error>()?.get_ref()?;
    inner.downcast_ref::<rustls::Error>()
}

/// lettre's texts start with a capital; ours do not.
fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OneOrMany;

    fn config() -> EmailSinkConfig {
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

    fn new(config: &EmailSinkConfig, password: Option<&str>) -> Result<EmailSink, String> {
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
    fn config_mistakes_name_the_key() {
        let cases = [
            (
                EmailSinkConfig {
                    from: "not an address".into(),
                    ..config()
                },
                "`from` \"not an address\" is not an email address: ",
            ),
            (
                EmailSinkConfig {
                    to: OneOrMany::Many(vec![]),
                    ..config()
                },
                "`to` is empty",
            ),
            (
                EmailSinkConfig {
                    cc: vec!["a@b@c".into()],
                    ..config()
                },
                "`cc` \"a@b@c\" is not an email address",
            ),
            (
                EmailSinkConfig {
                    server: "smtp://x.org".into(),
                    ..config()
                },
                "`server` \"smtp://x.org\" is a URL",
            ),
            (
                EmailSinkConfig {
                    server: "x.org:587".into(),
                    ..config()
                },
                "`server` \"x.org:587\" has a port in it",
            ),
            (
                EmailSinkConfig {
                    username: Some("bob".into()),
                    ..config()
                },
                "`username` is set but no password",
            ),
            (
                EmailSinkConfig {
                    ca_file: Some("/nonexistent/ca.pem".into()),
                    ..config()
                },
                "cannot read `ca_file` /nonexistent/ca.pem: ",
            ),
        ];
        for (config, expected) in cases {
            let err = new(&config, None).err().expect("a config mistake");
            assert!(err.starts_with(expected), "{err}");
        }
        let err = new(&config(), Some("hunter2hunter2"))
            .err()
            .expect("password without username");
        assert!(
            err.contains("no `username`") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let err = new(
            &EmailSinkConfig {
                ca_file: Some(path.clone()),
                ..config()
            },
            None,
        )
        .err()
        .expect("empty ca_file");
        assert_eq!(
            err,
            format!(
                "`ca_file` {} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)",
                path.display()
            )
        );
        let err = new(
            &EmailSinkConfig {
                ca_file: Some(path),
                tls: SmtpTls::None,
                ..config()
            },
            None,
        )
        .err()
        .expect("ca_file without tls");
        assert!(err.contains("`tls` is \"none\""), "{err}");
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
            created: jiff::Timestamp::from_second(1_750_000_000).expect("timestamp"),
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
