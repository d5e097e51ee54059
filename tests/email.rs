//! The email sink against a real SMTP server over real sockets: aiosmtpd
//! (tests/support/smtp_server.py, Debian's python3-aiosmtpd) on 127.0.0.1, with a
//! certificate made by the `openssl` command at test time. Every case asserts on what
//! the server actually received (it saves each message as JSON) or on how the sink
//! classified the server's refusal.
//!
//! The sink is built exactly as the daemon builds it: config text → `config::parse`
//! → `sinks::build`, and each send is wrapped in the sink's timeout as the
//! dispatcher does.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use daas::announce::Announcement;
use daas::config::Config;
use daas::sinks::{ConfiguredSink, SendError};
use serde_json::Value;
use tempfile::TempDir;

/// How long the server may take to start on a busy machine.
const READY_WAIT: Duration = Duration::from_secs(20);

const USERNAME: &str = "donuts@example.org";
const PASSWORD: &str = "correct-horse-battery-staple";

/// A CA and a server certificate for localhost / 127.0.0.1 signed by it.
///
/// A CA plus a leaf, not one self-signed certificate: `openssl req -x509` marks its
/// certificate as a CA, and webpki (rightly) refuses a CA certificate as a server's
/// own. The `ca_file` the sink trusts is the CA, as a lab's own mail server's would be.
struct Pki {
    _dir: TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn openssl(args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl (Debian package openssl)");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name);
    let (ca, ca_key, cert, key) = (
        path("ca.pem"),
        path("ca.key"),
        path("server.pem"),
        path("server.key"),
    );
    let s = |p: &Path| p.to_str().expect("utf-8 temp path").to_string();
    // P-256 keys: quick to make on a slow machine, and both rustls and Python take them.
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
    ];
    let ca_args = [
        "req",
        "-x509",
        "-subj",
        "/CN=daas test CA",
        "-keyout",
        &s(&ca_key),
        "-out",
        &s(&ca),
    ];
    openssl(&[&ca_args[..], &new_key[..]].concat());
    let leaf_args = [
        "req",
        "-x509",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-CA",
        &s(&ca),
        "-CAkey",
        &s(&ca_key),
        "-keyout",
        &s(&key),
        "-out",
        &s(&cert),
    ];
    openssl(&[&leaf_args[..], &new_key[..]].concat());
    Pki {
        _dir: dir,
        ca,
        cert,
        key,
    }
}

/// One self-signed certificate as `openssl req -x509` makes it by default: marked as
/// a CA, and its own `ca_file`.
fn self_signed() -> Pki {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (
        dir.path().join("self-signed.pem"),
        dir.path().join("self-signed.key"),
    );
    let (cert_arg, key_arg) = (
        cert.to_str().expect("utf-8 path"),
        key.to_str().expect("utf-8 path"),
    );
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        key_arg,
        "-out",
        cert_arg,
    ]);
    Pki {
        ca: cert.clone(),
        cert,
        key,
        _dir: dir,
    }
}

/// A port nobody listens on (at the moment of asking).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

#[derive(Clone, Copy)]
struct ServerOptions {
    mode: &'static str,
    /// Require AUTH with `USERNAME` / `PASSWORD`.
    auth: bool,
    /// AUTH mechanisms to offer.
    mechanisms: &'static str,
}

const PLAIN_RELAY: ServerOptions = ServerOptions {
    mode: "none",
    auth: false,
    mechanisms: "PLAIN,LOGIN",
};

/// The running SMTP server; killed when dropped, so a failing test leaves nothing behind.
struct Server {
    child: Child,
    port: u16,
    out: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> String {
    // aiosmtpd is a Debian package, so Debian's interpreter, not whichever python3 is first on PATH.
    std::env::var("DAAS_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_string())
}

impl Server {
    fn start(pki: &Pki, options: ServerOptions) -> Server {
        Server::start_on(pki, options, None)
    }

    /// Starts the server on `port`, or on a free one (trying again if another process
    /// took it between asking and binding).
    fn start_on(pki: &Pki, options: ServerOptions, port: Option<u16>) -> Server {
        let mut last = String::new();
        for _ in 0..3 {
            match Server::try_start(pki, options, port.unwrap_or_else(free_port)) {
                Ok(server) => return server,
                Err(err) => last = err,
            }
        }
        panic!("the SMTP server did not start: {last}");
    }

    fn try_start(pki: &Pki, options: ServerOptions, port: u16) -> Result<Server, String> {
        let out = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(out.path().join("server.log")).expect("log file");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut command = Command::new(python());
        command
            .arg(script)
            .args([
                "--port",
                &port.to_string(),
                "--mode",
                options.mode,
                "--mechanisms",
                options.mechanisms,
            ])
            .arg("--cert")
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key)
            .arg("--out")
            .arg(out.path())
            .stdout(Stdio::piped())
            .stderr(log);
        if options.auth {
            command.args(["--auth", "--username", USERNAME, "--password", PASSWORD]);
        }
        let mut child = command
            .spawn()
            .map_err(|err| format!("cannot run {}: {err}", python()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + READY_WAIT;
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.trim() == "READY" => return Ok(Server { child, port, out }),
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log =
                        std::fs::read_to_string(out.path().join("server.log")).unwrap_or_default();
                    return Err(format!(
                        "no READY from port {port} within {READY_WAIT:?}; its log:\n{log}"
                    ));
                }
            }
        }
    }

