//! The daemon driven in-process, as mini-redis's tests drive its server: the caller
//! opens the parts — here an edge source fed by the test, the outbox writer on a
//! temporary directory, a webhook sink to a real receiver — and passes a shutdown
//! future; `daemon::run` returns when it completes.

use std::time::Duration;

use daas::clock::monotonic;
use daas::config::Settings;
use daas::daemon::{self, Daemon};
use daas::gpio::{EdgeSource, InputError};
use daas::model::{BoxFuture, Edge, InputId, Level, StartingLevels};
use daas::outbox::writer::Writer;
use tokio::sync::{mpsc, oneshot};

use crate::util::daemon::until;
use crate::util::receiver::Receiver;

/// Edges the test sends, stamped when sent, like a GPIO backend's.
struct TestButton(mpsc::UnboundedReceiver<Edge>);

impl EdgeSource for TestButton {
    fn starting_levels(&self) -> StartingLevels {
        StartingLevels {
            button: Level::High,
            arm: None,
        }
    }

    fn next_edge(&mut self) -> BoxFuture<'_, Option<Result<Edge, InputError>>> {
        Box::pin(async move { self.0.recv().await.map(Ok) })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_runs_in_process_until_its_shutdown_future_completes() {
    let r = Receiver::start().await;
    let config = crate::util::config::parse(&crate::util::config::text(
        "kitchen",
        "Doughnuts",
        "At {time}.",
        &format!(
            "[[sinks]]\ntype = \"webhook\"\nname = \"lab\"\nurl = \"{}\"",
            r.url("/hook")
        ),
    ));
    let state = tempfile::tempdir().expect("tempdir");
    let (press, edges) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let parts = Daemon {
        settings: Settings::of(&config),
        sinks: daas::sinks::from_config(&config.sinks).expect("sinks"),
        source: Box::new(TestButton(edges)),
        led: None,
        outbox: Writer::start(state.path().to_path_buf(), Duration::from_secs(5)).expect("outbox"),
        events: None,
        origin: monotonic::now(),
    };
    let daemon = tokio::spawn(daemon::run(parts, async {
        let _ = stopped.await;
    }));

    // A press (active low): down, then up 100 ms later.
    for level in [Level::Low, Level::High] {
        let edge = Edge {
            input: InputId::Button,
            level,
            at: monotonic::now(),
        };
        press.send(edge).expect("the daemon listens");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    until("the delivery", || r.accepted().len() == 1).await;

    stop.send(()).expect("the daemon waits for it");
    let result = tokio::time::timeout(Duration::from_secs(10), daemon)
        .await
        .expect("run returns once shut down")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
    // Stopped cleanly: the outbox has the delivery.
    let outbox = daas::outbox::Outbox::open_read_only(state.path()).expect("outbox");
    let record = &outbox.recent(1).expect("recent")[0];
    assert_eq!(
        record.deliveries[0].state,
        daas::model::DeliveryState::Delivered
    );
}
