//! The commands behind `main.rs`: each takes parsed options, runs the
//! library, prints, and returns the process exit code (0 success, 1 a model
//! failed, 2 usage or configuration error).

use crate::compile::{CompileOptions, ModelStatus, compile};
use crate::report::{Output, print_compilation, print_out};
use std::time::Instant;

/// Opens a warehouse session for a loaded project.
pub type Connector =
    dyn Fn(
        &crate::project::Project,
    ) -> Result<Box<dyn crate::warehouse::Warehouse>, crate::diagnostics::Diagnostic>;

/// `cio-sql compile` (with `live`, columns come from the warehouse).
pub fn compile_command(
    opts: &CompileOptions,
    show: bool,
    live: Option<&Connector>,
    out: &Output,
) -> i32 {
    let started = Instant::now();
    let result = match live {
        None => compile(opts),
        Some(connect) => crate::project::Project::load(&opts.load).and_then(|project| {
            let wh = connect(&project)?;
            let (catalog, missing) = crate::execute::live_catalog(&project, wh.as_ref())?;
            for rel in missing {
                out.diagnostic(&crate::diagnostics::Diagnostic::warning(
                    "CIO321",
                    format!("{rel} is in the catalog but not in the warehouse; its catalog.yml columns are used"),
                ).with_help("create the relation in Snowflake, or fix its name or schema in catalog.yml"));
            }
            crate::compile::compile_project(project, std::sync::Arc::new(catalog), opts)
        }),
    };
    let compilation = match result {
        Ok(c) => c,
        Err(d) => return out.fatal(&d),
    };
    let elapsed = started.elapsed().as_millis();
    if show {
        for m in compilation.selected_models() {
            if let (ModelStatus::Success, Some(sql)) = (m.status, m.sql()) {
                if compilation.selected.len() > 1 {
                    print_out(&format!("-- {} ({})\n", m.name, m.path));
                }
                print_out(&sql);
                if compilation.selected.len() > 1 {
                    print_out("\n");
                }
            }
        }
    }
    let mut timer = crate::timings::PhaseTimer::from_env();
    print_compilation(&compilation, out, elapsed, show);
    timer.lap("report");
    let code = if compilation.succeeded() { 0 } else { 1 };
    drop(compilation);
    timer.lap("free");
    code
}

/// `cio-sql ls`: the selected models, one per line, in dependency order.
pub fn ls_command(opts: &CompileOptions, out: &Output) -> i32 {
    let compilation = match compile(&CompileOptions {
        write: false,
        ..opts.clone()
    }) {
        Ok(c) => c,
        Err(d) => return out.fatal(&d),
    };
    for m in compilation.selected_models() {
        match out.format {
            crate::report::LogFormat::Text => print_out(&format!(
                "{}\t{}\t{}\t{}\n",
                m.name,
                m.config.materialized(),
                m.relation,
                m.config.tags().join(",")
            )),
            crate::report::LogFormat::Json => print_out(&format!(
                "{}\n",
                serde_json::json!({
                    "name": m.name,
                    "path": m.path,
                    "materialized": m.config.materialized(),
                    "relation": m.relation.to_string(),
                    "tags": m.config.tags(),
                    "depends_on": m.depends_on,
                })
            )),
        }
    }
    0
}

/// `cio-sql review`: compare compiled SQL with the reviewed copies in `dir`.
pub fn review_command(
    opts: &CompileOptions,
    dir: &std::path::Path,
    accept: bool,
    out: &Output,
) -> i32 {
    use crate::review::ReviewStatus;
    let compilation = match compile(&CompileOptions {
        write: false,
        ..opts.clone()
    }) {
        Ok(c) => c,
        Err(d) => return out.fatal(&d),
    };
    let review = match crate::review::review(&compilation, dir, accept) {
        Ok(r) => r,
        Err(d) => return out.fatal(&d),
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
        if !detail.is_empty() && out.format == crate::report::LogFormat::Text {
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
                crate::review::INDEX_FILE
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
        return if failed { 1 } else { 0 };
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
    if failed || differing > 0 { 1 } else { 0 }
}
