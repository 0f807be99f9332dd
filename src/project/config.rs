//! `dbt_project.yml` and model configuration.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::sql::Quoting;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::Path;

/// The project file. Keys follow dbt's `dbt_project.yml`; keys cio-sql does
/// not use are accepted and ignored, so an existing dbt project file works
/// unchanged.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectConfig {
    /// Project name.
    pub name: String,
    /// The profile to read from `profiles.yml`; defaults to the project name.
    #[serde(default)]
    pub profile: Option<String>,
    /// Folders holding models.
    #[serde(
        default = "default_model_paths",
        rename = "model-paths",
        alias = "source-paths"
    )]
    pub model_paths: Vec<String>,
    /// Folders holding project macros.
    #[serde(default = "default_macro_paths", rename = "macro-paths")]
    pub macro_paths: Vec<String>,
    /// Folders holding CSV seeds.
    #[serde(
        default = "default_seed_paths",
        rename = "seed-paths",
        alias = "data-paths"
    )]
    pub seed_paths: Vec<String>,
    /// Folders of dbt tests (not run by cio-sql; never written to).
    #[serde(default = "default_test_paths", rename = "test-paths")]
    pub test_paths: Vec<String>,
    /// Folders of dbt analyses (not compiled by cio-sql; never written to).
    #[serde(default = "default_analysis_paths", rename = "analysis-paths")]
    pub analysis_paths: Vec<String>,
    /// Folders of dbt snapshots (not built by cio-sql; never written to).
    #[serde(default = "default_snapshot_paths", rename = "snapshot-paths")]
    pub snapshot_paths: Vec<String>,
    /// Where compiled output goes.
    #[serde(default = "default_target_path", rename = "target-path")]
    pub target_path: String,
    /// Where `dbt deps` installs packages (dbt's `packages-install-path`).
    #[serde(default = "default_packages_path", rename = "packages-install-path")]
    pub packages_install_path: String,
    /// The offline catalog (cio-sql's own key).
    #[serde(default = "default_catalog_path", rename = "catalog-path")]
    pub catalog_path: String,
    /// Project variables for `var()`.
    #[serde(default)]
    pub vars: Map<String, Value>,
    /// Folder-level model configuration.
    #[serde(default)]
    pub models: Value,
    /// Folder-level seed configuration (dbt's `seeds:` tree: `+schema`,
    /// `+alias`, `+enabled`, `+column_types`, `+quote_columns`,
    /// `+delimiter`, …).
    #[serde(default)]
    pub seeds: Value,
    /// dbt's `quoting:` block; when a part is true, relation names quote it.
    #[serde(default)]
    pub quoting: Quoting,
}

fn default_model_paths() -> Vec<String> {
    vec!["models".into()]
}
fn default_macro_paths() -> Vec<String> {
    vec!["macros".into()]
}
fn default_seed_paths() -> Vec<String> {
    vec!["seeds".into()]
}
fn default_test_paths() -> Vec<String> {
    vec!["tests".into()]
}
fn default_analysis_paths() -> Vec<String> {
    vec!["analyses".into()]
}
fn default_snapshot_paths() -> Vec<String> {
    vec!["snapshots".into()]
}
fn default_packages_path() -> String {
    "dbt_packages".into()
}
fn default_target_path() -> String {
    "target".into()
}
fn default_catalog_path() -> String {
    "catalog.yml".into()
}

/// How a model is built in the warehouse: its `materialized` config. Every
/// variant has one strategy in `execution::materialize`, which turns the
/// model into the statements that build it; a new materialization is a new
/// variant and its strategy there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Materialization {
    /// `CREATE OR REPLACE VIEW … AS <sql>` (dbt's default).
    View,
    /// `CREATE OR REPLACE TABLE … AS <sql>`.
    Table,
}

impl Materialization {
    /// Every materialization cio-sql builds.
    pub const ALL: [Materialization; 2] = [Materialization::View, Materialization::Table];

    /// The `materialized` value that selects it.
    pub fn name(self) -> &'static str {
        match self {
            Materialization::View => "view",
            Materialization::Table => "table",
        }
    }

    /// The materialization named `name` (as `materialized` spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Config keys that are settings even when written without dbt's `+` prefix.
const KNOWN_CONFIG_KEYS: &[&str] = &[
    "materialized",
    "tags",
    "schema",
    "database",
    "alias",
    "enabled",
    "meta",
    "docs",
    "persist_docs",
    "post-hook",
    "pre-hook",
    "full_refresh",
    "grants",
    "contract",
    "cio_sync",
    "cio_destination",
    "cio_timestamp_column",
    "column_types",
    "quote_columns",
    "delimiter",
];

