//! The `daas` command line: parse, load config, call the library, map errors to exit
//! codes (0 ok, 1 runtime failure, 2 bad usage or configuration). No logic lives here.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use daas::commands::{notify, replay, status};
use daas::config::Settings;
use daas::config::{self, Loaded};
use daas::daemon;
use daas::gpio::trace::Trace;
use daas::model::GestureKind;
use daas::outbox::Outbox;
use daas::outbox::writer::Writer;
use daas::{logging, register, sinks};

#[derive(Parser)]
#[command(
    name = "daas",
    version,
    about = "Doughnuts-as-a-Service: one button tells the lab the doughnuts are here"
)]
struct Cli {
    /// Log level: error, warn, info, debug or trace (default: RUST_LOG, else info)
    #[arg(long, global = true, value_name = "LEVEL",
          value_parser = ["off", "error", "warn", "info", "debug", "trace"])]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: watch the button and announce
    Run {
        /// Config file [default: /etc/daas/config.toml]
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Use a simulated button on stdin instead of GPIO
        #[arg(long)]
        simulate: bool,
        /// Write event lines (JSON) to PATH, or `-` for stdout. A file is appended to,
        /// never truncated: each run's lines count t_ms from that run's start
        #[arg(long, value_name = "PATH")]
        events: Option<PathBuf>,
        /// Where the outbox lives [default: `[daemon] state_dir`]
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Check a config file and summarise it
    Check {
        /// Config file [default: /etc/daas/config.toml]
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// Play a trace file through debounce, gestures and announce decisions; sends nothing
    Replay {
        /// CSV trace: t_ms,input,level
        trace: PathBuf,
        /// Config file [default: /etc/daas/config.toml]
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// The wall-clock time at the trace's start, for quiet hours: local in the
        /// device's time zone (2026-12-04T23:00) or with an offset (…+01:00, …Z).
        /// Without it the clock counts as not synchronised: no quiet hours
        #[arg(long, value_name = "DATETIME")]
        start: Option<String>,
    },
    /// Show the latest announcements and how each sink's delivery went
    Status {
        /// Config file [default: /etc/daas/config.toml]
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Where the outbox lives [default: `[daemon] state_dir`]
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// How many announcements to show, newest first: 1 or more (the pending line is
        /// shown whatever the number)
        #[arg(long, value_name = "N", default_value_t = 10, value_parser = status::parse_limit)]
        limit: usize,
    },
    /// Announce ACTION through every sink now and show how each went
    Notify {
        /// The action to announce (default: the one mapped to `press`)
        action: Option<String>,
        /// Config file [default: /etc/daas/config.toml]
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// Show the doughnut rota: the next 8 turns, each a date and a person
    Rota {
        /// Config file [default: /etc/daas/config.toml]
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// Join the lab network: show this Pi's identity, print its DHCP reservation, update DNS
    #[command(subcommand)]
    Register(Box<register::RegisterCommand>),
}

/// A failure and its exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: error.into(),
    }
}

fn runtime(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 1,
        error: error.into(),
    }
}

