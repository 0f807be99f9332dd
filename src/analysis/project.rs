//! The analysis of one compiled model during `compile`.
//!
//! [`ProjectAnalyzer::analyse`] parses the compiled SQL once (the parse also
//! validates it: CIO150–CIO152) and works out its output columns with
//! [`statement_output_columns`], looking relations up through
//! [`ProjectRelations`]: the models analysed so far (upstream models are
//! compiled in earlier levels of the `ref()` graph), then the catalog.
//! [`ProjectAnalyzer::publish_columns`] then hands the columns ([`published_columns`]) to
//! the models of later levels: `adapter.get_columns_in_relation(ref('model'))`
//! and their own analysis.
//!
//! After rendering, [`sync_type`] reads the model's `cio_sync` (CIO146) and
//! [`super::locate::contract_diagnostics`] turns the Customer.io contract
//! [`Finding`](super::Finding)s into diagnostics that point at the model
//! line of the column concerned.

use super::columns::{
    AnalysisError, ColumnInfo, ColumnProblem, Naming, OutputColumn, RelationColumns, Transform,
    statement_analysis,
};
use super::contract::SyncType;
use super::validate::{PARSER_RECURSION_LIMIT, Unparsed, parse_model_sql};
use crate::destinations::{DEFAULT_DESTINATION, SyncLookupError, destination_names};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::{Model, ModelConfig, Target};
use crate::render::Shared;
use crate::sql::{Column, RelationName, normalize_type};
use crate::suggest::did_you_mean;

/// The fully qualified relation a dotted name written in SQL refers to:
/// one part is in the target's database and schema, two parts in the
/// target's database. `None` for four or more parts.
pub fn qualify(parts: &[String], target: &Target) -> Option<RelationName> {
    match parts {
        [db, schema, name] => Some(RelationName::new(db, schema, name)),
        [schema, name] => Some(RelationName::new(&target.database, schema, name)),
        [name] => Some(RelationName::new(&target.database, &target.schema, name)),
        _ => None,
    }
}

/// Resolves relations named in a model's SQL: a model of the project that
/// has been analysed (its output columns), else the catalog.
#[derive(Debug, Clone, Copy)]
pub struct ProjectRelations<'a> {
    /// The render's shared data: models' columns and the catalog.
    pub shared: &'a Shared,
}

impl RelationColumns for ProjectRelations<'_> {
    fn columns(&self, name: &[String]) -> Option<Vec<ColumnInfo>> {
        let relation = qualify(name, &self.shared.target)?;
        let info = |columns: &[Column]| -> Vec<ColumnInfo> {
            columns
                .iter()
                .map(|c| ColumnInfo {
                    name: c.stored_name(),
                    data_type: (!c.data_type.is_empty()).then(|| c.data_type.clone()),
                })
                .collect()
        };
        // As `Shared::columns_of` (a model's columns, else the catalog's),
        // without copying the columns twice.
        if let Ok(models) = self.shared.model_columns.read()
            && let Some(columns) = models.get(&relation.key())
        {
            return Some(info(columns));
        }
        self.shared.catalog.columns(&relation).map(info)
    }
}

/// What the analysis of one model found.
#[derive(Debug, Clone)]
pub enum ModelAnalysis {
    /// The compiled SQL is not one query (CIO150–CIO152): the diagnostic.
    Invalid(Diagnostic),
    /// The output columns, and the column references of the select lists
    /// Snowflake will reject (reported as warnings).
    Columns(Vec<OutputColumn>, Vec<ColumnProblem>),
    /// The SQL is valid but its column list cannot be worked out.
    Unresolved {
        /// Why.
        error: AnalysisError,
        /// The model of the project behind an unresolved `*`, whose own
        /// columns are not known.
        upstream: Option<String>,
    },
}

/// Analyses the models of one project as they are compiled, level by level
/// of the `ref()` graph, and publishes each model's columns for the models
/// of later levels.
#[derive(Debug)]
pub struct ProjectAnalyzer<'a> {
    shared: &'a Shared,
    /// Relation key → model name.
    models_by_relation: std::collections::HashMap<String, String>,
}

