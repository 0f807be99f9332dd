//! `cio-sql lineage MODEL`: where every output column of a model comes from.
//!
//! [`lineage`] takes a [`Compilation`] (every model analysed, see
//! [`crate::analysis::project`]) and, for each output column of one model,
//! follows its lineage through the model's CTEs and subqueries (the analysis
//! already did) and through `ref()`s: a source column of an upstream *model*
//! is followed into that model's own lineage, until columns of catalog
//! relations (or relations cio-sql knows nothing about) are reached. Each
//! column gets its transform in the model's own SQL and end to end
//! ([`compose`]). Whatever cannot be followed is marked unknown, with why;
//! nothing is guessed. [`render_text`] prints the result as a compact table
//! with a tree under each column read from another model; the structure
//! serialises to JSON for tools.

use super::ReportError;
use crate::analysis::project::{qualify, sync_type};
use crate::analysis::{SourceColumn, SyncType, Transform};
use crate::catalog::{Catalog, OfflineCatalog};
use crate::compile::{Compilation, CompileOptions, CompiledModel, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::pipeline::compile_project;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// How deep lineage is followed through models before it is cut (as
/// unknown). Far deeper than any real chain of `ref()`s.
const MAX_DEPTH: usize = 64;

/// The lineage of every output column of one model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelLineage {
    /// The model.
    pub model: String,
    /// Its source file, relative to the project.
    pub path: String,
    /// The relation it is built as.
    pub relation: String,
    /// Its Customer.io sync type, when it has one.
    pub sync_type: Option<SyncType>,
    /// How compiling it went.
    pub status: ModelStatus,
    /// Why its output columns could not be worked out from its SQL; the
    /// columns are then the catalog's, with unknown lineage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns_unresolved: Option<String>,
    /// Its output columns, in order.
    pub columns: Vec<ColumnLineage>,
}

/// Where one output column comes from.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnLineage {
    /// The name as Snowflake stores it.
    pub name: String,
    /// Written with double quotes.
    pub quoted: bool,
    /// The data type, where certain.
    pub data_type: Option<String>,
    /// How the value is derived from the columns at the end of every path
    /// in `sources`, through upstream models ([`compose`]).
    pub transform: Transform,
    /// How the value is derived from `sources` in this model's own SQL.
    pub model_transform: Transform,
    /// The columns of the relations its SQL reads that it is computed from.
    pub sources: Vec<Source>,
}

/// What a [`Source`] column belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A model of the project: followed further in `sources`.
    Model,
    /// A relation of the catalog.
    Catalog,
    /// A seed of the project (its CSV file); `model` names the seed.
    Seed,
    /// A relation that is neither a model nor in the catalog.
    External,
}

/// A column a value is computed from.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// The relation as written in the SQL (dotted, quotes removed).
    pub relation: String,
    /// The column as Snowflake stores it.
    pub column: String,
    /// What the relation is.
    pub kind: SourceKind,
    /// The model, for [`SourceKind::Model`]; the seed, for [`SourceKind::Seed`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// For a model's column: how the model derives it from `sources`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
    /// For a model's column: the columns it is computed from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    /// Why a model's column cannot be followed further.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    /// The column as SQL writes it (catalog spelling, quoted when needed),
    /// for display.
    #[serde(skip)]
    shown: String,
}

