//! `cio-sql sync-query`: what to paste into Customer.io for each sync model.
//!
//! A sync model is a model whose configuration names a Customer.io sync type
//! (`config(cio_sync=…)`, recorded by the `nexus.customer_io_*` macros or
//! written by hand). For each one, [`setup`] gathers the sync type to choose,
//! the incremental query over the model's relation (with the literal
//! `{{last_sync_time}}` that Customer.io substitutes), the backfill query, and
//! the column mapping read from the compiled SQL; [`render_setup`] and
//! [`render_plan`] turn that into text. Everything here is a pure function of
//! a [`Compilation`]; the CLI prints it.

pub use crate::analysis::SyncType;

use super::ReportError;
use crate::analysis::Naming;
use crate::compile::{Compilation, CompiledModel, ModelStatus};
use crate::destinations::Presence;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::render::Relation;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The placeholder Customer.io replaces with the time of the previous sync
/// (0 on the first run). It must reach the pasted query verbatim.
pub const LAST_SYNC_TIME: &str = crate::analysis::tracking::LAST_SYNC_TIME;

/// A model's output columns as sync-query reads them: the stored names the
/// analysis worked out (see [`CompiledModel::columns`]), and what it could
/// not name.
#[derive(Debug, Clone, Default)]
struct OutputColumns {
    /// Stored names, in order.
    names: Vec<String>,
    /// Output items whose names are not known: unaliased expressions (the
    /// name Snowflake generates is only approximated), or why the whole
    /// column list is unknown.
    unknown: Vec<String>,
}

impl OutputColumns {
    /// The analysed columns of `m`.
    fn of(m: &CompiledModel) -> Self {
        if let Some(why) = &m.columns_unresolved {
            return OutputColumns {
                names: Vec::new(),
                unknown: vec![format!("the output columns ({why})")],
            };
        }
        let mut out = OutputColumns::default();
        for c in m.columns() {
            match c.naming {
                Naming::Generated => out.unknown.push(c.name),
                _ => out.names.push(c.name),
            }
        }
        out
    }

    /// True when every output column is known.
    fn complete(&self) -> bool {
        self.unknown.is_empty()
    }

    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|c| c == name)
    }

    fn has_ignoring_case(&self, name: &str) -> Option<&str> {
        self.names
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }
}

/// The incremental query Customer.io runs on every interval.
pub fn incremental_query(relation: &str, timestamp_column: &str) -> String {
    format!(
        "SELECT *\nFROM {relation}\nWHERE TO_TIMESTAMP_NTZ({}) > TO_TIMESTAMP_NTZ({LAST_SYNC_TIME})",
        crate::sql::quote(timestamp_column)
    )
}

/// The backfill query: every row, once.
pub fn backfill_query(relation: &str) -> String {
    format!("SELECT *\nFROM {relation}")
}

/// One line of the column mapping.
#[derive(Debug, Clone, Serialize)]
pub struct Mapping {
    /// The Customer.io field.
    pub field: String,
    /// The column that feeds it, when the model has one.
    pub column: Option<String>,
    /// What the field is for.
    pub role: String,
    /// Whether Customer.io needs it in every row.
    pub required: bool,
}

/// Everything needed to set up one sync in Customer.io.
#[derive(Debug, Clone, Serialize)]
pub struct SyncSetup {
    /// The model.
    pub model: String,
    /// Its source file.
    pub path: String,
    /// The sync type.
    pub sync_type: SyncType,
    /// The sync type to choose in Customer.io.
    pub label: String,
    /// The relation the model is built as, rendered as in compiled SQL.
    pub relation: String,
    /// The column the incremental filter reads.
    pub timestamp_column: String,
    /// The query to paste into the sync.
    pub query: String,
    /// The same query without the filter.
    pub backfill_query: String,
    /// Whether the table is change-tracked: the queries filter on its change
    /// time, not on the business timestamp.
    pub change_tracked: bool,
    /// The overlap margin of the incremental query, in seconds, when the
    /// table is change-tracked.
    pub overlap_seconds: Option<u64>,
    /// The query of the delete sync (a Track sync of Customer.io's semantic
    /// delete events), when the model has deletes.
    pub delete_query: Option<String>,
    /// Customer.io fields and their columns.
    pub mapping: Vec<Mapping>,
    /// The remaining columns and what Customer.io makes of them.
    pub other_columns: Vec<String>,
    /// What those columns become.
    pub other_columns_role: String,
    /// Output items whose columns could not be read from the SQL.
    pub unknown_columns: Vec<String>,
    /// The object type id, for objects and relationships built by the macros.
    pub object_type_id: Option<String>,
    /// Sync models to run first, with why.
    pub after: Vec<String>,
    /// Problems that would make the sync fail or drop data.
    pub warnings: Vec<String>,
}

