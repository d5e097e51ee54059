//! Nothing accepted is lost and nothing is sent twice when the disk misbehaves or a
//! second daemon starts: the daemon (the built binary, simulated button) against a
//! real HTTP receiver on 127.0.0.1 — a second daemon on its state directory, an fsync
//! that takes 300 ms (the preload shim), a full card (a small tmpfs), an outbox locked
//! by another program at start-up, and the state directory deleted while it runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::daemon::{Setup, accepted_ids, until, until_or_show};
use crate::util::receiver::Receiver;

/// Whether the daemon has said it is ready (the outbox is loaded).
fn ready(daemon: &crate::util::daemon::Daemon) -> bool {
    daemon.stderr_text().contains("ready: ")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_daemon_on_one_state_directory_refuses_and_nothing_is_doubled() {
    let r = Receiver::start().await;
    let setup = Setup::new(&[("lab", r.url("/hook"))], "");
    let mut first = setup.start(1);
    until("the first daemon is ready", || ready(&first)).await;

    let mut second = setup.start(2);
    assert_eq!(second.exited(Duration::from_secs(20)), Some(1));
    let stderr = second.stderr_text();
    let expected = format!(
        "another daas daemon (process {}) is already running on the state directory {}",
        first.pid(),
        setup.state().display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("--state-dir DIR"), "{stderr}");

    first.send("press\n");
    until("the delivery", || r.accepted().len() == 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(r.requests().len(), 1, "sent once");
    let (code, stderr) = first.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_disk_never_delays_a_press() {
    let r = Receiver::start().await;
    let mut setup = Setup::new(&[("lab", r.url("/hook"))], "");
    // Every fsync takes 300 ms, like a tired SD card.
    setup.env = vec![
        (
            "LD_PRELOAD".into(),
            crate::util::preload::shim().display().to_string(),
        ),
        ("DAAS_SHIM_FSYNC_MS".into(), "300".into()),
    ];
    let mut daemon = setup.start(1);
    until("ready", || ready(&daemon)).await;
    let mut pressed = Vec::new();
    for _ in 0..2 {
        pressed.push(Instant::now());
        daemon.send("press\n");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    until_or_show(
        "both deliveries",
        || r.accepted().len() == 2,
        || setup.diagnosis(1),
    )
    .await;
    // A press fires at its debounced edge, 20 ms after the button goes down.
    let debounce = Duration::from_millis(20);
    for (i, (request, at)) in r.accepted().iter().zip(&pressed).enumerate() {
        let latency = request.at.saturating_duration_since(*at + debounce);
        assert!(
            latency <= Duration::from_millis(60),
            "press {i} reached the webhook {latency:?} after its debounced edge"
        );
    }
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    // And both were committed all the same.
    assert_eq!(setup.ids().len(), 2);
}

/// A small tmpfs: a card that can be filled. Unmounted when dropped.
struct Card {
    path: PathBuf,
}

impl Card {
    fn mount(path: &Path, size: &str) -> Card {
        std::fs::create_dir_all(path).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed");
        Card {
            path: path.to_path_buf(),
        }
    }

    /// Fills the card to the last byte.
    fn fill(&self) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.path.join("filler")).expect("filler");
        let block = vec![0x55u8; 4096];
        while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
        // And the last few bytes.
        while file.write_all(&[0x55]).is_ok() {}
    }

    fn free(&self) {
        std::fs::remove_file(self.path.join("filler")).expect("remove filler");
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_card_never_makes_a_delivered_message_go_twice() {
    if !crate::util::root_or_skip(
        "a_full_card_never_makes_a_delivered_message_go_twice",
        "it mounts a small tmpfs",
    ) {
        return;
    }
    let r = Receiver::start().await;
    let path = "/slow/1500/hook";
    let mut setup = Setup::new(&[("lab", r.url(path))], "");
    let card = Card::mount(&setup.dir.path().join("card"), "2m");
    setup.state = card.path.join("state");
    let mut daemon = setup.start(1);
    until("ready", || ready(&daemon)).await;
    daemon.send("press\n");
    // Committed, and the send is on its way (the receiver takes 1.5 s to answer)...
    until("the commit", || setup.ids().len() == 1).await;
    until("the send", || !r.requests().is_empty()).await;
    // ...when the card fills up. The outcome must still reach the disk.
    card.fill();
    until("the delivery", || r.accepted().len() == 1).await;
    until_or_show(
        "the outcome's write to fail",
        || daemon.stderr_text().contains("the card is full"),
        || setup.diagnosis(1),
    )
    .await;
    // A power cut right after that (long before the writer's next try, 1 s later),
    // then a boot with room again: nothing may be sent twice.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = daemon.stderr_text();
    daemon.kill();
    card.free();
    let daemon = setup.start(2);
    until("ready again", || ready(&daemon)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(accepted_ids(&r, path).len(), 1, "{}", setup.diagnosis(2));
    assert_eq!(setup.status()["pending"]["count"], 0);
    assert!(
        log.contains("the card is full") && log.contains("released the space reserved"),
        "the log says what happened: {log}"
    );
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outbox_locked_at_start_up_becomes_durable_when_released() {
    let r = Receiver::start().await;
    let setup = Setup::new(&[("lab", r.url("/hook"))], "");
    drop(daas::outbox::Outbox::open(&setup.state()).expect("an outbox"));
    // Another program holds the database's write lock, longer than SQLite waits.
    let db = setup.state().join(daas::outbox::Outbox::FILE_NAME);
    let blocker = rusqlite::Connection::open(&db).expect("open");
    blocker.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let mut daemon = setup.start(1);
    until("ready", || ready(&daemon)).await;
    until_or_show(
        "the daemon says it has no outbox",
        || daemon.stderr_text().contains("NO OUTBOX"),
        || setup.diagnosis(1),
    )
    .await;
    daemon.send("press\n");
    until("the delivery, from memory", || r.accepted().len() == 1).await;

    blocker.execute_batch("COMMIT").expect("unlock");
    drop(blocker);
    until_or_show(
        "durable again",
        || daemon.stderr_text().contains("durable again") && setup.ids().len() == 1,
        || setup.diagnosis(1),
    )
    .await;
    until("the outcome written", || {
        setup.status()["announcements"][0]["deliveries"][0]["state"] == "delivered"
    })
    .await;
    // A power cut now loses nothing and doubles nothing.
    daemon.kill();
    let daemon = setup.start(2);
    until("ready again", || ready(&daemon)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(r.requests().len(), 1, "{}", setup.diagnosis(2));
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_directory_deleted_while_running_keeps_what_is_pending() {
    let mut r = Receiver::start().await;
    let setup = Setup::new(&[("lab", r.url("/hook"))], "");
    let mut daemon = setup.start(1);
    until("ready", || ready(&daemon)).await;
    r.stop().await;
    daemon.send("press\nwait 300\npress\n");
    until("two committed announcements", || setup.ids().len() == 2).await;
    let ids = setup.ids();

    std::fs::remove_dir_all(setup.state()).expect("rm -r the state directory");
    // The next retry's write notices and makes the outbox again from memory.
    until_or_show(
        "the outbox made again",
        || setup.ids() == ids,
        || setup.diagnosis(1),
    )
    .await;
    assert_eq!(setup.status()["pending"]["count"], 2);
    // A power cut; the network is back at the next boot.
    daemon.kill();
    let back = Receiver::start_on(r.port, std::sync::Arc::clone(&r.received)).await;
    let daemon = setup.start(2);
    until_or_show(
        "both delivered",
        || back.accepted().len() == 2,
        || setup.diagnosis(2),
    )
    .await;
    assert_eq!(
        accepted_ids(&back, "/hook"),
        ids,
        "in the order they were made"
    );
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_segv_sent_with_kill_ends_the_daemon_like_a_crash() {
    // Rust's stack-overflow handler took a sent SIGSEGV for a fault that was not an
    // overflow, uninstalled itself and returned: the daemon ran on, so systemd never
    // saw the crash it was told of (rust-lang/rust#140662; daemon/crash_signals.rs).
    let r = Receiver::start().await;
    let setup = Setup::new(&[("lab", r.url("/hook"))], "");
    for signal in [rustix::process::Signal::SEGV, rustix::process::Signal::BUS] {
        let mut daemon = setup.start(1);
        until("the daemon is ready", || ready(&daemon)).await;
        assert_eq!(
            daemon.end_by(signal, Duration::from_secs(10)),
            Some(signal.as_raw()),
            "{signal:?} did not end the daemon"
        );
    }
}
