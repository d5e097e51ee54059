//! The built binary on good and bad input: `check`, `run --simulate` with scripted
//! stdin, `notify`, and the errors people see (exit codes and messages).

use crate::util::daas;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `daas run --simulate --events -` with `script` on stdin. Scripts that expect
/// a delivery wait 1.5 s before quitting: an unoptimised daemon under qemu-user
/// (scripts/cross) needs several hundred milliseconds for it.
fn simulate(config: Option<&std::path::Path>, script: impl AsRef<[u8]>) -> Output {
    let state = tempfile::tempdir().expect("state dir");
    let mut cmd = daas();
    cmd.args(["run", "--simulate", "--events", "-", "--state-dir"])
        .arg(state.path());
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daas runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_ref())
        .expect("write script");
    child.wait_with_output().expect("daas exits")
}

fn event_lines(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

#[test]
fn check_accepts_the_example_and_summarises_it() {
    let out = daas()
        .args(["check", "--config"])
        .arg(example())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("ok\n"), "{stdout}");
    assert!(
        stdout.contains("button: GPIO 17 (pull up, active low, debounce 20 ms)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("gesture: press → arrival (cooldown 300 s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sink: console (console, timeout 10 s)"),
        "{stdout}"
    );
}

#[test]
fn check_names_a_misspelt_key_with_file_line_column_and_allowed_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = std::fs::read_to_string(example())
        .expect("example")
        .replacen("debounce_ms = 20", "debounse_ms = 20", 1);
    let path = write_config(&dir, &bad);
    let out = daas()
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let line = bad
        .lines()
        .position(|l| l.starts_with("debounse_ms"))
        .expect("line")
        + 1;
    assert_eq!(
        stderr.trim_end(),
        format!(
            "daas: {}:{line}:1: unknown key `debounse_ms`; the keys allowed here are `pin`, `pull`, `active`, `debounce_ms`",
            path.display()
        )
    );
}

/// `daas check` on `config` written to `dir`: its path, exit code and stderr.
fn check_text(dir: &tempfile::TempDir, config: &str) -> (PathBuf, Option<i32>, String) {
    let path = write_config(dir, config);
    let out = daas()
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("runs");
    (path, out.status.code(), text(&out.stderr))
}

/// `daas check` on config.example.toml with `from` replaced by `to`: it must exit 2.
/// Returns the config's path, the edited text and what check said.
fn check_edited_example(from: &str, to: &str) -> (tempfile::TempDir, PathBuf, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = std::fs::read_to_string(example()).expect("example");
    assert!(example.contains(from), "the example has no `{from}`");
    let bad = example.replace(from, to);
    let (path, code, stderr) = check_text(&dir, &bad);
    assert_eq!(code, Some(2), "{stderr}");
    (dir, path, bad, stderr)
}

#[test]
fn check_names_both_keys_of_a_shared_pin() {
    let (_dir, path, _, stderr) = check_edited_example("pin = 27", "pin = 17");
    assert!(
        stderr.contains("`arm_switch.pin` and `button.pin` are both GPIO 17"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{}:", path.display())), "{stderr}");
}

/// The LED is an output: on an input's pin it would fight the button.
#[test]
fn check_refuses_the_led_on_an_input_pin_naming_its_line() {
    let (_dir, path, bad, stderr) = check_edited_example("[led]\npin = 22", "[led]\npin = 27");
    let line = bad.lines().position(|l| l == "[led]").expect("[led]") + 2;
    assert!(
        stderr.contains(&format!(
            "{}:{line}:1: `led.pin` and `arm_switch.pin` are both GPIO 27",
            path.display()
        )),
        "{stderr}"
    );
}

/// The example with its optional `[quiet_hours]`, `[rota]` and `time_zone`
/// uncommented, as an admin would.
fn example_with_optional_tables() -> String {
    let mut in_quiet = false;
    std::fs::read_to_string(example())
        .expect("example")
        .lines()
        .map(|l| {
            in_quiet = (in_quiet && !l.is_empty()) || l == "# [quiet_hours]" || l == "# [rota]";
            let key = l.strip_prefix("# ").unwrap_or(l);
            let setting = key.contains(" = ") || key.starts_with('[');
            if (in_quiet && setting) || key.starts_with("time_zone =") {
                key.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_example_quiet_hours_rota_and_time_zone_pass_check_once_uncommented() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = example_with_optional_tables();
    assert!(
        example.contains("\n[[rota.people]]\nname = \"Bob\"\nmention"),
        "{example}"
    );
    assert!(
        example.contains("\n[quiet_hours]\nfrom = \"22:00\""),
        "{example}"
    );
    let (_, code, stderr) = check_text(&dir, &example);
    assert_eq!(code, Some(0), "{stderr}");

    // `from` equal to `to` is no window: exit 2, at `to`'s line and column.
    let bad = example.replace("to = \"07:00\"", "to = \"22:00\"");
    let line = bad.lines().position(|l| l == "to = \"22:00\"").expect("to") + 1;
    let (path, code, stderr) = check_text(&dir, &bad);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(&format!(
            "{}:{line}:1: `quiet_hours.from` and `to` are both 22:00",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn check_of_a_missing_file_exits_2() {
    let out = daas()
        .args(["check", "--config", "/nonexistent/daas.toml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read config /nonexistent/daas.toml"));
}

#[test]
fn bad_usage_exits_2() {
    let out = daas().args(["frobnicate"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = daas()
        .args(["run", "--simulate", "--nonsense"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn simulated_press_announces_and_delivers_to_the_console() {
    let out = simulate(None, "press\nwait 1500\nquit\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let events = event_lines(&out);
    let gesture = events
        .iter()
        .find(|e| e["type"] == "gesture")
        .expect("a gesture line");
    assert_eq!(gesture["gesture"], "press");
    assert_eq!(gesture["action"], "arrival");
    assert!(gesture.get("ignored").is_none());
    let delivery = events
        .iter()
        .find(|e| e["type"] == "delivery")
        .expect("a delivery line");
    assert_eq!(delivery["sink"], "console");
    assert_eq!(delivery["outcome"], "delivered");
    assert_eq!(delivery["attempt"], 1);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Fresh doughnuts arrived at"),
        "the console sink printed: {stdout}"
    );
}

#[test]
fn simulated_arm_switch_and_long_press_follow_the_config() {
    let script = "disarm\nwait 50\npress\nwait 100\narm\nwait 50\nhold 1700\nwait 1500\nquit\n";
    let out = simulate(Some(&example()), script);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let kinds: Vec<String> = event_lines(&out)
        .iter()
        // The LED's lines have tests of their own (tests/led.rs).
        .filter(|e| e["type"] != "led")
        .map(|e| match e["type"].as_str() {
            Some("gesture") => format!(
                "{} {}{}",
                e["gesture"].as_str().unwrap_or_default(),
                e["action"].as_str().unwrap_or_default(),
                e.get("ignored")
                    .map(|i| format!(" ignored:{}", i.as_str().unwrap_or_default()))
                    .unwrap_or_default()
            ),
            Some("arm") => format!("arm {}", e["armed"]),
            Some("delivery") => format!(
                "delivery {} {}",
                e["sink"].as_str().unwrap_or_default(),
                e["outcome"].as_str().unwrap_or_default()
            ),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "arm false",
            "press arrival ignored:disarmed",
            "arm true",
            "long_press all_gone",
            "delivery console delivered"
        ]
    );
}

#[test]
fn unknown_simulator_lines_are_reported_and_skipped() {
    let out = simulate(None, "jump\npress\nwait 1500\n");
    assert_eq!(out.status.code(), Some(0), "end of input quits cleanly");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("stdin line 1: unknown command `jump`"),
        "{stderr}"
    );
    assert!(
        event_lines(&out).iter().any(|e| e["type"] == "delivery"),
        "the press after it still counts"
    );
}

/// The gesture and delivery lines of a simulation, as `gesture action` and
/// `delivery sink outcome`.
fn gestures_and_deliveries(out: &Output) -> Vec<String> {
    event_lines(out)
        .iter()
        .filter_map(|e| match e["type"].as_str() {
            Some("gesture") => Some(format!(
                "{} {}",
                e["gesture"].as_str().unwrap_or_default(),
                e["action"].as_str().unwrap_or_default()
            )),
            Some("delivery") => Some(format!(
                "delivery {} {}",
                e["sink"].as_str().unwrap_or_default(),
                e["outcome"].as_str().unwrap_or_default()
            )),
            _ => None,
        })
        .collect()
}

/// With long presses mapped, a press is decided on its release (after the debounce):
/// the end of input came first and the daemon stopped without a word.
#[test]
fn simulated_press_then_end_of_input_is_announced_when_long_press_is_mapped() {
    let out = simulate(Some(&example()), "press\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        gestures_and_deliveries(&out),
        ["press arrival", "delivery console delivered"],
        "{}",
        text(&out.stderr)
    );
}

/// With double presses mapped, a single press waits out the gap before it fires.
#[test]
fn simulated_press_then_quit_is_announced_when_double_press_is_mapped() {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/traces/all-gestures.toml");
    let out = simulate(Some(&config), "press\nquit\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        gestures_and_deliveries(&out),
        ["press arrival", "delivery console delivered"],
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn simulator_line_that_is_not_utf8_is_reported_and_skipped() {
    let out = simulate(None, b"pr\xffess\npress\nwait 1500\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("stdin line 1: `pr\\xffess` is not UTF-8 text; use one of:"),
        "{stderr}"
    );
    assert_eq!(
        gestures_and_deliveries(&out),
        ["press arrival", "delivery console delivered"],
        "the simulation went on: {stderr}"
    );
}

#[test]
fn simulator_escapes_control_bytes_when_it_reports_a_line() {
    let out = simulate(None, "\u{1b}[2J\u{1b}]0;owned\u{7}jump\r\nquit\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("stdin line 1: unknown command `\\u{1b}[2J\\u{1b}]0;owned\\u{7}jump`"),
        "{stderr}"
    );
    assert!(
        !out.stderr
            .iter()
            .any(|&b| b == 0x1b || b == 0x07 || b == b'\r'),
        "raw control bytes reached the log: {stderr:?}"
    );
}

/// `--events PATH` truncated the file: a restart wiped the lines of earlier runs.
#[test]
fn run_events_file_is_appended_to_not_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events.jsonl");
    let earlier = "{\"t_ms\":20,\"type\":\"arm\",\"armed\":true}\n";
    std::fs::write(&events, earlier).expect("write");
    for _ in 0..2 {
        let mut child = daas()
            .args(["run", "--simulate", "--events"])
            .arg(&events)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("daas runs");
        // Dropping stdin at once: the press, then end of input.
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"press\n")
            .expect("write script");
        let out = child.wait_with_output().expect("daas exits");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let written = std::fs::read_to_string(&events).expect("events file");
    assert!(written.starts_with(earlier), "{written}");
    let presses = written
        .lines()
        .filter(|l| l.contains("\"gesture\":\"press\""))
        .count();
    assert_eq!(presses, 2, "one press line per run: {written}");
}

/// A state directory with one announcement in its outbox (a press, then end of input).
fn state_with_one_announcement() -> tempfile::TempDir {
    let state = tempfile::tempdir().expect("state dir");
    let mut child = daas()
        .args(["run", "--simulate", "--config"])
        .arg(example())
        .arg("--state-dir")
        .arg(state.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daas runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"press\n")
        .expect("write script");
    let out = child.wait_with_output().expect("daas exits");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    state
}

/// `--limit 0` printed "no announcements yet" over a history that has some.
#[test]
fn status_limit_0_is_a_usage_error_not_an_empty_history() {
    let state = state_with_one_announcement();
    let status = |limit: &str| {
        daas()
            .args(["status", "--limit", limit, "--config"])
            .arg(example())
            .arg("--state-dir")
            .arg(state.path())
            .output()
            .expect("runs")
    };
    let out = status("0");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("'0' for '--limit <N>': 0 would show no announcements; give 1 or more"),
        "{stderr}"
    );
    let out = status("1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("arrival"),
        "{}",
        text(&out.stdout)
    );
}

/// As root on a read-only file system, `status` said "run daas status as the daas user
/// (or root)": SQLite reports only "unable to open database file" when it must create
/// the -shm file beside an outbox that has a -wal file. Runs in a private user and
/// mount namespace (`unshare -rm`), where daas is root and the read-only bind mount
/// is gone when the test ends; skipped where such namespaces are not allowed.
#[test]
fn status_as_root_on_a_read_only_file_system_says_so_not_run_as_the_daas_user() {
    let state = state_with_one_announcement();
    let db = state.path().join("outbox.sqlite3");
    // Left by a crash or a copy; a clean stop removes it.
    std::fs::write(state.path().join("outbox.sqlite3-wal"), "").expect("wal");
    let script = r#"mount --bind -o ro "$1" "$1" || exit 97
touch "$1/probe" 2>/dev/null && exit 98
exec "$2" status --config "$3" --state-dir "$1""#;
    let out = match Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(state.path())
        .arg(env!("CARGO_BIN_EXE_daas"))
        .arg(example())
        .env_remove("RUST_LOG")
        .output()
    {
        Ok(out) => out,
        Err(err) => {
            eprintln!("skipped: cannot run unshare ({err})");
            return;
        }
    };
    let stderr = text(&out.stderr);
    if matches!(out.status.code(), Some(97 | 98)) || stderr.starts_with("unshare:") {
        eprintln!("skipped: no read-only bind mount in a private namespace here: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "daas: cannot read {}: it is on a read-only file system, and SQLite must create {}-shm beside it",
            db.display(),
            db.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("remount the file system read-write"),
        "{stderr}"
    );
    assert!(!stderr.contains("daas user"), "{stderr}");
}

#[test]
fn sigterm_stops_the_daemon_with_exit_0() {
    let state = tempfile::tempdir().expect("state dir");
    let mut child = daas()
        .args(["run", "--simulate", "--state-dir"])
        .arg(state.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daas runs");
    let stdin = child.stdin.take();
    // Signal it once it is ready (its log line), so the handler is installed.
    let started = Instant::now();
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.contains("ready:") {
        line.clear();
        assert!(
            std::io::BufRead::read_line(&mut stderr, &mut line).expect("read") > 0,
            "exited early"
        );
    }
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("kill");
    let status = child.wait().expect("exits");
    drop(stdin);
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn without_simulate_on_a_machine_that_is_not_a_pi_the_error_says_what_to_do() {
    let out = daas()
        .args(["run", "--config"])
        .arg(example())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("use `daas run --simulate`"), "{stderr}");
}

#[test]
fn gpiocdev_without_the_chip_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = std::fs::read_to_string(example())
        .expect("example")
        .replace("backend = \"rppal\"", "backend = \"gpiocdev\"")
        .replace("/dev/gpiochip0", "/dev/gpiochip-daas-test");
    let path = write_config(&dir, &config);
    let out = daas()
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot open GPIO chip /dev/gpiochip-daas-test"),
        "{stderr}"
    );
}

#[test]
fn notify_prints_a_table_and_exits_0_when_all_delivered() {
    let out = daas()
        .args(["notify", "all_gone", "--config"])
        .arg(example())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("The doughnuts in the 3rd floor kitchen are gone"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.contains("delivered"))
        .expect("a result row");
    assert!(row.contains("console"), "{row}");
}

#[test]
fn notify_of_an_undefined_action_exits_2_listing_the_defined_ones() {
    let out = daas()
        .args(["notify", "party", "--config"])
        .arg(example())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("action \"party\" is not defined; defined actions: all_gone, arrival")
    );
}

/// `daas rota` lists eight turns from today, one row each with the date and the
/// person; a rota whose start is not on its day is refused at its line.
#[test]
fn rota_lists_the_next_eight_turns_and_check_refuses_a_start_off_the_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(&dir, &example_with_optional_tables());
    let out = daas()
        .args(["rota", "--config"])
        .arg(&config)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let rows: Vec<&str> = table.lines().filter(|l| l.contains("Friday")).collect();
    assert_eq!(rows.len(), 8, "{table}");
    // Alice and Bob take turns from Friday 4 Dec 2026.
    let alice = rows.iter().filter(|r| r.contains("Alice")).count();
    assert_eq!(alice, 4, "{table}");
    for row in &rows {
        let date = row
            .split_whitespace()
            .find(|w| w.len() == 10 && w.as_bytes()[4] == b'-')
            .expect("a YYYY-MM-DD date");
        let date: jiff::civil::Date = date.parse().expect("a date");
        assert_eq!(date.weekday(), jiff::civil::Weekday::Friday, "{table}");
    }

    let bad =
        example_with_optional_tables().replace("start = \"2026-12-04\"", "start = \"2026-12-05\"");
    let line = bad
        .lines()
        .position(|l| l == "start = \"2026-12-05\"")
        .expect("start")
        + 1;
    let (path, code, stderr) = check_text(&dir, &bad);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(&format!(
            "{}:{line}:1: `rota.start` = 2026-12-05 is a saturday, but turns fall on a friday",
            path.display()
        )),
        "{stderr}"
    );

    let out = daas()
        .args(["rota", "--config"])
        .arg(example())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("has no [rota] table"),
        "{}",
        text(&out.stderr)
    );
}
