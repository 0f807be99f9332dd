//! The compile pipeline: load → catalog → render → validate → write.
//!
//! [`compile`] runs every stage for one project and returns a
//! [`Compilation`] describing every model; the CLI only prints it. Models are
//! rendered in dependency levels, each level in parallel; a failed model
//! never stops the others. Each model's SQL and columns go to the model
//! store as soon as it is compiled, and a model whose inputs did not change
//! since the last compile is taken from the compile cache instead (see
//! [`crate::cache`]).

use crate::analysis::model::{
    Analyser, ModelAnalysis, catalog_fallback, contract_diagnostics, published_columns, sync_type,
    unresolved_diagnostic,
};
use crate::analysis::packed::ManifestColumns;
use crate::analysis::{OutputColumn, PackedColumns, SourceColumn, Transform};
use crate::cache::{self, CompileCache, Key, Record, Store, Stored, Summary};
use crate::catalog::{Catalog, Column, OfflineCatalog, RelationName};
use crate::compact::CompactText;
use crate::dag::Dag;
use crate::diagnostics::{Diagnostic, Severity};
use crate::project::{LoadOptions, ModelConfig, Project};
use crate::render::{Renderer, relation_for};
use crate::select::{Selectable, select};
use crate::timings::PhaseTimer;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

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
    /// [`crate::cache`].
    pub use_cache: bool,
}

/// The outcome of one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    /// Rendered and parsed.
    Success,
    /// Failed; see its diagnostics.
    Error,
    /// Not selected: rendered only to learn its dependencies.
    NotSelected,
    /// Disabled with `enabled: false`.
    Disabled,
}

/// One compiled (or failed) model.
#[derive(Debug, Clone)]
pub struct CompiledModel {
    /// Model name.
    pub name: String,
    /// Source path relative to the project root.
    pub path: String,
    /// Where the compiled SQL goes, relative to the project root.
    pub compiled_path: String,
    /// Where the model is built in the warehouse.
    pub relation: RelationName,
    /// Where its compiled SQL and output columns are stored, when rendering
    /// succeeded: read them with [`CompiledModel::sql`] and
    /// [`CompiledModel::columns`].
    pub stored: Option<Stored>,
    /// Final configuration.
    pub config: ModelConfig,
    /// Models it refs.
    pub depends_on: Vec<String>,
    /// Catalog relations it reads.
    pub relations: Vec<String>,
    /// Why the output columns could not be worked out from the SQL.
    pub columns_unresolved: Option<String>,
    /// Errors and warnings of this model.
    pub diagnostics: Vec<Diagnostic>,
    /// `log(..., info=True)` lines.
    pub logs: Vec<String>,
    /// The outcome.
    pub status: ModelStatus,
}

impl CompiledModel {
    /// The compiled SQL, when rendering succeeded.
    pub fn sql(&self) -> Option<String> {
        self.stored.as_ref().and_then(Stored::sql)
    }

    /// Its output columns with their lineage, worked out from the compiled
    /// SQL. When that fails ([`CompiledModel::columns_unresolved`]), the
    /// catalog's columns of its relation if the catalog has it, else none.
    pub fn columns(&self) -> Vec<OutputColumn> {
        self.stored
            .as_ref()
            .map(Stored::columns)
            .unwrap_or_default()
    }
}

/// A compiled project.
#[derive(Debug)]
pub struct Compilation {
    /// The loaded project.
    pub project: Project,
    /// Every model, in project order.
    pub models: Vec<CompiledModel>,
    /// The dependency graph of enabled models.
    pub dag: Dag,
    /// Names of the selected models, in dependency order.
    pub selected: Vec<String>,
    /// Problems not tied to one model.
    pub diagnostics: Vec<Diagnostic>,
    /// How many models were taken from the compile cache unchanged rather
    /// than rendered and analysed (see [`crate::cache`]).
    pub reused: usize,
}

impl Compilation {
    /// The selected models, in dependency order.
    pub fn selected_models(&self) -> Vec<&CompiledModel> {
        let by_name: HashMap<&str, &CompiledModel> =
            self.models.iter().map(|m| (m.name.as_str(), m)).collect();
        self.selected
            .iter()
            .filter_map(|n| by_name.get(n.as_str()).copied())
            .collect()
    }

