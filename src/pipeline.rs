//! The compile stages run in order for one command: load the project, read
//! its catalog, take the compile lock, compile every model (reusing the
//! compile cache), write the artifacts, and turn this compile's model store
//! into the next compile's cache. Every command that compiles goes through
//! [`compile`] or [`compile_project`].

use crate::catalog::{Catalog, load_catalog};
use crate::compile::{Compilation, CompileOptions, Compiled, compile_models};
use crate::diagnostics::Diagnostic;
use crate::project::Project;
use crate::store::{self, CompileCache, LazyStore};
use crate::timings::PhaseTimer;
use std::sync::Arc;

/// Loads the project in `opts` with its offline catalog and compiles it.
///
/// `Err` means nothing could be compiled (a broken project file, say);
/// per-model failures are in the returned [`Compilation`].
pub fn compile(opts: &CompileOptions) -> Result<Compilation, Diagnostic> {
    let mut timer = PhaseTimer::from_env();
    let project = Project::load(&opts.load)?;
    timer.lap("load");
    let catalog = load_catalog(&project)?;
    timer.lap("catalog");
    compile_project(project, Arc::new(catalog), opts)
}

/// Compiles a loaded project over `catalog`; with `opts.write`, under the
/// compile lock, writing the artifacts and the compile cache.
pub fn compile_project(
    project: Project,
    catalog: Arc<dyn Catalog>,
    opts: &CompileOptions,
) -> Result<Compilation, Diagnostic> {
    let mut timer = PhaseTimer::from_env();
    // One process at a time writes the target folder; temporary files that
    // killed processes left there are removed first (see `files`).
    let _lock = if opts.write {
        let dir = project.target_dir();
        let lock = crate::files::lock::CompileLock::acquire(&dir)?;
        crate::files::remove_stale_temp_files(&dir, true);
        Some(lock)
    } else {
        None
    };
    // The compile cache (see `store`): the fingerprint of everything models
    // share, the index of the last compile's records, and the store the
    // records of this compile go to.
    let fingerprint = opts.use_cache.then(|| {
        crate::compile::keys::project_fingerprint(&project, catalog.as_ref(), opts.warn_error)
    });
    let previous = match &fingerprint {
        Some(fp) => CompileCache::open(&store::path(&project), fp),
        None => CompileCache::default(),
    };
    let persist = opts.write && fingerprint.is_some();
    let store = LazyStore::new(
        persist.then(|| project.target_dir()),
        fingerprint.unwrap_or_default(),
    );
    let Compiled { compilation, keys } = compile_models(
        project,
        catalog,
        opts,
        fingerprint.as_ref(),
        &previous,
        &store,
        &mut timer,
    )?;
    if opts.write {
        crate::artifacts::write_outputs(&compilation, &mut timer)?;
        if persist && let Some(created) = store.created() {
            // The new cache file holds every reusable record: copies of
            // the reused ones, then those of the models compiled anew.
            let reusable = compilation
                .models
                .iter()
                .zip(&keys)
                .filter_map(|(m, key)| Some((key.as_ref()?, m.stored.as_ref()?)));
            store::persist_cache(created, reusable, &store::path(&compilation.project))?;
            timer.lap("cache");
        }
    }
    Ok(compilation)
}
