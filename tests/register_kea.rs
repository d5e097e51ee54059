//! `daas register kea` against a real Kea 2.2: kea-dhcp4 with its control socket and
//! kea-ctrl-agent, both on config in a temp dir. The reservation must show in Kea's
//! own `config-get` and in the config file Kea wrote; a second run must change
//! nothing; conflicts, a wrong subnet and a dead agent must be reported clearly.
//!
//! `daas` needs an interface with a MAC, so it runs in a private network namespace
//! (tests/netns), and so does the control agent it talks to (loopback is per
//! namespace). kea-dhcp4 stays outside: its control socket is a path in the temp
//! dir, which every namespace sees, so the agent forwards to it and the test asks
//! kea-dhcp4 itself, over that socket, what it holds — an answer daas had no part in.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::free_port;
use crate::util::netns::{LAB, MAC, Netns, assert_exit, text};
use serde_json::{Value, json};

/// Another client's reservation, in every test's subnet.
const OTHER_MAC: &str = "02:00:5e:10:00:99";

/// How long Kea may take to start (far more than it needs, for loaded CI machines).
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Environment for every Kea process: pid and lock files in `dir`, and the
/// directories newer (security-patched) Kea builds confine sockets, lease files and
/// logs to pointed at `dir` too. Kea 2.2.0 as in Debian bookworm ignores the last
/// three and takes any path.
fn kea_env(cmd: &mut Command, dir: &Path) {
    for var in [
        "KEA_PIDFILE_DIR",
        "KEA_LOCKFILE_DIR",
        "KEA_CONTROL_SOCKET_DIR",
        "KEA_DHCP_DATA_DIR",
        "KEA_LOG_FILE_DIR",
    ] {
        cmd.env(var, dir);
    }
}

/// A Kea process whose log (stderr) is collected by a thread; `started` fires when
/// the log line `marker` appears.
struct Logged {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Logged {
    fn spawn(mut cmd: Command, marker: &'static str) -> Logged {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Kea starts (kea-dhcp4-server and kea-ctrl-agent installed?)");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (started, ready) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains(marker) {
                    let _ = started.send(());
                }
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let logged = Logged { child, log };
        if ready.recv_timeout(START_TIMEOUT).is_err() {
            panic!("Kea did not log {marker}; its log:\n{}", logged.log());
        }
        logged
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// kea-dhcp4 and kea-ctrl-agent in a temp dir, the agent and `daas` in a namespace.
/// Fields drop in order: the servers, then the namespace, then the dir.
struct Kea {
    agent: Option<Logged>,
    dhcp4: Option<Logged>,
    ns: Netns,
    port: u16,
    dir: tempfile::TempDir,
}

impl Kea {
    /// Both servers; subnet 1 is 10.20.30.0/24 with `reservations`.
    fn start(reservations: Value) -> Kea {
        let mut kea = Kea::agent_only();
        kea.dhcp4 = Some(kea.start_dhcp4(reservations));
        kea.agent = Some(kea.start_agent());
        kea
    }

    /// The agent alone: its dhcp4 socket leads nowhere.
    fn without_dhcp4() -> Kea {
        let mut kea = Kea::agent_only();
        kea.agent = Some(kea.start_agent());
        kea
    }