impl<'a> ProjectAnalyzer<'a> {
    /// An analyzer over the models and catalog of `shared`.
    pub fn new(shared: &'a Shared) -> Self {
        ProjectAnalyzer {
            shared,
            models_by_relation: shared
                .models
                .values()
                .map(|m| (m.relation.key(), m.name.clone()))
                .collect(),
        }
    }

    /// The model of the project a relation written in SQL (dotted, quotes
    /// removed, as in [`super::SourceColumn::relation`]) refers to.
    pub fn model_of(&self, relation: &str) -> Option<&str> {
        let parts: Vec<String> = relation.split('.').map(str::to_string).collect();
        let key = qualify(&parts, &self.shared.target)?.key();
        self.models_by_relation.get(&key).map(String::as_str)
    }

    /// Parses `sql`, the compiled SQL of `model`, and works out its output
    /// columns. Safe to call from several threads.
    pub fn analyse(&self, model: &Model, sql: &str) -> ModelAnalysis {
        let statement = match parse_model_sql(sql, &model.name, &model.path, &model.source) {
            Ok(statement) => statement,
            Err(Unparsed::Invalid(d)) => return ModelAnalysis::Invalid(d),
            Err(Unparsed::TooDeep) => {
                return ModelAnalysis::Unresolved {
                    error: AnalysisError::TooDeep {
                        limit: PARSER_RECURSION_LIMIT,
                    },
                    upstream: None,
                };
            }
        };
        let relations = ProjectRelations {
            shared: self.shared,
        };
        match statement_analysis(&statement, &relations) {
            Ok((columns, problems)) => ModelAnalysis::Columns(columns, problems),
            Err(error) => {
                let upstream = match &error {
                    AnalysisError::UnresolvedStar { relation } => {
                        self.model_of(relation).map(str::to_string)
                    }
                    _ => None,
                };
                ModelAnalysis::Unresolved { error, upstream }
            }
        }
    }

    /// Makes `(model name, published columns)` visible to the models
    /// analysed (and rendered) after this call.
    pub fn publish_columns<'m>(&self, published: impl IntoIterator<Item = (&'m str, Vec<Column>)>) {
        let Ok(mut map) = self.shared.model_columns.write() else {
            return;
        };
        for (name, columns) in published {
            if let Some(model) = self.shared.models.get(&name.to_lowercase()) {
                map.insert(model.relation.key(), columns);
            }
        }
    }

    /// The catalog's columns of `model`'s relation, when the catalog has it.
    pub fn catalog_columns(&self, model: &str) -> Option<Vec<Column>> {
        let relation = &self.shared.models.get(&model.to_lowercase())?.relation;
        self.shared
            .catalog
            .columns(relation)
            .map(<[Column]>::to_vec)
    }

    /// Where the catalog comes from, for help texts.
    pub fn catalog_origin(&self) -> String {
        self.shared.catalog.origin()
    }
}

/// The columns a model's analysis publishes to later models
/// (`adapter.get_columns_in_relation`, and the analysis of models that read
/// it): stored names, quoted unless they are upper-case identifiers,
/// normalised types (empty when unknown).
pub fn published_columns(columns: &[OutputColumn]) -> Vec<Column> {
    columns
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            data_type: c
                .data_type
                .as_deref()
                .map(normalize_type)
                .unwrap_or_default(),
            quoted: crate::sql::stored_needs_quotes(&c.name),
        })
        .collect()
}

/// Stand-in output columns read from the catalog for a model whose SQL
/// could not be analysed: every column's transform is unknown, with `why`.
pub fn catalog_fallback(columns: &[Column], why: &str) -> Vec<OutputColumn> {
    columns
        .iter()
        .map(|c| {
            let name = c.stored_name();
            OutputColumn {
                quoted: crate::sql::stored_needs_quotes(&name),
                name,
                naming: Naming::Star,
                data_type: (!c.data_type.is_empty()).then(|| c.data_type.clone()),
                lineage: Vec::new(),
                transform: Transform::Unknown {
                    reason: format!("read from the catalog: {why}"),
                },
                span: None,
            }
        })
        .collect()
}