    /// A model by name.
    pub fn model(&self, name: &str) -> Option<&CompiledModel> {
        self.models
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    /// Selected models that failed.
    pub fn error_count(&self) -> usize {
        self.selected_models()
            .iter()
            .filter(|m| m.status == ModelStatus::Error)
            .count()
            + self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Warnings of the selected models.
    pub fn warning_count(&self) -> usize {
        self.selected_models()
            .iter()
            .flat_map(|m| &m.diagnostics)
            .chain(&self.diagnostics)
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    /// True when every selected model compiled.
    pub fn succeeded(&self) -> bool {
        self.error_count() == 0
    }
}

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

/// Reads the project's offline catalog; a missing file is an empty catalog.
pub fn load_catalog(project: &Project) -> Result<OfflineCatalog, Diagnostic> {
    let path = &project.catalog_path;
    let shown = path.strip_prefix(&project.root).unwrap_or(path);
    if path.exists() {
        let text = crate::project::read_text(path)?;
        OfflineCatalog::parse(
            &text,
            shown,
            &project.target.database,
            &project.target.schema,
        )
    } else {
        Ok(OfflineCatalog::empty(format!(
            "{} (the file does not exist yet)",
            shown.display()
        )))
    }
}

/// Compiles a loaded project over `catalog`.
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
        let lock = crate::lock::CompileLock::acquire(&dir)?;
        crate::files::remove_stale_temp_files(&dir, true);
        Some(lock)
    } else {
        None
    };
    // The compile cache (see `cache`): the fingerprint of everything models
    // share, the index of the last compile's records, and the store the
    // records of this compile go to.
    let fingerprint = opts
        .use_cache
        .then(|| cache::project_fingerprint(&project, catalog.as_ref(), opts.warn_error));
    let previous = match &fingerprint {
        Some(fp) => CompileCache::open(&cache::path(&project), fp),
        None => CompileCache::default(),
    };
    let persist = opts.write && fingerprint.is_some();
    // Created when the first model is compiled anew: a compile that reuses
    // every model writes no store and keeps the cache file as it is.
    let store = LazyStore {
        dir: persist.then(|| project.target_dir()),
        fingerprint: fingerprint.unwrap_or_default(),
        cell: OnceLock::new(),
    };
    let renderer = Renderer::new(&project, catalog)?;
    timer.lap("environment");

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
    let analyser = Analyser::new(renderer.shared());
    let catalog_origin = analyser.catalog_origin();
    let mut slots: Vec<Option<CompiledModel>> = vec![None; project.models.len()];
    // The cache key of every model, from its inputs and the keys of the
    // models its source ref()s (see `cache`): known before anything renders.
    let levels = static_dag.levels();
    let mut static_keys: Vec<Option<Key>> = vec![None; project.models.len()];
    if let Some(fp) = &fingerprint {
        for name in levels.iter().flatten() {
            let idx = by_name[name];
            let upstream: Option<Vec<Option<&Key>>> = refs[idx]
                .iter()
                .map(|r| match by_lower.get(&r.to_lowercase()) {
                    Some(&u) => static_keys[u].as_ref().map(Some),
                    None => Some(None),
                })
                .collect();
            static_keys[idx] = upstream.map(|up| cache::model_key(fp, &project.models[idx], &up));
        }
    }
    // `keys[i]`: the key of model i once compiled, when its result is a
    // function of that key (no environment read, nothing upstream that
    // read one): what later models may depend on.
    let mut keys: Vec<Option<Key>> = vec![None; project.models.len()];
    let mut compiled = vec![false; project.models.len()];
    let mut reused = 0;
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
                    && let Some(cm) = reused_model(&project, model, summary, stored)
                {
                    let published = publish.then(|| published_columns(&columns.unpack()));
                    return Ok((idx, cm, published, key, true));
                }
                let work = ModelWork {
                    project: &project,
                    renderer: &renderer,
                    analyser: &analyser,
                    store: &store,
                    catalog_origin: &catalog_origin,
                    warn_error: opts.warn_error,
                };
                let (cm, published, clean) =
                    work.compile(model, key.as_ref(), &refs[idx], &dynamic_key, publish)?;
                Ok((idx, cm, published, key.filter(|_| clean), false))
            })
            .collect();
        let done: Vec<Done> = done.into_iter().collect::<Result<_, _>>()?;
        analyser.publish_columns(done.iter().filter_map(|(idx, _, published, ..)| {
            published
                .as_ref()
                .map(|cols| (project.models[*idx].name.as_str(), cols.clone()))
        }));
        for (idx, cm, _, key, hit) in done {
            slots[idx] = Some(cm);
            keys[idx] = key;
            compiled[idx] = true;
            reused += usize::from(hit);
        }
    }
    let mut models: Vec<CompiledModel> = slots
        .into_iter()
        .map(|m| m.expect("every model is compiled"))
        .collect();
    timer.lap("render");
    check_refs(&mut models);
    crate::names::check_unique_relations(&mut models, &project);
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
                "CIO011",
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

    let compilation = Compilation {
        project,
        models,
        dag,
        selected,
        diagnostics,
        reused,
    };
    if opts.write {
        write_outputs(&compilation, &mut timer)?;
        if persist && let Some(store) = store.created() {
            // The new cache file holds every reusable record: copies of
            // the reused ones, then those of the models compiled anew.
            for (m, key) in compilation.models.iter().zip(&keys) {
                if let (Some(key), Some(stored)) = (key, &m.stored)
                    && !store.holds(stored)
                {
                    store.copy(key, stored).map_err(|e| store_error(&e))?;
                }
            }
            let path = cache::path(&compilation.project);
            store.persist(&path).map_err(|e| {
                Diagnostic::error("CIO020", format!("cannot write {}: {e}", path.display()))
                    .with_help("check that the target folder is writable and the disk is not full")
            })?;
            timer.lap("cache");
        }
    }
    Ok(compilation)
}

