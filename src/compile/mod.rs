//! Compiling a loaded project: every model rendered, analysed and checked,
//! the dependency graph built and the selection applied, giving a
//! [`Compilation`].
//!
//! Models are compiled in dependency levels, each level in parallel
//! (`schedule.rs`); a failed model never stops the others. Each model is
//! compiled by one worker (`model.rs`), and its SQL and columns go to the
//! model store as soon as it is compiled; a model whose inputs did not
//! change since the last compile (its cache key, [`keys`]) is taken from the
//! compile cache instead (see [`crate::store`]). Writing the results to
//! `target/` is the artifacts stage's ([`crate::artifacts`]); the whole
//! sequence for a command is [`crate::pipeline`].

mod compilation;
pub mod dag;
pub mod data_tests;
pub mod generic_tests;
pub mod keys;
mod materializations;
mod model;
pub mod project_tests;
pub mod relations;
mod schedule;
pub mod select;
pub mod singular;
pub mod test_config;
pub mod test_names;
pub mod test_select;

pub use compilation::{Compilation, CompiledModel, CompiledSeed, ModelStatus};
pub use model::{static_refs, tracking_of};

use crate::catalog::Catalog;
use crate::compile::dag::Dag;
use crate::compile::select::{Selectable, Selector};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::{LoadOptions, Project};
use crate::render::Renderer;
use crate::store::Key;
use crate::store::{CompileCache, LazyStore};
use crate::timings::PhaseTimer;
use std::collections::HashMap;
use std::sync::Arc;

/// What to compile and how.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Where and how to load the project.
    pub load: LoadOptions,
    /// `--select` specs (every model when empty).
    pub select: Vec<String>,
    /// `--exclude` specs.
    pub exclude: Vec<String>,
    /// `--state DIR`: the folder of a previous `manifest.json`, which
    /// `state:` selectors compare with.
    pub state: Option<std::path::PathBuf>,
    /// Write `target/compiled/` and `target/manifest.json`.
    pub write: bool,
    /// Treat warnings as errors.
    pub warn_error: bool,
    /// Reuse (and, when writing, update) `target/compile_cache.bin`: models
    /// whose inputs did not change are not rendered or analysed again. See
    /// [`crate::store`].
    pub use_cache: bool,
}

/// A compilation and the cache key of each of its models: the key a
/// model's record may be reused under by the next compile (`None`: not
/// reusable), in project order.
#[derive(Debug)]
pub struct Compiled {
    /// The compilation.
    pub compilation: Compilation,
    /// Per model, in project order.
    pub keys: Vec<Option<Key>>,
}

