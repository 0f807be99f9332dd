//! `cio` helpers of `nexus.meta_capi_events`: which columns feed Meta's
//! `user_data` (hashed from the person's `nexus_entities` row, in clear
//! from the event), the event-name mapping and the `action_source`.

use super::HelperError;
use super::args::describe;
use super::helpers::{columns_of, find_column};
use super::meta_hash::{
    DateFormat, Field, Hints, checked_calling_code, checked_date_format, normalize,
};
use super::objects::ColumnValue;
use crate::destinations::meta_capi::{
    ACTION_SOURCES, SERVER_EVENT_FIELDS, USER_DATA_CLEAR, USER_DATA_HASHED,
};
use crate::diagnostics::codes;
use crate::sql::{self, Column, is_timestamp_type};
use crate::suggest;
use minijinja::Error;
use minijinja::value::{Kwargs, Value, ValueKind, from_args};

/// Columns looked for, in order, when the model does not name a field's
/// source: the first one the relation has is used.
const HASHED_DEFAULTS: &[(&str, &[&str])] = &[
    ("em", &["email", "email_address"]),
    ("ph", &["phone", "phone_number", "mobile", "mobile_number"]),
    ("fn", &["first_name", "given_name"]),
    ("ln", &["last_name", "family_name", "surname"]),
    ("ge", &["gender"]),
    ("db", &["date_of_birth", "birth_date", "birthday", "dob"]),
    ("ct", &["city"]),
    ("st", &["state", "region", "province"]),
    (
        "zp",
        &["zip", "zip_code", "zipcode", "postal_code", "postcode"],
    ),
    ("country", &["country", "country_code"]),
    ("external_id", &["external_id", "user_id"]),
];

/// The same for the fields sent in clear, read from the event.
const CLEAR_DEFAULTS: &[(&str, &[&str])] = &[
    (
        "client_ip_address",
        &["client_ip_address", "ip_address", "ip"],
    ),
    ("client_user_agent", &["client_user_agent", "user_agent"]),
    ("fbc", &["fbc"]),
    ("fbp", &["fbp"]),
];

/// Dispatches the helpers of this file; `None` for another method.
pub(super) fn call(method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    Some(match method {
        "meta_user_data" => from_args(args)
            .and_then(|(entities, events, kwargs)| user_data(&entities, &events, &kwargs)),
        "meta_optional_column" => from_args(args)
            .and_then(|(columns, given, kwargs)| optional_column(&columns, &given, &kwargs)),
        "meta_event_names" => from_args(args).and_then(|(value,)| event_names(&value)),
        "meta_action_source" => from_args(args).and_then(|(value,)| action_source(&value)),
        "meta_outputs" => from_args::<()>(args).map(|()| outputs()),
        "meta_website_fields" => from_args(args)
            .and_then(|(url, clear): (Value, Vec<String>)| website_fields(&url, &clear)),
        _ => return None,
    })
}

/// A mapping argument of field → column name or SQL expression, where
/// none drops the field; in the order written.
fn field_map(value: Option<Value>, argument: &str) -> Result<Vec<(String, Option<String>)>, Error> {
    let Some(value) = value.filter(|v| !v.is_none() && !v.is_undefined()) else {
        return Ok(Vec::new());
    };
    let bad = || -> Error {
        HelperError::new(
            codes::BAD_ARGUMENT,
            format!(
                "`{argument}` must map Meta field names to columns (or SQL, or none to leave the field out), got {}",
                describe(&value)
            ),
            format!("write it as a mapping, e.g. {argument}={{'em': 'email', 'ph': none}}"),
        )
        .at_argument(argument)
        .into()
    };
    if value.kind() != ValueKind::Map {
        return Err(bad());
    }
    let mut out = Vec::new();
    for k in value.try_iter()? {
        let v = value.get_item(&k)?;
        let key = k
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(bad)?;
        let source = if v.is_none() {
            None
        } else {
            Some(
                v.as_str()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(bad)?
                    .to_string(),
            )
        };
        out.push((key.to_string(), source));
    }
    Ok(out)
}

/// One `user_data` field of the output.
#[derive(Debug, serde::Serialize)]
struct UserField {
    /// Meta's key (`em`), the output column.
    key: String,
    /// Its select-list SQL (the hash, for a hashed field).
    sql: String,
    /// The catalog column it reads, when it reads one column.
    column: Option<String>,
}