/// The store of the models compiled anew, created on first use.
struct LazyStore {
    /// The target folder, when the store is to become the cache file.
    dir: Option<PathBuf>,
    fingerprint: Key,
    cell: OnceLock<Result<Arc<Store>, String>>,
}

impl LazyStore {
    /// The store, created on the first call.
    fn get(&self) -> Result<&Arc<Store>, Diagnostic> {
        self.cell
            .get_or_init(|| {
                Store::create(self.dir.as_deref(), &self.fingerprint)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| {
                Diagnostic::error("CIO020", format!("cannot create the model store: {e}"))
                    .with_help("check that the target folder (or the temporary folder) is writable and the disk is not full")
            })
    }

    /// The store, if a model was compiled anew.
    fn created(&self) -> Option<&Arc<Store>> {
        self.cell.get().and_then(|r| r.as_ref().ok())
    }
}

fn store_error(e: &std::io::Error) -> Diagnostic {
    Diagnostic::error("CIO020", format!("cannot write the model store: {e}"))
        .with_help("check that the target folder is writable and the disk is not full")
}

/// What compiling one model needs besides the model.
struct ModelWork<'a> {
    project: &'a Project,
    renderer: &'a Renderer,
    analyser: &'a Analyser<'a>,
    store: &'a LazyStore,
    catalog_origin: &'a str,
    warn_error: bool,
}