/// The sync type of a model: `Ok(None)` when it has none, `Err` when
/// `cio_sync` holds something else than a sync type.
pub fn sync_type_of(m: &CompiledModel) -> Result<Option<SyncType>, Diagnostic> {
    crate::analysis::project::sync_type(&m.name, &m.path, None, &m.config)
}

fn config_str<'a>(m: &'a CompiledModel, key: &str) -> Option<&'a str> {
    m.config.values.get(key).and_then(serde_json::Value::as_str)
}

fn relation_sql(c: &Compilation, m: &CompiledModel) -> String {
    Relation {
        name: m.relation.clone(),
        quoting: c.project.config.quoting,
    }
    .render_sql()
}

/// The sync setup of model `m`, whose sync type is `sync_type`.
pub fn setup(c: &Compilation, m: &CompiledModel, sync_type: SyncType) -> SyncSetup {
    let relation = relation_sql(c, m);
    let timestamp_column = config_str(m, "cio_timestamp_column")
        .unwrap_or("timestamp")
        .to_string();
    let columns = OutputColumns::of(m);
    let mut warnings = Vec::new();
    let mut mapping = Vec::new();
    let spec = sync_type.spec();
    for field in spec.fields {
        let column = columns.has(field.name).then(|| field.name.to_string());
        if column.is_none()
            && let Some(near) = columns.has_ignoring_case(field.name)
        {
            warnings.push(format!(
                "column {near} is not {0}: Customer.io matches names case-sensitively; alias it quoted, AS \"{0}\"",
                field.name
            ));
        } else if column.is_none() && field.presence == Presence::Required && columns.complete() {
            warnings.push(format!(
                "the model has no \"{}\" column ({}); Customer.io rejects rows without it",
                field.name, field.description
            ));
        }
        mapping.push(Mapping {
            field: field.name.to_string(),
            column,
            role: field.description.to_string(),
            required: field.presence == Presence::Required,
        });
    }
    // Each group of fields one of which every row needs.
    for group in spec.required_groups().into_iter().filter(|g| g.len() > 1) {
        if columns.complete() && !group.iter().any(|name| columns.has(name)) {
            let named: Vec<String> = group
                .iter()
                .map(|name| {
                    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    format!("{article} \"{name}\"")
                })
                .collect();
            warnings.push(format!(
                "the model has neither {} column; Customer.io needs one of them in every row",
                named.join(" nor ")
            ));
        }
    }
    if columns.complete()
        && !columns.has(&timestamp_column)
        && crate::compile::tracking_of(m).ok().flatten().is_none()
    {
        warnings.push(format!(
            "the model has no \"{timestamp_column}\" column, so the incremental query fails; set cio_timestamp_column to the column that records when a row changed"
        ));
    }
    let field_names: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
    let other_columns: Vec<String> = columns
        .names
        .iter()
        .filter(|col| !field_names.iter().any(|f| f.eq_ignore_ascii_case(col)))
        .cloned()
        .collect();
    if sync_type == SyncType::RELATIONSHIP && !other_columns.is_empty() {
        warnings.push(format!(
            "{} would land on the object, not on the relationship; move them into \"relationshipAttributes\"",
            other_columns.join(", ")
        ));
    }

    let mut after = Vec::new();
    let synced = |name: &str| -> Option<(&CompiledModel, Option<SyncType>)> {
        c.model(name).map(|p| (p, sync_type_of(p).ok().flatten()))
    };
    if let Some(people) = config_str(m, "cio_people_model") {
        match synced(people) {
            Some((p, Some(SyncType::IDENTIFY))) => {
                after.push(format!(
                    "{} (people: rows are limited to its \"userId\" values)",
                    p.name
                ));
            }
            Some((p, _)) => {
                after.push(format!("{} (people)", p.name));
                warnings.push(format!(
                    "the people model {} is not an Identify sync model; its \"userId\" values decide which rows sync",
                    p.name
                ));
            }
            None => after.push(format!("{people} (people)")),
        }
    } else if matches!(sync_type, SyncType::TRACK | SyncType::RELATIONSHIP) {
        after.push("the people sync (Identify)".into());
    }
    let object_type_id = config_str(m, "cio_object_type_id").map(str::to_string);
    if sync_type == SyncType::RELATIONSHIP {
        let objects: Vec<&str> = sync_models(c)
            .into_iter()
            .filter(|(o, t)| {
                *t == SyncType::GROUP
                    && object_type_id.is_some()
                    && config_str(o, "cio_object_type_id") == object_type_id.as_deref()
            })
            .map(|(o, _)| o.name.as_str())
            .collect();
        match (objects.as_slice(), &object_type_id) {
            ([], Some(id)) => after.push(format!("the objects sync of object type {id}")),
            ([], None) => after.push("the objects sync (Group)".into()),
            (names, _) => {
                for name in names {
                    after.push(format!("{name} (objects of the same type)"));
                }
            }
        }
    }

    let tracking = crate::compile::tracking_of(m).ok().flatten();
    let overlap = match crate::analysis::tracking::overlap_seconds(&c.project.vars, &m.config) {
        Ok(seconds) => seconds,
        Err(d) => {
            warnings.push(d.message);
            crate::analysis::tracking::DEFAULT_OVERLAP_SECONDS
        }
    };
    let (query, backfill, delete_query) = match &tracking {
        Some(t) => (
            t.incremental_query(&relation, overlap),
            t.backfill_query(&relation),
            t.delete_query(&relation, overlap),
        ),
        None => (
            incremental_query(&relation, &timestamp_column),
            backfill_query(&relation),
            None,
        ),
    };
    SyncSetup {
        model: m.name.clone(),
        path: m.path.clone(),
        sync_type,
        label: sync_type.label().to_string(),
        query,
        backfill_query: backfill,
        change_tracked: tracking.is_some(),
        overlap_seconds: tracking.as_ref().map(|_| overlap),
        delete_query,
        relation,
        timestamp_column,
        mapping,
        other_columns,
        other_columns_role: sync_type.attributes_role().to_string(),
        unknown_columns: columns.unknown,
        object_type_id,
        after,
        warnings,
    }
}

