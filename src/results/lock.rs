//! One writer per results folder: an exclusive advisory lock (`flock(2)`) on
//! `DIR/.valley.lock`, which holds the pid of the process that has it.
//!
//! A second sweep, resume or merge on the same folder fails at once, naming
//! the folder and the holder's pid. The lock belongs to the open file, so it
//! ends with the process however that ends (`kill -9` included): a lock file
//! left behind never blocks a later `--resume`. The file itself stays.

use super::LOCK_FILE;
use crate::error::{Result, ValleyError};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Held for as long as this value lives.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Takes the lock of `dir` (which must exist) without waiting.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| ValleyError::Other(format!("{}: {e}", path.display())))?;
        // SAFETY: flock(2) on a file descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::WouldBlock {
                return Err(ValleyError::Other(format!(
                    "{}: cannot lock: {err}",
                    path.display()
                )));
            }
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let holder = match pid.trim() {
                "" => "another process".to_string(),
                p => format!("process {p}"),
            };
            return Err(ValleyError::Other(format!(
                "{}: the results folder is in use by {holder} (lock {}); wait for it to finish, or stop it and use --resume",
                dir.display(),
                path.display()
            )));
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        file.flush()?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_names_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(tmp.path()).unwrap();
        // flock locks belong to the open file description: a second open in
        // the same process conflicts just as another process would.
        let err = FolderLock::acquire(tmp.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains(&tmp.path().display().to_string()), "{err}");
        drop(first);
        FolderLock::acquire(tmp.path()).expect("free again once dropped");
    }
}
