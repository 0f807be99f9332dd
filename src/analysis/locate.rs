//! Where in a model's own source a finding about one of its output columns
//! is: the model line that writes the column when that line is in the
//! model's SQL, else the file with the compiled line as a note (a column
//! a macro made).

use super::columns::{ColumnProblem, Naming, OutputColumn, ProblemKind};
use super::contract::{Severity as FindingSeverity, SyncType, check_contract};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::Model;

/// The Customer.io contract checks of a model of sync type `sync` whose
/// compiled SQL `sql` returns `columns`, as diagnostics. A finding about one
/// column points at the model line that writes it when that line is in the
/// model's own SQL; otherwise (a column made by a macro) at the model file,
/// with the compiled line as a note.
pub fn contract_diagnostics(
    sync: SyncType,
    columns: &[OutputColumn],
    model: &Model,
    sql: &str,
) -> Vec<Diagnostic> {
    check_contract(sync, columns)
        .into_iter()
        .chain(super::meta_capi::check(sync, columns, sql))
        .map(|f| {
            let d = match f.severity {
                FindingSeverity::Error => Diagnostic::error(f.code, f.message),
                FindingSeverity::Warning => Diagnostic::warning(f.code, f.message),
            }
            .for_model(&model.name)
            .with_help(f.help);
            let column = f.column.as_deref().and_then(|name| {
                if f.code == codes::DUPLICATE_COLUMN {
                    // Point at the second of the clashing columns.
                    columns
                        .iter()
                        .filter(|c| c.name.eq_ignore_ascii_case(name))
                        .nth(1)
                } else {
                    columns.iter().find(|c| c.name == name)
                }
            });
            let generated = column.is_some_and(|c| c.naming == Naming::Generated);
            locate(
                d,
                column.and_then(|c| c.span),
                model,
                sql,
                generated,
                &column_name(column),
            )
        })
        .collect()
}

/// Points `d` at the model line that wrote what sits at 1-based `span`
/// (line, column) of the compiled SQL `sql`: the token there when the model
/// wrote it, the line when an expression rendered it, else the model file
/// with the compiled line as a note (or `name` quoted in the source, e.g.
/// the target of a rename in a macro call).
fn locate(
    mut d: Diagnostic,
    span: Option<(u64, u64)>,
    model: &Model,
    sql: &str,
    generated: bool,
    name: &str,
) -> Diagnostic {
    match span {
        Some((line, col)) => {
            let compiled = sql.lines().nth(line.saturating_sub(1) as usize);
            match compiled.and_then(|text| model_position(&model.source, text, col)) {
                Some((model_line, Some(model_col))) => {
                    d = match token_range(&model.source, model_line, model_col, generated) {
                        Some(range) => d.at_span(&model.path, &model.source, range),
                        None => d.at_line(&model.path, &model.source, model_line, None),
                    };
                }
                Some((model_line, None)) => {
                    d = d.at_line(&model.path, &model.source, model_line, None);
                }
                None => {
                    d = match quoted_in_source(&model.source, name) {
                        Some(range) => d.at_span(&model.path, &model.source, range),
                        None => d.at_file(&model.path),
                    };
                    if let Some(text) = compiled {
                        d = d.with_note(format!(
                            "the column comes from line {line} of the compiled SQL: `{}`",
                            text.trim()
                        ));
                    }
                }
            }
        }
        None => d = d.at_file(&model.path),
    }
    d
}

/// The column references Snowflake will reject (CIO162, CIO163), as
/// warnings at the model line that writes them.
pub fn column_problem_diagnostics(
    problems: &[ColumnProblem],
    model: &Model,
    sql: &str,
) -> Vec<Diagnostic> {
    problems
        .iter()
        .map(|p| {
            let d = match &p.kind {
                ProblemKind::NotFound { relations, closest } => Diagnostic::warning(
                    codes::UNKNOWN_COLUMN,
                    format!(
                        "`{}` is not a column of {}, so Snowflake will reject the query",
                        p.name,
                        match relations.as_slice() {
                            [] => "any relation in scope".to_string(),
                            [one] => one.clone(),
                            many => format!("any of {}", many.join(", ")),
                        }
                    ),
                )
                .with_help(format!(
                    "{}check the spelling against catalog.yml (`cio-sql lineage` shows where each column comes from); if the column was added to the warehouse since, add it to catalog.yml or compile with --live",
                    match closest.as_slice() {
                        [] => String::new(),
                        names => format!(
                            "did you mean {}? ",
                            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                        ),
                    }
                )),
                ProblemKind::QuotedOnly { column, relation } => Diagnostic::warning(
                    codes::QUOTED_ONLY_COLUMN,
                    format!(
                        "`{}` is unquoted, so Snowflake reads it as `{}`, but the column of {relation} is `{column}` (created quoted)",
                        p.name,
                        p.name.to_uppercase()
                    ),
                )
                .with_help(format!(
                    "write it quoted, exactly as stored: \"{column}\""
                )),
            }
            .for_model(&model.name);
            locate(d, p.span, model, sql, false, &p.name)
        })
        .collect()
}

/// The name of the column a finding is about (the stored name).
fn column_name(column: Option<&OutputColumn>) -> String {
    column.map(|c| c.name.clone()).unwrap_or_default()
}

/// The byte range of `name` written as a string (`'name'` or `"name"`) in
/// the model's source, e.g. the target of a rename in a macro call.
fn quoted_in_source(source: &str, name: &str) -> Option<std::ops::Range<usize>> {
    if name.is_empty() {
        return None;
    }
    ['\'', '"'].iter().find_map(|q| {
        let at = source.find(&format!("{q}{name}{q}"))?;
        Some(at..at + name.len() + 2)
    })
}