/// The lineage of `model` in a compiled project over `catalog`.
///
/// # Errors
/// [`ReportError::NoSuchModel`] (CIO145, with "did you mean") when there is
/// no such model; [`ReportError::Unavailable`] with the model's errors when
/// it does not compile far enough to have columns.
pub fn lineage(
    c: &Compilation,
    catalog: &dyn Catalog,
    model: &str,
) -> Result<ModelLineage, ReportError> {
    let Some(m) = c.model(model) else {
        let names: Vec<&str> = c.models.iter().map(|m| m.name.as_str()).collect();
        let hint = crate::suggest::did_you_mean(model, names.iter().copied());
        return Err(ReportError::NoSuchModel(
            Diagnostic::error(
                codes::NO_SUCH_MODEL,
                format!("the project has no model named {model}"),
            )
            .with_help(if hint.is_empty() {
                format!("the models are: {}", names.join(", "))
            } else {
                hint
            }),
        ));
    };
    if m.columns().is_empty() && m.columns_unresolved.is_some() && m.status == ModelStatus::Error {
        return Err(ReportError::Unavailable(
            m.diagnostics
                .iter()
                .filter(|d| d.is_error())
                .cloned()
                .collect(),
        ));
    }
    let walker = Walker::new(c, catalog);
    let columns = m
        .columns()
        .iter()
        .map(|col| {
            let mut path = vec![m.name.clone()];
            let followed: Vec<(Source, Transform)> = col
                .lineage
                .iter()
                .map(|s| walker.follow(s, &mut path))
                .collect();
            let inner: Vec<Transform> = followed.iter().map(|(_, t)| t.clone()).collect();
            ColumnLineage {
                name: col.name.clone(),
                quoted: col.quoted,
                data_type: col.data_type.clone(),
                transform: compose(&col.transform, &inner),
                model_transform: col.transform.clone(),
                sources: followed.into_iter().map(|(s, _)| s).collect(),
            }
        })
        .collect();
    Ok(ModelLineage {
        model: m.name.clone(),
        path: m.path.clone(),
        relation: m.relation.to_string(),
        sync_type: sync_type(&m.name, &m.path, None, &m.config).ok().flatten(),
        status: m.status,
        columns_unresolved: m.columns_unresolved.clone(),
        columns,
    })
}

/// Follows source columns into the models they belong to.
struct Walker<'a> {
    c: &'a Compilation,
    catalog: &'a dyn Catalog,
    /// Relation key → model.
    models: HashMap<String, &'a CompiledModel>,
    /// Relation key → seed name.
    seeds: HashMap<String, &'a str>,
}

impl<'a> Walker<'a> {
    fn new(c: &'a Compilation, catalog: &'a dyn Catalog) -> Self {
        Walker {
            c,
            catalog,
            models: c.models.iter().map(|m| (m.relation.key(), m)).collect(),
            seeds: c
                .seeds
                .iter()
                .map(|s| (s.relation.key(), s.name.as_str()))
                .collect(),
        }
    }

    /// The source `s` of a column of the last model of `path`, followed
    /// through models, with its end-to-end transform (identity for a column
    /// of a relation that is not a model).
    fn follow(&self, s: &SourceColumn, path: &mut Vec<String>) -> (Source, Transform) {
        let parts: Vec<String> = s.relation.split('.').map(str::to_string).collect();
        let relation = qualify(&parts, &self.c.project.target);
        let mut source = Source {
            relation: s.relation.clone(),
            column: s.column.clone(),
            kind: SourceKind::External,
            model: None,
            transform: None,
            sources: Vec::new(),
            unknown: None,
            shown: shown_stored(&s.column),
        };
        let Some(relation) = relation else {
            return (source, Transform::Copied);
        };
        let Some(m) = self.models.get(&relation.key()) else {
            // A seed loaded into a catalog relation is that relation.
            if let Some(cols) = self.catalog.columns(&relation) {
                source.kind = SourceKind::Catalog;
                if let Some(col) = cols.iter().find(|c| c.stored_name() == s.column) {
                    source.shown = col.identifier();
                }
            } else if let Some(seed) = self.seeds.get(&relation.key()) {
                source.kind = SourceKind::Seed;
                source.model = Some((*seed).to_string());
            }
            return (source, Transform::Copied);
        };
        source.kind = SourceKind::Model;
        source.model = Some(m.name.clone());
        let unknown = |reason: String| Transform::Unknown { reason };
        if let Some(why) = &m.columns_unresolved {
            let reason = format!("the columns of model {} are not known: {why}", m.name);
            source.unknown = Some(reason.clone());
            return (source, unknown(reason));
        }
        let Some(col) = m.columns().into_iter().find(|c| c.name == s.column) else {
            let reason = format!("model {} has no column {}", m.name, s.column);
            source.unknown = Some(reason.clone());
            return (source, unknown(reason));
        };
        if path.len() >= MAX_DEPTH || path.contains(&m.name) {
            let reason = format!(
                "lineage goes round in a loop through model {} (or is deeper than {MAX_DEPTH} models)",
                m.name
            );
            source.unknown = Some(reason.clone());
            return (source, unknown(reason));
        }
        path.push(m.name.clone());
        let followed: Vec<(Source, Transform)> =
            col.lineage.iter().map(|s| self.follow(s, path)).collect();
        path.pop();
        let inner: Vec<Transform> = followed.iter().map(|(_, t)| t.clone()).collect();
        source.transform = Some(col.transform.clone());
        source.sources = followed.into_iter().map(|(s, _)| s).collect();
        (source, compose(&col.transform, &inner))
    }
}

