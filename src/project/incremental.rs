//! The configuration of an incremental model (`materialized='incremental'`):
//! `unique_key`, `incremental_strategy`, `on_schema_change` and
//! `full_refresh`, read and checked once at compile time; the statements
//! are `execution::incremental`'s.
//!
//! The values and defaults are dbt-snowflake's: `merge` is the default
//! strategy ("default" names it too), `ignore` the default
//! `on_schema_change`; a model's `full_refresh` config beats the
//! `--full-refresh` flag
//! (<https://docs.getdbt.com/docs/build/incremental-strategy>,
//! <https://docs.getdbt.com/docs/build/incremental-models#what-if-the-columns-of-my-incremental-model-change>,
//! <https://docs.getdbt.com/reference/resource-configs/full_refresh>).
//! Unlike dbt-snowflake, `merge` without `unique_key` is an error rather
//! than a silent append: write `incremental_strategy='append'` for that.

use super::ModelConfig;
use serde_json::Value;

/// How the new rows of an incremental run reach the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `MERGE` on `unique_key`: matched rows updated, others inserted.
    Merge,
    /// `INSERT` of every new row.
    Append,
    /// `DELETE` the rows whose key is among the new rows, then `INSERT`
    /// them, in one transaction.
    DeleteInsert,
}

impl Strategy {
    /// Every strategy, as `incremental_strategy` spells it.
    pub const NAMES: [(&'static str, Strategy); 3] = [
        ("merge", Strategy::Merge),
        ("append", Strategy::Append),
        ("delete+insert", Strategy::DeleteInsert),
    ];

    /// Its `incremental_strategy` value.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("merge")
    }
}

/// What an incremental run does when the new rows' columns differ from
/// the table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSchemaChange {
    /// Keep the table's columns: new columns are not loaded.
    Ignore,
    /// Stop the run, the table unchanged.
    Fail,
    /// Add the new columns; never drop or retype one.
    AppendNewColumns,
    /// Add new columns, drop removed ones, retype changed ones.
    SyncAllColumns,
}

impl OnSchemaChange {
    /// Every mode, as `on_schema_change` spells it.
    pub const NAMES: [(&'static str, OnSchemaChange); 4] = [
        ("ignore", OnSchemaChange::Ignore),
        ("fail", OnSchemaChange::Fail),
        ("append_new_columns", OnSchemaChange::AppendNewColumns),
        ("sync_all_columns", OnSchemaChange::SyncAllColumns),
    ];
}

/// An incremental model's checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncrementalConfig {
    /// `incremental_strategy`.
    pub strategy: Strategy,
    /// `unique_key`: column names, empty when not set.
    pub unique_key: Vec<String>,
    /// `on_schema_change`.
    pub on_schema_change: OnSchemaChange,
    /// The model's `full_refresh` config, which beats `--full-refresh`.
    pub full_refresh: Option<bool>,
}

impl IncrementalConfig {
    /// Whether a run rebuilds the table, given `--full-refresh`.
    pub fn rebuilds(&self, full_refresh_flag: bool) -> bool {
        self.full_refresh.unwrap_or(full_refresh_flag)
    }
}

/// A bad value of an incremental config key: which key, what is wrong,
/// and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The config key.
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

fn problem(key: &'static str, message: String, help: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        key,
        message,
        help: help.into(),
    }
}

