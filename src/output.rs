//! Output: compiled SQL under `target/compiled/` and `target/manifest.json`,
//! every file written atomically (a temporary file renamed into place).

use crate::diagnostics::Diagnostic;
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
    write_atomic_with(path, |file| {
        file.write_all(contents).map_err(|e| write_error(path, &e))
    })
}

/// Like [`write_atomic`], with the contents streamed by `write` into the
/// temporary file (through a buffer). An error from `write` leaves the old
/// file in place.
pub fn write_atomic_stream(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<(), Diagnostic> {
    write_atomic_with(path, |file| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| write_error(path, &e))
    })
}

/// Like [`write_atomic`], with the contents produced by `write` straight into
/// the temporary file.
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), Diagnostic>,
) -> Result<(), Diagnostic> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| write_error(path, &e))?;
    // Temporary files are owner-only; output files get the usual 0644 (less
    // the umask), like any file the user writes.
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| write_error(path, &e))?;
    write(tmp.as_file_mut())?;
    tmp.persist(path).map_err(|e| write_error(path, &e.error))?;
    Ok(())
}

fn write_error(path: &Path, e: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic::error("CIO020", format!("cannot write {}: {e}", path.display()))
        .at_file(path)
        .with_help("check that the target folder is writable and the disk is not full")
}

/// Writes `contents` to `path` with [`write_atomic`], unless the file already
/// holds exactly these bytes: then it is left untouched (mtime included).
///
/// Recompiling a project mostly reproduces the SQL already on disk; reading
/// and comparing a file costs a fraction of replacing it, and unchanged files
/// keep their timestamps for tools that watch `target/`.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> Result<(), Diagnostic> {
    if let Ok(existing) = std::fs::read(path)
        && existing == contents
    {
        return Ok(());
    }
    write_atomic(path, contents)
}

/// Serialises `value` as pretty JSON, every string scrubbed of secrets
/// ([`crate::redact::scrub_json`]), and writes it atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Diagnostic> {
    let mut value = serde_json::to_value(value).map_err(|e| {
        Diagnostic::error(
            "CIO020",
            format!("cannot serialise {}: {e}", path.display()),
        )
    })?;
    crate::redact::scrub_json(&mut value);
    write_atomic_with(path, |file| {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        serde_json::to_writer_pretty(&mut out, &value).map_err(|e| {
            if e.is_io() {
                write_error(path, &e)
            } else {
                Diagnostic::error(
                    "CIO020",
                    format!("cannot serialise {}: {e}", path.display()),
                )
            }
        })?;
        out.write_all(b"\n")
            .and_then(|()| out.flush())
            .map_err(|e| write_error(path, &e))
    })
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
        write_if_changed(&path, b"select 1").unwrap();
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_if_changed(&path, b"select 1").unwrap();
        let after = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(before, after, "an identical file is not rewritten");
        write_if_changed(&path, b"select 2").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "select 2");
    }
}
