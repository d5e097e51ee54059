//! The email sink against a real SMTP server over real sockets: aiosmtpd
//! (tests/support/smtp_server.py, Debian's python3-aiosmtpd) on 127.0.0.1, with a
//! certificate made by the `openssl` command at test time. Every case asserts on what
//! the server actually received (it saves each message as JSON) or on how the sink
//! classified the server's refusal.
//!
//! The sink is built exactly as the daemon builds it: config text → `config::parse`
//! → `sinks::build`, and each send is wrapped in the sink's timeout as the
//! dispatcher does.

use std::path::Path;
use std::time::{Duration, Instant};

use daas::config::Config;
use daas::model::Announcement;
use daas::sinks::{ConfiguredSink, SendError};
use serde_json::Value;

use crate::util::pki::{Pki, free_port, pki, self_signed};
use crate::util::smtp::{PASSWORD, PLAIN_RELAY, Server, ServerOptions, USERNAME};

/// A valid config whose only sink is the email sink described by `sink` (TOML keys).
fn config(sink: &str) -> Config {
    let sinks = format!(
        "[[sinks]]\ntype = \"email\"\nname = \"mail\"\n\
         from = \"Doughnut Button <donuts@example.org>\"\ntimeout_s = 20\n{sink}"
    );
    crate::util::config::parse(&crate::util::config::text(
        "Kitchen Pi",
        "🍩 Doughnuts in the kitchen!",
        "Fresh doughnuts, announced by {device}. Come and get them.",
        &sinks,
    ))
}

fn toml_path(path: &Path) -> String {
    format!("{:?}", path.to_str().expect("utf-8 path"))
}

use crate::util::config::first_sink as build;

fn announcement(config: &Config, id: &str) -> Announcement {
    let made = daas::model::WallNow {
        now: jiff::Timestamp::now(),
        trusted: true,
    };
    let draft = daas::config::Settings::of(config)
        .actions
        .draft("arrival", made, id.to_string(), None)
        .expect("the arrival action exists");
    draft.render(Some(made.now), &jiff::tz::TimeZone::system())
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
    // RFC 2045: MIME-Version wherever Content-Type and Content-Transfer-Encoding are.
    assert_eq!(header("mime_version"), "1.0");
    assert!(
        !str_at(&message, "/parsed/content_transfer_encoding").is_empty(),
        "{message:#?}"
    );
    // By default the EHLO name is the host's full name or the address literal of
    // the local end, never lettre's bare hostname, which strict relays refuse.
    let helo = str_at(&message, "/helo");
    assert!(helo.contains('.') || helo == "[127.0.0.1]", "EHLO {helo}");
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

/// The certificate must be for the name in `server`: the test certificate is for
/// localhost and 127.0.0.1, not for 127.0.0.2.
#[tokio::test]
async fn implicit_tls_checks_the_server_name() {
    let pki = pki();
    let server = Server::start_at(
        &pki,
        ServerOptions {
            mode: "tls",
            auth: false,
            mechanisms: "PLAIN,LOGIN",
        },
        "127.0.0.2",
        None,
    );
    let config = config(&format!(
        "server = \"127.0.0.2\"\nport = {}\ntls = \"tls\"\nto = \"lab@example.org\"\nca_file = {}\n",
        server.port,
        toml_path(&pki.ca)
    ));

    let message = permanent(send(&build(&config), &announcement(&config, "id")).await);

    assert!(
        message.starts_with(&format!(
            "cannot verify the TLS certificate of 127.0.0.2:{}: ",
            server.port
        )),
        "{message}"
    );
    assert!(
        message.contains("`server` must be a name (or address) the certificate is for"),
        "{message}"
    );
    assert!(server.received().is_empty());
}

/// `helo_name` is what the server sees in EHLO: a full name or an address literal.
#[tokio::test]
async fn helo_name_is_the_ehlo_name() {
    let pki = pki();
    let server = Server::start(&pki, PLAIN_RELAY);
    for helo_name in ["kitchen-pi.lab.example.org", "[192.0.2.7]"] {
        let config = config(&format!(
            "server = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nto = \"lab@example.org\"\nhelo_name = \"{helo_name}\"\n",
            server.port
        ));
        send(&build(&config), &announcement(&config, helo_name))
            .await
            .expect("delivered");
    }

    let helos: Vec<String> = server
        .received()
        .iter()
        .map(|message| str_at(message, "/helo").to_string())
        .collect();
    assert_eq!(helos, ["kitchen-pi.lab.example.org", "[192.0.2.7]"]);
}

/// A bare `helo_name` is refused when the config is read, at its line and column,
/// with the reason: strict relays refuse it at every send.
#[test]
fn a_bare_helo_name_is_a_config_error_at_its_place() {
    let text = "[button]\npin = 17\n[gestures]\npress = \"arrival\"\n[actions.arrival]\nsubject = \"s\"\nbody = \"b\"\n\
                [[sinks]]\ntype = \"email\"\nname = \"mail\"\nserver = \"127.0.0.1\"\nfrom = \"donuts@example.org\"\n\
                to = \"lab@example.org\"\nhelo_name = \"kitchen-pi\"\n";
    let err = daas::config::parse(text, "test.toml")
        .expect_err("a bare helo_name is refused")
        .to_string();
    assert!(
        err.starts_with("test.toml:14:1: `helo_name` \"kitchen-pi\" is not fully qualified"),
        "{err}"
    );
    assert!(err.contains("[192.0.2.7]"), "{err}");
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

/// Without `ca_file` the test CA is unknown, so the certificate cannot be verified —
/// with STARTTLS and with TLS from the first byte alike. Classified permanent: the
/// same handshake against the same certificate fails the same way every time; a
/// person has to set `ca_file` (or fix the server), and retrying until then only hides
/// the problem.
#[tokio::test]
async fn without_ca_file_the_unknown_certificate_is_refused_in_both_tls_modes() {
    let pki = pki();
    for (mode, server_name) in [("starttls", "127.0.0.1"), ("tls", "localhost")] {
        let server = Server::start(
            &pki,
            ServerOptions {
                mode,
                auth: true,
                mechanisms: "PLAIN,LOGIN",
            },
        );
        let config = config(&format!(
            "server = \"{server_name}\"\nport = {}\ntls = \"{mode}\"\nusername = \"{USERNAME}\"\npassword = \"{PASSWORD}\"\nto = \"lab@example.org\"\n",
            server.port
        ));

        let message = permanent(send(&build(&config), &announcement(&config, "id")).await);

        assert!(
            message.starts_with(&format!(
                "cannot verify the TLS certificate of {server_name}:{}: ",
                server.port
            )),
            "{mode}: {message}"
        );
        assert!(
            message.contains("UnknownIssuer") && message.contains("set `ca_file`"),
            "{mode}: {message}"
        );
        assert!(!message.contains(PASSWORD), "{mode}: {message}");
        assert!(server.received().is_empty(), "{mode}");
    }
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