/// Every compiled, enabled sync model with its sync type, in the initial
/// sync order: Identify, Group, relationships, Track; within a type, in
/// dependency order.
pub fn sync_models(c: &Compilation) -> Vec<(&CompiledModel, SyncType)> {
    let position: HashMap<&str, usize> = c
        .selected
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut out: Vec<(&CompiledModel, SyncType)> = c
        .models
        .iter()
        .filter(|m| m.status == ModelStatus::Success)
        .filter_map(|m| sync_type_of(m).ok().flatten().map(|t| (m, t)))
        .collect();
    out.sort_by_key(|(m, t)| {
        (
            t.rank(),
            position.get(m.name.as_str()).copied().unwrap_or(usize::MAX),
        )
    });
    out
}

/// The warning about editing an existing sync, for a sync of `sync_type`.
pub fn edit_warning(sync_type: SyncType) -> &'static str {
    match sync_type {
        SyncType::TRACK => {
            "Editing the query of an existing sync can leave {{last_sync_time}} at the last run, so the edited query sees no changed rows. Every Track row is an event: the backfill query, or a new sync (its first run gets 0), sends every event again, and Customer.io can record each one twice. To catch up after an edit, run the query once with the time of the last successful run in place of {{last_sync_time}}."
        }
        _ => {
            "Editing the query of an existing sync can leave {{last_sync_time}} at the last run, so the edited query sees no changed rows: run it once without the WHERE clause (the backfill query), or create a new sync instead of editing this one."
        }
    }
}

