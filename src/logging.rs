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

/// Installs the logger. `level` (from `--log-level`) wins over `RUST_LOG`; the
/// default is `info`.
pub fn init(level: Option<&str>) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(&std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()));
    if let Some(level) = level {
        builder.parse_filters(level);
    }
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
