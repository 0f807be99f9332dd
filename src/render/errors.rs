//! How a failed render becomes a diagnostic: a helper's coded error
//! ([`HelperError`]) survives the trip through minijinja, the error points
//! at the outermost model line (the line of a multi-line macro call) and
//! notes the macro file line it was raised at; warnings point at the call
//! that raised them.

use super::state::Warning;
use super::{MACRO_MODULE, PRELUDE};
use crate::diagnostics::codes;
use crate::diagnostics::{Code, Diagnostic};
use crate::project::{Model, Project};
use minijinja::{Environment, Error, ErrorKind};
use std::collections::HashMap;

/// An error raised by a helper or context function, with a code and a fix.
///
/// Attached as the source of a minijinja error, so it survives the trip
/// through the template engine and becomes the diagnostic's code and help.
#[derive(Debug, Clone)]
pub struct HelperError {
    /// Stable code.
    pub code: Code,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// The macro argument at fault, when the error is about one: the
    /// diagnostic then points at that argument inside the model's call
    /// (its line in a multi-line call), not at the macro's name.
    pub argument: Option<String>,
}

impl HelperError {
    /// A new helper error.
    pub fn new(code: Code, message: impl Into<String>, help: impl Into<String>) -> Self {
        HelperError {
            code,
            message: message.into(),
            help: help.into(),
            argument: None,
        }
    }

    /// Points the error at the macro argument `name` of the model's call,
    /// when the call passes it (a descriptive label such as `the timestamp
    /// column` is not an argument and is ignored).
    pub fn at_argument(mut self, name: &str) -> Self {
        if crate::sql::is_bare_identifier(name) {
            self.argument = Some(name.to_string());
        }
        self
    }
}

impl std::fmt::Display for HelperError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HelperError {}

impl From<HelperError> for Error {
    fn from(err: HelperError) -> Error {
        Error::new(ErrorKind::InvalidOperation, err.message.clone()).with_source(err)
    }
}

/// The source text and shown path of every macro template, for pointing
/// at macro lines in diagnostics.
#[derive(Debug, Default)]
pub(super) struct MacroSources {
    /// Template name → source text.
    pub sources: HashMap<String, String>,
    /// Template name → the path shown (`templates/x.sql (built-in)`).
    pub paths: HashMap<String, String>,
}

impl MacroSources {
    pub(super) fn locate_warning(&self, w: &Warning, model: &Model) -> Diagnostic {
        let mut d = Diagnostic::warning(w.code, w.message.clone()).for_model(&model.name);
        if let Some(help) = &w.help {
            d = d.with_help(help.clone());
        }
        match &w.call {
            Some((name, nth)) => match nth_call_site(&model.source, name, *nth) {
                Some(range) => d.at_span(&model.path, &model.source, range),
                None => d.at_file(&model.path),
            },
            None => d.at_file(&model.path),
        }
    }

