//! The simulated button on a real terminal (a pseudo-terminal made by the test):
//! the hint shows, Enter announces and the LED glyph lights, `q` quits with exit 0,
//! and the terminal's settings are given back.

use std::fs::File;
use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{LocalModes, tcgetattr};

/// Reads the terminal's output until `needle` shows up (or fails after 10 s).
fn wait_for(rx: &mpsc::Receiver<Vec<u8>>, seen: &mut String, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => panic!("`{needle}` never appeared; the terminal showed:\n{seen}"),
        }
    }
}

#[test]
fn enter_on_a_terminal_prints_the_announcement() {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = File::options()
        .read(true)
        .write(true)
        .open(name.to_str().expect("utf-8"))
        .expect("open pts");

    let state = tempfile::tempdir().expect("state dir");
    let mut child = crate::util::daas()
        .args(["run", "--simulate"])
        .env_remove("RUST_LOG")
        // The built-in config keeps its outbox in the user's state dir.
        .env("XDG_STATE_HOME", state.path())
        .stdin(Stdio::from(slave.try_clone().expect("dup")))
        .stdout(Stdio::from(slave.try_clone().expect("dup")))
        .stderr(Stdio::from(slave.try_clone().expect("dup")))
        .spawn()
        .expect("daas runs");

    let mut master = File::from(master);
    let mut reader = master.try_clone().expect("dup master");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });

    let mut seen = String::new();
    wait_for(&rx, &mut seen, "simulated button: Enter or space = press");
    // Enter on a terminal sends a carriage return.
    master.write_all(b"\r").expect("press Enter");
    wait_for(&rx, &mut seen, "Fresh doughnuts arrived at");
    assert!(seen.contains("Doughnuts in the"), "{seen}");
    // The simulated LED, lit by the sending blink and the delivered flash, dark after.
    wait_for(&rx, &mut seen, "LED ●");
    wait_for(&rx, &mut seen, "LED ○");
    master.write_all(b"q").expect("press q");
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(0), "{seen}");

    let restored = tcgetattr(&slave).expect("tcgetattr");
    assert!(
        restored
            .local_modes
            .contains(LocalModes::ICANON | LocalModes::ECHO),
        "terminal settings restored"
    );
}
