//! `cio` helpers for the track, objects and relationships macros: the
//! required object type id, the people model, literal lists, qualified
//! column expressions and relationship attributes. [`call`] is reached from
//! the `cio` object for every method it does not handle itself.

use super::HelperError;
use super::args::{describe, name_map, strings};
use super::objects::{Adapter, ColumnValue, column_from_value};
use super::state::{RenderState, Warning};
use crate::diagnostics::codes;
use crate::sql;
use crate::suggest;
use minijinja::value::{Kwargs, Value, ValueKind, from_args};
use minijinja::{Error, ErrorKind, State};

/// Dispatches `cio.<method>(...)` for the sync-type helpers; `None` when
/// `method` is not one of them.
pub(super) fn call(
    state: &mut State<'_, '_>,
    method: &str,
    args: &[Value],
) -> Option<Result<Value, Error>> {
    Some(match method {
        "object_type_id" => {
            from_args(args).and_then(|(value, kwargs)| object_type_id(&value, &kwargs))
        }
        "people_model" => {
            from_args(args).and_then(|(value, kwargs)| people_model(state, &value, &kwargs))
        }
        "literals" => from_args(args).and_then(|(value, kwargs)| literals(&value, &kwargs)),
        "qualified" => from_args(args).and_then(|(item, alias)| qualified(&item, alias)),
        "utc" => from_args(args).map(|(expr, data_type): (String, String)| utc(&expr, &data_type)),
        "relationship_attributes" => from_args(args).and_then(|(definitions, kwargs)| {
            relationship_attributes(state, &definitions, &kwargs)
        }),
        _ => return None,
    })
}

/// Reads the optional `argument=` keyword, with a default.
fn argument_name(kwargs: &Kwargs, default: &str) -> Result<String, Error> {
    Ok(kwargs
        .get::<Option<String>>("argument")?
        .unwrap_or_else(|| default.to_string()))
}

fn is_missing(value: &Value) -> bool {
    value.is_none() || value.is_undefined() || value.as_str().is_some_and(|s| s.trim().is_empty())
}

/// `cio.object_type_id(value, argument='object_type_id')`: the Customer.io
/// object type id as a SQL string literal (`'1'`).
///
/// The id is required (CIO140) and must be a positive whole number, given as
/// a number or a string (CIO141): Customer.io numbers object types 1, 2, 3…
fn object_type_id(value: &Value, kwargs: &Kwargs) -> Result<Value, Error> {
    let argument = argument_name(kwargs, "object_type_id")?;
    kwargs.assert_all_used()?;
    if is_missing(value) {
        return Err(HelperError::new(
            codes::OBJECT_TYPE_MISSING,
            format!("`{argument}` is required: the id of the Customer.io object type these rows belong to"),
            format!(
                "pass the id Customer.io gave the object type (a number), e.g. {argument}='1'"
            ),
        )
        .at_argument(&argument)
        .into());
    }
    let text = match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().trim().to_string(),
        ValueKind::Number => value.to_string(),
        _ => String::new(),
    };
    let valid = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit())
        && !text.trim_start_matches('0').is_empty();
    if !valid {
        return Err(HelperError::new(
            codes::OBJECT_TYPE_NOT_NUMBER,
            format!(
                "`{argument}` must be the numeric id of a Customer.io object type, got {}",
                describe(value)
            ),
            format!(
                "Customer.io numbers object types 1, 2, 3…; pass the number, not the type's name, e.g. {argument}='1'"
            ),
        )
        .at_argument(&argument)
        .into());
    }
    Ok(Value::from(sql::string_literal(&text)))
}