    /// The messages the server accepted, oldest first.
    fn received(&self) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.out.path())
            .expect("read output dir")
            .map(|entry| entry.expect("dir entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| {
                serde_json::from_str(&std::fs::read_to_string(path).expect("read message"))
                    .expect("message JSON")
            })
            .collect()
    }

    fn only_message(&self) -> Value {
        let mut received = self.received();
        assert_eq!(
            received.len(),
            1,
            "expected exactly one message, got {received:#?}"
        );
        received.remove(0)
    }
}

/// A valid config whose only sink is the email sink described by `sink` (TOML keys).
fn config(sink: &str) -> Config {
    let text = format!(
        r#"
[device]
name = "Kitchen Pi"
[button]
pin = 17
[gestures]
press = "arrival"
[actions.arrival]
subject = "🍩 Doughnuts in the kitchen!"
body = "Fresh doughnuts, announced by {{device}}. Come and get them."
[[sinks]]
type = "email"
name = "mail"
from = "Doughnut Button <donuts@example.org>"
timeout_s = 20
{sink}
"#
    );
    daas::config::parse(&text, "test.toml")
        .unwrap_or_else(|err| panic!("config does not parse: {err}\n{text}"))
}

fn toml_path(path: &Path) -> String {
    format!("{:?}", path.to_str().expect("utf-8 path"))
}

fn build(config: &Config) -> ConfiguredSink {
    daas::sinks::build(&config.sinks[0]).unwrap_or_else(|err| panic!("sink does not build: {err}"))
}

fn announcement(config: &Config, id: &str) -> Announcement {
    daas::announce::make(
        config,
        "arrival",
        &jiff::ZonedDateTime::now(),
        id.to_string(),
    )
    .expect("the arrival action exists")
}

/// One send, bounded by the sink's timeout as the dispatcher bounds it.
async fn send(sink: &ConfiguredSink, announcement: &Announcement) -> Result<(), SendError> {
    tokio::time::timeout(sink.timeout, sink.sink.send(announcement))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the send did not finish within the sink's timeout {:?}",
                sink.timeout
            )
        })
}

/// Error texts follow the project's style: one line, lower-case start, no full stop.
fn assert_style(message: &str) {
    assert!(!message.contains('\n'), "more than one line: {message:?}");
    assert!(
        message.chars().next().is_some_and(|c| !c.is_uppercase()),
        "capital start: {message:?}"
    );
    assert!(!message.ends_with('.'), "trailing full stop: {message:?}");
}

fn permanent(result: Result<(), SendError>) -> String {
    match result {
        Err(SendError::Permanent { message }) => {
            assert_style(&message);
            message
        }
        other => panic!("expected a permanent failure, got {other:?}"),
    }
}

fn retryable(result: Result<(), SendError>) -> String {
    match result {
        Err(SendError::Retryable {
            message,
            retry_after,
        }) => {
            assert_style(&message);
            assert_eq!(retry_after, None, "SMTP has no Retry-After");
            message
        }
        other => panic!("expected a retryable failure, got {other:?}"),
    }
}

fn str_at<'a>(message: &'a Value, pointer: &str) -> &'a str {
    message
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {message:#?}"))
}

/// The sink config for `server` with the login and the CA trusted.
fn login_sink(server: &Server, pki: &Pki, tls: &str, host: &str) -> String {
    format!(
        "server = \"{host}\"\nport = {}\ntls = \"{tls}\"\nusername = \"{USERNAME}\"\npassword = \"{PASSWORD}\"\n\
         to = \"lab@example.org\"\nca_file = {}\n",
        server.port,
        toml_path(&pki.ca)
    )
}

