//! `seed`, `run` and `build`: the seeds loaded, then the selected models
//! built in dependency order, each a node of the [`scheduler`](crate::execution::scheduler), every
//! result recorded in `target/run_results.json` (see
//! [`crate::artifacts::run_results`]) and printed as it finishes.
//!
//! A model is built by its [`materialize`] strategy; a failed model skips
//! its dependents and the rest go on, unless `fail_fast` stops everything;
//! a seed that failed to load skips the models that read it. The run lock
//! keeps two runs on one project and target from overlapping.

use crate::artifacts::run_results::{NodeResult, NodeStatus, RunRecorder};
use crate::catalog::load_catalog;
use crate::compile::data_tests::DataTest;
use crate::compile::test_select::TestSelection;
use crate::compile::{Compilation, CompileOptions, CompiledModel, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::execution::connect::{Connector, outcome_unknown, warehouse_diagnostic};
use crate::execution::data_test::{TestOptions, TestRunner, write_compiled};
use crate::execution::materialize::{self, ModelBuild};
use crate::execution::scheduler::{Node, NodeKind, NodeRunner, ScheduleOptions, lock, run_nodes};
use crate::execution::seed::load_seeds;
use crate::files::lock::RunLock;
use crate::pipeline::compile_project;
use crate::project::{Materialization, Project};
use crate::report::Output;
use crate::sql::RelationName;
use crate::warehouse::Warehouse;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

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
    /// How data tests run (`build`, `test`).
    pub tests: TestOptions,
    /// Let change-tracked sync tables lose more than their
    /// `cio_max_delete_share` of rows.
    pub allow_mass_delete: bool,
    /// `--full-refresh`: rebuild incremental models whole.
    pub full_refresh: bool,
    /// Renders an incremental model again with `is_incremental()` true;
    /// set by [`run_steps`] when a selected model is incremental.
    pub renderer: Option<Arc<crate::render::Renderer>>,
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

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// `cio-sql seed`.
    Seed,
    /// `cio-sql run`.
    Run,
    /// `cio-sql build`: seeds, then models, each model's tests after it.
    Build,
    /// `cio-sql test`: the selected models' data tests.
    Test,
}

impl RunKind {
    /// The command's name.
    pub fn command(self) -> &'static str {
        match self {
            RunKind::Seed => "seed",
            RunKind::Run => "run",
            RunKind::Build => "build",
            RunKind::Test => "test",
        }
    }
}

