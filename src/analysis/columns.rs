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
use std::collections::HashMap;
use std::rc::Rc;

use serde::Serialize;
use sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, Query, Select,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, Statement, TableAlias,
    TableFactor, TableWithJoins, WildcardAdditionalOptions,
};
use sqlparser::parser::ParserError;
use sqlparser::tokenizer::Location;

use super::lineage::{Cx, combine_union, finish, rename_transform, start_location, type_name};

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
    let query = match statement {
        Statement::Query(q) => q,
        other => {
            return Err(AnalysisError::NotAQuery {
                found: statement_keyword(other),
            });
        }
    };
    let analyzer = Analyzer {
        resolver,
        depth: Cell::new(0),
    };
    let derived = analyzer.query(query, &CteEnv::default(), None)?;
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
    Ok(cols)
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

// ---------------------------------------------------------------------------
// Identifier helpers

/// The name Snowflake stores for an identifier: verbatim if quoted, else
/// upper-cased.
pub(crate) fn stored(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_uppercase()
    }
}

/// Does the identifier as written refer to the stored name `name`?
/// Case-insensitive for unquoted identifiers, exact for quoted ones.
pub(crate) fn ident_matches(ident: &Ident, name: &str) -> bool {
    if ident.quote_style.is_some() {
        ident.value == name
    } else {
        eq_upper(&ident.value, name)
    }
}

/// `a.to_uppercase() == b.to_uppercase()`, without allocating: name lookups
/// run for every column reference against every column in scope.
pub(crate) fn eq_upper(a: &str, b: &str) -> bool {
    // Equal ignoring ASCII case means equal upper-cased too (any non-ASCII
    // bytes are then identical). Most lookups miss on length alone, and
    // two ASCII names of different lengths never match.
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

pub(crate) fn location(loc: Location) -> Option<(u64, u64)> {
    if loc.line == 0 {
        None
    } else {
        Some((loc.line, loc.column))
    }
}

/// The raw parts of an object name (quotes removed). Parts that are not
/// plain identifiers (`IDENTIFIER(...)`) make the name unusable.
fn name_parts(name: &ObjectName) -> Option<Vec<Ident>> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(i) => Some(i.clone()),
            ObjectNamePart::Function(_) => None,
        })
        .collect()
}

fn written(parts: &[Ident]) -> String {
    parts
        .iter()
        .map(|p| p.value.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

// ---------------------------------------------------------------------------
// Relations and scopes

/// The columns a query (CTE, subquery, or the whole statement) returns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Derived {
    /// Columns in order, excluding those hidden behind `unexpanded`.
    pub cols: Vec<OutputColumn>,
    /// `*` expansions that could not be done; the column list is incomplete
    /// when this is not empty.
    pub unexpanded: Vec<Unexpanded>,
}

/// A `*` over a relation whose columns are unknown.
#[derive(Debug, Clone)]
pub(crate) struct Unexpanded {
    /// The relation to name in [`AnalysisError::UnresolvedStar`].
    pub relation: String,
    /// Where columns hidden behind the `*` can still be looked up by name.
    pub source: RelKind,
}

/// What a relation in `FROM` is.
#[derive(Debug, Clone)]
pub(crate) enum RelKind {
    /// A table or view: `columns` from the resolver, `None` if unknown.
    Base {
        relation: String,
        columns: Option<Rc<BaseColumns>>,
    },
    /// A CTE or subquery.
    Derived(Rc<Derived>),
    /// A relation whose columns this module does not work out.
    Opaque { reason: String },
}

/// The columns of a base relation, indexed by upper-cased name: every
/// column reference of a model is looked up in them.
#[derive(Debug)]
pub(crate) struct BaseColumns {
    list: Vec<ColumnInfo>,
    /// Upper-cased name → positions in `list`.
    by_upper: HashMap<String, Vec<usize>>,
}

impl BaseColumns {
    fn new(list: Vec<ColumnInfo>) -> Self {
        let mut by_upper: HashMap<String, Vec<usize>> = HashMap::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            by_upper.entry(c.name.to_uppercase()).or_default().push(i);
        }
        BaseColumns { list, by_upper }
    }

    /// The columns the identifier as written refers to (see
    /// [`ident_matches`]).
    fn matching(&self, ident: &Ident) -> Vec<&ColumnInfo> {
        let Some(at) = self.by_upper.get(&ident.value.to_uppercase()) else {
            return Vec::new();
        };
        at.iter()
            .map(|&i| &self.list[i])
            .filter(|c| ident.quote_style.is_none() || ident.value == c.name)
            .collect()
    }
}

impl std::ops::Deref for BaseColumns {
    type Target = [ColumnInfo];

    fn deref(&self) -> &[ColumnInfo] {
        &self.list
    }
}

/// A relation visible in a `SELECT`'s scope.
#[derive(Debug, Clone)]
pub(crate) struct ScopeRel {
    /// `AS alias`, which then is the only way to qualify the relation.
    pub alias: Option<Ident>,
    /// The name as written (for base tables and CTE references).
    pub name: Vec<Ident>,
    pub kind: RelKind,
}

