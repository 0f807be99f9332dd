//! Loading the seeds: each read, planned and loaded on its own, one at a
//! time, each a node of the run (`seed.<project>.<name>`) with its result.

use super::plan::SeedSettings;
use super::{SeedFile, SeedPlan};
use crate::artifacts::run_results::{NodeResult, NodeStatus};
use crate::catalog::Catalog;
use crate::compile::Compilation;
use crate::compile::{CompiledSeed, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::execution::connect::{connection_usable, outcome_unknown, warehouse_diagnostic};
use crate::execution::run::FailedSeed;
use crate::execution::scheduler::{Node, NodeKind, NodeRunner, ScheduleOptions, lock, run_nodes};
use crate::sql::RelationName;
use crate::warehouse::{self, Warehouse};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// What loading the seeds gave.
#[derive(Debug, Default)]
pub struct SeedsLoaded {
    /// One result per seed file (and per seed folder that could not be read).
    pub results: Vec<NodeResult>,
    /// The diagnostics of the seeds that could not be read or planned, to
    /// print with their snippet.
    pub diagnostics: Vec<Diagnostic>,
    /// The seeds that did not load, for [`RunOptions::failed_seeds`](crate::execution::run::RunOptions::failed_seeds).
    pub failed: Vec<FailedSeed>,
}

/// A diagnostic in one line for a node's message: `file:line: what; fix: how`.
fn located(d: &Diagnostic) -> String {
    let place = match (&d.file, d.line) {
        (Some(file), Some(line)) => format!("{}:{line}: ", file.display()),
        (Some(file), None) => format!("{}: ", file.display()),
        _ => String::new(),
    };
    match &d.help {
        Some(help) => format!("{place}{}; fix: {help}", d.message),
        None => format!("{place}{}", d.message),
    }
}

/// Reads, plans and loads every seed, one at a time, in path order, each a
/// node of the [`scheduler`](crate::execution::scheduler). A seed that cannot be read, planned or loaded
/// is a failed node and the others go on; with `fail_fast`, the seeds after
/// a failure are skipped.
pub fn load_seeds(
    c: &Compilation,
    catalog: &dyn Catalog,
    wh: &dyn Warehouse,
    fail_fast: bool,
    report: &(dyn Fn(&NodeResult, usize, usize) + Sync),
) -> SeedsLoaded {
    let project = &c.project;
    // The names the project's relations take: a scratch table never gets one.
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for m in &c.models {
        taken.insert(m.relation.key(), format!("model {}", m.name));
    }
    for r in catalog.relations() {
        taken.insert(r.key(), format!("catalog relation {r}"));
    }
    let files = seeds_to_load(c);
    let nodes: Vec<Node> = files
        .iter()
        .map(|file| {
            let name = node_name(file);
            Node {
                id: format!("seed.{}.{name}", project.config.name),
                name,
                kind: NodeKind::Seed,
                deps: Vec::new(),
            }
        })
        .collect();
    let runner = SeedRunner {
        c,
        catalog,
        wh,
        taken,
        files: files.into_iter().map(|f| Mutex::new(Some(f))).collect(),
        nodes: &nodes,
        loaded_into: Mutex::new(BTreeMap::new()),
        diagnostics: Mutex::new(Vec::new()),
        failed: Mutex::new(Vec::new()),
    };
    // One at a time, in path order: a later seed's checks see the earlier
    // ones (two files loading one relation).
    let opts = ScheduleOptions {
        threads: 1,
        fail_fast,
        ..ScheduleOptions::default()
    };
    let results = run_nodes(&nodes, &opts, &runner, report);
    SeedsLoaded {
        results,
        diagnostics: runner
            .diagnostics
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
        failed: runner
            .failed
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
    }
}

/// The seeds a run loads, in path order: every enabled seed (whatever the
/// selection: a model may read a seed by its name rather than through
/// `ref()`), then the seed folders that could not be listed, as failed
/// nodes.
/// The enabled seeds the selection needs: the selected ones and those the
/// selected models read, directly or through other models (a `build
/// --select orders` loads the seeds under `orders` only, as `+orders`
/// would select them); a seed that cannot be read and a seed folder that
/// cannot be listed, always.
fn seeds_to_load(c: &Compilation) -> Vec<Result<CompiledSeed, Diagnostic>> {
    let mut needed: std::collections::HashSet<&str> =
        c.selected_nodes.iter().map(String::as_str).collect();
    let mut todo: Vec<&str> = c.selected.iter().map(String::as_str).collect();
    let mut seen = std::collections::HashSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name) {
            for p in c.dag.parents(name) {
                needed.insert(p);
                todo.push(p);
            }
        }
    }
    c.seeds
        .iter()
        .filter(|s| s.status != ModelStatus::Disabled)
        // A seed that cannot be read fails as a node of its own, skipping
        // the models that read it, whatever the selection.
        .filter(|s| needed.contains(s.name.as_str()) || s.status == ModelStatus::Error)
        .map(|s| Ok(s.clone()))
        .chain(c.project.seed_problems.iter().cloned().map(Err))
        .collect()
}