/// Resolves a field's source: a named column (quoted as the catalog
/// spells it) or SQL as written, and the column when there is one.
fn source_of<'a>(
    columns: &'a [Column],
    key: &str,
    given: Option<&Option<String>>,
    defaults: &[(&str, &[&str])],
    argument: &str,
    relation: &str,
) -> Result<Option<(String, Option<&'a Column>)>, Error> {
    match given {
        Some(None) => Ok(None),
        Some(Some(text)) if sql::is_bare_identifier(text) => match find_column(columns, text) {
            Some(col) => Ok(Some((col.identifier(), Some(col)))),
            None => {
                let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                let hint = suggest::did_you_mean(text, names.iter().copied());
                Err(HelperError::new(
                    codes::NOT_A_COLUMN,
                    format!("`{argument}` reads `{key}` from `{text}`, which is not a column of {relation}"),
                    format!(
                        "{}use one of its columns ({}), a SQL expression, or {key}: none to leave the field out",
                        if hint.is_empty() { String::new() } else { format!("{hint} ") },
                        names.join(", ")
                    ),
                )
                .at_argument(argument)
                .into())
            }
        },
        Some(Some(text)) => Ok(Some((text.clone(), None))),
        None => {
            let candidates = defaults
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, c)| *c)
                .unwrap_or_default();
            Ok(candidates
                .iter()
                .find_map(|name| find_column(columns, name))
                .map(|col| (col.identifier(), Some(col))))
        }
    }
}

/// `cio.meta_user_data(entity_columns, event_columns, user_data={},
/// clear_user_data={}, calling_code=none, date_of_birth_format=none,
/// entities=rel, events=rel)`: `{hashed: [...], clear: [...]}`, each a
/// list of `{key, sql, column}` in Meta's order.
///
/// Hashed fields read the person's row (SQL over `nexus_entities`,
/// unqualified): `SHA2(<normalised>, 256)`, with the row's country for
/// `st` and `zp`. Fields sent in clear read the event.
fn user_data(entities: &Value, events: &Value, kwargs: &Kwargs) -> Result<Value, Error> {
    let given_hashed = field_map(kwargs.get("user_data")?, "user_data")?;
    let given_clear = field_map(kwargs.get("clear_user_data")?, "clear_user_data")?;
    let calling_code: Option<Value> = kwargs.get("calling_code")?;
    let date_format: Option<String> = kwargs.get("date_of_birth_format")?;
    let entities_label = kwargs
        .get::<Option<Value>>("entities")?
        .map(|v| v.to_string())
        .unwrap_or_else(|| "nexus_entities".into());
    let events_label = kwargs
        .get::<Option<Value>>("events")?
        .map(|v| v.to_string())
        .unwrap_or_else(|| "nexus_events".into());
    kwargs.assert_all_used()?;
    let entity_columns = columns_of(entities)?;
    let event_columns = columns_of(events)?;

    for (key, _) in &given_hashed {
        if !USER_DATA_HASHED.contains(&key.as_str()) {
            let clear = USER_DATA_CLEAR.contains(&key.as_str());
            let hint = suggest::did_you_mean(key, USER_DATA_HASHED.iter().copied());
            return Err(HelperError::new(
                codes::META_UNKNOWN_FIELD,
                format!("`user_data` names `{key}`, which is not a Meta user_data field that is hashed"),
                if clear {
                    format!("`{key}` is sent in clear, from the event: pass it in clear_user_data={{'{key}': 'column'}}")
                } else {
                    format!(
                        "{}the hashed fields are: {}",
                        if hint.is_empty() { String::new() } else { format!("{hint} ") },
                        USER_DATA_HASHED.join(", ")
                    )
                },
            )
            .at_argument("user_data")
            .into());
        }
    }
    for (key, _) in &given_clear {
        if !USER_DATA_CLEAR.contains(&key.as_str()) {
            let hashed = USER_DATA_HASHED.contains(&key.as_str());
            return Err(HelperError::new(
                codes::META_UNKNOWN_FIELD,
                format!("`clear_user_data` names `{key}`, which is not a user_data field Meta takes in clear"),
                if hashed {
                    format!("Meta wants `{key}` hashed: pass it in user_data={{'{key}': 'column'}}, which normalises and hashes it")
                } else {
                    format!("the fields sent in clear are: {}", USER_DATA_CLEAR.join(", "))
                },
            )
            .at_argument("clear_user_data")
            .into());
        }
    }

    let lookup = |list: &[(String, Option<String>)], key: &str| {
        list.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    // The row's country, for st and zp.
    let country = source_of(
        &entity_columns,
        "country",
        lookup(&given_hashed, "country").as_ref(),
        HASHED_DEFAULTS,
        "user_data",
        &entities_label,
    )?
    .map(|(sql, _)| sql);
    let calling_code = calling_code
        .filter(|v| !v.is_none() && !v.is_undefined())
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        });

    let mut hashed = Vec::new();
    for key in USER_DATA_HASHED {
        let Some((expr, column)) = source_of(
            &entity_columns,
            key,
            lookup(&given_hashed, key).as_ref(),
            HASHED_DEFAULTS,
            "user_data",
            &entities_label,
        )?
        else {
            continue;
        };
        let field = Field::from_key(key).expect("every hashed key is a field");
        let mut hints = Hints::default();
        match field {
            Field::State | Field::Zip => hints.country = country.clone(),
            Field::Phone => hints.calling_code = checked_calling_code(calling_code.as_deref())?,
            Field::DateOfBirth => {
                hints.date_format = Some(match (&date_format, column) {
                    (Some(text), _) => checked_date_format(text, "date_of_birth_format")?,
                    (None, Some(col))
                        if col.data_type == "DATE" || is_timestamp_type(&col.data_type) =>
                    {
                        DateFormat::Date
                    }
                    (None, _) => DateFormat::parse("YYYY-MM-DD").expect("a known layout"),
                })
            }
            _ => {}
        }
        hashed.push(UserField {
            key: key.to_string(),
            sql: format!("SHA2({}, 256)", normalize(&expr, field, &hints)),
            column: column.map(|c| c.name.clone()),
        });
    }

    let mut clear = Vec::new();
    for key in USER_DATA_CLEAR {
        if let Some((expr, column)) = source_of(
            &event_columns,
            key,
            lookup(&given_clear, key).as_ref(),
            CLEAR_DEFAULTS,
            "clear_user_data",
            &events_label,
        )? {
            clear.push(UserField {
                key: key.to_string(),
                sql: expr,
                column: column.map(|c| c.name.clone()),
            });
        }
    }
    if hashed.is_empty() && clear.is_empty() {
        return Err(HelperError::new(
            codes::META_NO_USER_DATA,
            format!(
                "no user_data field: {entities_label} has none of the columns cio-sql looks for (email, phone, first_name, last_name, …) and {events_label} none of client_ip_address, client_user_agent, fbc, fbp"
            ),
            "Meta drops an event it cannot match to a person: name the columns, e.g. user_data={'em': 'contact_email'}",
        )
        .at_argument("user_data")
        .into());
    }
    Ok(Value::from(minijinja::value::Serde(serde_json::json!({
        "hashed": hashed,
        "clear": clear,
    }))))
}