/// The CIO160 warning for a model whose output columns cannot be worked
/// out. `upstream_failed` names the model behind an unresolved `*` when that
/// model has no known columns itself; `sync` is the model's sync type.
pub fn unresolved_diagnostic(
    model: &Model,
    error: &AnalysisError,
    upstream_failed: Option<&str>,
    catalog_origin: &str,
    sync: Option<SyncType>,
) -> Diagnostic {
    let help = match (error, upstream_failed) {
        (AnalysisError::UnresolvedStar { .. }, Some(upstream)) => format!(
            "the columns of model {upstream} are not known (see its own diagnostics); fix it, or list the columns instead of `*`"
        ),
        (AnalysisError::UnresolvedStar { relation }, None) => format!(
            "add {relation} to the catalog ({catalog_origin}), or list the columns you need instead of `*`"
        ),
        (AnalysisError::ColumnCountMismatch { .. }, _) => {
            "make every branch of the UNION return the same number of columns".to_string()
        }
        (AnalysisError::TooDeep { .. }, _) => {
            "the model compiles, but check its SQL yourself (or flatten the nesting, with CTEs say, to have cio-sql check it)".to_string()
        }
        _ => "list the output columns explicitly, each with an alias".to_string(),
    };
    let mut message = format!("the output columns of the model cannot be worked out: {error}");
    if let Some(sync) = sync {
        message.push_str(&format!(
            "; the Customer.io {sync} contract checks were skipped"
        ));
    }
    let code = match error {
        AnalysisError::TooDeep { .. } => codes::TOO_DEEP,
        _ => codes::COLUMNS_UNRESOLVED,
    };
    Diagnostic::warning(code, message)
        .for_model(&model.name)
        .at_file(&model.path)
        .with_help(help)
}

