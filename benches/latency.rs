//! Press-to-lab latency: from the debounced edge of a press to its receipt at 5 webhook
//! receivers (real HTTP servers on 127.0.0.1) and the acceptance of its email by a real
//! SMTP server (aiosmtpd, tests/support/smtp_server.py), over 20 presses of the release
//! `daas run --simulate` — and, in the same run on the same receivers, of the original
//! DaaS design (benches/original.py: requests + smtplib, as the first script did), so
//! the two can be compared on one machine at one moment.
//!
//! Times are CLOCK_MONOTONIC everywhere. daas fires a press at its debounced edge,
//! `debounce_ms` (20) after the button goes down: its event line says when (`t_ms`,
//! counted from the reading the daemon logs at start). The original script fired on
//! the edge itself (gpiozero's `bounce_time` only drops later edges): it prints when it
//! read the press. The receivers stamp each request as it arrives, and the SMTP server
//! the end of DATA (`time.monotonic()`).
//!
//! Run: `cargo bench --bench latency` (needs python3-aiosmtpd; python3-requests for
//! the original script, which is left out, saying so, without it).

#[path = "../tests/util/receiver/mod.rs"]
mod receiver;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use daas::clock::monotonic;
use receiver::{Options, Received, Receiver};

const PRESSES: usize = 20;
const WARMUP: usize = 2;
const HOOKS: usize = 5;
const PYTHON: &str = "/usr/bin/python3";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Five receivers (the tests' own) on a runtime of their own; each arrival goes to
/// the channel. They serve while the returned receivers live.
fn receivers(
    runtime: &tokio::runtime::Runtime,
) -> (Vec<Receiver>, mpsc::Receiver<(usize, Duration)>) {
    let (tx, rx) = mpsc::channel();
    let mut receivers = Vec::new();
    for hook in 0..HOOKS {
        let tx = tx.clone();
        let on_arrival = move |request: &Received| {
            let _ = tx.send((hook, request.arrived));
        };
        receivers.push(runtime.block_on(Receiver::start_with(Options {
            on_arrival: Some(std::sync::Arc::new(on_arrival)),
            ..Options::default()
        })));
    }
    (receivers, rx)
}

/// A child that prints `READY` on stdout when it can be used.
fn wait_ready(child: &mut Child, what: &str) {
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    assert!(line.starts_with("READY"), "{what} did not start: {line:?}");
}

/// aiosmtpd on a free port, saving each message (with its acceptance time) in `out`.
fn smtp_server(out: &Path) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(PYTHON)
        .arg(root().join("tests/support/smtp_server.py"))
        .args(["--port", &port.to_string(), "--mode", "none", "--out"])
        .arg(out)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with aiosmtpd (Debian: python3-aiosmtpd)");
    wait_ready(&mut child, "the SMTP server");
    (child, port)
}

/// When the SMTP server accepted its `n`-th message (from 1), waiting up to 5 s.
fn email_accepted(out: &Path, n: usize) -> Duration {
    let path = out.join(format!("message-{n:04}.json"));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: serde_json::Value = serde_json::from_str(&text).expect("message JSON");
            let s = v["accepted_monotonic"]
                .as_f64()
                .expect("accepted_monotonic");
            return Duration::from_secs_f64(s);
        }
        assert!(Instant::now() < deadline, "no email {n} within 5 s");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// One row of the table: which latencies of a subject.
type Pick = fn(&Samples) -> &Vec<Duration>;

/// One subject's latencies, per press.
#[derive(Default)]
struct Samples {
    first: Vec<Duration>,
    last: Vec<Duration>,
    email: Vec<Duration>,
}

/// Presses the subject behind `stdin` `WARMUP + PRESSES` times; `edge(n)` says when
/// its `n`-th press (from 1) fired, on CLOCK_MONOTONIC. The SMTP server's messages so
/// far: `emails_before`.
fn measure(
    stdin: &mut ChildStdin,
    mut edge: impl FnMut(usize) -> Duration,
    hooks: &mpsc::Receiver<(usize, Duration)>,
    out: &Path,
    emails_before: usize,
) -> Samples {
    let mut samples = Samples::default();
    for n in 1..=WARMUP + PRESSES {
        stdin.write_all(b"press\n").expect("press");
        stdin.flush().expect("flush");
        let mut arrivals: Vec<Duration> = (0..HOOKS)
            .map(|_| {
                hooks
                    .recv_timeout(Duration::from_secs(5))
                    .expect("a webhook within 5 s")
                    .1
            })
            .collect();
        arrivals.sort();
        let email = email_accepted(out, emails_before + n);
        let edge = edge(n);
        if n > WARMUP {
            samples.first.push(arrivals[0].saturating_sub(edge));
            samples.last.push(arrivals[HOOKS - 1].saturating_sub(edge));
            samples.email.push(email.saturating_sub(edge));
        }
        // Past the press's release (100 ms) and its debounce.
        std::thread::sleep(Duration::from_millis(250));
    }
    samples
}

