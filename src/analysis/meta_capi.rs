//! Meta Conversions API contract checks, read from the compiled SQL: the
//! PII that must leave the warehouse hashed, and the `action_source`.
//!
//! | Code   | Severity | Rule |
//! |--------|----------|------|
//! | CIO227 | error    | A hashed `user_data` column (`em`, `ph`, …) whose expression is not `SHA2(<normalised value>, 256)`: raw PII, a hash of the raw value, or another hash. |
//! | CIO164 | warning  | A hashed `user_data` column passed through under its own name (or a name with `hash`/`sha`) from a table whose SQL cio-sql cannot see: whether it holds hashes is checked only by the `sha256_hex` data test after a build. Under another name (`email AS "em"`) it is the raw value: CIO227. |
//! | CIO224 | error    | An `action_source` literal outside Meta's list. |
//! | CIO226 | error    | Website events (a literal `'website'`) without `event_source_url` or `client_user_agent`. |
//!
//! The hashed column is followed through the query: a column of a
//! subquery or CTE (also through `alias.*`) is judged by that subquery's
//! expression, a UNION by every branch. A value is "normalised" when the
//! hashed argument is more than a bare column (or a cast of one): Meta's
//! rules need at least trimming and lower-casing, which `nexus.meta_hash`
//! does per field (Customer Information Parameters,
//! <https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters>).

use super::columns::OutputColumn;
use super::contract::{Finding, Severity, SyncType};
use super::validate::parse_snowflake;
use crate::destinations::meta_capi::{ACTION_SOURCES, USER_DATA_HASHED};
use crate::diagnostics::{Code, codes};
use sqlparser::ast::{
    Cte, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart, Query, SelectItem,
    SetExpr, Statement, TableFactor, TableWithJoins, Value,
};

/// What a column's value is, followed to the expression that makes it.
enum Source<'q> {
    /// The expression (of a SELECT list) that makes it.
    Expr(&'q Expr),
    /// A column of a table outside the query (a source, another model).
    Table(String),
    /// Not found, or past what this follows.
    Unknown,
}

/// The verdict on one hashed column.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Hashed,
    /// Passed through from a table: `relation.column`.
    Unverified(String),
    /// Not a SHA-256 of a normalised value; why.
    Unhashed(&'static str),
}

/// The Meta checks of a model of sync type `sync` (nothing for other
/// destinations) whose compiled SQL is `sql`.
pub fn check(sync: SyncType, columns: &[OutputColumn], sql: &str) -> Vec<Finding> {
    if sync.destination().name != crate::destinations::meta_capi::META_CAPI.name {
        return Vec::new();
    }
    let Ok(statements) = parse_snowflake(sql) else {
        return Vec::new();
    };
    let Some(Statement::Query(query)) = statements.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for col in columns {
        let Some(key) = USER_DATA_HASHED
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&col.name))
        else {
            continue;
        };
        let source = col
            .lineage
            .first()
            .map(|s| s.column.to_lowercase())
            .unwrap_or_else(|| "column".into());
        let helper = format!("{{{{ nexus.meta_hash('{source}', '{key}') }}}} AS \"{key}\"");
        match judge_column(query, &col.name, &[]) {
            Verdict::Hashed => {}
            Verdict::Unverified(from) => out.push(finding(
                codes::META_HASH_UNVERIFIED,
                Severity::Warning,
                format!(
                    "cio-sql cannot tell whether `{}` is hashed: it passes {from} through unchanged, and Meta requires {key} as the SHA-256 of the normalised value",
                    col.name
                ),
                format!(
                    "if {from} holds raw values, hash them here: {helper}; if it holds lower-case hex SHA-256 digests of normalised values, the sha256_hex data test confirms it after a build"
                ),
                &col.name,
            )),
            Verdict::Unhashed(why) => out.push(finding(
                codes::META_UNHASHED,
                Severity::Error,
                format!(
                    "`{}` would leave the warehouse as {why}: Meta requires {key} as the SHA-256 of the value normalised its way",
                    col.name
                ),
                format!("normalise and hash it with nexus.meta_hash: {helper}"),
                &col.name,
            )),
        }
    }
    let mut website = false;
    if let Some(col) = columns.iter().find(|c| c.name == "action_source") {
        for literal in literals(query, &col.name) {
            if literal == "website" {
                website = true;
            }
            if !ACTION_SOURCES.contains(&literal.as_str()) {
                let hint = crate::suggest::did_you_mean(&literal, ACTION_SOURCES.iter().copied());
                out.push(finding(
                    codes::META_ACTION_SOURCE,
                    Severity::Error,
                    format!(
                        "`action_source` is '{literal}', which is not one of Meta's action sources"
                    ),
                    format!(
                        "{}use one of: {}",
                        if hint.is_empty() {
                            String::new()
                        } else {
                            format!("{hint} ")
                        },
                        ACTION_SOURCES.join(", ")
                    ),
                    &col.name,
                ));
            }
        }
    }
    if website {
        for needed in ["event_source_url", "client_user_agent"] {
            if !columns.iter().any(|c| c.name == needed) {
                out.push(finding(
                    codes::META_WEBSITE_FIELDS,
                    Severity::Error,
                    format!("the events are website events (action_source 'website'), but the model has no `{needed}` column: Meta requires it for them"),
                    format!("add the column (… AS \"{needed}\"), or set the action_source the events come from"),
                    "action_source",
                ));
            }
        }
    }
    out
}

