//! The files cio-sql creates and deletes behind the scenes: temporary files
//! (every atomic write goes through one), the stale ones a killed run left,
//! and what an interrupt (Ctrl-C, `kill`) must clean up before the process
//! exits.
//!
//! Every temporary file is made by [`TempFile::new_in`]: its name starts with
//! [`TEMP_PREFIX`] followed by the process id (`.cio-sql-tmp-<pid>-<random>`),
//! and it is listed in a process-wide registry until it is renamed into place
//! or dropped. So:
//!
//! - on SIGINT, SIGTERM or SIGHUP, the handler installed by
//!   [`install_signal_handlers`] runs the registered interrupt hooks (writing
//!   `run_results.json`), removes every listed temporary file and exits with
//!   128 + the signal number (130 for Ctrl-C, 143 for `kill`);
//! - a file left by a process that was killed outright (SIGKILL, a crash, a
//!   power cut) is recognised by its name, and removed by
//!   [`remove_stale_temp_files`] once no process with its id is alive.
//!
//! Nothing else is ever removed by these functions: a file whose name does
//! not start with the prefix (or whose process still runs) is left alone.
//!
//! Removing, renaming and creating temporary files is allowed only here and
//! in the review index (`clippy::disallowed_methods`, see `clippy.toml`).

pub mod atomic;
pub mod lock;

pub use atomic::{
    write_atomic, write_atomic_in, write_atomic_stream, write_if_changed, write_json,
};

use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The start of the name of every temporary file cio-sql creates.
pub const TEMP_PREFIX: &str = ".cio-sql-tmp-";

/// The prefix of the compile cache's temporary file before the shared
/// prefix existed (`target/.compile_cacheXXXXXX`): still recognised, in the
/// target folder only, so files left by older versions are cleaned too.
const LEGACY_CACHE_PREFIX: &str = ".compile_cache";

type Hook = Box<dyn Fn(&str) + Send>;

struct Registry {
    next: u64,
    /// Temporary files in flight, by id.
    temps: BTreeMap<u64, PathBuf>,
    /// What to do on an interrupt, by id.
    hooks: BTreeMap<u64, Hook>,
    /// Set once an interrupt is being handled: no new temporary file.
    stopping: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next: 0,
    temps: BTreeMap::new(),
    hooks: BTreeMap::new(),
    stopping: false,
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// A temporary file of this process, removed when dropped (or by an
/// interrupt) unless [`TempFile::persist`] renamed it into place.
pub struct TempFile {
    file: File,
    path: TempPath,
}

/// The path of a [`TempFile`] whose [`File`] was taken out.
pub struct TempPath {
    path: Option<tempfile::TempPath>,
    id: u64,
}

impl TempFile {
    /// A new temporary file in `dir` (created if missing), readable by
    /// others once renamed into place (0644 less the umask), like any file
    /// the user writes.
    pub fn new_in(dir: &Path) -> std::io::Result<TempFile> {
        std::fs::create_dir_all(dir)?;
        let mut builder = tempfile::Builder::new();
        let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        #[allow(clippy::disallowed_methods)] // the one place temporary files are made
        let (file, path) = builder.tempfile_in(dir)?.into_parts();
        let id = {
            let mut r = registry();
            if r.stopping {
                // `path` is dropped, which removes the file.
                return Err(std::io::Error::other("cio-sql is being interrupted"));
            }
            r.next += 1;
            let id = r.next;
            r.temps.insert(id, path.to_path_buf());
            id
        };
        Ok(TempFile {
            file,
            path: TempPath {
                path: Some(path),
                id,
            },
        })
    }

    /// The open file.
    pub fn as_file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// Splits into the open file and its path.
    pub fn into_parts(self) -> (File, TempPath) {
        (self.file, self.path)
    }

    /// Renames the file to `to`, atomically replacing what is there.
    pub fn persist(self, to: &Path) -> std::io::Result<()> {
        let TempFile { file, path } = self;
        drop(file);
        path.persist(to)
    }
}

impl TempPath {
    /// Renames the file to `to`, atomically replacing what is there.
    pub fn persist(mut self, to: &Path) -> std::io::Result<()> {
        match self.path.take() {
            Some(p) => p.persist(to).map(|_| ()).map_err(|e| e.error),
            None => Err(std::io::Error::other("the temporary file is gone")),
        }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        registry().temps.remove(&self.id);
        // `self.path`, if still set, removes the file as it drops.
    }
}

/// Runs `hook` (with the signal's name) if the process is interrupted while
/// the returned guard lives. Hooks run before temporary files are removed,
/// so a hook may still write files atomically.
pub fn on_interrupt(hook: impl Fn(&str) + Send + 'static) -> InterruptHook {
    let mut r = registry();
    r.next += 1;
    let id = r.next;
    r.hooks.insert(id, Box::new(hook));
    InterruptHook { id }
}

/// Unregisters its hook when dropped.
pub struct InterruptHook {
    id: u64,
}

impl Drop for InterruptHook {
    fn drop(&mut self) {
        registry().hooks.remove(&self.id);
    }
}

/// Installs the handler of SIGINT, SIGTERM and SIGHUP: run the interrupt
/// hooks, remove this process's temporary files, exit with 128 + the signal
/// number. Without it (or where it cannot be installed) the signals keep
/// their default effect.
pub fn install_signal_handlers() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("cio-sql-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let name = match signal {
                        SIGINT => "SIGINT",
                        SIGTERM => "SIGTERM",
                        _ => "SIGHUP",
                    };
                    interrupted(name);
                    std::process::exit(128 + signal);
                }
            });
    }
}

