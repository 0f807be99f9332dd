//! The commands that talk to Snowflake: `catalog`, `compile --live`, `seed`,
//! `run`, `build` and `show`. Each loads the project, connects through
//! [`crate::connect`], and works through the [`Warehouse`] trait, so tests can
//! drive them with a mock or the local emulator.

use crate::catalog::{Catalog, Column, OfflineCatalog, RelationName};
use crate::compile::{Compilation, CompileOptions, compile_project, load_catalog};
use crate::diagnostics::Diagnostic;
use crate::project::{LoadOptions, Project};
use crate::report::Output;
use crate::run::{
    FailedSeed, NodeResult, NodeStatus, RunLock, RunOptions, RunRecorder, connection_usable,
    outcome_unknown, run_models,
};
use crate::warehouse::{self, Warehouse};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Columns by relation, as the warehouse spells them: (name, raw data type).
pub type IntrospectedColumns = BTreeMap<RelationName, Vec<(String, String)>>;

/// The relations whose columns the project needs: every catalog entry,
/// every declared source, and every relation a model reads.
pub fn relations_to_introspect(project: &Project, catalog: &OfflineCatalog) -> Vec<RelationName> {
    let mut seen: BTreeMap<String, RelationName> = BTreeMap::new();
    for r in catalog.relations() {
        seen.insert(r.key(), r.clone());
    }
    for s in &project.sources {
        seen.insert(s.relation.key(), s.relation.clone());
    }
    seen.into_values().collect()
}

/// Reads the columns of `relations` from the warehouse, one
/// `INFORMATION_SCHEMA` query per database. Returns the found relations
/// (raw data types) and the names the warehouse lacks.
pub fn introspect(
    wh: &dyn Warehouse,
    relations: &[RelationName],
) -> Result<(IntrospectedColumns, Vec<RelationName>), warehouse::WarehouseError> {
    let found = warehouse::introspect_columns(wh, relations)?;
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for rel in relations {
        match found.get(rel) {
            Some(cols) => {
                out.insert(rel.clone(), cols.clone());
            }
            None => missing.push(rel.clone()),
        }
    }
    Ok((out, missing))
}

/// The offline catalog with every relation found live replaced by the
/// warehouse's columns.
pub fn live_catalog(
    project: &Project,
    wh: &dyn Warehouse,
) -> Result<(OfflineCatalog, Vec<RelationName>), Diagnostic> {
    let mut catalog = load_catalog(project)?;
    let relations = relations_to_introspect(project, &catalog);
    let (found, missing) = introspect(wh, &relations)
        .map_err(|e| crate::connect::warehouse_diagnostic(&e, &project.target.name))?;
    for (rel, cols) in found {
        catalog.insert(
            rel,
            cols.into_iter()
                .map(|(name, ty)| Column::new(name, &ty))
                .collect(),
        );
    }
    Ok((catalog, missing))
}

/// `catalog.yml` text for `relations` (raw types), sorted, in the same
/// compact style as a hand-written file.
pub fn catalog_yaml(relations: &IntrospectedColumns) -> String {
    let mut sorted: Vec<(&RelationName, &Vec<(String, String)>)> = relations.iter().collect();
    sorted.sort_by_key(|(r, _)| r.key());
    let mut out = String::from(
        "# Offline catalog: the columns of every warehouse relation the models read,\n# in ordinal order. Written by `cio-sql catalog`; safe to edit by hand.\nrelations:\n",
    );
    for (rel, cols) in sorted {
        out.push_str(&format!(
            "  - name: {}\n    database: {}\n    schema: {}\n    columns:\n",
            yaml_scalar(&rel.identifier),
            yaml_scalar(&rel.database),
            yaml_scalar(&rel.schema)
        ));
        if cols.is_empty() {
            out.truncate(out.len() - 1);
            out.push_str(" []\n");
        }
        for (name, ty) in cols {
            out.push_str(&format!(
                "      - {{name: {}, data_type: {}}}\n",
                yaml_scalar(name),
                yaml_scalar(ty)
            ));
        }
    }
    out
}

