//! The email sink against a strict, real Postfix (tests/util/postfix.rs): STARTTLS
//! with the test CA as `ca_file`, AUTH through Dovecot, EHLO names checked with
//! `reject_non_fqdn_helo_hostname`, 8-bit text only where MIME declares it. Each case
//! reads back the file Postfix delivered and decodes it with Python's email package,
//! so what is checked is what a mail client would show.
//!
//! Needs root (Postfix and Dovecot drop privileges) and Debian's postfix and
//! dovecot-core (tests/support/postfix-notes.md). Without root each test fails
//! saying so, unless DAAS_SKIP_ROOT_TESTS=1, when it says it skipped.

use daas::config::{Config, SinkConfig};
use daas::model::Announcement;
use daas::sinks::{ConfiguredSink, SendError};
use serde_json::Value;

use crate::util::pki::{Pki, pki};
use crate::util::postfix::{PASSWORD, Postfix, USERNAME};

const SUBJECT: &str = "🍩 Doughnuts in the kitchen!";
/// 8-bit text in the body: Postfix (strict_8bitmime) takes it only when MIME says so.
const BODY: &str = "Fresh doughnuts — crème brûlée and glazed 🍩, announced by Kitchen Pi.";

/// The sink for `postfix`, as the daemon builds it: STARTTLS, the login, the test
/// CA; `extra` adds keys.
fn config(postfix: &Postfix, pki: &Pki, extra: &str) -> Config {
    let sinks = format!(
        "[[sinks]]\ntype = \"email\"\nname = \"mail\"\nserver = \"127.0.0.1\"\nport = {port}\n\
         tls = \"starttls\"\nusername = \"{USERNAME}\"\npassword = \"{PASSWORD}\"\n\
         from = \"Doughnut Button <{USERNAME}>\"\nto = \"Lab <lab@example.org>\"\n\
         ca_file = {ca:?}\ntimeout_s = 20\n{extra}",
        port = postfix.port,
        ca = pki.ca.to_str().expect("utf-8 path"),
    );
    crate::util::config::parse(&crate::util::config::text(
        "Kitchen Pi",
        SUBJECT,
        "Fresh doughnuts — crème brûlée and glazed 🍩, announced by {device}.",
        &sinks,
    ))
}

use crate::util::config::first_sink as build;

/// An announcement made now; `trusted` says whether the clock could be believed
/// (when not, `created` is None and the email has no Date).
fn announcement(config: &Config, id: &str, trusted: bool) -> Announcement {
    let made = daas::model::WallNow {
        now: jiff::Timestamp::now(),
        trusted,
    };
    let draft = daas::config::Settings::of(config)
        .actions
        .draft("arrival", made, id.to_string(), None)
        .expect("the arrival action exists");
    draft.render(trusted.then_some(made.now), &jiff::tz::TimeZone::system())
}

async fn send(sink: &ConfiguredSink, announcement: &Announcement) -> Result<(), SendError> {
    tokio::time::timeout(sink.timeout, sink.sink.send(announcement))
        .await
        .unwrap_or_else(|_| panic!("no outcome within the sink's timeout {:?}", sink.timeout))
}