/// What an interrupt does before the process exits: the hooks, then every
/// temporary file in flight. Returns how many files were removed.
pub fn interrupted(signal: &str) -> usize {
    let hooks = std::mem::take(&mut registry().hooks);
    for hook in hooks.values() {
        hook(signal);
    }
    let mut r = registry();
    r.stopping = true;
    let mut removed = 0;
    for path in std::mem::take(&mut r.temps).into_values() {
        #[allow(clippy::disallowed_methods)] // our own temporary file
        if std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    // The lock stays held: no new temporary file from here to the exit.
    std::mem::forget(r);
    removed
}

/// Removes, from `dir` itself (not below it), the temporary files left by
/// cio-sql processes that no longer run. With `legacy_cache`, also the
/// compile cache temporary files of older versions (`.compile_cacheXXXXXX`)
/// not modified for a minute. Returns the removed paths; files of running
/// processes and every other file are left alone, and errors are ignored
/// (a file that cannot be removed now is tried again next time).
pub fn remove_stale_temp_files(dir: &Path, legacy_cache: bool) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = if let Some(rest) = name.strip_prefix(TEMP_PREFIX) {
            rest.split_once('-')
                .and_then(|(pid, _)| pid.parse::<u32>().ok())
                .is_some_and(|pid| pid != std::process::id() && !process_alive(pid))
        } else if legacy_cache && let Some(rest) = name.strip_prefix(LEGACY_CACHE_PREFIX) {
            rest.len() == 6
                && rest.chars().all(|c| c.is_ascii_alphanumeric())
                && entry
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() >= 60)
        } else {
            false
        };
        // Only plain files: never a folder, never through a link.
        if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
            let path = entry.path();
            #[allow(clippy::disallowed_methods)] // a temporary file of a dead cio-sql process
            if std::fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
}

/// Whether a process with this id runs (or may run: when unsure, yes).
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: kill with signal 0 sends nothing; it only checks whether
        // the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// `path` made absolute with every symbolic link resolved, as far as it
/// exists; the parts that do not exist yet are added as written (they
/// cannot be links). Two paths that name one file resolve alike, so
/// comparing them tells whether a write would land inside a folder,
/// whatever links or `..` lead there.
pub fn resolve(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = if path.is_absolute() {
        PathBuf::new()
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        cwd.canonicalize().unwrap_or(cwd)
    };
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out.push(c.as_os_str()),
            Component::CurDir => {}
            // `out` is free of links as far as it exists, so its parent is
            // the real parent.
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => {
                out.push(part);
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
            }
        }
    }
    out
}

/// Creates `dir` and its parents. When a part of the path exists as a file,
/// the error names that file and what to do.
pub fn ensure_dir(dir: &Path) -> Result<(), Diagnostic> {
    match std::fs::create_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) => {
            let blocker = dir
                .ancestors()
                .find(|a| a.symlink_metadata().is_ok_and(|m| !m.is_dir()) && !a.is_dir());
            Err(match blocker {
                Some(file) => Diagnostic::error(
                    codes::WRITE_FAILED,
                    format!(
                        "cannot create the folder {}: {} is a file, not a folder",
                        dir.display(),
                        file.display()
                    ),
                )
                .at_file(file)
                .with_help(format!(
                    "move or rename {}, or write elsewhere (the target folder is `target-path` in dbt_project.yml)",
                    file.display()
                )),
                None => Diagnostic::error(
                    codes::WRITE_FAILED,
                    format!("cannot create the folder {}: {e}", dir.display()),
                )
                .at_file(dir)
                .with_help("check that the folder is writable and the disk is not full"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_carry_the_prefix_and_the_process_id() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = TempFile::new_in(dir.path()).unwrap();
        let name = tmp.path.path.as_ref().unwrap().file_name().unwrap();
        let expected = format!("{TEMP_PREFIX}{}-", std::process::id());
        assert!(name.to_str().unwrap().starts_with(&expected), "{name:?}");
        assert!(registry().temps.contains_key(&tmp.path.id));
        let id = tmp.path.id;
        drop(tmp);
        assert!(!registry().temps.contains_key(&id), "unregistered on drop");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn stale_files_of_dead_processes_go_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        // A pid no process has: above the kernel's pid_max.
        let dead = format!("{TEMP_PREFIX}4194305-abc123");
        let mine = format!("{TEMP_PREFIX}{}-abc123", std::process::id());
        let live = format!("{TEMP_PREFIX}1-abc123"); // init always runs
        for name in [
            dead.as_str(),
            mine.as_str(),
            live.as_str(),
            ".tmpXYZ123",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join(format!("{TEMP_PREFIX}4194305-dir"))).unwrap();
        let removed = remove_stale_temp_files(dir.path(), true);
        assert_eq!(removed, vec![dir.path().join(&dead)]);
        for kept in [mine.as_str(), live.as_str(), ".tmpXYZ123", "notes.txt"] {
            assert!(dir.path().join(kept).exists(), "{kept} kept");
        }
    }

    #[cfg(unix)]
    #[test]
    fn resolve_follows_links_and_parent_parts() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("models")).unwrap();
        std::os::unix::fs::symlink(root.join("models"), root.join("link")).unwrap();
        assert_eq!(
            resolve(&root.join("link/x/y.sql")),
            root.join("models/x/y.sql")
        );
        assert_eq!(resolve(&root.join("missing/..")), root);
        assert_eq!(
            resolve(&root.join("link/..")),
            root,
            "the link's real parent"
        );
        assert_eq!(resolve(&root.join("a/./b/../c")), root.join("a/c"));
    }

    #[test]
    fn a_file_in_the_way_of_a_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("target"), b"").unwrap();
        let d = ensure_dir(&dir.path().join("target/compiled/models")).unwrap_err();
        assert!(
            d.message.contains("target is a file, not a folder"),
            "{}",
            d.message
        );
        assert!(d.help.unwrap().contains("target-path"));
    }
}
