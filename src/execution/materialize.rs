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
//!
//! A change-tracked sync table ([`ModelBuild::tracking`]) is built by one
//! `CREATE OR REPLACE TABLE … AS SELECT` that joins the model's rows with
//! the table as it is (see [`crate::analysis::tracking`]), after a
//! mass-delete guard query ([`Guard`]).

use crate::analysis::tracking::{self, Tracking};
use crate::artifacts::run_results::{NodeResult, NodeStatus};
use crate::diagnostics::codes;
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
    /// How it is change-tracked, when it is a tracked sync table.
    pub tracking: Option<&'a Tracking>,
    /// Let a build delete more than the model's `cio_max_delete_share`.
    pub allow_mass_delete: bool,
}

impl ModelBuild<'_> {
    /// Whether building it needs the relation's current [`RelationState`].
    pub fn needs_state(&self) -> bool {
        self.tracking.is_some() || needs_state(self.materialization)
    }
}

/// The relation as it is in the warehouse before the build.
#[derive(Debug, Clone, Default)]
pub struct RelationState {
    /// Whether it exists.
    pub exists: bool,
    /// Its columns, when it exists.
    pub columns: Vec<Column>,
}

impl RelationState {
    /// Whether it is a change-tracked table: it has every bookkeeping column.
    pub fn tracked(&self) -> bool {
        self.exists
            && tracking::BOOKKEEPING
                .iter()
                .all(|b| self.columns.iter().any(|c| c.name.eq_ignore_ascii_case(b)))
    }
}

/// The mass-delete guard of a change-tracked build: a query counting what
/// the build would do, run first; the build fails (CIO330) when it would
/// delete more than `max_share` of the live rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    /// [`Tracking::diff_counts_sql`] of the build.
    pub counts: String,
    /// The share of live rows the build may delete.
    pub max_share: f64,
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
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Run in order; the query id of the last one is the node's.
    pub statements: Vec<Statement>,
    /// A query whose one value is the number of rows built, for strategies
    /// that build a table.
    pub row_count: Option<String>,
    /// Checked before the statements run.
    pub guard: Option<Guard>,
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
    if let Some(t) = model.tracking {
        return change_tracked(model, t, state);
    }
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
        guard: None,
    }
}

/// A change-tracked sync table: one `CREATE OR REPLACE TABLE … AS SELECT`
/// over the model's rows and the table as it is (a first build, or a table
/// without bookkeeping columns, marks every row new), guarded against mass
/// deletes unless allowed.
fn change_tracked(model: &ModelBuild<'_>, t: &Tracking, state: Option<&RelationState>) -> Plan {
    let relation = &model.relation;
    let sql = model.sql.strip_suffix(';').unwrap_or(model.sql).trim_end();
    let previous: Option<Vec<String>> = state
        .filter(|s| s.tracked())
        .map(|s| s.columns.iter().map(|c| c.name.clone()).collect());
    let guard = previous
        .as_ref()
        .filter(|_| !model.allow_mass_delete)
        .map(|_| Guard {
            counts: t.diff_counts_sql(relation, sql, true),
            max_share: t.max_delete_share,
        });
    Plan {
        statements: vec![Statement {
            sql: t.build_sql(relation, sql, previous.as_deref()),
            unanswered: format!(
                "the change-tracking CREATE OR REPLACE TABLE {relation} was sent but got no answer: it is one atomic statement, so {relation} and its change times are either as they were or rebuilt"
            ),
        }],
        row_count: Some(format!(
            "SELECT COUNT(*) AS n FROM {relation} WHERE NOT {}",
            crate::sql::quote(tracking::DELETED)
        )),
        guard,
    }
}

/// Counts by kind from the rows of a [`Tracking::diff_counts_sql`] query.
pub fn counts_by_kind(rows: &crate::warehouse::Rows) -> std::collections::BTreeMap<String, u64> {
    rows.rows
        .iter()
        .filter_map(|r| {
            let kind = r.first()?.as_str()?.to_string();
            let n = r.get(1).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })?;
            Some((kind, n))
        })
        .collect()
}

