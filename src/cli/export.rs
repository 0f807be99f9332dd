//! `cio-sql export MODEL --out DIR`: a model's built table written into
//! files, with a progress line on long exports and a summary.

use super::args::ExportFormatArg;
use super::{ExitStatus, fatal};
use crate::compile::CompileOptions;
use crate::diagnostics::{Diagnostic, codes};
use crate::execution::Connector;
use crate::execution::export::{ExportRequest, Format, Layout, export as run_export};
use crate::files::lock::RunLock;
use crate::report::{Output, print_err};
use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// The library's format for `--format`.
pub(super) fn format(arg: ExportFormatArg) -> Format {
    match arg {
        ExportFormatArg::Csv => Format::Csv,
        ExportFormatArg::Jsonl => Format::Jsonl,
        ExportFormatArg::Customerio => Format::Customerio,
        ExportFormatArg::MetaCapi => Format::MetaCapi,
        ExportFormatArg::Moengage => Format::Moengage,
    }
}

/// `cio-sql export`: compiles the project (without writing) to find the
/// model's relation and destination, connects, and writes the files.
/// Exit 0; 1 for a runtime failure (the warehouse, a row that cannot be
/// written); 2 for a usage error (unknown model, never built, a format
/// that does not fit, `--since` on an untracked table, a file in the way).
pub(super) fn export(
    opts: &CompileOptions,
    model: &str,
    out_dir: &Path,
    format: Option<Format>,
    since: Option<i64>,
    out: &Output,
    connect: &Connector,
) -> ExitStatus {
    let compilation = match super::compile_only(
        &CompileOptions {
            select: vec![model.to_string()],
            ..opts.clone()
        },
        out,
    ) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let Some(m) = compilation.model(model) else {
        return fatal(
            out,
            &Diagnostic::error(codes::SELECTION, format!("no model is named {model}"))
                .with_help("cio-sql ls lists the models"),
        );
    };
    let config = |key: &str| m.config.values.get(key).and_then(|v| v.as_str());
    let project = &compilation.project;
    let req = ExportRequest {
        model: m.name.clone(),
        relation: m.relation.clone(),
        relation_sql: m.relation.sql(project.config.quoting),
        layout: Layout::of(config("cio_destination"), config("cio_sync")),
        format,
        since,
        out_dir: out_dir.to_path_buf(),
        target: project.target.name.clone(),
    };
    // No build of this target runs while the table is read page by page.
    let _lock = match RunLock::acquire(&project.target_dir(), &project.target.name) {
        Ok(lock) => lock,
        Err(d) => return fatal(out, &d),
    };
    let wh = match connect(project) {
        Ok(w) => w,
        Err(d) => return fatal(out, &d),
    };
    let started = Instant::now();
    let last = Cell::new(started);
    let quiet = out.quiet;
    let progress = |rows: u64, files: usize| {
        if !quiet && last.get().elapsed() >= PROGRESS_EVERY {
            last.set(Instant::now());
            print_err(&format!(
                "export {model}: {rows} rows read, {files} files finished ({:.0} s)\n",
                started.elapsed().as_secs_f64()
            ));
        }
    };
    let summary = match run_export(wh.as_ref(), &req, &progress) {
        Ok(s) => s,
        Err(d) => return fatal(out, &d),
    };
    let skipped = if summary.skipped > 0 {
        format!(
            " ({} deleted rows skipped: {} has no delete)",
            summary.skipped, summary.format
        )
    } else {
        String::new()
    };
    out.info(
        &format!(
            "Exported {} rows of {} as {} into {} files ({} bytes) in {}{skipped}",
            summary.rows,
            summary.model,
            summary.format,
            summary.files.len(),
            summary.bytes(),
            out_dir.display()
        ),
        false,
    );
    let mut event = serde_json::to_value(&summary).unwrap_or_default();
    event["event"] = serde_json::json!("export");
    event["bytes"] = serde_json::json!(summary.bytes());
    out.event(event);
    ExitStatus::Success
}
