//! HTTPS certificates are always verified: a webhook sink talking to a real HTTPS
//! server (Python's http.server with ssl, on 127.0.0.1) whose certificate comes from a
//! lab CA is refused without `ca_file` and delivers with it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use daas::sinks::SendError;

struct HttpsServer {
    child: Child,
    port: u16,
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(pki: &crate::util::pki::Pki) -> HttpsServer {
    let port = crate::util::pki::free_port();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/https_server.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(port.to_string())
        .arg(&pki.cert)
        .arg(&pki.key)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "READY");
    HttpsServer { child, port }
}

fn sink(port: u16, ca_file: Option<&std::path::Path>) -> daas::sinks::ConfiguredSink {
    let ca = ca_file
        .map(|p| format!("ca_file = {:?}\n", p.to_str().expect("utf-8")))
        .unwrap_or_default();
    let text = format!(
        "[button]\npin = 17\n[gestures]\npress = \"arrival\"\n[actions.arrival]\nsubject = \"s\"\nbody = \"b\"\n\
         [[sinks]]\ntype = \"webhook\"\nname = \"lab\"\nurl = \"https://localhost:{port}/hook\"\n{ca}"
    );
    let config = daas::config::parse(&text, "test.toml").expect("config");
    daas::sinks::build(&config.sinks[0]).expect("sink")
}

fn announcement() -> daas::model::Announcement {
    daas::model::Announcement {
        id: "id".into(),
        action: "arrival".into(),
        subject: "s".into(),
        body: "b".into(),
        device: "kitchen".into(),
        created: Some(jiff::Timestamp::now()),
    }
}

#[tokio::test]
async fn a_lab_ca_is_trusted_only_through_ca_file() {
    let pki = crate::util::pki::pki();
    let server = start(&pki);

    let without = sink(server.port, None).sink.send(&announcement()).await;
    let Err(SendError::Permanent { message }) = &without else {
        panic!("an unknown CA fails the send until a person acts: {without:?}");
    };
    assert!(
        message.starts_with("cannot verify the server's TLS certificate")
            && message.contains("set `ca_file`"),
        "{message}"
    );

    let with = sink(server.port, Some(&pki.ca))
        .sink
        .send(&announcement())
        .await;
    assert_eq!(with, Ok(()));
}
