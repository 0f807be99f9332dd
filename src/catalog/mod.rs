//! Columns of relations: the catalog stage of the pipeline.
//!
//! The renderer asks a [`Catalog`] for the columns of a relation whenever a
//! macro calls `adapter.get_columns_in_relation`. The offline implementation,
//! [`OfflineCatalog`], reads `catalog.yml`; a live implementation fills the same
//! structure from Snowflake's `INFORMATION_SCHEMA` in one batched query, so
//! macros never know where their columns came from.

mod offline;

pub use offline::{CatalogFile, CatalogFileColumn, CatalogFileRelation, OfflineCatalog};

use crate::diagnostics::Diagnostic;
use crate::project::Project;
use crate::sql::{Column, RelationName};

/// A source of relation columns.
///
/// Implementations must be cheap to query repeatedly: the renderer calls
/// [`Catalog::columns`] once per macro call and expects no I/O per call.
pub trait Catalog: Send + Sync {
    /// The columns of `relation` in ordinal order, or `None` when the catalog
    /// does not know the relation.
    fn columns(&self, relation: &RelationName) -> Option<&[Column]>;

    /// Every relation this catalog knows, for "did you mean" suggestions and
    /// for resolving `ref()` to relations that are not models.
    fn relations(&self) -> Vec<&RelationName>;

    /// Where the catalog came from, for error messages (`catalog.yml`).
    fn origin(&self) -> String;

    /// The relation named `identifier` (case-insensitively). When several
    /// schemas hold one, the one in `database.schema` wins, else the first.
    fn find(&self, identifier: &str, database: &str, schema: &str) -> Option<RelationName> {
        let matches: Vec<&RelationName> = self
            .relations()
            .into_iter()
            .filter(|r| r.identifier.eq_ignore_ascii_case(identifier))
            .collect();
        matches
            .iter()
            .find(|r| {
                r.database.eq_ignore_ascii_case(database) && r.schema.eq_ignore_ascii_case(schema)
            })
            .or(matches.first())
            .map(|r| (*r).clone())
    }
}

/// Reads the project's offline catalog; a missing file is an empty catalog.
pub fn load_catalog(project: &Project) -> Result<OfflineCatalog, Diagnostic> {
    let path = &project.catalog_path;
    let shown = path.strip_prefix(&project.root).unwrap_or(path);
    if path.exists() {
        let text = crate::project::read_text(path)?;
        OfflineCatalog::parse(
            &text,
            shown,
            &project.target.database,
            &project.target.schema,
        )
    } else {
        Ok(OfflineCatalog::empty(format!(
            "{} (the file does not exist yet)",
            shown.display()
        )))
    }
}