/// The decoded values of one header (empty when absent).
fn header(mail: &Value, name: &str) -> Vec<String> {
    mail["headers"][name]
        .as_array()
        .map(|values| {
            values
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The EHLO name Postfix wrote into its Received header: "from NAME (...".
fn helo_in_received(mail: &Value) -> String {
    let received = header(mail, "received");
    let ours = received.first().expect("a Received header");
    ours.split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no name in {ours}"))
        .to_string()
}

#[tokio::test]
async fn a_strict_postfix_delivers_what_the_sink_sends() {
    if !crate::util::postfix::running_as_root("a_strict_postfix_delivers_what_the_sink_sends") {
        return;
    }
    let pki = pki();
    let postfix = Postfix::start(&pki);

    // The default EHLO name, a trusted clock.
    let config = config(&postfix, &pki, "");
    let sink = build(&config);
    send(&sink, &announcement(&config, "dated-id", true))
        .await
        .unwrap_or_else(|err| panic!("not delivered: {err}"));
    let (mail, raw) = postfix.delivered("<dated-id@daas.kitchen-pi>");

    assert_eq!(header(&mail, "mime-version"), ["1.0"], "{raw}");
    assert_eq!(header(&mail, "subject"), [SUBJECT], "{raw}");
    assert!(
        raw.lines().any(|l| l.starts_with("Subject: =?utf-8?")),
        "the subject went over the wire RFC 2047-encoded: {raw}"
    );
    assert_eq!(
        (mail["content_type"].as_str(), mail["charset"].as_str()),
        (Some("text/plain"), Some("utf-8"))
    );
    assert_eq!(
        mail["body"].as_str().map(str::trim_end),
        Some(BODY),
        "{raw}"
    );
    assert_eq!(header(&mail, "date").len(), 1, "{raw}");
    assert!(
        header(&mail, "date")[0].contains(&jiff::ZonedDateTime::now().year().to_string()),
        "{raw}"
    );
    assert_eq!(
        header(&mail, "from"),
        ["Doughnut Button <donuts@example.org>"]
    );
    // STARTTLS and AUTH were used ("ESMTPSA"), and the EHLO name was acceptable: the
    // host's full name, or the address literal of a host without one.
    let received = header(&mail, "received").join("\n");
    assert!(
        received.contains("with ESMTPSA")
            && received.contains("(Authenticated sender: donuts@example.org)"),
        "{received}"
    );
    let helo = helo_in_received(&mail);
    assert!(
        helo.contains('.') || helo == "[127.0.0.1]",
        "EHLO {helo}: {received}"
    );

    // No trusted clock: no Date (Postfix adds none here, so none arrives).
    send(&sink, &announcement(&config, "undated-id", false))
        .await
        .unwrap_or_else(|err| panic!("not delivered: {err}"));
    let (mail, raw) = postfix.delivered("<undated-id@daas.kitchen-pi>");
    assert!(header(&mail, "date").is_empty(), "{raw}");
    assert_eq!(header(&mail, "mime-version"), ["1.0"], "{raw}");
    assert_eq!(
        mail["body"].as_str().map(str::trim_end),
        Some(BODY),
        "{raw}"
    );

    // A configured fully qualified name is the EHLO name.
    let config = self::config(&postfix, &pki, "helo_name = \"kitchen-pi.lab.example.org\"");
    send(&build(&config), &announcement(&config, "fqdn-id", true))
        .await
        .unwrap_or_else(|err| panic!("not delivered: {err}"));
    let (mail, _) = postfix.delivered("<fqdn-id@daas.kitchen-pi>");
    assert_eq!(helo_in_received(&mail), "kitchen-pi.lab.example.org");
}

/// What every send did before `helo_name`: lettre gave the bare hostname, and a
/// relay with reject_non_fqdn_helo_hostname refused it. The config check refuses a
/// bare `helo_name` now, so the sink is built around one here, past that check.
#[tokio::test]
async fn a_bare_ehlo_name_is_refused_permanently_with_advice() {
    if !crate::util::postfix::running_as_root("a_bare_ehlo_name_is_refused_permanently_with_advice")
    {
        return;
    }
    let pki = pki();
    let postfix = Postfix::start(&pki);
    let mut config = config(&postfix, &pki, "");
    match &mut config.sinks[0] {
        SinkConfig::Email(email) => email.helo_name = Some("kitchen-pi".to_string()),
        other => panic!("not the email sink: {other:?}"),
    }

    let result = send(&build(&config), &announcement(&config, "bare-id", true)).await;

    let message = match result {
        Err(SendError::Permanent { message }) => message,
        other => panic!("expected a permanent failure, got {other:?}"),
    };
    assert!(
        message.contains(
            "(504 5.5.2 <kitchen-pi>: Helo command rejected: need fully-qualified hostname)"
        ) && message.contains("set `helo_name`"),
        "{message}"
    );
    assert!(!message.contains(PASSWORD), "{message}");
    assert!(postfix.lab_mail().is_empty());
}
