//! What the daemon tests preload into the daemon: the shim in
//! `tests/support/preload.c` (a slow fsync, the kernel's clock-sync state) and Debian's
//! libfaketime (the wall clock moved, the monotonic clocks left alone). The shim is
//! built here with the system's C compiler, once per test binary.

#![allow(dead_code)] // each test file uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The shim, built into the target's temporary directory.
pub fn shim() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/preload.c");
            let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("daas-preload-{}.so", std::process::id()));
            let status = Command::new("cc")
                .args(["-shared", "-fPIC", "-O2", "-o"])
                .arg(&out)
                .arg(&source)
                .arg("-ldl")
                .status()
                .expect("run cc (Debian package gcc) to build tests/support/preload.c");
            assert!(status.success(), "cc could not build {}", source.display());
            out
        })
        .clone()
}

/// Debian's libfaketime (package faketime).
pub fn faketime() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|arch| arch.path().join("faketime/libfaketime.so.1"))
        .find(|p| p.exists());
    found.expect("libfaketime.so.1 under /usr/lib/*/faketime: install Debian's faketime package")
}

/// The daemon's wall clock and the kernel's word on it, changed while it runs.
pub struct Clock {
    offset: PathBuf,
    synced: PathBuf,
}

impl Clock {
    /// Files in `dir`; the clock starts `offset` off (libfaketime's form: "-10h",
    /// "+1d", "+0") and synchronised or not.
    pub fn new(dir: &Path, offset: &str, synced: bool) -> Clock {
        let clock = Clock {
            offset: dir.join("faketime"),
            synced: dir.join("synced"),
        };
        clock.set_offset(offset);
        clock.set_synced(synced);
        clock
    }

    /// Moves the wall clock: what NTP does when it steps the clock.
    pub fn set_offset(&self, offset: &str) {
        std::fs::write(&self.offset, format!("{offset}\n")).expect("write faketime file");
    }

    /// What adjtimex reports from now on.
    pub fn set_synced(&self, synced: bool) {
        std::fs::write(&self.synced, if synced { "1" } else { "0" }).expect("write sync file");
    }

    /// The daemon's environment for this clock (with the shim).
    pub fn env(&self) -> Vec<(String, String)> {
        let preload = format!("{} {}", shim().display(), faketime().display());
        vec![
            ("LD_PRELOAD".into(), preload),
            (
                "FAKETIME_TIMESTAMP_FILE".into(),
                self.offset.display().to_string(),
            ),
            ("FAKETIME_NO_CACHE".into(), "1".into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
            (
                "DAAS_SHIM_SYNC_FILE".into(),
                self.synced.display().to_string(),
            ),
        ]
    }
}
