//! Snapshot review of compiled SQL for an analyst's own project.
//!
//! The reviewed SQL of every model lives in a committed folder (default
//! `reviewed/`, mirroring the model paths). `cio-sql review` compiles and
//! compares: any difference is printed as a unified diff and fails the run,
//! so a pull request that changes generated SQL shows it. `--accept` writes
//! the new SQL as the reviewed version.
//!
//! Review never touches a file it did not write. The folder must lie inside
//! the project and apart from every folder of user files (models, macros,
//! seeds, tests, …), checked with symbolic links resolved, for the folder
//! and for every file written. The files `--accept` wrote are listed in an
//! index in the folder ([`INDEX_FILE`]); an orphan (a reviewed file whose
//! model is gone) is removed only when the index lists it. Any other file
//! is reported as untracked and left alone.

use crate::compile::{Compilation, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::Project;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// The index of the files review wrote, in the reviewed folder (commit it
/// with the reviewed SQL).
pub const INDEX_FILE: &str = ".cio-sql-review-index.json";

/// How one model compares with its reviewed SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewStatus {
    /// Identical to the reviewed SQL.
    Unchanged,
    /// Differs; holds the unified diff (reviewed → compiled).
    Changed(String),
    /// No reviewed SQL yet; holds the compiled SQL.
    New(String),
    /// A file review wrote whose model no longer exists (or is no longer
    /// selected as a model); `--accept` removes it.
    Orphaned,
    /// A `.sql` file no model writes that review did not write either:
    /// reported, never removed.
    Untracked,
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
    /// One entry per selected model, then orphaned and untracked files.
    pub entries: Vec<ReviewEntry>,
    /// Whether `--accept` wrote the new SQL.
    pub accepted: bool,
}

/// The `index` of files review wrote.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Index {
    /// What wrote the file.
    written_by: String,
    /// Paths relative to the reviewed folder, `/`-separated, sorted.
    files: BTreeSet<String>,
}

