//! The daemon under test: the built binary with the simulated button, its config and
//! state directory in a temporary directory, real receivers as its sinks, and the
//! helpers that wait for what it does (`daas status`, event lines, receivers' logs).

#![allow(dead_code)] // each test file uses its own part of this module

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::receiver::Receiver;

/// A test's state dir and config.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    /// The state directory (default: `state` in `dir`).
    pub state: PathBuf,
    /// Extra environment for the daemon (LD_PRELOAD and friends).
    pub env: Vec<(String, String)>,
}

impl Setup {
    /// `sinks` are (name, url) webhook sinks; `delivery` extra `[delivery]` keys.
    pub fn new(sinks: &[(&str, String)], delivery: &str) -> Setup {
        Setup::with(sinks, delivery, "")
    }

    /// [`Setup::new`] with `extra` appended to the config (whole tables).
    pub fn with(sinks: &[(&str, String)], delivery: &str, extra: &str) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut text = format!(
            "[button]\npin = 17\n[gestures]\npress = \"arrival\"\n[actions.arrival]\nsubject = \"Doughnuts\"\nbody = \"Pressed at {{time}}.\"\ncooldown_s = 0\n\
             [delivery]\nbackoff_initial_s = 1\nbackoff_max_s = 2\n{delivery}\n{extra}\n"
        );
        for (name, url) in sinks {
            text += &format!(
                "[[sinks]]\ntype = \"webhook\"\nname = \"{name}\"\nurl = \"{url}\"\ntimeout_s = 5\n"
            );
        }
        let config = dir.path().join("config.toml");
        std::fs::write(&config, text).expect("write config");
        let state = dir.path().join("state");
        Setup {
            dir,
            config,
            state,
            env: Vec::new(),
        }
    }

    /// Replaces `from` with `to` in the config (it must be there).
    pub fn edit_config(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.config).expect("config");
        assert!(text.contains(from), "the config has no `{from}`:\n{text}");
        std::fs::write(&self.config, text.replace(from, to)).expect("config");
    }

    pub fn state(&self) -> PathBuf {
        self.state.clone()
    }

    pub fn events(&self, run: usize) -> PathBuf {
        self.dir.path().join(format!("events-{run}.jsonl"))
    }

    /// Starts the daemon; stdin stays open for [`Daemon::send`].
    pub fn start(&self, run: usize) -> Daemon {
        let child = crate::util::daas()
            .args(["run", "--simulate", "--config"])
            .arg(&self.config)
            .arg("--state-dir")
            .arg(self.state())
            .arg("--events")
            .arg(self.events(run))
            .env_remove("RUST_LOG")
            .env("TZ", "UTC")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            // A file, not a pipe: nobody reads a pipe while the daemon runs, and a
            // full one would block its logging (and so the daemon).
            .stderr(std::fs::File::create(self.stderr(run)).expect("stderr file"))
            .spawn()
            .expect("daas runs");
        Daemon {
            child,
            stderr: self.stderr(run),
        }
    }

    pub fn stderr(&self, run: usize) -> PathBuf {
        self.dir.path().join(format!("stderr-{run}.log"))
    }

    /// `daas status ARGS` on this setup's config and state directory.
    pub fn run_status(&self, args: &[&str]) -> Output {
        crate::util::daas()
            .arg("status")
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .arg("--state-dir")
            .arg(self.state())
            .output()
            .expect("status runs")
    }

    /// `daas status --json` output, or `None` before the daemon made the outbox.
    pub fn try_status(&self) -> Option<Value> {
        let out = self.run_status(&["--json", "--limit", "1000"]);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).expect("status JSON"))
    }

    pub fn status(&self) -> Value {
        self.try_status().expect("daas status succeeds")
    }

    /// Announcement ids in the outbox, oldest first (none before it exists).
    pub fn ids(&self) -> Vec<String> {
        let Some(status) = self.try_status() else {
            return Vec::new();
        };
        let mut ids: Vec<String> = status["announcements"]
            .as_array()
            .expect("announcements")
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_string())
            .collect();
        ids.reverse();
        ids
    }

    /// The run's event lines and what `daas status` says, for a failure message.
    pub fn diagnosis(&self, run: usize) -> String {
        let status = self.run_status(&[]);
        format!(
            "log of run {run}:\n{}\nevents of run {run}:\n{}\ndaas status (exit {:?}):\n{}{}",
            std::fs::read_to_string(self.stderr(run)).unwrap_or_default(),
            std::fs::read_to_string(self.events(run)).unwrap_or_default(),
            status.status.code(),
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        )
    }

    pub fn event_lines(&self, run: usize) -> Vec<Value> {
        std::fs::read_to_string(self.events(run))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("event JSON"))
            .collect()
    }
}

pub struct Daemon {
    child: Child,
    stderr: PathBuf,
}

impl Daemon {
    pub fn send(&mut self, script: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(script.as_bytes()).expect("write");
        stdin.flush().expect("flush");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit code, once it has exited on its own (within `within`).
    pub fn exited(&mut self, within: Duration) -> Option<i32> {
        self.status_within(within).and_then(|status| status.code())
    }

    /// The exit status, once the daemon has ended (within `within`).
    fn status_within(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends `signal` and returns the signal that ended the daemon, if it ended (within
    /// `within`) by one.
    pub fn end_by(&mut self, signal: rustix::process::Signal, within: Duration) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, signal).expect("send the signal");
        self.status_within(within)
            .and_then(|status| status.signal())
    }

    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status and stderr.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
        let status = self.child.wait().expect("exits");
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        (status.code(), stderr)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (up to 60 s) until `done` holds, checking every 50 ms.
pub async fn until(what: &str, done: impl FnMut() -> bool) {
    until_or_show(what, done, String::new).await;
}

/// [`until`], with `show()` in the failure message (what the daemon did so far).
pub async fn until_or_show(what: &str, mut done: impl FnMut() -> bool, show: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            show()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The announcement ids a receiver accepted (answered 200), in order, on `path`.
pub fn accepted_ids(r: &Receiver, path: &str) -> Vec<String> {
    accepted_json(r, path)
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

/// The JSON bodies a receiver accepted on `path`, in order.
pub fn accepted_json(r: &Receiver, path: &str) -> Vec<Value> {
    r.accepted()
        .iter()
        .filter(|q| q.uri.path() == path)
        .map(|q| serde_json::from_slice::<Value>(&q.body).expect("json"))
        .collect()
}
