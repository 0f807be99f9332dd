//! Project loading: the project file, profiles, models and macros.
//!
//! [`Project::load`] reads everything the later stages need from disk, once:
//! `dbt_project.yml`, the selected target of `profiles.yml`, the source text
//! of every model and every project macro. Nothing after this stage reads
//! project files.

mod config;
mod files;
pub mod incremental;
pub mod packages;
mod profiles;
pub mod properties;
pub mod seeds;
mod sources;
mod static_config;

pub use config::{Materialization, ModelConfig, ProjectConfig, merge_config_value};
pub use files::{macro_names, read_text};
pub use profiles::fields as profile_fields;
pub use profiles::{Target, env_value, load_target};
pub use seeds::ProjectSeed;
pub use sources::SourceTable;
pub use static_config::{ConfigArg, config_call_args, static_config};

use crate::diagnostics::codes;
use files::{ModelPathFiles, display_dir, load_macros, load_models, relabel, relative};
use sources::load_sources;

use crate::diagnostics::Diagnostic;
use crate::sql::{self, Quoting, RelationName};
use std::path::{Path, PathBuf};

/// The name of the project file, as in dbt.
pub const PROJECT_FILE: &str = "dbt_project.yml";

/// Options that decide how a project is loaded.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The project directory (holds `dbt_project.yml`).
    pub project_dir: PathBuf,
    /// Where to find `profiles.yml`; see [`load_target`] for the search order.
    pub profiles_dir: Option<PathBuf>,
    /// The target to use instead of the profile's default.
    pub target: Option<String>,
    /// `--vars` given on the command line (YAML mapping), overriding the project's.
    pub vars: Option<String>,
    /// The catalog file, overriding `catalog-path` of the project file.
    pub catalog: Option<PathBuf>,
}

/// A model: one `.sql` file under a model path.
#[derive(Debug, Clone)]
pub struct Model {
    /// The model name: the file stem.
    pub name: String,
    /// Path relative to the project root, with `/` separators.
    pub path: String,
    /// The model's source text.
    pub source: String,
    /// Configuration from the project file's `models:` tree for this folder.
    pub folder_config: ModelConfig,
}

/// A file of project macros.
#[derive(Debug, Clone)]
pub struct MacroFile {
    /// Path relative to the project root.
    pub path: String,
    /// The file's source text.
    pub source: String,
    /// Names of the `{% macro %}` definitions in the file, in order.
    pub macros: Vec<String>,
}

/// A loaded project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project directory.
    pub root: PathBuf,
    /// The parsed project file.
    pub config: ProjectConfig,
    /// The selected target of the profile.
    pub target: Target,
    /// Every model, sorted by path.
    pub models: Vec<Model>,
    /// Every project macro file, sorted by path.
    pub macro_files: Vec<MacroFile>,
    /// Sources declared in `.yml` files under the model paths.
    pub sources: Vec<SourceTable>,
    /// Every seed (CSV file under the seed paths), sorted by path.
    pub seeds: Vec<ProjectSeed>,
    /// Seed folders that could not be listed.
    pub seed_problems: Vec<Diagnostic>,
    /// The `.yml` properties of models, seeds and sources, and the docs
    /// blocks.
    pub properties: properties::Properties,
    /// The packages `packages.yml` lists (see [`packages`]).
    pub packages: Vec<packages::Package>,
    /// Project variables: the project file's `vars`, overridden by `--vars`.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// The catalog file to read.
    pub catalog_path: PathBuf,
}