/// `cio.meta_optional_column(columns, given, candidates=[...],
/// argument='…', relation=rel)`: the column `given` names (an error when
/// the relation lacks it), else the first of `candidates` it has, else
/// none.
fn optional_column(columns: &Value, given: &Value, kwargs: &Kwargs) -> Result<Value, Error> {
    let candidates: Vec<String> = kwargs
        .get::<Option<Vec<String>>>("candidates")?
        .unwrap_or_default();
    let argument: String = kwargs.get("argument")?;
    let relation = kwargs
        .get::<Option<Value>>("relation")?
        .map(|v| v.to_string())
        .unwrap_or_else(|| "the relation".into());
    kwargs.assert_all_used()?;
    let columns = columns_of(columns)?;
    let given = if given.is_none() || given.is_undefined() {
        None
    } else {
        Some(Some(given.as_str().map(str::to_string).ok_or_else(
            || {
                Error::from(
                    HelperError::new(
                        codes::BAD_ARGUMENT,
                        format!(
                            "`{argument}` must be a column name, got {}",
                            describe(given)
                        ),
                        format!(
                            "pass the column's name, e.g. {argument}='{}'",
                            candidates.first().map(String::as_str).unwrap_or("column")
                        ),
                    )
                    .at_argument(&argument),
                )
            },
        )?))
    };
    let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
    let defaults = [(argument.as_str(), candidates.as_slice())];
    let found = source_of(
        &columns,
        &argument,
        given.as_ref(),
        &defaults,
        &argument,
        &relation,
    )?;
    Ok(match found {
        Some((_, Some(col))) => Value::from_object(ColumnValue(col.clone())),
        _ => Value::from(()),
    })
}