/// `seed`, `run`, `build` or `test` of the project in `opts`: loads it,
/// takes the run lock, compiles it (writing `target/` unless only
/// seeding), generates the data tests (`build`, `test`), connects with
/// `connect`, loads the seeds and builds the selected models, each
/// model's tests after it (`test`: the tests only). Every
/// node's result goes to `recorder` and is printed through `out` as it
/// finishes. `Err` is what stopped the run early (the project does not
/// load, the lock is held, the warehouse cannot be used).
pub fn run_steps(
    kind: RunKind,
    opts: &CompileOptions,
    run: RunOptions,
    out: &Output,
    connect: &Connector,
    recorder: &RunRecorder,
) -> Result<(), Diagnostic> {
    let project = Project::load(&opts.load)?;
    recorder.set_project(&project);
    let catalog = load_catalog(&project)?;
    let _lock = RunLock::acquire(&project.target_dir(), &project.target.name)?;
    let catalog = Arc::new(catalog);
    // Specs naming tests select tests; the others select models.
    let mut opts = opts.clone();
    let mut test_selection = TestSelection::default();
    if matches!(kind, RunKind::Build | RunKind::Test) {
        (opts.select, opts.exclude, test_selection) =
            crate::compile::project_tests::split_specs(&project, &opts.select, &opts.exclude)?;
    }
    let compilation = compile_project(
        project,
        catalog.clone(),
        &CompileOptions {
            write: kind != RunKind::Seed,
            ..opts
        },
    )?;
    if kind != RunKind::Seed {
        // A seed's own problem is printed when its load fails, below.
        let seed_file = |d: &Diagnostic| {
            kind == RunKind::Build
                && compilation
                    .seeds
                    .iter()
                    .any(|s| d.file.as_deref() == Some(std::path::Path::new(&s.path)))
        };
        for d in compilation.diagnostics.iter().filter(|d| !seed_file(d)) {
            out.diagnostic(d);
        }
        for m in compilation.selected_models() {
            for d in &m.diagnostics {
                out.diagnostic(d);
            }
        }
    }
    // The data tests, rendered and written before anything runs.
    let mut tests = Vec::new();
    if matches!(kind, RunKind::Build | RunKind::Test) {
        let warnings;
        (tests, warnings) = crate::compile::project_tests::project_tests(
            &compilation,
            catalog.clone(),
            &test_selection,
        )?;
        for d in &warnings {
            out.diagnostic(d);
        }
        write_compiled(&compilation, &tests)?;
    }
    let wh = connect(&compilation.project)?;
    let report_line = report_node(out);
    let report = |r: &NodeResult, done: usize, total: usize| {
        recorder.record(r);
        report_line(r, done, total);
    };
    let mut failed_seeds = Vec::new();
    if matches!(kind, RunKind::Seed | RunKind::Build) {
        let seeds = load_seeds(
            &compilation,
            catalog.as_ref(),
            wh.as_ref(),
            run.fail_fast,
            &report,
        );
        for d in &seeds.diagnostics {
            out.diagnostic(d);
        }
        failed_seeds = seeds.failed;
    }
    if kind != RunKind::Seed {
        let incremental = compilation
            .selected_models()
            .iter()
            .any(|m| m.config.materialization() == Some(Materialization::Incremental));
        let renderer = if incremental && kind != RunKind::Test {
            Some(Arc::new(crate::render::Renderer::new(
                &compilation.project,
                catalog.clone(),
            )?))
        } else {
            None
        };
        run_graph(
            &compilation,
            wh.as_ref(),
            RunOptions {
                failed_seeds,
                renderer,
                ..run
            },
            kind != RunKind::Test,
            &tests,
            &report,
        );
    }
    // `test` builds nothing, so a model that did not compile has no node
    // to fail: the run fails for it.
    let failed = compilation.error_count();
    if kind == RunKind::Test && failed > 0 {
        recorder.fail(&format!(
            "{failed} selected model(s) or project file(s) did not compile (see the errors above); their data tests did not run"
        ));
    }
    Ok(())
}

/// The progress line of a finished node.
fn progress_line(r: &NodeResult, done: usize, total: usize) -> String {
    let label = match r.status {
        NodeStatus::Success => "OK     ",
        NodeStatus::Error => "ERROR  ",
        NodeStatus::Skipped => "SKIP   ",
        NodeStatus::Pass => "PASS   ",
        NodeStatus::Fail => "FAIL   ",
        NodeStatus::Warn => "WARN   ",
    };
    let rows = match (r.failures, r.rows) {
        (Some(n), _) => format!(", {n} failing"),
        (None, Some(n)) => format!(", {n} rows"),
        (None, None) => String::new(),
    };
    let mut line = format!(
        "  {done:>3} of {total}  {label} {}  [{}{rows}, {:.2}s]",
        r.name, r.materialized, r.execution_time
    );
    if let Some(msg) = &r.message
        && !matches!(r.status, NodeStatus::Success | NodeStatus::Pass)
    {
        line.push_str(&format!("\n           {msg}"));
    }
    if let Some(sample) = &r.sample {
        line.push('\n');
        line.push_str(sample);
    }
    line
}

/// Prints each finished node through `out`: a progress line, or a JSON
/// event.
pub fn report_node(out: &Output) -> impl Fn(&NodeResult, usize, usize) + Sync + '_ {
    move |r, done, total| {
        out.info(&progress_line(r, done, total), false);
        out.event(serde_json::json!({"event": "node", "done": done, "total": total, "result": r}));
    }
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

/// Runs the selected models of `c` in dependency order, each a node of the
/// [`scheduler`](crate::execution::scheduler), built by its [`materialize`] strategy. `report` is called
/// as each node finishes (from worker threads, one at a time), with its
/// result, how many nodes finished and how many there are; the results, in
/// the order they finished, are returned too.
pub fn run_models(
    c: &Compilation,
    warehouse: &dyn Warehouse,
    opts: RunOptions,
    report: &(dyn Fn(&NodeResult, usize, usize) + Sync),
) -> Vec<NodeResult> {
    run_graph(c, warehouse, opts, true, &[], report)
}