#[tokio::test]
async fn starttls_with_ca_file_and_login_delivers_the_whole_message() {
    let pki = pki();
    let server = Server::start(
        &pki,
        ServerOptions {
            mode: "starttls",
            auth: true,
            mechanisms: "PLAIN,LOGIN",
        },
    );
    let config = config(&format!(
        "server = \"127.0.0.1\"\nport = {}\nusername = \"{USERNAME}\"\npassword = \"{PASSWORD}\"\n\
         to = [\"lab@example.org\", \"Second Floor <second@example.org>\"]\ncc = [\"boss@example.org\"]\nca_file = {}\n",
        server.port,
        toml_path(&pki.ca)
    ));
    let sink = build(&config);
    assert_eq!((sink.sink.name(), sink.sink.kind()), ("mail", "email"));

    send(&sink, &announcement(&config, "some-id"))
        .await
        .expect("delivered");

    let message = server.only_message();
    assert_eq!(message["tls"], true, "STARTTLS was used");
    // Offered both, lettre picks PLAIN (the first of its defaults).
    assert_eq!(message["auth"]["mechanism"], "PLAIN");
    assert_eq!(message["auth"]["login"], USERNAME);
    assert_eq!(message["mail_from"], "donuts@example.org");
    assert_eq!(
        message["rcpt_tos"],
        serde_json::json!(["lab@example.org", "second@example.org", "boss@example.org"])
    );
    let header = |name: &str| str_at(&message, &format!("/parsed/{name}")).to_string();
    assert!(
        header("to").contains("lab@example.org")
            && header("to").contains("Second Floor <second@example.org>"),
        "{message:#?}"
    );
    assert_eq!(header("cc"), "boss@example.org");
    assert_eq!(header("from"), "Doughnut Button <donuts@example.org>");
    // The emoji went over the wire encoded and came back intact.
    assert_eq!(header("subject"), "🍩 Doughnuts in the kitchen!");
    assert!(
        !str_at(&message, "/data")
            .lines()
            .any(|l| l.starts_with("Subject:") && l.contains('🍩')),
        "subject not encoded"
    );
    assert_eq!(header("message_id"), "<some-id@daas.kitchen-pi>");
    assert!(
        header("date").contains(&jiff::ZonedDateTime::now().year().to_string()),
        "{message:#?}"
    );
    assert_eq!(
        (header("content_type"), header("charset")),
        ("text/plain".to_string(), "utf-8".to_string())
    );
    assert!(
        header("body").contains("Fresh doughnuts, announced by Kitchen Pi. Come and get them."),
        "{message:#?}"
    );
}

#[tokio::test]
async fn starttls_login_with_the_login_mechanism() {
    let pki = pki();
    // The server offers only LOGIN, which forces lettre to use it.
    let server = Server::start(
        &pki,
        ServerOptions {
            mode: "starttls",
            auth: true,
            mechanisms: "LOGIN",
        },
    );
    let config = config(&login_sink(&server, &pki, "starttls", "127.0.0.1"));

    send(&build(&config), &announcement(&config, "login-id"))
        .await
        .expect("delivered");

    let message = server.only_message();
    assert_eq!(message["auth"]["mechanism"], "LOGIN");
    assert_eq!(
        str_at(&message, "/parsed/message_id"),
        "<login-id@daas.kitchen-pi>"
    );
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let pki = pki();
    let server = Server::start(
        &pki,
        ServerOptions {
            mode: "tls",
            auth: true,
            mechanisms: "PLAIN,LOGIN",
        },
    );
    // By name this time: the certificate is checked against "localhost".
    let config = config(&login_sink(&server, &pki, "tls", "localhost"));

    send(&build(&config), &announcement(&config, "tls-id"))
        .await
        .expect("delivered");

    let message = server.only_message();
    assert_eq!(message["tls"], true);
    assert_eq!(message["auth"]["login"], USERNAME);
    assert_eq!(
        str_at(&message, "/parsed/subject"),
        "🍩 Doughnuts in the kitchen!"
    );
}

#[tokio::test]
async fn a_plain_relay_without_login_delivers() {
    let pki = pki();
    let server = Server::start(&pki, PLAIN_RELAY);
    let config = config(&format!(
        "server = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nto = \"lab@example.org\"\n",
        server.port
    ));

    send(&build(&config), &announcement(&config, "plain-id"))
        .await
        .expect("delivered");

    let message = server.only_message();
    assert_eq!(
        (message["tls"].clone(), message["auth"].clone()),
        (Value::Bool(false), Value::Null)
    );
    assert_eq!(message["rcpt_tos"], serde_json::json!(["lab@example.org"]));
}

/// Without `ca_file` the test CA is unknown, so the certificate cannot be verified.
/// Classified permanent: the same handshake against the same certificate fails the
/// same way every time; a person has to set `ca_file` (or fix the server), and
/// retrying until then only hides the problem.
#[tokio::test]
async fn starttls_without_ca_file_refuses_the_unknown_certificate() {
    let pki = pki();
    let server = Server::start(
        &pki,
        ServerOptions {
            mode: "starttls",
            auth: true,
            mechanisms: "PLAIN,LOGIN",
        },
    );
    let config = config(&format!(
        "server = \"127.0.0.1\"\nport = {}\nusername = \"{USERNAME}\"\npassword = \"{PASSWORD}\"\nto = \"lab@example.org\"\n",
        server.port
    ));

    let message = permanent(send(&build(&config), &announcement(&config, "id")).await);

    assert!(
        message.starts_with(&format!(
            "cannot verify the TLS certificate of 127.0.0.1:{}: ",
            server.port
        )),
        "{message}"
    );
    assert!(
        message.contains("UnknownIssuer") && message.contains("set `ca_file`"),
        "{message}"
    );
    assert!(server.received().is_empty());
}

