//! What the integration tests share: the built `daas` binary, the repository's root,
//! free ports, waiting, and the real servers and fixtures in the submodules (one copy
//! of each, for every test module).

#![allow(dead_code)] // each test module uses its own part of this

pub mod bind;
pub mod config;
pub mod daemon;
pub mod netns;
pub mod pki;
pub mod postfix;
pub mod preload;
pub mod receiver;
pub mod smtp;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

/// The built `daas`, without the test runner's `RUST_LOG` and `JOURNAL_STREAM` (which
/// would change what it logs and how).
pub fn daas() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_daas"));
    command.env_remove("RUST_LOG").env_remove("JOURNAL_STREAM");
    command
}

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A TCP port on 127.0.0.1 nobody listens on (at the moment of asking).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// The text of a command's output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether a test that needs root may run: true as root; without root it fails saying
/// why (`needs`), unless `DAAS_SKIP_ROOT_TESTS=1` asks to skip it (then it says that).
pub fn root_or_skip(test: &str, needs: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("DAAS_SKIP_ROOT_TESTS").as_deref() == Ok("1"),
        "{test} needs root ({needs}); run the tests as root (scripts/test does in CI), or \
         set DAAS_SKIP_ROOT_TESTS=1 to skip it"
    );
    eprintln!("skipped {test}: it needs root ({needs}) and DAAS_SKIP_ROOT_TESTS=1 is set");
    false
}