/// `cio.meta_event_names(event_names)`: a mapping of nexus event names to
/// Meta event names (or a list of names sent as they are), as a list of
/// `[from, to]` pairs.
fn event_names(value: &Value) -> Result<Value, Error> {
    let bad = |what: String| -> Error {
        HelperError::new(
            codes::META_EVENT_NAMES,
            what,
            "map the nexus events to send to Meta's event names, e.g. event_names={'order_completed': 'Purchase', 'signed_up': 'CompleteRegistration'}",
        )
        .at_argument("event_names")
        .into()
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    match value.kind() {
        ValueKind::Map => {
            for k in value.try_iter()? {
                let v = value.get_item(&k)?;
                match (k.as_str().map(str::trim), v.as_str().map(str::trim)) {
                    (Some(from), Some(to)) if !from.is_empty() && !to.is_empty() => {
                        pairs.push((from.to_string(), to.to_string()))
                    }
                    _ => {
                        return Err(bad(format!(
                            "`event_names` maps {} to {}: both must be event names",
                            describe(&k),
                            describe(&v)
                        )));
                    }
                }
            }
        }
        ValueKind::Seq => {
            for v in value.try_iter()? {
                match v.as_str().map(str::trim) {
                    Some(name) if !name.is_empty() => {
                        pairs.push((name.to_string(), name.to_string()))
                    }
                    _ => {
                        return Err(bad(format!(
                            "`event_names` lists {}, which is not an event name",
                            describe(&v)
                        )));
                    }
                }
            }
        }
        _ => {
            return Err(bad(format!(
                "`event_names` must say which nexus events are sent to Meta, got {}",
                describe(value)
            )));
        }
    }
    if pairs.is_empty() {
        return Err(bad("`event_names` is empty: no event would be sent".into()));
    }
    for (i, (from, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(f, _)| f == from) {
            return Err(bad(format!(
                "`event_names` names the nexus event `{from}` twice"
            )));
        }
    }
    Ok(Value::from(minijinja::value::Serde(
        pairs
            .into_iter()
            .map(|(f, t)| [sql::string_literal(&f), sql::string_literal(&t)])
            .collect::<Vec<_>>(),
    )))
}

/// `cio.meta_action_source(value)`: Meta's `action_source` as a SQL
/// string literal, or CIO224 for a value outside Meta's list.
fn action_source(value: &Value) -> Result<Value, Error> {
    let text = value.as_str().map(str::trim).unwrap_or_default();
    if ACTION_SOURCES.contains(&text) {
        return Ok(Value::from(sql::string_literal(text)));
    }
    let hint = suggest::did_you_mean(text, ACTION_SOURCES.iter().copied());
    Err(HelperError::new(
        codes::META_ACTION_SOURCE,
        if value.is_none() || value.is_undefined() {
            "`action_source` is required: Meta needs to know where each conversion happened"
                .to_string()
        } else {
            format!(
                "`action_source` is {}, which is not one of Meta's action sources",
                describe(value)
            )
        },
        format!(
            "{}pass one of: {}",
            if hint.is_empty() {
                String::new()
            } else {
                format!("{hint} ")
            },
            ACTION_SOURCES.join(", ")
        ),
    )
    .at_argument("action_source")
    .into())
}

/// `cio.meta_outputs()`: every column name with a meaning of its own in a
/// Meta events table (not `value` and `currency`, which are custom_data),
/// for `cio.traits`' collision check: an event column of one of these
/// names would be read as that field, not as a custom_data property.
fn outputs() -> Value {
    let mut map = serde_json::Map::new();
    for name in SERVER_EVENT_FIELDS {
        map.insert(
            name.to_string(),
            format!("Meta's server-event field {name}").into(),
        );
    }
    for name in USER_DATA_HASHED.iter().chain(USER_DATA_CLEAR) {
        map.insert(
            name.to_string(),
            format!("Meta's user_data field {name}").into(),
        );
    }
    Value::from(minijinja::value::Serde(serde_json::Value::Object(map)))
}

/// `cio.meta_website_fields(url, clear_keys)`: CIO226 unless a website
/// event has its page and the browser's user agent: "Website events shared
/// using the Conversions API require the client_user_agent, action_source,
/// and event_source_url parameters" (Meta, Conversions API parameters,
/// <https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters>).
fn website_fields(url: &Value, clear: &[String]) -> Result<Value, Error> {
    let (missing, argument, fix) = if url.is_none() || url.is_undefined() {
        (
            "event_source_url",
            "event_source_url_column",
            "name the events' page column with event_source_url_column='page_url'",
        )
    } else if !clear.iter().any(|k| k == "client_user_agent") {
        (
            "client_user_agent",
            "clear_user_data",
            "name the events' user agent column with clear_user_data={'client_user_agent': 'user_agent'}",
        )
    } else {
        return Ok(Value::from(()));
    };
    Err(HelperError::new(
        codes::META_WEBSITE_FIELDS,
        format!("action_source is 'website', but the events have no {missing}: Meta requires it for website events"),
        format!("{fix}, or choose the action_source the events come from (app, email, system_generated, …)"),
    )
    .at_argument(argument)
    .into())
}
