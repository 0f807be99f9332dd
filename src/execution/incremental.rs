//! Building an incremental model (`materialized='incremental'`), in the
//! steps of dbt-snowflake's incremental materialization
//! (`dbt-snowflake/…/macros/materializations/incremental.sql`), written
//! anew here:
//!
//! 1. What is there: `SHOW OBJECTS LIKE '<name>' IN SCHEMA <db>.<schema>`
//!    gives whether the relation exists and its kind
//!    (<https://docs.snowflake.com/en/sql-reference/sql/show-objects>).
//! 2. No table yet, a view in its place, or a full refresh (`--full-refresh`
//!    unless the model says `full_refresh=false`): the whole table, one
//!    atomic `CREATE OR REPLACE TABLE … AS` ([`materialize`]), after a
//!    `DROP VIEW` when a view was there.
//! 3. Otherwise the model is rendered again with `is_incremental()` true,
//!    its rows go to a scratch table `<name>__dbt_tmp` (dbt's name; a
//!    transient table, dbt-snowflake's `tmp_relation_type: transient`, so
//!    that its columns can be read back), `on_schema_change` compares the
//!    scratch table's columns with the table's ([`schema_changes`]), and
//!    the strategy moves the rows ([`apply`]): one `MERGE`, one `INSERT`, or
//!    `DELETE` + `INSERT` in one transaction. The scratch table is dropped
//!    whatever happens.
//!
//! A failed statement leaves the table as it was: `MERGE` and `INSERT` are
//! single atomic statements, and `DELETE` + `INSERT` is rolled back. The
//! `ALTER TABLE`s of `append_new_columns`/`sync_all_columns` run before the
//! rows move and are not undone when the move fails (DDL commits at once
//! on Snowflake, as in dbt).
//!
//! The `MERGE` source is a subquery (`USING (SELECT * FROM <scratch>)`)
//! rather than the bare scratch table dbt writes: the same statement on
//! Snowflake (<https://docs.snowflake.com/en/sql-reference/sql/merge>:
//! `USING <source>` is "the table or subquery to join with the target
//! table"), and the only form the emulator merges right. It is one
//! statement, so it is not wrapped in `BEGIN`/`COMMIT` (which the emulator
//! refuses around a MERGE).

use crate::artifacts::run_results::{NodeResult, NodeStatus};
use crate::diagnostics::codes;
use crate::execution::connect::warehouse_diagnostic;
use crate::execution::materialize::{self, ModelBuild, Plan, Statement};
use crate::project::incremental::{IncrementalConfig, OnSchemaChange, Strategy};
use crate::sql::{Column, Quoting, RelationName, quote, string_literal};
use crate::warehouse::{Warehouse, WarehouseError};

/// The scratch table of an incremental run of `relation`: dbt's
/// `<name>__dbt_tmp`, beside it.
pub fn scratch(relation: &RelationName) -> RelationName {
    RelationName {
        identifier: format!("{}__dbt_tmp", relation.identifier),
        ..relation.clone()
    }
}

/// What holds the name of `relation` now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Nothing.
    Nothing,
    /// A table (permanent or transient).
    Table,
    /// A view.
    View,
    /// Another kind of object (a materialized view, an external table…).
    Other,
}

