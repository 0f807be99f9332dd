//! Artifacts: what a compile or a run leaves in the target folder. The
//! compiled SQL of every selected model (`target/compiled/<model path>`),
//! the manifest ([`manifest`], `target/manifest.json`), and the results of
//! `seed`, `run` and `build` ([`run_results`], `target/run_results.json`).
//! Every file is written atomically through [`crate::files`].

pub mod manifest;
pub mod run_results;

use crate::compile::{Compilation, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::timings::PhaseTimer;
use rayon::prelude::*;
use std::path::PathBuf;

/// Writes the compiled SQL of every selected, successful model (files whose
/// SQL did not change are left alone) and the manifest.
pub fn write_outputs(c: &Compilation, timer: &mut PhaseTimer) -> Result<(), Diagnostic> {
    let root: PathBuf = c.project.root.clone();
    // Temporary files go to the target folder itself, where the next
    // compile finds any a killed process left (see `files`).
    let scratch = c.project.target_dir();
    let results: Vec<Result<(), Diagnostic>> =
        c.selected_models()
            .par_iter()
            .filter(|m| m.status == ModelStatus::Success)
            .map(|m| {
                let path = root.join(&m.compiled_path);
                let sql =
                    m.sql().ok_or_else(|| {
                        Diagnostic::error(
                    codes::WRITE_FAILED,
                    format!("cannot read back the compiled SQL of {} from the model store", m.name),
                )
                .with_help("the disk or the target folder failed during the compile: compile again")
                    })?;
                crate::files::write_if_changed(&path, sql.as_bytes(), Some(&scratch))
            })
            .collect();
    for r in results {
        r?;
    }
    timer.lap("write sql");
    crate::files::write_atomic_stream(&c.project.target_dir().join("manifest.json"), |out| {
        manifest::write_manifest(c, out)
    })?;
    timer.lap("manifest");
    Ok(())
}
