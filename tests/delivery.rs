//! Nothing accepted is lost: the daemon (the built binary, simulated button) against
//! real HTTP receivers on 127.0.0.1 — killed mid-send, facing an outage, a rate limit,
//! a permanent refusal, a delivery that expires, and a corrupt database.

mod daemon;
mod receiver;

use std::time::{Duration, Instant};

use daemon::{Setup, accepted_ids, until, until_or_show};
use receiver::Receiver;

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
async fn retry_after_is_honoured_never_earlier() {
    let r = Receiver::start().await;
    let setup = Setup::new(&[("limited", r.url("/fail-first/2/429"))], "");
    let mut daemon = setup.start(1);
    daemon.send("press\n");
    until("the delivery", || {
        setup
            .event_lines(1)
            .iter()
            .any(|e| e["outcome"] == "delivered")
    })
    .await;
    let times: Vec<Instant> = r.requests().iter().map(|q| q.at).collect();
    assert_eq!(times.len(), 3, "two 429s, then the delivery");
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_secs(2),
            "retried after {:?}, Retry-After said 2 s",
            pair[1] - pair[0]
        );
    }
    let outcomes: Vec<(String, u64)> = setup
        .event_lines(1)
        .iter()
        .filter(|e| e["type"] == "delivery")
        .map(|e| {
            (
                e["outcome"].as_str().expect("outcome").to_string(),
                e["attempt"].as_u64().expect("attempt"),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("retrying".into(), 1),
            ("retrying".into(), 2),
            ("delivered".into(), 3)
        ]
    );
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_failure_is_not_retried_and_blocks_no_other_sink() {
    let r = Receiver::start().await;
    let setup = Setup::new(
        &[("gone", r.url("/status/404")), ("fine", r.url("/fine"))],
        "",
    );
    let mut daemon = setup.start(1);
    daemon.send("press\nwait 100\npress\n");
    until("both delivered to the healthy sink", || {
        accepted_ids(&r, "/fine").len() == 2
    })
    .await;
    until("both failed at the gone sink", || {
        setup
            .event_lines(1)
            .iter()
            .filter(|e| e["sink"] == "gone" && e["outcome"] == "failed")
            .count()
            == 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let to_gone = r
        .requests()
        .iter()
        .filter(|q| q.uri.path() == "/status/404")
        .count();
    assert_eq!(to_gone, 2, "one attempt per announcement, no retries");
    let status = setup.status();
    let states: Vec<&str> = status["announcements"][0]["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states.len(), 2);
    assert!(
        states.contains(&"failed") && states.contains(&"delivered"),
        "{states:?}"
    );
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_that_cannot_succeed_in_time_expires() {
    let r = Receiver::start().await;
    // 8 s: room for a retry (1-2 s apart, jittered) even when every step is slow, as
    // under qemu-user; at 3 s an emulated run sometimes expired after one attempt.
    let setup = Setup::new(&[("down", r.url("/status/503"))], "expire_after_s = 8");
    let mut daemon = setup.start(1);
    daemon.send("press\n");
    until("the expiry", || {
        let lines = setup.event_lines(1);
        lines.iter().any(|e| e["outcome"] == "expired")
    })
    .await;
    // The outbox writer commits a moment later.
    until("the expiry recorded", || pending(&setup) == 0).await;
    let status = setup.status();
    let delivery = &status["announcements"][0]["deliveries"][0];
    assert_eq!(delivery["state"], "expired");
    let attempts = delivery["attempts"].as_u64().expect("attempts");
    assert!(attempts >= 2, "{delivery}");
    // It keeps its last real error, and shows no retry.
    let error = delivery["last_error"].as_str().expect("an error");
    assert!(
        error.starts_with(&format!("expired after {attempts} attempts; last: "))
            && error.contains("503"),
        "{error}"
    );
    assert!(delivery["next_attempt"].is_null(), "{delivery}");
    daemon.stop();
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
