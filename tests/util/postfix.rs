//! A strict, real Postfix for the tests: Debian's Postfix with Dovecot for SASL on
//! 127.0.0.1, started by tests/support/postfix-server in a temporary directory (see
//! tests/support/postfix-notes.md for what it refuses and how to install it). It
//! exists because aiosmtpd accepts nearly anything: this server refuses a bare EHLO
//! name, non-RFC 821 envelopes, undeclared 8-bit text and AUTH before STARTTLS, and
//! delivers what it accepts into a Maildir file that the tests read back.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::util::pki::{Pki, free_port};

pub const USERNAME: &str = "donuts@example.org";
pub const PASSWORD: &str = "correct-horse-battery-staple";

/// How long a delivery may take after the server's 250 (about 0.1 s here).
const DELIVERY_WAIT: Duration = Duration::from_secs(20);

/// Whether the test may run: Postfix and Dovecot start as root and drop privileges.
pub fn running_as_root(test: &str) -> bool {
    super::root_or_skip(
        test,
        "Postfix and Dovecot start as root and drop privileges",
    )
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/postfix-server")
}

/// A running instance; stopped (every process of it, and waited for) when dropped.
pub struct Postfix {
    dir: TempDir,
    pub port: u16,
}

impl Postfix {
    /// Starts an instance with `pki`'s certificate on a free port.
    pub fn start(pki: &Pki) -> Postfix {
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            let output = Command::new(script())
                .arg("start")
                .arg(dir.path())
                .arg(port.to_string())
                .arg(&pki.cert)
                .arg(&pki.key)
                .args([USERNAME, PASSWORD])
                .output()
                .unwrap_or_else(|err| panic!("cannot run {}: {err}", script().display()));
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            if output.status.success() && stdout.lines().any(|line| line == "READY") {
                return Postfix { dir, port };
            }
            // The script stops what it started when it fails. Only a port taken
            // between asking and binding is worth another try.
            if !stderr.contains("already listens") {
                panic!("postfix-server start failed ({}):\n{stderr}", output.status);
            }
            last = stderr;
        }
        panic!("postfix-server start found no free port:\n{last}");
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The files delivered to lab@example.org so far.
    pub fn lab_mail(&self) -> Vec<PathBuf> {
        let new = self.dir.path().join("mail/lab/new");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&new)
            .unwrap_or_else(|err| panic!("read {}: {err}", new.display()))
            .map(|entry| entry.expect("dir entry").path())
            .collect();
        paths.sort();
        paths
    }

    /// The message delivered to lab@example.org with this `Message-ID`, decoded by
    /// Python's email package (tests/support/parse_mail.py), with its raw text.
    pub fn delivered(&self, message_id: &str) -> (Value, String) {
        let wanted = format!("Message-ID: {message_id}");
        let deadline = Instant::now() + DELIVERY_WAIT;
        loop {
            for path in self.lab_mail() {
                let raw = std::fs::read_to_string(&path).unwrap_or_default();
                // local(8) stores LF line ends; CRLF is only for the wire.
                if raw
                    .lines()
                    .any(|line| line.trim_end_matches('\r') == wanted)
                {
                    return (parse(&path), raw);
                }
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.dir.path().join("log/postfix.log"))
                    .unwrap_or_default();
                panic!(
                    "nothing with Message-ID {message_id} in {} within {DELIVERY_WAIT:?}; postfix.log:\n{log}",
                    self.dir.path().join("mail/lab/new").display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        match Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .output()
        {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!(
                "postfix-server stop {} failed: {}",
                self.dir.path().display(),
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(err) => eprintln!("cannot run postfix-server stop: {err}"),
        }
    }
}

/// Debian's interpreter (its email package is the reference decoder here), or
/// `DAAS_TEST_PYTHON`.
fn python() -> String {
    std::env::var("DAAS_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_string())
}

fn parse(path: &Path) -> Value {
    let parser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/parse_mail.py");
    let output = Command::new(python())
        .arg(parser)
        .arg(path)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "parse_mail.py {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("parse_mail.py prints JSON")
}