/// Compiles `project` over `catalog`. `fingerprint` is the project part of
/// every cache key (`None` with `--no-cache`), `previous` the last
/// compile's cache, `store` where the records of models compiled anew go.
///
/// `Err` means nothing could be compiled (a macro file that does not parse,
/// a selection that names no model, the store cannot be written); per-model
/// failures are in the returned [`Compilation`].
pub fn compile_models(
    project: Project,
    catalog: Arc<dyn Catalog>,
    opts: &CompileOptions,
    fingerprint: Option<&Key>,
    previous: &CompileCache,
    store: &LazyStore,
    timer: &mut PhaseTimer,
) -> Result<Compiled, Diagnostic> {
    let renderer = Renderer::new(&project, catalog)?;
    timer.lap("environment");
    let schedule::Scheduled {
        mut models,
        keys,
        reused,
    } = schedule::compile_in_levels(
        &project,
        &renderer,
        fingerprint,
        previous,
        store,
        opts.warn_error,
    )?;
    timer.lap("render");
    check_refs(&mut models);
    relations::check_unique_relations(&mut models, &project);
    let mut seeds = compiled_seeds(&project, &renderer);
    relations::check_seed_relations(&mut models, &mut seeds, &project);
    timer.lap("validate");
    let state = match &opts.state {
        Some(dir) => Some(select::read_state(dir)?),
        None => None,
    };
    let sources: HashMap<String, String> = project
        .sources
        .iter()
        .map(|s| {
            (
                s.relation.to_string().to_lowercase(),
                format!("{}.{}", s.source, s.table).to_lowercase(),
            )
        })
        .collect();
    // Models are in project order.
    let enabled: Vec<(Selectable, Vec<String>)> = models
        .iter()
        .zip(&project.models)
        .filter(|(m, _)| m.status != ModelStatus::Disabled)
        .map(|(m, pm)| {
            let text = state.is_some().then_some(pm.source.as_str());
            (
                Selectable::model(m, &project, &sources, text),
                m.depends_on.clone(),
            )
        })
        .chain(
            seeds
                .iter()
                .filter(|s| s.status != ModelStatus::Disabled)
                .map(|s| (Selectable::seed(s, &project), Vec::new())),
        )
        .collect();
    let deps: HashMap<&str, &Vec<String>> =
        enabled.iter().map(|(s, d)| (s.name.as_str(), d)).collect();
    let dag = Dag::new(enabled.iter().map(|(s, _)| s.name.as_str()), |n| {
        deps[n].clone()
    });
    // Warnings about the target (profiles.yml) come first, then the seeds'.
    let mut diagnostics = project.target.warnings.clone();
    diagnostics.extend(project.seed_problems.iter().cloned());
    let order: Vec<String> = match dag.topological_order() {
        Ok(order) => order.into_iter().map(str::to_string).collect(),
        Err(cycle) => {
            let d = Diagnostic::error(
                codes::REF_CYCLE,
                format!("models form a cycle: {}", cycle.join(" -> ")),
            )
            .with_help(
                "a model cannot ref itself through other models: remove one of these ref() calls",
            );
            for m in models.iter_mut().filter(|m| cycle.contains(&m.name)) {
                m.status = ModelStatus::Error;
                m.diagnostics
                    .push(d.clone().for_model(&m.name).at_file(&m.path));
            }
            diagnostics.push(d);
            dag.levels()
                .into_iter()
                .flatten()
                .map(str::to_string)
                .collect()
        }
    };

    let selectable: Vec<Selectable> = enabled.into_iter().map(|(s, _)| s).collect();
    let selector = Selector {
        nodes: &selectable,
        dag: &dag,
        project: &project.config.name,
        state: state.as_ref(),
    };
    let chosen = selector.select(&opts.select, &opts.exclude)?;
    diagnostics.extend(chosen.warnings.into_iter().map(|mut d| {
        if opts.warn_error {
            d.severity = crate::diagnostics::Severity::Error;
        }
        d
    }));
    let chosen = chosen.names;
    let chosen_set: std::collections::HashSet<&str> = chosen.iter().map(String::as_str).collect();
    let selected_nodes: Vec<String> = order
        .into_iter()
        .filter(|n| chosen_set.contains(n.as_str()))
        .collect();
    let seed_names: std::collections::HashSet<&str> =
        seeds.iter().map(|s| s.name.as_str()).collect();
    let selected: Vec<String> = selected_nodes
        .iter()
        .filter(|n| !seed_names.contains(n.as_str()))
        .cloned()
        .collect();
    for m in &mut models {
        if m.status == ModelStatus::Success && !chosen_set.contains(m.name.as_str()) {
            m.status = ModelStatus::NotSelected;
        }
    }
    for s in &mut seeds {
        if s.status == ModelStatus::Disabled {
            continue;
        }
        if chosen_set.contains(s.name.as_str()) {
            diagnostics.extend(s.diagnostics.iter().cloned());
        } else if s.status == ModelStatus::Success {
            s.status = ModelStatus::NotSelected;
        }
    }

    timer.lap("select");
    // Of the selected models, how many came from the cache: the summary
    // line counts selected models only.
    let reused = models
        .iter()
        .zip(&reused)
        .filter(|(m, hit)| **hit && chosen_set.contains(m.name.as_str()))
        .count();

    let compilation = Compilation {
        project,
        models,
        seeds,
        dag,
        selected,
        selected_nodes,
        diagnostics,
        reused,
    };
    Ok(Compiled { compilation, keys })
}

/// Every seed of the project as a node of the compilation: where it is
/// loaded (as `ref()` resolves it), its columns, and whether it can be read.
fn compiled_seeds(project: &Project, renderer: &Renderer) -> Vec<CompiledSeed> {
    let shared = renderer.shared();
    project
        .seeds
        .iter()
        .map(|seed| {
            let relation = match shared.seeds.get(&seed.name.to_lowercase()) {
                Some(r) => r.relation.clone(),
                None => {
                    crate::render::seed_relation(&project.target, shared.catalog.as_ref(), seed)
                }
            };
            let status = if !seed.enabled() {
                ModelStatus::Disabled
            } else if seed.problem.is_some() {
                ModelStatus::Error
            } else {
                ModelStatus::Success
            };
            CompiledSeed {
                name: seed.name.clone(),
                path: seed.path.clone(),
                relation,
                config: seed.config.clone(),
                columns: seed.columns.clone(),
                status,
                diagnostics: seed.problem.iter().cloned().collect(),
            }
        })
        .collect()
}

/// The check that needs every model: refs point at enabled models (CIO013).
fn check_refs(models: &mut [CompiledModel]) {
    let disabled: std::collections::HashSet<String> = models
        .iter()
        .filter(|m| m.status == ModelStatus::Disabled)
        .map(|m| m.name.clone())
        .collect();
    if disabled.is_empty() {
        return;
    }
    for m in models.iter_mut() {
        if m.status != ModelStatus::Success && m.status != ModelStatus::Error {
            continue;
        }
        let rendered = m.stored.is_some();
        for dep in &m.depends_on {
            if rendered && disabled.contains(dep) {
                m.diagnostics.push(
                    Diagnostic::error(
                        codes::REF_TO_DISABLED,
                        format!("ref('{dep}') points at a disabled model"),
                    )
                    .for_model(&m.name)
                    .at_file(&m.path)
                    .with_help(format!("enable {dep}, or remove the ref")),
                );
                m.status = ModelStatus::Error;
            }
        }
    }
}