impl Project {
    /// Loads the project in `opts.project_dir`.
    ///
    /// Fails on the first problem that prevents every model from compiling
    /// (a broken project file, two models with one name, …).
    pub fn load(opts: &LoadOptions) -> Result<Project, Diagnostic> {
        let root = opts.project_dir.clone();
        let project_file = root.join(PROJECT_FILE);
        if !project_file.is_file() {
            return Err(Diagnostic::error(
                codes::PROJECT_FILE,
                format!("no {PROJECT_FILE} in {}", display_dir(&root)),
            )
            .with_help(
                "run cio-sql inside a project folder, or pass --project-dir DIR pointing at one",
            ));
        }
        let config = ProjectConfig::load(&project_file)
            .map_err(|d| relabel(d, &project_file, PROJECT_FILE))?;
        let target = load_target(
            &root,
            opts.profiles_dir.as_deref(),
            &config.profile_name(),
            opts.target.as_deref(),
        )?;
        check_target(&target, config.quoting)?;
        let mut vars = config.vars.clone();
        if let Some(cli_vars) = &opts.vars {
            let parsed: serde_json::Value = serde_yaml::from_str(cli_vars).map_err(|e| {
                Diagnostic::error(
                    codes::PROJECT_FILE,
                    format!("--vars is not a YAML mapping: {e}"),
                )
                .with_help("pass a mapping, e.g. --vars '{min_orders: 2}'")
            })?;
            match parsed {
                serde_json::Value::Object(map) => vars.extend(map),
                _ => {
                    return Err(Diagnostic::error(
                        codes::PROJECT_FILE,
                        "--vars is not a YAML mapping",
                    )
                    .with_help("pass a mapping, e.g. --vars '{min_orders: 2}'"));
                }
            }
        }
        let model_files = ModelPathFiles::find(&root, &config)?;
        let mut models = load_models(&root, &model_files.sql, &config)?;
        let macro_files = load_macros(&root, &config.macro_paths)?;
        let sources = load_sources(&root, &model_files.yaml, &target)?;
        let property_files: Vec<PathBuf> = model_files
            .yaml
            .iter()
            .chain(&model_files.seed_yaml)
            .cloned()
            .collect();
        let properties = properties::load_properties(&root, &property_files, &model_files.md)?;
        // A `.yml` config block and tags sit between the project file's
        // folder config and the model's own config().
        for model in &mut models {
            if let Some(p) = properties.models.get(&model.name.to_lowercase()) {
                model.folder_config.merge(&p.node_config());
            }
        }
        let (seeds, seed_problems) = seeds::load_seed_nodes(&root, &config, &properties);
        let packages = packages::load_packages(&root, &config.packages_install_path)?;
        check_seed_names(&models, &seeds)?;
        let catalog_path = match &opts.catalog {
            Some(path) => path.clone(),
            None => root.join(&config.catalog_path),
        };
        Ok(Project {
            root,
            config,
            target,
            models,
            macro_files,
            sources,
            seeds,
            seed_problems,
            properties,
            packages,
            vars,
            catalog_path,
        })
    }

    /// The directory compiled output goes to (`target/` by default).
    pub fn target_dir(&self) -> PathBuf {
        self.root.join(&self.config.target_path)
    }
}

/// A seed named like a model is refused: `ref()` names either by name
/// alone (dbt deprecates the same; see its `require_unique_project_resource_names`).
fn check_seed_names(models: &[Model], seeds: &[ProjectSeed]) -> Result<(), Diagnostic> {
    for seed in seeds.iter().filter(|s| s.enabled()) {
        if let Some(m) = models
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(&seed.name))
        {
            return Err(Diagnostic::error(
                codes::SEED_MODEL_NAME,
                format!(
                    "the seed {} and the model {} are both named {}: ref('{}') could mean either",
                    seed.path, m.path, seed.name, seed.name
                ),
            )
            .at_file(&seed.path)
            .with_help("rename the CSV file or the model file (a node's name is its file name)"));
        }
    }
    Ok(())
}

/// Checks the database and schema of `target`, which every model and seed
/// is built in unless configured otherwise: a configuration error, found
/// when the project loads.
fn check_target(target: &Target, quoting: Quoting) -> Result<(), Diagnostic> {
    let relation = RelationName::new(&target.database, &target.schema, "");
    for part in relation.parts(quoting).into_iter().take(2) {
        let (name, key) = (part.name, part.config_key);
        if let Err(problem) = sql::check_name(name, part.quoted) {
            let file = target
                .source
                .as_ref()
                .map_or_else(|| "profiles.yml".into(), |p| p.display().to_string());
            return Err(Diagnostic::error(
                codes::BAD_NAME,
                format!(
                    "`{key}: {name}` of target `{}` cannot be used in Snowflake SQL: {problem}",
                    target.name
                ),
            )
            .at_file(&file)
            .with_help(problem.help(
                name,
                &format!("use a plain {key} such as `{{plain}}` in {file}"),
                part.quoting_key,
            )));
        }
    }
    Ok(())
}

/// The target folder of the project in `project_dir`, for a command that
/// must leave a record there even when the project does not load: the
/// project file's `target-path` when the file can be read, else `target/`
/// if that folder exists next to a project file; `None` when there is no
/// project here.
pub fn target_dir_of(project_dir: &Path) -> Option<PathBuf> {
    let file = project_dir.join(PROJECT_FILE);
    if !file.is_file() {
        return None;
    }
    match ProjectConfig::load(&file) {
        Ok(config) => Some(project_dir.join(config.target_path)),
        Err(_) => {
            let dir = project_dir.join("target");
            dir.is_dir().then_some(dir)
        }
    }
}
