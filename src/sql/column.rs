//! A column of a relation, as a catalog (or a model's analysis) knows it.

use super::normalize_type;
use serde::Serialize;

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
    /// alone decides (see [`super::identifier`]).
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
    /// [`Column::quoted`], else by [`super::identifier`].
    pub fn identifier(&self) -> String {
        if self.quoted {
            super::quote(&self.name)
        } else {
            super::identifier(&self.name)
        }
    }

    /// The name as Snowflake stores it: verbatim when quoted or when the
    /// catalog spelling could only have been created quoted (`CamelCase`),
    /// else upper-cased (`email` is stored `EMAIL`).
    pub fn stored_name(&self) -> String {
        if self.quoted || !super::spelled_unquoted(&self.name) {
            self.name.clone()
        } else {
            self.name.to_ascii_uppercase()
        }
    }
}
