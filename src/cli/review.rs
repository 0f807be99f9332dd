//! `cio-sql review`: the compiled SQL compared with the reviewed copies.

use super::{ExitStatus, fatal};
use crate::compile::CompileOptions;
use crate::report::{LogFormat, Output, print_out};
use crate::reports::{self, review::ReviewStatus};

/// `cio-sql review`: compare compiled SQL with the reviewed copies in `dir`.
pub(super) fn review(
    opts: &CompileOptions,
    dir: &std::path::Path,
    accept: bool,
    out: &Output,
) -> ExitStatus {
    let compilation = match super::compile_only(opts, out) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let review = match reports::review::review(&compilation, dir, accept) {
        Ok(r) => r,
        Err(d) => return fatal(out, &d),
    };
    let mut failed = false;
    for entry in &review.entries {
        let (label, detail) = match &entry.status {
            ReviewStatus::Unchanged => ("same    ", String::new()),
            ReviewStatus::Changed(diff) => ("changed ", diff.clone()),
            ReviewStatus::New(_) => ("new     ", String::new()),
            ReviewStatus::Orphaned => ("orphaned", String::new()),
            ReviewStatus::Untracked => ("untracked", String::new()),
            ReviewStatus::Failed => {
                failed = true;
                ("FAILED  ", String::new())
            }
        };
        out.event(serde_json::json!({
            "event": "review",
            "name": entry.name,
            "reviewed_path": entry.reviewed_path,
            "status": label.trim(),
            "diff": (!detail.is_empty()).then_some(&detail),
        }));
        out.info(&format!("  {label} {}", entry.reviewed_path), false);
        if !detail.is_empty() && out.format == LogFormat::Text {
            // The diff is the point of the command: shown even with --quiet.
            print_out(&format!("{detail}\n"));
        }
    }
    for m in compilation.selected_models() {
        for d in &m.diagnostics {
            out.diagnostic(d);
        }
    }
    let differing = review
        .entries
        .iter()
        .filter(|e| {
            !matches!(
                e.status,
                ReviewStatus::Unchanged | ReviewStatus::Failed | ReviewStatus::Untracked
            )
        })
        .count();
    let untracked = review
        .entries
        .iter()
        .filter(|e| e.status == ReviewStatus::Untracked)
        .count();
    if untracked > 0 {
        out.info(
            &format!(
                "{untracked} file(s) in {} were not written by cio-sql review (not in its index {}), so review leaves them alone: delete them by hand if they are stale.",
                dir.display(),
                reports::review::INDEX_FILE
            ),
            false,
        );
    }
    // The command to accept, repeating a --dir that is not the default.
    let accept_command = if dir == std::path::Path::new("reviewed") {
        "cio-sql review --accept".to_string()
    } else {
        format!("cio-sql review --accept --dir {}", dir.display())
    };
    if accept {
        out.info(
            &format!("Accepted {differing} change(s) into {}.", dir.display()),
            false,
        );
        return ExitStatus::failed_unless(!failed);
    }
    if differing > 0 {
        out.info(
            &format!(
                "{differing} model(s) differ from {}: review the diff, then run `{accept_command}`.",
                dir.display()
            ),
            false,
        );
    } else if !failed {
        out.info(
            &format!(
                "All {} model(s) match {}.",
                review.entries.len() - untracked,
                dir.display()
            ),
            false,
        );
    }
    ExitStatus::failed_unless(!failed && differing == 0)
}
