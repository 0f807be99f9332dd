//! Output columns of a Snowflake `SELECT`, with column-level lineage.
//!
//! [`output_columns`] parses one query with sqlparser's Snowflake dialect and
//! works out, for every column the query returns, the name Snowflake will
//! store, its data type where that is certain, the source columns it is
//! computed from, and how ([`Transform`]).
//!
//! Relations named in `FROM` are looked up in this order: CTEs visible at that
//! point (innermost first), then the caller's [`RelationColumns`] resolver.
//!
//! # Name matching
//! An unquoted identifier matches a column or relation name
//! case-insensitively (Snowflake upper-cases it); a quoted identifier matches
//! exactly.
//!
//! # Resolving unqualified column references
//! In order: a relation in `FROM` whose columns are known and contain the name
//! (more than one such relation makes the reference Unknown, unless the name is
//! a `USING`/`NATURAL` join column, which resolves to the leftmost); an earlier
//! alias in the same `SELECT` list (Snowflake's lateral column aliases); the one
//! relation in `FROM` whose columns are not known (lineage then goes to that
//! relation by name); enclosing queries (correlated subqueries). Anything else
//! is [`Transform::Unknown`].
//!
//! # `*` over relations whose columns are unknown
//! A `*` (or `alias.*`) over a relation whose columns cannot be resolved does
//! not fail where it is written: inside a CTE or subquery the relation simply
//! stays "not expanded", and explicit references to its columns from outer
//! queries still get lineage by name. Only when the final output list itself
//! would need that expansion does [`output_columns`] fail with
//! [`AnalysisError::UnresolvedStar`], because the columns the query returns
//! (and so every contract check on them) would otherwise be a guess.

use std::cell::Cell;

use serde::Serialize;
use sqlparser::ast::Statement;
use sqlparser::parser::ParserError;

mod derived;
mod expr;
mod facts;
mod query;
mod scope;
mod simple;
mod star;
mod types;

use query::QueryWalker;
use scope::CteEnv;

/// Deepest nesting of expressions and subqueries analysed; deeper parts are
/// [`Transform::Unknown`]. Far beyond hand-written SQL, and small enough for
/// a 2 MiB thread stack in debug builds.
pub(crate) const MAX_DEPTH: usize = 160;

/// A column of a relation known to the caller (a table or view in the
/// warehouse, or a model whose columns were worked out earlier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    /// The column name exactly as Snowflake stores it (for a column created
    /// without quotes, upper case).
    pub name: String,
    /// The Snowflake data type, e.g. `VARCHAR` or `TIMESTAMP_NTZ(9)`, if known.
    pub data_type: Option<String>,
}

impl ColumnInfo {
    /// A column with the given stored name and optional data type.
    pub fn new(name: impl Into<String>, data_type: Option<&str>) -> Self {
        ColumnInfo {
            name: name.into(),
            data_type: data_type.map(str::to_string),
        }
    }
}

/// Looks up the columns of relations named in SQL.
pub trait RelationColumns {
    /// Columns of a relation by its (possibly partial) name as written in the
    /// SQL, one element per dotted part with quotes removed, e.g.
    /// `["ANALYTICS", "NEXUS", "nexus_entities"]` or `["nexus_entities"]`.
    /// Returns `None` if the relation is unknown.
    fn columns(&self, name: &[String]) -> Option<Vec<ColumnInfo>>;
}

impl<F> RelationColumns for F
where
    F: Fn(&[String]) -> Option<Vec<ColumnInfo>>,
{
    fn columns(&self, name: &[String]) -> Option<Vec<ColumnInfo>> {
        self(name)
    }
}

/// A resolver that knows no relation: every `*` over a table fails and
/// explicit column references get lineage by name only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRelations;

impl RelationColumns for NoRelations {
    fn columns(&self, _name: &[String]) -> Option<Vec<ColumnInfo>> {
        None
    }
}