/// `cio.people_model(name, argument='people_model')`: the relation of the
/// people (Identify) model that restricts a sync, recorded as a dependency
/// like `ref(name)`; none when `name` is none.
///
/// A name that is neither a model of the project nor a catalog relation is
/// CIO142, with the closest model names.
fn people_model(state: &mut State<'_, '_>, value: &Value, kwargs: &Kwargs) -> Result<Value, Error> {
    let argument = argument_name(kwargs, "people_model")?;
    kwargs.assert_all_used()?;
    if value.is_none() || value.is_undefined() {
        return Ok(Value::from(()));
    }
    let Some(name) = value.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(HelperError::new(
            codes::BAD_ARGUMENT,
            format!(
                "`{argument}` must be the name of the people model, got {}",
                describe(value)
            ),
            format!("pass a model name, e.g. {argument}='customer_io_persons', or {argument}=none to turn the restriction off"),
        )
        .at_argument(&argument)
        .into());
    };
    let shared = state
        .lookup("adapter")
        .and_then(|a| a.downcast_object_ref::<Adapter>().map(|a| a.0.clone()))
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "the adapter is not available"))?;
    let lower = name.to_lowercase();
    let known = shared.models.contains_key(&lower)
        || shared
            .catalog
            .relations()
            .iter()
            .any(|r| r.identifier.eq_ignore_ascii_case(name));
    if !known {
        // The model being rendered cannot be its own people model.
        let this = state
            .lookup("model")
            .and_then(|m| m.get_attr("name").ok())
            .and_then(|n| n.as_str().map(str::to_lowercase))
            .unwrap_or_default();
        let mut models: Vec<&str> = shared
            .models
            .values()
            .map(|m| m.name.as_str())
            .filter(|n| n.to_lowercase() != this)
            .collect();
        models.sort_unstable();
        let hint = suggest::did_you_mean(name, models.iter().copied());
        let people: Vec<String> = shared
            .identify_models
            .iter()
            .filter(|n| n.to_lowercase() != this)
            .map(|n| format!("`{n}`"))
            .collect();
        let lead = match (hint.is_empty(), people.as_slice()) {
            (false, _) => format!("{hint} "),
            (true, []) => "The project has no Identify model yet. ".to_string(),
            (true, [one]) => format!(
                "The project's Identify model is {one}: pass {argument}='{}'. ",
                one.trim_matches('`')
            ),
            (true, many) => format!("The project's Identify models are {}. ", many.join(", ")),
        };
        return Err(HelperError::new(
            codes::PEOPLE_MODEL,
            format!(
                "`{argument}` is `{name}`, but the project has no model named {name}: the sync is restricted to the people of that model"
            ),
            format!(
                "{lead}Point {argument} at your Identify model (e.g. models/identify/customer_io_persons.sql holding {{{{ nexus.customer_io_identify() }}}}), create models/{name}.sql, or pass {argument}=none to keep every person"
            ),
        )
        .at_argument(&argument)
        .into());
    }
    let reference = state
        .lookup("ref")
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "ref() is not available"))?;
    reference.call(state, &[Value::from(name)])
}

/// `cio.literals(values, argument='sources')`: a string or a list of
/// strings as comma-separated SQL string literals (`'a', 'b'`), or the empty
/// string for none or an empty list.
fn literals(value: &Value, kwargs: &Kwargs) -> Result<Value, Error> {
    let argument = argument_name(kwargs, "values")?;
    kwargs.assert_all_used()?;
    if value.is_none() || value.is_undefined() {
        return Ok(Value::from(""));
    }
    if let Some(one) = value.as_str() {
        return Ok(Value::from(sql::string_literal(one)));
    }
    let bad = || -> Error {
        HelperError::new(
            codes::BAD_ARGUMENT,
            format!(
                "`{argument}` must be a list of strings, got {}",
                describe(value)
            ),
            format!("write it as a list, e.g. {argument}=['first', 'second']"),
        )
        .at_argument(&argument)
        .into()
    };
    if !matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable) {
        return Err(bad());
    }
    let items: Vec<String> = value
        .try_iter()?
        .map(|v| v.as_str().map(sql::string_literal).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    Ok(Value::from(items.join(", ")))
}

/// `cio.qualified(item, alias)`: the select-list expression of a column (or
/// of a trait from `cio.traits`) read through table alias `alias`:
/// `alias.col`, or `alias.col` as a UTC `TIMESTAMP_NTZ` for timestamp types.
fn qualified(item: &Value, alias: String) -> Result<Value, Error> {
    let (ident, data_type) = match item.downcast_object_ref::<ColumnValue>() {
        Some(col) => (Some(col.0.identifier()), Some(col.0.data_type.clone())),
        None => match item.get_attr("column").ok().filter(|v| !v.is_undefined()) {
            Some(column) => (
                column.as_str().map(sql::identifier),
                item.get_attr("data_type")
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string)),
            ),
            None => match column_from_value(item) {
                Some(col) => (Some(col.identifier()), Some(col.data_type)),
                None => (None, None),
            },
        },
    };
    let Some(ident) = ident else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "cio.qualified expects a column or a trait, got {}",
                item.kind()
            ),
        ));
    };
    let reference = format!("{alias}.{ident}");
    Ok(Value::from(
        data_type
            .as_deref()
            .and_then(|t| sql::utc_timestamp(&reference, t))
            .unwrap_or(reference),
    ))
}

/// `cio.utc(expr, data_type)`: SQL expression `expr`, of a timestamp type,
/// as a UTC `TIMESTAMP_NTZ` (see [`sql::utc_timestamp`]); any other
/// type as `TO_TIMESTAMP_NTZ(expr)`, which the macros have always written.
fn utc(expr: &str, data_type: &str) -> Value {
    let t = sql::normalize_type(data_type);
    Value::from(sql::utc_timestamp(expr, &t).unwrap_or_else(|| format!("TO_TIMESTAMP_NTZ({expr})")))
}

/// One attribute of `"relationshipAttributes"`.
#[derive(Debug, Clone, serde::Serialize)]
struct Attribute {
    /// The derived attribute it comes from, or none for a custom one.
    key: Option<String>,
    /// The attribute name in Customer.io.
    name: String,
    /// Its SQL expression.
    sql: String,
}

