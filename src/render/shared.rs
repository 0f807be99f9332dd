//! What every render of a project shares: the target, variables, the
//! models (where each is built, for `ref()`), the catalog, declared sources,
//! and the columns of the models compiled so far.

use crate::catalog::Catalog;
use crate::project::{Model, ModelConfig, Project, ProjectSeed, Target};
use crate::sql::{Column, Quoting, RelationName};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A model as other models see it through `ref()`.
#[derive(Debug, Clone)]
pub struct ModelRef {
    /// The model name.
    pub name: String,
    /// Where it is built.
    pub relation: RelationName,
    /// An ephemeral model (as its folder config and literal `config()`
    /// say): `ref()` inlines it as a CTE.
    pub ephemeral: bool,
}

/// Data shared by every render: read-only except for the columns of
/// upstream models, which analysis fills in as models are compiled.
pub struct Shared {
    /// The project name.
    pub project_name: String,
    /// The selected target.
    pub target: Target,
    /// Project variables.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Models by lower-case name.
    pub models: HashMap<String, ModelRef>,
    /// Enabled seeds by lower-case name: `ref()` finds a seed after the
    /// models, before the catalog (dbt's order).
    pub seeds: HashMap<String, ModelRef>,
    /// The models that look like Identify (people) models before rendering
    /// (they call `customer_io_identify(` or set `cio_sync` to identify), by
    /// name, sorted: what `people_model=` errors offer.
    pub identify_models: Vec<String>,
    /// The catalog.
    pub catalog: Arc<dyn Catalog>,
    /// Relation quoting.
    pub quoting: Quoting,
    /// Declared sources: (source, table) lower-case → relation.
    pub sources: HashMap<(String, String), RelationName>,
    /// Output columns of compiled models, by relation key.
    pub model_columns: RwLock<HashMap<String, Vec<Column>>>,
    /// Catalog columns already handed to a render, by relation key: every
    /// model that introspects a relation shares one list.
    catalog_columns: RwLock<HashMap<String, Arc<[Column]>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("project_name", &self.project_name)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Columns of a relation: a compiled model's output columns, else the catalog's.
    pub fn columns_of(&self, name: &RelationName) -> Option<Vec<Column>> {
        if let Ok(map) = self.model_columns.read()
            && let Some(cols) = map.get(&name.key())
        {
            return Some(cols.clone());
        }
        self.catalog.columns(name).map(<[Column]>::to_vec)
    }

    /// Like [`Shared::columns_of`], but catalog columns come as one shared
    /// list, copied out of the catalog once per relation per process.
    pub fn shared_columns_of(&self, name: &RelationName) -> Option<Arc<[Column]>> {
        let key = name.key();
        if let Ok(map) = self.model_columns.read()
            && let Some(cols) = map.get(&key)
        {
            return Some(cols.as_slice().into());
        }
        if let Ok(cache) = self.catalog_columns.read()
            && let Some(cols) = cache.get(&key)
        {
            return Some(cols.clone());
        }
        let cols: Arc<[Column]> = self.catalog.columns(name)?.into();
        if let Ok(mut cache) = self.catalog_columns.write() {
            cache.insert(key, cols.clone());
        }
        Some(cols)
    }
}

pub(super) fn shared_for(project: &Project, catalog: Arc<dyn Catalog>) -> Shared {
    let mut models = HashMap::new();
    let mut identify_models = Vec::new();
    for model in &project.models {
        if looks_like_identify(model) {
            identify_models.push(model.name.clone());
        }
        models.insert(
            model.name.to_lowercase(),
            ModelRef {
                name: model.name.clone(),
                relation: model_relation(project, model),
                ephemeral: super::ephemeral::is_ephemeral(model),
            },
        );
    }
    let mut seeds = HashMap::new();
    let mut seed_columns = HashMap::new();
    for seed in project.seeds.iter().filter(|s| s.enabled()) {
        let relation = seed_relation(&project.target, catalog.as_ref(), seed);
        // A seed loaded into a catalog relation with columns is typed by
        // the catalog; any other by its header and values.
        if catalog.columns(&relation).is_none_or(<[Column]>::is_empty) && seed.problem.is_none() {
            let columns = seed
                .columns
                .iter()
                .map(|(name, ty)| Column {
                    quoted: seed.quote_columns(),
                    ..Column::new(name.clone(), ty)
                })
                .collect();
            seed_columns.insert(relation.key(), columns);
        }
        seeds.insert(
            seed.name.to_lowercase(),
            ModelRef {
                name: seed.name.clone(),
                relation,
                ephemeral: false,
            },
        );
    }
    let sources = project
        .sources
        .iter()
        .map(|s| {
            (
                (s.source.to_lowercase(), s.table.to_lowercase()),
                s.relation.clone(),
            )
        })
        .collect();
    Shared {
        project_name: project.config.name.clone(),
        target: project.target.clone(),
        vars: project.vars.clone(),
        models,
        seeds,
        identify_models,
        catalog,
        quoting: project.config.quoting,
        sources,
        model_columns: RwLock::new(seed_columns),
        catalog_columns: RwLock::new(HashMap::new()),
    }
}

/// Does `model` feed an Identify sync, as far as its text and folder config
/// tell before rendering?
fn looks_like_identify(model: &Model) -> bool {
    let mut config = model.folder_config.clone();
    config.merge(&crate::project::static_config(&model.source));
    let sync = config.values.get("cio_sync").and_then(|v| v.as_str());
    sync.is_some_and(|s| s.eq_ignore_ascii_case("identify"))
        || (sync.is_none() && model.source.contains("customer_io_identify("))
}

/// Where a model is built: dbt's default naming. A custom schema is appended
/// to the target schema (`CIO` + `crm` → `CIO_crm`).
pub fn model_relation(project: &Project, model: &Model) -> RelationName {
    let mut config = model.folder_config.clone();
    config.merge(&crate::project::static_config(&model.source));
    relation_for(&project.target, &model.name, &config)
}

/// Where a seed is loaded: with no `schema`, `alias` or `database` config,
/// the catalog relation of its name when the catalog has one; else dbt's
/// naming, as for a model.
pub fn seed_relation(target: &Target, catalog: &dyn Catalog, seed: &ProjectSeed) -> RelationName {
    let c = &seed.config;
    if c.schema().is_none()
        && c.alias().is_none()
        && c.database().is_none()
        && let Some(found) = catalog.find(&seed.name, &target.database, &target.schema)
    {
        return found;
    }
    relation_for(target, &seed.name, c)
}

/// The relation of model `name` with `config`, on `target`.
pub fn relation_for(target: &Target, name: &str, config: &ModelConfig) -> RelationName {
    let database = config.database().unwrap_or(&target.database).to_string();
    let schema = match config.schema() {
        Some(custom) => format!("{}_{}", target.schema, custom),
        None => target.schema.clone(),
    };
    RelationName::new(database, schema, config.alias().unwrap_or(name))
}
