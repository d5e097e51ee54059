//! One daemon per state directory.
//!
//! Two daemons on one outbox would both send every pending delivery — an admin typing
//! `sudo daas run --simulate` while the service runs is enough. So the daemon holds an
//! exclusive `flock(2)` on `daemon.lock` in the state directory for as long as it runs,
//! with its process id in the file for the message the second one prints. The kernel
//! drops the lock when the process dies, however it dies, so a crash never leaves a
//! stale lock behind. `daas status` takes no lock: it only reads.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

/// The lock file's name in the state directory.
pub const FILE_NAME: &str = "daemon.lock";

/// Why the state directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another daas daemon{} is already running on the state directory {}: stop it first \
         (sudo systemctl stop daas), or give this one a directory of its own with --state-dir DIR",
        pid.map(|p| format!(" (process {p})")).unwrap_or_default(),
        dir.display()
    )]
    Held { dir: PathBuf, pid: Option<u32> },

    #[error(
        "cannot lock {}: {cause}; check that the daas user may write the state directory, \
         or choose another with --state-dir",
        path.display()
    )]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Takes the lock on `dir` (creating the directory if need be), without waiting.
    pub fn acquire(dir: &Path) -> Result<StateLock, LockError> {
        let path = dir.join(FILE_NAME);
        let io = |cause| LockError::Io {
            path: path.clone(),
            cause,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if let Err(err) = flock(&file, FlockOperation::NonBlockingLockExclusive) {
            if err == rustix::io::Errno::WOULDBLOCK {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Held {
                    dir: dir.to_path_buf(),
                    pid: text.trim().parse().ok(),
                });
            }
            return Err(io(err.into()));
        }
        // Ours now: say who holds it. A failure to write the pid only costs the message.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(StateLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state");
        let first = StateLock::acquire(&state).expect("first lock");
        // flock locks belong to the open file: a second open in this process conflicts
        // just as another process's would.
        let err = StateLock::acquire(&state).expect_err("second lock");
        let text = err.to_string();
        assert!(
            matches!(err, LockError::Held { pid: Some(p), .. } if p == std::process::id()),
            "{text}"
        );
        assert!(text.contains(&state.display().to_string()), "{text}");
        assert!(text.contains("--state-dir"), "{text}");
        drop(first);
        StateLock::acquire(&state).expect("free again");
    }

    #[test]
    fn a_directory_that_cannot_be_made_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("file");
        std::fs::write(&file, "").expect("file");
        let err = StateLock::acquire(&file.join("state")).expect_err("not a dir");
        assert!(matches!(err, LockError::Io { .. }), "{err}");
    }
}