    /// Turns a render error into a diagnostic pointing at the model line
    /// (and noting the macro file line when the error came from a macro).
    pub(super) fn diagnose(&self, err: &Error, model: &Model) -> Diagnostic {
        let mut chain: Vec<&Error> = vec![err];
        let mut helper: Option<&HelperError> = None;
        let mut cur: &dyn std::error::Error = err;
        while let Some(next) = cur.source() {
            if let Some(e) = next.downcast_ref::<Error>() {
                chain.push(e);
            }
            if let Some(h) = next.downcast_ref::<HelperError>() {
                helper = Some(h);
            }
            cur = next;
        }
        let innermost = chain
            .iter()
            .rev()
            .find(|e| e.detail().is_some())
            .copied()
            .unwrap_or(err);
        let (code, message, help) = match helper {
            Some(h) => (h.code, h.message.clone(), Some(h.help.clone())),
            None => {
                let (code, help) = code_for(innermost.kind());
                (code, describe_error(innermost), help.map(str::to_string))
            }
        };
        let mut d = Diagnostic::error(code, message).for_model(&model.name);
        if let Some(help) = help {
            d = d.with_help(help);
        }
        // Primary location: the outermost point in the model itself.
        let in_model = chain.iter().find(|e| e.name() == Some(model.path.as_str()));
        // minijinja gives a byte range, or only the line (the last line of
        // a multi-line call).
        let shift = PRELUDE.len();
        let range = in_model.and_then(|e| e.range()).map(|r| {
            r.start.saturating_sub(shift).min(model.source.len())
                ..r.end.saturating_sub(shift).min(model.source.len())
        });
        let line = in_model.and_then(|e| e.line());
        let called = in_model
            .and_then(|e| e.detail())
            .and_then(|d| d.strip_prefix("error in "))
            .map(|n| n.split(':').next().unwrap_or(n));
        let head_end = range
            .clone()
            .map(|r| r.end)
            .or_else(|| line.map(|l| line_end(&model.source, l)));
        let call = called
            .zip(head_end)
            .and_then(|(name, end)| call_span(&model.source, name, end, helper));
        match (call, range, line) {
            (Some(span), _, _) | (None, Some(span), _) => {
                d = d.at_span(&model.path, &model.source, span);
            }
            (None, None, Some(line)) => d = d.at_line(&model.path, &model.source, line, None),
            (None, None, None) => d = d.at_file(&model.path),
        }
        // Notes: where inside macros it happened.
        for e in chain.iter().rev() {
            if let (Some(name), Some(line)) = (e.name(), e.line()) {
                if name == model.path || name == MACRO_MODULE {
                    continue;
                }
                let shown = self
                    .paths
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.to_string());
                // minijinja reports the last line of a multi-line call: walk
                // back to the line that opens the tag.
                let lines: Vec<&str> = self
                    .sources
                    .get(name)
                    .map(|s| s.lines().collect())
                    .unwrap_or_default();
                let mut at = line.min(lines.len());
                while at > 1 && !lines[at - 1].contains("{%") && !lines[at - 1].contains("{{") {
                    at -= 1;
                }
                let text = lines
                    .get(at.wrapping_sub(1))
                    .map(|l| format!(": {}", l.trim()))
                    .unwrap_or_default();
                d = d.with_note(format!("raised in {shown}:{at}{text}"));
                break;
            }
        }
        // A macro file that fails to parse surfaces through the import.
        if d.line.is_none()
            && in_model.is_none()
            && let Some(e) = chain.iter().find(|e| e.name().is_some())
            && let (Some(name), Some(src)) = (e.name(), e.name().and_then(|n| self.sources.get(n)))
            && let Some(range) = e.range()
        {
            let path = self
                .paths
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_string());
            d = d.at_span(path, src, range);
        }
        d
    }
}

/// `CIO007`: a project macro named like a built-in name of the context,
/// pointing at its `{% macro %}` line.
pub(super) fn reserved_macro(project: &Project, name: &str, path: &str) -> Diagnostic {
    let d = Diagnostic::error(
        codes::RESERVED_MACRO,
        format!("the macro `{name}` has the name of cio-sql's built-in `{name}`, so it could never be called"),
    )
    .with_help(format!(
        "rename the macro (e.g. `my_{name}`) and its calls; built-in names such as ref, source, var, config, env_var, this, target and adapter are reserved"
    ));
    let Some(file) = project.macro_files.iter().find(|f| f.path == path) else {
        return d.at_file(path);
    };
    let mut offset = 0;
    while let Some(i) = file.source[offset..].find("macro") {
        let at = offset + i;
        let after = file.source[at + "macro".len()..].trim_start();
        let boundary = file.source[..at].trim_end().ends_with(['%', '-', '+']);
        if boundary
            && after.starts_with(name)
            && !after[name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        {
            let start =
                at + "macro".len() + (file.source[at + "macro".len()..].len() - after.len());
            return d.at_span(path, &file.source, start..start + name.len());
        }
        offset = at + "macro".len();
    }
    d.at_file(path)
}

pub(super) fn add_macro_template(
    env: &mut Environment<'static>,
    path: &str,
    source: &str,
) -> Result<(), Diagnostic> {
    env.add_template_owned(path.to_string(), source.to_string())
        .map_err(|e| {
            let d = Diagnostic::error(
                codes::JINJA_SYNTAX,
                format!(
                    "Jinja syntax error in macro file {path}: {}",
                    describe_error(&e)
                ),
            )
            .with_help("fix the macro file; every model imports it");
            match e.range() {
                Some(range) => d.at_span(path, source, range),
                None => d.at_file(path),
            }
        })
}

/// The code and default help for a minijinja error kind.
pub(super) fn code_for(kind: ErrorKind) -> (Code, Option<&'static str>) {
    match kind {
        ErrorKind::SyntaxError => (
            codes::JINJA_SYNTAX,
            Some(
                "check the Jinja tags: every {{ has its }}, every {% if %} its {% endif %}, every string its closing quote",
            ),
        ),
        ErrorKind::UndefinedError => (
            codes::UNDEFINED,
            Some(
                "check the spelling; variables come from var(), the model context (this, model, target) or a macro's arguments",
            ),
        ),
        ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod
        | ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest => (
            codes::UNKNOWN_MACRO,
            Some(
                "check the spelling; project macros live in the macro-paths folders, built-in ones are called as nexus.<name>(...)",
            ),
        ),
        ErrorKind::TooManyArguments | ErrorKind::MissingArgument => (
            codes::BAD_ARGUMENT,
            Some("check the macro's arguments in README.md"),
        ),
        ErrorKind::BadInclude | ErrorKind::TemplateNotFound => (codes::UNKNOWN_MACRO, None),
        _ => (codes::RENDER, None),
    }
}

pub(super) fn describe_error(e: &Error) -> String {
    let kind = e.kind().to_string();
    match e.detail() {
        Some(detail) => format!("{kind}: {detail}"),
        None => kind,
    }
}

/// Byte range of the `nth` (1-based) call `name(` in `source`.
pub(super) fn nth_call_site(
    source: &str,
    name: &str,
    nth: usize,
) -> Option<std::ops::Range<usize>> {
    let pattern = format!("{name}(");
    let hits: Vec<usize> = source.match_indices(&pattern).map(|(i, _)| i).collect();
    let start = *hits.get(nth.saturating_sub(1)).or(hits.first())?;
    let end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i)
        .min(start + pattern.len() + 60);
    Some(start..end)
}

