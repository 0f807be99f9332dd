//! Executing SQL on Snowflake.
//!
//! The rest of cio-sql is synchronous and talks to the warehouse through the
//! small [`Warehouse`] trait:
//!
//! * [`SnowflakeWarehouse`] implements it with the `snowflake-api` crate,
//!   keeping one Snowflake session (role, warehouse, database, schema,
//!   query tag and statement timeout set once) and a private tokio runtime,
//!   so it can be called from several threads at once.
//! * `MockWarehouse` (tests only, `mock.rs`) implements it in memory,
//!   recording every statement and answering from a script.
//! * [`introspect_columns`] reads the columns of many relations with one
//!   `INFORMATION_SCHEMA.COLUMNS` query per database.
//!
//! Connection settings live in [`SnowflakeConfig`]; passwords and
//! passphrases are [`Secret`]s, which never print. Failures are
//! [`WarehouseError`]s, sorted by what the caller can do about them.
//!
//! For local tests `SnowflakeConfig::host` points the client at an emulator
//! such as fakesnow (`http://127.0.0.1:PORT`); see the `emulator`
//! submodule for what is patched in that mode.

#![warn(missing_docs)]

use std::collections::BTreeMap;

use crate::sql;

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod config;
mod convert;
mod emulator;
mod error;
#[cfg(test)]
pub(crate) mod fault_server;
#[cfg(test)]
mod http_tests;
mod ipc;
mod keypair;
#[cfg(test)]
pub(crate) mod mock;
mod snowflake;
mod transport;

pub use config::{AuthMethod, REDACTED, Secret, SnowflakeConfig};
pub use error::{Phase, TimeLimit, WarehouseError};
#[cfg(test)]
pub(crate) use mock::{MockReply, MockWarehouse};
pub use snowflake::SnowflakeWarehouse;

/// Relation names are the catalog's: matched case-insensitively, as
/// Snowflake matches unquoted names.
pub use crate::sql::RelationName;

/// Outcome of [`Warehouse::execute`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Executed {
    /// Snowflake's query id, when known.
    pub query_id: Option<String>,
    /// Rows affected (DML: inserted + updated + deleted) or produced
    /// (queries), when known; `None` for DDL and other statements.
    pub rows: Option<u64>,
}

/// Result of [`Warehouse::query`].
///
/// Values are JSON strings, numbers, booleans or null; dates, times and
/// timestamps are rendered as ISO-8601-style strings such as
/// `2024-01-02 03:04:05.123` (see [`Warehouse::query`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rows {
    /// Column names, in order. Known even for empty results when the
    /// warehouse reports them.
    pub columns: Vec<String>,
    /// One vector per row, aligned with `columns`.
    pub rows: Vec<Vec<Value>>,
    /// Snowflake's query id, when known.
    pub query_id: Option<String>,
}

impl Rows {
    /// Position of the column named `name` (case-insensitively).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }
}

/// A SQL warehouse that runs one statement at a time, synchronously.
///
/// Implementations are `Send + Sync` and may be called from several threads
/// at once. Each call carries exactly one SQL statement.
pub trait Warehouse: Send + Sync {
    /// Run one statement; return query id and rows affected/produced when known.
    fn execute(&self, sql: &str) -> Result<Executed, WarehouseError>;

    /// Run a query and return its rows: column names + rows of
    /// `serde_json::Value` (strings, numbers, bools, null; timestamps
    /// rendered as ISO-8601 strings e.g. `"2024-01-02 03:04:05.123"`).
    ///
    /// `NUMBER` with scale 0 becomes a JSON integer (a string beyond 64
    /// bits), other numbers JSON floats; `VARIANT`/`OBJECT`/`ARRAY` values
    /// stay JSON text; `BINARY` is upper-case hex; `TIMESTAMP_TZ` and
    /// `TIMESTAMP_LTZ` carry an offset (`+02:00`, LTZ in UTC).
    fn query(&self, sql: &str) -> Result<Rows, WarehouseError>;
}

impl<W: Warehouse + ?Sized> Warehouse for &W {
    fn execute(&self, sql: &str) -> Result<Executed, WarehouseError> {
        (**self).execute(sql)
    }

    fn query(&self, sql: &str) -> Result<Rows, WarehouseError> {
        (**self).query(sql)
    }
}

impl<W: Warehouse + ?Sized> Warehouse for Box<W> {
    fn execute(&self, sql: &str) -> Result<Executed, WarehouseError> {
        (**self).execute(sql)
    }