fn finding(code: Code, severity: Severity, message: String, help: String, column: &str) -> Finding {
    Finding {
        code,
        severity,
        message,
        help,
        column: Some(column.to_string()),
    }
}

/// The name an unaliased select item gives its column.
fn implicit_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Identifier(id) => Some(&id.value),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.as_str()),
        _ => None,
    }
}

/// Every SELECT of a set expression (the branches of a UNION).
fn selects<'q>(body: &'q SetExpr, out: &mut Vec<&'q sqlparser::ast::Select>) {
    match body {
        SetExpr::Select(s) => out.push(s),
        SetExpr::Query(q) => selects(&q.body, out),
        SetExpr::SetOperation { left, right, .. } => {
            selects(left, out);
            selects(right, out);
        }
        _ => {}
    }
}

/// Where the column `name` of `query`'s output comes from, in each branch.
fn sources<'q>(query: &'q Query, name: &str, outer: &[&'q Cte]) -> Vec<Source<'q>> {
    let mut ctes: Vec<&Cte> = outer.to_vec();
    if let Some(with) = &query.with {
        ctes.extend(with.cte_tables.iter());
    }
    let mut branches = Vec::new();
    selects(&query.body, &mut branches);
    if branches.is_empty() {
        return vec![Source::Unknown];
    }
    branches
        .into_iter()
        .flat_map(|select| select_source(select, name, &ctes))
        .collect()
}

fn select_source<'q>(
    select: &'q sqlparser::ast::Select,
    name: &str,
    ctes: &[&'q Cte],
) -> Vec<Source<'q>> {
    let same = |a: &str| a.eq_ignore_ascii_case(name);
    let mut star: Option<Option<String>> = None;
    for item in &select.projection {
        match item {
            SelectItem::ExprWithAlias { expr, alias } if same(&alias.value) => {
                return follow(expr, &select.from, ctes);
            }
            SelectItem::UnnamedExpr(expr) if implicit_name(expr).is_some_and(same) => {
                return follow(expr, &select.from, ctes);
            }
            SelectItem::Wildcard(_) => star = star.or(Some(None)),
            SelectItem::QualifiedWildcard(kind, _) => {
                let text = kind.to_string();
                let alias = text
                    .rsplit('.')
                    .next()
                    .unwrap_or_default()
                    .trim_matches('"');
                star = star.or(Some(Some(alias.to_string())));
            }
            _ => {}
        }
    }
    match star {
        Some(alias) => relation_column(alias.as_deref(), name, &select.from, ctes),
        None => vec![Source::Unknown],
    }
}

/// An expression of a SELECT list, followed when it names a column of a
/// subquery or CTE.
fn follow<'q>(expr: &'q Expr, from: &'q [TableWithJoins], ctes: &[&'q Cte]) -> Vec<Source<'q>> {
    match expr {
        Expr::Identifier(id) => relation_column(None, &id.value, from, ctes),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            let alias = &parts[parts.len() - 2].value;
            relation_column(Some(alias), &parts[parts.len() - 1].value, from, ctes)
        }
        Expr::Nested(inner) => follow(inner, from, ctes),
        _ => vec![Source::Expr(expr)],
    }
}