impl ModelWork<'_> {
    /// Renders, analyses and checks one model and stores its SQL and
    /// columns, under `key` when the result can be reused (see
    /// [`crate::cache`]). `dynamic_key` gives the key to record for a
    /// ref() that is not among `static_refs` (`None`: the result cannot be
    /// reused). Returns the model; when `publish`, the columns later models
    /// see; and whether the result is a function of `key` (no environment
    /// variable read, every ref accounted for).
    fn compile(
        &self,
        model: &crate::project::Model,
        key: Option<&Key>,
        static_refs: &[String],
        dynamic_key: &(dyn Fn(&str) -> Option<Key> + Sync),
        publish: bool,
    ) -> Result<(CompiledModel, Option<Vec<Column>>, bool), Diagnostic> {
        let (project, renderer, analyser) = (self.project, self.renderer, self.analyser);
        let result = renderer.render(model);
        let analysis = match &result {
            Ok(r) if r.config.enabled() => Some(analyser.analyse(model, &r.sql)),
            _ => None,
        };
        let relation = renderer
            .shared()
            .models
            .get(&model.name.to_lowercase())
            .map(|m| m.relation.clone())
            .expect("every model is registered");
        let mut cm = CompiledModel {
            name: model.name.clone(),
            path: model.path.clone(),
            compiled_path: compiled_path(project, model),
            relation,
            stored: None,
            config: model.folder_config.clone(),
            depends_on: Vec::new(),
            relations: Vec::new(),
            columns_unresolved: None,
            diagnostics: Vec::new(),
            logs: Vec::new(),
            status: ModelStatus::Success,
        };
        let mut sql = None;
        let mut pure = false;
        let mut dynamic_refs = Vec::new();
        match result {
            Ok(r) => {
                pure = !r.volatile;
                for d in &r.refs {
                    if !static_refs.iter().any(|s| s.eq_ignore_ascii_case(d)) {
                        match dynamic_key(d) {
                            Some(k) => dynamic_refs.push((d.clone(), k)),
                            None => pure = false,
                        }
                    }
                }
                sql = Some(r.sql);
                cm.config = r.config;
                cm.depends_on = r.refs;
                cm.relations = r.relations;
                cm.diagnostics = r.warnings;
                cm.logs = r.logs;
            }
            Err(d) => {
                cm.diagnostics.push(d);
                cm.status = ModelStatus::Error;
            }
        }
        if !cm.config.enabled() {
            cm.status = ModelStatus::Disabled;
        }
        let mut columns = Vec::new();
        let mut published = None;
        let analysis = match analysis {
            Some(ModelAnalysis::Columns(found)) => {
                if publish {
                    published = Some(published_columns(&found));
                }
                columns = found;
                None
            }
            Some(ModelAnalysis::Unresolved { error, upstream }) => {
                let why = error.to_string();
                if let Some(catalog) = analyser.catalog_columns(&cm.name) {
                    columns = catalog_fallback(&catalog, &why);
                }
                cm.columns_unresolved = Some(why);
                Some(ModelAnalysis::Unresolved { error, upstream })
            }
            Some(invalid @ ModelAnalysis::Invalid(_)) => {
                cm.columns_unresolved = Some("the compiled SQL is not a valid query".into());
                Some(invalid)
            }
            None => {
                cm.columns_unresolved = Some(match cm.status {
                    ModelStatus::Disabled => "the model is disabled".into(),
                    _ => "the model does not compile".into(),
                });
                None
            }
        };
        check_model(
            project,
            &mut cm,
            model,
            sql.as_deref(),
            analysis,
            &columns,
            self.catalog_origin,
            self.warn_error,
        );
        if let Some(sql) = sql {
            let reusable = pure
                && cm.diagnostics.is_empty()
                && cm.logs.is_empty()
                && matches!(cm.status, ModelStatus::Success | ModelStatus::Disabled);
            let record = Record {
                summary: Summary {
                    relation: (
                        cm.relation.database.clone(),
                        cm.relation.schema.clone(),
                        cm.relation.identifier.clone(),
                    ),
                    config: serde_json::to_string(&cm.config.values).unwrap_or_default(),
                    depends_on: cm.depends_on.clone(),
                    relations: cm.relations.clone(),
                    columns_unresolved: cm.columns_unresolved.clone(),
                    disabled: cm.status == ModelStatus::Disabled,
                    dynamic_refs,
                },
                sql: CompactText::new(&sql),
                columns: PackedColumns::pack(&columns),
            };
            let stored = self
                .store
                .get()?
                .append(key.filter(|_| reusable), &record)
                .map_err(|e| store_error(&e))?;
            cm.stored = Some(stored);
        }
        Ok((cm, published, pure))
    }
}