    fn query(&self, sql: &str) -> Result<Rows, WarehouseError> {
        (**self).query(sql)
    }
}

impl<W: Warehouse + ?Sized> Warehouse for std::sync::Arc<W> {
    fn execute(&self, sql: &str) -> Result<Executed, WarehouseError> {
        (**self).execute(sql)
    }

    fn query(&self, sql: &str) -> Result<Rows, WarehouseError> {
        (**self).query(sql)
    }
}

/// Columns of one relation: `(column name, data type)` in ordinal order.
pub type RelationColumns = Vec<(String, String)>;

/// Reads the columns of `relations`, issuing one `INFORMATION_SCHEMA.COLUMNS`
/// query per database (not per relation).
///
/// Names are matched case-insensitively; when a schema holds both `Foo` and
/// `FOO`, the exact spelling wins, then the upper-case one. Columns come in
/// `ORDINAL_POSITION` order. Data types are built from `DATA_TYPE` and the
/// length/precision columns, e.g. `NUMBER(38,0)`, `VARCHAR(16777216)`,
/// `TIMESTAMP_NTZ(9)`. Relations that do not exist (or are not visible to
/// the role) are absent from the returned map.
pub fn introspect_columns(
    wh: &dyn Warehouse,
    relations: &[RelationName],
) -> Result<BTreeMap<RelationName, RelationColumns>, WarehouseError> {
    // One group per database, keyed the way Snowflake resolves the name.
    let mut by_database: BTreeMap<String, Vec<&RelationName>> = BTreeMap::new();
    for rel in relations {
        by_database
            .entry(sql::resolved_part(&rel.database, false).into_owned())
            .or_default()
            .push(rel);
    }
    let mut out = BTreeMap::new();
    for rels in by_database.values() {
        let sql = columns_query(rels);
        let rows = wh.query(&sql)?;
        let found = parse_columns(&rows)?;
        for rel in rels {
            if let Some(columns) = pick_relation(&found, rel) {
                out.insert((*rel).clone(), columns.clone());
            }
        }
    }
    Ok(out)
}

/// Found columns, keyed by the (schema, table) names as stored.
type FoundColumns = BTreeMap<(String, String), RelationColumns>;

