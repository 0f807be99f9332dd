//! `cio-sql compile`: renders the selected models to `target/compiled/` and
//! writes the manifest; with `--live`, over columns read from the warehouse.

use super::{ExitStatus, fatal};
use crate::compile::{Compilation, CompileOptions, ModelStatus};
use crate::diagnostics::codes;
use crate::execution::Connector;
use crate::execution::catalog::live_catalog;
use crate::pipeline;
use crate::project::Project;
use crate::report::{LogFormat, Output, print_out};
use serde_json::json;
use std::time::Instant;

/// `cio-sql compile` (with `live`, columns come from the warehouse).
pub(super) fn compile(
    opts: &CompileOptions,
    show: bool,
    live: Option<&Connector>,
    out: &Output,
) -> ExitStatus {
    let started = Instant::now();
    let result = match live {
        None => pipeline::compile(opts),
        Some(connect) => Project::load(&opts.load).and_then(|project| {
            let wh = connect(&project)?;
            let (catalog, missing) = live_catalog(&project, wh.as_ref())?;
            for rel in missing {
                out.diagnostic(&crate::diagnostics::Diagnostic::warning(
                    codes::MISSING_RELATION,
                    format!("{rel} is in the catalog but not in the warehouse; its catalog.yml columns are used"),
                ).with_help("create the relation in Snowflake, or fix its name or schema in catalog.yml"));
            }
            pipeline::compile_project(project, std::sync::Arc::new(catalog), opts)
        }),
    };
    let compilation = match result {
        Ok(c) => c,
        Err(d) => return fatal(out, &d),
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
    let status = ExitStatus::failed_unless(compilation.succeeded());
    drop(compilation);
    timer.lap("free");
    status
}

/// Prints the outcome of a compile: a line per selected model, diagnostics,
/// then a summary. `to_stderr` keeps stdout free for `--show`.
pub(super) fn print_compilation(c: &Compilation, out: &Output, elapsed_ms: u128, to_stderr: bool) {
    let target = &c.project.target;
    out.info(
        &format!(
            "cio-sql {} · project {} · target {} ({}.{})",
            env!("CARGO_PKG_VERSION"),
            c.project.config.name,
            target.name,
            target.database,
            target.schema
        ),
        to_stderr,
    );
    for d in &c.diagnostics {
        out.diagnostic(d);
    }
    let width = c.selected.iter().map(String::len).max().unwrap_or(0);
    // Per-model lines are built only when they will be printed: with
    // --quiet, a large project's report is just its errors.
    let lines = !out.quiet && out.format == LogFormat::Text;
    let events = out.format == LogFormat::Json;
    let selected = c.selected_models();
    let shared = shared_diagnostics(&selected);
    let mut printed: std::collections::HashSet<SharedKey> = std::collections::HashSet::new();
    for m in &selected {
        if lines {
            for log in &m.logs {
                out.info(&format!("  {}: {log}", m.name), true);
            }
            let (label, detail) = match m.status {
                ModelStatus::Success => ("ok   ", format!("{} -> {}", m.path, m.compiled_path)),
                _ => ("ERROR", m.path.clone()),
            };
            out.info(&format!("  {label} {:width$}  {detail}", m.name), to_stderr);
        }
        if events {
            out.event(json!({
                "event": "model",
                "name": m.name,
                "status": m.status,
                "path": m.path,
                "compiled_path": (m.status == ModelStatus::Success).then_some(&m.compiled_path),
                "relation": m.relation.to_string(),
            }));
        }
        for d in &m.diagnostics {
            match shared_key(m, d).and_then(|k| shared.get(&k).map(|models| (k, models))) {
                Some((key, models)) if models.len() > 1 => {
                    if printed.insert(key) {
                        out.diagnostic(&d.clone().with_note(format!(
                            "reported once for the {} models it applies to: {}",
                            models.len(),
                            models.join(", ")
                        )));
                    }
                }
                _ => out.diagnostic(d),
            }
        }
    }
    let errors = c.error_count();
    let warnings = c.warning_count();
    let ok = selected
        .iter()
        .filter(|m| m.status == ModelStatus::Success)
        .count();
    // `ok` of the selected models compiled, `reused` of them unchanged
    // since the last compile (taken from the cache), `errors` failed.
    let reused = if c.reused > 0 {
        format!(" ({} of them unchanged since the last compile)", c.reused)
    } else {
        String::new()
    };
    if c.selected_nodes.is_empty() {
        out.info("Nothing to do: no model or seed is selected.", to_stderr);
    }
    let seeds = c.selected_seeds().len();
    let seeds = match seeds {
        0 => String::new(),
        1 => " (and 1 seed)".to_string(),
        n => format!(" (and {n} seeds)"),
    };
    out.info(
        &format!(
            "Compiled {ok} of {} selected models{seeds} in {elapsed_ms} ms{reused}: {errors} failed, {warnings} warning{}.",
            selected.len(),
            if warnings == 1 { "" } else { "s" }
        ),
        to_stderr,
    );
    out.event(json!({
        "event": "summary",
        "selected": selected.len(),
        "seeds": c.selected_seeds().len(),
        "succeeded": ok,
        "failed": errors,
        "warnings": warnings,
        "reused": c.reused,
        "elapsed_ms": elapsed_ms,
    }));
}

/// A diagnostic that points outside its model's file (a folder config in
/// `dbt_project.yml`): code, message, file and line.
type SharedKey = (String, String, std::path::PathBuf, Option<usize>);

fn shared_key(
    m: &crate::compile::CompiledModel,
    d: &crate::diagnostics::Diagnostic,
) -> Option<SharedKey> {
    let file = d.file.as_ref()?;
    (file.as_path() != std::path::Path::new(&m.path)).then(|| {
        (
            d.code.id().to_string(),
            d.message.clone(),
            file.clone(),
            d.line,
        )
    })
}

/// The models sharing each diagnostic that points outside the model's own
/// file, so that it is printed once.
fn shared_diagnostics(
    selected: &[&crate::compile::CompiledModel],
) -> std::collections::HashMap<SharedKey, Vec<String>> {
    let mut out: std::collections::HashMap<SharedKey, Vec<String>> = Default::default();
    for m in selected {
        for d in &m.diagnostics {
            if let Some(key) = shared_key(m, d) {
                out.entry(key).or_default().push(m.name.clone());
            }
        }
    }
    out
}