impl ProjectConfig {
    /// Reads and parses the project file.
    pub fn load(path: &Path) -> Result<Self, Diagnostic> {
        let text = super::read_text(path)?;
        let mut config: ProjectConfig = serde_yaml::from_str(&text).map_err(|e| {
            Diagnostic::yaml_error(codes::PROJECT_FILE, path, &text, &e).with_general_help(
                "fix the YAML syntax; the project file's keys are in README.md (`dbt_project.yml`)",
            )
        })?;
        config.check_paths(path, &text)?;
        for (key, tree) in [("models", &config.models), ("seeds", &config.seeds)] {
            if !tree.is_null() && !tree.is_object() {
                let d = Diagnostic::error(
                    codes::PROJECT_FILE,
                    format!("`{key}:` in the project file must be a mapping"),
                )
                .with_help(format!(
                    "write folder configs as {key}: {{my_project: {{+schema: raw}}}}"
                ));
                return Err(match key_line(&text, key) {
                    Some(line) => d.at_line(path, &text, line, None),
                    None => d.at_file(path),
                });
            }
        }
        Ok(config)
    }

    /// The folders holding files the user writes (models, macros, seeds,
    /// tests, analyses, snapshots), with their key in the project file.
    /// cio-sql never writes into them.
    pub fn source_paths(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (key, paths) in [
            ("model-paths", &self.model_paths),
            ("macro-paths", &self.macro_paths),
            ("seed-paths", &self.seed_paths),
            ("test-paths", &self.test_paths),
            ("analysis-paths", &self.analysis_paths),
            ("snapshot-paths", &self.snapshot_paths),
        ] {
            out.extend(paths.iter().map(|p| (key, p.as_str())));
        }
        out
    }

    /// Checks the paths of the project file and writes them in a normal
    /// form (`./models/` becomes `models`). Every path must be non-empty and,
    /// unless absolute (a folder elsewhere given on purpose), stay inside the
    /// project folder; no folder may be the project folder itself; the
    /// target folder may not overlap a folder of user files (compiled SQL
    /// would be read back as models, or written over them).
    fn check_paths(&mut self, path: &Path, text: &str) -> Result<(), Diagnostic> {
        let at = |d: Diagnostic, key: &str| match key_line(text, key) {
            Some(line) => d.at_line(path, text, line, None),
            None => d.at_file(path),
        };
        let check = |key: &'static str, value: &mut String, folder: bool| {
            let normal = normalize(value).map_err(|why| {
                let fix = if why == "is empty" {
                    format!("set it to a path inside the project, or delete the line for the default (`{}`)", default_for(key))
                } else {
                    "keep project files inside the project folder; to use a folder elsewhere on purpose, give its absolute path".to_string()
                };
                at(
                    Diagnostic::error(codes::PROJECT_FILE, format!("`{key}` in the project file {why}: {value:?}"))
                        .with_help(fix),
                    key,
                )
            })?;
            if normal.is_empty() {
                let what = if folder { "folder" } else { "file" };
                return Err(at(
                    Diagnostic::error(
                        codes::PROJECT_FILE,
                        format!(
                            "`{key}` in the project file is the project folder itself: {value:?}"
                        ),
                    )
                    .with_help(format!(
                        "name a {what} inside the project, e.g. `{}`",
                        default_for(key)
                    )),
                    key,
                ));
            }
            *value = normal;
            Ok(())
        };
        for (key, paths) in [
            ("model-paths", &mut self.model_paths),
            ("macro-paths", &mut self.macro_paths),
            ("seed-paths", &mut self.seed_paths),
            ("test-paths", &mut self.test_paths),
            ("analysis-paths", &mut self.analysis_paths),
            ("snapshot-paths", &mut self.snapshot_paths),
        ] {
            for p in paths.iter_mut() {
                check(key, p, true)?;
            }
        }
        check("target-path", &mut self.target_path, true)?;
        check("catalog-path", &mut self.catalog_path, false)?;
        // Compared as joined to the project folder, so that an absolute
        // path and a relative one meet.
        let root = path.parent().unwrap_or(Path::new(""));
        let target = root.join(&self.target_path);
        for (key, source) in self.source_paths() {
            let source = root.join(source);
            let relation = if target.starts_with(&source) {
                "inside"
            } else if source.starts_with(&target) {
                "a parent of"
            } else {
                continue;
            };
            return Err(at(
                Diagnostic::error(
                    codes::PROJECT_FILE,
                    format!(
                        "`target-path` {:?} is {relation} the folder {:?} of `{key}`: cio-sql would write compiled SQL among your own files",
                        self.target_path,
                        source.strip_prefix(root).unwrap_or(&source).display()
                    ),
                )
                .with_help("give the target folder a place of its own, e.g. target-path: \"target\""),
                "target-path",
            ));
        }
        Ok(())
    }

    /// The profile name: `profile:` or the project name.
    pub fn profile_name(&self) -> String {
        self.profile.clone().unwrap_or_else(|| self.name.clone())
    }

    /// The configuration the `models:` tree gives a model in `folder`
    /// (folders below the model path) named `model`.
    pub fn folder_config(&self, folder: &[String], model: &str) -> ModelConfig {
        self.tree_config(&self.models, folder, model)
    }

    /// The configuration the `seeds:` tree gives a seed in `folder`
    /// (folders below the seed path) named `seed`.
    pub fn seed_config(&self, folder: &[String], seed: &str) -> ModelConfig {
        self.tree_config(&self.seeds, folder, seed)
    }

    fn tree_config(&self, tree: &Value, folder: &[String], model: &str) -> ModelConfig {
        let mut config = ModelConfig::default();
        let Some(top) = tree.as_object() else {
            return config;
        };
        apply_node(&mut config, top);
        let Some(Value::Object(project_node)) = top.get(&self.name) else {
            return config;
        };
        let mut node = project_node;
        apply_node(&mut config, node);
        for part in folder
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(model))
        {
            match node.get(part) {
                Some(Value::Object(child)) => {
                    apply_node(&mut config, child);
                    node = child;
                }
                _ => break,
            }
        }
        config
    }
}

