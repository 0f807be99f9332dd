//! Printing results for people (text) and machines (JSON lines).

use crate::diagnostics::{Diagnostic, Severity};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The first failure writing to stdout (`None` while every write worked).
static STDOUT_FAILURE: Mutex<Option<std::io::Error>> = Mutex::new(None);
/// Set once a write to stderr failed: nothing more is written there.
static STDERR_FAILED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout. Every command's output goes through here (the
/// library denies `println!`): a failed write (a full disk behind
/// `> file`, `/dev/full`) never panics; it is remembered, later writes are
/// skipped, and [`finish_streams`] turns it into one error line and a
/// non-zero exit.
pub fn print_out(text: &str) {
    let mut failure = STDOUT_FAILURE.lock().unwrap_or_else(|e| e.into_inner());
    if failure.is_some() {
        return;
    }
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        *failure = Some(e);
    }
}

/// Writes `text` to stderr; after a failed write, nothing more is written
/// there (there is nowhere left to report it).
pub fn print_err(text: &str) {
    if STDERR_FAILED.load(Ordering::Relaxed) {
        return;
    }
    if std::io::stderr().lock().write_all(text.as_bytes()).is_err() {
        STDERR_FAILED.store(true, Ordering::Relaxed);
    }
}

/// Flushes stdout and returns the exit code for `code`: unchanged when
/// every write worked; else the failure is reported in one line on stderr
/// (`CIO023`) and the code is at least 1. A closed pipe (`| head`) is not
/// an error: like other Unix tools, cio-sql stops quietly.
pub fn finish_streams(code: i32) -> i32 {
    let mut failure = STDOUT_FAILURE.lock().unwrap_or_else(|e| e.into_inner());
    if failure.is_none()
        && let Err(e) = std::io::stdout().lock().flush()
    {
        *failure = Some(e);
    }
    let stderr_failed = STDERR_FAILED.load(Ordering::Relaxed);
    match failure.as_ref() {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Some(e) => {
            print_err(&format!(
                "error[{}]: cannot write to stdout: {e}; the output is incomplete\n",
                crate::diagnostics::codes::STDOUT_FAILED
            ));
            code.max(1)
        }
        None if stderr_failed => code.max(1),
        None => code,
    }
}

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
            LogFormat::Text => print_err(&format!(
                "{}\n\n",
                crate::redact::scrub(&d.render(self.color))
            )),
            LogFormat::Json => {
                let mut value = serde_json::to_value(&*d).unwrap_or_default();
                crate::redact::scrub_json(&mut value);
                value["event"] = json!("diagnostic");
                print_out(&format!("{value}\n"));
            }
        }
    }

    /// An informational line (suppressed by `--quiet`; stderr when stdout carries data).
    pub fn info(&self, line: &str, to_stderr: bool) {
        if self.quiet || self.format == LogFormat::Json {
            return;
        }
        let line = crate::redact::scrub(line);
        if to_stderr {
            print_err(&format!("{line}\n"));
        } else {
            print_out(&format!("{line}\n"));
        }
    }

    /// Prints a JSON event (JSON format only), scrubbed of secrets.
    pub fn event(&self, mut value: serde_json::Value) {
        if self.format == LogFormat::Json {
            crate::redact::scrub_json(&mut value);
            print_out(&format!("{value}\n"));
        }
    }
}
