//! Execution: building compiled models in the warehouse, in DAG order.
//!
//! [`run_models`] runs the selected models of a [`Compilation`] on a
//! [`Warehouse`] with up to `threads` models at once. Views are built with
//! `CREATE OR REPLACE VIEW`, tables with `CREATE OR REPLACE TABLE … AS`, each
//! a single atomic statement: a failure leaves the previous relation as it
//! was. A failed model skips its dependents and the rest go on, unless
//! `fail_fast` stops everything. [`RunLock`] keeps two runs on one project
//! and target from overlapping.

use crate::compile::{Compilation, CompiledModel, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::render::Relation;
use crate::warehouse::Warehouse;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Models built at once; 0 takes `threads` of the target.
    pub threads: usize,
    /// Stop scheduling after the first failure.
    pub fail_fast: bool,
    /// Relations (upper-case `DB.SCHEMA.NAME`) that failed to load, e.g.
    /// seeds: models reading them are skipped.
    pub failed_relations: BTreeSet<String>,
}

/// The outcome of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    /// Built.
    Success,
    /// Failed (compile or warehouse error).
    Error,
    /// Not run: an upstream model failed, or `--fail-fast` stopped the run.
    Skipped,
}

/// One entry of `run_results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct NodeResult {
    /// `model.<project>.<name>` or `seed.<project>.<name>`.
    pub unique_id: String,
    /// Model or seed name.
    pub name: String,
    /// `database.schema.identifier`.
    pub relation: String,
    /// `table`, `view` or `seed`.
    pub materialized: String,
    /// Outcome.
    pub status: NodeStatus,
    /// Seconds spent on this node.
    pub execution_time: f64,
    /// Rows in the built table (tables and seeds), when known.
    pub rows: Option<u64>,
    /// Snowflake query id of the building statement, when known.
    pub query_id: Option<String>,
    /// The error or the reason for skipping.
    pub message: Option<String>,
    /// The diagnostic code of the error.
    pub code: Option<String>,
}

/// `target/run_results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunResults {
    /// About the run.
    pub metadata: RunMetadata,
    /// Every node, in the order it finished.
    pub results: Vec<NodeResult>,
    /// Seconds for the whole run.
    pub elapsed_time: f64,
    /// True when every node succeeded.
    pub success: bool,
    /// A failure of the whole run (e.g. the warehouse was unreachable).
    pub error: Option<String>,
}

/// Run metadata (no secrets: target name and location only).
#[derive(Debug, Clone, Serialize)]
pub struct RunMetadata {
    /// `cio-sql`.
    pub generator: &'static str,
    /// cio-sql's version.
    pub version: &'static str,
    /// `run`, `seed` or `build`.
    pub command: String,
    /// Project name.
    pub project_name: String,
    /// Target name.
    pub target_name: String,
    /// `database.schema` of the target.
    pub target_relation: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_at: u64,
}

impl RunResults {
    /// Empty results for `command` on the compilation's project.
    pub fn new(command: &str, c: &Compilation) -> Self {
        let target = &c.project.target;
        RunResults {
            metadata: RunMetadata {
                generator: "cio-sql",
                version: env!("CARGO_PKG_VERSION"),
                command: command.to_string(),
                project_name: c.project.config.name.clone(),
                target_name: target.name.clone(),
                target_relation: format!("{}.{}", target.database, target.schema),
                started_at: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            },
            results: Vec::new(),
            elapsed_time: 0.0,
            success: true,
            error: None,
        }
    }

    /// Recomputes `success`.
    pub fn finish(&mut self, elapsed: f64) {
        self.elapsed_time = elapsed;
        self.success =
            self.error.is_none() && self.results.iter().all(|r| r.status == NodeStatus::Success);
    }

    /// Writes `run_results.json` into `target_dir`, atomically.
    pub fn write(&self, target_dir: &Path) -> Result<(), Diagnostic> {
        crate::output::write_json(&target_dir.join("run_results.json"), self)
    }
}