fn names<T>(list: &[(&str, T)]) -> String {
    list.iter()
        .map(|(n, _)| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the incremental keys of `config`.
pub fn incremental_config(config: &ModelConfig) -> Result<IncrementalConfig, ConfigProblem> {
    let values = &config.values;
    let text = |key: &'static str| -> Result<Option<String>, ConfigProblem> {
        match values.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(other) => Err(problem(
                key,
                format!("{key} must be a string, not {other}"),
                format!("write {key}='…' in config(...)"),
            )),
        }
    };
    let strategy = match text("incremental_strategy")?.as_deref() {
        None | Some("default") => Strategy::Merge,
        Some(name) => Strategy::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, s)| *s)
            .ok_or_else(|| {
                let unsupported = matches!(name, "insert_overwrite" | "microbatch");
                problem(
                    "incremental_strategy",
                    if unsupported {
                        format!("incremental_strategy='{name}' is not supported by cio-sql yet")
                    } else {
                        format!("incremental_strategy='{name}' is not a strategy")
                    },
                    format!(
                        "use one of {} (merge is the default)",
                        names(&Strategy::NAMES)
                    ),
                )
            })?,
    };
    let on_schema_change = match text("on_schema_change")?.as_deref() {
        None => OnSchemaChange::Ignore,
        Some(name) => OnSchemaChange::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                problem(
                    "on_schema_change",
                    format!("on_schema_change='{name}' is not a mode"),
                    format!(
                        "use one of {} (ignore is the default)",
                        names(&OnSchemaChange::NAMES)
                    ),
                )
            })?,
    };
    let key_help = "set unique_key to a column name or a list of column names, e.g. unique_key='id' or unique_key=['id', 'day']";
    let unique_key: Vec<String> = match values.get("unique_key") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.trim().to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(problem(
                    "unique_key",
                    format!("unique_key lists {other}, which is not a column name"),
                    key_help,
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(problem(
                "unique_key",
                format!("unique_key must be a column name or a list of them, not {other}"),
                key_help,
            ));
        }
    };
    if let Some(bad) = unique_key
        .iter()
        .find(|k| !crate::sql::is_plain_identifier(k))
    {
        return Err(problem(
            "unique_key",
            format!("unique_key '{bad}' is not a plain column name"),
            "name the key columns themselves (compute an expression as a column of the model and name that column)",
        ));
    }
    if strategy == Strategy::Merge && unique_key.is_empty() {
        return Err(problem(
            "unique_key",
            "an incremental model with incremental_strategy 'merge' (the default) needs a unique_key".into(),
            "set unique_key='<column>' (or a list of columns) in config(...), or incremental_strategy='append' to insert every new row",
        ));
    }
    let full_refresh = match values.get("full_refresh") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            return Err(problem(
                "full_refresh",
                format!("full_refresh must be true or false, not {other}"),
                "write full_refresh=false to keep the table on --full-refresh, or remove it",
            ));
        }
    };
    Ok(IncrementalConfig {
        strategy,
        unique_key,
        on_schema_change,
        full_refresh,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> ModelConfig {
        let mut c = ModelConfig::default();
        c.values
            .insert("materialized".into(), Value::String("incremental".into()));
        for (k, v) in pairs {
            c.values.insert(k.to_string(), v.clone());
        }
        c
    }

    #[test]
    fn defaults_are_dbt_snowflakes() {
        let c = incremental_config(&config(&[("unique_key", "id".into())])).unwrap();
        assert_eq!(c.strategy, Strategy::Merge);
        assert_eq!(c.unique_key, vec!["id"]);
        assert_eq!(c.on_schema_change, OnSchemaChange::Ignore);
        assert!(c.rebuilds(true) && !c.rebuilds(false));
        let c = incremental_config(&config(&[
            ("unique_key", serde_json::json!(["a", "b"])),
            ("incremental_strategy", "delete+insert".into()),
            ("on_schema_change", "sync_all_columns".into()),
            ("full_refresh", false.into()),
        ]))
        .unwrap();
        assert_eq!(c.strategy, Strategy::DeleteInsert);
        assert_eq!(c.unique_key, vec!["a", "b"]);
        assert_eq!(c.on_schema_change, OnSchemaChange::SyncAllColumns);
        assert!(!c.rebuilds(true), "full_refresh=false beats the flag");
        let c = incremental_config(&config(&[("incremental_strategy", "append".into())])).unwrap();
        assert!(c.unique_key.is_empty());
    }

    #[test]
    fn bad_values_name_their_key_and_fix() {
        let err = |pairs: &[(&str, Value)]| incremental_config(&config(pairs)).unwrap_err();
        let e = err(&[]);
        assert_eq!(e.key, "unique_key");
        assert!(e.help.contains("incremental_strategy='append'"), "{e:?}");
        let e = err(&[
            ("unique_key", "id".into()),
            ("incremental_strategy", "upsert".into()),
        ]);
        assert_eq!(e.key, "incremental_strategy");
        assert!(e.help.contains("'delete+insert'"), "{e:?}");
        let e = err(&[
            ("unique_key", "id".into()),
            ("incremental_strategy", "microbatch".into()),
        ]);
        assert!(e.message.contains("not supported by cio-sql yet"), "{e:?}");
        let e = err(&[
            ("unique_key", "id".into()),
            ("on_schema_change", "drop".into()),
        ]);
        assert_eq!(e.key, "on_schema_change");
        assert!(e.help.contains("'append_new_columns'"), "{e:?}");
        assert_eq!(err(&[("unique_key", "id || day".into())]).key, "unique_key");
        assert_eq!(
            err(&[("unique_key", serde_json::json!([1]))]).key,
            "unique_key"
        );
        assert_eq!(
            err(&[("unique_key", "id".into()), ("full_refresh", "no".into())]).key,
            "full_refresh"
        );
    }
}
