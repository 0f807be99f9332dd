//! The catalog from the warehouse: the columns of every relation the
//! project reads, with one `INFORMATION_SCHEMA` query per database, for
//! `cio-sql catalog` (which rewrites `catalog.yml`) and `compile --live`
//! (which compiles over them without touching the file).

use crate::catalog::{Catalog, OfflineCatalog, load_catalog};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::Project;
use crate::sql::{Column, RelationName};
use crate::warehouse::{self, Warehouse};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Columns by relation, as the warehouse spells them: (name, raw data type).
pub type IntrospectedColumns = BTreeMap<RelationName, Vec<(String, String)>>;

/// The relations whose columns the project needs: every catalog entry,
/// every declared source, and every relation a model reads.
pub fn relations_to_introspect(project: &Project, catalog: &OfflineCatalog) -> Vec<RelationName> {
    let mut seen: BTreeMap<String, RelationName> = BTreeMap::new();
    for r in catalog.relations() {
        seen.insert(r.key(), r.clone());
    }
    for s in &project.sources {
        seen.insert(s.relation.key(), s.relation.clone());
    }
    seen.into_values().collect()
}

/// Reads the columns of `relations` from the warehouse, one
/// `INFORMATION_SCHEMA` query per database. Returns the found relations
/// (raw data types) and the names the warehouse lacks.
pub fn introspect(
    wh: &dyn Warehouse,
    relations: &[RelationName],
) -> Result<(IntrospectedColumns, Vec<RelationName>), warehouse::WarehouseError> {
    let found = warehouse::introspect_columns(wh, relations)?;
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for rel in relations {
        match found.get(rel) {
            Some(cols) => {
                out.insert(rel.clone(), cols.clone());
            }
            None => missing.push(rel.clone()),
        }
    }
    Ok((out, missing))
}

/// The offline catalog with every relation found live replaced by the
/// warehouse's columns.
pub fn live_catalog(
    project: &Project,
    wh: &dyn Warehouse,
) -> Result<(OfflineCatalog, Vec<RelationName>), Diagnostic> {
    let mut catalog = load_catalog(project)?;
    let relations = relations_to_introspect(project, &catalog);
    let (found, missing) = introspect(wh, &relations)
        .map_err(|e| crate::execution::connect::warehouse_diagnostic(&e, &project.target.name))?;
    for (rel, cols) in found {
        catalog.insert(
            rel,
            cols.into_iter()
                .map(|(name, ty)| Column::new(name, &ty))
                .collect(),
        );
    }
    Ok((catalog, missing))
}

/// `catalog.yml` text for `relations` (raw types), sorted, in the same
/// compact style as a hand-written file.
pub fn catalog_yaml(relations: &IntrospectedColumns) -> String {
    let mut sorted: Vec<(&RelationName, &Vec<(String, String)>)> = relations.iter().collect();
    sorted.sort_by_key(|(r, _)| r.key());
    let mut out = String::from(
        "# Offline catalog: the columns of every warehouse relation the models read,\n# in ordinal order. Written by `cio-sql catalog`; safe to edit by hand.\nrelations:\n",
    );
    for (rel, cols) in sorted {
        out.push_str(&format!(
            "  - name: {}\n    database: {}\n    schema: {}\n    columns:\n",
            yaml_scalar(&rel.identifier),
            yaml_scalar(&rel.database),
            yaml_scalar(&rel.schema)
        ));
        if cols.is_empty() {
            out.truncate(out.len() - 1);
            out.push_str(" []\n");
        }
        for (name, ty) in cols {
            out.push_str(&format!(
                "      - {{name: {}, data_type: {}}}\n",
                yaml_scalar(name),
                yaml_scalar(ty)
            ));
        }
    }
    out
}

/// A YAML scalar: plain when safe, double-quoted otherwise.
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '(' | ')' | '.' | '$'))
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        );
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

/// What [`refresh`] wrote.
#[derive(Debug)]
pub struct Refreshed {
    /// Relations written to the file.
    pub written: usize,
    /// Relations the warehouse lacks (their entries were kept as they were).
    pub missing: Vec<RelationName>,
    /// The catalog file.
    pub path: PathBuf,
    /// Milliseconds spent introspecting and writing.
    pub elapsed_ms: u128,
}

/// `cio-sql catalog`: reads the columns of every relation the project
/// needs from the warehouse `connect` opens, and rewrites the project's
/// catalog file with them, sorted. A relation the warehouse lacks keeps
/// its entry, with a `CIO321` warning passed to `warn`. `Err` (nothing
/// written): no relation to introspect (`CIO320`), the warehouse cannot be
/// used, or the file cannot be written.
pub fn refresh(
    project: &Project,
    connect: &super::Connector,
    warn: &dyn Fn(&Diagnostic),
) -> Result<Refreshed, Diagnostic> {
    let existing = load_catalog(project)?;
    let relations = relations_to_introspect(project, &existing);
    if relations.is_empty() {
        return Err(Diagnostic::error(codes::NOTHING_TO_INTROSPECT, "there is no relation to introspect")
            .with_help("list the relations your models read in catalog.yml (name and schema are enough), or declare sources; then run cio-sql catalog again"));
    }
    let wh = connect(project)?;
    let started = Instant::now();
    let (mut found, missing) = introspect(wh.as_ref(), &relations)
        .map_err(|e| super::connect::warehouse_diagnostic(&e, &project.target.name))?;
    for rel in &missing {
        warn(&Diagnostic::warning(codes::MISSING_RELATION, format!("{rel} is in the catalog but not in the warehouse; its entry is kept as it was"))
            .with_help("create the relation in Snowflake, fix its name or schema in catalog.yml, or delete the entry"));
        if let Some(cols) = existing.columns(rel) {
            found.insert(
                rel.clone(),
                cols.iter()
                    .map(|c| (c.name.clone(), c.data_type.clone()))
                    .collect(),
            );
        }
    }
    let text = catalog_yaml(&found);
    if let Some(dir) = project.catalog_path.parent() {
        crate::files::remove_stale_temp_files(dir, false);
    }
    crate::files::write_atomic(&project.catalog_path, text.as_bytes())?;
    Ok(Refreshed {
        written: found.len(),
        missing,
        path: project.catalog_path.clone(),
        elapsed_ms: started.elapsed().as_millis(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_yaml_round_trips() {
        let mut rels = BTreeMap::new();
        rels.insert(
            RelationName::new("ANALYTICS", "NEXUS", "NEXUS_ENTITIES"),
            vec![
                ("ENTITY_ID".to_string(), "VARCHAR(16777216)".to_string()),
                ("Amount, net".to_string(), "NUMBER(38,2)".to_string()),
            ],
        );
        rels.insert(RelationName::new("ANALYTICS", "NEXUS", "EMPTY"), vec![]);
        let text = catalog_yaml(&rels);
        assert!(
            text.contains("      - {name: ENTITY_ID, data_type: VARCHAR(16777216)}\n"),
            "{text}"
        );
        assert!(
            text.contains("{name: \"Amount, net\", data_type: \"NUMBER(38,2)\"}"),
            "{text}"
        );
        let parsed =
            OfflineCatalog::parse(&text, std::path::Path::new("catalog.yml"), "X", "Y").unwrap();
        let cols = parsed
            .columns(&RelationName::new("analytics", "nexus", "nexus_entities"))
            .unwrap();
        assert_eq!(cols[1].data_type, "NUMBER");
        assert!(
            parsed
                .columns(&RelationName::new("ANALYTICS", "NEXUS", "EMPTY"))
                .unwrap()
                .is_empty()
        );
    }
}