/// Compares every selected model of `c` with `dir` (relative to the project
/// root); with `accept`, writes the compiled SQL there and removes the
/// orphans the index lists.
///
/// Orphans are only looked for when every model is selected. Fails with
/// `CIO021` when `dir` (or a file review would write) is outside the
/// project or overlaps a folder of user files.
pub fn review(c: &Compilation, dir: &Path, accept: bool) -> Result<Review, Diagnostic> {
    let guard = Guard::new(&c.project, dir)?;
    let base = &guard.base;
    let index_path = base.join(INDEX_FILE);
    let index: Index = std::fs::read_to_string(&index_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    // Entries that are not plain relative `.sql` paths are ignored: the
    // index never leads outside the folder.
    let mut tracked: BTreeSet<String> = index
        .files
        .into_iter()
        .filter(|f| relative_sql(f).is_some())
        .collect();
    if accept {
        crate::files::remove_stale_temp_files(base, false);
    }
    let mut review = Review {
        entries: Vec::new(),
        accepted: accept,
    };
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for m in c.selected_models() {
        let rel = m.path.trim_start_matches('/').to_string();
        let file = base.join(&rel);
        let shown = dir.join(&rel).display().to_string();
        let compiled = m.sql();
        let status = match (&m.status, &compiled) {
            (ModelStatus::Success, Some(sql)) => match std::fs::read_to_string(&file) {
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
            guard.check_file(&file, &shown)?;
            crate::files::write_atomic_in(&file, sql.as_bytes(), Some(base))?;
        }
        if file.is_file() {
            tracked.insert(rel.clone());
        }
        expected.insert(rel);
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
        let mut orphans: Vec<String> = Vec::new();
        let mut untracked: Vec<String> = Vec::new();
        // Links are not followed: what is below a link is not review's.
        for entry in walkdir::WalkDir::new(base).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            let Some(rel) = entry
                .path()
                .strip_prefix(base)
                .ok()
                .and_then(|p| p.to_str())
                .map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"))
            else {
                continue;
            };
            if !entry.file_type().is_file()
                || relative_sql(&rel).is_none()
                || expected.contains(&rel)
            {
                continue;
            }
            if tracked.contains(&rel) {
                orphans.push(rel);
            } else {
                untracked.push(rel);
            }
        }
        for rel in orphans {
            let shown = dir.join(&rel).display().to_string();
            if accept {
                let file = base.join(&rel);
                guard.check_file(&file, &shown)?;
                #[allow(clippy::disallowed_methods)] // listed in the index: review wrote it
                std::fs::remove_file(&file).map_err(|e| {
                    Diagnostic::error(codes::WRITE_FAILED, format!("cannot remove {shown}: {e}"))
                        .at_file(&shown)
                })?;
                tracked.remove(&rel);
            }
            review.entries.push(ReviewEntry {
                name: shown.clone(),
                reviewed_path: shown,
                status: ReviewStatus::Orphaned,
            });
        }
        for rel in untracked {
            let shown = dir.join(&rel).display().to_string();
            review.entries.push(ReviewEntry {
                name: shown.clone(),
                reviewed_path: shown,
                status: ReviewStatus::Untracked,
            });
        }
    }
    if accept {
        // Files listed before that are gone (removed by hand) drop out.
        tracked.retain(|rel| base.join(rel).is_file());
        if !tracked.is_empty() || index_path.exists() {
            let index = Index {
                written_by: "cio-sql review --accept: the files review may update and remove; commit it with them".into(),
                files: tracked,
            };
            let text = serde_json::to_string_pretty(&index).unwrap_or_default() + "\n";
            crate::files::write_atomic_in(&index_path, text.as_bytes(), Some(base))?;
        }
    }
    Ok(review)
}

/// `rel` as a relative path of normal parts ending in `.sql`, or `None`.
fn relative_sql(rel: &str) -> Option<PathBuf> {
    let path = Path::new(rel);
    (path.extension().is_some_and(|e| e == "sql")
        && path.components().all(|c| matches!(c, Component::Normal(_))))
    .then(|| path.to_path_buf())
}

/// What review may write: inside the reviewed folder, which is inside the
/// project and apart from every folder of user files.
struct Guard {
    /// The reviewed folder, resolved (absolute, links followed).
    base: PathBuf,
    /// The folders of user files, resolved, with their key.
    protected: Vec<(String, PathBuf)>,
    /// The `--dir` as given, for messages.
    given: String,
}

impl Guard {
    fn new(project: &Project, dir: &Path) -> Result<Guard, Diagnostic> {
        let given = dir.display().to_string();
        let root = crate::files::resolve(&project.root);
        let base = crate::files::resolve(&project.root.join(dir));
        let mut protected: Vec<(String, PathBuf)> = project
            .config
            .source_paths()
            .into_iter()
            .map(|(key, p)| {
                (
                    format!("the {key} folder `{p}`"),
                    crate::files::resolve(&project.root.join(p)),
                )
            })
            .collect();
        protected.push((
            format!("the target folder `{}`", project.config.target_path),
            crate::files::resolve(&project.target_dir()),
        ));
        let refuse = |what: String| {
            Diagnostic::error(codes::REVIEW_DIR, format!("review --dir `{given}` {what}"))
                .with_help("keep the reviewed SQL in a folder of its own inside the project, such as the default `reviewed` (pass --dir reviewed or leave --dir out)")
        };
        if base == root {
            return Err(refuse(
                "is the project folder itself: review would write over model files".into(),
            ));
        }
        if !base.starts_with(&root) {
            return Err(refuse(format!(
                "is outside the project folder {} (it resolves to {})",
                root.display(),
                base.display()
            )));
        }
        let guard = Guard {
            base,
            protected,
            given: given.clone(),
        };
        if let Some(what) = guard.overlap(&guard.base) {
            return Err(refuse(what));
        }
        Ok(guard)
    }

    /// Why writing into `path` is refused, if it is.
    fn overlap(&self, path: &Path) -> Option<String> {
        self.protected.iter().find_map(|(what, p)| {
            if path == p {
                Some(format!("is {what}"))
            } else if path.starts_with(p) {
                Some(format!("is inside {what}"))
            } else if p.starts_with(path) {
                Some(format!("contains {what}"))
            } else {
                None
            }
        })
    }

    /// Fails unless `file` lies, links resolved, inside the reviewed folder
    /// and apart from every folder of user files.
    fn check_file(&self, file: &Path, shown: &str) -> Result<(), Diagnostic> {
        let parent = crate::files::resolve(file.parent().unwrap_or(file));
        let why = if !parent.starts_with(&self.base) {
            Some(format!(
                "leads outside the reviewed folder `{}`",
                self.given
            ))
        } else {
            self.overlap(&parent)
        };
        match why {
            None => Ok(()),
            Some(why) => Err(Diagnostic::error(
                codes::REVIEW_DIR,
                format!("{shown} {why} (through a symbolic link), so review does not write it"),
            )
            .at_file(shown)
            .with_help("replace the link in the reviewed folder by a plain folder, then run review --accept again")),
        }
    }
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
