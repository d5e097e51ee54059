//! `daas register dns` against a real BIND 9 (tests/bind): add, replace after the
//! address changes, remove, verified by the tests' own DNS queries; and the errors a
//! lab admin must be able to act on: wrong secret, unknown key, a key without
//! permission, a name outside the zone, no server listening, a broken key file.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::util::bind::{Bind, KEY_NAME, addresses};
use crate::util::{daas, text};
use hickory_proto::rr::RecordType;

/// `daas register dns --server SERVER --zone lab.test`, for more arguments.
fn dns_at(server: &str) -> Command {
    let mut cmd = daas();
    cmd.args([
        "register",
        "dns",
        "--server",
        server,
        "--zone",
        crate::util::bind::ZONE,
    ]);
    cmd
}

/// `daas register dns` against `bind` with its zone and key, plus `extra`.
fn register(bind: &Bind, extra: &[&str]) -> Output {
    dns_at(&bind.server())
        .arg("--key")
        .arg(bind.key_file())
        .args(["--timeout-s", "5"])
        .args(extra)
        .output()
        .expect("daas runs")
}

/// Asserts the exit `code` and returns stderr.
fn failed_with(out: &Output, code: i32) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    stderr
}

fn ok(out: &Output, bind: &Bind) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}\nnamed's log:\n{}",
        text(&out.stdout),
        text(&out.stderr),
        bind.log()
    );
}

const PI: &str = "pi.lab.test.";
const PTR_40: &str = "40.30.20.10.in-addr.arpa.";
const PTR_41: &str = "41.30.20.10.in-addr.arpa.";

