//! Scheduling a compile: models are compiled in levels of the static
//! `ref()` graph (the `ref('name')` literals of their sources), each level
//! in parallel, so upstream models are compiled, and their columns
//! published, before the models that ref them. Each model's cache key is
//! known before anything renders (see [`super::keys`]); a model whose key is
//! in the previous compile's cache is taken from it instead of compiled.

use super::keys;
use super::model::{ModelWork, reused_model, static_refs};
use crate::analysis::project::{ProjectAnalyzer, published_columns};
use crate::compile::CompiledModel;
use crate::compile::dag::Dag;
use crate::diagnostics::Diagnostic;
use crate::project::Project;
use crate::render::Renderer;
use crate::sql::Column;
use crate::store::Key;
use crate::store::{CompileCache, LazyStore};
use rayon::prelude::*;
use std::collections::HashMap;

/// What the levels produced: every model in project order, the key each
/// may be reused under next time (see [`crate::store`]), and which came
/// from the cache.
pub(super) struct Scheduled {
    pub models: Vec<CompiledModel>,
    pub keys: Vec<Option<Key>>,
    pub reused: Vec<bool>,
}

/// Compiles (or reuses) every model of `project`, level by level.
/// `fingerprint` is the project part of every cache key (`None`: the cache
/// is off); `previous` the last compile's cache; `store` where the records
/// of models compiled anew go.
pub(super) fn compile_in_levels(
    project: &Project,
    renderer: &Renderer,
    fingerprint: Option<&Key>,
    previous: &CompileCache,
    store: &LazyStore,
    warn_error: bool,
) -> Result<Scheduled, Diagnostic> {
    // Render in levels of the static ref() graph, so upstream models are
    // rendered (and their columns known) before the models that ref them.
    let by_name: HashMap<&str, usize> = project
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let by_lower: HashMap<String, usize> = project
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.to_lowercase(), i))
        .collect();
    let refs: Vec<Vec<String>> = project
        .models
        .iter()
        .map(|m| static_refs(&m.source))
        .collect();
    let static_dag = Dag::new(project.models.iter().map(|m| m.name.as_str()), |name| {
        refs[by_name[name]].clone()
    });
    // Each model is rendered, analysed (parsed once, output columns worked
    // out), checked and stored by one worker, so no model holds its parse
    // tree, SQL or columns in memory past its own turn. The columns of the
    // models others ref() are published before the next level renders, so
    // `adapter.get_columns_in_relation(ref('upstream'))` and the analysis
    // of downstream models see them.
    let analyzer = ProjectAnalyzer::new(renderer.shared());
    let catalog_origin = analyzer.catalog_origin();
    let mut slots: Vec<Option<CompiledModel>> = vec![None; project.models.len()];
    // The cache key of every model, from its inputs and the keys of the
    // models its source ref()s (see `cache`): known before anything renders.
    let levels = static_dag.levels();
    let static_keys = match fingerprint {
        Some(fp) => keys::static_keys(fp, project, &levels, &refs, &by_name, &by_lower),
        None => vec![None; project.models.len()],
    };
    // `keys[i]`: the key of model i once compiled, when its result is a
    // function of that key (no environment read, nothing upstream that
    // read one): what later models may depend on.
    let mut keys: Vec<Option<Key>> = vec![None; project.models.len()];
    let mut compiled = vec![false; project.models.len()];
    let mut reused = vec![false; project.models.len()];
    for level in &levels {
        // A ref() the source does not show (made inside a macro, say) is
        // recorded with the key of its model, and checked on reuse: the
        // model must have that key now and, if compiled already, be clean.
        let dynamic_key = |name: &str| -> Option<Key> {
            let &u = by_lower.get(&name.to_lowercase())?;
            let key = static_keys[u]?;
            (!compiled[u] || keys[u] == Some(key)).then_some(key)
        };
        type Done = (usize, CompiledModel, Option<Vec<Column>>, Option<Key>, bool);
        let done: Vec<Result<Done, Diagnostic>> = level
            .par_iter()
            .map(|name| {
                let idx = by_name[name];
                let model = &project.models[idx];
                // Reusable only when every static upstream is clean.
                let key = static_keys[idx].filter(|_| {
                    refs[idx]
                        .iter()
                        .filter_map(|r| by_lower.get(&r.to_lowercase()))
                        .all(|&u| keys[u].is_some())
                });
                let publish = !static_dag.children(&model.name).is_empty();
                if let Some(k) = &key
                    && let Some((summary, stored, columns)) = previous.reuse(k)
                    && summary
                        .dynamic_refs
                        .iter()
                        .all(|(name, was)| dynamic_key(name) == Some(*was))
                    && let Some(cm) = reused_model(project, model, summary, stored)
                {
                    let published = publish.then(|| published_columns(&columns.unpack()));
                    return Ok((idx, cm, published, key, true));
                }
                let work = ModelWork {
                    project,
                    renderer,
                    analyzer: &analyzer,
                    store,
                    catalog_origin: &catalog_origin,
                    warn_error,
                };
                let (cm, published, clean) =
                    work.compile(model, key.as_ref(), &refs[idx], &dynamic_key, publish)?;
                Ok((idx, cm, published, key.filter(|_| clean), false))
            })
            .collect();
        let done: Vec<Done> = done.into_iter().collect::<Result<_, _>>()?;
        analyzer.publish_columns(done.iter().filter_map(|(idx, _, published, ..)| {
            published
                .as_ref()
                .map(|cols| (project.models[*idx].name.as_str(), cols.clone()))
        }));
        for (idx, cm, _, key, hit) in done {
            slots[idx] = Some(cm);
            keys[idx] = key;
            compiled[idx] = true;
            reused[idx] = hit;
        }
    }
    let models = slots
        .into_iter()
        .map(|m| m.expect("every model is compiled"))
        .collect();
    Ok(Scheduled {
        models,
        keys,
        reused,
    })
}
