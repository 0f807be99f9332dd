//! Change tracking of sync tables: which sync models are tracked, by which
//! key, and the SQL that keeps, for every row, its key, a content hash and
//! its change time (the UTC time of the build in which its content last
//! changed), with a tombstone for every key that vanished.
//!
//! Everything here is a pure function of a model's sync type, output
//! columns and config: the `materialize` strategy of `execution` runs the
//! build statement; `reports::sync_query` prints the queries on the change
//! time; `execution::plan` runs the diff. Why one `CREATE OR REPLACE TABLE
//! … AS SELECT` (and not MERGE): see README, "How cio-sql keeps Customer.io
//! exact".

use crate::destinations::{Deletes, SyncType};
use crate::diagnostics::{Diagnostic, codes};
use crate::project::{Materialization, ModelConfig};
use crate::sql::quote;
use serde_json::Value;

/// Every bookkeeping column starts with this; no model column may.
pub const PREFIX: &str = "__cio_sql_";
/// The row's sync key, a canonical string of its key columns.
pub const KEY: &str = "__cio_sql_key";
/// SHA-256 of a canonical string of every Customer.io column of the row.
pub const HASH: &str = "__cio_sql_hash";
/// The UTC time (TIMESTAMP_NTZ) of the build in which the row last changed,
/// or in which its key vanished.
pub const CHANGED_AT: &str = "__cio_sql_changed_at";
/// TRUE for a tombstone: a key that vanished.
pub const DELETED: &str = "__cio_sql_deleted";
/// The bookkeeping columns, in the order they follow the model's columns.
pub const BOOKKEEPING: [&str; 4] = [KEY, HASH, CHANGED_AT, DELETED];

/// The placeholder Customer.io replaces with the time of the previous sync
/// (0 on the first run).
pub const LAST_SYNC_TIME: &str = "{{last_sync_time}}";

/// The project variable holding the overlap margin of the incremental query.
pub const OVERLAP_VAR: &str = "cio_sync_overlap_seconds";
/// The overlap margin when the project sets none: it must exceed the longest
/// change-tracking statement (see README).
pub const DEFAULT_OVERLAP_SECONDS: u64 = 300;
/// The share of a table's live rows a build may delete without
/// `--allow-mass-delete`, unless the model sets `cio_max_delete_share`.
pub const DEFAULT_MAX_DELETE_SHARE: f64 = 0.5;

/// The change time of a build: Snowflake's `SYSDATE()` is the current UTC
/// time as a TIMESTAMP_NTZ ("SYSDATE", <https://docs.snowflake.com/en/sql-reference/functions/sysdate>),
/// the same on the emulator; `CURRENT_TIMESTAMP()` would be an LTZ (a TZ on
/// the emulator).
const NOW: &str = "SYSDATE()";

/// How one sync model is tracked.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracking {
    /// Its sync type.
    pub sync_type: SyncType,
    /// Its Customer.io columns (stored names), in order: what the sync
    /// queries select.
    pub columns: Vec<String>,
    /// The key: each part the first non-NULL of its columns.
    pub key: Vec<Vec<String>>,
    /// Whether its tombstones feed a delete sync.
    pub deletes: bool,
    /// The share of live rows a build may delete without `--allow-mass-delete`.
    pub max_delete_share: f64,
}

/// The delete event of a sync type, from the registry
/// ([`crate::destinations::Deletes`]; for Customer.io its semantic delete
/// events, see README; source: "Semantic events",
/// <https://docs.customer.io/integrations/data-in/semantic-events/cio-journeys.md>
/// and the Pipelines API's "Deletions, suppressions, and other semantic
/// events", <https://docs.customer.io/integrations/api/cdp/>).
fn delete_event(sync_type: SyncType) -> Option<&'static Deletes> {
    sync_type.spec().deletes.as_ref()
}

