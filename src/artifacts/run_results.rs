//! `target/run_results.json`: one entry per node of a `seed`, `run` or
//! `build` ([`NodeResult`]), and the recorder that writes the file however
//! the command ends ([`RunRecorder`]).

use crate::compile::Compilation;
use crate::diagnostics::Diagnostic;
use serde::Serialize;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

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
    /// A data test that found no failing rows.
    Pass,
    /// A data test of severity error that found failing rows.
    Fail,
    /// A data test of severity warn that found failing rows.
    Warn,
}

impl NodeStatus {
    /// True when the node did its job: built, passed, or only warned. A
    /// node's dependents run only after it did.
    pub fn is_ok(self) -> bool {
        matches!(
            self,
            NodeStatus::Success | NodeStatus::Pass | NodeStatus::Warn
        )
    }
}

/// One entry of `run_results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct NodeResult {
    /// `model.<project>.<name>`, `seed.<project>.<name>` or
    /// `test.<project>.<name>`.
    pub unique_id: String,
    /// Model or seed name.
    pub name: String,
    /// `database.schema.identifier`.
    pub relation: String,
    /// `table`, `view`, `seed` or `test`.
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
    /// A data test's failing rows (dbt's `failures`); none for other nodes.
    pub failures: Option<u64>,
    /// A sample of a failed test's rows, printed (never written to the
    /// file: it is data).
    #[serde(skip)]
    pub sample: Option<String>,
}

impl NodeResult {
    /// The result of a node before it runs: status `status`, nothing
    /// measured yet.
    pub fn start(
        unique_id: String,
        name: String,
        relation: String,
        materialized: String,
        status: NodeStatus,
    ) -> Self {
        NodeResult {
            unique_id,
            name,
            relation,
            materialized,
            status,
            execution_time: 0.0,
            rows: None,
            query_id: None,
            message: None,
            code: None,
            failures: None,
            sample: None,
        }
    }
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
    /// True when every node succeeded (a test passed or only warned).
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
    /// `run`, `seed`, `build` or `test`.
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
        self.success = self.error.is_none() && self.results.iter().all(|r| r.status.is_ok());
    }

    /// Writes `run_results.json` into `target_dir`, atomically.
    pub fn write(&self, target_dir: &Path) -> Result<(), Diagnostic> {
        crate::files::write_json(&target_dir.join("run_results.json"), self)
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
