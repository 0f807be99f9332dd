//! `seed`, `run` and `build`: the seeds loaded, then the selected models
//! built in dependency order, each a node of the [`scheduler`], every
//! result recorded in `target/run_results.json` (see
//! [`crate::artifacts::run_results`]) and printed as it finishes.
//!
//! A model is built by its [`materialize`] strategy; a failed model skips
//! its dependents and the rest go on, unless `fail_fast` stops everything;
//! a seed that failed to load skips the models that read it. The run lock
//! keeps two runs on one project and target from overlapping.

use crate::artifacts::run_results::{NodeResult, NodeStatus, RunRecorder};
use crate::catalog::load_catalog;
use crate::compile::{Compilation, CompileOptions, CompiledModel, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::execution::connect::{Connector, outcome_unknown, warehouse_diagnostic};
use crate::execution::materialize::{self, ModelBuild};
use crate::execution::scheduler::{Node, NodeKind, NodeRunner, ScheduleOptions, lock, run_nodes};
use crate::execution::seed::load_seeds;
use crate::files::lock::RunLock;
use crate::pipeline::compile_project;
use crate::project::Project;
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
    /// `cio-sql build`: seeds, then models.
    Build,
}

/// `seed`, `run` or `build` of the project in `opts`: loads it, takes the
/// run lock, compiles it (writing `target/` unless only seeding), connects
/// with `connect`, loads the seeds and builds the selected models. Every
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
    let compilation = compile_project(
        project,
        catalog.clone(),
        &CompileOptions {
            write: kind != RunKind::Seed,
            ..opts.clone()
        },
    )?;
    if kind != RunKind::Seed {
        for d in &compilation.diagnostics {
            out.diagnostic(d);
        }
        for m in compilation.selected_models() {
            for d in &m.diagnostics {
                out.diagnostic(d);
            }
        }
    }
    let wh = connect(&compilation.project)?;
    let report_line = report_node(out);
    let report = |r: &NodeResult, done: usize, total: usize| {
        recorder.record(r);
        report_line(r, done, total);
    };
    let mut failed_seeds = Vec::new();
    if kind != RunKind::Run {
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
        run_models(
            &compilation,
            wh.as_ref(),
            RunOptions {
                failed_seeds,
                ..run
            },
            &report,
        );
    }
    Ok(())
}

/// The progress line of a finished node.
fn progress_line(r: &NodeResult, done: usize, total: usize) -> String {
    let label = match r.status {
        NodeStatus::Success => "OK     ",
        NodeStatus::Error => "ERROR  ",
        NodeStatus::Skipped => "SKIP   ",
    };
    let rows = r.rows.map(|n| format!(", {n} rows")).unwrap_or_default();
    let mut line = format!(
        "  {done:>3} of {total}  {label} {}  [{}{rows}, {:.2}s]",
        r.name, r.materialized, r.execution_time
    );
    if let Some(msg) = &r.message
        && r.status != NodeStatus::Success
    {
        line.push_str(&format!("\n           {msg}"));
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
/// [`scheduler`], built by its [`materialize`] strategy. `report` is called
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
    let index: HashMap<&str, usize> = selected
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let nodes: Vec<Node> = selected
        .iter()
        .map(|m| Node {
            id: c.unique_id(&m.name),
            name: m.name.clone(),
            kind: NodeKind::Model,
            // Selected parents only: the others are not built by this run.
            deps: c
                .dag
                .parents(&m.name)
                .into_iter()
                .filter_map(|p| index.get(p).copied())
                .collect(),
        })
        .collect();
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
    let runner = ModelRunner {
        c,
        models: &selected,
        nodes: &nodes,
        warehouse,
        schemas_made: Mutex::new(HashSet::new()),
    };
    run_nodes(&nodes, &schedule, &runner, report)
}

/// Builds the models of a run, one node each.
struct ModelRunner<'a> {
    c: &'a Compilation,
    models: &'a [&'a CompiledModel],
    nodes: &'a [Node],
    warehouse: &'a dyn Warehouse,
    /// Schemas created (or found) by this run.
    schemas_made: Mutex<HashSet<String>>,
}

impl NodeRunner for ModelRunner<'_> {
    fn start(&self, i: usize) -> NodeResult {
        let m = self.models[i];
        NodeResult {
            unique_id: self.nodes[i].id.clone(),
            name: m.name.clone(),
            relation: m.relation.to_string(),
            materialized: m.config.materialized().to_string(),
            status: NodeStatus::Success,
            execution_time: 0.0,
            rows: None,
            query_id: None,
            message: None,
            code: None,
        }
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
        let build = ModelBuild {
            relation,
            sql: &sql,
            materialization,
        };
        let plan = materialize::materialize(&build, None);
        materialize::build(&plan, self.warehouse, target, result);
    }
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