/// Runs the selected models of `c` (when `models`) and `tests` as one
/// graph: a test after the models it reads, and a model after its
/// parents' tests, so a failing test of severity error skips the model's
/// dependents, as dbt's `build` does.
pub fn run_graph(
    c: &Compilation,
    warehouse: &dyn Warehouse,
    opts: RunOptions,
    models: bool,
    tests: &[DataTest],
    report: &(dyn Fn(&NodeResult, usize, usize) + Sync),
) -> Vec<NodeResult> {
    // Ephemeral models are never built: they are inlined into their
    // dependents, which wait for the ephemerals' own parents.
    let ephemeral =
        |m: &CompiledModel| m.config.materialization() == Some(Materialization::Ephemeral);
    let ephemerals: HashSet<&str> = c
        .models
        .iter()
        .filter(|m| ephemeral(m))
        .map(|m| m.name.as_str())
        .collect();
    let selected: Vec<&CompiledModel> = if models {
        c.selected_models()
            .into_iter()
            .filter(|m| !ephemeral(m))
            .collect()
    } else {
        Vec::new()
    };
    let parents_through = |name: &str| -> Vec<&str> {
        let mut out = Vec::new();
        let mut todo: Vec<&str> = c.dag.parents(name);
        let mut seen = HashSet::new();
        while let Some(p) = todo.pop() {
            if !seen.insert(p) {
                continue;
            }
            if ephemerals.contains(p) {
                todo.extend(c.dag.parents(p));
            } else {
                out.push(p);
            }
        }
        out
    };
    let index: HashMap<&str, usize> = selected
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let first_test = selected.len();
    // The tests attached to each model.
    let mut tests_of: HashMap<&str, Vec<usize>> = HashMap::new();
    // The tests of each source table, by `DATABASE.SCHEMA.TABLE`: the
    // models reading it run after them, as in dbt's build.
    let mut source_tests: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in tests.iter().enumerate() {
        if let Some(m) = &t.model {
            tests_of.entry(m.as_str()).or_default().push(first_test + i);
        }
        if let Some(r) = &t.source_relation {
            source_tests
                .entry(r.as_str())
                .or_default()
                .push(first_test + i);
        }
    }
    let mut nodes: Vec<Node> = selected
        .iter()
        .map(|m| Node {
            id: c.unique_id(&m.name),
            name: m.name.clone(),
            kind: NodeKind::Model,
            // Selected parents only: the others are not built by this run.
            deps: parents_through(&m.name)
                .into_iter()
                .filter_map(|p| index.get(p).map(|&i| (p, i)))
                .flat_map(|(p, i)| {
                    std::iter::once(i).chain(tests_of.get(p).into_iter().flatten().copied())
                })
                .chain(
                    m.relations
                        .iter()
                        .filter_map(|r| source_tests.get(r.as_str()))
                        .flatten()
                        .copied(),
                )
                .collect(),
        })
        .collect();
    nodes.extend(tests.iter().map(|t| {
        Node {
            id: t.unique_id(&c.project.config.name),
            name: t.name.clone(),
            kind: NodeKind::Test,
            deps: t
                .depends_on
                .iter()
                .filter_map(|m| index.get(m.as_str()).copied())
                .collect(),
        }
    }));
    let blocked = seed_blocks(c, &opts.failed_seeds)
        .into_iter()
        .filter_map(|(name, why)| Some((*index.get(name.as_str())?, why)))
        .collect();
    let schedule = ScheduleOptions {
        threads: if opts.threads == 0 {
            c.project.target.threads
        } else {
            opts.threads
        },
        fail_fast: opts.fail_fast,
        stopped: opts.fail_fast && !opts.failed_seeds.is_empty(),
        blocked,
    };
    let runner = GraphRunner {
        models: ModelRunner {
            c,
            models: &selected,
            nodes: &nodes,
            warehouse,
            schemas_made: Mutex::new(HashSet::new()),
            allow_mass_delete: opts.allow_mass_delete,
            full_refresh: opts.full_refresh,
            renderer: opts.renderer.clone(),
        },
        tests: TestRunner {
            c,
            tests,
            warehouse,
            opts: &opts.tests,
            audit_made: Mutex::new(HashSet::new()),
        },
        first_test,
    };
    run_nodes(&nodes, &schedule, &runner, report)
}

