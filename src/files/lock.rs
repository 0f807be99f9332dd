//! Locks that keep two cio-sql processes from working on one thing at once.
//!
//! One mechanism, [`FileLock`]: an exclusive lock (`flock` on Unix) on a file
//! in the target folder. The operating system releases it when the process
//! ends, however it ends, so a killed run never leaves a stale lock behind;
//! the lock file itself stays (it is empty and reused).
//!
//! - [`RunLock`] (`target/.cio-sql-run-<target>.lock`): one `seed`, `run` or
//!   `build` per project and target. A second one fails at once (`CIO310`).
//! - [`CompileLock`] (`target/.cio-sql-compile.lock`): one process writing
//!   `target/compiled/`, the manifest and the compile cache. A second one
//!   waits up to [`COMPILE_LOCK_WAIT`] for the first to finish, then fails
//!   (`CIO022`).

use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a compile waits for another compile of the same project.
pub const COMPILE_LOCK_WAIT: Duration = Duration::from_secs(10);

/// An exclusive lock on a file, held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: std::fs::File,
    /// The lock file.
    pub path: PathBuf,
}

/// Why a lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it.
    Held(PathBuf),
    /// The lock file cannot be created or opened.
    Io(Diagnostic),
}

impl FileLock {
    /// Takes the lock on `dir/name`, waiting up to `wait` (polling) while
    /// another process holds it.
    pub fn acquire(dir: &Path, name: &str, wait: Duration) -> Result<FileLock, LockError> {
        crate::files::ensure_dir(dir).map_err(LockError::Io)?;
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                LockError::Io(
                    Diagnostic::error(
                        codes::WRITE_FAILED,
                        format!("cannot open {}: {e}", path.display()),
                    )
                    .at_file(&path)
                    .with_help("check that the target folder is writable"),
                )
            })?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { _file: file, path }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(_) => return Err(LockError::Held(path)),
            }
        }
    }
}

/// An exclusive lock on running one project against one target.
#[derive(Debug)]
pub struct RunLock {
    _lock: FileLock,
    /// The lock file.
    pub path: PathBuf,
}

impl RunLock {
    /// Takes the lock for `target` in `target_dir`, or fails at once when
    /// another run holds it.
    pub fn acquire(target_dir: &Path, target: &str) -> Result<RunLock, Diagnostic> {
        // The target name is a key of profiles.yml: keep only characters
        // that are safe in a file name.
        let safe: String = target
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = format!(".cio-sql-run-{safe}.lock");
        match FileLock::acquire(target_dir, &name, Duration::ZERO) {
            Ok(lock) => Ok(RunLock {
                path: lock.path.clone(),
                _lock: lock,
            }),
            Err(LockError::Io(d)) => Err(d),
            Err(LockError::Held(path)) => Err(Diagnostic::error(
                codes::RUN_LOCKED,
                format!(
                    "another cio-sql run is already building this project on target `{target}`"
                ),
            )
            .with_help(format!(
                "wait for it to finish (it holds {}), then run again; runs on one target never overlap",
                path.display()
            ))),
        }
    }
}

/// An exclusive lock on writing a project's target folder.
#[derive(Debug)]
pub struct CompileLock {
    _lock: FileLock,
}

impl CompileLock {
    /// Takes the compile lock of `target_dir`, waiting up to
    /// [`COMPILE_LOCK_WAIT`] for another compile to finish.
    pub fn acquire(target_dir: &Path) -> Result<CompileLock, Diagnostic> {
        match FileLock::acquire(target_dir, ".cio-sql-compile.lock", COMPILE_LOCK_WAIT) {
            Ok(lock) => Ok(CompileLock { _lock: lock }),
            Err(LockError::Io(d)) => Err(d),
            Err(LockError::Held(path)) => Err(Diagnostic::error(
                codes::TARGET_BUSY,
                format!(
                    "another cio-sql process has been writing {} for {} s (compile, run or build of this project)",
                    target_dir.display(),
                    COMPILE_LOCK_WAIT.as_secs()
                ),
            )
            .with_help(format!(
                "wait for it to finish (it holds {}), then compile again",
                path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), "dev").unwrap();
        let d = RunLock::acquire(dir.path(), "dev").unwrap_err();
        assert_eq!(d.code, "CIO310");
        assert!(RunLock::acquire(dir.path(), "prod").is_ok(), "per target");
        drop(first);
        assert!(RunLock::acquire(dir.path(), "dev").is_ok());
    }

    #[test]
    fn target_names_cannot_escape_the_target_folder() {
        let dir = tempfile::tempdir().unwrap();
        let lock = RunLock::acquire(&dir.path().join("target"), "../../x").unwrap();
        assert_eq!(lock.path.parent().unwrap(), dir.path().join("target"));
    }

    #[test]
    fn a_waiting_lock_gets_it_when_released() {
        let dir = tempfile::tempdir().unwrap();
        let held = FileLock::acquire(dir.path(), "l", Duration::ZERO).unwrap();
        let path = dir.path().to_path_buf();
        let waiter =
            std::thread::spawn(move || FileLock::acquire(&path, "l", Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(100));
        drop(held);
        assert!(waiter.join().unwrap().is_ok());
        assert!(matches!(
            FileLock::acquire(dir.path(), "m", Duration::ZERO).and_then(|_m| FileLock::acquire(
                dir.path(),
                "m",
                Duration::from_millis(50)
            )),
            Err(LockError::Held(_))
        ));
    }
}