/// A column of a base relation that an output column is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SourceColumn {
    /// The relation as written in the SQL, dotted, quotes removed, e.g.
    /// `ANALYTICS.NEXUS.nexus_entities`.
    pub relation: String,
    /// The column: the resolver's name when the relation's columns are known,
    /// else the name as Snowflake would store it (unquoted upper-cased).
    pub column: String,
}

/// How an output column is derived from its [`OutputColumn::lineage`].
///
/// Through CTEs and subqueries the transforms compose: `p."userId"` where the
/// CTE `p` has `user_id AS "userId"` is [`Transform::Renamed`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transform {
    /// A bare column reference keeping the source column's name.
    Copied,
    /// A bare column reference under a different name.
    Renamed,
    /// One source column passed through scalar functions or casts whose other
    /// arguments are constants, e.g. `TO_TIMESTAMP_NTZ(col)`, `col::varchar`,
    /// `COALESCE(col, '')`, `LOWER(TRIM(col))`. `function` is the outermost
    /// one (`CAST` for casts and `::`, `GET_PATH` for `col:path`).
    Wrapped {
        /// Upper-cased name of the outermost function.
        function: String,
    },
    /// Any other expression over columns: operators, `CASE`, functions over
    /// several columns such as `OBJECT_CONSTRUCT('k', a, 'k2', b)`, scalar
    /// subqueries.
    Computed,
    /// A window function (`... OVER (...)`), or an expression over one.
    /// Lineage includes the `PARTITION BY` and `ORDER BY` columns.
    Windowed {
        /// Upper-cased name of the window function.
        function: String,
    },
    /// An aggregate (`COUNT`, `MAX`, `ARRAY_AGG`, ...) without `OVER`, or an
    /// expression over one.
    Aggregated {
        /// Upper-cased name of the aggregate function.
        function: String,
    },
    /// No source column: literals, and functions of literals only
    /// (`CURRENT_TIMESTAMP()`).
    Constant,
    /// The analysis could not tell; `reason` says why.
    Unknown {
        /// Human-readable explanation.
        reason: String,
    },
}

/// Where an output column's name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// An explicit alias: `expr AS name`.
    Alias,
    /// The name of a bare column reference: `t.col`.
    Column,
    /// A column produced by expanding `*` or `alias.*`.
    Star,
    /// An unaliased expression: Snowflake derives the name from the
    /// expression text. [`OutputColumn::name`] is then only an approximation
    /// (the expression as sqlparser prints it, upper-cased).
    Generated,
}

/// One column returned by the analysed query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputColumn {
    /// The name as Snowflake will store it: unquoted identifiers upper-cased,
    /// quoted ones verbatim.
    pub name: String,
    /// The name was written with double quotes in the SQL. For a column
    /// expanded from `*`, the flag is carried from where the column was named
    /// (a CTE or subquery), or for a resolver column, true when its stored
    /// name could only have been created quoted (it is not an upper-case
    /// identifier).
    pub quoted: bool,
    /// Where the name comes from.
    pub naming: Naming,
    /// The Snowflake data type where it is certain, else `None`.
    pub data_type: Option<String>,
    /// Base-relation columns the value is computed from (every column the
    /// expression references, in order of first appearance, deduplicated).
    pub lineage: Vec<SourceColumn>,
    /// How the value is derived from `lineage`.
    pub transform: Transform,
    /// 1-based `(line, column)` of the alias if there is one, else of the
    /// expression (or of the `*` for columns expanded from a base relation).
    pub span: Option<(u64, u64)>,
}