/// The message of a tripped guard, or `None` when the build may go on.
pub fn mass_delete(
    counts: &std::collections::BTreeMap<String, u64>,
    max_share: f64,
) -> Option<String> {
    let deleted = counts.get("deleted").copied().unwrap_or(0);
    let previous = counts.get("previous").copied().unwrap_or(0);
    if previous == 0 || (deleted as f64) <= max_share * previous as f64 {
        return None;
    }
    Some(format!(
        "the build would delete {deleted} of the table's {previous} rows ({:.0}%), more than cio_max_delete_share allows ({:.0}%); the table was not changed. If the upstream data is right, build again with --allow-mass-delete (or raise cio_max_delete_share)",
        100.0 * deleted as f64 / previous as f64,
        100.0 * max_share
    ))
}

/// Runs `plan` on `warehouse`, recording the outcome in `result`: the query
/// id of the last statement and, when the plan counts them, the rows
/// built; or the first failure, with what is known of the relation when a
/// statement got no answer. `target` names the target in messages.
pub fn build(plan: &Plan, warehouse: &dyn Warehouse, target: &str, result: &mut NodeResult) {
    if let Some(guard) = &plan.guard {
        match warehouse.query(&guard.counts) {
            Ok(rows) => {
                if let Some(message) = mass_delete(&counts_by_kind(&rows), guard.max_share) {
                    result.status = NodeStatus::Error;
                    result.message = Some(message);
                    result.code = Some(codes::MASS_DELETE.to_string());
                    return;
                }
            }
            Err(e) => {
                let d = warehouse_diagnostic(&e, target);
                result.status = NodeStatus::Error;
                result.message = Some(format!(
                    "{} (the mass-delete guard's count failed; the table was not changed)",
                    d.message
                ));
                result.code = Some(d.code.to_string());
                result.query_id = e.query_id().map(str::to_string);
                return;
            }
        }
    }
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
            tracking: None,
            allow_mass_delete: false,
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

    #[test]
    fn a_change_tracked_table_is_one_statement_after_its_guard() {
        let t = Tracking {
            sync_type: crate::destinations::SyncType::IDENTIFY,
            columns: vec!["userId".into(), "name".into()],
            key: vec![vec!["userId".into()]],
            deletes: true,
            max_delete_share: 0.5,
        };
        let model = |allow_mass_delete| ModelBuild {
            relation: "DB.S.people".into(),
            sql: "select 1;",
            materialization: Materialization::Table,
            tracking: Some(&t),
            allow_mass_delete,
        };
        assert!(model(false).needs_state());
        let column = |name: &str| Column {
            name: name.into(),
            data_type: String::new(),
            quoted: true,
        };
        // A first build, or a table without bookkeeping columns: all new, no guard.
        for state in [
            RelationState::default(),
            RelationState {
                exists: true,
                columns: vec![column("userId"), column("name")],
            },
        ] {
            let plan = materialize(&model(false), Some(&state));
            assert_eq!(plan.statements.len(), 1);
            assert!(plan.guard.is_none());
            assert!(!plan.statements[0].sql.contains("__cio_sql_previous"));
        }
        let tracked = RelationState {
            exists: true,
            columns: ["userId", "name"]
                .into_iter()
                .chain(tracking::BOOKKEEPING)
                .map(column)
                .collect(),
        };
        let plan = materialize(&model(false), Some(&tracked));
        assert_eq!(plan.statements.len(), 1);
        assert!(
            plan.statements[0]
                .sql
                .starts_with("CREATE OR REPLACE TABLE DB.S.people AS")
        );
        assert!(plan.statements[0].sql.contains("FROM DB.S.people"));
        assert_eq!(plan.guard.as_ref().map(|g| g.max_share), Some(0.5));
        assert!(materialize(&model(true), Some(&tracked)).guard.is_none());
    }

    #[test]
    fn the_guard_trips_above_the_share() {
        let counts = |deleted: u64, previous: u64| {
            [
                ("deleted".to_string(), deleted),
                ("previous".to_string(), previous),
            ]
            .into_iter()
            .collect()
        };
        assert!(
            mass_delete(&counts(5, 10), 0.5).is_none(),
            "exactly half is allowed"
        );
        assert!(
            mass_delete(&counts(6, 10), 0.5)
                .unwrap()
                .contains("6 of the table's 10 rows")
        );
        assert!(mass_delete(&counts(0, 0), 0.0).is_none(), "an empty table");
        assert!(mass_delete(&counts(1, 10), 0.0).is_some());
    }
}
