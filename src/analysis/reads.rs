//! The relations a compiled model names in its SQL.
//!
//! `ref()` and `source()` record the catalog relations a model reads while it
//! renders; a relation written out by name (`FROM ANALYTICS.PUBLIC.codes`,
//! `JOIN codes`) is only found in the SQL. The run needs both to skip the
//! models that read a seed that failed to load, so this walks the parsed
//! statement with sqlparser's visitor. It runs only then, never on the
//! compile path.

use super::project::qualify;
use super::validate::parse_snowflake;
use crate::project::Target;
use crate::sql::RelationName;
use sqlparser::ast::{ObjectName, Query, Visit, Visitor};
use std::collections::HashSet;
use std::ops::ControlFlow;

#[derive(Default)]
struct Names {
    relations: Vec<Vec<String>>,
    ctes: HashSet<String>,
}

impl Visitor for Names {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.to_uppercase());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        let parts: Option<Vec<String>> = relation
            .0
            .iter()
            .map(|p| p.as_ident().map(|i| i.value.clone()))
            .collect();
        if let Some(parts) = parts {
            self.relations.push(parts);
        }
        ControlFlow::Continue(())
    }
}

/// Every relation `sql` names, qualified with the target's database and
/// schema as Snowflake resolves a one- or two-part name; the names of its
/// CTEs are left out. SQL that does not parse names nothing.
pub fn relations_named(sql: &str, target: &Target) -> Vec<RelationName> {
    let Ok(statements) = parse_snowflake(sql) else {
        return Vec::new();
    };
    let mut names = Names::default();
    let _ = statements.visit(&mut names);
    let mut out: Vec<RelationName> = Vec::new();
    for parts in &names.relations {
        if let [one] = parts.as_slice()
            && names.ctes.contains(&one.to_uppercase())
        {
            continue;
        }
        if let Some(r) = qualify(parts, target)
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_from_join_and_subqueries_but_not_ctes() {
        let target = Target::default_target(None);
        let sql = "with codes as (select 1 as a) \
                   select * from codes join RAW.events e on true \
                   where exists (select 1 from ANALYTICS.PUBLIC.\"people\") \
                   and 1 in (select n from nums)";
        let found: Vec<String> = relations_named(sql, &target)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            vec![
                "ANALYTICS.RAW.events",
                "ANALYTICS.PUBLIC.people",
                "ANALYTICS.PUBLIC.nums"
            ]
        );
        assert!(relations_named("not sql at all (", &target).is_empty());
    }
}
