//! Fan-out latency: from an announcement's creation to its receipt at 5 local webhook
//! receivers (real HTTP servers on 127.0.0.1), over 100 announcements — with 2 more
//! sinks that are healthy, and again with those 2 never answering. The same 7 sinks
//! both times, so the difference is only the hanging. Prints the median and p99 of
//! the first and the last receipt at the 5. Run: `cargo bench --bench fanout`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use daas::commands::fanout::Fanout;
use daas::sinks;
use tokio::sync::mpsc;

const ANNOUNCEMENTS: usize = 100;
const WATCHED: usize = 5;
const OTHERS: usize = 2;

/// A receiver; with `hang` it never answers, and with `watched` it reports receipts.
/// Receivers run on their own runtime (`servers`), as real servers would be elsewhere.
async fn receiver(
    servers: &tokio::runtime::Handle,
    receipts: mpsc::UnboundedSender<Instant>,
    hang: bool,
    watched: bool,
) -> String {
    let app = Router::new().fallback(move || {
        let receipts = receipts.clone();
        async move {
            if watched {
                let _ = receipts.send(Instant::now());
            }
            if hang {
                std::future::pending::<()>().await;
            }
            "ok"
        }
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    servers.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        axum::serve(listener, app).await.expect("serve")
    });
    url
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
    for i in 0..WATCHED + OTHERS {
        let url = receiver(
            servers,
            tx.clone(),
            i >= WATCHED && others_hang,
            i < WATCHED,
        )
        .await;
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
