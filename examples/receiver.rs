//! The soak's HTTP receiver as a program: scripts/soak starts five of these, healthy
//! and flaky; scripts/virtual-pi healthy and hanging ones. It is the tests' own receiver (tests/util/receiver), answering as a soak
//! receiver (tests/util/receiver/soak.rs says how, and what it logs), so tests,
//! benches and the soak share one receiver.
//!
//! Usage: `receiver PORT healthy|flaky|hanging SEED LOG [--hang-s SECONDS] [--bodies FILE]`. It listens on
//! 127.0.0.1:PORT (0: a free port), prints `READY <port>` once it listens, and runs
//! until SIGTERM or SIGINT.

#[path = "../tests/util/receiver/mod.rs"]
mod receiver;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use receiver::soak::{Soak, Temper};
use receiver::{Answers, Options, Receiver};
use tokio::signal::unix::{SignalKind, signal};

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Healthy,
    Flaky,
    Hanging,
}

/// A healthy, flaky or hanging HTTP receiver for scripts/soak and scripts/virtual-pi.
#[derive(Parser)]
struct Args {
    /// The port on 127.0.0.1 (0: a free one).
    port: u16,
    mode: Mode,
    /// The flaky answers follow this seed.
    seed: String,
    /// The log file, one line per request (appended).
    log: PathBuf,
    /// How long a hung request is held, in seconds.
    #[arg(long, default_value_t = 5.0)]
    hang_s: f64,
    /// Also append each accepted request's body to this file, one line each.
    #[arg(long)]
    bodies: Option<PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let temper = match args.mode {
        Mode::Healthy => Temper::Healthy,
        Mode::Flaky => Temper::Flaky,
        Mode::Hanging => Temper::Hanging,
    };
    let Ok(hang) = Duration::try_from_secs_f64(args.hang_s) else {
        eprintln!(
            "receiver: --hang-s {} is not a number of seconds",
            args.hang_s
        );
        return ExitCode::from(2);
    };
    let opened =
        Soak::open(temper, &args.seed, hang, &args.log).and_then(|soak| match &args.bodies {
            Some(bodies) => soak.with_bodies(bodies),
            None => Ok(soak),
        });
    let soak = match opened {
        Ok(soak) => soak,
        Err(e) => {
            eprintln!(
                "receiver: cannot open the log {} or the bodies file: {e}",
                args.log.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        _ => {
            eprintln!("receiver: cannot install the signal handlers");
            return ExitCode::FAILURE;
        }
    };
    let mut receiver = Receiver::start_with(Options {
        port: args.port,
        answers: Answers::Soak(Arc::new(soak)),
        ..Options::default()
    })
    .await;
    println!("READY {}", receiver.port);
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    receiver.stop().await;
    ExitCode::SUCCESS
}
