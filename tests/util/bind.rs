//! A real BIND 9 for the `register dns` tests: Debian's named on 127.0.0.1 and an
//! unprivileged port, in a temp dir, with a forward zone `lab.test` and a reverse
//! zone `30.20.10.in-addr.arpa` that take updates signed with the key `daas-test`
//! (made by the real `tsig-keygen`). A second key, `not-allowed`, is known to the
//! server but granted nothing. Queries go straight to the server over UDP with
//! hickory-proto and a std socket, independent of daas's own code.

#![allow(dead_code)]

use std::net::{IpAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use tempfile::TempDir;

pub const ZONE: &str = "lab.test";
pub const REVERSE_ZONE: &str = "30.20.10.in-addr.arpa";
pub const KEY_NAME: &str = "daas-test";

/// How long named may take to start on a busy machine (or under qemu).
const READY_WAIT: Duration = Duration::from_secs(30);

/// The running named; killed when dropped.
pub struct Bind {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Drop for Bind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tsig-keygen -a ALG NAME` and returns the key file it printed.
pub fn tsig_keygen(algorithm: &str, name: &str) -> String {
    let out = Command::new("tsig-keygen")
        .args(["-a", algorithm, name])
        .output()
        .expect("tsig-keygen runs (Debian's bind9-utils; scripts/test installs it)");
    assert!(
        out.status.success(),
        "tsig-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn zone_file(origin: &str) -> String {
    format!(
        "$TTL 300\n$ORIGIN {origin}.\n@ IN SOA ns.{ZONE}. admin.{ZONE}. 1 3600 600 86400 300\n@ IN NS ns.{ZONE}.\n{}",
        if origin == ZONE {
            "ns IN A 127.0.0.1\n"
        } else {
            ""
        }
    )
}

impl Bind {
    /// Starts named with the zones and keys; waits until it answers.
    pub fn start() -> Bind {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let key = tsig_keygen("hmac-sha256", KEY_NAME);
        std::fs::write(d.join("daas.key"), &key).expect("write key");
        std::fs::write(
            d.join("not-allowed.key"),
            tsig_keygen("hmac-sha256", "not-allowed"),
        )
        .expect("write key");
        for zone in [ZONE, REVERSE_ZONE] {
            std::fs::write(d.join(format!("{zone}.zone")), zone_file(zone)).expect("write zone");
        }
        let port = free_udp_and_tcp_port();
        let dir_text = d.display();
        let zones: String = [ZONE, REVERSE_ZONE]
            .iter()
            .map(|z| {
                format!(
                    "zone \"{z}\" {{ type primary; file \"{dir_text}/{z}.zone\"; update-policy {{ grant {KEY_NAME} zonesub ANY; }}; }};\n"
                )
            })
            .collect();
        let conf = format!(
            "options {{\n  directory \"{dir_text}\";\n  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n  pid-file \"{dir_text}/named.pid\";\n  session-keyfile \"{dir_text}/session.key\";\n  managed-keys-directory \"{dir_text}\";\n  recursion no;\n  dnssec-validation no;\n  notify no;\n}};\ncontrols {{ }};\ninclude \"{dir_text}/daas.key\";\ninclude \"{dir_text}/not-allowed.key\";\n{zones}"
        );
        std::fs::write(d.join("named.conf"), conf).expect("write named.conf");
        let log = std::fs::File::create(d.join("named.log")).expect("log file");
        let child = Command::new(named())
            .args(["-g", "-4", "-c"])
            .arg(d.join("named.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("named runs (Debian's bind9; scripts/test installs it)");
        let bind = Bind { child, port, dir };
        bind.wait_ready();
        bind
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        let zone = Name::from_ascii(format!("{ZONE}.")).expect("name");
        loop {
            if let Ok(answers) = self.try_query(&zone, RecordType::SOA, Duration::from_millis(300))
            {
                if !answers.is_empty() {
                    return;
                }
            }
            assert!(
                start.elapsed() < READY_WAIT,
                "named did not answer within {READY_WAIT:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// named's own log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("named.log")).unwrap_or_default()
    }

    /// The key file daas signs with.
    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("daas.key")
    }

    /// `127.0.0.1:PORT`
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The rdata of `rtype` records the server answers for `name`, as text.
    pub fn query(&self, name: &str, rtype: RecordType) -> Vec<String> {
        let name = Name::from_ascii(name).expect("name");
        self.try_query(&name, rtype, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("query {name} {rtype}: {e}; named's log:\n{}", self.log()))
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    fn try_query(
        &self,
        name: &Name,
        rtype: RecordType,
        timeout: Duration,
    ) -> Result<Vec<RData>, String> {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        let mut message = Message::query();
        message.add_query(Query::query(name.clone(), rtype));
        let bytes = message.to_vec().map_err(|e| e.to_string())?;
        socket
            .send_to(&bytes, ("127.0.0.1", self.port))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4096];
        let (len, _) = socket.recv_from(&mut buf).map_err(|e| e.to_string())?;
        let answer = Message::from_vec(&buf[..len]).map_err(|e| e.to_string())?;
        Ok(answer
            .answers
            .iter()
            .filter(|r| r.record_type() == rtype)
            .map(|r| r.data.clone())
            .collect())
    }
}

/// The addresses in `rdata` texts, sorted.
pub fn addresses(texts: &[String]) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = texts.iter().map(|t| t.parse().expect("address")).collect();
    v.sort();
    v
}

fn named() -> String {
    std::env::var("DAAS_TEST_NAMED").unwrap_or_else(|_| "/usr/sbin/named".to_string())
}

/// A port free for both UDP and TCP on 127.0.0.1 (named listens on both).
pub fn free_udp_and_tcp_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