/// The byte range of the name (or, for an unaliased expression, the
/// expression) that starts at 1-based `line` and character column `col` of
/// `source`: a quoted name through its closing quote, a bare name while it
/// is an identifier, an expression to the end of the line without a
/// trailing comma.
fn token_range(
    source: &str,
    line: usize,
    col: usize,
    expression: bool,
) -> Option<std::ops::Range<usize>> {
    let line_start = if line <= 1 {
        0
    } else {
        source.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let text = source[line_start..].lines().next()?;
    let start = text.char_indices().nth(col.checked_sub(1)?)?.0;
    let rest = &text[start..];
    let len = if expression {
        rest.trim_end().trim_end_matches(',').trim_end().len()
    } else if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map_or(rest.len(), |end| end + 2)
    } else {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(rest.len())
    };
    (len > 0).then(|| line_start + start..line_start + start + len)
}

/// Where the compiled line `compiled` (with a 1-based character column
/// `col`) sits in the model's own source: the first source line with the
/// same text, ignoring surrounding spaces, else the first line that renders
/// to it (its text outside `{{ … }}` matches, and is not only Jinja). The
/// column is given when it falls in text the model wrote. `None` when the
/// line comes from a macro.
fn model_position(source: &str, compiled: &str, col: u64) -> Option<(usize, Option<usize>)> {
    let wanted = compiled.trim();
    if wanted.is_empty() {
        return None;
    }
    let indent = |s: &str| s.chars().take_while(|c| c.is_whitespace()).count();
    let col = usize::try_from(col).ok();
    if let Some((index, line)) = source.lines().enumerate().find(|(_, l)| l.trim() == wanted) {
        let model_col = col
            .and_then(|c| (c + indent(line)).checked_sub(indent(compiled)))
            .map(|c| c.max(1));
        return Some((index + 1, model_col));
    }
    source.lines().enumerate().find_map(|(index, line)| {
        let text = line.trim();
        if !text.contains("{{") || text.contains("{%") || text.contains("{#") {
            return None;
        }
        let literals = literal_segments(text)?;
        let written: usize = literals.iter().map(|l| l.trim().len()).sum();
        if written < 4 || !matches_template(wanted, &literals) {
            return None;
        }
        let offset = col
            .and_then(|c| c.checked_sub(indent(compiled) + 1))
            .filter(|&k| k < literals[0].chars().count());
        Some((index + 1, offset.map(|k| k + indent(line) + 1)))
    })
}

/// The text of a line between its `{{ … }}` expressions: n + 1 pieces for
/// n expressions. `None` for an unclosed `{{`.
fn literal_segments(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push(&rest[..start]);
        let end = rest[start..].find("}}")?;
        rest = &rest[start + end + 2..];
    }
    out.push(rest);
    Some(out)
}

/// Does `line` start with the first literal, end with the last, and hold
/// the others in order between them?
fn matches_template(line: &str, literals: &[&str]) -> bool {
    let (Some(first), Some(last)) = (literals.first(), literals.last()) else {
        return false;
    };
    if literals.len() < 2 || !line.starts_with(first) {
        return false;
    }
    let mut pos = first.len();
    for middle in &literals[1..literals.len() - 1] {
        match line[pos..].find(middle) {
            Some(i) => pos += i + middle.len(),
            None => return false,
        }
    }
    line.len() >= pos + last.len() && line.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_position_follows_indentation() {
        let source = "select\n  a as \"x\",\n  b\nfrom t";
        assert_eq!(
            model_position(source, "    a as \"x\",", 10),
            Some((2, Some(8)))
        );
        assert_eq!(model_position(source, "c as \"y\"", 1), None);
        assert_eq!(model_position(source, "   ", 1), None);
    }

    #[test]
    fn token_ranges_cover_one_name_or_expression() {
        let source = "select\n  a AS userId, \"my col\" x,\n  LOWER(b),\n";
        let range = |line, col, expr| token_range(source, line, col, expr).map(|r| &source[r]);
        assert_eq!(range(2, 8, false), Some("userId"));
        assert_eq!(range(2, 16, false), Some("\"my col\""));
        assert_eq!(range(3, 3, true), Some("LOWER(b)"));
        assert_eq!(range(2, 99, false), None);
        assert_eq!(range(9, 1, false), None);
    }

    #[test]
    fn model_position_sees_through_jinja_expressions() {
        let source = "{{ config(x=1) }}\nselect *, {{ var('a') }} AS \"b\"\nfrom {{ ref('m') }}\n{{ nexus.m() }}";
        // The column sits in the text the model wrote.
        assert_eq!(
            model_position(source, "select *, 1 AS \"b\"", 8),
            Some((2, Some(8)))
        );
        // It sits in what an expression rendered: the line only.
        assert_eq!(
            model_position(source, "select *, 1 AS \"b\"", 12),
            Some((2, None))
        );
        assert_eq!(model_position(source, "from DB.S.m", 6), Some((3, None)));
        // A line that is only Jinja matches nothing.
        assert_eq!(model_position(source, "user_id AS \"userId\",", 1), None);
        assert!(matches_template("abc", &["a", "c"]));
        assert!(!matches_template("ac", &["ab", "bc"]));
        assert_eq!(literal_segments("a {{ b"), None);
    }
}