/// A column reference in a query's select list that Snowflake will reject,
/// though the query parses: found while working out the output columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnProblem {
    /// The identifier as written (quotes removed).
    pub name: String,
    /// 1-based `(line, column)` of the identifier in the compiled SQL.
    pub span: Option<(u64, u64)>,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with a [`ColumnProblem`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProblemKind {
    /// No relation in scope has the column, and the columns of every
    /// relation in scope are known.
    NotFound {
        /// The relations in scope, as written (aliases where given).
        relations: Vec<String>,
        /// Their columns closest to the name, best first.
        closest: Vec<String>,
    },
    /// The identifier is unquoted, so Snowflake upper-cases it, but the
    /// only column it matches ignoring case was created quoted with
    /// lower-case letters (`"FavoriteColor"`).
    QuotedOnly {
        /// The column's stored name.
        column: String,
        /// Its relation, as written.
        relation: String,
    },
}

/// Why a query could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// sqlparser rejected the SQL.
    #[error("SQL parse error: {message}")]
    Parse {
        /// sqlparser's message, verbatim.
        message: String,
        /// 1-based line, when sqlparser reported one.
        line: Option<u64>,
        /// 1-based column, when sqlparser reported one.
        column: Option<u64>,
    },
    /// The SQL nests subqueries, expressions or parentheses deeper than
    /// the parser goes ([`super::validate::PARSER_RECURSION_LIMIT`]): a
    /// limit of the parser, not a syntax error.
    #[error(
        "the SQL nests deeper than the SQL parser goes (a limit of {limit} levels of subqueries, expressions and parentheses), so it was not parsed or checked"
    )]
    TooDeep {
        /// The parser's recursion limit.
        limit: usize,
    },
    /// The SQL held no statement or more than one.
    #[error("expected exactly one SQL statement, found {found}")]
    StatementCount {
        /// Number of statements parsed.
        found: usize,
    },
    /// The statement is not a query.
    #[error("expected a SELECT query, found a {found} statement")]
    NotAQuery {
        /// The statement's leading keywords, e.g. `INSERT`.
        found: String,
    },
    /// The query's output includes a `*` over a relation whose columns are
    /// not known (the resolver returned `None`, or the relation is a table
    /// function or a construct this module does not analyse).
    #[error("cannot expand `*`: the columns of {relation} are not known")]
    UnresolvedStar {
        /// The relation as written, or its alias.
        relation: String,
    },
    /// The two sides of a `UNION`/`EXCEPT`/`INTERSECT` return different
    /// numbers of columns.
    #[error("set operation branches return {left} and {right} columns")]
    ColumnCountMismatch {
        /// Columns of the left branch.
        left: usize,
        /// Columns of the right branch.
        right: usize,
    },
    /// A construct whose output columns cannot be worked out.
    #[error("unsupported SQL: {construct}")]
    Unsupported {
        /// What was found.
        construct: String,
    },
}

impl AnalysisError {
    fn from_parser(err: ParserError) -> Self {
        let message = match err {
            ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
            ParserError::RecursionLimitExceeded => {
                return AnalysisError::TooDeep {
                    limit: super::validate::PARSER_RECURSION_LIMIT,
                };
            }
        };
        let (line, column) = parse_location(&message);
        AnalysisError::Parse {
            message,
            line,
            column,
        }
    }
}