/// A stored column name as SQL writes it: bare when it is an upper-case
/// identifier, else quoted.
fn shown_stored(name: &str) -> String {
    if crate::sql::stored_needs_quotes(name) {
        crate::sql::quote(name)
    } else {
        name.to_string()
    }
}

/// The end-to-end transform of a column whose own SQL applies `outer` to
/// source columns whose end-to-end transforms are `inner` (one per source,
/// [`Transform::Copied`] for a column of a relation that is not a model).
///
/// Anything unknown on the way makes the whole unknown; an aggregate or a
/// window function anywhere makes it aggregated or windowed (as an
/// expression over an aggregate is within one query); a wrapper over a
/// wrapper stays wrapped (named by the outermost function); a copy of a
/// renamed column is renamed.
pub fn compose(outer: &Transform, inner: &[Transform]) -> Transform {
    if let Transform::Unknown { .. } = outer {
        return outer.clone();
    }
    if let Some(u) = inner
        .iter()
        .find(|t| matches!(t, Transform::Unknown { .. }))
    {
        return u.clone();
    }
    match outer {
        Transform::Constant | Transform::Aggregated { .. } | Transform::Windowed { .. } => {
            return outer.clone();
        }
        _ => {}
    }
    if let Some(a) = inner
        .iter()
        .find(|t| matches!(t, Transform::Aggregated { .. }))
    {
        return a.clone();
    }
    if let Some(w) = inner
        .iter()
        .find(|t| matches!(t, Transform::Windowed { .. }))
    {
        return w.clone();
    }
    match outer {
        Transform::Copied | Transform::Renamed => match inner {
            [] | [Transform::Copied] => outer.clone(),
            [Transform::Renamed] => Transform::Renamed,
            [one] => one.clone(),
            _ => Transform::Computed,
        },
        Transform::Wrapped { .. } => {
            if inner.contains(&Transform::Computed) {
                Transform::Computed
            } else {
                outer.clone()
            }
        }
        other => other.clone(),
    }
}

/// A transform in a few words.
pub fn describe(t: &Transform) -> String {
    match t {
        Transform::Copied => "copied".into(),
        Transform::Renamed => "renamed".into(),
        Transform::Wrapped { function } => format!("wrapped in {function}"),
        Transform::Computed => "computed".into(),
        Transform::Windowed { function } => format!("windowed ({function})"),
        Transform::Aggregated { function } => format!("aggregated ({function})"),
        Transform::Constant => "constant".into(),
        Transform::Unknown { .. } => "unknown".into(),
    }
}

