//! Sources declared in `.yml` files under the model paths
//! (`sources: [{name, database, schema, tables: [{name, identifier}]}]`),
//! for `source('name', 'table')`.

use super::{Target, read_text, relative};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::sql::RelationName;
use std::path::{Path, PathBuf};

/// A table of a declared source: `source('nexus', 'nexus_events')`.
#[derive(Debug, Clone)]
pub struct SourceTable {
    /// The source name.
    pub source: String,
    /// The table name used in `source()`.
    pub table: String,
    /// Where it lives.
    pub relation: RelationName,
}

#[derive(serde::Deserialize)]
struct SourcesFile {
    #[serde(default)]
    sources: Vec<SourceEntry>,
}

#[derive(serde::Deserialize)]
struct SourceEntry {
    name: String,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    tables: Vec<SourceTableEntry>,
}

#[derive(serde::Deserialize)]
struct SourceTableEntry {
    name: String,
    #[serde(default)]
    identifier: Option<String>,
}

pub(super) fn load_sources(
    root: &Path,
    yaml_files: &[PathBuf],
    target: &Target,
) -> Result<Vec<SourceTable>, Diagnostic> {
    let mut out = Vec::new();
    {
        for path in yaml_files {
            let text = read_text(path)?;
            // A file without the word cannot have a `sources:` key: not
            // parsed (schema files of large projects are big). Whether it
            // declares sources is decided by parsing, below.
            if !text.contains("sources") {
                continue;
            }
            let rel = relative(root, path);
            let help =
                "sources are declared as sources: [{name, database, schema, tables: [{name}]}]";
            let value: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| {
                Diagnostic::yaml_error(codes::SOURCES_FILE, Path::new(&rel), &text, &e)
                    .with_general_help(help)
            })?;
            // Only a mapping with a top-level `sources:` key declares
            // sources; a list, or a mapping without it, is some other file.
            if !value
                .as_mapping()
                .is_some_and(|m| m.contains_key("sources"))
            {
                continue;
            }
            let parsed: SourcesFile = serde_yaml::from_str(&text).map_err(|e| {
                Diagnostic::yaml_error(codes::SOURCES_FILE, Path::new(&rel), &text, &e)
                    .with_general_help(help)
            })?;
            for source in parsed.sources {
                for table in source.tables {
                    out.push(SourceTable {
                        relation: RelationName::new(
                            source
                                .database
                                .clone()
                                .unwrap_or_else(|| target.database.clone()),
                            source.schema.clone().unwrap_or_else(|| source.name.clone()),
                            table
                                .identifier
                                .clone()
                                .unwrap_or_else(|| table.name.clone()),
                        ),
                        source: source.name.clone(),
                        table: table.name,
                    });
                }
            }
        }
    }
    Ok(out)
}
