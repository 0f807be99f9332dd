//! The offline catalog: `catalog.yml` at the project root.

use super::{Catalog, Column, RelationName};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The `catalog.yml` file as written on disk.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// Every relation, in file order.
    #[serde(default)]
    pub relations: Vec<CatalogFileRelation>,
}

/// One relation entry of `catalog.yml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFileRelation {
    /// Table or view name.
    pub name: String,
    /// Database; the target's database when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Schema; the target's schema when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Columns in ordinal order.
    #[serde(default)]
    pub columns: Vec<CatalogFileColumn>,
}

/// One column entry of `catalog.yml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFileColumn {
    /// Column name, spelled as Snowflake stores it.
    pub name: String,
    /// Data type as Snowflake reports it (`VARCHAR(16777216)`); normalised on load.
    pub data_type: String,
}

/// A catalog held in memory, loaded from `catalog.yml` or filled from a live
/// warehouse.
#[derive(Debug, Clone, Default)]
pub struct OfflineCatalog {
    relations: Vec<(RelationName, Vec<Column>)>,
    index: HashMap<String, usize>,
    /// Upper-case identifier → positions, for `ref('name')` lookups.
    by_identifier: HashMap<String, Vec<usize>>,
    origin: String,
}

impl OfflineCatalog {
    /// An empty catalog; `origin` names it in error messages.
    pub fn empty(origin: impl Into<String>) -> Self {
        OfflineCatalog {
            origin: origin.into(),
            ..Default::default()
        }
    }

    /// Reads `path`. Relations without a database or schema get the defaults.
    pub fn load(
        path: &Path,
        default_database: &str,
        default_schema: &str,
    ) -> Result<Self, Diagnostic> {
        let text = crate::project::read_text(path)?;
        Self::parse(&text, path, default_database, default_schema)
    }

    /// Parses catalog YAML; `path` is used for error messages only.
    pub fn parse(
        text: &str,
        path: &Path,
        default_database: &str,
        default_schema: &str,
    ) -> Result<Self, Diagnostic> {
        let file: CatalogFile = if text.trim().is_empty() {
            CatalogFile::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| {
                Diagnostic::yaml_error(codes::CATALOG_FILE, path, text, &e)
                    .with_general_help("see the catalog format in README.md (relations: - name: … columns: - {name, data_type})")
            })?
        };
        let mut catalog = OfflineCatalog::empty(path.display().to_string());
        for rel in &file.relations {
            check_names(rel, path, text)?;
        }
        for rel in file.relations {
            let name = RelationName::new(
                rel.database.unwrap_or_else(|| default_database.to_string()),
                rel.schema.unwrap_or_else(|| default_schema.to_string()),
                rel.name,
            );
            let columns = rel
                .columns
                .into_iter()
                .map(|c| Column::new(c.name, &c.data_type))
                .collect();
            if catalog.index.contains_key(&name.key()) {
                return Err(Diagnostic::error(
                    codes::CATALOG_FILE,
                    format!("relation {name} is listed twice in the catalog"),
                )
                .at_file(PathBuf::from(path))
                .with_help("keep one entry per relation"));
            }
            catalog.insert(name, columns);
        }
        Ok(catalog)
    }

    /// Adds or replaces a relation.
    pub fn insert(&mut self, name: RelationName, columns: Vec<Column>) {
        match self.index.get(&name.key()) {
            Some(&idx) => self.relations[idx] = (name, columns),
            None => {
                let idx = self.relations.len();
                self.index.insert(name.key(), idx);
                self.by_identifier
                    .entry(name.identifier.to_uppercase())
                    .or_default()
                    .push(idx);
                self.relations.push((name, columns));
            }
        }
    }
}