impl ScopeRel {
    /// How to name this relation in messages.
    pub fn display(&self) -> String {
        match (&self.alias, &self.name) {
            (Some(a), _) => a.value.clone(),
            (None, n) if !n.is_empty() => written(n),
            _ => match &self.kind {
                RelKind::Base { relation, .. } => relation.clone(),
                _ => "(subquery)".to_string(),
            },
        }
    }

    /// Does the qualifier `q` (as in `q.col`) name this relation?
    pub(crate) fn qualified_by(&self, q: &[Ident]) -> bool {
        if let Some(alias) = &self.alias {
            return q.len() == 1 && ident_matches(&q[0], &stored(alias));
        }
        if q.is_empty() || q.len() > self.name.len() {
            return false;
        }
        let tail = &self.name[self.name.len() - q.len()..];
        q.iter()
            .zip(tail)
            .all(|(a, b)| ident_matches(a, &stored(b)))
    }
}

/// The relations of one `SELECT`'s `FROM`, and the enclosing scopes.
#[derive(Debug)]
pub(crate) struct Scope<'a> {
    pub rels: Vec<ScopeRel>,
    /// Columns named in `USING (...)` (stored form).
    pub using: Vec<String>,
    /// A `NATURAL` join is present.
    pub natural: bool,
    pub parent: Option<&'a Scope<'a>>,
}

impl<'a> Scope<'a> {
    pub fn empty(parent: Option<&'a Scope<'a>>) -> Self {
        Scope {
            rels: Vec::new(),
            using: Vec::new(),
            natural: false,
            parent,
        }
    }
}

/// CTEs visible at some point of a query, innermost last.
#[derive(Debug, Clone, Default)]
pub(crate) struct CteEnv {
    entries: Vec<(Ident, Rc<Derived>)>,
}

impl CteEnv {
    fn find(&self, name: &Ident) -> Option<Rc<Derived>> {
        self.entries
            .iter()
            .rev()
            .find(|(n, _)| ident_matches(name, &stored(n)))
            .map(|(_, d)| d.clone())
    }
}

/// A column found by name in a relation.
#[derive(Debug, Clone)]
pub(crate) struct ColRef {
    pub lineage: Vec<SourceColumn>,
    pub transform: Transform,
    pub data_type: Option<String>,
}

/// The result of looking a column name up in one relation.
#[derive(Debug, Clone)]
pub(crate) enum Lookup {
    /// The relation's columns are known and include the name.
    Found(ColRef),
    /// The relation's columns are not known; lineage goes to it by name.
    ByName(ColRef),
    /// The relation's columns are known and do not include the name.
    Missing,
    /// The lookup cannot be answered.
    Unknown(String),
}

/// Looks `col` up in a relation of kind `kind`.
pub(crate) fn lookup(kind: &RelKind, col: &Ident) -> Lookup {
    match kind {
        RelKind::Base {
            relation,
            columns: Some(cols),
        } => {
            let hits: Vec<&ColumnInfo> = cols.matching(col);
            match hits.as_slice() {
                [] => Lookup::Missing,
                [one] => Lookup::Found(ColRef {
                    lineage: vec![SourceColumn {
                        relation: relation.clone(),
                        column: one.name.clone(),
                    }],
                    transform: Transform::Copied,
                    data_type: one.data_type.clone(),
                }),
                _ => Lookup::Unknown(format!(
                    "{} matches several columns of {relation}",
                    col.value
                )),
            }
        }
        RelKind::Base {
            relation,
            columns: None,
        } => Lookup::ByName(ColRef {
            lineage: vec![SourceColumn {
                relation: relation.clone(),
                column: stored(col),
            }],
            transform: Transform::Copied,
            data_type: None,
        }),
        RelKind::Derived(d) => {
            let hits: Vec<&OutputColumn> = d
                .cols
                .iter()
                .filter(|c| ident_matches(col, &c.name))
                .collect();
            match hits.as_slice() {
                [one] => {
                    return Lookup::Found(ColRef {
                        lineage: one.lineage.clone(),
                        transform: one.transform.clone(),
                        data_type: one.data_type.clone(),
                    });
                }
                [] => {}
                _ => {
                    return Lookup::Unknown(format!(
                        "{} matches several columns of the subquery",
                        col.value
                    ));
                }
            }
            if d.unexpanded.is_empty() {
                return Lookup::Missing;
            }
            let results: Vec<Lookup> = d
                .unexpanded
                .iter()
                .map(|u| lookup(&u.source, col))
                .collect();
            pick_one(&col.value, results)
        }
        RelKind::Opaque { reason } => Lookup::Unknown(reason.clone()),
    }
}

/// Chooses among the lookups of one name in several places: a single
/// `Found` wins, then a single `ByName`.
fn pick_one(name: &str, results: Vec<Lookup>) -> Lookup {
    let found: Vec<&ColRef> = results
        .iter()
        .filter_map(|r| match r {
            Lookup::Found(c) => Some(c),
            _ => None,
        })
        .collect();
    match found.len() {
        1 => return Lookup::Found(found[0].clone()),
        0 => {}
        _ => return Lookup::Unknown(format!("{name} is ambiguous")),
    }
    let by_name: Vec<&ColRef> = results
        .iter()
        .filter_map(|r| match r {
            Lookup::ByName(c) => Some(c),
            _ => None,
        })
        .collect();
    match by_name.len() {
        1 => Lookup::ByName(by_name[0].clone()),
        0 => results
            .into_iter()
            .find(|r| matches!(r, Lookup::Unknown(_)))
            .unwrap_or(Lookup::Missing),
        _ => Lookup::Unknown(format!(
            "{name} could come from several relations whose columns are not known"
        )),
    }
}