/// The lineage as text: a header, then one row per column (name, how it is
/// derived end to end, its sources), with the path through every upstream
/// model as a tree below the source that reads it.
pub fn render_text(l: &ModelLineage) -> String {
    let mut out = String::new();
    let sync = l
        .sync_type
        .map(|t| format!(", {} sync", t.label()))
        .unwrap_or_default();
    let _ = writeln!(out, "{} ({}) -> {}{sync}", l.model, l.path, l.relation);
    if let Some(why) = &l.columns_unresolved {
        let _ = writeln!(
            out,
            "The output columns cannot be worked out from the SQL: {why}."
        );
        if l.columns.is_empty() {
            return out;
        }
        let _ = writeln!(out, "Columns read from the catalog instead:");
    }
    let names: Vec<String> = l
        .columns
        .iter()
        .map(|c| {
            if c.quoted {
                crate::sql::quote(&c.name)
            } else {
                c.name.clone()
            }
        })
        .collect();
    let hows: Vec<String> = l.columns.iter().map(|c| describe(&c.transform)).collect();
    let name_width = names.iter().map(String::len).max().unwrap_or(0).max(6);
    let how_width = hows.iter().map(String::len).max().unwrap_or(0).max(3);
    let _ = writeln!(out);
    let _ = writeln!(out, "{:name_width$}  {:how_width$}  from", "column", "how");
    for ((c, name), how) in l.columns.iter().zip(&names).zip(&hows) {
        let mut lines: Vec<String> = Vec::new();
        for s in &c.sources {
            source_lines(s, 0, &mut lines);
        }
        if lines.is_empty() {
            lines.push(match &c.transform {
                Transform::Constant => "(no column: a constant)".into(),
                _ => "(no column)".into(),
            });
        }
        if let Transform::Unknown { reason } = &c.transform {
            lines.push(format!("unknown: {reason}"));
        } else if c.model_transform != c.transform {
            lines.push(format!("in this model: {}", describe(&c.model_transform)));
        }
        for (i, line) in lines.iter().enumerate() {
            let (n, h) = if i == 0 {
                (name.as_str(), how.as_str())
            } else {
                ("", "")
            };
            let _ = writeln!(out, "{n:name_width$}  {h:how_width$}  {line}");
        }
    }
    out
}

/// One line for `s` (indented by `depth`), then its upstream sources.
fn source_lines(s: &Source, depth: usize, lines: &mut Vec<String>) {
    let indent = if depth == 0 {
        String::new()
    } else {
        format!("{}<- ", "   ".repeat(depth - 1))
    };
    let what = match (s.kind, &s.model, &s.transform, &s.unknown) {
        (SourceKind::Model, Some(m), _, Some(why)) => format!("  (model {m}; unknown: {why})"),
        (SourceKind::Model, Some(m), Some(t), None) => {
            format!("  (model {m}: {})", describe(t))
        }
        (SourceKind::Seed, Some(seed), ..) => format!("  (seed {seed})"),
        (SourceKind::External, ..) => "  (not in the catalog)".into(),
        _ => String::new(),
    };
    lines.push(format!("{indent}{}.{}{what}", s.relation, s.shown));
    for inner in &s.sources {
        source_lines(inner, depth + 1, lines);
    }
}

/// Loads the project of `opts` and compiles every model of it (writing
/// nothing), returning the compilation and the catalog it was compiled
/// over, which [`lineage`] needs.
///
/// # Errors
/// The project or its catalog does not load.
pub fn compile_with_catalog(
    opts: &CompileOptions,
) -> Result<(Compilation, Arc<OfflineCatalog>), Diagnostic> {
    let project = crate::project::Project::load(&opts.load)?;
    let catalog = Arc::new(crate::catalog::load_catalog(&project)?);
    let options = CompileOptions {
        write: false,
        select: Vec::new(),
        exclude: Vec::new(),
        ..opts.clone()
    };
    let compilation = compile_project(project, catalog.clone(), &options)?;
    Ok((compilation, catalog))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(f: &str) -> Transform {
        Transform::Wrapped { function: f.into() }
    }

    #[test]
    fn composes_transforms_across_models() {
        use Transform::*;
        assert_eq!(compose(&Copied, &[Copied]), Copied);
        assert_eq!(compose(&Copied, &[Renamed]), Renamed);
        assert_eq!(compose(&Renamed, &[Copied]), Renamed);
        assert_eq!(compose(&Copied, &[wrapped("LOWER")]), wrapped("LOWER"));
        assert_eq!(
            compose(&wrapped("TRIM"), &[wrapped("LOWER")]),
            wrapped("TRIM")
        );
        assert_eq!(compose(&wrapped("TRIM"), &[Computed]), Computed);
        assert_eq!(compose(&Computed, &[Copied, Renamed]), Computed);
        let max = Aggregated {
            function: "MAX".into(),
        };
        assert_eq!(compose(&Copied, std::slice::from_ref(&max)), max);
        assert_eq!(compose(&Computed, &[Copied, max.clone()]), max);
        assert_eq!(compose(&Constant, &[]), Constant);
        let unknown = Unknown {
            reason: "why".into(),
        };
        assert_eq!(compose(&Copied, std::slice::from_ref(&unknown)), unknown);
        assert_eq!(compose(&unknown, &[Copied]), unknown);
    }
}
