//! Reading the arguments of the `cio` helpers: lists of names, mappings
//! of names, and how a wrongly typed value reads in an error.

use super::HelperError;
use crate::diagnostics::codes;
use minijinja::Error;
use minijinja::value::{Kwargs, Value, ValueKind};

/// How a wrongly typed argument value reads in an error message.
pub(super) fn describe(value: &Value) -> String {
    match value.kind() {
        ValueKind::String if value.as_str() == Some("") => "an empty string".into(),
        ValueKind::String => format!("the string {value:?}"),
        ValueKind::None | ValueKind::Undefined => "none".into(),
        kind => format!("{kind} {value}"),
    }
}

/// Reads a list-of-strings argument (`None` or missing: empty). `shown`
/// names it in errors, `what` says what it lists, `example` is a valid value.
pub(super) fn string_list(kwargs: &Kwargs, key: &str, shown: &str) -> Result<Vec<String>, Error> {
    let value: Option<Value> = kwargs.get(key)?;
    match value.filter(|v| !v.is_none() && !v.is_undefined()) {
        Some(value) => strings(&value, shown, "column names", "['phone_number']"),
        None => Ok(Vec::new()),
    }
}

/// The strings of a list value, or a CIO104 error naming the argument.
pub(super) fn strings(
    value: &Value,
    shown: &str,
    what: &str,
    example: &str,
) -> Result<Vec<String>, Error> {
    let bad = || -> Error {
        HelperError::new(
            codes::BAD_ARGUMENT,
            format!(
                "`{shown}` must be a list of {what}, got {}",
                describe(value)
            ),
            format!("write it as a list, e.g. {shown}={example}"),
        )
        .at_argument(shown)
        .into()
    };
    if !matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable) {
        return Err(bad());
    }
    value
        .try_iter()?
        .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
        .collect()
}

/// Reads a mapping argument of names to text (renames, attribute SQL), in
/// the order written. `shown` names the argument in errors, `what` says what
/// it maps (`column names to new names`), `example` is a valid value.
pub(super) fn name_map(
    kwargs: &Kwargs,
    key: &str,
    shown: &str,
    what: &str,
    example: &str,
) -> Result<Vec<(String, String)>, Error> {
    let value: Option<Value> = kwargs.get(key)?;
    let Some(value) = value.filter(|v| !v.is_none() && !v.is_undefined()) else {
        return Ok(Vec::new());
    };
    let bad = || -> Error {
        HelperError::new(
            codes::BAD_ARGUMENT,
            format!("`{shown}` must map {what}, got {}", describe(&value)),
            format!("write it as a mapping, e.g. {shown}={example}"),
        )
        .at_argument(shown)
        .into()
    };
    if value.kind() != ValueKind::Map {
        return Err(bad());
    }
    let mut out = Vec::new();
    for k in value.try_iter()? {
        let v = value.get_item(&k)?;
        match (k.as_str(), v.as_str()) {
            (Some(k), Some(v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                out.push((k.to_string(), v.to_string()))
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}