/// What holds the name of `relation` (`SHOW OBJECTS`; LIKE is
/// case-insensitive with wildcards, so the rows are matched by name here,
/// an exact spelling first).
pub fn existing(
    warehouse: &dyn Warehouse,
    relation: &RelationName,
    quoting: Quoting,
) -> Result<Existing, WarehouseError> {
    // No escapes: the emulator's LIKE has no escape character, and a `_`
    // matching any character is harmless since rows are matched by name.
    let rows = warehouse.query(&format!(
        "SHOW OBJECTS LIKE {} IN SCHEMA {}",
        string_literal(&relation.identifier),
        relation.schema_sql(quoting)
    ))?;
    let (Some(name_i), Some(kind_i)) = (rows.column_index("name"), rows.column_index("kind"))
    else {
        return Ok(Existing::Nothing);
    };
    let stored = crate::sql::resolved_part(&relation.identifier, quoting.identifier).into_owned();
    let text = |row: &Vec<serde_json::Value>, i: usize| {
        row.get(i)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let found = rows
        .rows
        .iter()
        .filter(|r| text(r, name_i).eq_ignore_ascii_case(&relation.identifier))
        .max_by_key(|r| text(r, name_i) == stored);
    Ok(match found.map(|r| text(r, kind_i).to_ascii_uppercase()) {
        None => Existing::Nothing,
        Some(kind) if kind == "TABLE" || kind == "TRANSIENT" => Existing::Table,
        Some(kind) if kind == "VIEW" => Existing::View,
        Some(_) => Existing::Other,
    })
}

/// The full build of an incremental model (a first run, a full refresh),
/// after a `DROP VIEW` when a view holds its name (dbt-snowflake drops it
/// too: "Dropping relation … because it is a view and this model is a
/// table").
pub fn full_build(model: &ModelBuild<'_>, existing: Existing) -> Plan {
    let mut plan = materialize::materialize(model, None);
    if existing == Existing::View {
        let relation = &model.relation;
        plan.statements.insert(
            0,
            Statement {
                sql: format!("DROP VIEW IF EXISTS {relation}"),
                unanswered: format!(
                    "DROP VIEW IF EXISTS {relation} was sent but got no answer: the view may or may not be dropped"
                ),
            },
        );
    }
    plan
}

/// The statement that fills the scratch table with the new rows.
pub fn stage(scratch: &str, sql: &str) -> Plan {
    let sql = sql.strip_suffix(';').unwrap_or(sql).trim_end();
    Plan {
        statements: vec![Statement {
            sql: format!("CREATE OR REPLACE TRANSIENT TABLE {scratch} AS (\n{sql}\n)"),
            unanswered: format!(
                "CREATE OR REPLACE TRANSIENT TABLE {scratch} was sent but got no answer; the model's table was not changed"
            ),
        }],
        row_count: None,
        guard: None,
        transaction: false,
        finally: Vec::new(),
    }
}

/// What `on_schema_change` does to the table, and the columns the rows
/// then move through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaChange {
    /// `ALTER TABLE` statements, in order.
    pub alters: Vec<String>,
    /// The columns the strategy writes (names as stored).
    pub columns: Vec<String>,
}

/// Whether two stored types differ in a way dbt counts as a change: a
/// string column stays a string column whatever its length (dbt widens
/// strings rather than calling it a change).
fn type_changed(old: &str, new: &str) -> bool {
    let string = |t: &str| {
        let t = t.to_ascii_uppercase();
        ["VARCHAR", "TEXT", "STRING", "CHAR"]
            .iter()
            .any(|s| t.starts_with(s))
    };
    !(old.eq_ignore_ascii_case(new) || (string(old) && string(new)))
}

/// `on_schema_change` for `mode`: the table's columns `target`, the new
/// rows' `new`. `Err`: the message of `fail` (dbt's words), the table
/// unchanged.
pub fn schema_changes(
    mode: OnSchemaChange,
    relation: &str,
    target: &[Column],
    new: &[Column],
) -> Result<SchemaChange, String> {
    let names = |cols: &[Column]| cols.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    if mode == OnSchemaChange::Ignore {
        return Ok(SchemaChange {
            alters: Vec::new(),
            columns: names(target),
        });
    }
    let find = |cols: &'_ [Column], name: &str| -> Option<Column> {
        cols.iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .cloned()
    };
    let added: Vec<&Column> = new
        .iter()
        .filter(|c| find(target, &c.name).is_none())
        .collect();
    let removed: Vec<&Column> = target
        .iter()
        .filter(|c| find(new, &c.name).is_none())
        .collect();
    let retyped: Vec<(&Column, Column)> = new
        .iter()
        .filter_map(|c| {
            find(target, &c.name)
                .filter(|t| type_changed(&t.data_type, &c.data_type))
                .map(|t| (c, t))
        })
        .collect();
    let list = |cols: &[&Column]| {
        cols.iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if mode == OnSchemaChange::Fail {
        if added.is_empty() && removed.is_empty() && retyped.is_empty() {
            return Ok(SchemaChange {
                alters: Vec::new(),
                columns: names(new),
            });
        }
        let types: Vec<String> = retyped
            .iter()
            .map(|(c, t)| format!("{} {} -> {}", c.name, t.data_type, c.data_type))
            .collect();
        return Err(format!(
            "the source and target schemas of this incremental model are out of sync (on_schema_change='fail'); {relation} was not changed. Source columns not in target: [{}]; target columns not in source: [{}]; new column types: [{}]. Set on_schema_change to 'append_new_columns' or 'sync_all_columns', rebuild with --full-refresh, or change the table by hand",
            list(&added),
            list(&removed),
            types.join(", ")
        ));
    }
    let mut alters = Vec::new();
    if !added.is_empty() {
        let columns: Vec<String> = added
            .iter()
            .map(|c| format!("{} {}", quote(&c.name), c.data_type))
            .collect();
        alters.push(format!(
            "ALTER TABLE {relation} ADD COLUMN {}",
            columns.join(", ")
        ));
    }
    if mode == OnSchemaChange::SyncAllColumns {
        // One column per statement: valid on Snowflake, and the only form
        // the emulator takes.
        for c in &removed {
            alters.push(format!(
                "ALTER TABLE {relation} DROP COLUMN {}",
                quote(&c.name)
            ));
        }
        for (c, _) in &retyped {
            alters.push(format!(
                "ALTER TABLE {relation} ALTER {} SET DATA TYPE {}",
                quote(&c.name),
                c.data_type
            ));
        }
    }
    Ok(SchemaChange {
        alters,
        columns: names(new),
    })
}

