//! Nothing accepted is lost: the daemon (the built binary, simulated button) against
//! real HTTP receivers on 127.0.0.1 — killed mid-send, facing an outage, and a corrupt
//! or unwritable state directory. The timing rules (retries, Retry-After, expiry, a
//! permanent refusal) are tested on paused time in `src/dispatch/deliveries/tests.rs`
//! and on virtual time in `src/core/delivery/tests.rs`; the clock and disk faults are
//! in tests/clock.rs and tests/faults.rs.

use crate::util::daemon::{Setup, accepted_ids, until, until_or_show};
use crate::util::receiver::Receiver;

fn pending(setup: &Setup) -> u64 {
    setup.status()["pending"]["count"].as_u64().expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_send_loses_nothing() {
    let r = Receiver::start().await;
    let sinks = [
        ("slow-a", r.url("/slow/1500/a")),
        ("slow-b", r.url("/slow/1500/b")),
        ("quick", r.url("/quick")),
    ];
    let setup = Setup::new(&sinks, "");
    let mut daemon = setup.start(1);
    daemon.send("press\nwait 100\npress\nwait 100\npress\n");
    until_or_show(
        "3 committed announcements",
        || setup.ids().len() == 3,
        || setup.diagnosis(1),
    )
    .await;
    until("a slow send in flight", || {
        r.requests()
            .iter()
            .any(|q| q.uri.path().starts_with("/slow") && q.answered.is_none())
    })
    .await;
    daemon.kill();

    let daemon = setup.start(2);
    until("no pending deliveries", || pending(&setup) == 0).await;
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let ids = setup.ids();
    assert_eq!(ids.len(), 3);
    for path in ["/slow/1500/a", "/slow/1500/b", "/quick"] {
        let got = accepted_ids(&r, path);
        for id in &ids {
            let n = got.iter().filter(|g| *g == id).count();
            // A duplicate only where the kill fell between the server's answer and the commit.
            assert!(
                (1..=2).contains(&n),
                "{path}: {id} received {n} times ({got:?})"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_delays_but_keeps_order() {
    let mut r = Receiver::start().await;
    let setup = Setup::new(&[("lab", r.url("/hook"))], "");
    let mut daemon = setup.start(1);
    daemon.send("press\n");
    until("the first delivery", || r.accepted().len() == 1).await;

    r.stop().await;
    daemon.send("wait 50\npress\nwait 200\npress\nwait 200\npress\n");
    until("4 announcements", || setup.ids().len() == 4).await;
    until("a failed retry", || {
        setup
            .event_lines(1)
            .iter()
            .any(|e| e["outcome"] == "retrying")
    })
    .await;
    assert_eq!(pending(&setup), 3);

    let log = std::sync::Arc::clone(&r.received);
    let back = Receiver::start_on(r.port, log).await;
    until("all delivered", || back.accepted().len() == 4).await;
    assert_eq!(
        accepted_ids(&back, "/hook"),
        setup.ids(),
        "delivered in the order they were made"
    );
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_database_is_named_and_presses_still_go_out() {
    let r = Receiver::start().await;
    let setup = Setup::new(&[("lab", r.url("/hook"))], "");
    std::fs::create_dir_all(setup.state()).expect("state dir");
    let db = setup.state().join("outbox.sqlite3");
    std::fs::write(&db, vec![0x5a; 8192]).expect("garbage");

    let out = setup.run_status(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&db.display().to_string()) && stderr.contains("mv "),
        "{stderr}"
    );

    let mut daemon = setup.start(1);
    daemon.send("press\n");
    until("the best-effort delivery", || r.accepted().len() == 1).await;
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "no crash: {stderr}");
    assert!(
        stderr.contains("NO OUTBOX") && stderr.contains(&db.display().to_string()),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unwritable_state_dir_still_delivers() {
    let r = Receiver::start().await;
    let setup = Setup::new(&[("lab", r.url("/hook"))], "");
    // A state dir below a plain file can never be created (even by root).
    std::fs::write(setup.dir.path().join("state"), "not a directory").expect("file");
    let mut daemon = setup.start(1);
    daemon.send("press\n");
    until("the best-effort delivery", || r.accepted().len() == 1).await;
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("NO OUTBOX"), "{stderr}");
}
