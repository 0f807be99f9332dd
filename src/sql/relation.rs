//! The fully qualified name of a relation, and dbt's `quoting:` setting
//! that decides how its parts are written in SQL.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which parts of a relation name are quoted when rendered (dbt's
/// `quoting:` block of the project file).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub struct Quoting {
    /// Quote the database.
    #[serde(default)]
    pub database: bool,
    /// Quote the schema.
    #[serde(default)]
    pub schema: bool,
    /// Quote the identifier.
    #[serde(default)]
    pub identifier: bool,
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

/// One part of a relation name with the settings that govern it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamePart<'a> {
    /// The part as spelled.
    pub name: &'a str,
    /// The model config key that sets it: `database`, `schema` or `alias`.
    pub config_key: &'static str,
    /// Its key under `quoting:`: `database`, `schema` or `identifier`.
    pub quoting_key: &'static str,
    /// Whether `quoting:` quotes it.
    pub quoted: bool,
}

impl RelationName {
    /// The three parts (database, schema, identifier) under `quoting`.
    pub fn parts(&self, quoting: Quoting) -> [NamePart<'_>; 3] {
        [
            NamePart {
                name: &self.database,
                config_key: "database",
                quoting_key: "database",
                quoted: quoting.database,
            },
            NamePart {
                name: &self.schema,
                config_key: "schema",
                quoting_key: "schema",
                quoted: quoting.schema,
            },
            NamePart {
                name: &self.identifier,
                config_key: "alias",
                quoting_key: "identifier",
                quoted: quoting.identifier,
            },
        ]
    }

    /// The relation as SQL text, `database.schema.identifier`, each part
    /// written by [`super::relation_part`] under `quoting`, as dbt-snowflake
    /// renders it.
    pub fn sql(&self, quoting: Quoting) -> String {
        format!(
            "{}.{}",
            self.schema_sql(quoting),
            super::relation_part(&self.identifier, quoting.identifier)
        )
    }

    /// The relation's schema as SQL text: `database.schema`.
    pub fn schema_sql(&self, quoting: Quoting) -> String {
        format!(
            "{}.{}",
            super::relation_part(&self.database, quoting.database),
            super::relation_part(&self.schema, quoting.schema)
        )
    }
}
