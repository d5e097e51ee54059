//! `daas notify` with one sink of each of the seven types, against real local
//! receivers (aiosmtpd for email, an HTTP server for the six webhook types): the
//! table shows every sink delivered, exit 0, and each receiver really got it.

use crate::util::receiver::Receiver;

#[tokio::test(flavor = "multi_thread")]
async fn notify_reaches_all_seven_sink_types() {
    let r = Receiver::start().await;
    let pki = crate::util::pki::pki();
    let mail = crate::util::smtp::Server::start(&pki, crate::util::smtp::PLAIN_RELAY);
    let sinks = format!(
        r#"
[[sinks]]
type = "email"
name = "mail"
server = "127.0.0.1"
port = {port}
tls = "none"
from = "doughnuts@example.org"
to = ["lab@example.org"]
[[sinks]]
type = "slack"
name = "slack"
url = "{base}/slack"
[[sinks]]
type = "mattermost"
name = "mattermost"
url = "{base}/mattermost"
[[sinks]]
type = "teams"
name = "teams"
url = "{base}/teams"
[[sinks]]
type = "discord"
name = "discord"
url = "{base}/discord"
[[sinks]]
type = "google_chat"
name = "gchat"
url = "{base}/gchat"
[[sinks]]
type = "webhook"
name = "hook"
url = "{base}/hook"
"#,
        port = mail.port,
        base = r.base,
    );
    let config = crate::util::config::text(
        "3rd floor kitchen",
        "Doughnuts in the {device}!",
        "Fresh doughnuts arrived at {time}.",
        &sinks,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).expect("write config");

    let out = tokio::task::spawn_blocking(move || {
        crate::util::daas()
            .args(["notify", "--config"])
            .arg(&path)
            .output()
            .expect("notify runs")
    })
    .await
    .expect("joined");
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, kind) in [
        ("mail", "email"),
        ("slack", "slack"),
        ("mattermost", "mattermost"),
        ("teams", "teams"),
        ("discord", "discord"),
        ("gchat", "google_chat"),
        ("hook", "webhook"),
    ] {
        assert!(
            table.lines().any(|l| l.contains(&format!(" {name} "))
                && l.contains(kind)
                && l.contains("delivered")),
            "{name} not delivered:\n{table}"
        );
    }
    let paths: Vec<String> = r
        .requests()
        .iter()
        .map(|q| q.uri.path().to_string())
        .collect();
    assert_eq!(paths.len(), 6, "{paths:?}");
    for path in [
        "/slack",
        "/mattermost",
        "/teams",
        "/discord",
        "/gchat",
        "/hook",
    ] {
        assert!(
            paths.iter().any(|p| p == path),
            "{path} missing from {paths:?}"
        );
    }
    let message = mail.only_message();
    assert!(
        message
            .to_string()
            .contains("Doughnuts in the 3rd floor kitchen!"),
        "{message}"
    );
}