#[test]
fn adds_replaces_and_removes_the_forward_and_reverse_records() {
    let bind = Bind::start();

    let out = register(
        &bind,
        &[
            "--name",
            "pi",
            "--ip",
            "10.20.30.40",
            "--ip",
            "2001:db8::40",
        ],
    );
    ok(&out, &bind);
    assert_eq!(
        addresses(&bind.query(PI, RecordType::A)),
        ["10.20.30.40".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(bind.query(PI, RecordType::AAAA), ["2001:db8::40"]);
    assert_eq!(bind.query(PTR_40, RecordType::PTR), [PI]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("the server now answers:"), "{stdout}");
    assert!(
        stdout.contains("pi.lab.test. 300 IN A 10.20.30.40"),
        "{stdout}"
    );

    // The Pi moved: A is replaced, its old PTR goes, the new one comes.
    let out = register(
        &bind,
        &["--name", "pi", "--ip", "10.20.30.41", "--ttl", "60"],
    );
    ok(&out, &bind);
    assert_eq!(bind.query(PI, RecordType::A), ["10.20.30.41"]);
    assert!(
        bind.query(PI, RecordType::AAAA).is_empty(),
        "the name points at exactly the given addresses"
    );
    assert_eq!(bind.query(PTR_41, RecordType::PTR), [PI]);
    assert!(
        bind.query(PTR_40, RecordType::PTR).is_empty(),
        "the old PTR is deleted"
    );

    let out = register(&bind, &["--name", "pi", "--remove"]);
    ok(&out, &bind);
    assert!(bind.query(PI, RecordType::A).is_empty());
    assert!(bind.query(PTR_41, RecordType::PTR).is_empty());
    assert!(
        text(&out.stdout).contains("the server now answers nothing for pi.lab.test."),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn another_hosts_ptr_is_left_alone_on_remove() {
    let bind = Bind::start();
    ok(
        &register(&bind, &["--name", "other", "--ip", "10.20.30.40"]),
        &bind,
    );
    // `pi` is removed with an address that is `other`'s: its PTR is not pi's to delete.
    ok(
        &register(&bind, &["--name", "pi", "--remove", "--ip", "10.20.30.40"]),
        &bind,
    );
    assert_eq!(bind.query(PTR_40, RecordType::PTR), ["other.lab.test."]);
}

#[test]
fn an_old_ptr_in_a_zone_not_served_here_is_a_warning_not_a_failure() {
    let bind = Bind::start();
    // The Pi was at an address whose reverse zone this server does not have.
    ok(
        &register(&bind, &["--name", "pi", "--ip", "10.20.31.7", "--no-ptr"]),
        &bind,
    );
    // The same address twice is one address.
    let out = register(
        &bind,
        &["--name", "pi", "--ip", "10.20.30.40", "--ip", "10.20.30.40"],
    );
    ok(&out, &bind);
    assert_eq!(bind.query(PI, RecordType::A), ["10.20.30.40"]);
    assert_eq!(bind.query(PTR_40, RecordType::PTR), [PI]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "warning: could not delete this name's old PTR in zone 31.20.10.in-addr.arpa."
        ),
        "{stderr}"
    );
}

#[test]
fn no_ptr_leaves_the_reverse_zone_alone() {
    let bind = Bind::start();
    ok(
        &register(&bind, &["--name", "pi", "--ip", "10.20.30.40", "--no-ptr"]),
        &bind,
    );
    assert_eq!(bind.query(PI, RecordType::A), ["10.20.30.40"]);
    assert!(bind.query(PTR_40, RecordType::PTR).is_empty());
}

#[test]
fn a_wrong_secret_is_reported_as_a_wrong_key() {
    let bind = Bind::start();
    // Same name, another secret: what a stale copy of the key file looks like.
    let stale = bind.dir.path().join("stale.key");
    std::fs::write(
        &stale,
        crate::util::bind::tsig_keygen("hmac-sha256", KEY_NAME),
    )
    .expect("write");
    let out = dns_at(&bind.server())
        .arg("--key")
        .arg(&stale)
        .args(["--name", "pi", "--ip", "10.20.30.40"])
        .output()
        .expect("runs");
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains("the key's secret is wrong (BADSIG)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Copy the key file from the DNS server again"),
        "{stderr}"
    );
    assert!(bind.query(PI, RecordType::A).is_empty(), "nothing changed");
}

#[test]
fn an_unknown_key_name_is_reported_as_such() {
    let bind = Bind::start();
    let out = dns_at(&bind.server())
        .args([
            "--key-secret-env",
            "DAAS_TEST_SECRET",
            "--key-name",
            "nobody-knows-me",
        ])
        .env(
            "DAAS_TEST_SECRET",
            "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
        )
        .args(["--name", "pi", "--ip", "10.20.30.40"])
        .output()
        .expect("runs");
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains("does not know the key \"nobody-knows-me\" (BADKEY)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("c2VjcmV0"),
        "the secret never shows: {stderr}"
    );
}

#[test]
fn a_key_without_permission_is_refused_with_the_policy_line_to_add() {
    let bind = Bind::start();
    let out = dns_at(&bind.server())
        .arg("--key")
        .arg(bind.dir.path().join("not-allowed.key"))
        .args(["--name", "pi", "--ip", "10.20.30.40"])
        .output()
        .expect("runs");
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains("refused the update of zone lab.test. (REFUSED)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("update-policy { grant not-allowed zonesub ANY; };"),
        "{stderr}"
    );
}

#[test]
fn a_name_outside_the_zone_is_notzone() {
    let bind = Bind::start();
    let out = register(
        &bind,
        &["--name", "pi.elsewhere.test", "--ip", "10.20.30.40"],
    );
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains("pi.elsewhere.test. is not in zone lab.test. (NOTZONE)"),
        "{stderr}"
    );
}

#[test]
fn no_server_listening_times_out_within_the_timeout() {
    let port = crate::util::bind::free_udp_and_tcp_port();
    let key = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(
        key.path(),
        crate::util::bind::tsig_keygen("hmac-sha256", KEY_NAME),
    )
    .expect("write");
    let start = Instant::now();
    let out = dns_at(&format!("127.0.0.1:{port}"))
        .arg("--key")
        .arg(key.path())
        .args(["--name", "pi", "--ip", "10.20.30.40", "--timeout-s", "2"])
        .output()
        .expect("runs");
    let took = start.elapsed();
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains(&format!(
            "no answer from the DNS server 127.0.0.1:{port} within 2 s"
        )),
        "{stderr}"
    );
    // 2 s of waiting plus process start; generous for a loaded machine or qemu.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn dry_run_prints_nsupdate_input_and_sends_nothing() {
    let bind = Bind::start();
    let out = register(&bind, &["--name", "pi", "--ip", "10.20.30.40", "--dry-run"]);
    ok(&out, &bind);
    let stdout = text(&out.stdout);
    let expected = format!(
        "server 127.0.0.1 {}\nzone lab.test.\nupdate delete pi.lab.test. A\nupdate add pi.lab.test. 300 A 10.20.30.40\nupdate delete pi.lab.test. AAAA\nsend\nzone 30.20.10.in-addr.arpa.\nupdate delete 40.30.20.10.in-addr.arpa. PTR\nupdate add 40.30.20.10.in-addr.arpa. 300 PTR pi.lab.test.\nsend\n",
        bind.port
    );
    assert!(stdout.ends_with(&expected), "{stdout}");
    assert!(
        stdout.contains("signed with TSIG key \"daas-test\" (hmac-sha256)"),
        "{stdout}"
    );
    assert!(bind.query(PI, RecordType::A).is_empty(), "nothing was sent");

    // It is real nsupdate input: BIND's own client, with the key, applies it.
    let mut nsupdate = Command::new("nsupdate")
        .arg("-k")
        .arg(bind.key_file())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nsupdate runs (Debian's bind9-dnsutils; scripts/test installs it)");
    std::io::Write::write_all(nsupdate.stdin.as_mut().expect("stdin"), stdout.as_bytes())
        .expect("write");
    let done = nsupdate.wait_with_output().expect("nsupdate ends");
    assert!(
        done.status.success(),
        "nsupdate: {}{}",
        text(&done.stdout),
        text(&done.stderr)
    );
    assert_eq!(bind.query(PI, RecordType::A), ["10.20.30.40"]);
    assert_eq!(bind.query(PTR_40, RecordType::PTR), [PI]);
}

#[test]
fn config_register_table_gives_the_defaults() {
    let bind = Bind::start();
    let dir = tempfile::tempdir().expect("temp");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[button]\npin = 17\n[gestures]\npress = \"arrival\"\n[actions.arrival]\nsubject = \"s\"\nbody = \"b\"\n[[sinks]]\ntype = \"console\"\nname = \"console\"\n\n[register]\nserver = \"{}\"\nzone = \"{}\"\nkey_file = \"{}\"\nname = \"kitchen\"\nttl = 120\n",
            bind.server(),
            crate::util::bind::ZONE,
            bind.key_file().display()
        ),
    )
    .expect("write config");
    let out = daas()
        .args(["register", "dns", "--config"])
        .arg(&config)
        .args(["--ip", "10.20.30.40"])
        .output()
        .expect("runs");
    ok(&out, &bind);
    assert_eq!(
        bind.query("kitchen.lab.test.", RecordType::A),
        ["10.20.30.40"]
    );
    assert!(
        text(&out.stdout).contains("kitchen.lab.test. 120 IN A"),
        "{}",
        text(&out.stdout)
    );
    // `daas check` shows the table, too.
    let out = daas()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("runs");
    let expected = format!(
        "register: dns lab.test via {} (key {})",
        bind.server(),
        bind.key_file().display()
    );
    assert!(
        text(&out.stdout).contains(&expected),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_broken_key_file_names_the_file_and_line_and_exits_2() {
    let dir = tempfile::tempdir().expect("temp");
    let key = dir.path().join("broken.key");
    std::fs::write(
        &key,
        "key \"daas\" {\n\talgorithm hmac-md5;\n\tsecret \"AAAA\";\n};\n",
    )
    .expect("write");
    let out = dns_at("127.0.0.1:1")
        .arg("--key")
        .arg(&key)
        .args(["--name", "pi", "--ip", "10.20.30.40"])
        .output()
        .expect("runs");
    let stderr = failed_with(&out, 2);
    assert!(
        stderr.contains(&format!(
            "{}:2: algorithm `hmac-md5` is not supported",
            key.display()
        )),
        "{stderr}"
    );
    let out = dns_at("127.0.0.1:1")
        .args(["--key", "/nonexistent/key"])
        .args(["--name", "pi", "--ip", "10.20.30.40"])
        .output()
        .expect("runs");
    let stderr = failed_with(&out, 2);
    assert!(
        stderr.contains("cannot read the TSIG key file /nonexistent/key"),
        "{stderr}"
    );
}

/// An answer that is not signed with the key is not trusted. No real DNS server
/// sends one to a signed update (BIND signs every answer, errors included), so this
/// is a forger on 127.0.0.1: it answers NOERROR, unsigned, to whatever it is sent.
#[test]
fn an_unsigned_noerror_answer_is_not_trusted() {
    use hickory_proto::op::{Message, ResponseCode};
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = socket.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((len, from)) = socket.recv_from(&mut buf) {
            let Ok(request) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            let mut answer = Message::response(request.id, request.op_code);
            answer.metadata.response_code = ResponseCode::NoError;
            answer.queries = request.queries.clone();
            if let Ok(bytes) = answer.to_vec() {
                let _ = socket.send_to(&bytes, from);
            }
        }
    });
    let key = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(
        key.path(),
        crate::util::bind::tsig_keygen("hmac-sha256", KEY_NAME),
    )
    .expect("write");
    let out = dns_at(&format!("127.0.0.1:{port}"))
        .arg("--key")
        .arg(key.path())
        .args([
            "--name",
            "pi",
            "--ip",
            "10.20.30.40",
            "--no-ptr",
            "--timeout-s",
            "3",
        ])
        .output()
        .expect("runs");
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains("is not signed with the key (a TSIG answer must be)"),
        "{stderr}"
    );
}