/// The column `name` of the relation `alias` of `from` (any relation when
/// `alias` is none).
fn relation_column<'q>(
    alias: Option<&str>,
    name: &str,
    from: &'q [TableWithJoins],
    ctes: &[&'q Cte],
) -> Vec<Source<'q>> {
    let unknown = |found: &[Source<'_>]| found.iter().all(|s| matches!(s, Source::Unknown));
    let factors = from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    for factor in factors {
        match factor {
            TableFactor::Derived {
                subquery, alias: a, ..
            } => {
                let named = a.as_ref().map(|a| a.name.value.as_str());
                if let Some(x) = alias
                    && !named.is_some_and(|n| n.eq_ignore_ascii_case(x))
                {
                    continue;
                }
                let found = sources(subquery, name, ctes);
                if alias.is_some() || !unknown(&found) {
                    return found;
                }
            }
            TableFactor::Table {
                name: table,
                alias: a,
                ..
            } => {
                let written = table
                    .0
                    .iter()
                    .filter_map(|p| match p {
                        ObjectNamePart::Identifier(i) => Some(i.value.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>();
                let last = written.last().cloned().unwrap_or_default();
                let named = a
                    .as_ref()
                    .map(|a| a.name.value.clone())
                    .unwrap_or(last.clone());
                if alias.is_some_and(|x| !x.eq_ignore_ascii_case(&named)) {
                    continue;
                }
                if written.len() == 1
                    && let Some(cte) = ctes
                        .iter()
                        .find(|c| c.alias.name.value.eq_ignore_ascii_case(&last))
                {
                    // The CTEs it can read: those defined before it (so
                    // no cycle is followed).
                    let at = ctes
                        .iter()
                        .position(|c| std::ptr::eq(*c, *cte))
                        .unwrap_or(0);
                    let found = sources(&cte.query, name, &ctes[..at]);
                    if alias.is_some() || !unknown(&found) {
                        return found;
                    }
                    continue;
                }
                return vec![Source::Table(format!("{}.{name}", written.join(".")))];
            }
            _ => {}
        }
    }
    vec![Source::Unknown]
}

fn judge_column(query: &Query, name: &str, ctes: &[&Cte]) -> Verdict {
    let mut worst = Verdict::Hashed;
    for source in sources(query, name, ctes) {
        let verdict = match source {
            Source::Expr(expr) => judge(expr),
            // A column passed through under the field's own name (or a
            // name saying it is a hash) may come hashed from upstream; any
            // other (`email AS "em"`) is the raw value.
            Source::Table(from) => {
                let column = from.rsplit('.').next().unwrap_or_default().to_lowercase();
                if column == name.to_lowercase()
                    || column.contains("hash")
                    || column.contains("sha")
                {
                    Verdict::Unverified(from)
                } else {
                    Verdict::Unhashed("the raw value of a column passed through unchanged")
                }
            }
            Source::Unknown => Verdict::Hashed,
        };
        match (&worst, &verdict) {
            (_, Verdict::Unhashed(_)) => return verdict,
            (Verdict::Hashed, Verdict::Unverified(_)) => worst = verdict,
            _ => {}
        }
    }
    worst
}

fn function_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Function(f) => Some(f.name.to_string().to_ascii_uppercase()),
        _ => None,
    }
}

fn arguments(expr: &Expr) -> Vec<&Expr> {
    let Expr::Function(f) = expr else {
        return Vec::new();
    };
    let FunctionArguments::List(list) = &f.args else {
        return Vec::new();
    };
    list.args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}

/// A bare column, or a cast of one: nothing normalised.
fn is_bare(expr: &Expr) -> bool {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
        Expr::Nested(e) | Expr::Cast { expr: e, .. } => is_bare(e),
        Expr::Function(_) => {
            matches!(
                function_name(expr).as_deref(),
                Some("TO_VARCHAR" | "TO_CHAR" | "CAST")
            ) && arguments(expr).first().is_some_and(|e| is_bare(e))
        }
        _ => false,
    }
}