/// Runs a graph of models (the first `first_test` nodes) and tests.
struct GraphRunner<'a> {
    models: ModelRunner<'a>,
    tests: TestRunner<'a>,
    first_test: usize,
}

impl NodeRunner for GraphRunner<'_> {
    fn start(&self, i: usize) -> NodeResult {
        match i.checked_sub(self.first_test) {
            Some(t) => self.tests.start(t),
            None => self.models.start(i),
        }
    }

    fn run(&self, i: usize, result: &mut NodeResult) {
        match i.checked_sub(self.first_test) {
            Some(t) => self.tests.run(t, result),
            None => self.models.run(i, result),
        }
    }
}

/// Builds the models of a run, one node each.
struct ModelRunner<'a> {
    c: &'a Compilation,
    models: &'a [&'a CompiledModel],
    nodes: &'a [Node],
    warehouse: &'a dyn Warehouse,
    /// Schemas created (or found) by this run.
    schemas_made: Mutex<HashSet<String>>,
    /// See [`RunOptions::allow_mass_delete`].
    allow_mass_delete: bool,
    /// See [`RunOptions::full_refresh`].
    full_refresh: bool,
    /// See [`RunOptions::renderer`].
    renderer: Option<Arc<crate::render::Renderer>>,
}

impl NodeRunner for ModelRunner<'_> {
    fn start(&self, i: usize) -> NodeResult {
        let m = self.models[i];
        NodeResult::start(
            self.nodes[i].id.clone(),
            m.name.clone(),
            m.relation.to_string(),
            m.config.materialized().to_string(),
            NodeStatus::Success,
        )
    }

    fn run(&self, i: usize, result: &mut NodeResult) {
        let m = self.models[i];
        let (Some(materialization), ModelStatus::Success) = (m.config.materialization(), m.status)
        else {
            let d = m.diagnostics.iter().find(|d| d.is_error());
            result.status = NodeStatus::Error;
            result.message =
                Some(d.map_or("the model did not compile".into(), |d| d.message.clone()));
            result.code = d.map(|d| d.code.to_string());
            return;
        };
        let quoting = self.c.project.config.quoting;
        let target = &self.c.project.target.name;
        let relation = m.relation.sql(quoting);
        if let Err(e) = self.ensure_schema(&m.relation, &relation) {
            let d = warehouse_diagnostic(&e.0, target);
            result.status = NodeStatus::Error;
            result.message = Some(format!("{}{}", d.message, e.1));
            result.code = Some(d.code.to_string());
            result.query_id = e.0.query_id().map(str::to_string);
            return;
        }
        let sql = m.sql().unwrap_or_default();
        let tracking = crate::compile::tracking_of(m).ok().flatten();
        let build = ModelBuild {
            relation,
            sql: &sql,
            materialization,
            tracking: tracking.as_ref(),
            allow_mass_delete: self.allow_mass_delete,
        };
        if materialization == Materialization::Incremental {
            return self.incremental(m, build, result);
        }
        let state = if build.needs_state() {
            match relation_state(self.warehouse, &m.relation) {
                Ok(state) => Some(state),
                Err(e) => {
                    let d = warehouse_diagnostic(&e, target);
                    result.status = NodeStatus::Error;
                    result.message = Some(format!(
                        "{} (reading the columns of {} failed; it was not changed)",
                        d.message, build.relation
                    ));
                    result.code = Some(crate::diagnostics::codes::TRACKING_STATE.to_string());
                    return;
                }
            }
        } else {
            None
        };
        let plan = materialize::materialize(&build, state.as_ref());
        materialize::build(&plan, self.warehouse, target, result);
    }
}