/// A YAML scalar: plain when safe, double-quoted otherwise.
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '(' | ')' | '.' | '$'))
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        );
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

fn load(opts: &LoadOptions, out: &Output) -> Result<Project, i32> {
    Project::load(opts).map_err(|d| out.fatal(&d))
}

/// `cio-sql catalog`: refreshes `catalog.yml` from the warehouse.
pub fn catalog_command(opts: &LoadOptions, out: &Output, connect: &crate::cli::Connector) -> i32 {
    let project = match load(opts, out) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let existing = match load_catalog(&project) {
        Ok(c) => c,
        Err(d) => return out.fatal(&d),
    };
    let relations = relations_to_introspect(&project, &existing);
    if relations.is_empty() {
        return out.fatal(
            &Diagnostic::error("CIO320", "there is no relation to introspect")
                .with_help("list the relations your models read in catalog.yml (name and schema are enough), or declare sources; then run cio-sql catalog again"),
        );
    }
    let wh = match connect(&project) {
        Ok(w) => w,
        Err(d) => {
            out.diagnostic(&d);
            return 1;
        }
    };
    let started = Instant::now();
    let (mut found, missing) = match introspect(wh.as_ref(), &relations) {
        Ok(r) => r,
        Err(e) => {
            out.diagnostic(&crate::connect::warehouse_diagnostic(
                &e,
                &project.target.name,
            ));
            return 1;
        }
    };
    for rel in &missing {
        let d = Diagnostic::warning("CIO321", format!("{rel} is in the catalog but not in the warehouse; its entry is kept as it was"))
            .with_help("create the relation in Snowflake, fix its name or schema in catalog.yml, or delete the entry");
        out.diagnostic(&d);
        if let Some(cols) = existing.columns(rel) {
            found.insert(
                rel.clone(),
                cols.iter()
                    .map(|c| (c.name.clone(), c.data_type.clone()))
                    .collect(),
            );
        }
    }
    let text = catalog_yaml(&found);
    if let Some(dir) = project.catalog_path.parent() {
        crate::files::remove_stale_temp_files(dir, false);
    }
    if let Err(d) = crate::output::write_atomic(&project.catalog_path, text.as_bytes()) {
        return out.fatal(&d);
    }
    out.info(
        &format!(
            "Wrote {} relation(s) to {} in {} ms ({} not found in the warehouse).",
            found.len(),
            project
                .catalog_path
                .strip_prefix(&project.root)
                .unwrap_or(&project.catalog_path)
                .display(),
            started.elapsed().as_millis(),
            missing.len()
        ),
        false,
    );
    0
}

/// `cio-sql compile --live`: compile over columns read from the warehouse.
pub fn compile_live(
    opts: &CompileOptions,
    wh: &dyn Warehouse,
) -> Result<(Compilation, Vec<RelationName>), Diagnostic> {
    let project = Project::load(&opts.load)?;
    let (catalog, missing) = live_catalog(&project, wh)?;
    Ok((compile_project(project, Arc::new(catalog), opts)?, missing))
}

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

fn report_node(out: &Output) -> impl Fn(&NodeResult, usize, usize) + Sync + '_ {
    move |r, done, total| {
        out.info(&progress_line(r, done, total), false);
        out.event(serde_json::json!({"event": "node", "done": done, "total": total, "result": r}));
    }
}