// ---------------------------------------------------------------------------
// The analyzer

/// Walks queries; expression analysis lives in [`super::lineage`].
pub(crate) struct Analyzer<'r> {
    pub resolver: &'r dyn RelationColumns,
    /// Current nesting of queries and expressions being analysed, bounded by
    /// [`MAX_DEPTH`] so that no input can overflow the stack.
    pub depth: Cell<usize>,
}

/// Deepest nesting of expressions and subqueries analysed; deeper parts are
/// [`Transform::Unknown`]. Far beyond hand-written SQL, and small enough for
/// a 2 MiB thread stack in debug builds.
pub(crate) const MAX_DEPTH: usize = 160;

impl Analyzer<'_> {
    /// Columns of a query, with `env` the CTEs visible from outside it and
    /// `outer` the scope of an enclosing `SELECT` (for correlated subqueries).
    ///
    /// A level of query nesting takes about 20 KiB of stack in a debug
    /// build, so this moves to a new stack segment when the stack runs low
    /// (as sqlparser does; see [`super::validate::parse_snowflake`]).
    #[recursive::recursive]
    pub fn query(
        &self,
        q: &Query,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Err(AnalysisError::Unsupported {
                construct: format!("queries nested more than {MAX_DEPTH} levels deep"),
            });
        }
        self.depth.set(depth + 1);
        let result = self.query_at_depth(q, env, outer);
        self.depth.set(depth);
        result
    }

    fn query_at_depth(
        &self,
        q: &Query,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        if !q.pipe_operators.is_empty() {
            return Err(AnalysisError::Unsupported {
                construct: "pipe operators (|>)".to_string(),
            });
        }
        let mut env = env.clone();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let derived = if with.recursive {
                    self.recursive_cte(&cte.alias, &cte.query, &env, outer)?
                } else {
                    self.query(&cte.query, &env, outer)?
                };
                let derived = apply_alias_columns(derived, &cte.alias)?;
                env.entries.push((cte.alias.name.clone(), Rc::new(derived)));
            }
        }
        self.set_expr(&q.body, &env, outer)
    }

    /// A `WITH RECURSIVE` CTE: its anchor (the first branch of its set
    /// operation) is analysed first and made visible under the CTE's name
    /// while the whole body is analysed.
    fn recursive_cte(
        &self,
        alias: &TableAlias,
        q: &Query,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        let mut anchor = q.body.as_ref();
        while let SetExpr::SetOperation { left, .. } = anchor {
            anchor = left;
        }
        if std::ptr::eq(anchor, q.body.as_ref()) {
            return self.query(q, env, outer);
        }
        let mut inner_env = env.clone();
        if let Some(with) = &q.with {
            // A recursive CTE's own WITH is unusual; analyse it normally.
            for cte in &with.cte_tables {
                let d = self.query(&cte.query, &inner_env, outer)?;
                let d = apply_alias_columns(d, &cte.alias)?;
                inner_env.entries.push((cte.alias.name.clone(), Rc::new(d)));
            }
        }
        let first = apply_alias_columns(self.set_expr(anchor, &inner_env, outer)?, alias)?;
        inner_env.entries.push((alias.name.clone(), Rc::new(first)));
        self.set_expr(&q.body, &inner_env, outer)
    }

    fn set_expr(
        &self,
        body: &SetExpr,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        match body {
            SetExpr::Select(select) => self.select(select, env, outer),
            SetExpr::Query(q) => self.query(q, env, outer),
            SetExpr::SetOperation { .. } => {
                // `A UNION B UNION C ...` is a left-deep tree of any length:
                // walk its left spine iteratively.
                let mut rights: Vec<(SetOperator, &SetExpr)> = Vec::new();
                let mut leftmost = body;
                while let SetExpr::SetOperation {
                    left, op, right, ..
                } = leftmost
                {
                    rights.push((*op, right));
                    leftmost = left;
                }
                let mut acc = self.set_expr(leftmost, env, outer)?;
                for (op, right) in rights.into_iter().rev() {
                    let r = self.set_expr(right, env, outer)?;
                    acc = combine_set(acc, r, op)?;
                }
                Ok(acc)
            }
            SetExpr::Values(values) => self.values(values, env, outer),
            SetExpr::Table(_) => Err(AnalysisError::Unsupported {
                construct: "TABLE statement as a query".to_string(),
            }),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(AnalysisError::Unsupported {
                    construct: "DML statement inside a query".to_string(),
                })
            }
        }
    }

    /// `VALUES (...), (...)`: Snowflake names the columns `COLUMN1`, ...
    fn values(
        &self,
        values: &sqlparser::ast::Values,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        let scope = Scope::empty(outer);
        let mut result: Option<Vec<OutputColumn>> = None;
        for row in &values.rows {
            let cx = Cx::new(&scope, env, &[]);
            let cols: Vec<OutputColumn> = row
                .content
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let facts = self.expr(e, &cx);
                    let name = format!("COLUMN{}", i + 1);
                    let (transform, lineage, data_type) = finish(facts, &name, false);
                    OutputColumn {
                        name,
                        quoted: false,
                        naming: Naming::Generated,
                        data_type,
                        lineage,
                        transform,
                        span: start_location(e),
                    }
                })
                .collect();
            result = Some(match result {
                None => cols,
                Some(prev) => {
                    combine_set(
                        Derived {
                            cols: prev,
                            unexpanded: vec![],
                        },
                        Derived {
                            cols,
                            unexpanded: vec![],
                        },
                        SetOperator::Union,
                    )?
                    .cols
                }
            });
        }
        Ok(Derived {
            cols: result.unwrap_or_default(),
            unexpanded: vec![],
        })
    }

    fn select(
        &self,
        select: &Select,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        if !select.lateral_views.is_empty() {
            return Err(AnalysisError::Unsupported {
                construct: "LATERAL VIEW".to_string(),
            });
        }
        let scope = self.scope(&select.from, env, outer)?;
        let mut cols: Vec<OutputColumn> = Vec::new();
        let mut unexpanded: Vec<Unexpanded> = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    let cx = Cx::new(&scope, env, &cols);
                    let facts = self.expr(expr, &cx);
                    let (name, quoted, naming) = implicit_name(expr);
                    let (transform, lineage, data_type) = finish(facts, &name, quoted);
                    cols.push(OutputColumn {
                        name,
                        quoted,
                        naming,
                        data_type,
                        lineage,
                        transform,
                        span: start_location(expr),
                    });
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let cx = Cx::new(&scope, env, &cols);
                    let facts = self.expr(expr, &cx);
                    let name = stored(alias);
                    let quoted = alias.quote_style.is_some();
                    let (transform, lineage, data_type) = finish(facts, &name, quoted);
                    cols.push(OutputColumn {
                        name,
                        quoted,
                        naming: Naming::Alias,
                        data_type,
                        lineage,
                        transform,
                        span: location(alias.span.start).or(start_location(expr)),
                    });
                }
                SelectItem::ExprWithAliases { aliases, .. } => {
                    for alias in aliases {
                        cols.push(OutputColumn {
                            name: stored(alias),
                            quoted: alias.quote_style.is_some(),
                            naming: Naming::Alias,
                            data_type: None,
                            lineage: vec![],
                            transform: Transform::Unknown {
                                reason: "an expression with several aliases is not analysed"
                                    .to_string(),
                            },
                            span: location(alias.span.start),
                        });
                    }
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    let star_span = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => name_parts(name)
                            .and_then(|p| p.first().and_then(|i| location(i.span.start))),
                        SelectItemQualifiedWildcardKind::Expr(e) => start_location(e),
                    };
                    match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => {
                            let qualifier = name_parts(name).unwrap_or_default();
                            match scope.rels.iter().find(|r| r.qualified_by(&qualifier)) {
                                Some(rel) => {
                                    let (c, u) = expand(rel, star_span);
                                    let c = apply_star_options(c, opts, &scope, env, self)?;
                                    cols.extend(c);
                                    unexpanded.extend(u);
                                }
                                None => unexpanded.push(Unexpanded {
                                    relation: name.to_string(),
                                    source: RelKind::Opaque {
                                        reason: format!("no relation named {name} in FROM"),
                                    },
                                }),
                            }
                        }
                        SelectItemQualifiedWildcardKind::Expr(expr) => {
                            unexpanded.push(Unexpanded {
                                relation: expr.to_string(),
                                source: RelKind::Opaque {
                                    reason: format!("columns of {expr}.* are not analysed"),
                                },
                            })
                        }
                    }
                }
                SelectItem::Wildcard(opts) => {
                    if scope.natural || !scope.using.is_empty() {
                        return Err(AnalysisError::Unsupported {
                            construct: "`*` over a JOIN with USING or NATURAL (write the columns out or use alias.*)".to_string(),
                        });
                    }
                    let star_span = location(opts.wildcard_token.0.span.start);
                    let mut all = Vec::new();
                    for rel in &scope.rels {
                        let (c, u) = expand(rel, star_span);
                        all.extend(c);
                        unexpanded.extend(u);
                    }
                    cols.extend(apply_star_options(all, opts, &scope, env, self)?);
                }
            }
        }
        if let Some(exclude) = &select.exclude {
            cols = exclude_columns(cols, exclude);
        }
        Ok(Derived { cols, unexpanded })
    }

    /// The relations of a `FROM` clause.
    fn scope<'s>(
        &self,
        from: &[TableWithJoins],
        env: &CteEnv,
        outer: Option<&'s Scope<'s>>,
    ) -> Result<Scope<'s>, AnalysisError> {
        let mut scope = Scope::empty(outer);
        for twj in from {
            self.join_tree(twj, env, &mut scope)?;
        }
        Ok(scope)
    }

    fn join_tree(
        &self,
        twj: &TableWithJoins,
        env: &CteEnv,
        scope: &mut Scope<'_>,
    ) -> Result<(), AnalysisError> {
        self.factor(&twj.relation, env, scope)?;
        for join in &twj.joins {
            self.factor(&join.relation, env, scope)?;
            let constraint = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::Semi(c)
                | JoinOperator::LeftSemi(c)
                | JoinOperator::RightSemi(c)
                | JoinOperator::Anti(c)
                | JoinOperator::LeftAnti(c)
                | JoinOperator::RightAnti(c)
                | JoinOperator::StraightJoin(c) => Some(c),
                JoinOperator::AsOf { constraint, .. } => Some(constraint),
                JoinOperator::CrossApply
                | JoinOperator::OuterApply
                | JoinOperator::ArrayJoin
                | JoinOperator::LeftArrayJoin
                | JoinOperator::InnerArrayJoin => None,
            };
            match constraint {
                Some(JoinConstraint::Using(names)) => {
                    for n in names {
                        if let Some(last) = name_parts(n).and_then(|p| p.last().cloned()) {
                            scope.using.push(stored(&last));
                        }
                    }
                }
                Some(JoinConstraint::Natural) => scope.natural = true,
                _ => {}
            }
        }
        Ok(())
    }

    /// Adds the relation(s) of one `FROM` item to `scope`. Parenthesised
    /// joins nest through here: the stack grows as in [`Analyzer::query`].
    #[recursive::recursive]
    fn factor(
        &self,
        factor: &TableFactor,
        env: &CteEnv,
        scope: &mut Scope<'_>,
    ) -> Result<(), AnalysisError> {
        // Only a table name's position is needed (for `t AS x(a, b)`); the
        // span of a whole subquery would be costly to compute.
        let span = match factor {
            TableFactor::Table { name, .. } => {
                name_parts(name).and_then(|p| p.first().and_then(|i| location(i.span.start)))
            }
            _ => None,
        };
        let rel = match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = name_parts(name);
                if let Some(args) = args {
                    // `TABLE(fn(...))` style or `fn(...)` in FROM.
                    let fname = name.to_string().to_uppercase();
                    let input = args.args.first();
                    let kind = if fname == "FLATTEN" {
                        self.flatten(input, env, scope)
                    } else {
                        RelKind::Opaque {
                            reason: format!("columns of table function {fname} are not known"),
                        }
                    };
                    with_alias(kind, alias, vec![], span)?
                } else if let Some(parts) = parts {
                    // A one-part name may be a CTE; anything else goes to the
                    // resolver.
                    let cte = match parts.as_slice() {
                        [single] => env.find(single),
                        _ => None,
                    };
                    let kind = match cte {
                        Some(derived) => RelKind::Derived(derived),
                        None => {
                            let raw: Vec<String> = parts.iter().map(|p| p.value.clone()).collect();
                            RelKind::Base {
                                relation: written(&parts),
                                columns: self
                                    .resolver
                                    .columns(&raw)
                                    .map(|c| Rc::new(BaseColumns::new(c))),
                            }
                        }
                    };
                    with_alias(kind, alias, parts, span)?
                } else {
                    with_alias(
                        RelKind::Opaque {
                            reason: format!("relation name {name} is computed"),
                        },
                        alias,
                        vec![],
                        span,
                    )?
                }
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                let derived = if *lateral {
                    let lateral_scope = Scope {
                        rels: scope.rels.clone(),
                        using: vec![],
                        natural: false,
                        parent: scope.parent,
                    };
                    self.query(subquery, env, Some(&lateral_scope))?
                } else {
                    self.query(subquery, env, scope.parent)?
                };
                with_alias(RelKind::Derived(Rc::new(derived)), alias, vec![], span)?
            }
            TableFactor::TableFunction { expr, alias } => {
                let kind = match expr {
                    Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("FLATTEN") => {
                        let input = match &f.args {
                            sqlparser::ast::FunctionArguments::List(list) => list.args.first(),
                            _ => None,
                        };
                        self.flatten(input, env, scope)
                    }
                    _ => RelKind::Opaque {
                        reason: format!("columns of table function {expr} are not known"),
                    },
                };
                with_alias(kind, alias, vec![], span)?
            }
            TableFactor::Function {
                name, args, alias, ..
            } => {
                let fname = name.to_string().to_uppercase();
                let kind = if fname == "FLATTEN" {
                    self.flatten(args.first(), env, scope)
                } else {
                    RelKind::Opaque {
                        reason: format!("columns of table function {fname} are not known"),
                    }
                };
                with_alias(kind, alias, vec![], span)?
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                if let Some(alias) = alias {
                    with_alias(
                        RelKind::Opaque {
                            reason: "columns of an aliased parenthesised join are not analysed"
                                .to_string(),
                        },
                        &Some(alias.clone()),
                        vec![],
                        span,
                    )?
                } else {
                    return self.join_tree(table_with_joins, env, scope);
                }
            }
            other => {
                let what = match other {
                    TableFactor::Pivot { .. } => "PIVOT",
                    TableFactor::Unpivot { .. } | TableFactor::UnpivotExpr { .. } => "UNPIVOT",
                    TableFactor::MatchRecognize { .. } => "MATCH_RECOGNIZE",
                    TableFactor::UNNEST { .. } => "UNNEST",
                    TableFactor::SemanticView { .. } => "SEMANTIC_VIEW",
                    _ => "this FROM item",
                };
                let alias = factor_alias(other);
                with_alias(
                    RelKind::Opaque {
                        reason: format!("columns of {what} are not analysed"),
                    },
                    &alias,
                    vec![],
                    span,
                )?
            }
        };
        scope.rels.push(rel);
        Ok(())
    }

    /// `FLATTEN(input => expr)`: Snowflake's fixed output columns, each with
    /// the lineage of `expr`.
    fn flatten(
        &self,
        input: Option<&sqlparser::ast::FunctionArg>,
        env: &CteEnv,
        scope: &Scope<'_>,
    ) -> RelKind {
        use sqlparser::ast::{FunctionArg, FunctionArgExpr};
        let expr = match input {
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
            | Some(FunctionArg::Named {
                arg: FunctionArgExpr::Expr(e),
                ..
            })
            | Some(FunctionArg::ExprNamed {
                arg: FunctionArgExpr::Expr(e),
                ..
            }) => e,
            _ => {
                return RelKind::Opaque {
                    reason: "FLATTEN without an input expression".to_string(),
                };
            }
        };
        let prior = Scope {
            rels: scope.rels.clone(),
            using: vec![],
            natural: false,
            parent: scope.parent,
        };
        let cx = Cx::new(&prior, env, &[]);
        let facts = self.expr(expr, &cx);
        let (inner, lineage, _) = finish(facts, "", false);
        let transform = match inner {
            Transform::Unknown { .. }
            | Transform::Aggregated { .. }
            | Transform::Windowed { .. }
            | Transform::Computed
            | Transform::Constant => inner,
            _ => Transform::Wrapped {
                function: "FLATTEN".to_string(),
            },
        };
        let col = |name: &str, ty: &str| OutputColumn {
            name: name.to_string(),
            quoted: false,
            naming: Naming::Column,
            data_type: Some(ty.to_string()),
            lineage: lineage.clone(),
            transform: transform.clone(),
            span: start_location(expr),
        };
        RelKind::Derived(Rc::new(Derived {
            cols: vec![
                col("SEQ", "NUMBER"),
                col("KEY", "VARCHAR"),
                col("PATH", "VARCHAR"),
                col("INDEX", "NUMBER"),
                col("VALUE", "VARIANT"),
                col("THIS", "VARIANT"),
            ],
            unexpanded: vec![],
        }))
    }
}

