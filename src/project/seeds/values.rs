//! The values of a seed column: what type they fit (when the seed is not
//! typed by the catalog) and how each is written as a SQL literal of its
//! column's type.

use crate::sql;

fn is_int(v: &str) -> bool {
    let v = v.trim();
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn is_number(v: &str) -> bool {
    v.trim().parse::<f64>().is_ok_and(f64::is_finite) && !v.trim().is_empty()
}

fn bool_value(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// `YYYY-MM-DD`, on bytes so that no slice of user text can fall inside a
/// multi-byte character.
fn is_date_bytes(b: &[u8]) -> bool {
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

pub(crate) fn is_date(v: &str) -> bool {
    is_date_bytes(v.trim().as_bytes())
}

/// `YYYY-MM-DD HH:MM:SS` (or `T` between), then optional fractions of a
/// second and a `Z`: what an undeclared seed column must hold to be inferred a
/// timestamp.
pub(crate) fn is_timestamp(v: &str) -> bool {
    let b = v.trim().as_bytes();
    let time = |t: &[u8]| {
        t.len() == 8
            && t.iter().enumerate().all(|(i, c)| {
                if i == 2 || i == 5 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    let fraction = |f: &[u8]| {
        let f = f.strip_suffix(b"Z").unwrap_or(f);
        f.is_empty() || (f.len() >= 2 && f[0] == b'.' && f[1..].iter().all(u8::is_ascii_digit))
    };
    b.len() >= 19
        && is_date_bytes(&b[..10])
        && matches!(b[10], b' ' | b'T')
        && time(&b[11..19])
        && fraction(&b[19..])
}

/// A type for an undeclared seed column, from its values.
pub(crate) fn infer_type(values: &[&str]) -> String {
    let t = if values.is_empty() {
        "VARCHAR"
    } else if values.iter().all(|v| is_int(v)) || values.iter().all(|v| is_number(v)) {
        "NUMBER"
    } else if values
        .iter()
        .all(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false"))
    {
        "BOOLEAN"
    } else if values.iter().all(|v| is_timestamp(v)) {
        "TIMESTAMP_NTZ"
    } else if values.iter().all(|v| is_date(v)) {
        "DATE"
    } else {
        "VARCHAR"
    };
    t.to_string()
}

/// The DDL type for a normalised type. NUMBER gets the scale its values
/// need (at most 12) within Snowflake's 38 digits. An `inferred` column
/// whose values have an exponent, or more than 38 digits before the point,
/// is FLOAT instead.
pub(crate) fn ddl_type(normalised: &str, values: &[&str], inferred: bool) -> String {
    match normalised {
        "NUMBER" => {
            let mut scale = 0;
            let mut whole = 0;
            let mut exponent = false;
            for v in values.iter().filter(|v| is_number(v)) {
                let v = v.trim().trim_start_matches(['-', '+']);
                exponent |= v.contains(['e', 'E']);
                let (int, frac) = v.split_once('.').unwrap_or((v, ""));
                scale = scale.max(frac.len());
                whole = whole.max(int.trim_start_matches('0').len());
            }
            if inferred && (exponent || whole > 38) {
                return "FLOAT".to_string();
            }
            format!(
                "NUMBER(38, {})",
                scale.min(12).min(38usize.saturating_sub(whole))
            )
        }
        other => other.to_string(),
    }
}

/// Digits before the decimal point of a number written without exponent.
fn whole_digits(v: &str) -> usize {
    let v = v.trim().trim_start_matches(['-', '+']);
    if v.contains(['e', 'E']) {
        return 0;
    }
    v.split('.')
        .next()
        .unwrap_or("")
        .trim_start_matches('0')
        .len()
}

/// A SQL literal for a CSV cell of type `ty`.
pub(crate) fn literal(raw: Option<&str>, ty: &str) -> Result<String, String> {
    let Some(value) = raw else {
        return Ok("NULL".into());
    };
    let base = ty.split('(').next().unwrap_or(ty);
    match base {
        "NUMBER" | "FLOAT" => {
            if base == "NUMBER" && whole_digits(value) > 38 {
                Err(format!(
                    "`{value}` has more than 38 digits before the decimal point, more than a NUMBER holds"
                ))
            } else if is_number(value) {
                Ok(value.trim().to_string())
            } else {
                Err(format!("`{value}` is not a number"))
            }
        }
        "BOOLEAN" => bool_value(value)
            .map(|b| {
                if b {
                    "TRUE".to_string()
                } else {
                    "FALSE".to_string()
                }
            })
            .ok_or_else(|| format!("`{value}` is not a boolean (true/false)")),
        "TIMESTAMP_NTZ" | "TIMESTAMP_LTZ" | "TIMESTAMP_TZ" | "TIMESTAMP" | "DATE" | "TIME" => Ok(
            format!("CAST({} AS {base})", sql::string_literal(value.trim())),
        ),
        "VARIANT" | "OBJECT" | "ARRAY" | "GEOGRAPHY" | "GEOMETRY" | "BINARY" => {
            Err(format!("seeds cannot load {base} columns yet"))
        }
        _ => Ok(sql::string_literal(value)),
    }
}
