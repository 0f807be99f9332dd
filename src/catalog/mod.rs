//! Columns of relations: the catalog stage of the pipeline.
//!
//! The renderer asks a [`Catalog`] for the columns of a relation whenever a
//! macro calls `adapter.get_columns_in_relation`. The offline implementation,
//! [`OfflineCatalog`], reads `catalog.yml`; a live implementation fills the same
//! structure from Snowflake's `INFORMATION_SCHEMA` in one batched query, so
//! macros never know where their columns came from.

mod offline;
mod types;

pub use offline::{CatalogFile, CatalogFileColumn, CatalogFileRelation, OfflineCatalog};
pub use types::{is_text_type, is_timestamp_type, normalize_type};

use serde::{Deserialize, Serialize};
use std::fmt;

/// One column of a relation, as the warehouse reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// The column name spelled as the catalog spells it.
    pub name: String,
    /// The normalised data type (see [`normalize_type`]), e.g. `TIMESTAMP_NTZ`;
    /// empty when unknown.
    pub data_type: String,
    /// The column was created with a quoted name and must be written quoted,
    /// exactly as spelled, even when the name looks plain: a model's
    /// `AS "email"` is stored as `email`, which an unquoted `email` (stored
    /// `EMAIL`) does not reach. False for catalog columns, whose spelling
    /// alone decides (see [`crate::render::sql::identifier`]).
    pub quoted: bool,
}

impl Column {
    /// A catalog column: `data_type` is normalised, the name's spelling
    /// decides how it is written in SQL.
    pub fn new(name: impl Into<String>, data_type: &str) -> Self {
        Column {
            name: name.into(),
            data_type: normalize_type(data_type),
            quoted: false,
        }
    }

    /// The column as a SQL identifier: quoted exactly as spelled when
    /// [`Column::quoted`], else by [`crate::render::sql::identifier`].
    pub fn identifier(&self) -> String {
        if self.quoted {
            crate::render::sql::quote(&self.name)
        } else {
            crate::render::sql::identifier(&self.name)
        }
    }

    /// The name as Snowflake stores it: verbatim when quoted or when the
    /// catalog spelling could only have been created quoted (`CamelCase`),
    /// else upper-cased (`email` is stored `EMAIL`).
    pub fn stored_name(&self) -> String {
        if self.quoted || !crate::render::sql::spelled_unquoted(&self.name) {
            self.name.clone()
        } else {
            self.name.to_ascii_uppercase()
        }
    }
}

/// The fully qualified name of a relation: `database.schema.identifier`.
///
/// Comparison is case-insensitive, as it is for unquoted names in Snowflake.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelationName {
    /// Database (Snowflake: `ANALYTICS`).
    pub database: String,
    /// Schema (Snowflake: `NEXUS`).
    pub schema: String,
    /// Table or view name.
    pub identifier: String,
}

impl RelationName {
    /// Builds a relation name from its three parts.
    pub fn new(
        database: impl Into<String>,
        schema: impl Into<String>,
        identifier: impl Into<String>,
    ) -> Self {
        RelationName {
            database: database.into(),
            schema: schema.into(),
            identifier: identifier.into(),
        }
    }

    /// The lookup key: every part upper-cased, joined with dots.
    pub fn key(&self) -> String {
        format!(
            "{}.{}.{}",
            self.database.to_uppercase(),
            self.schema.to_uppercase(),
            self.identifier.to_uppercase()
        )
    }
}

impl PartialEq for RelationName {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for RelationName {}

impl PartialOrd for RelationName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RelationName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::hash::Hash for RelationName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl fmt::Display for RelationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.database, self.schema, self.identifier)
    }
}

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
