//! Execution: building compiled models in the warehouse, in DAG order.
//!
//! [`run_models`] runs the selected models of a [`Compilation`] on a
//! [`Warehouse`] with up to `threads` models at once. Views are built with
//! `CREATE OR REPLACE VIEW`, tables with `CREATE OR REPLACE TABLE … AS`, each
//! a single atomic statement: a failure leaves the previous relation as it
//! was. A failed model skips its dependents and the rest go on, unless
//! `fail_fast` stops everything; a seed that failed to load skips the models
//! that read it. [`RunLock`] (in [`crate::lock`]) keeps two runs on one
//! project and target from overlapping.
//!
//! Nothing here panics on odd input: no threads asked for, an empty
//! selection, a model that failed to compile or sits on a cycle; a lock
//! poisoned by a panicking worker is taken over, and a panic while building
//! one model becomes that model's error.

use crate::catalog::RelationName;
use crate::compile::{Compilation, CompiledModel, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::render::Relation;
use crate::warehouse::{Warehouse, WarehouseError};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

pub use crate::lock::RunLock;

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Models built at once; 0 takes `threads` of the target.
    pub threads: usize,
    /// Stop scheduling after the first failure.
    pub fail_fast: bool,
    /// Seeds that failed before the models ran: every model that reads one
    /// (through `ref()`, `source()` or its name in the SQL), and every model
    /// downstream of such a model, is skipped; with `fail_fast`, every model.
    pub failed_seeds: Vec<FailedSeed>,
}

/// A seed that did not load.
#[derive(Debug, Clone)]
pub struct FailedSeed {
    /// The seed's name.
    pub name: String,
    /// The relation it loads, when known (a seed folder that cannot be
    /// listed has none).
    pub relation: Option<RelationName>,
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

/// Locks `m`, taking the data over if a worker panicked while holding it:
/// the scheduler's state is changed in single steps, so it stays whole.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why each model must be skipped for a failed seed: it reads the seed's
/// relation, or a model upstream of it does. Every enabled model is looked
/// at, selected or not, since an unselected view passes a seed on.
fn seed_blocks(c: &Compilation, failed: &[FailedSeed]) -> HashMap<String, String> {
    let by_key: HashMap<String, &FailedSeed> = failed
        .iter()
        .filter_map(|f| f.relation.as_ref().map(|r| (r.key(), f)))
        .collect();
    if by_key.is_empty() {
        return HashMap::new();
    }
    let target = &c.project.target;
    let enabled: HashSet<&str> = c.dag.names().iter().map(String::as_str).collect();
    // Model name -> (the failed seed, the upstream model that reads it).
    let mut blocked: HashMap<String, (&FailedSeed, Option<String>)> = HashMap::new();
    for m in c
        .models
        .iter()
        .filter(|m| enabled.contains(m.name.as_str()))
    {
        let mut reads: Vec<String> = m.relations.iter().map(|r| r.to_uppercase()).collect();
        if let Some(sql) = m.sql() {
            let named = crate::analysis::reads::relations_named(&sql, target);
            reads.extend(named.iter().map(RelationName::key));
        }
        if let Some(f) = reads.iter().find_map(|k| by_key.get(k)) {
            blocked.insert(m.name.clone(), (f, None));
        }
    }
    // Downstream, in dependency order (models on a cycle, which failed to
    // compile, in insertion order).
    let order: Vec<String> = match c.dag.topological_order() {
        Ok(order) => order.into_iter().map(str::to_string).collect(),
        Err(_) => c.dag.names().to_vec(),
    };
    for name in order {
        if blocked.contains_key(&name) {
            continue;
        }
        let upstream = c.dag.parents(&name).into_iter().find_map(|p| {
            blocked
                .get(p)
                .map(|(f, via)| (*f, Some(via.clone().unwrap_or_else(|| p.to_string()))))
        });
        if let Some(block) = upstream {
            blocked.insert(name, block);
        }
    }
    blocked
        .into_iter()
        .map(|(name, (f, via))| {
            let seed = format!(
                "seed `{}` ({}), which did not load",
                f.name,
                f.relation
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            );
            let why = match via {
                None => format!("skipped: it reads {seed}"),
                Some(model) => format!("skipped: upstream model {model} reads {seed}"),
            };
            (name, why)
        })
        .collect()
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
    let project = &c.project.config.name;
    let blocked = seed_blocks(c, &opts.failed_seeds);
    let schemas_made: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let state = Mutex::new(Scheduler {
        pending: selected.iter().map(|m| m.name.clone()).collect(),
        running: 0,
        done: HashMap::new(),
        stop: opts.fail_fast && !opts.failed_seeds.is_empty(),
    });
    let wake = Condvar::new();
    let finished: Mutex<Vec<NodeResult>> = Mutex::new(Vec::new());

    let worker = || loop {
        // Pick a model whose selected parents are all done, or skip it.
        let next: Option<(&CompiledModel, Option<String>)> = {
            let mut s = lock(&state);
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
                        .filter(|p| by_name.contains_key(p))
                        .collect();
                    if parents.iter().all(|p| s.done.contains_key(*p)) {
                        let failed: Vec<&str> = parents
                            .iter()
                            .copied()
                            .filter(|p| s.done.get(*p) != Some(&NodeStatus::Success))
                            .collect();
                        let skip = if s.stop {
                            Some("skipped: --fail-fast stopped the run after a failure".to_string())
                        } else if let Some(why) = blocked.get(name.as_str()) {
                            Some(why.clone())
                        } else if !failed.is_empty() {
                            Some(format!(
                                "skipped: upstream model {} did not build",
                                failed.join(", ")
                            ))
                        } else {
                            None
                        };
                        picked = Some((i, skip));
                        break;
                    }
                }
                // Nothing ready and nothing running: only models on a cycle
                // are left (they failed to compile).
                let (i, skip) = match picked {
                    Some(p) => p,
                    None if s.running == 0 => (0, Some("skipped: part of a ref() cycle".into())),
                    None => {
                        s = wake.wait(s).unwrap_or_else(PoisonError::into_inner);
                        continue;
                    }
                };
                let name = s.pending.remove(i);
                if let Some(m) = by_name.get(name.as_str()) {
                    s.running += 1;
                    break Some((*m, skip));
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
            let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut r = result.clone();
                build_one(c, m, warehouse, &schemas_made, &mut r);
                r
            }));
            match built {
                Ok(r) => result = r,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    result.status = NodeStatus::Error;
                    result.message = Some(format!(
                        "internal error while building the model (a bug in cio-sql; please report it): {what}"
                    ));
                }
            }
        }
        result.execution_time = started.elapsed().as_secs_f64();
        {
            let mut s = lock(&state);
            s.running = s.running.saturating_sub(1);
            if result.status == NodeStatus::Error && opts.fail_fast {
                s.stop = true;
            }
            s.done.insert(m.name.clone(), result.status);
            let mut f = lock(&finished);
            f.push(result.clone());
            // A failing progress printer must not take the run down.
            let done = f.len();
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                report(&result, done, total)
            }));
        }
        wake.notify_all();
    };
    let threads = if opts.threads == 0 {
        c.project.target.threads
    } else {
        opts.threads
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, total.max(1)) {
            scope.spawn(worker);
        }
    });
    finished
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Whether a statement that failed with `e` may still have run: it was
/// sent, but no answer came (lost connection, timeout, garbled reply).
/// A statement Snowflake rejected, or one never sent, did not.
pub fn outcome_unknown(e: &WarehouseError) -> bool {
    !matches!(e, WarehouseError::Sql { .. } | WarehouseError::Config(_))
}