/// Loads `--config`, or the default path; with `fallback`, the built-in config when
/// no path was given and the default file does not exist.
fn load_config(path: Option<&Path>, fallback: bool) -> Result<Loaded, Failure> {
    let default = Path::new(config::DEFAULT_PATH);
    match path {
        Some(path) => config::load(path).map_err(usage),
        None if fallback && !default.exists() => {
            log::info!(
                "no {} found; using the built-in config (button on GPIO 17, press → arrival, console)",
                config::DEFAULT_PATH
            );
            config::built_in().map_err(runtime)
        }
        None => config::load(default).map_err(usage),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    logging::init(cli.log_level.as_deref());
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("daas: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

fn dispatch(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Run {
            config,
            simulate,
            events,
            state_dir,
        } => run(config.as_deref(), simulate, events.as_deref(), state_dir),
        Command::Status {
            config,
            state_dir,
            json,
            limit,
        } => status(config.as_deref(), state_dir, json, limit),
        Command::Check { config } => check(config.as_deref()),
        Command::Replay {
            trace,
            config,
            start,
        } => replay_trace(&trace, config.as_deref(), start.as_deref()),
        Command::Notify { action, config } => notify_now(action, config.as_deref()),
        Command::Rota { config } => show_rota(config.as_deref()),
        Command::Register(command) => {
            register::run(*command)
                .map(|()| ExitCode::SUCCESS)
                .map_err(|failure| Failure {
                    code: failure.exit_code(),
                    error: anyhow::Error::from_boxed(failure.into_error()),
                })
        }
    }
}

fn runtime_builder() -> Result<tokio::runtime::Runtime, Failure> {
    // One thread: the Pi has little to do, and idle must cost nothing.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .map_err(runtime)
}

fn run(
    config: Option<&Path>,
    simulate: bool,
    events: Option<&Path>,
    state_dir: Option<PathBuf>,
) -> Result<ExitCode, Failure> {
    // Before any thread starts: `kill -SEGV` must end the daemon like a crash.
    daemon::crash_signals::install();
    let loaded = load_config(config, simulate)?;
    let events: Option<Box<dyn Write + Send>> = match events {
        None => None,
        Some(path) if path == Path::new("-") => Some(Box::new(std::io::stdout())),
        // Appended: a restart (systemd, a second try) must not wipe the record of
        // earlier runs.
        Some(path) => Some(Box::new(BufWriter::new(
            File::options()
                .append(true)
                .create(true)
                .open(path)
                .with_context(|| format!("cannot open the events file {}", path.display()))
                .map_err(usage)?,
        ))),
    };
    let sinks =
        sinks::from_config(&loaded.config.sinks).map_err(|err| sink_failure(&loaded, err))?;
    let settings = Settings::of(&loaded.config);
    let state_dir = state_dir.unwrap_or_else(|| settings.state_dir.clone());
    let runtime = runtime_builder()?;
    // The time line starts before the source opens.
    let origin = daas::clock::monotonic::now();
    // Inside the runtime: gpiocdev's line request registers its file descriptor with
    // the runtime's reactor as it opens (and panics outside one: the virtual Pi
    // caught that, as nothing else here opens a real GPIO chip).
    let (source, led) = {
        let _runtime = runtime.enter();
        let source =
            daemon::inputs::open_source(&settings.gpio, simulate).map_err(runtime_error)?;
        // After the inputs, which waited for udev at boot if they had to. An LED that
        // cannot be driven is logged and left out: it never costs a press.
        let led = daas::gpio::led::open(&settings.gpio, simulate)
            .inspect_err(|err| {
                log::error!("the feedback LED is off: {err}; presses are still announced")
            })
            .ok()
            .flatten();
        (source, led)
    };
    let outbox = Writer::start(state_dir, daemon::OUTBOX_WAIT).map_err(runtime_error)?;
    let parts = daemon::Daemon {
        settings,
        sinks,
        source,
        led,
        outbox,
        events,
        origin,
    };
    runtime.block_on(async {
        let shutdown = shutdown_signal()?;
        daemon::run(parts, shutdown).await.map_err(runtime_error)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// SIGINT or SIGTERM, whichever comes first (installed now, so none is missed).
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let install = |kind, name| {
        signal(kind)
            .with_context(|| format!("cannot install the {name} handler"))
            .map_err(runtime)
    };
    let mut sigint = install(SignalKind::interrupt(), "SIGINT")?;
    let mut sigterm = install(SignalKind::terminate(), "SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = sigint.recv() => log::info!("SIGINT: stopping"),
            _ = sigterm.recv() => log::info!("SIGTERM: stopping"),
        }
    })
}

/// A sink that cannot be built is a config error: `PATH:LINE:COL: sink "x" (type): …`
/// like every other, or as it is for the built-in config, which has no file.
fn sink_failure(loaded: &Loaded, error: sinks::BuildError) -> Failure {
    match loaded.locate_sink_error(&error) {
        Some(located) => usage(anyhow::Error::msg(located)),
        None => usage(error),
    }
}

fn runtime_error(error: impl std::error::Error + Send + Sync + 'static) -> Failure {
    runtime(error)
}

fn check(path: Option<&Path>) -> Result<ExitCode, Failure> {
    let loaded = load_config(path, false)?;
    // Building the sinks reads their secrets: a missing password file shows up now.
    sinks::from_config(&loaded.config.sinks).map_err(|err| sink_failure(&loaded, err))?;
    print!("{}", config::summary::summary(&loaded.config));
    Ok(ExitCode::SUCCESS)
}

fn status(
    config: Option<&Path>,
    state_dir: Option<PathBuf>,
    json: bool,
    limit: usize,
) -> Result<ExitCode, Failure> {
    let loaded = load_config(config, true)?;
    let state_dir = state_dir.unwrap_or_else(|| loaded.config.daemon.state_dir.clone());
    let outbox = Outbox::open_read_only(&state_dir).map_err(runtime)?;
    let records = outbox.recent(limit).map_err(runtime)?;
    let pending = outbox.pending().map_err(runtime)?;
    let c = &loaded.config;
    let now = status::Now {
        wall: daas::clock::WallClock::quiet(c.clock.trust).read(),
        boot_id: daas::clock::boot_id(),
        boot: daas::clock::boot_now(),
        tz: Settings::of(c).time_zone,
        expire_after: std::time::Duration::from_secs(c.delivery.expire_after_s),
    };
    if json {
        println!("{}", status::json(&records, &pending, &now));
    } else {
        print!("{}", status::table(&records, &pending, &now));
    }
    Ok(ExitCode::SUCCESS)
}

fn show_rota(config: Option<&Path>) -> Result<ExitCode, Failure> {
    let loaded = load_config(config, true)?;
    let settings = Settings::of(&loaded.config);
    let Some(rota) = settings.rota else {
        let source = loaded.path.map_or("the built-in config".to_string(), |p| {
            p.display().to_string()
        });
        return Err(usage(anyhow::anyhow!(
            "{source} has no [rota] table; add one with `start` and [[rota.people]] (config.example.toml shows how)"
        )));
    };
    // The date people read on the wall: the device's zone, today.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(settings.time_zone)
        .date();
    println!("{}", daas::commands::rota::table(&rota, &[], today));
    Ok(ExitCode::SUCCESS)
}

fn replay_trace(
    trace_path: &Path,
    config: Option<&Path>,
    start: Option<&str>,
) -> Result<ExitCode, Failure> {
    let loaded = load_config(config, true)?;
    let settings = Settings::of(&loaded.config);
    let wall = start
        .map(|text| replay::start_anchor(text, &settings.time_zone))
        .transpose()
        .map_err(|err| usage(anyhow::anyhow!(err)))?;
    let text = std::fs::read_to_string(trace_path)
        .with_context(|| format!("cannot read trace {}", trace_path.display()))
        .map_err(usage)?;
    let trace = Trace::parse(&text)
        .map_err(|err| usage(anyhow::anyhow!("{}:{err}", trace_path.display())))?;
    let mut out = std::io::stdout().lock();
    let led = settings.gpio.led.is_some();
    for event in replay::replay(&settings.pipeline, led, wall, &trace) {
        writeln!(out, "{}", event.to_line(std::time::Duration::ZERO))
            .context("writing to stdout")
            .map_err(runtime)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn notify_now(action: Option<String>, config: Option<&Path>) -> Result<ExitCode, Failure> {
    let loaded = load_config(config, true)?;
    let c = &loaded.config;
    let settings = Settings::of(c);
    let pressed = settings.pipeline.action(GestureKind::Press);
    let action = match action.or_else(|| pressed.map(|a| a.name.clone())) {
        Some(action) => action,
        None => {
            return Err(usage(anyhow::anyhow!(
                "no action given and none is mapped to `press`; name one: daas notify ACTION"
            )));
        }
    };
    let Some(announcement) = notify::announcement_now(
        &settings.actions,
        &action,
        settings.trust,
        &settings.time_zone,
        settings.rota.as_ref(),
    ) else {
        let defined: Vec<_> = settings.actions.names().collect();
        return Err(usage(anyhow::anyhow!(
            "action \"{action}\" is not defined; defined actions: {}",
            defined.join(", ")
        )));
    };
    let sinks = sinks::from_config(&c.sinks).map_err(|err| sink_failure(&loaded, err))?;
    let reports = runtime_builder()?.block_on(notify::notify(sinks, announcement));
    println!("{}", notify::table(&reports));
    let failed = reports.iter().any(|r| r.error.is_some());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