/// The daemon's debounced edges: the event lines' gesture times (`t_ms`), which count
/// from the CLOCK_MONOTONIC reading the daemon logs at start.
struct DaemonEdges {
    log: PathBuf,
    events: PathBuf,
}

impl DaemonEdges {
    fn origin(&self) -> Duration {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let seconds = log
            .lines()
            .find_map(|l| l.split("event lines count from CLOCK_MONOTONIC ").nth(1))
            .and_then(|rest| rest.trim_end_matches(" s").parse::<f64>().ok())
            .expect("the daemon logs its time line's origin");
        Duration::from_secs_f64(seconds)
    }

    /// The `n`-th press's debounced edge (from 1), waiting up to 5 s for its line.
    fn edge(&self, n: usize) -> Duration {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&self.events).unwrap_or_default();
            let t_ms = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|e| e["type"] == "gesture")
                .nth(n - 1)
                .and_then(|e| e["t_ms"].as_f64());
            if let Some(t_ms) = t_ms {
                return self.origin() + Duration::from_secs_f64(t_ms / 1000.0);
            }
            assert!(Instant::now() < deadline, "no gesture line {n}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The receivers' own share: a bare HTTP POST from this process (blocking socket,
/// TCP_NODELAY) to the first receiver, from `connect` to its arrival.
fn floor(url: &str, hooks: &mpsc::Receiver<(usize, Duration)>) -> Vec<Duration> {
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches("/hook")
        .to_string();
    let body = "{}";
    let request = format!(
        "POST /hook HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    (0..WARMUP + PRESSES)
        .map(|_| {
            let sent = monotonic::now();
            let mut stream = std::net::TcpStream::connect(&address).expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            stream.write_all(request.as_bytes()).expect("request");
            let (_, arrived) = hooks
                .recv_timeout(Duration::from_secs(5))
                .expect("the request arrives");
            std::thread::sleep(Duration::from_millis(20));
            arrived.saturating_sub(sent)
        })
        .skip(WARMUP)
        .collect()
}

fn config(dir: &Path, hooks: &[String], smtp_port: u16) -> PathBuf {
    let mut text = String::from(
        "[button]\npin = 17\ndebounce_ms = 20\n[gestures]\npress = \"arrival\"\n\
         [actions.arrival]\nsubject = \"Doughnuts in the {device}!\"\n\
         body = \"Fresh doughnuts arrived at {time}. Come and get them.\"\ncooldown_s = 0\n\
         [clock]\ntrust = \"always\"\n",
    );
    for (i, url) in hooks.iter().enumerate() {
        text += &format!("[[sinks]]\ntype = \"webhook\"\nname = \"hook-{i}\"\nurl = \"{url}\"\n");
    }
    text += &format!(
        "[[sinks]]\ntype = \"email\"\nname = \"mail\"\nserver = \"127.0.0.1\"\nport = {smtp_port}\n\
         tls = \"none\"\nfrom = \"donuts@example.org\"\nto = \"lab@example.org\"\n"
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn daas(dir: &Path, config: &Path) -> (Child, DaemonEdges) {
    let edges = DaemonEdges {
        log: dir.join("daas.log"),
        events: dir.join("events.jsonl"),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_daas"))
        .args(["run", "--simulate", "--config"])
        .arg(config)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--events")
        .arg(&edges.events)
        // Warnings, and the one debug line with the time line's origin.
        .env("RUST_LOG", "warn,daas::daemon=debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&edges.log).expect("log"))
        .spawn()
        .expect("daas runs");
    // The first presses are warm-up anyway; give the outbox a moment to open.
    std::thread::sleep(Duration::from_millis(500));
    if let Ok(Some(status)) = child.try_wait() {
        panic!(
            "daas exited ({status}): {}",
            std::fs::read_to_string(&edges.log).unwrap_or_default()
        );
    }
    (child, edges)
}

/// The original script, and its stdout (one `EDGE <seconds>` line per press).
type Original = (Child, std::io::Lines<BufReader<std::process::ChildStdout>>);

fn original(hooks: &[String], smtp_port: u16) -> Option<Original> {
    let has_requests = Command::new(PYTHON)
        .args(["-c", "import requests"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_requests {
        eprintln!("original script left out: python3-requests is not installed");
        return None;
    }
    let mut command = Command::new(PYTHON);
    command.arg(root().join("benches/original.py"));
    for url in hooks {
        command.args(["--webhook", url]);
    }
    let mut child = command
        .args(["--smtp", &format!("127.0.0.1:{smtp_port}")])
        .args(["--from", "donuts@example.org", "--to", "lab@example.org"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 benches/original.py");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        ready.starts_with("READY"),
        "the original script did not start: {ready:?}"
    );
    Some((child, lines))
}

fn percentile(values: &[Duration], p: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// "0.62 / 0.80 ms (×1.3)": median / p95, and p95 over the median.
fn cell(values: &[Duration]) -> String {
    let (median, p95) = (percentile(values, 0.5), percentile(values, 0.95));
    format!(
        "{:.2} / {:.2} ms (×{:.1})",
        ms(median),
        ms(p95),
        p95.as_secs_f64() / median.as_secs_f64().max(1e-9)
    )
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (receivers, arrivals) = receivers(&runtime);
    let hooks: Vec<String> = receivers.iter().map(|r| r.url("/hook")).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mail");
    std::fs::create_dir(&out).expect("mail dir");
    let (mut smtp, smtp_port) = smtp_server(&out);

    let floor = floor(&hooks[0], &arrivals);
    let config = config(dir.path(), &hooks, smtp_port);
    let (mut daemon, edges) = daas(dir.path(), &config);
    let mut stdin = daemon.stdin.take().expect("stdin");
    let ours = measure(&mut stdin, |n| edges.edge(n), &arrivals, &out, 0);
    drop(stdin);
    let _ = daemon.wait();

    let theirs = original(&hooks, smtp_port).map(|(mut child, mut lines)| {
        let mut stdin = child.stdin.take().expect("stdin");
        let edge = |_| {
            let line = lines.next().and_then(Result::ok).unwrap_or_default();
            let seconds = line
                .strip_prefix("EDGE ")
                .and_then(|s| s.parse::<f64>().ok())
                .expect("EDGE <seconds>");
            Duration::from_secs_f64(seconds)
        };
        let samples = measure(&mut stdin, edge, &arrivals, &out, WARMUP + PRESSES);
        drop(stdin);
        let _ = child.wait();
        samples
    });
    let _ = smtp.kill();
    let _ = smtp.wait();

    println!("latency from the debounced edge, {PRESSES} presses: median / p95 (p95 over median)");
    println!(
        "{:<22} {:<28} original script (requests + smtplib)",
        "", "daas (release)"
    );
    let rows: [(&str, Pick); 3] = [
        ("first of 5 webhooks", |s| &s.first),
        ("last of 5 webhooks", |s| &s.last),
        ("email accepted", |s| &s.email),
    ];
    for (name, pick) in rows {
        let theirs = theirs.as_ref().map_or("-".to_string(), |t| cell(pick(t)));
        println!("{name:<22} {:<28} {theirs}", cell(pick(&ours)));
    }
    println!(
        "{:<22} {:<28} (a bare POST from the bench: the receivers' own share)",
        "receiver floor",
        cell(&floor)
    );
    let median = |v: &[Duration]| percentile(v, 0.5);
    let steady = [&ours.first, &ours.last, &ours.email]
        .iter()
        .all(|v| percentile(v, 0.95) <= median(v) * 3);
    let met = median(&ours.first) <= Duration::from_millis(1)
        && median(&ours.last) <= Duration::from_millis(2)
        && median(&ours.email) <= Duration::from_millis(5)
        && steady;
    println!(
        "budget (first ≤ 1 ms, last ≤ 2 ms, email ≤ 5 ms, p95 ≤ 3× median): {}",
        if met { "met" } else { "NOT met" }
    );
}