/// A model rebuilt from its record in the compile cache; `None` when the
/// record does not describe this model (a damaged file).
fn reused_model(
    project: &Project,
    model: &crate::project::Model,
    summary: Summary,
    stored: Stored,
) -> Option<CompiledModel> {
    let config = summary.model_config()?;
    let relation = summary.relation_name();
    Some(CompiledModel {
        name: model.name.clone(),
        path: model.path.clone(),
        compiled_path: compiled_path(project, model),
        relation,
        stored: Some(stored),
        config,
        depends_on: summary.depends_on,
        relations: summary.relations,
        columns_unresolved: summary.columns_unresolved,
        diagnostics: Vec::new(),
        logs: Vec::new(),
        status: if summary.disabled {
            ModelStatus::Disabled
        } else {
            ModelStatus::Success
        },
    })
}

/// Where the compiled SQL of `model` goes, relative to the project root
/// (a model under an absolute model path keeps that path below
/// `compiled/`, so its SQL never lands outside the target folder).
fn compiled_path(project: &Project, model: &crate::project::Model) -> String {
    format!(
        "{}/compiled/{}",
        project.config.target_path,
        model.path.trim_start_matches('/')
    )
}

/// Validation after rendering: SQL parses, the Customer.io contract of a
/// sync model holds (and its output columns are known), materialization is
/// supported, dynamic names agree with what `ref()` saw. `analysis` holds
/// what the analysis of the model left to report; `columns` are its output
/// columns, `sql` its compiled SQL.
#[allow(clippy::too_many_arguments)]
fn check_model(
    project: &Project,
    m: &mut CompiledModel,
    model: &crate::project::Model,
    sql: Option<&str>,
    analysis: Option<ModelAnalysis>,
    columns: &[OutputColumn],
    catalog_origin: &str,
    warn_error: bool,
) {
    if m.status != ModelStatus::Success {
        return;
    }
    let mut errors = Vec::new();
    let sync = match sync_type(&m.name, &m.path, Some(&model.source), &m.config) {
        Ok(sync) => sync,
        Err(d) => {
            errors.push(d);
            None
        }
    };
    match analysis {
        Some(ModelAnalysis::Invalid(d)) => errors.push(d),
        Some(ModelAnalysis::Unresolved { error, upstream }) => m.diagnostics.push(
            unresolved_diagnostic(model, &error, upstream.as_deref(), catalog_origin, sync),
        ),
        _ => {
            if let (Some(sync), Some(sql)) = (sync, sql) {
                let found = contract_diagnostics(sync, columns, model, sql);
                m.diagnostics.extend(found);
            }
        }
    }
    let materialized = m.config.materialized().to_string();
    if !matches!(materialized.as_str(), "table" | "view") {
        errors.push(
            Diagnostic::error(
                "CIO009",
                format!("materialized='{materialized}' is not supported"),
            )
            .for_model(&m.name)
            .at_file(&m.path)
            .with_help("use materialized='table' or materialized='view'"),
        );
    }
    errors.extend(crate::names::check_model_relation(
        project,
        model,
        &m.relation,
        &m.config.values,
    ));
    let actual = relation_for(&project.target, &m.name, &m.config);
    if actual != m.relation {
        errors.push(
            Diagnostic::error(
                "CIO012",
                format!("the model's config() names it {actual}, but ref() saw {} before rendering", m.relation),
            )
            .for_model(&m.name)
            .at_file(&m.path)
            .with_help("write alias, schema and database as plain strings in config(...), or set them in dbt_project.yml"),
        );
    }
    if warn_error {
        for d in &mut m.diagnostics {
            d.severity = Severity::Error;
        }
    }
    let has_error = !errors.is_empty() || m.diagnostics.iter().any(Diagnostic::is_error);
    m.diagnostics.extend(errors);
    if has_error {
        m.status = ModelStatus::Error;
    }
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
                    Diagnostic::error("CIO013", format!("ref('{dep}') points at a disabled model"))
                        .for_model(&m.name)
                        .at_file(&m.path)
                        .with_help(format!("enable {dep}, or remove the ref")),
                );
                m.status = ModelStatus::Error;
            }
        }
    }
}