/// `value` as a path in normal form: `.` parts dropped, `a/..` folded,
/// `/` separators. Fails when it is empty or, being relative, climbs out of
/// the project folder. The result is empty for the project folder itself.
fn normalize(value: &str) -> Result<String, &'static str> {
    use std::path::Component;
    if value.trim().is_empty() {
        return Err("is empty");
    }
    let path = Path::new(value);
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = String::new();
    for c in path.components() {
        match c {
            Component::Prefix(p) => absolute.push_str(&p.as_os_str().to_string_lossy()),
            Component::RootDir => absolute.push('/'),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() && absolute.is_empty() {
                    return Err("leads outside the project folder");
                }
            }
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
        }
    }
    Ok(format!("{absolute}{}", parts.join("/")))
}

/// The default of a path key, for help texts.
fn default_for(key: &str) -> String {
    match key {
        "model-paths" => "models".into(),
        "macro-paths" => "macros".into(),
        "seed-paths" => "seeds".into(),
        "test-paths" => "tests".into(),
        "analysis-paths" => "analyses".into(),
        "snapshot-paths" => "snapshots".into(),
        "target-path" => default_target_path(),
        _ => default_catalog_path(),
    }
}

/// The 1-based line where top-level `key:` is set in the project file.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let rest = line
                .strip_prefix(key)
                .or_else(|| line.strip_prefix(&format!("\"{key}\"")))
                .or_else(|| line.strip_prefix(&format!("'{key}'")));
            rest.is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

fn apply_node(config: &mut ModelConfig, node: &Map<String, Value>) {
    for (key, value) in node {
        if let Some(stripped) = key.strip_prefix('+') {
            merge_config_value(&mut config.values, stripped, value.clone());
        } else if KNOWN_CONFIG_KEYS.contains(&key.as_str()) && !value.is_object() {
            merge_config_value(&mut config.values, key, value.clone());
        }
    }
}

/// A model's configuration: dbt's keys (`materialized`, `tags`, `schema`,
/// `alias`, `database`, `enabled`) plus any other key, kept as given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelConfig {
    /// Every key, in the order first set.
    pub values: Map<String, Value>,
}

