//! Snapshot review of compiled SQL for an analyst's own project.
//!
//! The reviewed SQL of every model lives in a committed folder (default
//! `reviewed/`, mirroring the model paths). `cio-sql review` compiles and
//! compares: any difference is printed as a unified diff and fails the run,
//! so a pull request that changes generated SQL shows it. `--accept` writes
//! the new SQL as the reviewed version.

use crate::compile::{Compilation, ModelStatus};
use crate::diagnostics::Diagnostic;
use std::path::{Path, PathBuf};

/// How one model compares with its reviewed SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewStatus {
    /// Identical to the reviewed SQL.
    Unchanged,
    /// Differs; holds the unified diff (reviewed → compiled).
    Changed(String),
    /// No reviewed SQL yet; holds the compiled SQL.
    New(String),
    /// A reviewed file whose model no longer exists (or is no longer selected as a model).
    Orphaned,
    /// The model failed to compile.
    Failed,
}

/// One row of the review.
#[derive(Debug, Clone)]
pub struct ReviewEntry {
    /// Model name (or the orphaned file's path).
    pub name: String,
    /// The reviewed file, relative to the project root.
    pub reviewed_path: String,
    /// The comparison.
    pub status: ReviewStatus,
}

/// The outcome of a review.
#[derive(Debug, Clone, Default)]
pub struct Review {
    /// One entry per selected model, then orphaned files.
    pub entries: Vec<ReviewEntry>,
    /// Whether `--accept` wrote the new SQL.
    pub accepted: bool,
}

impl Review {
    /// True when nothing differs and nothing failed.
    pub fn clean(&self) -> bool {
        self.entries
            .iter()
            .all(|e| e.status == ReviewStatus::Unchanged)
    }
}

/// Compares every selected model of `c` with `dir` (relative to the project
/// root); with `accept`, writes the compiled SQL there and removes orphans.
///
/// Orphans are only looked for when every model is selected.
pub fn review(c: &Compilation, dir: &Path, accept: bool) -> Result<Review, Diagnostic> {
    let root = &c.project.root;
    let base = root.join(dir);
    let mut review = Review {
        entries: Vec::new(),
        accepted: accept,
    };
    let mut expected: Vec<PathBuf> = Vec::new();
    for m in c.selected_models() {
        let rel = dir.join(&m.path);
        let shown = rel.display().to_string();
        expected.push(root.join(&rel));
        let compiled = m.sql();
        let status = match (&m.status, &compiled) {
            (ModelStatus::Success, Some(sql)) => match std::fs::read_to_string(root.join(&rel)) {
                Ok(old) if old == *sql => ReviewStatus::Unchanged,
                Ok(old) => ReviewStatus::Changed(unified_diff(&old, sql, &shown)),
                Err(_) => ReviewStatus::New(sql.clone()),
            },
            _ => ReviewStatus::Failed,
        };
        if accept
            && let (ReviewStatus::Changed(_) | ReviewStatus::New(_), Some(sql)) =
                (&status, &compiled)
        {
            crate::output::write_atomic(&root.join(&rel), sql.as_bytes())?;
        }
        review.entries.push(ReviewEntry {
            name: m.name.clone(),
            reviewed_path: shown,
            status,
        });
    }
    let everything_selected = c.selected.len()
        == c.models
            .iter()
            .filter(|m| m.status != ModelStatus::Disabled)
            .count();
    if everything_selected && base.is_dir() {
        for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("sql")
                || expected.iter().any(|e| e == path)
            {
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string();
            if accept {
                std::fs::remove_file(path).map_err(|e| {
                    Diagnostic::error("CIO020", format!("cannot remove {rel}: {e}")).at_file(&rel)
                })?;
            }
            review.entries.push(ReviewEntry {
                name: rel.clone(),
                reviewed_path: rel,
                status: ReviewStatus::Orphaned,
            });
        }
    }
    Ok(review)
}

/// A unified diff with three lines of context.
pub fn unified_diff(old: &str, new: &str, path: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changed_lines() {
        let d = unified_diff("select\n  a\nfrom t\n", "select\n  b\nfrom t\n", "m.sql");
        assert!(
            d.contains("--- a/m.sql") && d.contains("-  a\n") && d.contains("+  b\n"),
            "{d}"
        );
    }
}