/// Caveats of the incremental query particular to a sync type.
pub fn notes(sync_type: SyncType) -> Vec<&'static str> {
    match sync_type {
        SyncType::TRACK => vec![
            "\"timestamp\" is when the event happened, so an event that reaches the warehouse after a run, with an earlier time, is not sent by later runs.",
        ],
        _ => Vec::new(),
    }
}

/// One model's setup as text.
pub fn render_setup(s: &SyncSetup) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "== {} ({})", s.model, s.path);
    let _ = writeln!(out, "Sync type: {}", s.label);
    let _ = writeln!(out, "Relation:  {}", s.relation);
    if let Some(id) = &s.object_type_id {
        let _ = writeln!(
            out,
            "Object type id: {id} (every row carries it as \"objectTypeId\")"
        );
    }
    if !s.after.is_empty() {
        let _ = writeln!(out, "Set up after: {}", s.after.join("; "));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "-- Query: paste it into the sync. Customer.io replaces {LAST_SYNC_TIME} with the time of the last run (0 on the first, so everything syncs)."
    );
    let _ = writeln!(out, "{}\n", s.query);
    let _ = writeln!(
        out,
        "{}",
        if s.sync_type == SyncType::TRACK {
            "-- Backfill: every row, once. For Track this sends every event again (see the note below)."
        } else {
            "-- Backfill: run once to resend every row."
        }
    );
    let _ = writeln!(out, "{}\n", s.backfill_query);
    if let Some(delete) = &s.delete_query {
        let _ = writeln!(
            out,
            "-- Deletes: set up a second sync, of type Track (events), with this query. Each row is a Customer.io semantic delete event for a key that left the table."
        );
        let _ = writeln!(out, "{delete}\n");
    }
    let _ = writeln!(out, "Column mapping (Customer.io field <- column):");
    let sources: Vec<String> = s
        .mapping
        .iter()
        .map(|m| match &m.column {
            Some(col) => format!("\"{col}\""),
            None => "(none)".to_string(),
        })
        .collect();
    let width = s.mapping.iter().map(|m| m.field.len()).max().unwrap_or(0);
    let source_width = sources.iter().map(String::len).max().unwrap_or(0);
    for (m, source) in s.mapping.iter().zip(&sources) {
        let _ = writeln!(
            out,
            "  {:width$}  <- {source:source_width$}  {}{}",
            m.field,
            m.role,
            if m.required { " (required)" } else { "" }
        );
    }
    if s.other_columns.is_empty() {
        let _ = writeln!(out, "  other columns: none");
    } else {
        let quoted: Vec<String> = s.other_columns.iter().map(|c| format!("\"{c}\"")).collect();
        let _ = writeln!(
            out,
            "  other columns -> {} ({}): {}",
            s.other_columns_role,
            s.other_columns.len(),
            quoted.join(", ")
        );
    }
    if !s.unknown_columns.is_empty() {
        let _ = writeln!(
            out,
            "  not read from the SQL: {} (check their columns by hand)",
            s.unknown_columns.join(", ")
        );
    }
    for w in &s.warnings {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    if let Some(overlap) = s.overlap_seconds {
        let resend = if s.sync_type == SyncType::TRACK {
            "an event built within the overlap before a sync can be sent again by the next one (whether Customer.io de-duplicates reverse-ETL events is not documented): set it to 0 for this model if builds never run while the sync reads"
        } else {
            "a row resent within the overlap sets the same values again, which is harmless"
        };
        let _ = writeln!(
            out,
            "\nnote: the table is change-tracked: the query reads the rows whose content changed in a build after the last sync, less an overlap of {overlap} s ({}), so a build that commits while a sync reads is not lost; {resend} (see README, \"How cio-sql keeps Customer.io exact\").",
            crate::analysis::tracking::OVERLAP_VAR
        );
    }
    let _ = writeln!(out, "\nnote: {}", edit_warning(s.sync_type));
    for note in notes(s.sync_type).into_iter().filter(|_| !s.change_tracked) {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// Every sync model of the project: the initial order, then each setup.
pub fn render_plan(c: &Compilation) -> String {
    let models = sync_models(c);
    let mut out = String::new();
    let target = &c.project.target;
    if models.is_empty() {
        let _ = writeln!(
            out,
            "Project {} has no sync models: call a nexus.customer_io_* macro in a model, or declare config(cio_sync='identify'|'track'|'group'|'relationship').",
            c.project.config.name
        );
        return out;
    }
    let _ = writeln!(
        out,
        "Initial sync order for project {} (target {}): people, then objects, then relationships; events any time after people.",
        c.project.config.name, target.name
    );
    let width = models.iter().map(|(m, _)| m.name.len()).max().unwrap_or(0);
    for (i, (m, t)) in models.iter().enumerate() {
        let _ = writeln!(out, "  {:>2}. {:width$}  {}", i + 1, m.name, t.label());
    }
    for (m, t) in &models {
        out.push('\n');
        out.push_str(&render_setup(&setup(c, m, *t)));
    }
    out
}

/// The answer to `sync-query [MODEL]` for a compiled project: the setups to
/// print, or why there are none.
pub fn sync_query(c: &Compilation, model: Option<&str>) -> Result<Vec<SyncSetup>, ReportError> {
    let Some(name) = model else {
        return Ok(sync_models(c)
            .into_iter()
            .map(|(m, t)| setup(c, m, t))
            .collect());
    };
    let fail = |d: Diagnostic| ReportError::Unavailable(vec![d]);
    let Some(m) = c.model(name) else {
        let names: Vec<&str> = c.models.iter().map(|m| m.name.as_str()).collect();
        let hint = crate::suggest::did_you_mean(name, names.iter().copied());
        let sync: Vec<&str> = sync_models(c)
            .into_iter()
            .map(|(m, _)| m.name.as_str())
            .collect();
        return Err(ReportError::NoSuchModel(
            Diagnostic::error(
                codes::NO_SUCH_MODEL,
                format!("the project has no model named {name}"),
            )
            .with_help(if hint.is_empty() {
                format!("the sync models are: {}", list_or_none(&sync))
            } else {
                format!("{hint} The sync models are: {}", list_or_none(&sync))
            }),
        ));
    };
    match m.status {
        ModelStatus::Error => {
            return Err(ReportError::Unavailable(
                m.diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect(),
            ));
        }
        ModelStatus::Disabled => {
            return Err(fail(
                Diagnostic::error(
                    codes::NOT_A_SYNC_MODEL,
                    format!("model {} is disabled", m.name),
                )
                .for_model(&m.name)
                .at_file(&m.path)
                .with_help("enable it (remove enabled: false) to sync it"),
            ));
        }
        ModelStatus::Success | ModelStatus::NotSelected => {}
    }
    match sync_type_of(m) {
        Ok(Some(t)) => Ok(vec![setup(c, m, t)]),
        Ok(None) => Err(fail(
            Diagnostic::error(codes::NOT_A_SYNC_MODEL, format!("model {} has no Customer.io sync type", m.name))
                .for_model(&m.name)
                .at_file(&m.path)
                .with_help(format!(
                    "build it with a nexus.customer_io_* macro, or declare the type in the model: {{{{ config(cio_sync='identify') }}}} ('track', 'group' or 'relationship'). The sync models are: {}",
                    list_or_none(&sync_models(c).into_iter().map(|(m, _)| m.name.as_str()).collect::<Vec<_>>())
                )),
        )),
        Err(d) => Err(fail(d)),
    }
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none yet".to_string()
    } else {
        names.join(", ")
    }
}