/// `ref('name')` literals in a model's source, for render ordering.
pub fn static_refs(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(idx) = rest.find("ref(") {
        let before = rest[..idx].chars().last();
        rest = &rest[idx + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let arg = rest.trim_start();
        if let Some(quote) = arg.chars().next().filter(|c| *c == '\'' || *c == '"')
            && let Some(end) = arg[1..].find(quote)
        {
            out.push(arg[1..1 + end].to_string());
        }
    }
    out
}

/// The manifest written to `target/manifest.json`.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// About the run.
    pub metadata: ManifestMetadata,
    /// Every model by unique id (`model.<project>.<name>`).
    pub nodes: BTreeMap<String, ManifestNode>,
    /// unique id → the nodes it depends on.
    pub parent_map: BTreeMap<String, Vec<String>>,
    /// unique id → the nodes that depend on it.
    pub child_map: BTreeMap<String, Vec<String>>,
}

/// Manifest metadata. Holds no timestamps, so the file is deterministic.
#[derive(Debug, Serialize)]
pub struct ManifestMetadata {
    /// `cio-sql`.
    pub generator: &'static str,
    /// cio-sql's version.
    pub version: &'static str,
    /// The project name.
    pub project_name: String,
    /// Target name.
    pub target_name: String,
    /// Target database.
    pub target_database: String,
    /// Target schema.
    pub target_schema: String,
}

/// One model in the manifest.
#[derive(Debug, Serialize)]
pub struct ManifestNode {
    /// `model.<project>.<name>`.
    pub unique_id: String,
    /// Always `model`.
    pub resource_type: &'static str,
    /// Model name.
    pub name: String,
    /// Source path.
    pub original_file_path: String,
    /// Compiled SQL path (written only when status is `success`).
    pub compiled_path: String,
    /// `database.schema.identifier` as SQL writes it (quoted as `ref()`
    /// renders it), as in dbt's manifest.
    pub relation_name: String,
    /// Database.
    pub database: String,
    /// Schema.
    pub schema: String,
    /// Identifier.
    pub alias: String,
    /// The final configuration.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Tags.
    pub tags: Vec<String>,
    /// Upstream nodes and relations.
    pub depends_on: DependsOn,
    /// How compiling it went.
    pub status: ModelStatus,
    /// Its output columns, with their lineage (see [`CompiledModel::columns`]):
    /// serialised as a JSON array of [`ManifestColumn`], straight from the
    /// packed columns.
    pub columns: ManifestColumns,
    /// Why the output columns could not be worked out from the SQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns_unresolved: Option<String>,
    /// Codes and messages of its diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// One output column of a model in the manifest.
#[derive(Debug, Serialize)]
pub struct ManifestColumn {
    /// The name as Snowflake stores it (`userId`, `EMAIL`).
    pub name: String,
    /// The Snowflake data type where it is certain.
    pub data_type: Option<String>,
    /// The name was written with double quotes.
    pub quoted: bool,
    /// How the value is derived from `lineage`: `{"kind": "copied"}`,
    /// `{"kind": "wrapped", "function": "TO_TIMESTAMP_NTZ"}`,
    /// `{"kind": "unknown", "reason": …}`, ….
    pub transform: Transform,
    /// The columns of the relations in its SQL it is computed from.
    pub lineage: Vec<SourceColumn>,
}

impl From<OutputColumn> for ManifestColumn {
    fn from(c: OutputColumn) -> Self {
        ManifestColumn {
            name: c.name,
            data_type: c.data_type,
            quoted: c.quoted,
            transform: c.transform,
            lineage: c.lineage,
        }
    }
}

/// What a node reads.
#[derive(Debug, Serialize)]
pub struct DependsOn {
    /// Unique ids of models.
    pub nodes: Vec<String>,
    /// Catalog relations (`DB.SCHEMA.NAME`).
    pub relations: Vec<String>,
}

impl Compilation {
    /// The manifest of this compilation.
    pub fn manifest(&self) -> Manifest {
        let mut nodes = BTreeMap::new();
        let mut parent_map = BTreeMap::new();
        let mut child_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in &self.models {
            let node = self.manifest_node(m);
            let id = node.unique_id.clone();
            for p in &node.depends_on.nodes {
                child_map.entry(p.clone()).or_default().push(id.clone());
            }
            child_map.entry(id.clone()).or_default();
            parent_map.insert(id.clone(), node.depends_on.nodes.clone());
            nodes.insert(id, node);
        }
        for children in child_map.values_mut() {
            children.sort();
        }
        Manifest {
            metadata: self.manifest_metadata(),
            nodes,
            parent_map,
            child_map,
        }
    }

