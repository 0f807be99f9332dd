//! Every compiled model must parse as one Snowflake query.

use crate::diagnostics::Diagnostic;
use sqlparser::ast::Statement;
use sqlparser::dialect::SnowflakeDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Tokenizer;

/// Parses `sql` (the compiled SQL of the model at `model_path`, whose source
/// is `model_source`) and returns the query, or a diagnostic that shows the
/// parser's message and the offending compiled line.
pub fn parse_model_sql(
    sql: &str,
    model_name: &str,
    model_path: &str,
    model_source: &str,
) -> Result<Statement, Diagnostic> {
    if sql.trim().is_empty() {
        return Err(Diagnostic::error("CIO151", "the model renders to no SQL")
            .for_model(model_name)
            .at_file(model_path)
            .with_help("a model is one SELECT statement; write it, or delete the empty file"));
    }
    let statements = parse_snowflake(sql).map_err(|e| {
        let text = e.to_string();
        let message = text.trim_start_matches("sql parser error: ").to_string();
        let (line, column) = parser_position(&message);
        let message = match message.find(" at Line: ") {
            Some(idx) => message[..idx].to_string(),
            None => message,
        };
        let mut d = Diagnostic::error("CIO150", format!("the compiled SQL does not parse: {message}"))
            .for_model(model_name)
            .with_help("fix the SQL in the model (or the macro arguments that produced it); `cio-sql compile --select MODEL --show` prints the compiled SQL");
        let compiled_line = line.and_then(|l| sql.lines().nth(l.saturating_sub(1)));
        match compiled_line {
            Some(text) => {
                let model_line = find_line(model_source, text);
                match model_line {
                    Some(ml) if !text.trim().is_empty() => {
                        let offset = model_source.lines().nth(ml - 1).map_or(0, |l| {
                            l.find(text.trim()).unwrap_or(0)
                        });
                        let col = column.map(|c| c + offset.saturating_sub(text.len() - text.trim_start().len()));
                        d = d.at_line(model_path, model_source, ml, col);
                    }
                    _ => {
                        d = d.at_line(
                            format!("{model_path} (compiled)"),
                            sql,
                            line.unwrap_or(1),
                            column,
                        );
                        d = d.with_note(format!("the line comes from a macro or Jinja expression of {model_path}"));
                    }
                }
            }
            None => d = d.at_file(model_path),
        }
        d
    })?;
    let mut iter = statements.into_iter();
    match (iter.next(), iter.next()) {
        (Some(stmt @ Statement::Query(_)), None) => Ok(stmt),
        (Some(_), Some(_)) => Err(Diagnostic::error("CIO152", "the model holds more than one SQL statement")
            .for_model(model_name)
            .at_file(model_path)
            .with_help("a model is one SELECT; move other statements into their own models, and drop semicolons between them")),
        (Some(other), None) => {
            let kind = other.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            Err(Diagnostic::error("CIO152", format!("the model is a `{kind} …` statement, not a SELECT"))
                .for_model(model_name)
                .at_file(model_path)
                .with_help("a model is one SELECT (or WITH … SELECT); cio-sql writes the CREATE statement itself"))
        }
        (None, _) => Err(Diagnostic::error("CIO151", "the model renders to no SQL statement")
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

/// Parses `sql` with sqlparser's Snowflake dialect: `Parser::parse_sql`,
/// with the token buffer sized up front (about one token per two bytes of
/// SQL, whitespace included) instead of regrown, and copied, a dozen times
/// for every model.
pub(crate) fn parse_snowflake(sql: &str) -> Result<Vec<Statement>, ParserError> {
    let dialect = SnowflakeDialect {};
    let mut tokens = Vec::with_capacity(sql.len() / 2 + 16);
    Tokenizer::new(&dialect, sql).tokenize_with_location_into_buf(&mut tokens)?;
    Parser::new(&dialect)
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
        let err = parse_model_sql(src, "m", "models/m.sql", src).unwrap_err();
        assert_eq!(err.code, "CIO150");
        assert_eq!(err.line, Some(2));
        assert_eq!(
            err.file.as_deref(),
            Some(std::path::Path::new("models/m.sql"))
        );
    }

    #[test]
    fn rejects_non_queries_and_empty_models() {
        assert_eq!(
            parse_model_sql("  \n", "m", "m.sql", "").unwrap_err().code,
            "CIO151"
        );
        assert_eq!(
            parse_model_sql("delete from t", "m", "m.sql", "")
                .unwrap_err()
                .code,
            "CIO152"
        );
        assert_eq!(
            parse_model_sql("select 1; select 2", "m", "m.sql", "")
                .unwrap_err()
                .code,
            "CIO152"
        );
    }
}
