//! `cio`: helpers the built-in macros call where Jinja would be contorted —
//! case-insensitive column matching, trait selection with renames and
//! ignores, collision checks, quoting. Each returns plain values, so a macro
//! stays a readable SQL template.

use super::HelperError;
use super::args::{describe, name_map, string_list};
use super::objects::{ColumnList, ColumnValue, column_from_value};
use super::state::{RenderState, Warning};
use crate::diagnostics::codes;
use crate::sql;
use crate::sql::{Column, is_text_type};
use crate::suggest;
use minijinja::value::{Kwargs, Object, Value, ValueKind, from_args};
use minijinja::{Error, ErrorKind, State};
use std::sync::Arc;

/// The `cio` helper object.
#[derive(Debug)]
pub struct Helpers;

impl Object for Helpers {
    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "ident" => {
                let (name,): (String,) = from_args(args)?;
                Ok(Value::from(sql::identifier(&name)))
            }
            "alias" => {
                let (name,): (String,) = from_args(args)?;
                Ok(Value::from(sql::quote(&name)))
            }
            "literal" => {
                let (value,): (Value,) = from_args(args)?;
                let text = match value.as_str() {
                    Some(s) => s.to_string(),
                    None => value.to_string(),
                };
                Ok(Value::from(sql::string_literal(&text)))
            }
            "column" => {
                let (columns, name, kwargs): (Value, Value, Kwargs) = from_args(args)?;
                let argument: Option<String> = kwargs.get("argument")?;
                let relation: Option<Value> = kwargs.get("relation")?;
                let default: Option<String> = kwargs.get("default")?;
                let role: Option<String> = kwargs.get("role")?;
                kwargs.assert_all_used()?;
                let columns = columns_of(&columns)?;
                let argument = argument.unwrap_or_else(|| "column".into());
                let name = expect_string(&name, &argument)?;
                if default.as_deref() == Some(name.as_str()) || role.is_some() && default.is_none()
                {
                    if let Some(col) = find_column(&columns, &name) {
                        return Ok(Value::from_object(ColumnValue(col.clone())));
                    }
                    let role = role.unwrap_or_else(|| format!("the `{argument}` column"));
                    return Err(missing_internal(
                        &columns,
                        &name,
                        &role,
                        default.is_some().then_some(argument.as_str()),
                        relation.as_ref(),
                    ));
                }
                let col = find_or_fail(&columns, &name, &argument, relation.as_ref())?;
                Ok(Value::from_object(ColumnValue(col.clone())))
            }
            "id_expression" => {
                let (columns, expr, kwargs): (Value, Value, Kwargs) = from_args(args)?;
                let argument: Option<String> = kwargs.get("argument")?;
                let relation: Option<Value> = kwargs.get("relation")?;
                kwargs.assert_all_used()?;
                let argument = argument.unwrap_or_else(|| "user_id_column".into());
                let columns = columns_of(&columns)?;
                let expr = expect_string(&expr, &argument)?;
                id_expression(&columns, &expr, &argument, relation.as_ref())
            }
            "select_expr" => {
                let (column,): (Value,) = from_args(args)?;
                let col = column_arg(&column)?;
                Ok(Value::from(select_expr(&col)))
            }
            "dedupe_key" => {
                let (column,): (Value,) = from_args(args)?;
                let col = column_arg(&column)?;
                let ident = col.identifier();
                Ok(Value::from(if is_text_type(&col.data_type) {
                    format!("LOWER(TRIM({ident}))")
                } else {
                    ident
                }))
            }
            "traits" => {
                let (columns, kwargs): (Value, Kwargs) = from_args(args)?;
                traits(state, &columns, &kwargs)
            }
            _ => super::sync_helpers::call(state, method, args)
                .or_else(|| super::meta_hash::call(method, args))
                .unwrap_or_else(|| Err(Error::from(ErrorKind::UnknownMethod))),
        }
    }
}

/// The select-list expression of a column: timestamps as UTC
/// `TIMESTAMP_NTZ` (see [`crate::sql::utc_timestamp`]), everything
/// else as the identifier.
pub fn select_expr(col: &Column) -> String {
    let ident = col.identifier();
    crate::sql::utc_timestamp(&ident, &col.data_type).unwrap_or(ident)
}

/// The columns in a template value: the shared list behind
/// `adapter.get_columns_in_relation(...)` as is, or any list of columns.
pub(super) fn columns_of(value: &Value) -> Result<Arc<[Column]>, Error> {
    if let Some(list) = value.downcast_object_ref::<ColumnList>() {
        return Ok(list.0.clone());
    }
    let iter = value.try_iter().map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "expected the list from adapter.get_columns_in_relation(...)",
        )
    })?;
    iter.map(|v| column_arg(&v)).collect()
}