impl ModelRunner<'_> {
    /// Builds incremental model `m` ([`crate::execution::incremental`]).
    fn incremental(&self, m: &CompiledModel, model: ModelBuild<'_>, result: &mut NodeResult) {
        let config = match crate::project::incremental::incremental_config(&m.config) {
            Ok(config) => config,
            Err(p) => {
                // Checked at compile time (CIO048); kept for a model built
                // from an older compile.
                result.status = NodeStatus::Error;
                result.message = Some(format!("{}; {}", p.message, p.help));
                result.code = Some(crate::diagnostics::codes::INCREMENTAL_CONFIG.to_string());
                return;
            }
        };
        let render = || -> Result<String, crate::diagnostics::Diagnostic> {
            let source = self.c.project.models.iter().find(|p| p.name == m.name);
            match (&self.renderer, source) {
                (Some(r), Some(source)) => r.render_incremental(source).map(|r| r.sql),
                _ => Err(crate::diagnostics::Diagnostic::error(
                    crate::diagnostics::codes::INCREMENTAL_CONFIG,
                    "the model's source is not at hand for an incremental run",
                )),
            }
        };
        let b = crate::execution::incremental::IncrementalBuild {
            model,
            name: &m.relation,
            quoting: self.c.project.config.quoting,
            config,
            full_refresh_flag: self.full_refresh,
            render_incremental: &render,
        };
        crate::execution::incremental::build(
            &b,
            self.warehouse,
            &self.c.project.target.name,
            result,
        );
    }
}

/// The relation `name` as it is in the warehouse: whether it exists, and
/// its columns.
pub fn relation_state(
    warehouse: &dyn Warehouse,
    name: &RelationName,
) -> Result<materialize::RelationState, crate::warehouse::WarehouseError> {
    let found = crate::warehouse::introspect_columns(warehouse, std::slice::from_ref(name))?;
    Ok(match found.get(name) {
        Some(columns) => materialize::RelationState {
            exists: true,
            columns: columns
                .iter()
                .map(|(name, data_type)| crate::sql::Column {
                    name: name.clone(),
                    data_type: data_type.clone(),
                    quoted: true,
                })
                .collect(),
        },
        None => materialize::RelationState::default(),
    })
}

