//! Secrets never reach output: with deliveries failing in every way a secret could
//! leak through (an HTTP error, a refused connection, a secret header), no password,
//! webhook token or header value appears in stderr, event lines, the `notify` table or
//! `check` output — even at `--log-level trace`.

use std::io::Write;
use std::process::Stdio;

use crate::util::receiver::Receiver;
use crate::util::{daas, free_port};

const URL_TOKEN: &str = "XOXB-url-token-4242";
const FILE_TOKEN: &str = "file-token-7f7f7f";
const HEADER_SECRET: &str = "header-secret-9a9a9a";
const PASSWORD: &str = "smtp-password-5c5c5c";

fn assert_clean(what: &str, output: &[u8]) {
    let text = String::from_utf8_lossy(output);
    for secret in [URL_TOKEN, FILE_TOKEN, HEADER_SECRET, PASSWORD] {
        assert!(!text.contains(secret), "{what} leaks {secret}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_deliveries_leak_no_secret() {
    let r = Receiver::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url_file = dir.path().join("discord-url");
    let dead = free_port();
    std::fs::write(
        &url_file,
        format!("http://127.0.0.1:{dead}/api/webhooks/1/{FILE_TOKEN}\n"),
    )
    .expect("write");
    let config = format!(
        r#"
[button]
pin = 17
[gestures]
press = "arrival"
[actions.arrival]
subject = "Doughnuts"
body = "Now."
[[sinks]]
type = "slack"
name = "slack"
url = "{slack}"
[[sinks]]
type = "discord"
name = "discord"
url_file = "{url_file}"
[[sinks]]
type = "webhook"
name = "hook"
url = "{hook}"
headers = {{ Authorization = "Bearer {HEADER_SECRET}" }}
[[sinks]]
type = "email"
name = "mail"
server = "127.0.0.1"
port = {dead}
tls = "none"
username = "doughnuts"
password = "{PASSWORD}"
from = "doughnuts@example.org"
to = "lab@example.org"
timeout_s = 5
"#,
        slack = r.url(&format!("/status/403/services/{URL_TOKEN}")),
        url_file = url_file.display(),
        hook = r.url(&format!("/status/500/{URL_TOKEN}")),
    );
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).expect("write config");

    let dir_path = dir.path().join("state");
    let (check, notify, (run, status, status_json)) = tokio::task::spawn_blocking(move || {
        let check = daas()
            .args(["check", "--config"])
            .arg(&path)
            .output()
            .expect("check runs");
        let notify = daas()
            .args(["--log-level", "trace", "notify", "--config"])
            .arg(&path)
            .output()
            .expect("notify runs");
        let mut child = daas()
            .args([
                "--log-level",
                "trace",
                "run",
                "--state-dir",
                dir_path.to_str().expect("utf-8"),
                "--simulate",
                "--events",
                "-",
                "--config",
            ])
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"press\nwait 1500\nquit\n")
            .expect("script");
        let run = child.wait_with_output().expect("run exits");
        // The outbox keeps each delivery's last error: status must not show a secret either.
        let status = daas()
            .args([
                "status",
                "--state-dir",
                dir_path.to_str().expect("utf-8"),
                "--config",
            ])
            .arg(&path)
            .output()
            .expect("status runs");
        let status_json = daas()
            .args([
                "status",
                "--json",
                "--state-dir",
                dir_path.to_str().expect("utf-8"),
                "--config",
            ])
            .arg(&path)
            .output()
            .expect("status runs");
        (check, notify, (run, status, status_json))
    })
    .await
    .expect("commands ran");

    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_clean("check stdout", &check.stdout);
    assert_clean("check stderr", &check.stderr);

    assert_eq!(notify.status.code(), Some(1), "every sink failed");
    let table = String::from_utf8_lossy(&notify.stdout);
    for sink in ["slack", "discord", "hook", "mail"] {
        assert!(
            table
                .lines()
                .any(|l| l.contains(sink) && l.contains("failed")),
            "{table}"
        );
    }
    assert_clean("notify table", &notify.stdout);
    assert_clean("notify stderr", &notify.stderr);

    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let events = String::from_utf8_lossy(&run.stdout);
    for sink in ["slack", "discord", "hook", "mail"] {
        let failing = format!(r#""sink":"{sink}","outcome":"#);
        assert!(
            events
                .lines()
                .any(|l| l.contains(&failing) && !l.contains("delivered")),
            "{sink} failed (or is retrying):\n{events}"
        );
    }
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(String::from_utf8_lossy(&status_json.stdout).contains("last_error"));
    assert_clean("status table", &status.stdout);
    assert_clean("status JSON", &status_json.stdout);
    assert_clean("event lines", &run.stdout);
    assert_clean("run stderr", &run.stderr);
    assert!(
        r.requests().len() >= 4,
        "the failures were real HTTP exchanges"
    );
}
