//! Output: compiled SQL under `target/compiled/` and `target/manifest.json`,
//! every file written atomically (a temporary file renamed into place).

use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` atomically: readers see the old file or the
/// new one, never a partial write. Creates parent folders.
///
/// The temporary file is not fsynced before the rename: that would cost a
/// disk flush per model (most of the wall time of a large compile) to protect
/// only against a power cut mid-compile, and everything under `target/` is
/// rebuilt by compiling again. A failed or interrupted run still never leaves
/// a half-written file in place.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), Diagnostic> {
    write_atomic_in(path, contents, None)
}

/// Like [`write_atomic`], with the temporary file made in `scratch` (a
/// folder on the same disk, such as the target folder) instead of next to
/// `path`: every temporary file of a compile then sits in one folder, where
/// [`crate::files::remove_stale_temp_files`] finds those a killed process
/// left. Falls back to `path`'s own folder when `scratch` is on another disk.
pub fn write_atomic_in(
    path: &Path,
    contents: &[u8],
    scratch: Option<&Path>,
) -> Result<(), Diagnostic> {
    let write =
        |file: &mut std::fs::File| file.write_all(contents).map_err(|e| write_error(path, &e));
    match write_atomic_with(path, scratch, write) {
        Err(Retry::OtherDisk) => {
            write_atomic_with(path, None, write).map_err(Retry::into_diagnostic)
        }
        other => other.map_err(Retry::into_diagnostic),
    }
}

/// Like [`write_atomic`], with the contents streamed by `write` into the
/// temporary file (through a buffer). An error from `write` leaves the old
/// file in place.
pub fn write_atomic_stream(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<(), Diagnostic> {
    write_atomic_with(path, None, |file| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| write_error(path, &e))
    })
    .map_err(Retry::into_diagnostic)
}

/// Why an atomic write failed.
enum Retry {
    /// The scratch folder is on another disk than the file.
    OtherDisk,
    Failed(Box<Diagnostic>),
}

impl Retry {
    fn into_diagnostic(self) -> Diagnostic {
        match self {
            Retry::Failed(d) => *d,
            Retry::OtherDisk => {
                Diagnostic::error(codes::WRITE_FAILED, "cannot rename across disks")
            }
        }
    }
}

impl From<Diagnostic> for Retry {
    fn from(d: Diagnostic) -> Self {
        Retry::Failed(Box::new(d))
    }
}

/// Like [`write_atomic`], with the contents produced by `write` straight into
/// a temporary file made in `scratch` (default: `path`'s folder).
fn write_atomic_with(
    path: &Path,
    scratch: Option<&Path>,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), Diagnostic>,
) -> Result<(), Retry> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::files::ensure_dir(dir)?;
    let scratch = scratch.unwrap_or(dir);
    let mut tmp = crate::files::TempFile::new_in(scratch).map_err(|e| write_error(path, &e))?;
    write(tmp.as_file_mut())?;
    match tmp.persist(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices && scratch != dir => {
            Err(Retry::OtherDisk)
        }
        Err(e) => Err(write_error(path, &e).into()),
    }
}

fn write_error(path: &Path, e: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic::error(
        codes::WRITE_FAILED,
        format!("cannot write {}: {e}", path.display()),
    )
    .at_file(path)
    .with_help("check that the target folder is writable and the disk is not full")
}

/// Writes `contents` to `path` with [`write_atomic`], unless the file already
/// holds exactly these bytes: then it is left untouched (mtime included).
///
/// Recompiling a project mostly reproduces the SQL already on disk; reading
/// and comparing a file costs a fraction of replacing it, and unchanged files
/// keep their timestamps for tools that watch `target/`.
/// `scratch` is where the temporary file goes (see [`write_atomic_in`]).
pub fn write_if_changed(
    path: &Path,
    contents: &[u8],
    scratch: Option<&Path>,
) -> Result<(), Diagnostic> {
    if let Ok(existing) = std::fs::read(path)
        && existing == contents
    {
        return Ok(());
    }
    write_atomic_in(path, contents, scratch)
}

/// Serialises `value` as pretty JSON, every string scrubbed of secrets
/// ([`crate::redact::scrub_json`]), and writes it atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Diagnostic> {
    let mut value = serde_json::to_value(value).map_err(|e| {
        Diagnostic::error(
            codes::WRITE_FAILED,
            format!("cannot serialise {}: {e}", path.display()),
        )
    })?;
    crate::redact::scrub_json(&mut value);
    write_atomic_with(path, None, |file| {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        serde_json::to_writer_pretty(&mut out, &value).map_err(|e| {
            if e.is_io() {
                write_error(path, &e)
            } else {
                Diagnostic::error(
                    codes::WRITE_FAILED,
                    format!("cannot serialise {}: {e}", path.display()),
                )
            }
        })?;
        out.write_all(b"\n")
            .and_then(|()| out.flush())
            .map_err(|e| write_error(path, &e))
    })
    .map_err(Retry::into_diagnostic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn outputs_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sql");
        write_atomic(&path, b"select 1").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o044, 0o044 & !umask_guess(), "mode {mode:o}");
    }

    /// The group/other read bits the umask removes (0 with the usual 022).
    #[cfg(unix)]
    fn umask_guess() -> u32 {
        let probe = tempfile::tempdir().unwrap();
        let file = probe.path().join("probe");
        std::fs::write(&file, b"").unwrap();
        use std::os::unix::fs::PermissionsExt;
        !std::fs::metadata(&file).unwrap().permissions().mode() & 0o044
    }

    #[test]
    fn replaces_files_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.sql");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn leaves_identical_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sql");
        write_if_changed(&path, b"select 1", None).unwrap();
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_if_changed(&path, b"select 1", None).unwrap();
        let after = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(before, after, "an identical file is not rewritten");
        write_if_changed(&path, b"select 2", None).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "select 2");
    }
}