fn column_arg(value: &Value) -> Result<Column, Error> {
    column_from_value(value).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("expected a column, got {}", value.kind()),
        )
    })
}

fn expect_string(value: &Value, argument: &str) -> Result<String, Error> {
    match value.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(HelperError::new(
            codes::BAD_ARGUMENT,
            format!(
                "`{argument}` must be a column name or SQL expression, got {}",
                describe(value)
            ),
            format!("pass a string, e.g. {argument}='email'"),
        )
        .at_argument(argument)
        .into()),
    }
}

fn relation_label(relation: Option<&Value>) -> String {
    relation
        .map(|r| r.to_string())
        .unwrap_or_else(|| "the relation".to_string())
}

/// Finds `name` among `columns`, case-insensitively.
pub fn find_column<'a>(columns: &'a [Column], name: &str) -> Option<&'a Column> {
    let name = name.trim().trim_matches('"');
    columns
        .iter()
        .find(|c| c.name == name)
        .or_else(|| columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)))
}

fn find_or_fail<'a>(
    columns: &'a [Column],
    name: &str,
    argument: &str,
    relation: Option<&Value>,
) -> Result<&'a Column, Error> {
    find_column(columns, name).ok_or_else(|| {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let hint = suggest::did_you_mean(name, names.iter().copied());
        HelperError::new(
            codes::NOT_A_COLUMN,
            format!(
                "`{argument}` is `{name}`, which is not a column of {}",
                relation_label(relation)
            ),
            if hint.is_empty() {
                format!("use one of its columns: {}", names.join(", "))
            } else {
                format!("{hint} Its columns are: {}", names.join(", "))
            },
        )
        .at_argument(argument)
        .into()
    })
}

/// CIO121 for a column a macro relies on under its default name (or a
/// fixed one, when `argument` is none) that the relation lacks: the fix is
/// to add the column to the catalog, or to name the warehouse's column.
fn missing_internal(
    columns: &[Column],
    name: &str,
    role: &str,
    argument: Option<&str>,
    relation: Option<&Value>,
) -> Error {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let relation = relation_label(relation);
    // Only a column that is plainly the same one under another spelling
    // (`updated_at` for `_updated_at`): any similar name would mislead
    // (`entity_id` is not the entity type column).
    let bare = |n: &str| n.replace('_', "").to_lowercase();
    let near = names.iter().find(|n| {
        let (a, b) = (bare(n), bare(name));
        a == b || a.contains(&b) || b.contains(&a)
    });
    let help = match (argument, near) {
        (Some(arg), Some(close)) => format!(
            "add `{name}` to {relation} in catalog.yml (or pass {arg}= if your column has another name, e.g. {arg}='{close}')"
        ),
        (Some(arg), None) => format!(
            "add `{name}` to {relation} in catalog.yml (or pass {arg}= if your column has another name)"
        ),
        (None, _) => format!("add `{name}` to {relation} in catalog.yml"),
    };
    let error = HelperError::new(
        codes::NOT_A_COLUMN,
        format!("{relation} has no column `{name}` ({role})"),
        format!("{help}; its columns are: {}", names.join(", ")),
    );
    match argument {
        Some(arg) => error.at_argument(arg),
        None => error,
    }
    .into()
}

/// `user_id_column` and friends: a bare identifier must be a column (and is
/// quoted when the catalog spells it mixed-case); any other text is a SQL
/// expression pasted as written.
fn id_expression(
    columns: &[Column],
    expr: &str,
    argument: &str,
    relation: Option<&Value>,
) -> Result<Value, Error> {
    let trimmed = expr.trim();
    if sql::is_bare_identifier(trimmed) {
        let col = find_or_fail(columns, trimmed, argument, relation)?;
        let ident = col.identifier();
        let sql_text = if !col.quoted && sql::writes_unquoted(&col.name) {
            trimmed.to_string()
        } else {
            ident
        };
        Ok(Value::from(minijinja::value::Serde(serde_json::json!({
            "sql": sql_text,
            "column": col.name,
            "is_column": true,
        }))))
    } else {
        Ok(Value::from(minijinja::value::Serde(serde_json::json!({
            "sql": trimmed,
            "column": null,
            "is_column": false,
        }))))
    }
}

/// One trait (or property) of the output.
#[derive(Debug, Clone, serde::Serialize)]
struct TraitOut {
    /// The catalog column.
    column: String,
    /// Its normalised type.
    data_type: String,
    /// The select-list expression.
    expr: String,
    /// The output name (unquoted).
    name: String,
    /// The output name quoted, ready for `AS`.
    alias: String,
    /// Whether the name comes from a rename.
    renamed: bool,
}

