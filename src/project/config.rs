//! `dbt_project.yml` and model configuration.

use crate::diagnostics::Diagnostic;
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
    /// Where compiled output goes.
    #[serde(default = "default_target_path", rename = "target-path")]
    pub target_path: String,
    /// The offline catalog (cio-sql's own key).
    #[serde(default = "default_catalog_path", rename = "catalog-path")]
    pub catalog_path: String,
    /// Project variables for `var()`.
    #[serde(default)]
    pub vars: Map<String, Value>,
    /// Folder-level model configuration.
    #[serde(default)]
    pub models: Value,
    /// dbt's `quoting:` block; when a part is true, relation names quote it.
    #[serde(default)]
    pub quoting: Quoting,
}

/// Which parts of a relation name are quoted when rendered.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub struct Quoting {
    /// Quote the database.
    #[serde(default)]
    pub database: bool,
    /// Quote the schema.
    #[serde(default)]
    pub schema: bool,
    /// Quote the identifier.
    #[serde(default)]
    pub identifier: bool,
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
fn default_target_path() -> String {
    "target".into()
}
fn default_catalog_path() -> String {
    "catalog.yml".into()
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
    "cio_timestamp_column",
];

impl ProjectConfig {
    /// Reads and parses the project file.
    pub fn load(path: &Path) -> Result<Self, Diagnostic> {
        let text = super::read_text(path)?;
        let config: ProjectConfig = serde_yaml::from_str(&text).map_err(|e| {
            Diagnostic::yaml_error("CIO001", path, &text, &e)
                .with_help("the project file needs at least `name:`; see README.md for its keys")
        })?;
        if !config.models.is_null() && !config.models.is_object() {
            return Err(Diagnostic::error(
                "CIO001",
                "`models:` in the project file must be a mapping",
            )
            .at_file(path)
            .with_help("write folder configs as models: {my_project: {+materialized: table}}"));
        }
        Ok(config)
    }

    /// The profile name: `profile:` or the project name.
    pub fn profile_name(&self) -> String {
        self.profile.clone().unwrap_or_else(|| self.name.clone())
    }

    /// The configuration the `models:` tree gives a model in `folder`
    /// (folders below the model path) named `model`.
    pub fn folder_config(&self, folder: &[String], model: &str) -> ModelConfig {
        let mut config = ModelConfig::default();
        let Some(top) = self.models.as_object() else {
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
/// every other key is replaced.
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

    /// The Customer.io sync type recorded by a macro or `config(cio_sync=…)`.
    pub fn cio_sync(&self) -> Option<&str> {
        self.str("cio_sync")
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

    #[test]
    fn unknown_dbt_keys_are_accepted() {
        let c = config(
            "name: p\nversion: '1.0'\nclean-targets: [target]\nrequire-dbt-version: '>=1.5'\nseeds: {p: {+schema: raw}}\n",
        );
        assert_eq!(c.name, "p");
    }
}
