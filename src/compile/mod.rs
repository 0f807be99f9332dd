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
pub mod keys;
mod model;
pub mod relations;
mod schedule;
pub mod select;

pub use compilation::{Compilation, CompiledModel, ModelStatus};
pub use model::static_refs;

use crate::catalog::Catalog;
use crate::compile::dag::Dag;
use crate::compile::select::{Selectable, select};
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
    timer.lap("validate");
    let enabled: Vec<(String, String, Vec<String>, Vec<String>)> = models
        .iter()
        .filter(|m| m.status != ModelStatus::Disabled)
        .map(|m| {
            (
                m.name.clone(),
                m.path.clone(),
                m.config.tags(),
                m.depends_on.clone(),
            )
        })
        .collect();
    let deps: HashMap<&str, &Vec<String>> =
        enabled.iter().map(|(n, _, _, d)| (n.as_str(), d)).collect();
    let dag = Dag::new(enabled.iter().map(|(n, ..)| n.as_str()), |n| {
        deps[n].clone()
    });
    let mut diagnostics = Vec::new();
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

    let selectable: Vec<Selectable> = enabled
        .into_iter()
        .map(|(name, path, tags, _)| Selectable { name, path, tags })
        .collect();
    let chosen = select(&selectable, &dag, &opts.select, &opts.exclude)?;
    let chosen_set: std::collections::HashSet<&str> = chosen.iter().map(String::as_str).collect();
    let selected: Vec<String> = order
        .into_iter()
        .filter(|n| chosen_set.contains(n.as_str()))
        .collect();
    for m in &mut models {
        if m.status == ModelStatus::Success && !chosen_set.contains(m.name.as_str()) {
            m.status = ModelStatus::NotSelected;
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
        dag,
        selected,
        diagnostics,
        reused,
    };
    Ok(Compiled { compilation, keys })
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