    /// The manifest's unique id of model `name`: `model.<project>.<name>`.
    fn unique_id(&self, name: &str) -> String {
        format!("model.{}.{name}", self.project.config.name)
    }

    fn manifest_metadata(&self) -> ManifestMetadata {
        let target = &self.project.target;
        ManifestMetadata {
            generator: "cio-sql",
            version: env!("CARGO_PKG_VERSION"),
            project_name: self.project.config.name.clone(),
            target_name: target.name.clone(),
            target_database: target.database.clone(),
            target_schema: target.schema.clone(),
        }
    }

    fn manifest_node(&self, m: &CompiledModel) -> ManifestNode {
        ManifestNode {
            unique_id: self.unique_id(&m.name),
            resource_type: "model",
            name: m.name.clone(),
            original_file_path: m.path.clone(),
            compiled_path: m.compiled_path.clone(),
            relation_name: crate::render::Relation {
                name: m.relation.clone(),
                quoting: self.project.config.quoting,
            }
            .render_sql(),
            database: m.relation.database.clone(),
            schema: m.relation.schema.clone(),
            alias: m.relation.identifier.clone(),
            config: m.config.values.clone(),
            tags: m.config.tags(),
            depends_on: DependsOn {
                nodes: m.depends_on.iter().map(|d| self.unique_id(d)).collect(),
                relations: m.relations.clone(),
            },
            status: m.status,
            columns: ManifestColumns(
                m.stored
                    .as_ref()
                    .and_then(Stored::packed_columns)
                    .unwrap_or_default(),
            ),
            columns_unresolved: m.columns_unresolved.clone(),
            diagnostics: m.diagnostics.clone(),
        }
    }
}

/// Writes [`Compilation::manifest`] to `out` as JSON with one line per
/// node and per map entry: compact like dbt's, and a change to one model is
/// a one-line diff. Nodes are serialised in parallel, a batch at a time, so
/// only a batch of them is ever in memory as JSON.
fn write_manifest(c: &Compilation, out: &mut (dyn std::io::Write + Send)) -> std::io::Result<()> {
    /// Nodes serialised per parallel batch.
    const BATCH: usize = 128;
    let mut by_id: Vec<&CompiledModel> = c.models.iter().collect();
    // Unique ids are the names behind one common prefix: name order is
    // id order.
    by_id.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in &c.models {
        for parent in &m.depends_on {
            children.entry(parent).or_default().push(&m.name);
        }
        children.entry(&m.name).or_default();
    }
    let ids = |names: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        names.map(|n| c.unique_id(n)).collect()
    };
    fn json<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
        serde_json::to_vec(value).map_err(std::io::Error::other)
    }

    out.write_all(b"{\"metadata\":")?;
    out.write_all(&json(&c.manifest_metadata())?)?;
    out.write_all(b",\n\"nodes\":{")?;
    // Each batch is serialised (in parallel) while the previous one is
    // written out.
    let serialise = |batch: &[&CompiledModel], first: bool| -> std::io::Result<Vec<u8>> {
        let lines: Vec<std::io::Result<Vec<u8>>> = batch
            .par_iter()
            .map(|m| {
                let mut line = json(&c.unique_id(&m.name))?;
                line.push(b':');
                serde_json::to_writer(&mut line, &c.manifest_node(m))
                    .map_err(std::io::Error::other)?;
                Ok(line)
            })
            .collect();
        let mut joined = Vec::with_capacity(lines.iter().flatten().map(|l| l.len() + 2).sum());
        for (i, line) in lines.into_iter().enumerate() {
            joined.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
            joined.extend_from_slice(&line?);
        }
        Ok(joined)
    };
    let mut pending: Vec<u8> = Vec::new();
    for (i, batch) in by_id.chunks(BATCH).enumerate() {
        let (written, next) = rayon::join(|| out.write_all(&pending), || serialise(batch, i == 0));
        written?;
        pending = next?;
    }
    out.write_all(&pending)?;
    out.write_all(b"\n},\n\"parent_map\":{")?;
    for (i, m) in by_id.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        out.write_all(&json(&c.unique_id(&m.name))?)?;
        out.write_all(b":")?;
        let parents = ids(&mut m.depends_on.iter().map(String::as_str));
        out.write_all(&json(&parents)?)?;
    }
    out.write_all(b"\n},\n\"child_map\":{")?;
    for (i, (name, kids)) in children.iter_mut().enumerate() {
        kids.sort_unstable();
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        out.write_all(&json(&c.unique_id(name))?)?;
        out.write_all(b":")?;
        out.write_all(&json(&ids(&mut kids.iter().copied()))?)?;
    }
    out.write_all(b"\n}}\n")
}