    fn agent_only() -> Kea {
        Kea {
            agent: None,
            dhcp4: None,
            ns: Netns::new(LAB),
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("kea4.sock")
    }

    fn dhcp4_config(&self) -> PathBuf {
        self.dir.path().join("kea-dhcp4.json")
    }

    fn start_dhcp4(&self, reservations: Value) -> Logged {
        let config = json!({"Dhcp4": {
            "interfaces-config": {"interfaces": []},
            "control-socket": {"socket-type": "unix", "socket-name": self.socket()},
            "lease-database": {
                "type": "memfile",
                "persist": false,
                "name": self.dir.path().join("leases4.csv"),
            },
            "subnet4": [{
                "id": 1,
                "subnet": "10.20.30.0/24",
                "pools": [{"pool": "10.20.30.100 - 10.20.30.200"}],
                "reservations": reservations,
            }],
            "loggers": [{
                "name": "kea-dhcp4",
                "output_options": [{"output": "stderr"}],
                "severity": "INFO",
            }],
        }});
        std::fs::write(self.dhcp4_config(), config.to_string()).expect("write the dhcp4 config");
        let mut cmd = Command::new("kea-dhcp4");
        cmd.arg("-c").arg(self.dhcp4_config());
        kea_env(&mut cmd, self.dir.path());
        Logged::spawn(cmd, "DHCP4_STARTED")
    }

    fn start_agent(&self) -> Logged {
        let config = json!({"Control-agent": {
            "http-host": "127.0.0.1",
            "http-port": self.port,
            "control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": self.socket()}},
            "loggers": [{
                "name": "kea-ctrl-agent",
                "output_options": [{"output": "stderr"}],
                "severity": "INFO",
            }],
        }});
        let path = self.dir.path().join("kea-ctrl-agent.json");
        std::fs::write(&path, config.to_string()).expect("write the agent config");
        let mut cmd = self.ns.command("kea-ctrl-agent");
        cmd.arg("-c").arg(&path);
        kea_env(&mut cmd, self.dir.path());
        Logged::spawn(cmd, "CTRL_AGENT_HTTP_SERVICE_STARTED")
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// `daas register kea` for eth0 at the agent, plus `extra`.
    fn daas(&self, extra: &[&str]) -> Output {
        let url = self.url();
        let mut args = vec![
            "register",
            "kea",
            "--url",
            &url,
            "--interface",
            "eth0",
            "--timeout-s",
            "10",
        ];
        args.extend_from_slice(extra);
        self.ns.daas(&args)
    }

    /// Both servers' logs, for failure messages.
    fn logs(&self) -> String {
        let log = |server: &Option<Logged>| server.as_ref().map(Logged::log).unwrap_or_default();
        format!(
            "kea-dhcp4:\n{}\nkea-ctrl-agent:\n{}",
            log(&self.dhcp4),
            log(&self.agent)
        )
    }

    fn expect_exit(&self, out: &Output, code: i32) {
        assert_eq!(
            out.status.code(),
            Some(code),
            "stdout:\n{}\nstderr:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr),
            self.logs()
        );
    }

    /// kea-dhcp4's running config, asked over its own control socket.
    fn config_get(&self) -> Value {
        let mut stream = UnixStream::connect(self.socket()).expect("kea-dhcp4's control socket");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        stream
            .write_all(br#"{"command": "config-get"}"#)
            .expect("send config-get");
        // Kea closes the connection after its answer.
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .expect("config-get's answer");
        let answer: Value = serde_json::from_slice(&answer).expect("Kea answers JSON");
        assert_eq!(answer["result"], 0, "{answer}");
        answer["arguments"]["Dhcp4"].clone()
    }

    /// The config file as Kea (re)wrote it.
    fn config_file(&self) -> Value {
        let text = std::fs::read_to_string(self.dhcp4_config()).expect("the dhcp4 config");
        let config: Value = serde_json::from_str(&text).expect("the dhcp4 config is JSON");
        config["Dhcp4"].clone()
    }
}

/// Subnet 1's reservations with this MAC.
fn reservations_of(dhcp4: &Value, mac: &str) -> Vec<Value> {
    dhcp4["subnet4"][0]["reservations"]
        .as_array()
        .expect("subnet 1 has a reservations list")
        .iter()
        .filter(|r| r["hw-address"] == mac)
        .cloned()
        .collect()
}

/// The parts of a reservation `daas` sets (Kea adds its defaults to the rest).
fn essentials(reservation: &Value) -> Value {
    json!({
        "hw-address": reservation["hw-address"],
        "ip-address": reservation["ip-address"],
        "hostname": reservation["hostname"],
    })
}

fn other() -> Value {
    json!([{"hw-address": OTHER_MAC, "ip-address": "10.20.30.50", "hostname": "kettle"}])
}

#[test]
fn adds_the_reservation_kea_saves_it_and_a_second_run_changes_nothing() {
    let kea = Kea::start(other());
    let out = kea.daas(&[
        "--subnet-id",
        "1",
        "--ip",
        "10.20.30.40",
        "--hostname",
        "doughnut",
    ]);
    kea.expect_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "added {MAC} → 10.20.30.40 (doughnut) to Kea subnet 1 (10.20.30.0/24)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "Kea wrote its configuration to {}",
            kea.dhcp4_config().display()
        )),
        "{stdout}"
    );
    let ours = json!({"hw-address": MAC, "ip-address": "10.20.30.40", "hostname": "doughnut"});
    for (source, dhcp4) in [
        ("config-get", kea.config_get()),
        ("the file", kea.config_file()),
    ] {
        let found: Vec<Value> = reservations_of(&dhcp4, MAC)
            .iter()
            .map(essentials)
            .collect();
        assert_eq!(found, std::slice::from_ref(&ours), "{source}: {dhcp4}");
        assert_eq!(
            reservations_of(&dhcp4, OTHER_MAC).len(),
            1,
            "{source} lost the other"
        );
    }

