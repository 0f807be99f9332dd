//! Materializing one model: its compiled SQL, its materialization and,
//! for a strategy that needs it, the current state of its relation, turned
//! into the statements that build it ([`materialize`]), and those run in
//! order ([`build`]).
//!
//! Every [`Materialization`] has one strategy here. Today's two are single
//! atomic statements, `CREATE OR REPLACE VIEW|TABLE … AS <sql>`: a failure
//! leaves the previous relation as it was. A strategy that depends on what
//! is in the warehouse (an incremental model, a change-tracked sync table)
//! says so in [`needs_state`] and gets the relation's [`RelationState`].

use crate::artifacts::run_results::{NodeResult, NodeStatus};
use crate::execution::connect::{outcome_unknown, warehouse_diagnostic};
use crate::project::Materialization;
use crate::sql::Column;
use crate::warehouse::Warehouse;

/// What building one model starts from.
#[derive(Debug, Clone)]
pub struct ModelBuild<'a> {
    /// The relation, as SQL writes it (`ANALYTICS.CUSTOMER_IO.persons`).
    pub relation: String,
    /// The compiled SQL.
    pub sql: &'a str,
    /// How it is built.
    pub materialization: Materialization,
}

/// The relation as it is in the warehouse before the build.
#[derive(Debug, Clone, Default)]
pub struct RelationState {
    /// Whether it exists.
    pub exists: bool,
    /// Its columns, when it exists.
    pub columns: Vec<Column>,
}

/// One statement of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The SQL.
    pub sql: String,
    /// What is known of the relation when the statement was sent and got no
    /// answer (a lost connection, a timeout): said with the error.
    pub unanswered: String,
}

/// The statements that build one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Run in order; the query id of the last one is the node's.
    pub statements: Vec<Statement>,
    /// A query whose one value is the number of rows built, for strategies
    /// that build a table.
    pub row_count: Option<String>,
}

/// Whether the strategy of `materialization` needs the relation's current
/// [`RelationState`]. None of today's does.
pub fn needs_state(materialization: Materialization) -> bool {
    match materialization {
        Materialization::View | Materialization::Table => false,
    }
}

/// The statements that build `model`. `state` is the relation's current
/// state when [`needs_state`] asks for it.
pub fn materialize(model: &ModelBuild<'_>, state: Option<&RelationState>) -> Plan {
    let _ = state;
    match model.materialization {
        Materialization::View => replace(model, "VIEW", false),
        Materialization::Table => replace(model, "TABLE", true),
    }
}

/// `CREATE OR REPLACE <kind> relation AS <sql>`: one atomic statement.
fn replace(model: &ModelBuild<'_>, kind: &str, counted: bool) -> Plan {
    let relation = &model.relation;
    let sql = model.sql.strip_suffix(';').unwrap_or(model.sql).trim_end();
    Plan {
        statements: vec![Statement {
            sql: format!("CREATE OR REPLACE {kind} {relation} AS\n{sql}"),
            unanswered: format!(
                "CREATE OR REPLACE {kind} {relation} was sent but got no answer: it is one atomic statement, so {relation} is either as it was or rebuilt"
            ),
        }],
        row_count: counted.then(|| format!("SELECT COUNT(*) AS n FROM {relation}")),
    }
}

/// Runs `plan` on `warehouse`, recording the outcome in `result`: the query
/// id of the last statement and, when the plan counts them, the rows
/// built; or the first failure, with what is known of the relation when a
/// statement got no answer. `target` names the target in messages.
pub fn build(plan: &Plan, warehouse: &dyn Warehouse, target: &str, result: &mut NodeResult) {
    for statement in &plan.statements {
        match warehouse.execute(&statement.sql) {
            Ok(done) => result.query_id = done.query_id,
            Err(e) => {
                let d = warehouse_diagnostic(&e, target);
                let what = if outcome_unknown(&e) {
                    format!(" ({})", statement.unanswered)
                } else {
                    String::new()
                };
                result.status = NodeStatus::Error;
                result.message = Some(format!("{}{what}", d.message));
                result.code = Some(d.code.to_string());
                result.query_id = e.query_id().map(str::to_string);
                return;
            }
        }
    }
    if let Some(count) = &plan.row_count
        && let Ok(rows) = warehouse.query(count)
    {
        result.rows = rows.rows.first().and_then(|r| r.first()).and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_and_tables_are_one_atomic_statement() {
        let model = |materialization| ModelBuild {
            relation: "DB.S.m".into(),
            sql: "select 1 as x\n;",
            materialization,
        };
        let view = materialize(&model(Materialization::View), None);
        assert_eq!(view.statements.len(), 1);
        assert_eq!(
            view.statements[0].sql,
            "CREATE OR REPLACE VIEW DB.S.m AS\nselect 1 as x"
        );
        assert_eq!(view.row_count, None);
        let table = materialize(&model(Materialization::Table), None);
        assert_eq!(
            table.statements[0].sql,
            "CREATE OR REPLACE TABLE DB.S.m AS\nselect 1 as x"
        );
        assert_eq!(
            table.row_count.as_deref(),
            Some("SELECT COUNT(*) AS n FROM DB.S.m")
        );
        assert!(
            table.statements[0]
                .unanswered
                .contains("one atomic statement")
        );
        assert!(!Materialization::ALL.into_iter().any(needs_state));
    }
}