/// The sync type in a model's `cio_sync` config, of the destination its
/// `cio_destination` names (default `customerio`): `Ok(None)` when it sets
/// no `cio_sync`. An unknown destination is CIO016, a sync type the
/// destination does not have CIO017 (CIO146 for Customer.io's), each with
/// the valid names. The diagnostic points at the config key in `source`
/// when the model sets it there.
pub fn sync_type(
    name: &str,
    path: &str,
    source: Option<&str>,
    config: &ModelConfig,
) -> Result<Option<SyncType>, Diagnostic> {
    let value = match config.values.get("cio_sync") {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(value) => value,
    };
    let at = |d: Diagnostic, key: &str| match source.and_then(|s| s.find(key).map(|at| (s, at))) {
        Some((s, at)) => d.at_span(path, s, at..at + key.len()),
        None => d.at_file(path),
    };
    let destination = match config.values.get("cio_destination") {
        None | Some(serde_json::Value::Null) => DEFAULT_DESTINATION.to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let text = value.as_str().unwrap_or_default();
    SyncType::find(&destination, text).map(Some).map_err(|e| match e {
        SyncLookupError::UnknownDestination(_) => {
            let names = destination_names();
            let mut help = format!(
                "set cio_destination to one of {}",
                names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
            );
            let near = did_you_mean(&destination, names.iter().copied());
            if !near.is_empty() {
                help = format!("{near} {help}");
            }
            at(
                Diagnostic::error(
                    codes::UNKNOWN_DESTINATION,
                    format!("{name}: cio_destination is '{destination}', which is not a destination cio-sql knows"),
                )
                .for_model(name)
                .with_help(help),
                "cio_destination",
            )
        }
        SyncLookupError::UnknownSyncType { destination, .. }
            if destination == DEFAULT_DESTINATION =>
        {
            at(
                Diagnostic::error(
                    codes::BAD_SYNC_TYPE,
                    format!("{name}: cio_sync is {value}, which is not a Customer.io sync type"),
                )
                .for_model(name)
                .with_help("use config(cio_sync='identify'), 'track', 'group' or 'relationship'"),
                "cio_sync",
            )
        }
        SyncLookupError::UnknownSyncType { destination, .. } => {
            let dest = crate::destinations::destination(destination);
            let names = dest.map(|d| d.sync_type_names()).unwrap_or_default();
            let mut help = format!(
                "use config(cio_sync=...) with one of {}",
                names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
            );
            let near = did_you_mean(text, names.iter().copied());
            if !near.is_empty() {
                help = format!("{near} {help}");
            }
            at(
                Diagnostic::error(
                    codes::NOT_A_DESTINATION_SYNC,
                    format!("{name}: cio_sync is {value}, which is not a sync type of {destination}"),
                )
                .for_model(name)
                .with_help(help),
                "cio_sync",
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Naming, Transform};

    #[test]
    fn qualifies_partial_names_with_the_target() {
        let target = Target {
            database: "ANALYTICS".into(),
            schema: "CIO".into(),
            ..Target::default_target(Some("dev"))
        };
        let q = |parts: &[&str]| {
            let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
            qualify(&parts, &target).map(|r| r.to_string())
        };
        assert_eq!(q(&["m"]).as_deref(), Some("ANALYTICS.CIO.m"));
        assert_eq!(q(&["NEXUS", "m"]).as_deref(), Some("ANALYTICS.NEXUS.m"));
        assert_eq!(q(&["DB", "S", "m"]).as_deref(), Some("DB.S.m"));
        assert_eq!(q(&["a", "b", "c", "d"]), None);
    }

    #[test]
    fn published_columns_keep_quoted_lower_case_names_quoted() {
        let col = |name: &str, quoted: bool| OutputColumn {
            name: name.into(),
            quoted,
            naming: Naming::Alias,
            data_type: Some("TIMESTAMP_NTZ(9)".into()),
            lineage: Vec::new(),
            transform: Transform::Constant,
            span: None,
        };
        let published = published_columns(&[col("email", true), col("EMAIL2", false)]);
        assert_eq!(published[0].identifier(), "\"email\"");
        assert_eq!(published[0].stored_name(), "email");
        assert_eq!(published[0].data_type, "TIMESTAMP_NTZ");
        assert_eq!(published[1].identifier(), "EMAIL2");
        assert_eq!(published[1].stored_name(), "EMAIL2");
    }

    fn config(pairs: &[(&str, &str)]) -> ModelConfig {
        let mut c = ModelConfig::default();
        for (k, v) in pairs {
            c.values
                .insert((*k).into(), serde_json::Value::String((*v).into()));
        }
        c
    }

    #[test]
    fn the_sync_type_is_looked_up_in_the_model_destination() {
        let read = |pairs: &[(&str, &str)], source: Option<&str>| {
            sync_type("m", "models/m.sql", source, &config(pairs))
        };
        assert_eq!(read(&[], None), Ok(None));
        assert_eq!(
            read(&[("cio_sync", "track")], None),
            Ok(Some(SyncType::TRACK))
        );
        assert_eq!(
            read(
                &[("cio_destination", "CustomerIO"), ("cio_sync", "object")],
                None
            ),
            Ok(Some(SyncType::GROUP))
        );

        let source = "{{ config(cio_destination='custmerio', cio_sync='track') }}\nselect 1";
        let d = read(
            &[("cio_destination", "custmerio"), ("cio_sync", "track")],
            Some(source),
        )
        .unwrap_err();
        assert_eq!(d.code, codes::UNKNOWN_DESTINATION);
        assert!(d.message.contains("'custmerio'"), "{d:?}");
        let help = d.help.as_deref().unwrap();
        assert!(help.starts_with("did you mean `customerio`?"), "{help}");
        assert!(help.contains("'customerio'"), "{help}");
        // At the key, on the model's line.
        let rendered = d.render(false);
        assert!(rendered.contains("models/m.sql:1:"), "{rendered}");

        let d = read(&[("cio_sync", "people")], None).unwrap_err();
        assert_eq!(d.code, codes::BAD_SYNC_TYPE);
    }
}