/// Every name of catalog entry `rel` must be one Snowflake can hold (a
/// name that needs quotes is fine: it is quoted where it is used).
fn check_names(rel: &CatalogFileRelation, path: &Path, text: &str) -> Result<(), Diagnostic> {
    let names = [
        ("name", Some(&rel.name)),
        ("database", rel.database.as_ref()),
        ("schema", rel.schema.as_ref()),
    ]
    .into_iter()
    .filter_map(|(key, name)| name.map(|n| (key, n)))
    .chain(rel.columns.iter().map(|c| ("column", &c.name)));
    for (key, name) in names {
        if let Err(problem) = crate::sql::check_name(name, true) {
            let d = Diagnostic::error(
                codes::CATALOG_FILE,
                format!(
                    "the {key} `{name}` of catalog relation `{}` cannot be used in Snowflake SQL: {problem}",
                    rel.name
                ),
            )
            .with_help("write the name as Snowflake stores it: 1 to 255 characters, no control characters");
            // The entry's `name:` line, when it can be found.
            let line = text
                .lines()
                .position(|l| l.contains("name:") && l.contains(rel.name.as_str()));
            return Err(match line {
                Some(i) => d.at_line(PathBuf::from(path), text, i + 1, None),
                None => d.at_file(PathBuf::from(path)),
            });
        }
    }
    Ok(())
}

impl Catalog for OfflineCatalog {
    fn columns(&self, relation: &RelationName) -> Option<&[Column]> {
        self.index
            .get(&relation.key())
            .map(|&idx| self.relations[idx].1.as_slice())
    }

    fn relations(&self) -> Vec<&RelationName> {
        self.relations.iter().map(|(name, _)| name).collect()
    }

    fn origin(&self) -> String {
        self.origin.clone()
    }

    fn find(&self, identifier: &str, database: &str, schema: &str) -> Option<RelationName> {
        let positions = self.by_identifier.get(&identifier.to_uppercase())?;
        let names = positions.iter().map(|&i| &self.relations[i].0);
        names
            .clone()
            .find(|r| {
                r.database.eq_ignore_ascii_case(database) && r.schema.eq_ignore_ascii_case(schema)
            })
            .or_else(|| names.clone().next())
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_snowflake_cannot_hold_are_refused() {
        let parse = |yaml: &str| OfflineCatalog::parse(yaml, Path::new("catalog.yml"), "DB", "S");
        assert!(parse("relations:\n  - name: \"my table\"\n    columns: [{name: \"First Name\", data_type: TEXT}]\n").is_ok());
        let err = parse("relations:\n  - name: t\n    columns: [{name: \"\", data_type: TEXT}]\n")
            .unwrap_err();
        assert_eq!((err.code.id(), err.line), ("CIO003", Some(2)));
        assert!(err.message.contains("column ``"), "{}", err.message);
        let long = "x".repeat(256);
        let err = parse(&format!("relations:\n  - name: {long}\n")).unwrap_err();
        assert!(err.message.contains("256 characters"), "{}", err.message);
    }

    const YAML: &str = "relations:\n  - name: nexus_entities\n    columns:\n      - {name: entity_id, data_type: VARCHAR(16777216)}\n      - {name: _updated_at, data_type: TIMESTAMP_NTZ(9)}\n  - name: other\n    database: RAW\n    schema: PUBLIC\n    columns: []\n";

    #[test]
    fn loads_with_defaults_and_normalises() {
        let cat =
            OfflineCatalog::parse(YAML, Path::new("catalog.yml"), "ANALYTICS", "NEXUS").unwrap();
        let cols = cat
            .columns(&RelationName::new("analytics", "nexus", "NEXUS_ENTITIES"))
            .expect("case-insensitive lookup");
        assert_eq!(cols[1].data_type, "TIMESTAMP_NTZ");
        assert!(
            cat.columns(&RelationName::new("RAW", "PUBLIC", "other"))
                .is_some()
        );
        assert!(
            cat.columns(&RelationName::new("ANALYTICS", "NEXUS", "other"))
                .is_none()
        );
    }

    #[test]
    fn find_prefers_the_target_schema() {
        let cat = OfflineCatalog::parse(
            "relations:\n  - {name: t, schema: A, columns: []}\n  - {name: T, schema: B, columns: []}\n",
            Path::new("catalog.yml"),
            "DB",
            "X",
        )
        .unwrap();
        assert_eq!(cat.find("t", "db", "b").unwrap().schema, "B");
        assert_eq!(cat.find("T", "db", "z").unwrap().schema, "A");
        assert!(cat.find("u", "db", "a").is_none());
    }

    #[test]
    fn bad_yaml_names_file_and_line() {
        let err = OfflineCatalog::parse(
            "relations:\n  - name: x\n    colums: []\n",
            Path::new("catalog.yml"),
            "A",
            "B",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("colums"), "{}", err.message);
    }
}
