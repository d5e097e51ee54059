//! A private network namespace with a made-up lab network, for the `daas register`
//! tests: the test machine may have nothing but `lo` (MAC 00:…:00, no default
//! route), and the tests must not touch its real network anyway. `unshare --net`
//! makes the namespace; a `cat` holds it open (and ends when the guard drops its
//! stdin); `nsenter` runs `daas` and servers inside it.
//!
//! The interface is one end of a veth pair rather than a dummy: the dummy driver is
//! a module some kernels (this sandbox's among them) do not have, veth is in every
//! kernel that does containers.

#![allow(dead_code)] // each test file uses its own part of this module

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};

pub use super::text;

/// The MAC of `eth0` in [`LAB`].
pub const MAC: &str = "02:00:5e:10:00:01";

/// `eth0` (MAC [`MAC`]) with 10.20.30.40/24 (and the secondary .41),
/// 2001:db8:1::40/64 and the unique-local fd00:1::40/64, and the default route via
/// 10.20.30.1.
pub const LAB: &str = "\
ip link add eth0 address 02:00:5e:10:00:01 type veth peer name peer0
ip addr add 10.20.30.40/24 dev eth0
ip addr add 10.20.30.41/24 dev eth0
ip -6 addr add fd00:1::40/64 dev eth0 nodad
ip -6 addr add 2001:db8:1::40/64 dev eth0 nodad
ip link set peer0 up
ip link set eth0 up
ip link set lo up
ip route add default via 10.20.30.1 dev eth0
";

/// [`LAB`] without the default route.
pub const NO_ROUTE: &str = "\
ip link add eth0 address 02:00:5e:10:00:01 type veth peer name peer0
ip addr add 10.20.30.40/24 dev eth0
ip link set peer0 up
ip link set eth0 up
ip link set lo up
";

/// An interface with a MAC and no address at all.
pub const NO_ADDRESS: &str = "\
ip link add eth0 address 02:00:5e:10:00:01 type veth peer name peer0
ip link set peer0 up
ip link set eth0 up
ip link set lo up
";

/// Nothing but loopback.
pub const LOOPBACK_ONLY: &str = "ip link set lo up\n";

/// A network namespace set up by a shell script; gone when this is dropped.
pub struct Netns {
    holder: Child,
    /// Dropping it ends the holder's `cat`.
    stdin: Option<ChildStdin>,
}

impl Netns {
    /// Makes the namespace and runs `setup` (`ip` commands) in it.
    pub fn new(setup: &str) -> Netns {
        let script = format!("set -e\n{setup}\necho ready\nexec cat >/dev/null\n");
        let mut holder = Command::new("unshare")
            .args(["--net", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unshare runs (util-linux; root or user namespaces needed)");
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the namespace's setup");
        if line.trim() != "ready" {
            let out = holder.wait_with_output().expect("setup ended");
            panic!(
                "setting up the network namespace failed:\n{setup}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let stdin = holder.stdin.take();
        Netns { holder, stdin }
    }

    /// `/proc/PID/ns/net` of the namespace.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/net", self.holder.id()))
    }

    /// `program` to be run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", self.path().display()))
            .arg("--")
            .arg(program);
        cmd
    }

    /// `daas ARGS` inside the namespace, to completion. Without `--config` in
    /// `args`, config.example.toml (no `[register]` table) is given, so that an
    /// /etc/daas/config.toml on the test machine cannot change the outcome.
    pub fn daas(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_daas"));
        cmd.args(args);
        if !args.contains(&"--config") {
            cmd.arg("--config")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"));
        }
        cmd.env_remove("RUST_LOG")
            .env_remove("JOURNAL_STREAM")
            .output()
            .expect("nsenter runs daas")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Asserts the exit code, showing both streams when it is wrong.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}