/// Whether the session can still run statements after `e` (to clean up).
pub fn connection_usable(e: &WarehouseError) -> bool {
    matches!(
        e,
        WarehouseError::Sql { .. } | WarehouseError::Timeout { .. }
    )
}

fn build_one(
    c: &Compilation,
    m: &CompiledModel,
    warehouse: &dyn Warehouse,
    schemas_made: &Mutex<HashSet<String>>,
    result: &mut NodeResult,
) {
    let relation = Relation {
        name: m.relation.clone(),
        quoting: c.project.config.quoting,
    }
    .render_sql();
    let fail = |result: &mut NodeResult, e: &WarehouseError, what: String| {
        let d = crate::connect::warehouse_diagnostic(e, &c.project.target.name);
        result.status = NodeStatus::Error;
        result.message = Some(format!("{}{what}", d.message));
        result.code = Some(d.code.to_string());
        result.query_id = e.query_id().map(str::to_string);
    };
    let schema = Relation {
        name: m.relation.clone(),
        quoting: c.project.config.quoting,
    }
    .schema_sql();
    {
        // Held while the schema is made, so that no model of the schema is
        // built before its schema exists.
        let mut made = lock(schemas_made);
        if !made.contains(&schema) {
            if let Err(e) = warehouse.execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")) {
                let what = if outcome_unknown(&e) {
                    format!(
                        " (CREATE SCHEMA IF NOT EXISTS {schema} got no answer, so the schema may or may not have been created; {relation} was not changed)"
                    )
                } else {
                    String::new()
                };
                return fail(result, &e, what);
            }
            made.insert(schema);
        }
    }
    let kind = if m.config.materialized() == "view" {
        "VIEW"
    } else {
        "TABLE"
    };
    match warehouse.execute(&build_statement(c, m)) {
        Ok(done) => {
            result.query_id = done.query_id;
            if m.config.materialized() != "view" {
                let count = format!("SELECT COUNT(*) AS n FROM {relation}");
                if let Ok(rows) = warehouse.query(&count) {
                    result.rows = rows.rows.first().and_then(|r| r.first()).and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    });
                }
            }
        }
        Err(e) => {
            let what = if outcome_unknown(&e) {
                format!(
                    " (CREATE OR REPLACE {kind} {relation} was sent but got no answer: it is one atomic statement, so {relation} is either as it was or rebuilt)"
                )
            } else {
                String::new()
            };
            fail(result, &e, what)
        }
    }
}