/// The node name of a seed: its name; a folder that cannot be listed is a
/// node named after its path.
fn node_name(file: &Result<CompiledSeed, Diagnostic>) -> String {
    match file {
        Ok(s) => s.name.clone(),
        Err(d) => d
            .file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    }
}

/// Loads the seeds of a run, one node each.
struct SeedRunner<'a> {
    c: &'a Compilation,
    catalog: &'a dyn Catalog,
    wh: &'a dyn Warehouse,
    /// Relation key → the project relation that has that name.
    taken: BTreeMap<String, String>,
    /// Each seed, taken when its node runs.
    files: Vec<Mutex<Option<Result<CompiledSeed, Diagnostic>>>>,
    nodes: &'a [Node],
    /// Relation key → the seed file that loads it.
    loaded_into: Mutex<BTreeMap<String, String>>,
    diagnostics: Mutex<Vec<Diagnostic>>,
    failed: Mutex<Vec<FailedSeed>>,
}

impl SeedRunner<'_> {
    /// The relation seed `i` loads, when it is a file.
    fn relation(&self, i: usize) -> Option<RelationName> {
        let file = lock(&self.files[i]);
        match file.as_ref() {
            Some(Ok(s)) => Some(s.relation.clone()),
            _ => None,
        }
    }

    /// Reads and plans seed `s`, checking it against the seeds loaded
    /// before it and the project's relations.
    fn plan(&self, s: CompiledSeed) -> Result<SeedPlan, Diagnostic> {
        let project = &self.c.project;
        if let Some(d) = s.diagnostics.iter().find(|d| d.is_error()) {
            return Err(d.clone());
        }
        let known = project.seeds.iter().find(|p| p.path == s.path);
        let file = SeedFile {
            name: s.name.clone(),
            path: s.path.clone(),
            file: known.map_or_else(|| project.root.join(&s.path), |p| p.file.clone()),
        };
        let seed = super::read_seed_with(&file, known.map_or(b',', |p| p.delimiter()))?;
        let settings = SeedSettings {
            relation: Some(s.relation.clone()),
            column_types: known.map(|p| p.column_types()).unwrap_or_default(),
            quote_columns: known.is_some_and(|p| p.quote_columns()),
        };
        let plan = super::plan::plan_seed_with(
            &seed,
            self.catalog,
            &project.target,
            project.config.quoting,
            &settings,
        )?;
        let f = file;
        let mut loaded_into = lock(&self.loaded_into);
        if let Some(other) = loaded_into.get(&plan.relation.key()) {
            return Err(Diagnostic::error(
                codes::SEEDS_CLASH,
                format!("{} and {other} both load {}", f.path, plan.relation),
            )
            .at_file(&f.path)
            .with_help("rename one of the files: a seed's file name is its table name"));
        }
        let family = format!(
            "{}.{}.{}",
            plan.relation.database.to_uppercase(),
            plan.relation.schema.to_uppercase(),
            plan.scratch_family
        );
        if let Some((key, owner)) = self.taken.iter().find(|(k, _)| k.starts_with(&family)) {
            return Err(Diagnostic::error(
                codes::SCRATCH_NAME,
                format!(
                    "the {owner} is named like the scratch tables of this seed ({key}); loading it would drop the {owner}"
                ),
            )
            .at_file(&f.path)
            .with_help(format!(
                "rename the {owner}: names starting with {} are kept for seed loading",
                super::SCRATCH_PREFIX
            )));
        }
        loaded_into.insert(plan.relation.key(), f.path.clone());
        Ok(plan)
    }
}

