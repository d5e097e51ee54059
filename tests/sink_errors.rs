//! A sink that cannot be built is a config error like any other: `daas check`, `run`
//! and `notify` print it as `PATH:LINE:COL: sink "NAME" (TYPE): CAUSE; FIX`, at the key
//! it is about (or at its `[[sinks]]` table when it is about none), and exit 2.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::util::{config, daas, text};

/// A config with a console sink first (so the sink under test is the second
/// `[[sinks]]` table), then `sinks`, written to `dir`; returns its path and text.
fn write_config(dir: &Path, sinks: &str) -> (PathBuf, String) {
    let sinks = format!("[[sinks]]\ntype = \"console\"\nname = \"console\"\n\n{sinks}");
    let written = config::text("lab", "Doughnuts", "Now.", &sinks);
    let path = dir.join("config.toml");
    std::fs::write(&path, &written).expect("write config");
    (path, written)
}

/// `daas SUBCOMMAND --config PATH`, with nothing on stdin (for `run --simulate`).
fn daas_with(args: &[&str], config: &Path, state: &Path) -> Output {
    daas()
        .args(args)
        .arg("--config")
        .arg(config)
        .env("XDG_STATE_HOME", state)
        .stdin(Stdio::null())
        .output()
        .expect("daas runs")
}

/// `LINE:COL` of the first line of `written` that starts with `start` (after indentation).
fn place(written: &str, start: &str) -> String {
    let (index, line) = written
        .lines()
        .enumerate()
        .find(|(_, line)| line.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starts with {start:?}"));
    let column = line.len() - line.trim_start().len() + 1;
    format!("{}:{column}", index + 1)
}

/// The one line `daas check` printed, after checking that it failed as a config error.
fn check_error(config: &Path, state: &Path) -> String {
    let out = daas_with(&["check"], config, state);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "no summary for a bad config");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr.trim_end().to_string()
}

#[test]
fn a_missing_url_file_is_reported_at_its_line_by_check_run_and_notify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url_file = dir.path().join("no-such-slack-url");
    let (path, written) = write_config(
        dir.path(),
        &format!(
            "[[sinks]]\ntype = \"slack\"\nname = \"lab\"\nurl_file = \"{}\"\n",
            url_file.display()
        ),
    );
    let expected = format!(
        "daas: {}:{}: sink \"lab\" (slack): cannot read `url_file` {}: No such file or directory (os error 2); check the path and that the daas user may read it",
        path.display(),
        place(&written, "url_file"),
        url_file.display()
    );
    assert_eq!(check_error(&path, dir.path()), expected);
    for command in [&["run", "--simulate"][..], &["notify"]] {
        let out = daas_with(command, &path, dir.path());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(
            stderr.lines().any(|line| line == expected),
            "{command:?}: {stderr}"
        );
    }
}

#[test]
fn an_unreadable_ca_file_is_reported_at_its_line_without_the_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A directory: it exists, but cannot be read as a file (even by root).
    let ca_file = dir.path().join("ca.pem");
    std::fs::create_dir(&ca_file).expect("mkdir");
    let (path, written) = write_config(
        dir.path(),
        &format!(
            "[[sinks]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"https://127.0.0.1:9/hooks/t0ken-5ecret\"\n\
             headers = {{ Priority = \"1\" }}\n  ca_file = \"{}\"\n",
            ca_file.display()
        ),
    );
    let err = check_error(&path, dir.path());
    let expected = format!(
        "daas: {}:{}: sink \"hook\" (webhook): cannot read `ca_file` {}: ",
        path.display(),
        place(&written, "ca_file"),
        ca_file.display()
    );
    assert!(err.starts_with(&expected), "{err}");
    assert!(
        err.ends_with("; give a PEM file of CA certificates"),
        "{err}"
    );
    assert!(!err.contains("5ecret"), "the URL is a secret: {err}");
}

#[test]
fn a_bad_from_address_is_reported_at_its_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, written) = write_config(
        dir.path(),
        "[[sinks]]\ntype = \"email\"\nname = \"mail\"\nserver = \"smtp.example.org\"\n\
         password = \"hunter2hunter2\"\nusername = \"donuts\"\n    from = \"doughnuts at example.org\"\n\
         to = \"lab@example.org\"\n",
    );
    let err = check_error(&path, dir.path());
    let at = place(&written, "from");
    assert!(at.ends_with(":5"), "indented by four: {at}");
    let expected = format!(
        "daas: {}:{at}: sink \"mail\" (email): `from` \"doughnuts at example.org\" is not an email address: ",
        path.display()
    );
    assert!(err.starts_with(&expected), "{err}");
    assert!(
        err.ends_with("; write it as \"lab@example.org\" or \"Doughnut Lab <lab@example.org>\""),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

/// An error about no one key (here: a login without any password) points at its
/// `[[sinks]]` table, the second in the file.
#[test]
fn an_error_about_no_written_key_points_at_its_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, written) = write_config(
        dir.path(),
        "[[sinks]]\ntype = \"email\"\nname = \"mail\"\nserver = \"smtp.example.org\"\n\
         username = \"donuts\"\nfrom = \"donuts@example.org\"\nto = \"lab@example.org\"\n",
    );
    let second_table = written
        .lines()
        .enumerate()
        .filter(|(_, line)| *line == "[[sinks]]")
        .nth(1)
        .expect("two tables")
        .0
        + 1;
    assert_eq!(
        check_error(&path, dir.path()),
        format!(
            "daas: {}:{second_table}:1: sink \"mail\" (email): no `password`; give one of `password`, `password_file` or `password_env`",
            path.display()
        )
    );
}

/// A secret given as a variable points at its `*_env` key, not at the base name.
#[test]
fn an_unset_password_env_points_at_the_key_it_is_written_as() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, written) = write_config(
        dir.path(),
        "[[sinks]]\ntype = \"email\"\nname = \"mail\"\nserver = \"smtp.example.org\"\n\
         username = \"donuts\"\npassword_env = \"DAAS_TEST_SURELY_UNSET_PASSWORD\"\n\
         from = \"donuts@example.org\"\nto = \"lab@example.org\"\n",
    );
    assert_eq!(
        check_error(&path, dir.path()),
        format!(
            "daas: {}:{}: sink \"mail\" (email): `password_env` names $DAAS_TEST_SURELY_UNSET_PASSWORD, which is not set (or not UTF-8); set it in the service's environment",
            path.display(),
            place(&written, "password_env")
        )
    );
}