/// Sets `key` in `values` the way dbt layers configs: `tags` accumulate,
/// `cio_tests` mappings merge key by key, every other key is replaced.
pub fn merge_config_value(values: &mut Map<String, Value>, key: &str, value: Value) {
    if key == "tags" {
        let mut tags: Vec<Value> = match values.get("tags") {
            Some(Value::Array(existing)) => existing.clone(),
            _ => Vec::new(),
        };
        let new: Vec<Value> = match value {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        for tag in new {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        values.insert("tags".into(), Value::Array(tags));
    } else if (key == "cio_tests" || key == "column_types")
        && let (Some(Value::Object(existing)), Value::Object(new)) = (values.get_mut(key), &value)
    {
        // A model's contract-test settings layer test by test over its
        // folder's, as dbt merges `meta`; dbt updates `column_types` level
        // by level rather than replacing it.
        for (k, v) in new {
            existing.insert(k.clone(), v.clone());
        }
    } else {
        values.insert(key.to_string(), value);
    }
}

impl ModelConfig {
    fn str(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(Value::as_str)
    }

    /// `materialized`: `view` unless configured.
    pub fn materialized(&self) -> &str {
        self.str("materialized").unwrap_or("view")
    }

    /// `materialized` as one of the [`Materialization`]s cio-sql builds;
    /// `None` for any other value (a compile error, CIO009).
    pub fn materialization(&self) -> Option<Materialization> {
        Materialization::from_name(self.materialized())
    }

    /// `tags`, in the order added.
    pub fn tags(&self) -> Vec<String> {
        match self.values.get("tags") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// The custom `schema`, when set.
    pub fn schema(&self) -> Option<&str> {
        self.str("schema")
    }

    /// The `database` override, when set.
    pub fn database(&self) -> Option<&str> {
        self.str("database")
    }

    /// The `alias` (identifier override), when set.
    pub fn alias(&self) -> Option<&str> {
        self.str("alias")
    }

    /// `enabled`: true unless configured false.
    pub fn enabled(&self) -> bool {
        self.values
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    /// Merges `other` on top of this configuration.
    pub fn merge(&mut self, other: &ModelConfig) {
        for (key, value) in &other.values {
            merge_config_value(&mut self.values, key, value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> ProjectConfig {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn folder_configs_layer_and_tags_accumulate() {
        let c = config(
            "name: proj\nconfig-version: 2\nmodels:\n  proj:\n    +materialized: view\n    +tags: [base]\n    marts:\n      materialized: table\n      +tags: sync\n      people:\n        +schema: crm\n",
        );
        let root = c.folder_config(&[], "x");
        assert_eq!(root.materialized(), "view");
        assert_eq!(root.tags(), vec!["base"]);
        let mart = c.folder_config(&["marts".into()], "orders");
        assert_eq!(mart.materialized(), "table");
        assert_eq!(mart.tags(), vec!["base", "sync"]);
        assert_eq!(mart.schema(), None);
        let people = c.folder_config(&["marts".into()], "people");
        assert_eq!(people.schema(), Some("crm"));
        assert_eq!(c.model_paths, vec!["models"]);
        assert_eq!(c.profile_name(), "proj");
    }

    fn load_err(yaml: &str) -> Diagnostic {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dbt_project.yml");
        std::fs::write(&path, yaml).unwrap();
        ProjectConfig::load(&path).expect_err("the project file is refused")
    }

    #[test]
    fn paths_are_normalised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dbt_project.yml");
        std::fs::write(
            &path,
            "name: p\nmodel-paths: [\"./models/\", \"a/../more\"]\ntarget-path: /var/tmp/out\n",
        )
        .unwrap();
        let c = ProjectConfig::load(&path).unwrap();
        assert_eq!(c.model_paths, vec!["models", "more"]);
        assert_eq!(c.target_path, "/var/tmp/out", "absolute paths are kept");
    }

    #[test]
    fn item09_bad_project_paths_are_refused_at_their_line() {
        let d = load_err("name: p\ntarget-path: \"\"\n");
        assert_eq!((d.code.id(), d.line), ("CIO001", Some(2)), "{d:?}");
        assert!(
            d.message
                .contains("`target-path` in the project file is empty"),
            "{}",
            d.message
        );
        let d = load_err("name: p\n\nmodel-paths: [\"../x\"]\n");
        assert_eq!(d.line, Some(3));
        assert!(
            d.message.contains("leads outside the project folder"),
            "{}",
            d.message
        );
        assert!(d.help.as_deref().unwrap().contains("absolute path"));
        for (yaml, what) in [
            ("name: p\nmacro-paths: [\"..\"]\n", "leads outside"),
            ("name: p\nseed-paths: [\"s/../../x\"]\n", "leads outside"),
            ("name: p\ntest-paths: [\"\"]\n", "is empty"),
            (
                "name: p\ncatalog-path: \"../catalog.yml\"\n",
                "leads outside",
            ),
            ("name: p\ntarget-path: \".\"\n", "the project folder itself"),
            (
                "name: p\nmodel-paths: [\".\"]\n",
                "the project folder itself",
            ),
            (
                "name: p\ntarget-path: models/out\n",
                "is inside the folder \"models\" of `model-paths`",
            ),
            (
                "name: p\ntarget-path: src\nmodel-paths: [src/models]\n",
                "a parent of the folder \"src/models\"",
            ),
        ] {
            let d = load_err(yaml);
            assert!(d.message.contains(what), "{yaml}: {}", d.message);
            assert!(d.line.is_some(), "{yaml}: points at the line");
        }
    }

    #[test]
    fn unknown_dbt_keys_are_accepted() {
        let c = config(
            "name: p\nversion: '1.0'\nclean-targets: [target]\nrequire-dbt-version: '>=1.5'\nseeds: {p: {+schema: raw}}\n",
        );
        assert_eq!(c.name, "p");
    }
}