fn flag(config: &ModelConfig, key: &str) -> Option<bool> {
    match config.values.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Whether model `config` asks for change tracking: a table (a view holds
/// no state between builds) that does not set `cio_change_tracking=false`.
pub fn wanted(config: &ModelConfig) -> bool {
    config.materialization() == Some(Materialization::Table)
        && flag(config, "cio_change_tracking") != Some(false)
}

/// How sync model `name` (at `path`) of type `sync_type` is tracked:
/// `Ok(None)` when it is not (a view, or `cio_change_tracking=false`);
/// `Err` when it cannot be: output columns not known (`columns` is `None`),
/// a column named like a bookkeeping column, no usable key (CIO170-172), a
/// bad `cio_max_delete_share` (CIO173).
pub fn tracking(
    name: &str,
    path: &str,
    sync_type: SyncType,
    columns: Option<&[String]>,
    config: &ModelConfig,
) -> Result<Option<Tracking>, Diagnostic> {
    if !wanted(config) {
        return Ok(None);
    }
    let err = |code, message: String, help: &str| {
        Err(Diagnostic::error(code, format!("{name}: {message}"))
            .for_model(name)
            .at_file(path)
            .with_help(help))
    };
    let Some(columns) = columns else {
        return err(
            codes::TRACKING_COLUMNS_UNKNOWN,
            "change tracking needs every output column named, and the model's columns cannot be worked out".into(),
            "alias every output column and declare the upstream relations' columns in catalog.yml, or set config(cio_change_tracking=false)",
        );
    };
    if let Some(c) = columns
        .iter()
        .find(|c| c.to_ascii_lowercase().starts_with(PREFIX))
    {
        return err(
            codes::TRACKING_NAME_TAKEN,
            format!(
                "column {c} starts with {PREFIX}, which cio-sql keeps for its bookkeeping columns"
            ),
            "rename the column",
        );
    }
    let key = match config.values.get("cio_key") {
        Some(value) => {
            let names: Vec<String> = match value {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            if names.is_empty() {
                return err(
                    codes::NO_SYNC_KEY,
                    format!("cio_key is {value}, not a column name or a list of them"),
                    "set config(cio_key=['event_id', 'userId']): the columns that identify a row",
                );
            }
            if let Some(missing) = names.iter().find(|n| !columns.contains(n)) {
                return err(
                    codes::NO_SYNC_KEY,
                    format!(
                        "cio_key names {missing}, which is not an output column ({})",
                        columns.join(", ")
                    ),
                    "set cio_key to the output columns that identify a row, spelled as stored (quoted names keep their case)",
                );
            }
            names.into_iter().map(|n| vec![n]).collect()
        }
        None => {
            let spec = sync_type.spec();
            if spec.key.is_empty() {
                return err(
                    codes::NO_SYNC_KEY,
                    format!(
                        "a {sync_type} sync model has no key of its own, so change tracking cannot tell its rows apart"
                    ),
                    "set config(cio_key=['event_id', 'userId']) to the columns that identify a row, or config(cio_change_tracking=false)",
                );
            }
            let mut parts = Vec::new();
            for part in spec.key {
                let present: Vec<String> = part
                    .iter()
                    .filter(|n| columns.iter().any(|c| c == *n))
                    .map(|n| n.to_string())
                    .collect();
                if present.is_empty() {
                    return err(
                        codes::NO_SYNC_KEY,
                        format!(
                            "change tracking keys a {sync_type} row by \"{}\", and the model has no such column",
                            part.join("\" or \"")
                        ),
                        "add the column (quoted, in this case), or set config(cio_key=[...]) to the columns that identify a row",
                    );
                }
                parts.push(present);
            }
            parts
        }
    };
    let max_delete_share = match config.values.get("cio_max_delete_share") {
        None => DEFAULT_MAX_DELETE_SHARE,
        Some(v) => match v.as_f64() {
            Some(share) if (0.0..=1.0).contains(&share) => share,
            _ => {
                return err(
                    codes::BAD_DELETE_SHARE,
                    format!("cio_max_delete_share is {v}, not a number from 0 to 1"),
                    "set config(cio_max_delete_share=0.5): the share of rows one build may delete",
                );
            }
        },
    };
    if config.values.contains_key(OVERLAP_VAR) {
        overlap_seconds(&serde_json::Map::new(), config)
            .map_err(|d| d.for_model(name).at_file(path))?;
    }
    Ok(Some(Tracking {
        sync_type,
        columns: columns.to_vec(),
        key,
        deletes: delete_event(sync_type).is_some() && flag(config, "cio_deletes") != Some(false),
        max_delete_share,
    }))
}

/// The overlap margin, in seconds: the model's `cio_sync_overlap_seconds`
/// config, else the project variable of that name (`--vars` overrides it),
/// else [`DEFAULT_OVERLAP_SECONDS`].
pub fn overlap_seconds(
    vars: &serde_json::Map<String, Value>,
    config: &ModelConfig,
) -> Result<u64, Diagnostic> {
    match config.values.get(OVERLAP_VAR).or_else(|| vars.get(OVERLAP_VAR)) {
        None | Some(Value::Null) => Ok(DEFAULT_OVERLAP_SECONDS),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| {
                Diagnostic::error(
                    codes::BAD_OVERLAP,
                    format!("{OVERLAP_VAR} is {v}, not a whole number of seconds"),
                )
                .with_help(format!(
                    "set vars: {{{OVERLAP_VAR}: 3600}} in dbt_project.yml or pass --vars '{{{OVERLAP_VAR}: 0}}'"
                ))
            }),
    }
}

/// `<n>:<text>` of a non-NULL value as text: the value's text prefixed
/// with its length, so pieces joined by any delimiter cannot be confused.
fn counted(expr: &str) -> String {
    format!("TO_VARCHAR(LENGTH(TO_VARCHAR({expr}))) || ':' || TO_VARCHAR({expr})")
}

/// A canonical piece of a hash string: [`counted`], or `~` for NULL.
fn piece(expr: &str) -> String {
    format!("IFF({expr} IS NULL, '~', {})", counted(expr))
}

fn col(alias: &str, name: &str) -> String {
    format!("{alias}.{}", quote(name))
}

impl Tracking {
    /// The key of a row of `alias`: each part its first non-NULL column,
    /// tagged with the column's name.
    fn key_sql(&self, alias: &str) -> String {
        self.key
            .iter()
            .map(|part| {
                let tagged: Vec<String> = part
                    .iter()
                    .map(|n| {
                        let c = col(alias, n);
                        format!(
                            "IFF({c} IS NULL, NULL, {} || {})",
                            crate::sql::string_literal(&format!("{n}=")),
                            counted(&c)
                        )
                    })
                    .collect();
                let first = if tagged.len() == 1 {
                    tagged.into_iter().next().unwrap_or_default()
                } else {
                    format!("COALESCE({})", tagged.join(", "))
                };
                format!("COALESCE({first}, '~')")
            })
            .collect::<Vec<_>>()
            .join(" || ',' || ")
    }

    /// SHA-256 of every column of a row of `alias` (never `HASH()`, which
    /// differs between engines and crashes the emulator).
    fn hash_sql(&self, alias: &str) -> String {
        let pieces: Vec<String> = self.columns.iter().map(|c| piece(&col(alias, c))).collect();
        format!("SHA2({}, 256)", pieces.join(" || ',' || "))
    }

    /// The model's rows with their key and hash: a CTE body over `sql`.
    fn new_rows(&self, sql: &str) -> String {
        format!(
            "SELECT m.*, {} AS {}, {} AS {}\n    FROM (\n{sql}\n    ) AS m",
            self.key_sql("m"),
            quote(KEY),
            self.hash_sql("m"),
            quote(HASH)
        )
    }

    fn column_list(&self, alias: &str) -> String {
        self.columns
            .iter()
            .map(|c| col(alias, c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The one statement that builds `relation` from the model's `sql`.
    /// `previous` is the columns of the table as it is, when it exists with
    /// bookkeeping columns; `None` for a first build, which marks every row
    /// new.
    pub fn build_sql(&self, relation: &str, sql: &str, previous: Option<&[String]>) -> String {
        let (key, hash, changed, deleted) =
            (quote(KEY), quote(HASH), quote(CHANGED_AT), quote(DELETED));
        let new_rows = self.new_rows(sql);
        let Some(previous) = previous else {
            return format!(
                "CREATE OR REPLACE TABLE {relation} AS\nWITH \"__cio_sql_new\" AS (\n    {new_rows}\n)\nSELECT {}, n.{key}, n.{hash}, {NOW} AS {changed}, FALSE AS {deleted}\nFROM \"__cio_sql_new\" AS n",
                self.column_list("n")
            );
        };
        // A tombstone keeps the previous values of the columns the table had.
        let kept: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                if previous.iter().any(|p| p == c) {
                    format!("p.{}", quote(c))
                } else {
                    format!("NULL AS {}", quote(c))
                }
            })
            .collect();
        format!(
            "CREATE OR REPLACE TABLE {relation} AS\n\
WITH \"__cio_sql_new\" AS (\n    {new_rows}\n),\n\
\"__cio_sql_previous\" AS (\n    SELECT * FROM {relation}\n),\n\
\"__cio_sql_live\" AS (\n    SELECT {key}, {hash}, MIN({changed}) AS {changed}\n    FROM \"__cio_sql_previous\"\n    WHERE NOT {deleted}\n    GROUP BY {key}, {hash}\n)\n\
-- Unchanged rows keep their change time; new and changed rows get this build's.\n\
SELECT {}, n.{key}, n.{hash}, COALESCE(l.{changed}, {NOW}) AS {changed}, FALSE AS {deleted}\n\
FROM \"__cio_sql_new\" AS n\n\
LEFT JOIN \"__cio_sql_live\" AS l ON l.{key} = n.{key} AND l.{hash} = n.{hash}\n\
UNION ALL\n\
-- Keys that vanished: tombstones, dated when they vanished.\n\
SELECT {}, p.{key}, p.{hash}, IFF(p.{deleted}, p.{changed}, {NOW}) AS {changed}, TRUE AS {deleted}\n\
FROM \"__cio_sql_previous\" AS p\n\
WHERE NOT EXISTS (SELECT 1 FROM \"__cio_sql_new\" AS n WHERE n.{key} = p.{key})",
            self.column_list("n"),
            kept.join(", "),
        )
    }

    /// The model's rows and the previous table's keys, each with its kind
    /// (`new`, `changed`, `unchanged`, `deleted`) and key, as a `WITH`
    /// ending in the CTE `"__cio_sql_kinds"` (`kind`, `key`); `previous`:
    /// the table exists with bookkeeping columns. The kinds are those
    /// [`Tracking::build_sql`] gives the same rows.
    fn kinds_sql(&self, relation: &str, sql: &str, previous: bool) -> String {
        let (key, hash, deleted) = (quote(KEY), quote(HASH), quote(DELETED));
        let new_rows = self.new_rows(sql);
        if !previous {
            return format!(
                "WITH \"__cio_sql_new\" AS (\n    {new_rows}\n),\n\"__cio_sql_kinds\" AS (\n    SELECT 'new' AS \"kind\", n.{key} AS \"key\" FROM \"__cio_sql_new\" AS n\n)\n"
            );
        }
        format!(
            "WITH \"__cio_sql_new\" AS (\n    {new_rows}\n),\n\
\"__cio_sql_live\" AS (\n    SELECT DISTINCT {key}, {hash} FROM {relation} WHERE NOT {deleted}\n),\n\
\"__cio_sql_live_keys\" AS (\n    SELECT DISTINCT {key} FROM \"__cio_sql_live\"\n),\n\
\"__cio_sql_kinds\" AS (\n    SELECT CASE WHEN u.{key} IS NOT NULL THEN 'unchanged' WHEN k.{key} IS NOT NULL THEN 'changed' ELSE 'new' END AS \"kind\", n.{key} AS \"key\"\n    FROM \"__cio_sql_new\" AS n\n    LEFT JOIN \"__cio_sql_live\" AS u ON u.{key} = n.{key} AND u.{hash} = n.{hash}\n    LEFT JOIN \"__cio_sql_live_keys\" AS k ON k.{key} = n.{key}\n    UNION ALL\n    SELECT 'deleted' AS \"kind\", k.{key} AS \"key\"\n    FROM \"__cio_sql_live_keys\" AS k\n    WHERE NOT EXISTS (SELECT 1 FROM \"__cio_sql_new\" AS n WHERE n.{key} = k.{key})\n    UNION ALL\n    SELECT 'previous' AS \"kind\", k.{key} AS \"key\" FROM \"__cio_sql_live_keys\" AS k\n)\n"
        )
    }

    /// How many rows of each kind a build would give (`kind`, `n`; the
    /// kind `previous` counts the live keys of the table as it is).
    pub fn diff_counts_sql(&self, relation: &str, sql: &str, previous: bool) -> String {
        format!(
            "{}SELECT \"kind\", COUNT(*) AS \"n\"\nFROM \"__cio_sql_kinds\"\nGROUP BY \"kind\"",
            self.kinds_sql(relation, sql, previous)
        )
    }

    /// Up to `rows` keys of each kind (`kind`, `key`).
    pub fn diff_sample_sql(
        &self,
        relation: &str,
        sql: &str,
        previous: bool,
        rows: usize,
    ) -> String {
        format!(
            "{}SELECT \"kind\", \"key\"\nFROM \"__cio_sql_kinds\"\nWHERE \"kind\" <> 'previous'\nQUALIFY ROW_NUMBER() OVER (PARTITION BY \"kind\" ORDER BY \"key\") <= {rows}\nORDER BY \"kind\", \"key\"",
            self.kinds_sql(relation, sql, previous)
        )
    }

    fn since(overlap: u64) -> String {
        let cursor = format!("TO_TIMESTAMP_NTZ({LAST_SYNC_TIME})");
        if overlap == 0 {
            cursor
        } else {
            format!("DATEADD(second, -{overlap}, {cursor})")
        }
    }

    /// The incremental query of the sync: the Customer.io columns of the
    /// live rows that changed after the previous sync (less `overlap`
    /// seconds).
    pub fn incremental_query(&self, relation: &str, overlap: u64) -> String {
        format!(
            "SELECT {}\nFROM {relation}\nWHERE NOT {}\n  AND {} > {}",
            self.quoted_columns(),
            quote(DELETED),
            quote(CHANGED_AT),
            Self::since(overlap)
        )
    }

    /// Every live row, once.
    pub fn backfill_query(&self, relation: &str) -> String {
        format!(
            "SELECT {}\nFROM {relation}\nWHERE NOT {}",
            self.quoted_columns(),
            quote(DELETED)
        )
    }

    fn quoted_columns(&self) -> String {
        self.columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The query of the delete sync (a Track sync of Customer.io's semantic
    /// delete event), when the model has deletes.
    pub fn delete_query(&self, relation: &str, overlap: u64) -> Option<String> {
        let Some(Deletes::Event { event, columns }) =
            delete_event(self.sync_type).filter(|_| self.deletes)
        else {
            return None;
        };
        let mut items: Vec<String> = columns
            .iter()
            .map(|(to, from)| format!("{} AS {}", quote(from), quote(to)))
            .collect();
        items.push(format!(
            "{} AS \"event\"",
            crate::sql::string_literal(event)
        ));
        items.push(format!("{} AS \"timestamp\"", quote(CHANGED_AT)));
        let mut needed: Vec<String> = Vec::new();
        for (_, from) in *columns {
            let test = format!("\n  AND {} IS NOT NULL", quote(from));
            if !needed.contains(&test) {
                needed.push(test);
            }
        }
        Some(format!(
            "SELECT {}\nFROM {relation}\nWHERE {}\n  AND {} > {}{}",
            items.join(", "),
            quote(DELETED),
            quote(CHANGED_AT),
            Self::since(overlap),
            needed.concat()
        ))
    }
}