impl NodeRunner for SeedRunner<'_> {
    fn start(&self, i: usize) -> NodeResult {
        let node = &self.nodes[i];
        NodeResult::start(
            node.id.clone(),
            node.name.clone(),
            self.relation(i)
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            "seed".into(),
            NodeStatus::Success,
        )
    }

    fn run(&self, i: usize, r: &mut NodeResult) {
        let relation = self.relation(i);
        let file = lock(&self.files[i]).take();
        let planned = match file {
            Some(file) => file.and_then(|f| self.plan(f)),
            None => return,
        };
        match planned {
            Ok(plan) => run_seed(&plan, self.wh, &self.c.project.target.name, r),
            Err(d) => {
                r.status = NodeStatus::Error;
                r.message = Some(located(&d));
                r.code = Some(d.code.to_string());
                lock(&self.diagnostics).push(d);
            }
        }
        if r.status == NodeStatus::Error {
            lock(&self.failed).push(FailedSeed {
                name: self.nodes[i].name.clone(),
                relation,
            });
        }
    }
}

/// Runs the statements of one seed's plan, recording the outcome in `r`.
/// On a failure the message says which statements had run and what may
/// have changed, and the scratch table is dropped if the session still
/// works.
fn run_seed(plan: &super::SeedPlan, wh: &dyn Warehouse, target: &str, r: &mut NodeResult) {
    use super::SeedStep;
    let created = plan
        .steps
        .iter()
        .position(|s| *s == SeedStep::CreateScratch)
        .unwrap_or(0);
    for (i, stmt) in plan.statements.iter().enumerate() {
        let done = if plan.steps.get(i) == Some(&SeedStep::DropLeftover) {
            // List what earlier loads left, and drop it.
            wh.query(stmt).and_then(|rows| {
                let names: Vec<String> = match rows.column_index("name") {
                    Some(c) => rows
                        .rows
                        .iter()
                        .filter_map(|row| row.get(c).and_then(|v| v.as_str()).map(str::to_string))
                        .collect(),
                    None => Vec::new(),
                };
                for drop in plan.leftover_drops(names.iter().map(String::as_str)) {
                    wh.execute(&drop)?;
                }
                Ok(warehouse::Executed::default())
            })
        } else {
            wh.execute(stmt)
        };
        let e = match done {
            Ok(done) => {
                r.query_id = done.query_id.or(r.query_id.take());
                continue;
            }
            Err(e) => e,
        };
        let d = warehouse_diagnostic(&e, target);
        let last = i + 1 == plan.statements.len();
        let cleanup = if last {
            super::Cleanup::DropFailed(e.to_string())
        } else if i < created || !connection_usable(&e) {
            super::Cleanup::NotTried
        } else {
            match plan.statements.last().map(|drop| wh.execute(drop)) {
                Some(Ok(_)) | None => super::Cleanup::Dropped,
                Some(Err(e)) => super::Cleanup::DropFailed(e.to_string()),
            }
        };
        let report = plan.failure_report(i, outcome_unknown(&e), &cleanup);
        if last {
            // Loaded: only the scratch table is left over.
            r.message = Some(format!("{report} ({})", d.message));
        } else {
            r.status = NodeStatus::Error;
            r.message = Some(format!("seed {}: {} {report}", plan.path, d.message));
            r.code = Some(d.code.to_string());
            r.query_id = e.query_id().map(str::to_string).or(r.query_id.take());
        }
        break;
    }
    if r.status == NodeStatus::Success {
        r.rows = Some(plan.rows as u64);
    }
}