/// The byte offset where line `line` (1-based) of `source` ends.
fn line_end(source: &str, line: usize) -> usize {
    let mut offset = 0;
    for (i, text) in source.split_inclusive('\n').enumerate() {
        offset += text.len();
        if i + 1 == line {
            return offset;
        }
    }
    source.len()
}

/// Where a failed call of macro `name` (ending before `end`) is shown: the
/// argument the helper error is about, when the call passes it, else the
/// first line of the call from the macro's name.
fn call_span(
    source: &str,
    name: &str,
    end: usize,
    helper: Option<&HelperError>,
) -> Option<std::ops::Range<usize>> {
    let at = source[..end].rfind(&format!("{name}("))?;
    if let Some(arg) = helper.and_then(|h| h.argument.as_deref())
        && let Some(span) = argument_span(source, at + name.len(), arg)
    {
        return Some(span);
    }
    let line_end = source[at..].find('\n').map_or(source.len(), |i| at + i);
    Some(at..line_end)
}

/// The byte range of the keyword argument `name=value` in the call whose
/// `(` is at `open` in `source`: the call's arguments are split at the
/// commas outside brackets and quotes. `None` when the call does not pass
/// `name` (it takes its default) or the call is not closed.
pub(super) fn argument_span(
    source: &str,
    open: usize,
    name: &str,
) -> Option<std::ops::Range<usize>> {
    let bytes = source.as_bytes();
    if bytes.get(open) != Some(&b'(') {
        return None;
    }
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut start = open + 1;
    let mut i = open;
    let matches = |from: usize, to: usize| -> Option<std::ops::Range<usize>> {
        let text = &source[from..to];
        let trimmed = text.trim_start();
        let lead = text.len() - trimmed.len();
        let rest = trimmed.strip_prefix(name)?;
        let value = rest.trim_start().strip_prefix('=')?;
        if value.starts_with('=') {
            return None;
        }
        let begin = from + lead;
        Some(begin..begin + trimmed.trim_end().len())
    };
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return matches(start, i);
                    }
                }
                b',' if depth == 1 => {
                    if let Some(found) = matches(start, i) {
                        return Some(found);
                    }
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_span_finds_the_argument_line() {
        let src = "{{ m(\n    a='x, (y)',\n    b={'k': [1, 2]},\n    bb=3\n) }}";
        let open = src.find('(').unwrap();
        let at = |name| argument_span(src, open, name).map(|r| &src[r]);
        assert_eq!(at("a"), Some("a='x, (y)'"));
        assert_eq!(at("b"), Some("b={'k': [1, 2]}"));
        assert_eq!(at("bb"), Some("bb=3"));
        assert_eq!(at("c"), None);
        assert_eq!(argument_span("m(a == 1)", 1, "a"), None);
    }

    #[test]
    fn nth_call_site_finds_the_right_call() {
        let src = "a {{ nexus.m(1) }}\nb {{ nexus.m(2) }}";
        let r = nth_call_site(src, "nexus.m", 2).unwrap();
        assert!(src[r].starts_with("nexus.m(2)"));
    }
}