/// The statements of an incremental run that move the scratch table's
/// rows into `relation` through `columns` with `config`'s strategy, after
/// the `alters`; the scratch table is dropped at the end.
pub fn apply(
    relation: &str,
    scratch: &str,
    config: &IncrementalConfig,
    change: &SchemaChange,
) -> Plan {
    let cols: Vec<String> = change.columns.iter().map(|c| quote(c)).collect();
    let list = cols.join(", ");
    let insert = format!("INSERT INTO {relation} ({list})\nSELECT {list} FROM {scratch}");
    let mut statements: Vec<Statement> = change
        .alters
        .iter()
        .map(|sql| Statement {
            sql: sql.clone(),
            unanswered: format!("{sql} was sent but got no answer: the column change may or may not be made; no rows were moved"),
        })
        .collect();
    let mut transaction = false;
    let one = |sql: String| Statement {
        unanswered: format!(
            "the incremental {} into {relation} was sent but got no answer: it is one atomic statement, so {relation} either has the new rows or is as it was",
            sql.split_whitespace().next().unwrap_or_default()
        ),
        sql,
    };
    match config.strategy {
        Strategy::Merge => {
            let on: Vec<String> = config
                .unique_key
                .iter()
                .map(|k| format!("(DBT_INTERNAL_SOURCE.{k} = DBT_INTERNAL_DEST.{k})"))
                .collect();
            let set: Vec<String> = cols
                .iter()
                .map(|c| format!("{c} = DBT_INTERNAL_SOURCE.{c}"))
                .collect();
            let values: Vec<String> = cols
                .iter()
                .map(|c| format!("DBT_INTERNAL_SOURCE.{c}"))
                .collect();
            statements.push(one(format!(
                "MERGE INTO {relation} AS DBT_INTERNAL_DEST\nUSING (SELECT * FROM {scratch}) AS DBT_INTERNAL_SOURCE\nON {}\nWHEN MATCHED THEN UPDATE SET\n    {}\nWHEN NOT MATCHED THEN INSERT\n    ({list})\nVALUES\n    ({})",
                on.join(" AND "),
                set.join(",\n    "),
                values.join(", ")
            )));
        }
        Strategy::Append => statements.push(one(insert)),
        Strategy::DeleteInsert if config.unique_key.is_empty() => statements.push(one(insert)),
        Strategy::DeleteInsert => {
            transaction = true;
            let keys = config.unique_key.join(", ");
            let lost = format!(
                "the incremental DELETE + INSERT of {relation} got no answer inside its transaction: it is committed only by the COMMIT, so {relation} is as it was unless the COMMIT was received"
            );
            for sql in [
                "BEGIN".to_string(),
                format!(
                    "DELETE FROM {relation} AS DBT_INTERNAL_DEST\nWHERE ({keys}) IN (\n    SELECT DISTINCT {keys}\n    FROM {scratch} AS DBT_INTERNAL_SOURCE\n)"
                ),
                insert,
                "COMMIT".to_string(),
            ] {
                statements.push(Statement {
                    sql,
                    unanswered: lost.clone(),
                });
            }
        }
    }
    Plan {
        statements,
        row_count: Some(format!("SELECT COUNT(*) AS n FROM {relation}")),
        guard: None,
        transaction,
        finally: vec![format!("DROP TABLE IF EXISTS {scratch}")],
    }
}

/// What an incremental build needs besides the warehouse.
pub struct IncrementalBuild<'a> {
    /// The model's build (its compiled, full-build SQL).
    pub model: ModelBuild<'a>,
    /// The relation it builds.
    pub name: &'a RelationName,
    /// How relation names are quoted.
    pub quoting: Quoting,
    /// Its checked config.
    pub config: IncrementalConfig,
    /// `--full-refresh`.
    pub full_refresh_flag: bool,
    /// Renders the model with `is_incremental()` true.
    pub render_incremental: &'a dyn Fn() -> Result<String, crate::diagnostics::Diagnostic>,
}

