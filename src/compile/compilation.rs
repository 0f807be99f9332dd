//! The outcome of a compile: every model ([`CompiledModel`]), its status,
//! the dependency graph and the selection ([`Compilation`]). What every
//! later stage (artifacts, reports, execution) reads.

use crate::analysis::OutputColumn;
use crate::compile::dag::Dag;
use crate::diagnostics::{Diagnostic, Severity};
use crate::project::{ModelConfig, Project};
use crate::sql::RelationName;
use crate::store::Stored;
use serde::Serialize;
use std::collections::HashMap;

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

/// A seed of a compilation: a node of the DAG that models `ref()`.
#[derive(Debug, Clone)]
pub struct CompiledSeed {
    /// Seed name (the file stem).
    pub name: String,
    /// CSV path relative to the project root.
    pub path: String,
    /// Where it is loaded.
    pub relation: RelationName,
    /// Its configuration from the `seeds:` tree.
    pub config: ModelConfig,
    /// Columns and SQL types, from the header and the first rows (see
    /// [`crate::project::seeds::PREFIX_BYTES`]) or `column_types`.
    pub columns: Vec<(String, String)>,
    /// Success, Error (the file cannot be read or typed, or its relation
    /// clashes), NotSelected or Disabled.
    pub status: ModelStatus,
    /// Its errors.
    pub diagnostics: Vec<Diagnostic>,
}

/// A compiled project.
#[derive(Debug)]
pub struct Compilation {
    /// The loaded project.
    pub project: Project,
    /// Every model, in project order.
    pub models: Vec<CompiledModel>,
    /// Every seed, in path order.
    pub seeds: Vec<CompiledSeed>,
    /// The dependency graph of enabled models and seeds.
    pub dag: Dag,
    /// Names of the selected models, in dependency order.
    pub selected: Vec<String>,
    /// Names of the selected models and seeds, in dependency order.
    pub selected_nodes: Vec<String>,
    /// Problems not tied to one model.
    pub diagnostics: Vec<Diagnostic>,
    /// How many of the selected models were taken from the compile cache
    /// unchanged rather than rendered and analysed (see [`crate::store`]).
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

    /// The selected seeds, in path order.
    pub fn selected_seeds(&self) -> Vec<&CompiledSeed> {
        self.seeds
            .iter()
            .filter(|s| s.status == ModelStatus::Success || s.status == ModelStatus::Error)
            .filter(|s| self.selected_nodes.iter().any(|n| n == &s.name))
            .collect()
    }

    /// A seed by name.
    pub fn seed(&self, name: &str) -> Option<&CompiledSeed> {
        self.seeds
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
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

    /// The unique id of node `name`, as in dbt's manifest and
    /// `run_results.json`: `model.<project>.<name>`, or
    /// `seed.<project>.<name>` for a seed.
    pub fn unique_id(&self, name: &str) -> String {
        let kind = if !self.seeds.is_empty() && self.seed(name).is_some() {
            "seed"
        } else {
            "model"
        };
        format!("{kind}.{}.{name}", self.project.config.name)
    }

    /// True when every selected model compiled.
    pub fn succeeded(&self) -> bool {
        self.error_count() == 0
    }
}
