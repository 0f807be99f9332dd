//! Running data tests ([`DataTest`]) in the warehouse: `cio-sql test`, and
//! `build`, which runs each model's tests right after the model.
//!
//! A test is a query returning the failing rows. It runs as
//! `SELECT COUNT(*) … FROM (<test>)`: no row passes; rows fail it (status
//! `fail`, or `warn` for a test of severity warn), their count recorded as
//! `failures`; `--rows N` fetches a sample of them. A warehouse error is an
//! `error` result naming the test. With `--store-failures` the failing rows
//! are first written to a table per test, as dbt's `store_failures` does:
//! `CREATE OR REPLACE TABLE <database>.<schema>_dbt_test__audit.<test> AS
//! <test>`, and counted there.

use crate::artifacts::run_results::{NodeResult, NodeStatus};
use crate::compile::Compilation;
use crate::compile::data_tests::{DataTest, TestKind, TestSeverity};
use crate::diagnostics::{Diagnostic, codes};
use crate::execution::connect::warehouse_diagnostic;
use crate::sql::RelationName;
use crate::warehouse::{Rows, Warehouse, WarehouseError};
use std::collections::HashSet;
use std::sync::Mutex;

/// How data tests run.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Failing rows to fetch and print per failing test (0: none).
    pub rows: usize,
    /// Write each test's failing rows to a table of the audit schema.
    pub store_failures: bool,
}

/// The schema failing rows are stored in: dbt's `<schema>_dbt_test__audit`.
pub const AUDIT_SUFFIX: &str = "_dbt_test__audit";

/// The relation a test's failing rows are stored in.
pub fn audit_relation(c: &Compilation, test: &DataTest) -> RelationName {
    let target = &c.project.target;
    RelationName::new(
        target.database.clone(),
        format!("{}{AUDIT_SUFFIX}", target.schema),
        test.alias().to_string(),
    )
}

/// Writes each test's query under `target/compiled/`, where dbt writes
/// compiled tests: a generic test at `<project>/<its .yml>/<alias>.sql`, a
/// singular test at `<project>/<its path>`, a contract test at
/// `cio_tests/<name>.sql`.
pub fn write_compiled(c: &Compilation, tests: &[DataTest]) -> Result<(), Diagnostic> {
    let root = c.project.target_dir().join("compiled");
    // The project's name as one folder, whatever it holds.
    let folder: String = c
        .project
        .config
        .name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    let project = root.join(folder);
    for t in tests {
        let path = match (&t.path, t.kind) {
            (Some(yml), TestKind::Generic) => project
                .join(yml.trim_start_matches('/'))
                .join(format!("{}.sql", t.alias())),
            (Some(p), _) => project.join(p.trim_start_matches('/')),
            (None, _) => root.join("cio_tests").join(format!("{}.sql", t.alias())),
        };
        if let Some(dir) = path.parent() {
            crate::files::ensure_dir(dir)?;
        }
        crate::files::write_atomic(&path, format!("{}\n", t.sql).as_bytes())?;
    }
    Ok(())
}

/// Runs the data tests of a run, one node each.
pub struct TestRunner<'a> {
    /// The compiled project.
    pub c: &'a Compilation,
    /// The tests, in node order.
    pub tests: &'a [DataTest],
    /// Where they run.
    pub warehouse: &'a dyn Warehouse,
    /// How.
    pub opts: &'a TestOptions,
    /// Audit schemas made by this run.
    pub audit_made: Mutex<HashSet<String>>,
}

