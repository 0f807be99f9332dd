//! Ephemeral models (`materialized='ephemeral'`), as dbt compiles them
//! (`core/dbt/compilation.py`, `_recursively_prepend_ctes` and
//! `inject_ctes_into_sql`; <https://docs.getdbt.com/docs/build/materializations#ephemeral>):
//! never built; `ref()` of one renders `__dbt__cte__<name>`, and the
//! model that refs it gets a CTE of that name holding the ephemeral's own
//! SQL. An ephemeral that refs another brings that one's CTE along, placed
//! before its own; each CTE appears once, in dependency order.
//!
//! Whether a model is ephemeral is read before anything renders (its
//! folder config and literal `config(...)`), as relation names are: a
//! `ref()` must know what to render.

use crate::project::Model;

/// One inlined ephemeral model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cte {
    /// The model's name.
    pub model: String,
    /// The CTE's name, `__dbt__cte__<identifier>`.
    pub name: String,
    /// The model's own SQL, without the CTEs inlined into it.
    pub body: String,
}

/// dbt's CTE name for an ephemeral model built as `identifier`.
pub fn cte_name(identifier: &str) -> String {
    format!("__dbt__cte__{identifier}")
}

/// Whether `model` is ephemeral, as its folder config and its literal
/// `config(...)` say.
pub fn is_ephemeral(model: &Model) -> bool {
    let folder = model.folder_config.materialized();
    // Most models: no config read needed.
    if folder != "ephemeral" && !model.source.contains("ephemeral") {
        return false;
    }
    let own = crate::project::static_config(&model.source);
    let materialized = own
        .values
        .get("materialized")
        .and_then(|v| v.as_str())
        .unwrap_or(folder);
    materialized == "ephemeral"
}

/// Adds `cte` to `ctes` unless a CTE of its model is there already.
pub fn push(ctes: &mut Vec<Cte>, cte: Cte) {
    if !ctes.iter().any(|c| c.model == cte.model) {
        ctes.push(cte);
    }
}

/// Where the query proper starts after leading blank lines and comments.
fn start(sql: &str) -> usize {
    let mut at = 0;
    loop {
        let rest = &sql[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with("--") {
            at += trimmed.find('\n').map_or(trimmed.len(), |i| i + 1);
        } else if trimmed.starts_with("/*") {
            at += trimmed.find("*/").map_or(trimmed.len(), |i| i + 2);
        } else {
            return at;
        }
    }
}

/// `sql` with `ctes` inlined: after its `WITH` when it has one (dbt puts
/// them first), else in a `WITH` of their own before it.
pub fn inject(sql: &str, ctes: &[Cte]) -> String {
    if ctes.is_empty() {
        return sql.to_string();
    }
    let list: Vec<String> = ctes
        .iter()
        .map(|c| {
            let body = c.body.trim_end();
            let body = body.strip_suffix(';').unwrap_or(body).trim_end();
            format!("{} as (\n{body}\n)", c.name)
        })
        .collect();
    let list = list.join(", ");
    let at = start(sql);
    let (head, query) = sql.split_at(at);
    let word = |s: &str, w: &str| {
        s.len() >= w.len()
            && s[..w.len()].eq_ignore_ascii_case(w)
            && !s[w.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    };
    if word(query, "with") {
        let mut after = &query[4..];
        let mut keyword = query[..4].to_string();
        let trimmed = after.trim_start();
        if word(trimmed, "recursive") {
            keyword = format!("{keyword} {}", &trimmed[..9]);
            after = &trimmed[9..];
        }
        format!("{head}{keyword} {list},{after}")
    } else {
        format!("{head}with {list}\n{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cte(model: &str, body: &str) -> Cte {
        Cte {
            model: model.into(),
            name: cte_name(model),
            body: body.into(),
        }
    }

    #[test]
    fn ctes_go_before_the_query_or_into_its_with() {
        let ctes = [
            cte("a", "select 1 as x\n"),
            cte("b", "select x from __dbt__cte__a;\n"),
        ];
        assert_eq!(
            inject("-- note\nselect * from __dbt__cte__b\n", &ctes),
            "-- note\nwith __dbt__cte__a as (\nselect 1 as x\n), __dbt__cte__b as (\nselect x from __dbt__cte__a\n)\nselect * from __dbt__cte__b\n"
        );
        assert_eq!(
            inject(
                "WITH y AS (select 2) select * from y, __dbt__cte__a",
                &ctes[..1]
            ),
            "WITH __dbt__cte__a as (\nselect 1 as x\n), y AS (select 2) select * from y, __dbt__cte__a"
        );
        assert_eq!(
            inject("with recursive r as (select 1) select * from r", &ctes[..1]),
            "with recursive __dbt__cte__a as (\nselect 1 as x\n), r as (select 1) select * from r"
        );
        assert_eq!(
            inject("select * from withdrawals", &ctes[..1]),
            "with __dbt__cte__a as (\nselect 1 as x\n)\nselect * from withdrawals"
        );
        let mut list = vec![cte("a", "1")];
        push(&mut list, cte("a", "2"));
        assert_eq!(list.len(), 1);
    }
}
