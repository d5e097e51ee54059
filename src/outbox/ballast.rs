//! A little reserved space, so that a full card cannot make a delivery happen twice.
//!
//! When the SD card fills up (a runaway log, say), SQLite cannot write. The writer keeps
//! what it could not write in memory and tries again, so nothing is lost while the
//! daemon runs — but an outcome that never reached the disk is forgotten at a restart,
//! and a delivered message would then be sent again. So the state directory holds a
//! small ballast file, made when the outbox opens; the first write that fails for want
//! of space deletes it, and the held outcomes fit in the space it leaves. The log says
//! so loudly; the ballast is made again at the next start once there is room.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The ballast's name in the state directory.
pub const FILE_NAME: &str = "outbox.reserve";

/// How much space it holds: many batches of outcomes (a few pages each, in the WAL).
const SIZE: usize = 256 * 1024;

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Makes the ballast unless it is there; a failure (no room) is only logged.
pub fn ensure(dir: &Path) {
    let path = path(dir);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() as usize == SIZE) {
        return;
    }
    let written = std::fs::File::create(&path).and_then(|mut file| {
        // Real blocks, not a sparse file: a hole would free nothing when deleted.
        file.write_all(&vec![0u8; SIZE])?;
        file.sync_all()
    });
    if let Err(err) = written {
        let _ = std::fs::remove_file(&path);
        log::warn!(
            "cannot reserve {} KiB at {} for a full card: {err}",
            SIZE / 1024,
            path.display()
        );
    }
}

/// Deletes the ballast; whether there was one to delete.
pub fn release(dir: &Path) -> bool {
    std::fs::remove_file(path(dir)).is_ok()
}
