//! The per-model step of a compile: one worker renders a model, analyses
//! its SQL (one parse: validity, output columns), runs the checks that need
//! only the model (contract, materialization, relation names) and appends
//! its SQL and columns to the model store. Also the rebuild of a model from
//! its cache record, and the `ref()` literals of a source, read before
//! anything renders.

use crate::analysis::OutputColumn;
use crate::analysis::locate::{column_problem_diagnostics, contract_diagnostics};
use crate::analysis::project::{
    ModelAnalysis, ProjectAnalyzer, catalog_fallback, published_columns, sync_type,
    unresolved_diagnostic,
};
use crate::compile::{CompiledModel, ModelStatus};
use crate::diagnostics::codes;
use crate::diagnostics::{Diagnostic, Severity};
use crate::project::Project;
use crate::render::{Renderer, relation_for};
use crate::sql::Column;
use crate::store::compact::CompactText;
use crate::store::{CachedWarning, Key, LazyStore, PackedColumns, Record, Stored, Summary};

/// What compiling one model needs besides the model.
pub(super) struct ModelWork<'a> {
    pub project: &'a Project,
    pub renderer: &'a Renderer,
    pub analyzer: &'a ProjectAnalyzer<'a>,
    pub store: &'a LazyStore,
    pub catalog_origin: &'a str,
    pub warn_error: bool,
}

impl ModelWork<'_> {
    /// Renders, analyses and checks one model and stores its SQL and
    /// columns, under `key` when the result can be reused (see
    /// [`crate::store`]). `dynamic_key` gives the key to record for a
    /// ref() that is not among `static_refs` (`None`: the result cannot be
    /// reused). Returns the model; when `publish`, the columns later models
    /// see; and whether the result is a function of `key` (no environment
    /// variable read, every ref accounted for).
    pub(super) fn compile(
        &self,
        model: &crate::project::Model,
        key: Option<&Key>,
        static_refs: &[String],
        dynamic_key: &(dyn Fn(&str) -> Option<Key> + Sync),
        publish: bool,
    ) -> Result<(CompiledModel, Option<Vec<Column>>, bool), Diagnostic> {
        let (project, renderer, analyzer) = (self.project, self.renderer, self.analyzer);
        let result = renderer.render(model);
        let analysis = match &result {
            Ok(r) if r.config.enabled() => Some(analyzer.analyse(model, &r.sql)),
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
            Some(ModelAnalysis::Columns(found, problems)) => {
                if publish {
                    published = Some(published_columns(&found));
                }
                columns = found;
                if let Some(sql) = sql.as_deref() {
                    cm.diagnostics
                        .extend(column_problem_diagnostics(&problems, model, sql));
                }
                None
            }
            Some(ModelAnalysis::Unresolved { error, upstream }) => {
                let why = error.to_string();
                if let Some(catalog) = analyzer.catalog_columns(&cm.name) {
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
                && cm.diagnostics.iter().all(|d| !d.is_error())
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
                    warnings: if reusable {
                        cm.diagnostics.iter().map(CachedWarning::new).collect()
                    } else {
                        Vec::new()
                    },
                },
                sql: CompactText::new(&sql),
                columns: PackedColumns::pack(&columns),
            };
            let stored = self
                .store
                .get()?
                .append(key.filter(|_| reusable), &record)
                .map_err(|e| crate::store::store_error(&e))?;
            cm.stored = Some(stored);
        }
        Ok((cm, published, pure))
    }
}

/// A model rebuilt from its record in the compile cache; `None` when the
/// record does not describe this model (a damaged file).
pub(super) fn reused_model(
    project: &Project,
    model: &crate::project::Model,
    summary: Summary,
    stored: Stored,
) -> Option<CompiledModel> {
    let config = summary.model_config()?;
    let diagnostics = summary
        .warnings
        .iter()
        .map(CachedWarning::diagnostic)
        .collect::<Option<Vec<_>>>()?;
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
        diagnostics,
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
pub(super) fn compiled_path(project: &Project, model: &crate::project::Model) -> String {
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
    errors.extend(crate::compile::data_tests::check_config(
        &m.name,
        &m.path,
        Some(&model.source),
        &m.config,
    ));
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
    if let Some(sync) = sync
        && let Err(d) = tracked(m, sync, columns)
    {
        errors.push(d);
    }
    if m.config.materialization().is_none() {
        errors.push(unsupported_materialization(project, model, m));
    }
    errors.extend(crate::compile::materializations::check(project, model, m));
    errors.extend(crate::compile::relations::check_model_relation(
        project,
        model,
        &m.relation,
        &m.config.values,
    ));
    let actual = relation_for(&project.target, &m.name, &m.config);
    if actual != m.relation {
        errors.push(
            Diagnostic::error(
                codes::DYNAMIC_RELATION,
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

/// CIO009: a `materialized` value cio-sql does not build. When the value
/// comes from a folder config (the model does not set `materialized`
/// itself), the error points at its line in `dbt_project.yml`: every model
/// of the folder then carries the same diagnostic, which the report prints
/// once.
fn unsupported_materialization(
    project: &Project,
    model: &crate::project::Model,
    m: &CompiledModel,
) -> Diagnostic {
    let materialized = m.config.materialized();
    let d = Diagnostic::error(
        codes::MATERIALIZATION,
        format!("materialized='{materialized}' is not supported"),
    )
    .with_help("use materialized='table', 'view', 'incremental' or 'ephemeral'");
    let from_folder = model.folder_config.materialized() == materialized
        && !crate::project::static_config(&model.source)
            .values
            .contains_key("materialized");
    let file = "dbt_project.yml";
    if from_folder
        && let Ok(text) = std::fs::read_to_string(project.root.join(file))
        && let Some(line) = text.lines().position(|l| {
            l.trim_start()
                .trim_start_matches('+')
                .strip_prefix("materialized:")
                .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == materialized)
        })
    {
        return d
            .for_model(&m.name)
            .at_line(file, &text, line + 1, None)
            .with_help("the folder config sets it for every model below it: use +materialized: table, view, incremental or ephemeral (or set materialized in the model's config())");
    }
    d.for_model(&m.name).at_file(&m.path)
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

/// How compiled model `m` is change-tracked: `Ok(None)` when it is not a
/// tracked sync model (see [`crate::analysis::tracking`]).
pub fn tracking_of(
    m: &CompiledModel,
) -> Result<Option<crate::analysis::tracking::Tracking>, Diagnostic> {
    match sync_type(&m.name, &m.path, None, &m.config)? {
        Some(sync) => tracked(m, sync, &m.columns()),
        None => Ok(None),
    }
}

/// How sync model `m` (output `columns`) is change-tracked, checked at
/// compile time.
fn tracked(
    m: &CompiledModel,
    sync: crate::analysis::SyncType,
    columns: &[OutputColumn],
) -> Result<Option<crate::analysis::tracking::Tracking>, Diagnostic> {
    let known = !columns.is_empty()
        && columns
            .iter()
            .all(|c| c.naming != crate::analysis::Naming::Generated);
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    crate::analysis::tracking::tracking(
        &m.name,
        &m.path,
        sync,
        known.then_some(names.as_slice()),
        &m.config,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_static_refs() {
        let src = "{{ ref('a') }} {{ ref(\"b\") }} {{ my_ref('c') }} {{ ref(var('x')) }}";
        assert_eq!(static_refs(src), vec!["a", "b"]);
    }
}