/// Extracts `X` and `Y` from the last "at Line: X, Column: Y" in a sqlparser
/// message.
fn parse_location(message: &str) -> (Option<u64>, Option<u64>) {
    let Some(idx) = message.rfind("Line: ") else {
        return (None, None);
    };
    let rest = &message[idx + "Line: ".len()..];
    let line_digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let line = line_digits.parse().ok();
    let column = rest.find("Column: ").and_then(|c| {
        let digits: String = rest[c + "Column: ".len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    });
    match (line, column) {
        (Some(l), Some(c)) => (Some(l), Some(c)),
        _ => (None, None),
    }
}

/// Output columns of one Snowflake query, with lineage.
///
/// `sql` must hold exactly one statement (a trailing `;` is fine), a query:
/// `SELECT`, `WITH ... SELECT`, set operations or `VALUES`.
///
/// # Errors
/// See [`AnalysisError`]; notably [`AnalysisError::UnresolvedStar`] when the
/// output needs a `*` over a relation the resolver does not know.
pub fn output_columns(
    sql: &str,
    resolver: &dyn RelationColumns,
) -> Result<Vec<OutputColumn>, AnalysisError> {
    let statements = super::validate::parse_snowflake(sql).map_err(AnalysisError::from_parser)?;
    if statements.len() != 1 {
        return Err(AnalysisError::StatementCount {
            found: statements.len(),
        });
    }
    statement_output_columns(&statements[0], resolver)
}

/// Output columns of one statement already parsed with sqlparser's
/// Snowflake dialect, as [`output_columns`] works them out from SQL text.
/// Lets a caller that has parsed the SQL (to validate it) analyse it without
/// parsing it again.
///
/// # Errors
/// [`AnalysisError::NotAQuery`] when the statement is not a query, and the
/// analysis errors of [`output_columns`].
pub fn statement_output_columns(
    statement: &Statement,
    resolver: &dyn RelationColumns,
) -> Result<Vec<OutputColumn>, AnalysisError> {
    statement_analysis(statement, resolver).map(|(cols, _)| cols)
}

/// [`statement_output_columns`], with the column references of the select
/// lists that Snowflake will reject ([`ColumnProblem`]).
///
/// # Errors
/// As [`statement_output_columns`].
pub fn statement_analysis(
    statement: &Statement,
    resolver: &dyn RelationColumns,
) -> Result<(Vec<OutputColumn>, Vec<ColumnProblem>), AnalysisError> {
    let query = match statement {
        Statement::Query(q) => q,
        other => {
            return Err(AnalysisError::NotAQuery {
                found: statement_keyword(other),
            });
        }
    };
    let walker = QueryWalker {
        resolver,
        depth: Cell::new(0),
        problems: Default::default(),
    };
    let derived = walker.query(query, &CteEnv::default(), None)?;
    if let Some(first) = derived.unexpanded.first() {
        return Err(AnalysisError::UnresolvedStar {
            relation: first.relation.clone(),
        });
    }
    // The result is kept for every model of a project (the manifest, the
    // lineage of later models): no spare capacity.
    let mut cols = derived.cols;
    for c in &mut cols {
        c.lineage.shrink_to_fit();
    }
    cols.shrink_to_fit();
    Ok((cols, walker.problems.into_inner()))
}

/// The first words of a statement's SQL text, for error messages.
fn statement_keyword(statement: &Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
        .take(2)
        .collect();
    if words.is_empty() {
        "non-query".to_string()
    } else {
        words.join(" ").to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_location_reads_sqlparser_suffix() {
        assert_eq!(
            parse_location("Expected: an expression, found: EOF at Line: 3, Column: 17"),
            (Some(3), Some(17))
        );
        assert_eq!(parse_location("recursion limit exceeded"), (None, None));
        assert_eq!(parse_location("at Line: x, Column: 2"), (None, None));
    }

    #[test]
    fn column_problems_are_found_in_select_lists() {
        let resolver = |name: &[String]| -> Option<Vec<ColumnInfo>> {
            (name.last()?.eq_ignore_ascii_case("t")).then(|| {
                vec![
                    ColumnInfo::new("ACCOUNT_NUMBER", None),
                    ColumnInfo::new("FavoriteColor", None),
                ]
            })
        };
        let problems = |sql: &str| {
            let stmts = super::super::validate::parse_snowflake(sql).unwrap();
            statement_analysis(&stmts[0], &resolver).unwrap().1
        };
        let found = problems(
            "with c as (select acount_number, t.nope from t) select c.acount_number, FavoriteColor, \"FavoriteColor\" as f from c, t",
        );
        let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["acount_number", "nope", "FavoriteColor"]);
        assert_eq!(
            found[0].kind,
            ProblemKind::NotFound {
                relations: vec!["t".into()],
                closest: vec!["ACCOUNT_NUMBER".into()],
            }
        );
        assert_eq!(found[0].span, Some((1, 19)));
        // A relation whose columns are unknown, an alias of the same list:
        // nothing to report.
        assert!(problems("select x, 1 as y, y + 1 as z from unknown_rel").is_empty());
    }

    #[test]
    fn statement_keyword_names_the_statement() {
        let stmts = super::super::validate::parse_snowflake("INSERT INTO t VALUES (1)").unwrap();
        assert_eq!(statement_keyword(&stmts[0]), "INSERT INTO");
    }
}