/// Builds an incremental model, recording the outcome in `result`.
pub fn build(
    b: &IncrementalBuild<'_>,
    warehouse: &dyn Warehouse,
    target: &str,
    result: &mut NodeResult,
) {
    let relation = &b.model.relation;
    let fail = |result: &mut NodeResult, e: &WarehouseError, what: &str| {
        let d = warehouse_diagnostic(e, target);
        result.status = NodeStatus::Error;
        result.message = Some(format!(
            "{} ({what}; {relation} was not changed)",
            d.message
        ));
        result.code = Some(d.code.to_string());
        result.query_id = e.query_id().map(str::to_string);
    };
    let existing = match existing(warehouse, b.name, b.quoting) {
        Ok(e) => e,
        Err(e) => return fail(result, &e, "looking up what is there failed"),
    };
    if existing != Existing::Table || b.config.rebuilds(b.full_refresh_flag) {
        return materialize::build(&full_build(&b.model, existing), warehouse, target, result);
    }
    let sql = match (b.render_incremental)() {
        Ok(sql) => sql,
        Err(d) => {
            result.status = NodeStatus::Error;
            result.message = Some(format!(
                "{} (rendering the model with is_incremental() true failed; {relation} was not changed)",
                d.message
            ));
            result.code = Some(d.code.to_string());
            return;
        }
    };
    let scratch_name = scratch(b.name);
    let scratch = scratch_name.sql(b.quoting);
    let drop_scratch = format!("DROP TABLE IF EXISTS {scratch}");
    materialize::build(&stage(&scratch, &sql), warehouse, target, result);
    if result.status == NodeStatus::Error {
        let _ = warehouse.execute(&drop_scratch);
        return;
    }
    // Dropped from here on by the plan's `finally`, or here.
    let columns =
        |name: &RelationName| super::run::relation_state(warehouse, name).map(|s| s.columns);
    let (old, new) = match (columns(b.name), columns(&scratch_name)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => {
            let _ = warehouse.execute(&drop_scratch);
            return fail(
                result,
                &e,
                "reading the columns of the table and the new rows failed",
            );
        }
    };
    let change = match schema_changes(b.config.on_schema_change, relation, &old, &new) {
        Ok(change) => change,
        Err(message) => {
            let _ = warehouse.execute(&drop_scratch);
            result.status = NodeStatus::Error;
            result.message = Some(message);
            result.code = Some(codes::SCHEMA_CHANGED.to_string());
            return;
        }
    };
    materialize::build(
        &apply(relation, &scratch, &b.config, &change),
        warehouse,
        target,
        result,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, data_type: &str) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            quoted: true,
        }
    }

    #[test]
    fn on_schema_change_modes_behave_as_dbts() {
        let target = [
            col("ID", "NUMBER(38,0)"),
            col("OLD", "VARCHAR(10)"),
            col("N", "NUMBER(38,0)"),
        ];
        let new = [
            col("ID", "NUMBER(38,0)"),
            col("OLD", "VARCHAR(16777216)"),
            col("N", "FLOAT"),
            col("ADDED", "BOOLEAN"),
        ];
        let ignore = schema_changes(OnSchemaChange::Ignore, "T", &target, &new).unwrap();
        assert!(ignore.alters.is_empty());
        assert_eq!(ignore.columns, ["ID", "OLD", "N"]);
        let e = schema_changes(OnSchemaChange::Fail, "T", &target, &new).unwrap_err();
        assert!(e.contains("Source columns not in target: [ADDED]"), "{e}");
        assert!(
            e.contains("new column types: [N NUMBER(38,0) -> FLOAT]"),
            "{e}"
        );
        assert!(!e.contains("OLD"), "a wider string is not a change: {e}");
        let same = schema_changes(OnSchemaChange::Fail, "T", &target, &target).unwrap();
        assert!(same.alters.is_empty());
        let append = schema_changes(OnSchemaChange::AppendNewColumns, "T", &target, &new).unwrap();
        assert_eq!(
            append.alters,
            ["ALTER TABLE T ADD COLUMN \"ADDED\" BOOLEAN"]
        );
        assert_eq!(append.columns, ["ID", "OLD", "N", "ADDED"]);
        let sync = schema_changes(OnSchemaChange::SyncAllColumns, "T", &target, &new[..2]).unwrap();
        assert_eq!(sync.alters, ["ALTER TABLE T DROP COLUMN \"N\""]);
        let sync = schema_changes(OnSchemaChange::SyncAllColumns, "T", &target, &new).unwrap();
        assert_eq!(
            sync.alters,
            [
                "ALTER TABLE T ADD COLUMN \"ADDED\" BOOLEAN",
                "ALTER TABLE T ALTER \"N\" SET DATA TYPE FLOAT"
            ]
        );
    }

    #[test]
    fn the_scratch_table_is_dbts_name() {
        let r = RelationName::new("DB", "S", "orders");
        assert_eq!(scratch(&r).identifier, "orders__dbt_tmp");
    }
}