/// What loading the seeds gave.
#[derive(Debug, Default)]
pub struct SeedsLoaded {
    /// One result per seed file (and per seed folder that could not be read).
    pub results: Vec<NodeResult>,
    /// The diagnostics of the seeds that could not be read or planned, to
    /// print with their snippet.
    pub diagnostics: Vec<Diagnostic>,
    /// The seeds that did not load, for [`RunOptions::failed_seeds`].
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

/// Reads, plans and loads every seed, one at a time. A seed that cannot be
/// read, planned or loaded is a failed node and the others go on; with
/// `fail_fast`, the seeds after a failure are skipped.
pub fn load_seeds(
    c: &Compilation,
    catalog: &dyn Catalog,
    wh: &dyn Warehouse,
    fail_fast: bool,
    report: &(dyn Fn(&NodeResult, usize, usize) + Sync),
) -> SeedsLoaded {
    let project = &c.project;
    let target = &project.target;
    let mut out = SeedsLoaded::default();
    // The names the project's relations take: a scratch table never gets one.
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for m in &c.models {
        taken.insert(m.relation.key(), format!("model {}", m.name));
    }
    for r in catalog.relations() {
        taken.insert(r.key(), format!("catalog relation {r}"));
    }
    let files = crate::seed::find_seeds(project);
    let total = files.len();
    let mut loaded_into: BTreeMap<String, String> = BTreeMap::new();
    for (i, file) in files.into_iter().enumerate() {
        let started = Instant::now();
        // A folder that cannot be listed is a node named after its path.
        let name = match &file {
            Ok(f) => f.name.clone(),
            Err(d) => d
                .file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        };
        let relation = file
            .as_ref()
            .ok()
            .map(|f| crate::seed::seed_relation(&f.name, catalog, target));
        let mut r = NodeResult {
            unique_id: format!("seed.{}.{name}", project.config.name),
            name: name.clone(),
            relation: relation
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            materialized: "seed".into(),
            status: NodeStatus::Success,
            execution_time: 0.0,
            rows: None,
            query_id: None,
            message: None,
            code: None,
        };
        if fail_fast && !out.failed.is_empty() {
            r.status = NodeStatus::Skipped;
            r.message = Some("skipped: --fail-fast stopped the run after a failure".into());
        } else {
            let planned = file.and_then(|f| {
                let seed = crate::seed::read_seed(&f)?;
                let plan =
                    crate::seed::plan_seed(&seed, catalog, target, project.config.quoting)?;
                if let Some(other) = loaded_into.get(&plan.relation.key()) {
                    return Err(Diagnostic::error(
                        "CIO034",
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
                if let Some((key, owner)) = taken.iter().find(|(k, _)| k.starts_with(&family)) {
                    return Err(Diagnostic::error(
                        "CIO035",
                        format!(
                            "the {owner} is named like the scratch tables of this seed ({key}); loading it would drop the {owner}"
                        ),
                    )
                    .at_file(&f.path)
                    .with_help(format!(
                        "rename the {owner}: names starting with {} are kept for seed loading",
                        crate::seed::SCRATCH_PREFIX
                    )));
                }
                loaded_into.insert(plan.relation.key(), f.path.clone());
                Ok(plan)
            });
            match planned {
                Ok(plan) => run_seed(&plan, wh, &target.name, &mut r),
                Err(d) => {
                    r.status = NodeStatus::Error;
                    r.message = Some(located(&d));
                    r.code = Some(d.code.to_string());
                    out.diagnostics.push(d);
                }
            }
        }
        if r.status == NodeStatus::Error {
            out.failed.push(FailedSeed {
                name: name.clone(),
                relation,
            });
        }
        r.execution_time = started.elapsed().as_secs_f64();
        report(&r, i + 1, total);
        out.results.push(r);
    }
    out
}

/// Runs the statements of one seed's plan, recording the outcome in `r`.
/// On a failure the message says which statements had run and what may
/// have changed, and the scratch table is dropped if the session still
/// works.
fn run_seed(plan: &crate::seed::SeedPlan, wh: &dyn Warehouse, target: &str, r: &mut NodeResult) {
    use crate::seed::SeedStep;
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
        let d = crate::connect::warehouse_diagnostic(&e, target);
        let last = i + 1 == plan.statements.len();
        let cleanup = if last {
            crate::seed::Cleanup::DropFailed(e.to_string())
        } else if i < created || !connection_usable(&e) {
            crate::seed::Cleanup::NotTried
        } else {
            match plan.statements.last().map(|drop| wh.execute(drop)) {
                Some(Ok(_)) | None => crate::seed::Cleanup::Dropped,
                Some(Err(e)) => crate::seed::Cleanup::DropFailed(e.to_string()),
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

/// What `run_command` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// `cio-sql seed`.
    Seed,
    /// `cio-sql run`.
    Run,
    /// `cio-sql build`: seeds, then models.
    Build,
}

/// `cio-sql seed` / `run` / `build`. Writes `target/run_results.json`
/// however the command ends (see [`RunRecorder`]); exit 0 success, 1 a node
/// failed or the run could not proceed for a runtime reason (the warehouse,
/// the run lock, the disk), 2 a usage or configuration error.
pub fn run_command(
    kind: RunKind,
    opts: &CompileOptions,
    run: RunOptions,
    out: &Output,
    connect: &crate::cli::Connector,
) -> i32 {
    let command = match kind {
        RunKind::Seed => "seed",
        RunKind::Run => "run",
        RunKind::Build => "build",
    };
    let recorder = RunRecorder::start(command, &opts.load.project_dir);
    // The one exit: whatever stopped the steps is recorded, then the file
    // is written.
    let stopped = run_steps(kind, opts, run, out, connect, &recorder);
    let code = match &stopped {
        Ok(()) => 0,
        Err(d) => {
            out.diagnostic(d);
            recorder.fail(&d.message);
            d.exit_code()
        }
    };
    let (results, write_error) = match recorder.finish() {
        Ok(r) => (r, None),
        Err((r, d)) => (r, Some(d)),
    };
    // Unless it is the error that stopped the run (a target folder that
    // cannot be written fails both).
    if let Some(d) = &write_error
        && stopped
            .as_ref()
            .err()
            .is_none_or(|s| s.message != d.message)
    {
        out.diagnostic(d);
    }
    let count = |s: NodeStatus| results.results.iter().filter(|r| r.status == s).count();
    let shown = recorder
        .path()
        .map_or("not written (no project)".to_string(), |p| {
            p.display().to_string()
        });
    out.info(
        &format!(
            "Finished {command} in {:.2}s: {} succeeded, {} failed, {} skipped. Results: {shown}",
            results.elapsed_time,
            count(NodeStatus::Success),
            count(NodeStatus::Error),
            count(NodeStatus::Skipped),
        ),
        false,
    );
    out.event(serde_json::json!({"event": "summary", "command": command, "success": results.success, "elapsed_s": results.elapsed_time}));
    if code != 0 {
        code
    } else if let Some(d) = write_error {
        d.exit_code()
    } else if results.success {
        0
    } else {
        1
    }
}

/// The steps of [`run_command`]; `Err` is what stopped the run early.
fn run_steps(
    kind: RunKind,
    opts: &CompileOptions,
    run: RunOptions,
    out: &Output,
    connect: &crate::cli::Connector,
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

/// `cio-sql show`: runs a model's compiled SQL with a limit and prints rows.
pub fn show_command(
    opts: &CompileOptions,
    model: &str,
    limit: usize,
    format: ShowFormat,
    out: &Output,
    connect: &crate::cli::Connector,
) -> i32 {
    let compilation = match crate::compile::compile(&CompileOptions {
        write: false,
        select: vec![model.to_string()],
        ..opts.clone()
    }) {
        Ok(c) => c,
        Err(d) => return out.fatal(&d),
    };
    let Some(m) = compilation.model(model) else {
        return out.fatal(&Diagnostic::error(
            "CIO010",
            format!("no model is named {model}"),
        ));
    };
    let Some(sql) = m
        .sql()
        .filter(|_| m.diagnostics.iter().all(|d| !d.is_error()))
    else {
        for d in &m.diagnostics {
            out.diagnostic(d);
        }
        return 1;
    };
    let wh = match connect(&compilation.project) {
        Ok(w) => w,
        Err(d) => {
            out.diagnostic(&d);
            return 1;
        }
    };
    let body = sql.trim_end().trim_end_matches(';');
    let query = format!("SELECT * FROM (\n{body}\n) AS cio_sql_show LIMIT {limit}");
    let rows = match wh.query(&query) {
        Ok(r) => r,
        Err(e) => {
            out.diagnostic(
                &crate::connect::warehouse_diagnostic(&e, &compilation.project.target.name)
                    .for_model(&m.name),
            );
            return 1;
        }
    };
    crate::report::print_out(&format_rows(&rows, format));
    0
}

/// How `show` prints rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowFormat {
    /// An aligned text table.
    Table,
    /// CSV with a header.
    Csv,
    /// One JSON object per row, in a JSON array.
    Json,
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Renders query rows as a table, CSV or JSON.
pub fn format_rows(rows: &warehouse::Rows, format: ShowFormat) -> String {
    match format {
        ShowFormat::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .rows
                .iter()
                .map(|r| {
                    rows.columns
                        .iter()
                        .cloned()
                        .zip(r.iter().cloned())
                        .collect()
                })
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&objects).unwrap_or_default()
            )
        }
        ShowFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(&rows.columns);
            for r in &rows.rows {
                let _ = w.write_record(r.iter().map(cell));
            }
            String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
        }
        ShowFormat::Table => {
            let cells: Vec<Vec<String>> = rows
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| if v.is_null() { "NULL".into() } else { cell(v) })
                        .collect()
                })
                .collect();
            let widths: Vec<usize> = rows
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    cells
                        .iter()
                        .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
                        .max()
                        .unwrap_or(0)
                        .max(c.chars().count())
                })
                .collect();
            let line = |values: &[String]| -> String {
                let parts: Vec<String> = values
                    .iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v:<w$}"))
                    .collect();
                format!("| {} |\n", parts.join(" | "))
            };
            let mut text = line(&rows.columns);
            text.push_str(&format!(
                "|{}|\n",
                widths
                    .iter()
                    .map(|w| "-".repeat(w + 2))
                    .collect::<Vec<_>>()
                    .join("|")
            ));
            for r in &cells {
                text.push_str(&line(r));
            }
            text.push_str(&format!(
                "({} row{})\n",
                rows.rows.len(),
                if rows.rows.len() == 1 { "" } else { "s" }
            ));
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_yaml_round_trips() {
        let mut rels = BTreeMap::new();
        rels.insert(
            RelationName::new("ANALYTICS", "NEXUS", "NEXUS_ENTITIES"),
            vec![
                ("ENTITY_ID".to_string(), "VARCHAR(16777216)".to_string()),
                ("Amount, net".to_string(), "NUMBER(38,2)".to_string()),
            ],
        );
        rels.insert(RelationName::new("ANALYTICS", "NEXUS", "EMPTY"), vec![]);
        let text = catalog_yaml(&rels);
        assert!(
            text.contains("      - {name: ENTITY_ID, data_type: VARCHAR(16777216)}\n"),
            "{text}"
        );
        assert!(
            text.contains("{name: \"Amount, net\", data_type: \"NUMBER(38,2)\"}"),
            "{text}"
        );
        let parsed =
            OfflineCatalog::parse(&text, std::path::Path::new("catalog.yml"), "X", "Y").unwrap();
        let cols = parsed
            .columns(&RelationName::new("analytics", "nexus", "nexus_entities"))
            .unwrap();
        assert_eq!(cols[1].data_type, "NUMBER");
        assert!(
            parsed
                .columns(&RelationName::new("ANALYTICS", "NEXUS", "EMPTY"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn table_format_aligns() {
        let rows = warehouse::Rows {
            columns: vec!["userId".into(), "n".into()],
            rows: vec![
                vec![serde_json::json!("u1"), serde_json::json!(10)],
                vec![serde_json::json!(null), serde_json::json!(2)],
            ],
            query_id: None,
        };
        assert_eq!(
            format_rows(&rows, ShowFormat::Table),
            "| userId | n  |\n|--------|----|\n| u1     | 10 |\n| NULL   | 2  |\n(2 rows)\n"
        );
        assert_eq!(format_rows(&rows, ShowFormat::Csv), "userId,n\nu1,10\n,2\n");
    }
}
