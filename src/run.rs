//! Execution: building compiled models in the warehouse, in DAG order.
//!
//! [`run_models`] runs the selected models of a [`Compilation`] on a
//! [`Warehouse`] with up to `threads` models at once. Views are built with
//! `CREATE OR REPLACE VIEW`, tables with `CREATE OR REPLACE TABLE … AS`, each
//! a single atomic statement: a failure leaves the previous relation as it
//! was. A failed model skips its dependents and the rest go on, unless
//! `fail_fast` stops everything. [`RunLock`] (in [`crate::lock`]) keeps two
//! runs on one project and target from overlapping.

use crate::compile::{Compilation, CompiledModel, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::render::Relation;
use crate::warehouse::Warehouse;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

pub use crate::lock::RunLock;

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
        let mut results = RunResults::started(command);
        results.set_project(&c.project);
        results
    }

    /// Empty results for `command`, before the project is known.
    pub fn started(command: &str) -> Self {
        RunResults {
            metadata: RunMetadata {
                generator: "cio-sql",
                version: env!("CARGO_PKG_VERSION"),
                command: command.to_string(),
                project_name: String::new(),
                target_name: String::new(),
                target_relation: String::new(),
                started_at: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            },
            results: Vec::new(),
            elapsed_time: 0.0,
            success: false,
            error: None,
        }
    }

    /// Fills the metadata from the loaded project.
    pub fn set_project(&mut self, project: &crate::project::Project) {
        let target = &project.target;
        self.metadata.project_name = project.config.name.clone();
        self.metadata.target_name = target.name.clone();
        self.metadata.target_relation = format!("{}.{}", target.database, target.schema);
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

/// `run_results.json` of a `seed`, `run` or `build` in the making, written
/// however the command ends: by [`RunRecorder::finish`] on every return
/// path, by its `Drop` if the command panics, and by an interrupt hook on
/// Ctrl-C or `kill`. A run that stops early (the project does not load, the
/// lock is held, a model does not render, the warehouse is unreachable)
/// thus replaces the previous file with `"success": false` and the error,
/// so a stale `"success": true` never outlives a failed run.
pub struct RunRecorder {
    state: std::sync::Arc<Mutex<Recording>>,
    _hook: crate::files::InterruptHook,
}

struct Recording {
    results: RunResults,
    /// Where the file goes, once known.
    target_dir: Option<std::path::PathBuf>,
    started: Instant,
    written: bool,
}

impl Recording {
    /// Writes the file (once) with `error` if none is recorded yet.
    fn write(&mut self, error: Option<&str>) -> Result<(), Diagnostic> {
        if self.written {
            return Ok(());
        }
        self.written = true;
        if self.results.error.is_none()
            && let Some(e) = error
        {
            self.results.error = Some(e.to_string());
        }
        self.results.finish(self.started.elapsed().as_secs_f64());
        match &self.target_dir {
            Some(dir) => self.results.write(dir),
            None => Ok(()),
        }
    }
}

impl RunRecorder {
    /// Starts recording `command` for the project in `project_dir`. Until
    /// the project loads, the file goes to the target folder named by its
    /// project file, if that can be read (see
    /// [`crate::project::target_dir_of`]).
    pub fn start(command: &str, project_dir: &Path) -> RunRecorder {
        let state = std::sync::Arc::new(Mutex::new(Recording {
            results: RunResults::started(command),
            target_dir: crate::project::target_dir_of(project_dir),
            started: Instant::now(),
            written: false,
        }));
        let hooked = state.clone();
        let hook = crate::files::on_interrupt(move |signal| {
            let mut r = hooked.lock().unwrap_or_else(|e| e.into_inner());
            let _ = r.write(Some(&format!(
                "interrupted by {signal} before the run finished; nodes not listed did not run or their outcome is unknown"
            )));
        });
        RunRecorder { state, _hook: hook }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recording> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The project loaded: its metadata and target folder.
    pub fn set_project(&self, project: &crate::project::Project) {
        let mut r = self.lock();
        r.results.set_project(project);
        r.target_dir = Some(project.target_dir());
    }

    /// Records a finished node.
    pub fn record(&self, node: &NodeResult) {
        self.lock().results.results.push(node.clone());
    }

    /// Records a failure of the whole run.
    pub fn fail(&self, error: &str) {
        self.lock()
            .results
            .error
            .get_or_insert_with(|| error.to_string());
    }

    /// Writes the file and returns the results as written.
    pub fn finish(&self) -> Result<RunResults, (RunResults, Diagnostic)> {
        let mut r = self.lock();
        let written = r.write(None);
        match written {
            Ok(()) => Ok(r.results.clone()),
            Err(d) => Err((r.results.clone(), d)),
        }
    }

    /// Where the file goes, if known.
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.lock()
            .target_dir
            .as_ref()
            .map(|d| d.join("run_results.json"))
    }
}

impl Drop for RunRecorder {
    fn drop(&mut self) {
        let _ = self
            .lock()
            .write(Some("cio-sql stopped before the run finished"));
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
/// as each node finishes (from worker threads, one at a time), with its
/// result, how many nodes finished and how many there are; the results, in
/// the order they finished, are returned too.
pub fn run_models(
    c: &Compilation,
    warehouse: &dyn Warehouse,
    opts: RunOptions,
    report: &(dyn Fn(&NodeResult, usize, usize) + Sync),
) -> Vec<NodeResult> {
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
    finished.into_inner().unwrap_or_else(|e| e.into_inner())
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
