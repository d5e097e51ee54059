//! The daemon under systemd's `Type=notify` protocol, spoken over a real Unix datagram
//! socket as systemd does: `READY=1` at start, `WATCHDOG=1` pings only when a watchdog
//! is set, `STOPPING=1` on SIGTERM.

use std::os::unix::net::UnixDatagram;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn start(socket: &std::path::Path, state: &std::path::Path, watchdog_usec: Option<u64>) -> Child {
    let mut cmd = crate::util::daas();
    cmd.args(["run", "--simulate", "--state-dir"])
        .arg(state)
        .env("NOTIFY_SOCKET", socket)
        .env_remove("WATCHDOG_PID")
        .env_remove("WATCHDOG_USEC")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(usec) = watchdog_usec {
        cmd.env("WATCHDOG_USEC", usec.to_string());
    }
    cmd.spawn().expect("daas runs")
}

/// Every message received within `window`.
fn collect(socket: &UnixDatagram, window: Duration) -> Vec<String> {
    let deadline = Instant::now() + window;
    let mut messages = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return messages;
        }
        socket.set_read_timeout(Some(left)).expect("timeout");
        match socket.recv(&mut buf) {
            Ok(n) => messages.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(_) => return messages,
        }
    }
}

fn sigterm(child: &mut Child) -> Option<i32> {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    child.wait().expect("exits").code()
}

#[test]
fn ready_watchdog_and_stopping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind");
    let mut child = start(&path, &dir.path().join("state"), Some(200_000));
    let messages = collect(&socket, Duration::from_secs(2));
    assert!(
        messages.first().is_some_and(|m| m.contains("READY=1")),
        "{messages:?}"
    );
    let pings = messages.iter().filter(|m| m.contains("WATCHDOG=1")).count();
    assert!(
        pings >= 3,
        "pings every 100 ms for a 200 ms watchdog: {messages:?}"
    );
    assert_eq!(sigterm(&mut child), Some(0));
    let last = collect(&socket, Duration::from_millis(500));
    assert!(last.iter().any(|m| m.contains("STOPPING=1")), "{last:?}");
}

#[test]
fn without_a_watchdog_there_are_no_pings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind");
    let mut child = start(&path, &dir.path().join("state"), None);
    let messages = collect(&socket, Duration::from_secs(1));
    assert!(
        messages.iter().any(|m| m.contains("READY=1")),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("WATCHDOG")),
        "no timer unless asked: {messages:?}"
    );
    assert_eq!(sigterm(&mut child), Some(0));
}