/// The statement that builds `m`.
pub fn build_statement(c: &Compilation, m: &CompiledModel) -> String {
    let relation = Relation {
        name: m.relation.clone(),
        quoting: c.project.config.quoting,
    }
    .render_sql();
    let sql = m.sql().unwrap_or_default();
    let sql = sql.strip_suffix(';').unwrap_or(&sql).trim_end();
    let kind = if m.config.materialized() == "view" {
        "VIEW"
    } else {
        "TABLE"
    };
    format!("CREATE OR REPLACE {kind} {relation} AS\n{sql}")
}

struct Scheduler {
    pending: Vec<String>,
    running: usize,
    done: HashMap<String, NodeStatus>,
    stop: bool,
}

/// Runs the selected models of `c` in dependency order. `report` is called
/// as each node finishes (from worker threads, one at a time).
pub fn run_models(
    c: &Compilation,
    warehouse: &dyn Warehouse,
    opts: RunOptions,
    results: &mut RunResults,
    report: &(dyn Fn(&NodeResult, usize, usize) + Sync),
) {
    let selected: Vec<&CompiledModel> = c.selected_models();
    let total = selected.len();
    let by_name: HashMap<&str, &CompiledModel> =
        selected.iter().map(|m| (m.name.as_str(), *m)).collect();
    let selected_names: HashSet<&str> = by_name.keys().copied().collect();
    let project = &c.project.config.name;
    let schemas_made: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let state = Mutex::new(Scheduler {
        pending: c.selected.clone(),
        running: 0,
        done: HashMap::new(),
        stop: false,
    });
    let wake = Condvar::new();
    let finished: Mutex<Vec<NodeResult>> = Mutex::new(Vec::new());

    let worker = || loop {
        // Pick a model whose selected parents are all done, or skip it.
        let next: Option<(&CompiledModel, Option<String>)> = {
            let mut s = state.lock().unwrap();
            loop {
                if s.pending.is_empty() {
                    break None;
                }
                let mut picked = None;
                for (i, name) in s.pending.iter().enumerate() {
                    let parents: Vec<&str> = c
                        .dag
                        .parents(name)
                        .into_iter()
                        .filter(|p| selected_names.contains(p))
                        .collect();
                    if parents.iter().all(|p| s.done.contains_key(*p)) {
                        let failed: Vec<&str> = parents
                            .iter()
                            .copied()
                            .filter(|p| s.done[*p] != NodeStatus::Success)
                            .collect();
                        let m = by_name[name.as_str()];
                        let blocked: Vec<&String> = m
                            .relations
                            .iter()
                            .filter(|r| opts.failed_relations.contains(&r.to_uppercase()))
                            .collect();
                        let skip = if s.stop {
                            Some("skipped: --fail-fast stopped the run after a failure".to_string())
                        } else if !failed.is_empty() {
                            Some(format!(
                                "skipped: upstream model {} did not build",
                                failed.join(", ")
                            ))
                        } else if !blocked.is_empty() {
                            Some(format!(
                                "skipped: {} did not load",
                                blocked
                                    .iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        } else {
                            None
                        };
                        picked = Some((i, skip));
                        break;
                    }
                }
                match picked {
                    Some((i, skip)) => {
                        let name = s.pending.remove(i);
                        s.running += 1;
                        break Some((by_name[name.as_str()], skip));
                    }
                    None if s.running == 0 => {
                        // Only models on a cycle are left: they failed to compile.
                        let name = s.pending.remove(0);
                        s.running += 1;
                        break Some((
                            by_name[name.as_str()],
                            Some("skipped: part of a ref() cycle".into()),
                        ));
                    }
                    None => s = wake.wait(s).unwrap(),
                }
            }
        };
        let Some((m, skip)) = next else {
            wake.notify_all();
            return;
        };
        let started = Instant::now();
        let mut result = NodeResult {
            unique_id: format!("model.{project}.{}", m.name),
            name: m.name.clone(),
            relation: m.relation.to_string(),
            materialized: m.config.materialized().to_string(),
            status: NodeStatus::Success,
            execution_time: 0.0,
            rows: None,
            query_id: None,
            message: None,
            code: None,
        };
        if let Some(reason) = skip {
            result.status = NodeStatus::Skipped;
            result.message = Some(reason);
        } else if m.status != ModelStatus::Success {
            let d = m.diagnostics.iter().find(|d| d.is_error());
            result.status = NodeStatus::Error;
            result.message =
                Some(d.map_or("the model did not compile".into(), |d| d.message.clone()));
            result.code = d.map(|d| d.code.to_string());
        } else {
            build_one(c, m, warehouse, &schemas_made, &mut result);
        }
        result.execution_time = started.elapsed().as_secs_f64();
        {
            let mut s = state.lock().unwrap();
            s.running -= 1;
            if result.status == NodeStatus::Error && opts.fail_fast {
                s.stop = true;
            }
            s.done.insert(m.name.clone(), result.status);
            let mut f = finished.lock().unwrap();
            f.push(result.clone());
            report(&result, f.len(), total);
        }
        wake.notify_all();
    };
    let threads = if opts.threads == 0 {
        c.project.target.threads
    } else {
        opts.threads
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(total.max(1)) {
            scope.spawn(worker);
        }
    });
    results.results.extend(finished.into_inner().unwrap());
}

fn build_one(
    c: &Compilation,
    m: &CompiledModel,
    warehouse: &dyn Warehouse,
    schemas_made: &Mutex<HashSet<String>>,
    result: &mut NodeResult,
) {
    let fail = |result: &mut NodeResult, e: &crate::warehouse::WarehouseError| {
        let d = crate::connect::warehouse_diagnostic(e, &c.project.target.name);
        result.status = NodeStatus::Error;
        result.message = Some(d.message);
        result.code = Some(d.code.to_string());
        result.query_id = e.query_id().map(str::to_string);
    };
    let relation = Relation {
        name: m.relation.clone(),
        quoting: c.project.config.quoting,
    };
    let schema = relation.schema_sql();
    let needs_schema = schemas_made.lock().unwrap().insert(schema.clone());
    if needs_schema
        && let Err(e) = warehouse.execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
    {
        schemas_made.lock().unwrap().remove(&schema);
        return fail(result, &e);
    }
    match warehouse.execute(&build_statement(c, m)) {
        Ok(done) => {
            result.query_id = done.query_id;
            if m.config.materialized() != "view" {
                let count = format!("SELECT COUNT(*) AS n FROM {}", relation.render_sql());
                if let Ok(rows) = warehouse.query(&count) {
                    result.rows = rows.rows.first().and_then(|r| r.first()).and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    });
                }
            }
        }
        Err(e) => fail(result, &e),
    }
}

/// An exclusive lock on running one project against one target.
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
    /// The lock file.
    pub path: PathBuf,
}

impl RunLock {
    /// Takes the lock for `target` in `target_dir`, or fails at once when
    /// another run holds it.
    pub fn acquire(target_dir: &Path, target: &str) -> Result<RunLock, Diagnostic> {
        std::fs::create_dir_all(target_dir).map_err(|e| {
            Diagnostic::error(
                "CIO020",
                format!("cannot create {}: {e}", target_dir.display()),
            )
        })?;
        let path = target_dir.join(format!(".cio-sql-run-{target}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                Diagnostic::error("CIO020", format!("cannot open {}: {e}", path.display()))
            })?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file, path }),
            Err(_) => Err(Diagnostic::error(
                "CIO310",
                format!(
                    "another cio-sql run is already building this project on target `{target}`"
                ),
            )
            .with_help(format!(
                "wait for it to finish (it holds {}); runs on one target never overlap",
                path.display()
            ))),
        }
    }
}
