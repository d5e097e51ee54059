//! Resolving secrets: from where the config says, bounded, never echoed.

use super::*;

fn spec(inline: Option<&str>, file: Option<&Path>, env: Option<&str>) -> SecretSpec {
    SecretSpec {
        key: "url",
        inline: inline.map(str::to_string),
        file: file.map(Path::to_path_buf),
        env: env.map(str::to_string),
    }
}

#[test]
fn reads_inline_file_and_env() {
    assert_eq!(
        resolve(&spec(Some("s3cret"), None, None))
            .expect("inline")
            .expose(),
        "s3cret"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pw");
    std::fs::write(&path, "from-file\n").expect("write");
    assert_eq!(
        resolve(&spec(None, Some(&path), None))
            .expect("file")
            .expose(),
        "from-file"
    );
    // PATH is set in every test environment.
    assert!(resolve(&spec(None, None, Some("PATH"))).is_ok());
}

#[test]
fn errors_name_the_key_never_the_value() {
    let both = resolve(&spec(Some("hunter2hunter2"), None, Some("PATH"))).expect_err("two");
    assert_eq!(
        both.to_string(),
        "give only one of `url`, `url_file` and `url_env`"
    );
    let none = resolve(&spec(None, None, None)).expect_err("none");
    assert_eq!(
        none.to_string(),
        "no `url`; give one of `url`, `url_file` or `url_env`"
    );
    let unset = resolve(&spec(None, None, Some("DAAS_TEST_SURELY_UNSET"))).expect_err("unset");
    assert!(
        unset
            .to_string()
            .contains("$DAAS_TEST_SURELY_UNSET, which is not set"),
        "{unset}"
    );
    let missing = resolve(&spec(None, Some(Path::new("/nonexistent/s")), None))
        .expect_err("missing")
        .to_string();
    assert!(
        missing.starts_with("cannot read `url_file` /nonexistent/s: "),
        "{missing}"
    );
}

/// Regression: `url_file = "https://hooks.slack.com/services/T…/B…/TOKEN"` was echoed
/// in the error ("cannot read `url_file` https://hooks.slack.com/…: No such file").
#[test]
fn a_secret_put_in_a_file_or_env_key_is_never_echoed() {
    let url = "https://hooks.slack.com/services/T0AAAAAA/B0BBBBBB/XXXXXXXXXXXXXXXX";
    let file = resolve(&spec(None, Some(Path::new(url)), None)).expect_err("not a path");
    assert_eq!(file, SecretError::NotAPath { key: "url" });
    let env = resolve(&spec(None, None, Some(url))).expect_err("not a variable");
    assert_eq!(env, SecretError::NotAVariable { key: "url" });
    for err in [file, env] {
        let text = err.to_string();
        assert!(
            !text.contains("XXXXXXXX") && !text.contains("hooks.slack.com"),
            "{text}"
        );
    }
}

/// Regression: a FIFO as `url_file` hung `daas check` and start-up for ever.
#[test]
fn a_fifo_as_a_secret_file_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
    )
    .expect("mkfifo");
    let err = resolve(&spec(None, Some(&fifo), None)).expect_err("a FIFO");
    assert!(matches!(err, SecretError::NotAFile { .. }), "{err}");
}

/// Regression: `url_file = "/dev/zero"` ran out of memory; a 300 MB file took 2.6 GB.
#[test]
fn devices_and_huge_files_are_refused_without_reading_them() {
    let err = resolve(&spec(None, Some(Path::new("/dev/zero")), None)).expect_err("a device");
    assert!(matches!(err, SecretError::NotAFile { .. }), "{err}");
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big");
    let file = std::fs::File::create(&big).expect("create");
    // Sparse: 300 MB without writing them.
    file.set_len(300 * 1024 * 1024).expect("set_len");
    let err = resolve(&spec(None, Some(&big), None)).expect_err("too large");
    assert!(
        matches!(err, SecretError::TooLarge { size, .. } if size == 300 * 1024 * 1024),
        "{err}"
    );
    assert!(err.to_string().contains("64 KiB at most"), "{err}");
}

#[test]
fn a_very_long_path_is_cut_in_the_error() {
    let long = format!("/nonexistent/{}", "a".repeat(100_000));
    let err = resolve(&spec(None, Some(Path::new(&long)), None)).expect_err("missing");
    assert!(err.to_string().len() < 400, "{err}");
}

#[test]
fn secrets_never_print() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
}

#[test]
fn an_empty_secret_says_where_it_is_empty_and_what_to_put_there() {
    let inline = resolve(&spec(Some("  "), None, None)).expect_err("blank");
    assert_eq!(inline.to_string(), "`url` is empty; give the url");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("url");
    std::fs::write(&path, "\n").expect("write");
    let file = resolve(&spec(None, Some(&path), None)).expect_err("empty file");
    assert_eq!(
        file.to_string(),
        format!("`url_file` {} is empty; put the url in it", path.display())
    );
}

#[test]
fn a_secret_is_written_as_its_inline_file_or_env_key() {
    assert_eq!(spec(None, None, None).written_key(), None);
    assert_eq!(
        spec(Some("x"), None, None).written_key().as_deref(),
        Some("url")
    );
    assert_eq!(
        spec(None, Some(Path::new("/x")), None)
            .written_key()
            .as_deref(),
        Some("url_file")
    );
    assert_eq!(
        spec(None, None, Some("X")).written_key().as_deref(),
        Some("url_env")
    );
}
