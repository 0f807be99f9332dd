//! Errors and warnings that point at the source.
//!
//! Every problem cio-sql reports is a [`Diagnostic`] with a short stable code
//! (`CIO101`), a file and line where one is known, the offending source line,
//! and a help line with the fix. [`Diagnostic::render`] prints it the way rustc
//! and ruff do; [`Diagnostic`] also serialises to JSON for `--log-format json`.
//! Every code is defined once, in the registry ([`codes`]), which README.md's
//! code table copies row for row.

pub mod codes;
mod yaml;

pub use codes::{Code, Kind};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The model (or the run) failed.
    Error,
    /// Compilation succeeded, but something looks wrong.
    Warning,
}

/// One error or warning, with where it happened and how to fix it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Its code, from the registry ([`codes`]), e.g. `CIO101`.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The model this diagnostic belongs to, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The file the problem is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column in `line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The text of the offending line, for the snippet.
    #[serde(skip)]
    pub source_line: Option<String>,
    /// Byte range inside `source_line` to underline.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Extra context (where a macro raised the error, the compiled SQL line…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A new error with `code` (an error code of the registry) and
    /// `message`.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.severity(), Severity::Error, "{code} is a warning");
        Diagnostic::new(code, message)
    }

    /// A new warning with `code` (a warning code of the registry) and
    /// `message`.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.severity(), Severity::Warning, "{code} is an error");
        Diagnostic::new(code, message)
    }

    /// A new diagnostic with `code` and `message`, as severe as the
    /// registry says.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            model: None,
            file: None,
            line: None,
            column: None,
            source_line: None,
            span: None,
            help: None,
            notes: Vec::new(),
        }
    }

    /// Sets the file, without a line.
    pub fn at_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Points at a byte range of `source` (the whole file) in `file`.
    pub fn at_span(mut self, file: impl Into<PathBuf>, source: &str, range: Range<usize>) -> Self {
        let start = floor_char_boundary(source, range.start.min(source.len()));
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line_no = source[..start].matches('\n').count() + 1;
        let text = source[line_start..line_end].trim_end_matches('\r');
        let end = floor_char_boundary(source, range.end.clamp(start, line_end));
        let end = end.min(line_start + text.len());
        let rel_start = (start - line_start).min(text.len());
        let rel_end = (end.saturating_sub(line_start)).max(rel_start);
        self.file = Some(file.into());
        self.line = Some(line_no);
        self.column = Some(text[..rel_start].chars().count() + 1);
        self.source_line = Some(text.to_string());
        self.span = Some(rel_start..rel_end);
        self
    }

    /// Points at a 1-based line (and optional 1-based column) of `source`.
    pub fn at_line(
        self,
        file: impl Into<PathBuf>,
        source: &str,
        line: usize,
        column: Option<usize>,
    ) -> Self {
        let offset = line_offset(source, line);
        let line_len = source[offset..].find('\n').unwrap_or(source.len() - offset);
        let (start, end) = match column {
            Some(col) => {
                let start = source[offset..offset + line_len]
                    .char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(offset + line_len, |(i, _)| offset + i);
                let word = source[start..offset + line_len]
                    .find(|c: char| c.is_whitespace())
                    .unwrap_or(offset + line_len - start);
                (start, start + word.max(1))
            }
            None => {
                let text = &source[offset..offset + line_len];
                let indent = text.len() - text.trim_start().len();
                (offset + indent, offset + text.trim_end().len())
            }
        };
        self.at_span(file, source, start..end)
    }

    /// Sets the model name.
    pub fn for_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Turns a YAML parse error into a diagnostic pointing at its line, with
    /// a hint for the known mistakes (see [`yaml`]): the hint is the help
    /// (and may move the line, for an unclosed bracket); the caller's
    /// general help goes through [`Diagnostic::with_general_help`].
    pub fn yaml_error(code: Code, path: &Path, source: &str, err: &serde_yaml::Error) -> Self {
        let message = format!("invalid YAML in {}: {}", path.display(), yaml_message(err));
        let diag = Diagnostic::error(code, message);
        let Some(loc) = err.location() else {
            return diag.at_file(path);
        };
        match yaml::hint(source, loc.line()) {
            Some(h) => {
                let column = h.column.or((h.line == loc.line()).then(|| loc.column()));
                diag.at_line(path, source, h.line, column).with_help(h.help)
            }
            None => diag.at_line(path, source, loc.line(), Some(loc.column())),
        }
    }

    /// Sets the help line unless a more specific one is set, which the
    /// general help then follows as a note.
    pub fn with_general_help(self, help: impl Into<String>) -> Self {
        if self.help.is_some() {
            self.with_note(help)
        } else {
            self.with_help(help)
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic as rustc does; `color` adds ANSI styles.
    pub fn render(&self, color: bool) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = match &self.model {
            Some(model) if self.file.is_none() => format!("{} (model {model})", self.message),
            _ => self.message.clone(),
        };
        let mut group = Group::with_title(level.primary_title(title.as_str()).id(self.code.id()));
        let path_label;
        if let Some(file) = &self.file {
            path_label = match (self.line, self.column) {
                (Some(_), _) => file.display().to_string(),
                _ => file.display().to_string(),
            };
            match (&self.source_line, &self.span, self.line) {
                (Some(text), Some(span), Some(line)) => {
                    // An empty span is widened to the character it sits on.
                    let start = floor_char_boundary(text, span.start);
                    let end = floor_char_boundary(text, span.end).max(start);
                    let span = if start == end && !text.is_empty() {
                        let s = if start >= text.len() {
                            text.char_indices().last().map_or(0, |(i, _)| i)
                        } else {
                            start
                        };
                        let width = text[s..].chars().next().map_or(0, char::len_utf8);
                        s..s + width
                    } else {
                        start..end
                    };
                    group = group.element(
                        Snippet::source(text.as_str())
                            .line_start(line)
                            .path(path_label.as_str())
                            .annotation(AnnotationKind::Primary.span(span)),
                    );
                }
                _ => {
                    group = group.element(annotate_snippets::Origin::path(path_label.as_str()));
                }
            }
        }
        for note in &self.notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        if let Some(help) = &self.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        let report: Vec<Group> = vec![group];
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&report).to_string()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostic {}

/// serde_yaml's message without its trailing " at line X column Y".
fn yaml_message(err: &serde_yaml::Error) -> String {
    let text = err.to_string();
    match text.find(" at line ") {
        Some(idx) => text[..idx].to_string(),
        None => text,
    }
}

fn line_offset(source: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    source
        .match_indices('\n')
        .nth(line - 2)
        .map_or(source.len(), |(i, _)| i + 1)
}

fn floor_char_boundary(s: &str, mut idx: usize) -> usize {
    idx = idx.min(s.len());
    while !s.is_char_boundary(idx) {
        idx -= 1;
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_points_at_the_right_line_and_column() {
        let src = "select 1\nfrom {{ ref('x') }}\n";
        let d = Diagnostic::error(crate::diagnostics::codes::JINJA_SYNTAX, "boom").at_span(
            "m.sql",
            src,
            14..27,
        );
        assert_eq!(d.line, Some(2));
        assert_eq!(d.column, Some(6));
        assert_eq!(d.source_line.as_deref(), Some("from {{ ref('x') }}"));
        let text = d.with_help("fix it").render(false);
        assert!(text.contains("error[CIO100]: boom"), "{text}");
        assert!(text.contains("m.sql:2:6"), "{text}");
        assert!(text.contains("help: fix it"), "{text}");
    }

    #[test]
    fn empty_spans_on_multibyte_text_render() {
        for at in 0..8 {
            let d = Diagnostic::error(crate::diagnostics::codes::JINJA_SYNTAX, "x").at_span(
                "f",
                "{{ é }}é",
                at..at,
            );
            assert!(d.render(false).contains("error[CIO100]"));
        }
    }

    #[test]
    fn at_line_handles_out_of_range_input() {
        let d = Diagnostic::error(crate::diagnostics::codes::JINJA_SYNTAX, "x").at_line(
            "f",
            "a\nb",
            9,
            Some(40),
        );
        assert_eq!(d.line, Some(2));
        let _ = d.render(false);
    }
}
