//! Every compiled model must parse as one Snowflake query.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use sqlparser::ast::Statement;
use sqlparser::dialect::SnowflakeDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Tokenizer;

/// How deep the parser may recurse. sqlparser counts a level for every
/// nested subquery, expression and parenthesis (a subquery takes about
/// three), so this allows about 330 nested subqueries or 1,000 nested
/// parentheses; its default, 50, refuses 17 nested subqueries, which
/// generated SQL reaches. sqlparser grows its stack on the heap as it
/// recurses (its `recursive-protection` feature; see `parse_snowflake`
/// for the margin it keeps) and the analysis stops at
/// `columns::MAX_DEPTH`, so no SQL up to this depth overflows the
/// 2 MiB stack of a compile thread, in debug builds too (a test parses
/// twice this depth on such a thread).
pub const PARSER_RECURSION_LIMIT: usize = 1000;

/// Why a model's compiled SQL gives no query to analyse.
// Returned on the cold path only, as `Result<_, Diagnostic>` is (see lib.rs).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Unparsed {
    /// It is not one valid query (CIO150–CIO152): the diagnostic.
    Invalid(Diagnostic),
    /// It nests deeper than [`PARSER_RECURSION_LIMIT`]: a limit of the
    /// parser, not an error in the model.
    TooDeep,
}

/// Parses `sql` (the compiled SQL of the model at `model_path`, whose source
/// is `model_source`) and returns the query, or a diagnostic that shows the
/// parser's message and the offending compiled line.
pub fn parse_model_sql(
    sql: &str,
    model_name: &str,
    model_path: &str,
    model_source: &str,
) -> Result<Statement, Unparsed> {
    if sql.trim().is_empty() {
        return Err(Unparsed::Invalid(
            Diagnostic::error(codes::NO_SQL, "the model renders to no SQL")
                .for_model(model_name)
                .at_file(model_path)
                .with_help("a model is one SELECT statement; write it, or delete the empty file"),
        ));
    }
    let statements = match parse_snowflake(sql) {
        Ok(statements) => statements,
        Err(ParserError::RecursionLimitExceeded) => return Err(Unparsed::TooDeep),
        Err(e) => {
            return Err(Unparsed::Invalid(parse_error(
                &e,
                sql,
                model_name,
                model_path,
                model_source,
            )));
        }
    };
    one_query(statements, model_name, model_path).map_err(Unparsed::Invalid)
}

/// The CIO150 diagnostic for parser error `e`, at the model line that
/// produced the offending compiled line when there is one.
fn parse_error(
    e: &ParserError,
    sql: &str,
    model_name: &str,
    model_path: &str,
    model_source: &str,
) -> Diagnostic {
    let text = e.to_string();
    let message = text.trim_start_matches("sql parser error: ").to_string();
    let (line, column) = parser_position(&message);
    let message = match message.find(" at Line: ") {
        Some(idx) => message[..idx].to_string(),
        None => message,
    };
    let mut d = Diagnostic::error(codes::SQL_PARSE, format!("the compiled SQL does not parse: {message}"))
        .for_model(model_name)
        .with_help("fix the SQL in the model (or the macro arguments that produced it); `cio-sql compile --select MODEL --show` prints the compiled SQL");
    let compiled_line = line.and_then(|l| sql.lines().nth(l.saturating_sub(1)));
    match compiled_line {
        Some(text) => {
            let model_line = find_line(model_source, text);
            match model_line {
                Some(ml) if !text.trim().is_empty() => {
                    let offset = model_source
                        .lines()
                        .nth(ml - 1)
                        .map_or(0, |l| l.find(text.trim()).unwrap_or(0));
                    let col = column
                        .map(|c| c + offset.saturating_sub(text.len() - text.trim_start().len()));
                    d = d.at_line(model_path, model_source, ml, col);
                }
                _ => {
                    d = d.at_line(
                        format!("{model_path} (compiled)"),
                        sql,
                        line.unwrap_or(1),
                        column,
                    );
                    d = d.with_note(format!(
                        "the line comes from a macro or Jinja expression of {model_path}"
                    ));
                }
            }
        }
        None => d = d.at_file(model_path),
    }
    d
}

/// The one query in `statements`, or CIO151/CIO152.
fn one_query(
    statements: Vec<Statement>,
    model_name: &str,
    model_path: &str,
) -> Result<Statement, Diagnostic> {
    let mut iter = statements.into_iter();
    match (iter.next(), iter.next()) {
        (Some(stmt @ Statement::Query(_)), None) => Ok(stmt),
        (Some(_), Some(_)) => Err(Diagnostic::error(codes::NOT_ONE_SELECT, "the model holds more than one SQL statement")
            .for_model(model_name)
            .at_file(model_path)
            .with_help("a model is one SELECT; move other statements into their own models, and drop semicolons between them")),
        (Some(other), None) => {
            let kind = other.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            Err(Diagnostic::error(codes::NOT_ONE_SELECT, format!("the model is a `{kind} …` statement, not a SELECT"))
                .for_model(model_name)
                .at_file(model_path)
                .with_help("a model is one SELECT (or WITH … SELECT); cio-sql writes the CREATE statement itself"))
        }
        (None, _) => Err(Diagnostic::error(codes::NO_SQL, "the model renders to no SQL statement")
            .for_model(model_name)
            .at_file(model_path)
            .with_help("a model is one SELECT statement")),
    }
}

