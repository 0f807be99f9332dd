//! Compile-time checks of a model's materialization config that need the
//! model's source: an incremental model's keys (CIO048, pointed at the
//! key in the model's `config(...)` or in `dbt_project.yml`), and an
//! incremental model that is also a change-tracked sync model (CIO049);
//! a model whose `materialized='ephemeral'` could not be read before
//! rendering, when `ref()` had to know (CIO051).

use crate::compile::CompiledModel;
use crate::diagnostics::{Diagnostic, codes};
use crate::project::incremental::incremental_config;
use crate::project::{Materialization, Project};

/// The problems of `m`'s materialization config (none unless incremental).
pub(super) fn check(
    project: &Project,
    model: &crate::project::Model,
    m: &CompiledModel,
) -> Vec<Diagnostic> {
    let ephemeral = m.config.materialization() == Some(Materialization::Ephemeral);
    if ephemeral != crate::render::ephemeral::is_ephemeral(model) {
        let d = Diagnostic::error(
            codes::DYNAMIC_EPHEMERAL,
            format!(
                "the model renders materialized='{}', but before rendering it read as {}: ref() of it could not inline it",
                m.config.materialized(),
                if ephemeral { "not ephemeral" } else { "ephemeral" }
            ),
        )
        .with_help("write materialized='ephemeral' as a plain string in config(...) or as +materialized: ephemeral in dbt_project.yml")
        .for_model(&m.name);
        return vec![at_key(project, model, d, "materialized")];
    }
    if m.config.materialization() != Some(Materialization::Incremental) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Err(p) = incremental_config(&m.config) {
        let d = Diagnostic::error(codes::INCREMENTAL_CONFIG, p.message)
            .with_help(p.help)
            .for_model(&m.name);
        out.push(at_key(project, model, d, p.key));
    }
    let tracked = m.config.values.contains_key("cio_sync")
        && m.config.values.get("cio_change_tracking") != Some(&serde_json::Value::Bool(false));
    if tracked {
        let d = Diagnostic::error(
            codes::INCREMENTAL_SYNC,
            "an incremental model cannot be a change-tracked sync model: change tracking rebuilds the whole table to find what changed",
        )
        .with_help("use materialized='table' (change tracking already sends Customer.io only the changed rows), or set cio_change_tracking=false to build it as a plain incremental model")
        .for_model(&m.name);
        out.push(at_key(project, model, d, "cio_sync"));
    }
    out
}

/// `d` pointed at `key` where it is set: the model's source, else the
/// project file, else the model file. For a missing key (`unique_key` of a
/// merge), where `materialized` is set.
fn at_key(
    project: &Project,
    model: &crate::project::Model,
    d: Diagnostic,
    key: &str,
) -> Diagnostic {
    for key in [key, "materialized"] {
        if let Some(at) = model.source.find(key) {
            return d.at_span(&model.path, &model.source, at..at + key.len());
        }
        let file = "dbt_project.yml";
        if let Ok(text) = std::fs::read_to_string(project.root.join(file))
            && let Some(line) = text.lines().position(|l| {
                l.trim_start()
                    .trim_start_matches('+')
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
        {
            return d.at_line(file, &text, line + 1, None);
        }
    }
    d.at_file(&model.path)
}
