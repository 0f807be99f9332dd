//! `cio-sql ls`: the selected models and seeds, one per line, in dependency
//! order; as a table, or in one of dbt's `--output` forms (`selector`,
//! `name`, `path`, `json`), filtered by `--resource-type`. With
//! `--resource-type test`, the data tests `cio-sql test` would run
//! (`ls_tests.rs`).

use super::ExitStatus;
use super::args::{LsOutput, ResourceType};
use crate::compile::select::fqn_of;
use crate::compile::{Compilation, CompileOptions};
use crate::project::ModelConfig;
use crate::report::{LogFormat, Output, print_out};
use crate::sql::RelationName;
use serde_json::json;

/// One listed node: a model or a seed.
struct Listed<'a> {
    kind: &'static str,
    name: &'a str,
    path: &'a str,
    relation: &'a RelationName,
    config: &'a ModelConfig,
    depends_on: &'a [String],
}

impl Listed<'_> {
    fn materialized(&self) -> &str {
        if self.kind == "seed" {
            "seed"
        } else {
            self.config.materialized()
        }
    }

    /// dbt's fqn: project, folders below the model (or seed) path, name.
    fn fqn(&self, c: &Compilation) -> Vec<String> {
        let config = &c.project.config;
        let roots = if self.kind == "seed" {
            &config.seed_paths
        } else {
            &config.model_paths
        };
        fqn_of(&config.name, self.path, roots)
    }
}

/// The selected nodes of `c`, in dependency order.
fn listed(c: &Compilation) -> Vec<Listed<'_>> {
    c.selected_nodes
        .iter()
        .filter_map(|name| {
            if let Some(m) = c.model(name) {
                Some(Listed {
                    kind: "model",
                    name: &m.name,
                    path: &m.path,
                    relation: &m.relation,
                    config: &m.config,
                    depends_on: &m.depends_on,
                })
            } else {
                c.seed(name).map(|s| Listed {
                    kind: "seed",
                    name: &s.name,
                    path: &s.path,
                    relation: &s.relation,
                    config: &s.config,
                    depends_on: &[],
                })
            }
        })
        .collect()
}

/// `cio-sql ls`: the selected nodes, one per line, in dependency order.
pub(super) fn ls(
    opts: &CompileOptions,
    out: &Output,
    form: Option<LsOutput>,
    types: &[ResourceType],
) -> ExitStatus {
    // Specs naming tests (`test_type:generic`, a test's name) pick tests,
    // and list them without `--resource-type test`.
    let asked = types.contains(&ResourceType::Test);
    let (opts, selection) = if asked || !opts.select.is_empty() {
        match super::ls_tests::split(opts) {
            Ok(split) => split,
            Err(d) => return super::fatal(out, &d),
        }
    } else {
        (opts.clone(), Default::default())
    };
    let listing_tests = asked || !selection.select.is_empty();
    let compilation = match super::compile_only(&opts, out) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let c = &compilation;
    // Problems not tied to one model: a selection criterion that matched
    // nothing, a seed that cannot be read.
    for d in &c.diagnostics {
        out.diagnostic(d);
    }
    let every = types.is_empty()
        || types
            .iter()
            .any(|t| matches!(t, ResourceType::All | ResourceType::Default));
    if c.selected_nodes.is_empty() {
        out.info("Nothing to do: no model or seed is selected.", true);
    }
    let wanted = |kind: &str| {
        (every && !listing_tests)
            || types.iter().any(|t| {
                matches!(
                    (t, kind),
                    (ResourceType::Model, "model") | (ResourceType::Seed, "seed")
                )
            })
    };
    for n in listed(c).into_iter().filter(|n| wanted(n.kind)) {
        let line = match (form, out.format) {
            (Some(LsOutput::Selector), _) => n.fqn(c).join("."),
            (Some(LsOutput::Name), _) => n.name.to_string(),
            (Some(LsOutput::Path), _) => n.path.to_string(),
            (Some(LsOutput::Json), _) => json!({
                "name": n.name,
                "resource_type": n.kind,
                "package_name": c.project.config.name,
                "original_file_path": n.path,
                "unique_id": format!("{}.{}.{}", n.kind, c.project.config.name, n.name),
                "alias": n.relation.identifier,
                "fqn": n.fqn(c),
                "config": n.config.values,
                "tags": n.config.tags(),
                "depends_on": {
                    "nodes": n.depends_on.iter().map(|d| c.unique_id(d)).collect::<Vec<_>>(),
                },
            })
            .to_string(),
            (None, LogFormat::Text) => format!(
                "{}\t{}\t{}\t{}",
                n.name,
                n.materialized(),
                n.relation,
                n.config.tags().join(",")
            ),
            (None, LogFormat::Json) => json!({
                "name": n.name,
                "resource_type": n.kind,
                "path": n.path,
                "materialized": n.materialized(),
                "relation": n.relation.to_string(),
                "tags": n.config.tags(),
                "depends_on": n.depends_on,
            })
            .to_string(),
        };
        print_out(&format!("{line}\n"));
    }
    if listing_tests {
        return super::ls_tests::list(c, &selection, out, form);
    }
    ExitStatus::Success
}