/// sqlparser reports positions as "... at Line: X, Column: Y".
fn parser_position(message: &str) -> (Option<usize>, Option<usize>) {
    let Some(idx) = message.find("Line: ") else {
        return (None, None);
    };
    let rest = &message[idx + 6..];
    let line: Option<usize> = rest.split(',').next().and_then(|s| s.trim().parse().ok());
    let column = rest
        .find("Column: ")
        .and_then(|c| rest[c + 8..].split(|ch: char| !ch.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok());
    (line, column)
}

/// The 1-based line of `source` whose trimmed text equals `line`'s.
fn find_line(source: &str, line: &str) -> Option<usize> {
    let wanted = line.trim();
    if wanted.is_empty() {
        return None;
    }
    source
        .lines()
        .position(|l| l.trim() == wanted)
        .map(|i| i + 1)
}

/// Sets how early sqlparser moves to a new stack segment: when less than
/// 512 KiB is left at one of its recursion points. Between two of them a
/// debug build needs up to about 256 KiB, more than the `recursive`
/// crate's default margin of 128 KiB (330 nested subqueries overflowed
/// the stack with it).
fn grow_stack_early() {
    static STACK: std::sync::Once = std::sync::Once::new();
    STACK.call_once(|| {
        recursive::set_minimum_stack_size(512 * 1024);
        recursive::set_stack_allocation_size(4 << 20);
    });
}

/// Parses `sql` with sqlparser's Snowflake dialect: `Parser::parse_sql`,
/// with the token buffer sized up front (about one token per two bytes of
/// SQL, whitespace included) instead of regrown, and copied, a dozen times
/// for every model.
pub(crate) fn parse_snowflake(sql: &str) -> Result<Vec<Statement>, ParserError> {
    grow_stack_early();
    let dialect = SnowflakeDialect {};
    let mut tokens = Vec::with_capacity(sql.len() / 2 + 16);
    Tokenizer::new(&dialect, sql).tokenize_with_location_into_buf(&mut tokens)?;
    Parser::new(&dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_one_query() {
        assert!(parse_model_sql("select 1 as a\nqualify true", "m", "m.sql", "").is_ok());
    }

    #[test]
    fn points_at_the_model_line() {
        let src = "select a,\n  b c d\nfrom t";
        let Err(Unparsed::Invalid(err)) = parse_model_sql(src, "m", "models/m.sql", src) else {
            panic!("a syntax error is invalid SQL");
        };
        assert_eq!(err.code, "CIO150");
        assert_eq!(err.line, Some(2));
        assert_eq!(
            err.file.as_deref(),
            Some(std::path::Path::new("models/m.sql"))
        );
    }

    fn invalid(sql: &str) -> &'static str {
        match parse_model_sql(sql, "m", "m.sql", "") {
            Err(Unparsed::Invalid(d)) => d.code.id(),
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn rejects_non_queries_and_empty_models() {
        assert_eq!(invalid("  \n"), "CIO151");
        assert_eq!(invalid("delete from t"), "CIO152");
        assert_eq!(invalid("select 1; select 2"), "CIO152");
    }

    /// `levels` subqueries, each selecting from the next.
    fn nested_subqueries(levels: usize) -> String {
        let mut sql = String::new();
        for _ in 0..levels {
            sql.push_str("select a from (\n");
        }
        sql.push_str("select 1 as a");
        for i in 0..levels {
            sql.push_str(&format!("\n) as t{i}"));
        }
        sql
    }

    #[test]
    fn deep_nesting_is_a_parser_limit_not_an_error() {
        // sqlparser's default limit (50) refused these.
        assert!(parse_model_sql(&nested_subqueries(25), "m", "m.sql", "").is_ok());
        assert!(parse_model_sql(&nested_subqueries(300), "m", "m.sql", "").is_ok());
        assert!(matches!(
            parse_model_sql(&nested_subqueries(500), "m", "m.sql", ""),
            Err(Unparsed::TooDeep)
        ));
        let parens = format!("select {}1{} as a", "(".repeat(2000), ")".repeat(2000));
        assert!(matches!(
            parse_model_sql(&parens, "m", "m.sql", ""),
            Err(Unparsed::TooDeep)
        ));
    }

    /// Runs `f` below `frames` stack frames of about 4 KiB each.
    fn below_frames(frames: usize, f: &dyn Fn()) {
        let pad = std::hint::black_box([0u8; 4096]);
        if frames == 0 {
            f();
        } else {
            below_frames(frames - 1, f);
        }
        std::hint::black_box(pad);
    }

    #[test]
    fn the_limit_fits_a_compile_thread_stack() {
        // Twice the limit's depth, parsed and dropped on a 2 MiB stack (the
        // size of a rayon worker's), from different depths of the stack:
        // sqlparser grows its stack as it goes.
        grow_stack_early();
        for frames in [0, 3, 17, 40, 61, 90] {
            std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || {
                    below_frames(frames, &|| {
                        let sql = nested_subqueries(2 * PARSER_RECURSION_LIMIT / 3);
                        let dialect = SnowflakeDialect {};
                        let parsed = Parser::new(&dialect)
                            .with_recursion_limit(usize::MAX)
                            .try_with_sql(&sql)
                            .and_then(|mut p| p.parse_statements());
                        assert!(parsed.is_ok());
                        drop(parsed);
                        let parens = format!("select {}1{} as a", "(".repeat(990), ")".repeat(990));
                        assert!(parse_snowflake(&parens).is_ok());
                    })
                })
                .unwrap()
                .join()
                .expect("no stack overflow");
        }
    }
}