/// The `INFORMATION_SCHEMA.COLUMNS` query for relations of one database.
fn columns_query(rels: &[&RelationName]) -> String {
    let database = sql::quoted_resolved(&rels[0].database);
    let mut by_schema: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rel in rels {
        let tables = by_schema.entry(rel.schema.to_uppercase()).or_default();
        let table = rel.identifier.to_uppercase();
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    let filters: Vec<String> = by_schema
        .iter()
        .map(|(schema, tables)| {
            let tables: Vec<String> = tables.iter().map(|t| sql::string_literal(t)).collect();
            format!(
                "(UPPER(TABLE_SCHEMA) = {} AND UPPER(TABLE_NAME) IN ({}))",
                sql::string_literal(schema),
                tables.join(", ")
            )
        })
        .collect();
    format!(
        "SELECT * FROM {database}.INFORMATION_SCHEMA.COLUMNS WHERE {} \
         ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
        filters.join(" OR ")
    )
}

/// Groups the rows of a columns query by relation, in ordinal order.
fn parse_columns(rows: &Rows) -> Result<FoundColumns, WarehouseError> {
    if rows.rows.is_empty() {
        return Ok(FoundColumns::new());
    }
    let required = |name: &str| {
        rows.column_index(name)
            .ok_or_else(|| WarehouseError::Protocol {
                host: "INFORMATION_SCHEMA".to_owned(),
                reason: format!("COLUMNS has no {name} column"),
            })
    };
    let schema_i = required("TABLE_SCHEMA")?;
    let table_i = required("TABLE_NAME")?;
    let column_i = required("COLUMN_NAME")?;
    let ordinal_i = required("ORDINAL_POSITION")?;
    let type_i = required("DATA_TYPE")?;
    let length_i = rows.column_index("CHARACTER_MAXIMUM_LENGTH");
    let precision_i = rows.column_index("NUMERIC_PRECISION");
    let scale_i = rows.column_index("NUMERIC_SCALE");
    let datetime_i = rows.column_index("DATETIME_PRECISION");

    // (schema, table) -> [(ordinal, column, type)]
    type Unsorted = BTreeMap<(String, String), Vec<(i64, String, String)>>;
    let mut found = Unsorted::new();
    for row in &rows.rows {
        let text = |i: usize| row.get(i).and_then(value_text);
        let int = |i: Option<usize>| i.and_then(|i| row.get(i)).and_then(value_int);
        let (Some(schema), Some(table), Some(column), Some(data_type)) =
            (text(schema_i), text(table_i), text(column_i), text(type_i))
        else {
            continue;
        };
        let ordinal = int(Some(ordinal_i)).unwrap_or(i64::MAX);
        let ty = data_type_name(
            &data_type,
            int(length_i),
            int(precision_i),
            int(scale_i),
            int(datetime_i),
        );
        found
            .entry((schema, table))
            .or_default()
            .push((ordinal, column, ty));
    }
    Ok(found
        .into_iter()
        .map(|(key, mut cols)| {
            cols.sort_by_key(|(ordinal, _, _)| *ordinal);
            (key, cols.into_iter().map(|(_, c, t)| (c, t)).collect())
        })
        .collect())
}

/// The found relation matching `rel` case-insensitively; among several,
/// exact spellings win over upper case, the table name over the schema.
fn pick_relation<'a>(found: &'a FoundColumns, rel: &RelationName) -> Option<&'a RelationColumns> {
    let (schema_upper, table_upper) = (rel.schema.to_uppercase(), rel.identifier.to_uppercase());
    found
        .iter()
        .filter(|((s, t), _)| {
            s.eq_ignore_ascii_case(&rel.schema) && t.eq_ignore_ascii_case(&rel.identifier)
        })
        .max_by_key(|((s, t), _)| {
            (
                *t == rel.identifier,
                *s == rel.schema,
                *t == table_upper,
                *s == schema_upper,
            )
        })
        .map(|(_, cols)| cols)
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn value_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A column's data type from `INFORMATION_SCHEMA.COLUMNS` fields, spelled
/// the way `DESCRIBE TABLE` does.
fn data_type_name(
    data_type: &str,
    length: Option<i64>,
    precision: Option<i64>,
    scale: Option<i64>,
    datetime_precision: Option<i64>,
) -> String {
    let upper = data_type.trim().to_uppercase();
    match upper.as_str() {
        "NUMBER" | "DECIMAL" | "NUMERIC" => match (precision, scale) {
            (Some(p), Some(s)) => format!("NUMBER({p},{s})"),
            (Some(p), None) => format!("NUMBER({p},0)"),
            _ => "NUMBER(38,0)".to_owned(),
        },
        "INT" | "INTEGER" | "BIGINT" | "SMALLINT" | "TINYINT" | "BYTEINT" => {
            "NUMBER(38,0)".to_owned()
        }
        "TEXT" | "VARCHAR" | "STRING" | "CHAR" | "CHARACTER" | "NCHAR" | "NVARCHAR" => match length
        {
            Some(l) => format!("VARCHAR({l})"),
            None => "VARCHAR".to_owned(),
        },
        "BINARY" | "VARBINARY" => match length {
            Some(l) => format!("BINARY({l})"),
            None => "BINARY".to_owned(),
        },
        "TIMESTAMP_NTZ" | "TIMESTAMP_LTZ" | "TIMESTAMP_TZ" | "TIME" => {
            match datetime_precision.or(scale) {
                Some(p) => format!("{upper}({p})"),
                None => upper,
            }
        }
        _ => upper,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_types_are_spelled_like_describe() {
        assert_eq!(
            data_type_name("NUMBER", None, Some(38), Some(0), None),
            "NUMBER(38,0)"
        );
        assert_eq!(
            data_type_name("NUMBER", None, Some(10), Some(2), None),
            "NUMBER(10,2)"
        );
        assert_eq!(
            data_type_name("INTEGER", None, Some(32), Some(0), None),
            "NUMBER(38,0)"
        );
        assert_eq!(
            data_type_name("TEXT", Some(16_777_216), None, None, None),
            "VARCHAR(16777216)"
        );
        assert_eq!(data_type_name("TEXT", None, None, None, None), "VARCHAR");
        assert_eq!(
            data_type_name("TIMESTAMP_NTZ", None, None, None, Some(9)),
            "TIMESTAMP_NTZ(9)"
        );
        assert_eq!(
            data_type_name("TIMESTAMP_TZ", None, None, None, None),
            "TIMESTAMP_TZ"
        );
        assert_eq!(
            data_type_name("BINARY", Some(8_388_608), None, None, None),
            "BINARY(8388608)"
        );
        assert_eq!(data_type_name("FLOAT", None, None, None, None), "FLOAT");
        assert_eq!(data_type_name("variant", None, None, None, None), "VARIANT");
        assert_eq!(data_type_name("BOOLEAN", None, None, None, None), "BOOLEAN");
    }

    fn info_row(schema: &str, table: &str, col: &str, ord: i64, ty: &str) -> Vec<Value> {
        vec![
            json!(schema),
            json!(table),
            json!(col),
            json!(ord),
            json!(ty),
            Value::Null,
            json!(38),
            json!(0),
        ]
    }

    fn info_columns() -> Vec<&'static str> {
        vec![
            "TABLE_SCHEMA",
            "TABLE_NAME",
            "COLUMN_NAME",
            "ORDINAL_POSITION",
            "DATA_TYPE",
            "CHARACTER_MAXIMUM_LENGTH",
            "NUMERIC_PRECISION",
            "NUMERIC_SCALE",
        ]
    }

    #[test]
    fn one_query_per_database_and_ordinal_order() {
        let mock = MockWarehouse::new();
        mock.on(
            "\"ANALYTICS\".INFORMATION_SCHEMA.COLUMNS",
            MockReply::rows(
                info_columns(),
                vec![
                    // Out of order on purpose: the result is sorted by ordinal.
                    info_row("MARTS", "USERS", "EMAIL", 2, "TEXT"),
                    info_row("MARTS", "USERS", "ID", 1, "NUMBER"),
                    info_row("STAGING", "EVENTS", "ID", 1, "NUMBER"),
                    // Same name in another case: exact spelling wins.
                    info_row("STAGING", "Events", "OTHER", 1, "TEXT"),
                ],
            ),
        );
        // Relation names compare case-insensitively, like the catalog's.
        let rels = vec![
            RelationName::new("analytics", "marts", "users"),
            RelationName::new("ANALYTICS", "STAGING", "EVENTS"),
            RelationName::new("analytics", "marts", "missing"),
            RelationName::new("raw", "s", "t"),
        ];
        let cols = introspect_columns(&mock, &rels).unwrap();
        assert_eq!(mock.count(), 2, "{:?}", mock.statements());
        assert_eq!(mock.count_containing("\"ANALYTICS\".INFORMATION_SCHEMA"), 1);
        assert_eq!(mock.count_containing("\"RAW\".INFORMATION_SCHEMA"), 1);
        assert_eq!(
            cols[&rels[0]],
            vec![
                ("ID".to_owned(), "NUMBER(38,0)".to_owned()),
                ("EMAIL".to_owned(), "VARCHAR".to_owned())
            ]
        );
        assert_eq!(cols[&rels[1]][0].0, "ID");
        assert!(!cols.contains_key(&rels[2]));
        assert!(!cols.contains_key(&rels[3]));

        let sql = &mock.statements()[0];
        assert!(sql.contains("UPPER(TABLE_SCHEMA) = 'MARTS'"), "{sql}");
        assert!(sql.contains("UPPER(TABLE_NAME) IN ('EVENTS')"), "{sql}");
        assert!(sql.ends_with("ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"));

        // Asked by its exact (quoted) spelling, the mixed-case table wins.
        let exact = RelationName::new("analytics", "staging", "Events");
        let cols = introspect_columns(&mock, std::slice::from_ref(&exact)).unwrap();
        assert_eq!(cols[&exact][0].0, "OTHER");
    }

    #[test]
    fn missing_information_schema_columns_are_a_protocol_error() {
        let mock = MockWarehouse::new();
        mock.on(
            "information_schema",
            MockReply::rows(["X"], vec![vec![json!(1)]]),
        );
        let err = introspect_columns(&mock, &[RelationName::new("d", "s", "t")]).unwrap_err();
        assert!(matches!(err, WarehouseError::Protocol { .. }), "{err}");
        // Errors of the warehouse pass through.
        let mock = MockWarehouse::new();
        mock.on(
            "information_schema",
            MockReply::sql_error("002003", "no db"),
        );
        let err = introspect_columns(&mock, &[RelationName::new("d", "s", "t")]).unwrap_err();
        assert!(matches!(err, WarehouseError::Sql { .. }), "{err}");
    }

    #[test]
    fn no_relations_no_queries() {
        let mock = MockWarehouse::new();
        assert!(introspect_columns(&mock, &[]).unwrap().is_empty());
        assert_eq!(mock.count(), 0);
    }

    #[test]
    fn relation_display() {
        assert_eq!(RelationName::new("D", "S", "T").to_string(), "D.S.T");
    }
}