/// `cio.traits(columns, exclude=[], ignore=[], rename={}, default_rename={},
/// outputs={}, ignore_argument='ignore_traits', rename_argument='rename_traits',
/// relation=rel)`.
///
/// Every column not excluded or ignored becomes a trait named by its lower-case
/// name or its rename target. `outputs` maps the macro's fixed output names
/// (`userId`, `timestamp`) to a description of their source, for the collision
/// check. Ignore or rename keys that match no column raise warnings.
fn traits(state: &mut State<'_, '_>, columns: &Value, kwargs: &Kwargs) -> Result<Value, Error> {
    let columns = columns_of(columns)?;
    let exclude = string_list(kwargs, "exclude", "exclude")?;
    let ignore_arg: String = kwargs
        .get::<Option<String>>("ignore_argument")?
        .unwrap_or_else(|| "ignore_traits".into());
    let rename_arg: String = kwargs
        .get::<Option<String>>("rename_argument")?
        .unwrap_or_else(|| "rename_traits".into());
    let ignore = string_list(kwargs, "ignore", &ignore_arg)?;
    let renames = "column names to new names";
    let example = "{'first_name': 'firstName'}";
    let default_rename = name_map(kwargs, "default_rename", "default_rename", renames, example)?;
    let rename = name_map(kwargs, "rename", &rename_arg, renames, example)?;
    let relation: Option<Value> = kwargs.get("relation")?;
    let outputs: Option<Value> = kwargs.get("outputs")?;
    kwargs.assert_all_used()?;

    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let mut warnings = Vec::new();
    for key in &ignore {
        if find_column(&columns, key).is_none() {
            warnings.push((
                format!(
                    "{ignore_arg} lists `{key}`, which is not a column of {}",
                    relation_label(relation.as_ref())
                ),
                suggest::did_you_mean(key, names.iter().copied()),
            ));
        }
    }
    for (key, _) in &rename {
        if find_column(&columns, key).is_none() {
            warnings.push((
                format!(
                    "{rename_arg} renames `{key}`, which is not a column of {}",
                    relation_label(relation.as_ref())
                ),
                suggest::did_you_mean(key, names.iter().copied()),
            ));
        }
        if ignore.iter().any(|i| i.eq_ignore_ascii_case(key)) {
            warnings.push((
                format!("`{key}` is both in {ignore_arg} and in {rename_arg}; it is ignored"),
                format!("remove it from one of {ignore_arg} and {rename_arg}"),
            ));
        }
    }

    // The effective rename: defaults, then the analyst's, which win.
    let rename_for = |col: &str| -> Option<String> {
        rename
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(col))
            .or_else(|| {
                default_rename
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(col))
            })
            .map(|(_, v)| v.clone())
    };

    let mut out = Vec::new();
    for col in columns.iter() {
        let excluded = exclude.iter().any(|e| e.eq_ignore_ascii_case(&col.name));
        let ignored = ignore.iter().any(|e| e.eq_ignore_ascii_case(&col.name));
        if excluded || ignored {
            continue;
        }
        let (name, renamed) = match rename_for(&col.name) {
            Some(target) => (target, true),
            None => (col.name.to_lowercase(), false),
        };
        out.push(TraitOut {
            column: col.name.clone(),
            data_type: col.data_type.clone(),
            expr: select_expr(col),
            alias: sql::quote(&name),
            name,
            renamed,
        });
    }

    // Collisions: fixed outputs first, then traits in order.
    let mut taken: Vec<(String, String)> = Vec::new();
    if let Some(outputs) = outputs.as_ref().filter(|o| o.kind() == ValueKind::Map) {
        for key in outputs.try_iter()? {
            let source = outputs.get_item(&key)?;
            taken.push((key.to_string(), source.to_string()));
        }
    }
    for t in &out {
        let source = if t.renamed {
            format!("column {} (renamed by {rename_arg})", t.column)
        } else {
            format!("column {}", t.column)
        };
        if let Some((_, first)) = taken.iter().find(|(n, _)| n.eq_ignore_ascii_case(&t.name)) {
            return Err(HelperError::new(
                codes::COLUMN_COLLISION,
                format!(
                    "two output columns would be named \"{}\": {first} and {source}",
                    t.name
                ),
                format!(
                    "Customer.io attribute names must be unique: rename one of them with {rename_arg}, or add one to {ignore_arg}"
                ),
            )
            .at_argument(if t.renamed { &rename_arg } else { "" })
            .into());
        }
        taken.push((t.name.clone(), source));
    }

    let rs = state.get_or_insert_extension_with(RenderState::default);
    let call = rs.calls.last().cloned();
    for (message, hint) in warnings {
        rs.warnings.push(Warning {
            code: if message.contains("both in") {
                codes::IGNORED_AND_RENAMED
            } else {
                codes::UNMATCHED_KEY
            },
            message,
            help: (!hint.is_empty()).then_some(hint),
            call: call.clone(),
        });
    }
    Ok(Value::from(minijinja::value::Serde(&out)))
}