impl ModelRunner<'_> {
    /// Creates the schema of `relation` (written `shown`) unless this run
    /// made it already. Held while the schema is made, so that no model of
    /// the schema is built before its schema exists. `Err`: the error and
    /// what to add to its message.
    fn ensure_schema(
        &self,
        relation: &RelationName,
        shown: &str,
    ) -> Result<(), (crate::warehouse::WarehouseError, String)> {
        let schema = relation.schema_sql(self.c.project.config.quoting);
        let mut made = lock(&self.schemas_made);
        if made.contains(&schema) {
            return Ok(());
        }
        if let Err(e) = self
            .warehouse
            .execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        {
            let what = if outcome_unknown(&e) {
                format!(
                    " (CREATE SCHEMA IF NOT EXISTS {schema} got no answer, so the schema may or may not have been created; {shown} was not changed)"
                )
            } else {
                String::new()
            };
            return Err((e, what));
        }
        made.insert(schema);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::run_results::RunRecorder;
    use crate::project::LoadOptions;
    use crate::warehouse::{MockReply, MockWarehouse};
    use std::time::Duration;

    /// A project on disk with `models` (name, SQL) and, optionally, seeds.
    fn project(models: &[(&str, &str)], seeds: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dbt_project.yml"), "name: p\n").unwrap();
        std::fs::write(
            dir.path().join("profiles.yml"),
            "p:\n  outputs:\n    dev:\n      type: snowflake\n      database: ANALYTICS\n      schema: PUBLIC\n  target: dev\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("models")).unwrap();
        for (name, sql) in models {
            std::fs::write(dir.path().join(format!("models/{name}.sql")), sql).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("seeds")).unwrap();
        let mut catalog = String::from("relations:\n");
        for (name, csv) in seeds {
            std::fs::write(dir.path().join(format!("seeds/{name}.csv")), csv).unwrap();
            // The seed loads into a relation of the catalog, which models ref.
            catalog.push_str(&format!(
                "  - {{name: {name}, schema: PUBLIC, columns: [{{name: id, data_type: NUMBER}}]}}\n"
            ));
        }
        std::fs::write(dir.path().join("catalog.yml"), catalog).unwrap();
        dir
    }

    fn options(dir: &tempfile::TempDir) -> CompileOptions {
        CompileOptions {
            load: LoadOptions {
                project_dir: dir.path().to_path_buf(),
                profiles_dir: Some(dir.path().to_path_buf()),
                ..LoadOptions::default()
            },
            ..CompileOptions::default()
        }
    }

    fn compiled(dir: &tempfile::TempDir) -> Compilation {
        crate::pipeline::compile(&options(dir)).unwrap()
    }

    /// Runs the selected models of `c` on `wh` and returns the results by
    /// model name.
    fn run(c: &Compilation, wh: &MockWarehouse, opts: RunOptions) -> HashMap<String, NodeResult> {
        run_models(c, wh, opts, &|_, _, _| {})
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect()
    }

    fn threads(n: usize) -> RunOptions {
        RunOptions {
            threads: n,
            ..RunOptions::default()
        }
    }

    /// `a <- b <- c`, and `d` alone (a table).
    const CHAIN: &[(&str, &str)] = &[
        ("a", "select 1 as id"),
        ("b", "select id from {{ ref('a') }}"),
        ("c", "select id from {{ ref('b') }}"),
        ("d", "{{ config(materialized='table') }} select 2 as id"),
    ];

    #[test]
    fn models_are_built_in_dependency_order() {
        let dir = project(CHAIN, &[]);
        let c = compiled(&dir);
        let wh = MockWarehouse::new();
        wh.on("count(*)", MockReply::rows(["N"], vec![vec![5.into()]]));
        let r = run(&c, &wh, threads(4));
        assert!(r.values().all(|r| r.status == NodeStatus::Success), "{r:?}");
        let statements = wh.statements();
        let at = |name: &str| {
            statements
                .iter()
                .position(|s| {
                    s.starts_with(&format!(
                        "CREATE OR REPLACE VIEW ANALYTICS.PUBLIC.{name} AS"
                    ))
                })
                .unwrap_or_else(|| panic!("{name} built: {statements:?}"))
        };
        assert!(at("a") < at("b") && at("b") < at("c"), "{statements:?}");
        // The schema is made once, first; a table's rows are counted.
        assert_eq!(wh.count_containing("CREATE SCHEMA IF NOT EXISTS"), 1);
        assert!(statements[0].starts_with("CREATE SCHEMA IF NOT EXISTS ANALYTICS.PUBLIC"));
        assert!(wh.count_containing("CREATE OR REPLACE TABLE ANALYTICS.PUBLIC.d AS") == 1);
        assert_eq!(r["d"].rows, Some(5));
        assert_eq!(r["a"].rows, None);
        assert_eq!(r["a"].unique_id, "model.p.a");
    }

    #[test]
    fn a_failed_model_skips_its_downstream_and_fail_fast_stops_the_run() {
        let dir = project(CHAIN, &[]);
        let c = compiled(&dir);
        let failing = || {
            let wh = MockWarehouse::new();
            wh.on(
                "VIEW ANALYTICS.PUBLIC.b AS",
                MockReply::sql_error("002003", "Object does not exist"),
            );
            wh
        };
        let wh = failing();
        let r = run(&c, &wh, threads(1));
        assert_eq!(r["a"].status, NodeStatus::Success);
        assert_eq!(r["b"].status, NodeStatus::Error);
        assert_eq!(r["b"].code.as_deref(), Some("CIO303"));
        assert!(
            r["b"]
                .message
                .as_deref()
                .unwrap()
                .contains("Object does not exist")
        );
        assert_eq!(
            r["c"].message.as_deref(),
            Some("skipped: upstream model b did not build")
        );
        assert_eq!(r["d"].status, NodeStatus::Success, "d does not read b");
        // --fail-fast: nothing starts after the failure.
        let wh = failing();
        let opts = RunOptions {
            fail_fast: true,
            ..threads(1)
        };
        let finished = run_models(&c, &wh, opts, &|_, _, _| {});
        let b = finished.iter().position(|r| r.name == "b").unwrap();
        assert_eq!(finished[b].status, NodeStatus::Error);
        assert!(b + 1 < finished.len(), "c comes after b");
        for r in &finished[b + 1..] {
            assert_eq!(
                r.message.as_deref(),
                Some("skipped: --fail-fast stopped the run after a failure"),
                "{}",
                r.name
            );
        }
        let after: Vec<&str> = finished[b + 1..].iter().map(|r| r.name.as_str()).collect();
        for name in after {
            assert_eq!(
                wh.count_containing(&format!("ANALYTICS.PUBLIC.{name} AS")),
                0,
                "{name} was not built"
            );
        }
    }

    #[test]
    fn a_seed_that_did_not_load_skips_the_models_that_read_it() {
        let dir = project(
            &[
                ("reads", "select id from {{ ref('people') }}"),
                ("downstream", "select id from {{ ref('reads') }}"),
                ("alone", "select 1 as id"),
            ],
            &[("people", "id\n1\n")],
        );
        let c = compiled(&dir);
        let failed = vec![FailedSeed {
            name: "people".into(),
            relation: Some(RelationName::new("ANALYTICS", "PUBLIC", "people")),
        }];
        let wh = MockWarehouse::new();
        let r = run(
            &c,
            &wh,
            RunOptions {
                failed_seeds: failed.clone(),
                ..threads(2)
            },
        );
        assert_eq!(
            r["reads"].message.as_deref(),
            Some("skipped: it reads seed `people` (ANALYTICS.PUBLIC.people), which did not load")
        );
        assert_eq!(
            r["downstream"].message.as_deref(),
            Some(
                "skipped: upstream model reads reads seed `people` (ANALYTICS.PUBLIC.people), which did not load"
            )
        );
        assert_eq!(r["alone"].status, NodeStatus::Success);
        // With --fail-fast, a failed seed stops every model.
        let r = run(
            &c,
            &MockWarehouse::new(),
            RunOptions {
                failed_seeds: failed,
                fail_fast: true,
                ..threads(2)
            },
        );
        assert!(r.values().all(|r| r.status == NodeStatus::Skipped), "{r:?}");
    }

    #[test]
    fn threads_build_independent_models_at_once() {
        let models: Vec<(String, String)> = (0..6)
            .map(|i| (format!("m{i}"), format!("select {i} as id")))
            .collect();
        let models: Vec<(&str, &str)> = models
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_str()))
            .collect();
        let dir = project(&models, &[]);
        let c = compiled(&dir);
        let wh = MockWarehouse::new();
        wh.slow(Duration::from_millis(30));
        let r = run(&c, &wh, threads(4));
        assert_eq!(r.len(), 6);
        assert!(wh.most_at_once() >= 2, "models were built one at a time");
        let wh = MockWarehouse::new();
        wh.slow(Duration::from_millis(5));
        run(&c, &wh, threads(1));
        assert_eq!(wh.most_at_once(), 1);
    }

    #[test]
    fn build_loads_the_seeds_then_the_models_through_the_connector() {
        let dir = project(
            &[("reads", "select id from {{ ref('people') }}")],
            &[("people", "id\n1\n2\n")],
        );
        let opts = CompileOptions {
            write: true,
            ..options(&dir)
        };
        let wh = Arc::new(MockWarehouse::new());
        let connected = wh.clone();
        let connect = move |_: &Project| -> Result<Box<dyn Warehouse>, Diagnostic> {
            Ok(Box::new(connected.clone()))
        };
        let recorder = RunRecorder::start("build", dir.path());
        let out = Output {
            quiet: true,
            ..Output::default()
        };
        run_steps(RunKind::Build, &opts, threads(2), &out, &connect, &recorder).unwrap();
        let results = recorder.finish().unwrap();
        let names: Vec<&str> = results
            .results
            .iter()
            .map(|r| r.unique_id.as_str())
            .collect();
        assert_eq!(names, ["seed.p.people", "model.p.reads"]);
        assert!(results.success);
        let statements = wh.statements();
        let seed_done = statements
            .iter()
            .position(|s| s.starts_with("CREATE OR REPLACE TABLE ANALYTICS.PUBLIC.people AS"))
            .unwrap();
        let model = statements
            .iter()
            .position(|s| s.starts_with("CREATE OR REPLACE VIEW ANALYTICS.PUBLIC.reads"))
            .unwrap();
        assert!(seed_done < model, "{statements:?}");
        let written = std::fs::read_to_string(dir.path().join("target/run_results.json")).unwrap();
        assert!(written.contains("\"model.p.reads\""), "{written}");
    }
}
