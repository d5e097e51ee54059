//! Fan-out latency: from an announcement's creation to its receipt at 5 local webhook
//! receivers (real HTTP servers on 127.0.0.1), over 100 announcements — with 2 more
//! sinks that are healthy, and again with those 2 never answering. The same 7 sinks
//! both times, so the difference is only the hanging. Prints the median and p99 of
//! the first and the last receipt at the 5. Run: `cargo bench --bench fanout`.

#[path = "../tests/util/receiver/mod.rs"]
mod receiver;

use std::sync::Arc;
use std::time::{Duration, Instant};

use daas::commands::fanout::Fanout;
use daas::sinks;
use receiver::{Options, Received, Receiver};
use tokio::sync::mpsc;

const ANNOUNCEMENTS: usize = 100;
const WATCHED: usize = 5;
const OTHERS: usize = 2;

/// A receiver (the tests' own); with `hang` it never answers, and with `watched` it
/// reports receipts. Receivers run on their own runtime (`servers`), as real servers
/// would be elsewhere. Returns the sink URL and the receiver, which serves until dropped.
async fn receiver(
    servers: &tokio::runtime::Handle,
    receipts: mpsc::UnboundedSender<Instant>,
    hang: bool,
    watched: bool,
) -> (String, Receiver) {
    let on_arrival = move |request: &Received| {
        let _ = receipts.send(request.at);
    };
    let options = Options {
        on_arrival: watched.then(|| Arc::new(on_arrival) as receiver::OnArrival),
        ..Options::default()
    };
    let receiver = servers
        .spawn(Receiver::start_with(options))
        .await
        .expect("a receiver");
    (receiver.url(if hang { "/hang" } else { "/hook" }), receiver)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn run(
    servers: &tokio::runtime::Handle,
    others_hang: bool,
) -> (Vec<Duration>, Vec<Duration>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut entries = String::new();
    let mut receivers = Vec::new();
    for i in 0..WATCHED + OTHERS {
        let (url, receiver) = receiver(
            servers,
            tx.clone(),
            i >= WATCHED && others_hang,
            i < WATCHED,
        )
        .await;
        receivers.push(receiver);
        entries += &format!(
            "[[sinks]]\ntype = \"webhook\"\nname = \"r{i}\"\nurl = \"{url}\"\ntimeout_s = 30\n"
        );
    }
    let text = format!(
        "[button]\npin = 17\n[gestures]\npress = \"arrival\"\n[actions.arrival]\nsubject = \"s\"\nbody = \"b\"\n{entries}"
    );
    let config = daas::config::parse(&text, "bench.toml").expect("config");
    let actions = daas::config::Settings::of(&config).actions;
    let mut fanout = Fanout::new(sinks::from_config(&config.sinks).expect("sinks"));
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for _ in 0..ANNOUNCEMENTS {
        let created = Instant::now();
        let announcement = daas::commands::notify::announcement_now(
            &actions,
            "arrival",
            daas::clock::Trust::Always,
            &jiff::tz::TimeZone::UTC,
            None,
        )
        .expect("announcement");
        fanout.send(Arc::new(announcement));
        let mut times = Vec::new();
        while times.len() < WATCHED {
            times.push(rx.recv().await.expect("receipt"));
        }
        // Collect finished reports without waiting for the hanging ones.
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, fanout.next_report()).await {}
        times.sort();
        first.push(times[0] - created);
        last.push(times[times.len() - 1] - created);
    }
    first.sort();
    last.sort();
    fanout.abort_all();
    (first, last)
}

fn print(label: &str, (first, last): &(Vec<Duration>, Vec<Duration>)) {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "{label:<28} first receipt: median {} p99 {} | last receipt: median {} p99 {}",
        ms(percentile(first, 0.5)),
        ms(percentile(first, 0.99)),
        ms(percentile(last, 0.5)),
        ms(percentile(last, 0.99)),
    );
}

fn main() {
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("servers");
    // The daemon's own set-up: one thread.
    let daemon = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let handle = servers.handle().clone();
    daemon.block_on(async {
        // A warm-up round, so first-use costs are not in the figures.
        let _ = run(&handle, false).await;
        print("7 healthy", &run(&handle, false).await);
        print("5 healthy + 2 never answer", &run(&handle, true).await);
    });
}