fn factor_alias(factor: &TableFactor) -> Option<TableAlias> {
    match factor {
        TableFactor::Table { alias, .. }
        | TableFactor::Derived { alias, .. }
        | TableFactor::TableFunction { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::JsonTable { alias, .. }
        | TableFactor::OpenJsonTable { alias, .. }
        | TableFactor::NestedJoin { alias, .. }
        | TableFactor::Pivot { alias, .. }
        | TableFactor::Unpivot { alias, .. }
        | TableFactor::MatchRecognize { alias, .. }
        | TableFactor::XmlTable { alias, .. }
        | TableFactor::SemanticView { alias, .. } => alias.clone(),
        TableFactor::UnpivotExpr { .. } => None,
    }
}

/// Builds the scope entry for a relation with an optional `AS alias(cols)`.
fn with_alias(
    kind: RelKind,
    alias: &Option<TableAlias>,
    name: Vec<Ident>,
    span: Option<(u64, u64)>,
) -> Result<ScopeRel, AnalysisError> {
    let kind = match alias {
        Some(a) if !a.columns.is_empty() => {
            let derived = match kind {
                RelKind::Derived(d) => (*d).clone(),
                RelKind::Base {
                    relation,
                    columns: Some(cols),
                } => Derived {
                    cols: cols
                        .iter()
                        .map(|c| base_column(&relation, c, span))
                        .collect(),
                    unexpanded: vec![],
                },
                RelKind::Base { relation, .. } => {
                    return Ok(ScopeRel {
                        alias: Some(a.name.clone()),
                        name,
                        kind: RelKind::Opaque {
                            reason: format!(
                                "{relation} has a column alias list but its columns are not known"
                            ),
                        },
                    });
                }
                opaque @ RelKind::Opaque { .. } => {
                    return Ok(ScopeRel {
                        alias: Some(a.name.clone()),
                        name,
                        kind: opaque,
                    });
                }
            };
            RelKind::Derived(Rc::new(apply_alias_columns(derived, a)?))
        }
        _ => kind,
    };
    Ok(ScopeRel {
        alias: alias.as_ref().map(|a| a.name.clone()),
        name,
        kind,
    })
}

/// Renames a derived relation's columns by position: `cte (a, b) AS (...)`.
fn apply_alias_columns(mut derived: Derived, alias: &TableAlias) -> Result<Derived, AnalysisError> {
    if alias.columns.is_empty() {
        return Ok(derived);
    }
    if !derived.unexpanded.is_empty() {
        let relation = derived.unexpanded[0].relation.clone();
        return Ok(Derived {
            cols: vec![],
            unexpanded: vec![Unexpanded {
                relation: relation.clone(),
                source: RelKind::Opaque {
                    reason: format!(
                        "{} renames columns of a `*` over {relation}, whose columns are not known",
                        alias.name.value
                    ),
                },
            }],
        });
    }
    if alias.columns.len() > derived.cols.len() {
        return Err(AnalysisError::ColumnCountMismatch {
            left: alias.columns.len(),
            right: derived.cols.len(),
        });
    }
    for (col, def) in derived.cols.iter_mut().zip(&alias.columns) {
        col.name = stored(&def.name);
        col.quoted = def.name.quote_style.is_some();
        col.naming = Naming::Alias;
        col.transform = rename_transform(&col.transform, &col.lineage, &col.name, col.quoted);
        if let Some(ty) = &def.data_type {
            col.data_type = Some(type_name(ty));
        }
        col.span = location(def.name.span.start).or(col.span);
    }
    Ok(derived)
}

fn base_column(relation: &str, c: &ColumnInfo, span: Option<(u64, u64)>) -> OutputColumn {
    OutputColumn {
        name: c.name.clone(),
        quoted: crate::sql::stored_needs_quotes(&c.name),
        naming: Naming::Star,
        data_type: c.data_type.clone(),
        lineage: vec![SourceColumn {
            relation: relation.to_string(),
            column: c.name.clone(),
        }],
        transform: Transform::Copied,
        span,
    }
}

/// Expands `rel.*` into its columns, or records why it cannot.
pub(crate) fn expand(
    rel: &ScopeRel,
    star_span: Option<(u64, u64)>,
) -> (Vec<OutputColumn>, Vec<Unexpanded>) {
    match &rel.kind {
        RelKind::Base {
            relation,
            columns: Some(cols),
        } => (
            cols.iter()
                .map(|c| base_column(relation, c, star_span))
                .collect(),
            vec![],
        ),
        RelKind::Base { relation, .. } => (
            vec![],
            vec![Unexpanded {
                relation: relation.clone(),
                source: rel.kind.clone(),
            }],
        ),
        RelKind::Derived(d) => {
            let cols = d
                .cols
                .iter()
                .map(|c| OutputColumn {
                    naming: Naming::Star,
                    ..c.clone()
                })
                .collect();
            (cols, d.unexpanded.clone())
        }
        RelKind::Opaque { .. } => (
            vec![],
            vec![Unexpanded {
                relation: rel.display(),
                source: rel.kind.clone(),
            }],
        ),
    }
}

/// Applies Snowflake's `* ILIKE`, `EXCLUDE`, `REPLACE` and `RENAME` (and the
/// `EXCEPT` of other dialects) to an expanded column list.
fn apply_star_options(
    mut cols: Vec<OutputColumn>,
    opts: &WildcardAdditionalOptions,
    scope: &Scope<'_>,
    env: &CteEnv,
    analyzer: &Analyzer<'_>,
) -> Result<Vec<OutputColumn>, AnalysisError> {
    if let Some(ilike) = &opts.opt_ilike {
        cols.retain(|c| ilike_matches(&ilike.pattern, &c.name));
    }
    if let Some(exclude) = &opts.opt_exclude {
        cols = exclude_columns(cols, exclude);
    }
    if let Some(except) = &opts.opt_except {
        let names: Vec<&Ident> = std::iter::once(&except.first_element)
            .chain(&except.additional_elements)
            .collect();
        cols.retain(|c| !names.iter().any(|n| ident_matches(n, &c.name)));
    }
    if let Some(replace) = &opts.opt_replace {
        for item in &replace.items {
            let target = &item.column_name;
            if let Some(col) = cols.iter_mut().find(|c| ident_matches(target, &c.name)) {
                let cx = Cx::new(scope, env, &[]);
                let facts = analyzer.expr(&item.expr, &cx);
                let (transform, lineage, data_type) = finish(facts, &col.name, col.quoted);
                col.transform = transform;
                col.lineage = lineage;
                col.data_type = data_type;
                col.span = start_location(&item.expr).or(col.span);
            }
        }
    }
    if let Some(rename) = &opts.opt_rename {
        let pairs: Vec<&sqlparser::ast::IdentWithAlias> = match rename {
            sqlparser::ast::RenameSelectItem::Single(one) => vec![one],
            sqlparser::ast::RenameSelectItem::Multiple(many) => many.iter().collect(),
        };
        for pair in pairs {
            if let Some(col) = cols
                .iter_mut()
                .find(|c| ident_matches(&pair.ident, &c.name))
            {
                col.name = stored(&pair.alias);
                col.quoted = pair.alias.quote_style.is_some();
                col.naming = Naming::Alias;
                col.transform =
                    rename_transform(&col.transform, &col.lineage, &col.name, col.quoted);
                col.span = location(pair.alias.span.start).or(col.span);
            }
        }
    }
    Ok(cols)
}

fn exclude_columns(
    mut cols: Vec<OutputColumn>,
    exclude: &sqlparser::ast::ExcludeSelectItem,
) -> Vec<OutputColumn> {
    let names: Vec<&ObjectName> = match exclude {
        sqlparser::ast::ExcludeSelectItem::Single(one) => vec![one],
        sqlparser::ast::ExcludeSelectItem::Multiple(many) => many.iter().collect(),
    };
    let idents: Vec<Ident> = names
        .iter()
        .filter_map(|n| name_parts(n).and_then(|p| p.last().cloned()))
        .collect();
    cols.retain(|c| !idents.iter().any(|i| ident_matches(i, &c.name)));
    cols
}

/// Case-insensitive SQL `LIKE` matching with `%` and `_` (and `\` escapes).
fn ilike_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_uppercase().chars().collect();
    let s: Vec<char> = name.to_uppercase().chars().collect();
    // Iterative matcher with backtracking on the last `%`.
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '%' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                '_' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == s[si] => {
                    pi += 2;
                    si += 1;
                    continue;
                }
                c if c == s[si] && c != '\\' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

/// Name of an unaliased select item, whether it was quoted, and how it was
/// named.
fn implicit_name(expr: &Expr) -> (String, bool, Naming) {
    match expr {
        Expr::Identifier(ident) => (stored(ident), ident.quote_style.is_some(), Naming::Column),
        Expr::CompoundIdentifier(idents) if !idents.is_empty() => {
            let last = &idents[idents.len() - 1];
            (stored(last), last.quote_style.is_some(), Naming::Column)
        }
        Expr::Nested(inner) => {
            let (name, quoted, naming) = implicit_name(inner);
            if naming == Naming::Column {
                (name, quoted, naming)
            } else {
                (expr.to_string().to_uppercase(), false, Naming::Generated)
            }
        }
        other => (other.to_string().to_uppercase(), false, Naming::Generated),
    }
}

/// Combines the two sides of a set operation position by position: names
/// from the left; lineage from both for `UNION`, from the left otherwise.
fn combine_set(l: Derived, r: Derived, op: SetOperator) -> Result<Derived, AnalysisError> {
    if let Some(u) = l.unexpanded.first().or(r.unexpanded.first()) {
        let relation = u.relation.clone();
        return Ok(Derived {
            cols: vec![],
            unexpanded: vec![Unexpanded {
                relation: relation.clone(),
                source: RelKind::Opaque {
                    reason: format!(
                        "a set operation branch selects `*` from {relation}, whose columns are not known"
                    ),
                },
            }],
        });
    }
    if l.cols.len() != r.cols.len() {
        return Err(AnalysisError::ColumnCountMismatch {
            left: l.cols.len(),
            right: r.cols.len(),
        });
    }
    let union = matches!(op, SetOperator::Union);
    let cols = l
        .cols
        .into_iter()
        .zip(r.cols)
        .map(|(mut a, b)| {
            if union {
                if a.data_type != b.data_type {
                    // A constant of unknown type (normally a NULL literal) in
                    // one branch takes the other branch's type.
                    let untyped_constant = |c: &OutputColumn| {
                        c.transform == Transform::Constant && c.data_type.is_none()
                    };
                    a.data_type = if untyped_constant(&b) {
                        a.data_type.take()
                    } else if untyped_constant(&a) {
                        b.data_type.clone()
                    } else {
                        None
                    };
                }
                a.transform = combine_union(&a.transform, &b.transform);
                for s in b.lineage {
                    if !a.lineage.contains(&s) {
                        a.lineage.push(s);
                    }
                }
            }
            a
        })
        .collect();
    Ok(Derived {
        cols,
        unexpanded: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(s: &str) -> Ident {
        Ident::new(s)
    }

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
    fn stored_names_follow_snowflake_case_rules() {
        assert_eq!(stored(&ident("userId")), "USERID");
        assert_eq!(stored(&Ident::with_quote('"', "userId")), "userId");
        assert!(ident_matches(&ident("userid"), "USERID"));
        assert!(ident_matches(&ident("user_id"), "user_id"));
        assert!(ident_matches(&Ident::with_quote('"', "userId"), "userId"));
        assert!(!ident_matches(&Ident::with_quote('"', "userId"), "USERID"));
    }

    #[test]
    fn ilike_patterns() {
        assert!(ilike_matches("%id", "USER_ID"));
        assert!(ilike_matches("user%", "USER_ID"));
        assert!(ilike_matches("u_er_id", "USER_ID"));
        assert!(!ilike_matches("%name", "USER_ID"));
        assert!(ilike_matches("%", ""));
        assert!(ilike_matches("a%b%c", "AXXBYYC"));
        assert!(!ilike_matches("a%b%c", "AXXBYY"));
        assert!(ilike_matches("a\\_b", "A_B"));
        assert!(!ilike_matches("a\\_b", "AXB"));
    }

    #[test]
    fn qualifier_matching_uses_alias_or_name_suffix() {
        let table = ScopeRel {
            alias: None,
            name: vec![ident("ANALYTICS"), ident("NEXUS"), ident("nexus_entities")],
            kind: RelKind::Opaque {
                reason: String::new(),
            },
        };
        assert!(table.qualified_by(&[ident("NEXUS_ENTITIES")]));
        assert!(table.qualified_by(&[ident("nexus"), ident("nexus_entities")]));
        assert!(!table.qualified_by(&[ident("other")]));
        // Quoted qualifiers compare with the stored (upper-cased) name.
        assert!(table.qualified_by(&[Ident::with_quote('"', "NEXUS_ENTITIES")]));
        assert!(!table.qualified_by(&[Ident::with_quote('"', "nexus_entities")]));
        let aliased = ScopeRel {
            alias: Some(ident("e")),
            ..table
        };
        assert!(aliased.qualified_by(&[ident("E")]));
        assert!(!aliased.qualified_by(&[ident("nexus_entities")]));
    }

    #[test]
    fn statement_keyword_names_the_statement() {
        let stmts = super::super::validate::parse_snowflake("INSERT INTO t VALUES (1)").unwrap();
        assert_eq!(statement_keyword(&stmts[0]), "INSERT INTO");
    }
}