    // Again, with the address taken from eth0 this time: already there.
    let out = kea.daas(&["--subnet-id", "1", "--hostname", "doughnut"]);
    kea.expect_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("is already reserved"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(reservations_of(&kea.config_get(), MAC).len(), 1);
}

#[test]
fn the_same_address_for_another_mac_is_refused_naming_it() {
    let kea = Kea::start(json!([
        {"hw-address": OTHER_MAC, "ip-address": "10.20.30.40", "hostname": "kettle"}
    ]));
    let out = kea.daas(&[
        "--subnet-id",
        "1",
        "--ip",
        "10.20.30.40",
        "--hostname",
        "doughnut",
    ]);
    kea.expect_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "hw-address {OTHER_MAC}, ip-address 10.20.30.40, hostname kettle"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--ip ADDR"), "{stderr}");
    assert!(reservations_of(&kea.config_get(), MAC).is_empty());
    assert!(reservations_of(&kea.config_file(), MAC).is_empty());
}

#[test]
fn a_wrong_subnet_or_an_address_outside_it_is_a_usage_error() {
    let kea = Kea::start(other());
    let out = kea.daas(&[
        "--subnet-id",
        "9",
        "--ip",
        "10.20.30.40",
        "--hostname",
        "doughnut",
    ]);
    kea.expect_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Kea has no subnet with id 9 (its subnets: 1 (10.20.30.0/24))"),
        "{stderr}"
    );
    let out = kea.daas(&[
        "--subnet-id",
        "1",
        "--ip",
        "10.20.31.5",
        "--hostname",
        "doughnut",
    ]);
    kea.expect_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("10.20.31.5 is outside Kea subnet 1 (10.20.30.0/24)"),
        "{stderr}"
    );
    assert!(reservations_of(&kea.config_get(), MAC).is_empty());
}

#[test]
fn keas_own_error_text_is_shown() {
    let kea = Kea::without_dhcp4();
    let out = kea.daas(&["--subnet-id", "1"]);
    kea.expect_exit(&out, 1);
    let stderr = text(&out.stderr);
    // The agent's words for "kea-dhcp4 is not there".
    assert!(stderr.contains("Kea refused `config-get`"), "{stderr}");
    assert!(stderr.contains("dhcp4"), "{stderr}");
}

#[test]
fn an_agent_not_listening_is_named_quickly() {
    let ns = Netns::new(LAB);
    let url = format!("http://127.0.0.1:{}/", free_port());
    let started = Instant::now();
    let out = ns.daas(&[
        "register",
        "kea",
        "--url",
        &url,
        "--subnet-id",
        "1",
        "--timeout-s",
        "30",
    ]);
    let took = started.elapsed();
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot reach Kea's control agent at {url}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("check that kea-ctrl-agent is running"),
        "{stderr}"
    );
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}, not the refusal's instant"
    );
}

#[test]
fn no_url_or_subnet_is_a_usage_error_naming_flag_and_key() {
    let ns = Netns::new(LAB);
    let out = ns.daas(&["register", "kea", "--subnet-id", "1"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("--url URL or set `register.kea_url`"));
    let out = ns.daas(&["register", "kea", "--url", "http://127.0.0.1:9/"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("--subnet-id N or set `register.subnet_id`"));
}
