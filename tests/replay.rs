//! `daas replay` on the trace fixtures in tests/traces: each prints exactly the
//! events worked out by hand in its `.jsonl`, and bad traces exit 2 naming the line.

use crate::util::{daas, root};
use std::path::{Path, PathBuf};

fn replay(trace: &Path, config: &Path) -> std::process::Output {
    daas()
        .arg("replay")
        .arg(trace)
        .arg("--config")
        .arg(config)
        .output()
        .expect("daas runs")
}

#[test]
fn every_fixture_replays_to_its_expected_events() {
    let dir = root().join("tests/traces");
    let mut traces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/traces")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    traces.sort();
    assert!(traces.len() >= 7, "fixtures missing: {traces:?}");
    for trace in traces {
        let own = trace.with_extension("toml");
        let config = if own.exists() {
            own
        } else {
            root().join("config.example.toml")
        };
        let out = replay(&trace, &config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", trace.display());
        let expected =
            std::fs::read_to_string(trace.with_extension("jsonl")).expect("expected events");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "{}",
            trace.display()
        );
    }
}

#[test]
fn replay_is_deterministic() {
    let trace = root().join("tests/traces/all-gestures.csv");
    let config = root().join("tests/traces/all-gestures.toml");
    assert_eq!(
        replay(&trace, &config).stdout,
        replay(&trace, &config).stdout
    );
}

#[test]
fn malformed_trace_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("bad.csv");
    std::fs::write(&trace, "t_ms,input,level\n10,button,0\n20,button,high\n").expect("write");
    let out = replay(&trace, &root().join("config.example.toml"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:3: level `high` is not an electrical level; use 0 or 1",
            trace.display()
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing printed for a bad trace");
}

#[test]
fn missing_trace_exits_2() {
    let out = replay(
        Path::new("/nonexistent/trace.csv"),
        &root().join("config.example.toml"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read trace /nonexistent/trace.csv")
    );
}

/// A single press whose release is still bouncing when the double-press gap is up fires
/// once the release is accepted, not at the end of the gap: the line was stamped before
/// the debounce that accepted the release, and so before events already printed (here
/// the arm switch going off). (The same happened to a long press with a debounce
/// longer than the hold, which `daas check` now refuses.)
#[test]
fn replay_single_press_is_not_stamped_before_its_release_is_debounced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slow-debounce.toml");
    std::fs::write(
        &config,
        "[button]\npin = 17\ndebounce_ms = 300\n\
         [arm_switch]\npin = 27\n\
         [gestures]\npress = \"a\"\ndouble_press = \"b\"\ndouble_press_gap_ms = 100\n\
         [actions.a]\nsubject = \"A\"\nbody = \"a\"\n\
         [actions.b]\nsubject = \"B\"\nbody = \"b\"\n\
         [[sinks]]\ntype = \"console\"\nname = \"console\"\n",
    )
    .expect("write config");
    let trace = dir.path().join("slow-debounce.csv");
    // Armed from the start; the release at 1500 ms is accepted at 1800 ms, after the
    // gap's end (1600 ms); the arm switch goes off at 1700 ms (accepted at 1720 ms).
    std::fs::write(
        &trace,
        "t_ms,input,level\n0,arm,0\n0,button,1\n1000,button,0\n1500,button,1\n1700,arm,1\n",
    )
    .expect("write trace");
    let out = replay(&trace, &config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"t_ms\":1720,\"type\":\"arm\",\"armed\":false}\n\
         {\"t_ms\":1800,\"type\":\"gesture\",\"gesture\":\"press\",\"action\":\"a\",\"edge_t_ms\":1000,\"ignored\":\"disarmed\"}\n"
    );
}

#[test]
fn replay_accepts_a_trace_starting_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = root().join("tests/traces/press-double.csv");
    let trace = dir.path().join("bom.csv");
    let mut text = "\u{feff}".to_string();
    text.push_str(&std::fs::read_to_string(&plain).expect("fixture"));
    std::fs::write(&trace, text).expect("write");
    let config = root().join("tests/traces/press-double.toml");
    let out = replay(&trace, &config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, replay(&plain, &config).stdout);
}