/// Writes the compiled SQL of every selected, successful model (files whose
/// SQL did not change are left alone) and the manifest.
fn write_outputs(c: &Compilation, timer: &mut PhaseTimer) -> Result<(), Diagnostic> {
    let root: PathBuf = c.project.root.clone();
    // Temporary files go to the target folder itself, where the next
    // compile finds any a killed process left (see `files`).
    let scratch = c.project.target_dir();
    let results: Vec<Result<(), Diagnostic>> =
        c.selected_models()
            .par_iter()
            .filter(|m| m.status == ModelStatus::Success)
            .map(|m| {
                let path = root.join(&m.compiled_path);
                let sql =
                    m.sql().ok_or_else(|| {
                        Diagnostic::error(
                    "CIO020",
                    format!("cannot read back the compiled SQL of {} from the model store", m.name),
                )
                .with_help("the disk or the target folder failed during the compile: compile again")
                    })?;
                crate::output::write_if_changed(&path, sql.as_bytes(), Some(&scratch))
            })
            .collect();
    for r in results {
        r?;
    }
    timer.lap("write sql");
    crate::output::write_atomic_stream(&c.project.target_dir().join("manifest.json"), |out| {
        write_manifest(c, out)
    })?;
    timer.lap("manifest");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_manifest_is_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("dbt_project.yml"), "name: p\n").unwrap();
        std::fs::create_dir_all(root.join("models/sub")).unwrap();
        let models = [
            ("models/base.sql", "select 1 as id"),
            ("models/a_b.sql", "select id from {{ ref('base') }}"),
            (
                "models/ab.sql",
                "select id from {{ ref('a_b') }} join {{ ref('base') }} using (id)",
            ),
            ("models/sub/Zed.sql", "select id from {{ ref('ab') }}"),
            ("models/broken.sql", "select from from"),
        ];
        for (path, sql) in models {
            std::fs::write(root.join(path), sql).unwrap();
        }
        let opts = CompileOptions {
            load: LoadOptions {
                project_dir: root.to_path_buf(),
                profiles_dir: Some(root.to_path_buf()),
                ..Default::default()
            },
            ..Default::default()
        };
        std::fs::write(
            root.join("profiles.yml"),
            "p:\n  outputs:\n    dev:\n      type: snowflake\n      database: DB\n      schema: S\n  target: dev\n",
        )
        .unwrap();
        let c = compile(&opts).unwrap();
        let mut written = Vec::new();
        write_manifest(&c, &mut written).unwrap();
        let text = String::from_utf8(written).unwrap();
        let streamed: serde_json::Value = serde_json::from_str(&text).unwrap();
        let built = serde_json::to_value(c.manifest()).unwrap();
        assert_eq!(streamed, built);
        // One line per node and per map entry, in id order.
        let lines: Vec<&str> = text.lines().collect();
        let ids: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("\"model.p."))
            .map(|l| &l[1..l.find("\":").unwrap()])
            .collect();
        let per_section = [
            "model.p.Zed",
            "model.p.a_b",
            "model.p.ab",
            "model.p.base",
            "model.p.broken",
        ];
        assert_eq!(ids, [per_section; 3].concat());
        assert!(lines[0].starts_with("{\"metadata\":{\"generator\":\"cio-sql\""));
    }

    #[test]
    fn finds_static_refs() {
        let src = "{{ ref('a') }} {{ ref(\"b\") }} {{ my_ref('c') }} {{ ref(var('x')) }}";
        assert_eq!(static_refs(src), vec!["a", "b"]);
    }
}
