//! Logging: the `log` facade, written to stderr as readable lines, or with journald
//! priority prefixes (`<3>` …) when systemd started us (`JOURNAL_STREAM` is set), so
//! `journalctl -p warning` works. The level comes from `--log-level` or `RUST_LOG`.

use std::io::Write;

use log::Level;

/// The sd-daemon priority for a log level.
fn journald_priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// Installs the logger. `level` (from `--log-level`) sets daas's own level and wins
/// over `RUST_LOG`; the default is `info`. Libraries log at `warn` unless `RUST_LOG`
/// names them: their debug output (HTTP and SMTP internals) is for experts who ask.
pub fn init(level: Option<&str>) {
    let mut builder = env_logger::Builder::new();
    match (level, std::env::var("RUST_LOG")) {
        (Some(level), _) => builder.parse_filters(&format!("warn,daas={level}")),
        (None, Ok(filters)) => builder.parse_filters(&filters),
        (None, Err(_)) => builder.parse_filters("warn,daas=info"),
    };
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    builder.format(move |out, record| {
        let level = record.level();
        if journald {
            writeln!(out, "<{}>{}", journald_priority(level), record.args())
        } else {
            writeln!(
                out,
                "daas: {}: {}",
                level.as_str().to_lowercase(),
                record.args()
            )
        }
    });
    builder.target(env_logger::Target::Stderr);
    let _ = builder.try_init();
}