/// A self-signed certificate made as a CA cannot be trusted through `ca_file`: webpki
/// refuses a CA certificate as a server's own, and lettre offers no way to pin one.
/// The message says what to do instead.
#[tokio::test]
async fn a_self_signed_ca_certificate_is_refused_with_advice() {
    let pki = self_signed();
    let server = Server::start(
        &pki,
        ServerOptions {
            mode: "starttls",
            auth: true,
            mechanisms: "PLAIN,LOGIN",
        },
    );
    let config = config(&login_sink(&server, &pki, "starttls", "localhost"));

    let message = permanent(send(&build(&config), &announcement(&config, "id")).await);

    assert!(
        message.starts_with(&format!(
            "cannot verify the TLS certificate of localhost:{}: ",
            server.port
        )),
        "{message}"
    );
    assert!(
        message.contains("presents a CA certificate as its own"),
        "{message}"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_wrong_password_is_permanent_and_never_shown() {
    let pki = pki();
    let server = Server::start(
        &pki,
        ServerOptions {
            mode: "starttls",
            auth: true,
            mechanisms: "PLAIN,LOGIN",
        },
    );
    let wrong = "wrong-password-4711";
    let config = config(&format!(
        "server = \"127.0.0.1\"\nport = {}\nusername = \"{USERNAME}\"\npassword = \"{wrong}\"\nto = \"lab@example.org\"\nca_file = {}\n",
        server.port,
        toml_path(&pki.ca)
    ));

    let message = permanent(send(&build(&config), &announcement(&config, "id")).await);

    let expected = format!(
        "the server 127.0.0.1:{} refused the username or password for `username` \"{USERNAME}\" (535 ",
        server.port
    );
    assert!(message.starts_with(&expected), "{message}");
    assert!(
        !message.contains(wrong) && !message.contains(PASSWORD),
        "{message}"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_server_that_is_not_listening_is_retryable_and_quick() {
    let port = free_port();
    let config = config(&format!(
        "server = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nto = \"lab@example.org\"\n"
    ));
    let sink = build(&config);

    let started = Instant::now();
    let message = retryable(send(&sink, &announcement(&config, "id")).await);

    assert!(
        message.starts_with(&format!("cannot reach 127.0.0.1:{port}: ")),
        "{message}"
    );
    // A refused connection is reported at once, not after the 20 s timeout.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_4xx_reply_is_retryable() {
    let pki = pki();
    let server = Server::start(&pki, PLAIN_RELAY);
    let config = config(&format!(
        "server = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nto = \"defer@example.org\"\n",
        server.port
    ));

    let message = retryable(send(&build(&config), &announcement(&config, "id")).await);

    assert_eq!(
        message,
        format!(
            "the server 127.0.0.1:{} deferred the message (451 4.3.0 try later)",
            server.port
        )
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_5xx_reply_is_permanent() {
    let pki = pki();
    let server = Server::start(&pki, PLAIN_RELAY);
    let config = config(&format!(
        "server = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nto = [\"lab@example.org\", \"nouser@example.org\"]\n",
        server.port
    ));

    let message = permanent(send(&build(&config), &announcement(&config, "id")).await);

    assert_eq!(
        message,
        format!(
            "the server 127.0.0.1:{} rejected the message (550 5.1.1 no such user)",
            server.port
        )
    );
    assert!(server.received().is_empty());
}

/// A send after the mail server restarted works (no stale pooled connection), and a
/// resend of the same announcement carries the same Message-ID.
#[tokio::test]
async fn a_restarted_server_gets_the_resend_with_the_same_message_id() {
    let pki = pki();
    let options = ServerOptions {
        mode: "starttls",
        auth: true,
        mechanisms: "PLAIN,LOGIN",
    };
    let first = Server::start(&pki, options);
    let port = first.port;
    let config = config(&login_sink(&first, &pki, "starttls", "127.0.0.1"));
    let sink = build(&config);
    let announcement = announcement(&config, "resend-id");

    send(&sink, &announcement)
        .await
        .expect("delivered to the first server");
    let first_id = str_at(&first.only_message(), "/parsed/message_id").to_string();
    drop(first);
    let second = Server::start_on(&pki, options, Some(port));
    send(&sink, &announcement)
        .await
        .expect("delivered to the restarted server");

    assert_eq!(
        str_at(&second.only_message(), "/parsed/message_id"),
        first_id
    );
}