/// Reads an optional list-of-strings keyword.
fn list_kwarg(kwargs: &Kwargs, key: &str) -> Result<Option<Vec<String>>, Error> {
    let value: Option<Value> = kwargs.get(key)?;
    let Some(value) = value.filter(|v| !v.is_undefined()) else {
        return Ok(None);
    };
    if value.is_none() {
        return Ok(Some(Vec::new()));
    }
    strings(
        &value,
        key,
        "attribute names",
        &format!("['is_most_recent', 'related_object_count'], or {key}=[] for none"),
    )
    .map(Some)
}

/// `cio.relationship_attributes(definitions, selected=[...], rename={...},
/// custom={...})`: the attributes of `"relationshipAttributes"`, in order:
/// the `selected` derived attributes (names of `definitions`, a name → SQL
/// mapping; all of them when `selected` is not given), then `custom` (name →
/// SQL expression). Returns a list of `{key, name, sql}`.
///
/// An unknown derived name is CIO143; two attributes with one name
/// (case-insensitively, after `rename`) is CIO144; a `rename` key that is not
/// a selected derived attribute is warning CIO130.
fn relationship_attributes(
    state: &mut State<'_, '_>,
    definitions: &Value,
    kwargs: &Kwargs,
) -> Result<Value, Error> {
    let selected = list_kwarg(kwargs, "selected")?;
    let what = "attribute names to text";
    let rename = name_map(
        kwargs,
        "rename",
        "rename",
        what,
        "{'is_most_recent': 'is_home_location'}",
    )?;
    let custom = name_map(kwargs, "custom", "custom", what, "{'role': 'person_role'}")?
        .into_iter()
        .map(|(k, v)| (k, v.trim().to_string()))
        .collect::<Vec<_>>();
    let selected_argument = argument_name(kwargs, "derived_attributes")?;
    let rename_argument: String = kwargs
        .get::<Option<String>>("rename_argument")?
        .unwrap_or_else(|| "rename_attributes".into());
    let custom_argument: String = kwargs
        .get::<Option<String>>("custom_argument")?
        .unwrap_or_else(|| "custom_attributes".into());
    kwargs.assert_all_used()?;

    let mut known: Vec<(String, String)> = Vec::new();
    if definitions.kind() == ValueKind::Map {
        for k in definitions.try_iter()? {
            let v = definitions.get_item(&k)?;
            known.push((k.to_string(), v.to_string()));
        }
    }
    let names: Vec<&str> = known.iter().map(|(k, _)| k.as_str()).collect();
    let selected = selected.unwrap_or_else(|| names.iter().map(|n| n.to_string()).collect());

    let mut out: Vec<Attribute> = Vec::new();
    for key in &selected {
        let Some((key, definition)) = known.iter().find(|(k, _)| k == key) else {
            let hint = suggest::did_you_mean(key, names.iter().copied());
            return Err(HelperError::new(
                codes::UNKNOWN_ATTRIBUTE,
                format!("`{selected_argument}` lists `{key}`, which is not a derived relationship attribute"),
                format!(
                    "{}the derived attributes are: {}; add your own with {custom_argument}={{'name': 'SQL expression'}}",
                    if hint.is_empty() { String::new() } else { format!("{hint} ") },
                    names.join(", ")
                ),
            )
            .at_argument(&selected_argument)
            .into());
        };
        if out.iter().any(|a| a.key.as_deref() == Some(key.as_str())) {
            continue;
        }
        let name = rename
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| key.clone());
        out.push(Attribute {
            key: Some(key.clone()),
            name,
            sql: definition.clone(),
        });
    }
    for (name, expr) in &custom {
        out.push(Attribute {
            key: None,
            name: name.clone(),
            sql: expr.clone(),
        });
    }

    let source = |a: &Attribute| match &a.key {
        Some(k) if *k != a.name => format!("derived attribute {k} (renamed by {rename_argument})"),
        Some(k) => format!("derived attribute {k}"),
        None => format!("{custom_argument} entry {}", a.name),
    };
    for (i, a) in out.iter().enumerate() {
        if let Some(first) = out[..i]
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(&a.name))
        {
            return Err(HelperError::new(
                codes::ATTRIBUTE_CLASH,
                format!(
                    "two relationship attributes would be named \"{}\": {} and {}",
                    a.name,
                    source(first),
                    source(a)
                ),
                format!(
                    "attribute names must be unique: rename one with {rename_argument} or {custom_argument}, or drop the derived one from {selected_argument}"
                ),
            )
            .into());
        }
    }

    let mut warnings = Vec::new();
    for (key, _) in &rename {
        if !selected.iter().any(|s| s == key) {
            let hint = suggest::did_you_mean(key, selected.iter().map(String::as_str));
            warnings.push((
                format!("{rename_argument} renames `{key}`, which is not one of the derived attributes in use ({})", selected.join(", ")),
                hint,
            ));
        }
    }
    if !warnings.is_empty() {
        let rs = state.get_or_insert_extension_with(RenderState::default);
        let call = rs.calls.last().cloned();
        for (message, hint) in warnings {
            rs.warnings.push(Warning {
                code: codes::UNMATCHED_KEY,
                message,
                help: (!hint.is_empty()).then_some(hint),
                call: call.clone(),
            });
        }
    }
    Ok(Value::from(minijinja::value::Serde(&out)))
}
