//! A real SMTP server for the tests: aiosmtpd (tests/support/smtp_server.py, Debian's
//! python3-aiosmtpd) on 127.0.0.1, with certificates from `pki`. It saves each message it accepts as JSON, so tests assert on what the
//! server really received.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::util::pki::{Pki, free_port};

/// How long the server may take to start on a busy machine.
const READY_WAIT: Duration = Duration::from_secs(20);

pub const USERNAME: &str = "donuts@example.org";
pub const PASSWORD: &str = "correct-horse-battery-staple";

#[derive(Clone, Copy)]
pub struct ServerOptions {
    pub mode: &'static str,
    /// Require AUTH with `USERNAME` / `PASSWORD`.
    pub auth: bool,
    /// AUTH mechanisms to offer.
    pub mechanisms: &'static str,
}

pub const PLAIN_RELAY: ServerOptions = ServerOptions {
    mode: "none",
    auth: false,
    mechanisms: "PLAIN,LOGIN",
};

/// The running SMTP server; killed when dropped, so a failing test leaves nothing behind.
pub struct Server {
    child: Child,
    pub port: u16,
    pub out: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn python() -> String {
    // aiosmtpd is a Debian package, so Debian's interpreter, not whichever python3 is first on PATH.
    std::env::var("DAAS_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_string())
}

impl Server {
    pub fn start(pki: &Pki, options: ServerOptions) -> Server {
        Server::start_on(pki, options, None)
    }

    /// Starts the server on `port`, or on a free one (trying again if another process
    /// took it between asking and binding).
    pub fn start_on(pki: &Pki, options: ServerOptions, port: Option<u16>) -> Server {
        Server::start_at(pki, options, "127.0.0.1", port)
    }

    /// Starts the server on another loopback address, e.g. 127.0.0.2, which the
    /// test certificate (localhost, 127.0.0.1) is not for.
    pub fn start_at(pki: &Pki, options: ServerOptions, host: &str, port: Option<u16>) -> Server {
        let mut last = String::new();
        for _ in 0..3 {
            match Server::try_start(pki, options, host, port.unwrap_or_else(free_port)) {
                Ok(server) => return server,
                Err(err) => last = err,
            }
        }
        panic!("the SMTP server did not start: {last}");
    }

    fn try_start(
        pki: &Pki,
        options: ServerOptions,
        host: &str,
        port: u16,
    ) -> Result<Server, String> {
        let out = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(out.path().join("server.log")).expect("log file");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut command = Command::new(python());
        command
            .arg(script)
            .args([
                "--host",
                host,
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
    pub fn received(&self) -> Vec<Value> {
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

    pub fn only_message(&self) -> Value {
        let mut received = self.received();
        assert_eq!(
            received.len(),
            1,
            "expected exactly one message, got {received:#?}"
        );
        received.remove(0)
    }
}