#[test]
fn replay_of_t_ms_too_large_for_the_time_line_says_too_large_not_not_a_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("far.csv");
    std::fs::write(&trace, "t_ms,input,level\n10,button,0\n1e13,button,1\n").expect("write");
    let out = replay(&trace, &root().join("config.example.toml"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:3: t_ms `1e13` is too large; a trace can span less than 1e12 ms",
            trace.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("not a number"), "{stderr}");
}

/// Quiet hours in a replay: `--start` gives the wall clock at t = 0. A press after
/// 23:00 is ignored (and the LED says no), a long press set to bypass goes through, a
/// press after 07:00 goes through; without `--start` the clock counts as not
/// synchronised and nothing is ignored for quiet hours.
#[test]
fn replay_with_start_applies_quiet_hours_and_without_it_does_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("quiet.toml");
    std::fs::write(
        &config,
        "[device]\ntime_zone = \"Europe/London\"\n[button]\npin = 17\n[led]\npin = 22\n\
         [gestures]\npress = \"arrival\"\nlong_press = \"arrival\"\n\
         [actions.arrival]\nsubject = \"Doughnuts\"\nbody = \"At {time}.\"\n\
         [quiet_hours]\nfrom = \"23:00\"\nto = \"07:00\"\nbypass = [\"long_press\"]\n\
         [[sinks]]\ntype = \"console\"\nname = \"console\"\n",
    )
    .expect("config");
    // 22:59:58 + 4 s: a press at 23:00:02, a long press at 23:00:10; then, eight hours
    // on (07:00:xx), a press.
    let trace = dir.path().join("night.csv");
    let morning = 8 * 3600 * 1000;
    std::fs::write(
        &trace,
        format!(
            "t_ms,input,level\n0,button,1\n4000,button,0\n4100,button,1\n\
             12000,button,0\n14000,button,1\n{},button,0\n{},button,1\n",
            morning + 4000,
            morning + 4100
        ),
    )
    .expect("trace");
    let gestures = |start: Option<&str>| -> Vec<String> {
        let mut cmd = daas();
        cmd.arg("replay").arg(&trace).arg("--config").arg(&config);
        if let Some(start) = start {
            cmd.args(["--start", start]);
        }
        let out = cmd.output().expect("daas runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
            .filter(|e| e["type"] == "gesture" || e["type"] == "led")
            .map(|e| match e["type"].as_str() {
                Some("gesture") => format!(
                    "{} {}",
                    e["gesture"].as_str().unwrap_or_default(),
                    e.get("ignored")
                        .and_then(|i| i.as_str())
                        .unwrap_or("announced")
                ),
                _ => format!("led {}", e["on"]),
            })
            .collect()
    };
    let no = ["led true", "led false", "led true", "led false"];
    let flash = ["led true", "led false"];
    let mut night = vec!["press quiet_hours".to_string()];
    night.extend(no.iter().map(|s| s.to_string()));
    night.push("long_press announced".into());
    night.extend(flash.iter().map(|s| s.to_string()));
    night.push("press announced".into());
    night.extend(flash.iter().map(|s| s.to_string()));
    // Winter: London is on UTC, so local and offset forms name the same instant.
    for start in ["2026-12-04T22:59:58", "2026-12-04T22:59:58+00:00"] {
        assert_eq!(gestures(Some(start)), night, "--start {start}");
    }
    let mut unsynchronised = vec!["press announced".to_string()];
    unsynchronised.extend(flash.iter().map(|s| s.to_string()));
    unsynchronised.push("long_press announced".into());
    unsynchronised.extend(flash.iter().map(|s| s.to_string()));
    unsynchronised.push("press announced".into());
    unsynchronised.extend(flash.iter().map(|s| s.to_string()));
    assert_eq!(gestures(None), unsynchronised);

    let out = daas()
        .arg("replay")
        .arg(&trace)
        .arg("--config")
        .arg(&config)
        .args(["--start", "Friday night"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "--start \"Friday night\": not a date and time; write it as 2026-12-04T23:00"
        ),
        "{stderr}"
    );
}
