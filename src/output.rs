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
    let fail = |e: &dyn std::fmt::Display| {
        Diagnostic::error("CIO020", format!("cannot write {}: {e}", path.display()))
            .at_file(path)
            .with_help("check that the target folder is writable and the disk is not full")
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(&e))?;
    tmp.write_all(contents).map_err(|e| fail(&e))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Diagnostic> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| {
        Diagnostic::error(
            "CIO020",
            format!("cannot serialise {}: {e}", path.display()),
        )
    })?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