fn judge(expr: &Expr) -> Verdict {
    match expr {
        Expr::Nested(e) => judge(e),
        Expr::Value(v) if matches!(v.value, Value::Null) => Verdict::Hashed,
        Expr::Function(_) => {
            let name = function_name(expr).unwrap_or_default();
            let args = arguments(expr);
            match name.as_str() {
                "SHA2" | "SHA2_HEX" => {
                    let bits = args.get(1).map(|e| e.to_string());
                    if bits.as_deref().is_some_and(|b| b != "256") {
                        return Verdict::Unhashed("a SHA-2 digest of another length than 256 bits");
                    }
                    match args.first() {
                        Some(arg) if is_bare(arg) => {
                            Verdict::Unhashed("the SHA-256 of the raw, unnormalised value")
                        }
                        Some(_) => Verdict::Hashed,
                        None => Verdict::Unhashed("an unknown value"),
                    }
                }
                "MD5" | "MD5_HEX" | "SHA1" | "SHA1_HEX" | "HASH" | "SHA2_BINARY" | "MD5_BINARY" => {
                    Verdict::Unhashed("another hash than the hex SHA-256 Meta takes")
                }
                _ => Verdict::Unhashed("a value that is not hashed"),
            }
        }
        _ => Verdict::Unhashed("a value that is not hashed"),
    }
}

/// The string literals an output column can take: a literal, or the
/// results of a CASE of literals; empty when it is anything else.
fn literals(query: &Query, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for source in sources(query, name, &[]) {
        if let Source::Expr(expr) = source {
            collect_literals(expr, &mut out);
        }
    }
    out
}

fn collect_literals(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Nested(e) => collect_literals(e, out),
        Expr::Value(v) => {
            if let Value::SingleQuotedString(s) = &v.value {
                out.push(s.clone());
            }
        }
        Expr::Case {
            conditions,
            else_result,
            ..
        } => {
            for c in conditions {
                collect_literals(&c.result, out);
            }
            if let Some(e) = else_result {
                collect_literals(e, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(sql: &str, column: &str) -> Verdict {
        let statements = parse_snowflake(sql).unwrap();
        let Statement::Query(q) = &statements[0] else {
            panic!()
        };
        judge_column(q, column, &[])
    }

    #[test]
    fn hashed_columns_are_followed_through_the_query() {
        let ok = "SELECT p.\"em\" AS \"em\" FROM t JOIN (SELECT e.* FROM (SELECT SHA2(LOWER(TRIM(email)), 256) AS \"em\" FROM people) AS e) AS p ON TRUE";
        assert_eq!(verdict(ok, "em"), Verdict::Hashed);
        let cte = "WITH h AS (SELECT SHA2(LOWER(email)) AS em FROM people), g AS (SELECT * FROM h) SELECT em FROM g";
        assert_eq!(verdict(cte, "em"), Verdict::Hashed);
        let chained = "WITH h AS (SELECT LOWER(email) AS em FROM people), g AS (SELECT em FROM h) SELECT g.em AS \"em\" FROM g";
        assert!(matches!(verdict(chained, "em"), Verdict::Unhashed(_)));
        assert!(matches!(
            verdict("SELECT email AS \"em\" FROM people", "em"),
            Verdict::Unhashed(w) if w.contains("raw value")
        ));
        assert_eq!(
            verdict("SELECT up.em AS \"em\" FROM up", "em"),
            Verdict::Unverified("up.em".into())
        );
        assert_eq!(
            verdict("SELECT email_sha256 AS \"em\" FROM up", "em"),
            Verdict::Unverified("up.email_sha256".into())
        );
        assert!(matches!(
            verdict("SELECT LOWER(email) AS \"em\" FROM people", "em"),
            Verdict::Unhashed(_)
        ));
        assert!(matches!(
            verdict("SELECT SHA2(email, 256) AS \"em\" FROM people", "em"),
            Verdict::Unhashed(w) if w.contains("unnormalised")
        ));
        assert!(matches!(
            verdict("SELECT SHA2(LOWER(email), 512) AS \"em\" FROM people", "em"),
            Verdict::Unhashed(_)
        ));
        assert!(matches!(
            verdict("SELECT MD5(LOWER(email)) AS \"em\" FROM people", "em"),
            Verdict::Unhashed(_)
        ));
        let union = "SELECT SHA2(LOWER(a), 256) AS \"em\" FROM x UNION ALL SELECT em FROM y";
        assert_eq!(verdict(union, "em"), Verdict::Unverified("y.em".into()));
        assert_eq!(verdict("SELECT NULL AS \"em\"", "em"), Verdict::Hashed);
    }
}