impl TestRunner<'_> {
    /// The result of test `i` before it runs.
    pub fn start(&self, i: usize) -> NodeResult {
        let t = &self.tests[i];
        let quoting = self.c.project.config.quoting;
        NodeResult::start(
            t.unique_id(&self.c.project.config.name),
            t.name.clone(),
            if self.stores(t) {
                audit_relation(self.c, t).sql(quoting)
            } else {
                String::new()
            },
            "test".into(),
            NodeStatus::Pass,
        )
    }

    /// Whether test `t` stores its failing rows: its own `store_failures`,
    /// else the run's `--store-failures` (as dbt's `should_store_failures`).
    fn stores(&self, t: &DataTest) -> bool {
        t.config.store_failures.unwrap_or(self.opts.store_failures)
    }

    /// Runs test `i`, recording its outcome in `result`.
    pub fn run(&self, i: usize, result: &mut NodeResult) {
        let t = &self.tests[i];
        if let Err((e, what)) = self.run_query(t, result) {
            let target = &self.c.project.target.name;
            let d = warehouse_diagnostic(&e, target);
            result.status = NodeStatus::Error;
            result.message = Some(format!(
                "test {} could not run{what}: {}",
                t.name, d.message
            ));
            result.code = Some(d.code.to_string());
            result.query_id = e.query_id().map(str::to_string);
        }
    }

    /// Runs the test's queries; `Err`: the warehouse error and which step
    /// it stopped.
    fn run_query(
        &self,
        t: &DataTest,
        result: &mut NodeResult,
    ) -> Result<(), (WarehouseError, String)> {
        let quoting = self.c.project.config.quoting;
        // What the failing rows are read from: the test, or its table.
        let query = t.config.limited(&t.sql);
        let from = if self.stores(t) {
            let audit = audit_relation(self.c, t);
            let schema = audit.schema_sql(quoting);
            let made = self.audit_made.lock().unwrap_or_else(|e| e.into_inner());
            if !made.contains(&schema) {
                drop(made);
                self.warehouse
                    .execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .map_err(|e| (e, format!(" (creating the schema {schema})")))?;
                self.audit_made
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(schema);
            }
            let table = audit.sql(quoting);
            self.warehouse
                .execute(&format!("CREATE OR REPLACE TABLE {table} AS\n{query}"))
                .map_err(|e| (e, format!(" (storing its failures in {table})")))?;
            table
        } else {
            format!("(\n{query}\n) AS dbt_internal_test")
        };
        let counted = self
            .warehouse
            .query(&t.config.count_query(&from))
            .map_err(|e| (e, String::new()))?;
        result.query_id = counted.query_id.clone();
        // `fail_calc` over no rows can be NULL (a SUM): no failures.
        let failures = first_number(&counted).unwrap_or(0.0);
        result.failures = Some(failures.max(0.0).round() as u64);
        let error = t.severity == TestSeverity::Error;
        let Some(is_error) = t.config.outcome(failures, error) else {
            return Ok(());
        };
        let (status, code, severity) = if is_error {
            (NodeStatus::Fail, codes::TEST_FAILED, "error")
        } else {
            (
                NodeStatus::Warn,
                codes::TEST_WARNED,
                if error { "error" } else { "warn" },
            )
        };
        result.status = status;
        result.code = Some(code.to_string());
        let shown = result.failures.unwrap_or(0);
        let rows = if shown == 1 { "row" } else { "rows" };
        let thresholds = t
            .config
            .thresholds(error)
            .map(|t| format!(", {t}"))
            .unwrap_or_default();
        result.message = Some(format!(
            "{shown} failing {rows} (severity {severity}{thresholds}): {}",
            t.description
        ));
        if self.opts.rows > 0 {
            let sample = self
                .warehouse
                .query(&format!("SELECT * FROM {from} LIMIT {}", self.opts.rows))
                .map_err(|e| (e, " (fetching a sample of its failing rows)".to_string()))?;
            result.sample = Some(format_sample(&sample));
        }
        Ok(())
    }
}

/// The first value of the first row, as a number.
fn first_number(rows: &Rows) -> Option<f64> {
    let v = rows.rows.first()?.first()?;
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The longest cell shown in a sample.
const CELL_CHARS: usize = 60;

/// Failing rows as an indented table, cells cut at [`CELL_CHARS`].
pub fn format_sample(rows: &Rows) -> String {
    let cell = |v: &serde_json::Value| -> String {
        let text = match v {
            serde_json::Value::Null => "NULL".to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text = text.replace(['\n', '\r', '\t'], " ");
        if text.chars().count() > CELL_CHARS {
            let cut: String = text.chars().take(CELL_CHARS - 1).collect();
            format!("{cut}…")
        } else {
            text
        }
    };
    let table: Vec<Vec<String>> = std::iter::once(rows.columns.clone())
        .chain(rows.rows.iter().map(|r| r.iter().map(cell).collect()))
        .collect();
    let widths: Vec<usize> = (0..rows.columns.len())
        .map(|i| {
            table
                .iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    table
        .iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("           | {} |", cells.join(" | "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_tables_with_short_cells() {
        let rows = Rows {
            columns: vec!["userId".into(), "n".into()],
            rows: vec![
                vec!["u1".into(), serde_json::Value::Null],
                vec!["x".repeat(100).into(), 3.into()],
            ],
            query_id: None,
        };
        let text = format_sample(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("| userId "), "{text}");
        assert!(lines[1].contains("| u1 ") && lines[1].contains("NULL"));
        assert!(lines[2].contains(&format!("{}…", "x".repeat(59))));
        assert_eq!(
            first_number(&Rows {
                rows: vec![vec!["7".into()]],
                ..rows
            }),
            Some(7.0)
        );
    }
}
