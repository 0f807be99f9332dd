//! Printing results for people (text) and machines (JSON lines).

use crate::compile::{Compilation, ModelStatus};
use crate::diagnostics::{Diagnostic, Severity};
use serde_json::json;
use std::io::{IsTerminal, Write};

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines and rustc-style diagnostics.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Output settings shared by every command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    /// Text or JSON.
    pub format: LogFormat,
    /// Only errors (and requested output such as `--show`).
    pub quiet: bool,
    /// Colour diagnostics.
    pub color: bool,
}

impl Output {
    /// Colour only when stderr is a terminal and `NO_COLOR` is unset.
    pub fn detect_color() -> bool {
        std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
    }

    /// Prints one diagnostic to stderr (text) or stdout (JSON).
    pub fn diagnostic(&self, d: &Diagnostic) {
        if self.quiet && d.severity == Severity::Warning {
            return;
        }
        // Every diagnostic is scrubbed of secrets before it is shown.
        let d = crate::redact::diagnostic(d);
        match self.format {
            LogFormat::Text => {
                let text = d.render(self.color);
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}\n", crate::redact::scrub(&text));
            }
            LogFormat::Json => {
                let mut value = serde_json::to_value(&*d).unwrap_or_default();
                crate::redact::scrub_json(&mut value);
                value["event"] = json!("diagnostic");
                println!("{value}");
            }
        }
    }

    /// Prints a project-level failure and returns exit code 2.
    pub fn fatal(&self, d: &Diagnostic) -> i32 {
        self.diagnostic(d);
        2
    }

    /// An informational line (suppressed by `--quiet`; stderr when stdout carries data).
    pub fn info(&self, line: &str, to_stderr: bool) {
        if self.quiet || self.format == LogFormat::Json {
            return;
        }
        let line = crate::redact::scrub(line);
        if to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }

    /// Prints a JSON event (JSON format only), scrubbed of secrets.
    pub fn event(&self, mut value: serde_json::Value) {
        if self.format == LogFormat::Json {
            crate::redact::scrub_json(&mut value);
            println!("{value}");
        }
    }
}

/// Prints the outcome of a compile: a line per selected model, diagnostics,
/// then a summary. `to_stderr` keeps stdout free for `--show`.
pub fn print_compilation(c: &Compilation, out: &Output, elapsed_ms: u128, to_stderr: bool) {
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
            out.diagnostic(d);
        }
    }
    let errors = c.error_count();
    let warnings = c.warning_count();
    let ok = selected
        .iter()
        .filter(|m| m.status == ModelStatus::Success)
        .count();
    let reused = if c.reused > 0 {
        format!(" ({} unchanged since the last compile)", c.reused)
    } else {
        String::new()
    };
    out.info(
        &format!(
            "Compiled {ok} of {} selected models in {elapsed_ms} ms{reused}: {errors} failed, {warnings} warning{}.",
            c.selected.len(),
            if warnings == 1 { "" } else { "s" }
        ),
        to_stderr,
    );
    out.event(json!({
        "event": "summary",
        "selected": c.selected.len(),
        "succeeded": ok,
        "failed": errors,
        "warnings": warnings,
        "reused": c.reused,
        "elapsed_ms": elapsed_ms,
    }));
}
