//! `cio.meta_normalize(expr, kind, ...)`: the SQL that normalises a value
//! the way Meta's Conversions API wants a `user_data` field before it is
//! hashed (`nexus.meta_hash` wraps it in `SHA2(…, 256)`).
//!
//! The rules, per field, follow Meta's Customer Information Parameters page
//! (<https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters>);
//! where the page is silent the choice is the one the project's hash
//! vectors record (`tests/fixtures/meta_hash_vectors.json`). A value that
//! normalises to nothing is NULL, never the hash of an empty string.
//!
//! The SQL is written for Snowflake's regular expressions (POSIX ERE plus
//! a few Perl escapes; no Unicode classes, so punctuation is an explicit
//! list: <https://docs.snowflake.com/en/sql-reference/functions-regexp>)
//! and runs unchanged on the emulator. It uses no backslash: the emulator
//! unescapes backslashes twice, so `[.]` stands for a literal dot.
//! Snowflake has no Unicode normalisation function, so text is hashed in
//! the form it is stored in (store it NFC, as most systems do).

use super::HelperError;
use super::args::describe;
use crate::destinations::meta_capi::{COUNTRY_NAMES, ISO_COUNTRIES, US_STATES, USER_DATA_HASHED};
use crate::diagnostics::codes;
use crate::sql;
use crate::suggest;
use minijinja::Error;
use minijinja::value::{Kwargs, Value, ValueKind, from_args};

/// Punctuation (Unicode general category P: ASCII and the common
/// typographic marks) but the ASCII hyphen, for a bracket expression: `]`
/// first; a bracket ending in [`DASHES`] adds the hyphen last.
const PUNCTUATION: &str =
    "]['!\"#%&()*,./:;?@_{}¡§«¶·»¿‘’‚‛“”„‟†‡•…‰′″‹›、。「」『』【】《》〈〉・！（），．：；？";
/// Symbols (category S) removed from cities and states.
const SYMBOLS: &str = "$+<=>^`|~¢£¤¥¦¨©¬®¯°±´¸×÷€™";
/// Dashes, the ASCII hyphen last (it must end a bracket expression).
const DASHES: &str = "‐‑‒–—―-";
/// What Meta takes as an e-mail address once trimmed and lower-cased.
const EMAIL_SHAPE: &str = "[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+";
/// A phone extension at the end of a number (`ext. 42`, `x42`, `#42`).
const PHONE_EXTENSION: &str = "[[:space:]]*(extension|ext[.]?|x|#)[[:space:]]*[0-9]+[[:space:]]*$";

/// A `user_data` field that is hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Phone,
    FirstName,
    LastName,
    Gender,
    DateOfBirth,
    City,
    State,
    Zip,
    Country,
    ExternalId,
}

impl Field {
    /// The field for Meta's key (`em`, `ph`, …).
    pub fn from_key(key: &str) -> Option<Field> {
        Some(match key {
            "em" => Field::Email,
            "ph" => Field::Phone,
            "fn" => Field::FirstName,
            "ln" => Field::LastName,
            "ge" => Field::Gender,
            "db" => Field::DateOfBirth,
            "ct" => Field::City,
            "st" => Field::State,
            "zp" => Field::Zip,
            "country" => Field::Country,
            "external_id" => Field::ExternalId,
            _ => return None,
        })
    }
}

/// How a date of birth is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// A DATE or TIMESTAMP value: its year, month and day.
    Date,
    /// Text of three numbers separated by `sep`, in the order of `order`
    /// (`b'Y'`, `b'M'`, `b'D'`).
    Separated { sep: char, order: [u8; 3] },
    /// Text `YYYYMMDD`.
    Compact,
}

impl DateFormat {
    /// Reads `date`, `YYYY-MM-DD`, `MM/DD/YYYY`, `DD.MM.YYYY`, `YYYYMMDD`…
    pub fn parse(text: &str) -> Option<DateFormat> {
        let t = text.trim().to_ascii_uppercase();
        if t == "DATE" {
            return Some(DateFormat::Date);
        }
        if t == "YYYYMMDD" {
            return Some(DateFormat::Compact);
        }
        let sep = t.chars().find(|c| !c.is_ascii_alphabetic())?;
        if !matches!(sep, '-' | '/' | '.' | ' ') {
            return None;
        }
        let parts: Vec<&str> = t.split(sep).collect();
        let mut order = [0u8; 3];
        if parts.len() != 3 {
            return None;
        }
        for (slot, part) in order.iter_mut().zip(&parts) {
            *slot = match *part {
                "YYYY" => b'Y',
                "MM" => b'M',
                "DD" => b'D',
                _ => return None,
            };
        }
        let mut sorted = order;
        sorted.sort_unstable();
        (sorted == [b'D', b'M', b'Y']).then_some(DateFormat::Separated { sep, order })
    }
}

/// Row context some fields need.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// SQL for the row's country (any spelling the `country` rule reads),
    /// for `st` and `zp`; a string literal is resolved at compile time.
    pub country: Option<String>,
    /// The calling code of national phone numbers (`1`, `44`).
    pub calling_code: Option<String>,
    /// How `db` is read (default: text `YYYY-MM-DD`).
    pub date_format: Option<DateFormat>,
}

/// What a country hint is known to be.
enum Country {
    /// Known when compiling: the code (`us`), or none for an unknown one.
    Fixed(Option<&'static str>),
    /// The normalised country of each row, as SQL.
    PerRow(String),
}

fn quote_list(items: impl Iterator<Item = &'static str>) -> String {
    items
        .map(sql::string_literal)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `REGEXP_REPLACE(x, '[chars]', '')`.
fn strip(x: &str, class: &str) -> String {
    format!(
        "REGEXP_REPLACE({x}, {}, '')",
        sql::string_literal(&format!("[{class}]"))
    )
}

/// `x` as text with leading and trailing whitespace (any kind) removed.
fn trimmed(x: &str) -> String {
    format!("REGEXP_REPLACE(TO_VARCHAR({x}), '^[[:space:]]+|[[:space:]]+$', '')")
}

/// `CASE x WHEN 'name' THEN 'code' … ELSE fallback END`.
fn lookup(x: &str, table: &[(&str, &str)], fallback: &str) -> String {
    let mut out = format!("CASE {x}");
    for (name, code) in table {
        out.push_str(&format!(
            " WHEN {} THEN {}",
            sql::string_literal(name),
            sql::string_literal(code)
        ));
    }
    out.push_str(&format!(" ELSE {fallback} END"));
    out
}

/// The normalised country (ISO code, lower-case) of SQL `x`, or NULL.
fn country_sql(x: &str) -> String {
    let letters = format!("REGEXP_REPLACE(LOWER(TO_VARCHAR({x})), '[^a-z]', '')");
    let codes = quote_list(ISO_COUNTRIES.iter().copied());
    lookup(
        &letters,
        COUNTRY_NAMES,
        &format!("CASE WHEN {letters} IN ({codes}) THEN {letters} END"),
    )
}

/// The normalised country of a value known when compiling.
fn country_value(text: &str) -> Option<&'static str> {
    let letters: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase())
        .collect();
    COUNTRY_NAMES
        .iter()
        .find(|(name, _)| *name == letters)
        .map(|(_, code)| *code)
        .or_else(|| ISO_COUNTRIES.iter().copied().find(|c| *c == letters))
}

fn country_hint(hint: &str) -> Country {
    let t = hint.trim();
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') && !t[1..t.len() - 1].contains('\'')
    {
        return Country::Fixed(country_value(&t[1..t.len() - 1]));
    }
    Country::PerRow(country_sql(t))
}

/// The SQL of `x` normalised as `field`: text, or NULL when nothing is
/// left to send.
pub fn normalize(x: &str, field: Field, hints: &Hints) -> String {
    let lower = format!("LOWER(TO_VARCHAR({x}))");
    match field {
        Field::Email => {
            let e = format!("LOWER({})", trimmed(x));
            format!(
                "CASE WHEN REGEXP_LIKE({e}, {}) THEN {e} END",
                sql::string_literal(EMAIL_SHAPE)
            )
        }
        Field::Phone => phone(x, hints.calling_code.as_deref()),
        Field::FirstName | Field::LastName => {
            format!(
                "NULLIF({}, '')",
                strip(&lower, &format!("{PUNCTUATION}[:space:]{DASHES}"))
            )
        }
        Field::Gender => {
            let g = strip(&lower, &format!("{PUNCTUATION}[:space:]{DASHES}"));
            format!(
                "CASE WHEN {g} IN ('f', 'female', 'woman') THEN 'f' WHEN {g} IN ('m', 'male', 'man') THEN 'm' END"
            )
        }
        Field::City => city(&lower),
        Field::State => {
            let c = city(&lower);
            let codes = quote_list(US_STATES.iter().map(|(_, code)| *code));
            let us = lookup(
                &c,
                US_STATES,
                &format!("CASE WHEN {c} IN ({codes}) THEN {c} END"),
            );
            match hints.country.as_deref().map(country_hint) {
                Some(Country::Fixed(Some("us"))) => us,
                Some(Country::Fixed(_)) => c,
                Some(Country::PerRow(country)) => {
                    format!("CASE WHEN {country} = 'us' THEN {us} ELSE {c} END")
                }
                None => lookup(&c, US_STATES, &c),
            }
        }
        Field::Zip => {
            let z = format!(
                "NULLIF({}, '')",
                strip(&lower, &format!("[:space:]{DASHES}"))
            );
            let us = format!("CASE WHEN REGEXP_LIKE({z}, '[0-9]{{5}}.*') THEN LEFT({z}, 5) END");
            match hints.country.as_deref().map(country_hint) {
                Some(Country::Fixed(Some("us"))) => us,
                Some(Country::Fixed(_)) | None => z,
                Some(Country::PerRow(country)) => {
                    format!("CASE WHEN {country} = 'us' THEN {us} ELSE {z} END")
                }
            }
        }
        Field::Country => country_sql(x),
        Field::DateOfBirth => date_of_birth(x, hints.date_format.as_ref()),
        Field::ExternalId => format!("NULLIF({}, '')", strip(&lower, "[:space:]")),
    }
}

/// Lower-case, without punctuation, symbols or spaces (`ct`, and `st`
/// before its lookup).
fn city(lower: &str) -> String {
    format!(
        "NULLIF({}, '')",
        strip(lower, &format!("{PUNCTUATION}{SYMBOLS}[:space:]{DASHES}"))
    )
}

/// Digits only, no leading zeros, with the country calling code: numbers
/// written internationally (`+`, `00`) carry theirs; national ones get
/// `calling_code` (Italy's leading 0 is part of the number).
fn phone(x: &str, calling_code: Option<&str>) -> String {
    let p = format!(
        "REGEXP_REPLACE(REPLACE(LOWER({}), '(0)', ''), {}, '')",
        trimmed(x),
        sql::string_literal(PHONE_EXTENSION)
    );
    let digits = format!("REGEXP_REPLACE({p}, '[^0-9]', '')");
    let national = format!("REGEXP_REPLACE({digits}, '^0+', '')");
    let Some(code) = calling_code else {
        return format!("NULLIF({national}, '')");
    };
    let local = if code == "39" { &digits } else { &national };
    format!(
        "CASE WHEN {national} = '' THEN NULL WHEN LEFT({p}, 1) = '+' OR LEFT({p}, 2) = '00' THEN {national} ELSE {} || {local} END",
        sql::string_literal(code)
    )
}

/// `YYYYMMDD` of a date of birth from 1900 to this year, or NULL.
fn date_of_birth(x: &str, format: Option<&DateFormat>) -> String {
    let this_year = "YEAR(CURRENT_DATE())";
    let (shape, y, m, d) = match format.unwrap_or(&DateFormat::Separated {
        sep: '-',
        order: [b'Y', b'M', b'D'],
    }) {
        DateFormat::Date => {
            let pad = |part: &str| format!("LPAD(TO_VARCHAR({part}({x})), 2, '0')");
            return format!(
                "CASE WHEN YEAR({x}) BETWEEN 1900 AND {this_year} THEN TO_VARCHAR(YEAR({x})) || {} || {} END",
                pad("MONTH"),
                pad("DAY")
            );
        }
        DateFormat::Compact => {
            let s = trimmed(x);
            let part = |from: u8, len: u8| format!("SUBSTR({s}, {from}, {len})");
            ("[0-9]{8}".to_string(), part(1, 4), part(5, 2), part(7, 2))
        }
        DateFormat::Separated { sep, order } => {
            let s = trimmed(x);
            let sep_sql = sql::string_literal(&sep.to_string());
            let mut shape = Vec::new();
            let mut parts = [String::new(), String::new(), String::new()];
            for (i, which) in order.iter().enumerate() {
                let split = format!("SPLIT_PART({s}, {sep_sql}, {})", i + 1);
                let (pattern, slot, value) = match which {
                    b'Y' => ("[0-9]{4}", 0, split),
                    b'M' => ("[0-9]{1,2}", 1, format!("LPAD({split}, 2, '0')")),
                    _ => ("[0-9]{1,2}", 2, format!("LPAD({split}, 2, '0')")),
                };
                shape.push(pattern);
                parts[slot] = value;
            }
            let [y, m, d] = parts;
            (shape.join(&format!("[{sep}]")), y, m, d)
        }
    };
    let s = trimmed(x);
    let int = |v: &str| format!("CAST({v} AS INTEGER)");
    format!(
        "CASE WHEN REGEXP_LIKE({s}, {}) THEN CASE WHEN {y} BETWEEN '1900' AND TO_VARCHAR({this_year}) AND {m} BETWEEN '01' AND '12' AND {d} BETWEEN '01' AND '31' THEN CASE WHEN DAY(DATE_FROM_PARTS({}, {}, {})) = {} THEN {y} || {m} || {d} END END END",
        sql::string_literal(&shape),
        int(&y),
        int(&m),
        int(&d),
        int(&d)
    )
}

fn bad_hint(argument: &str, message: String, help: String) -> Error {
    HelperError::new(codes::META_BAD_HINT, message, help)
        .at_argument(argument)
        .into()
}

/// Reads an optional keyword that must be text (or a number, for
/// `calling_code`).
fn text_kwarg(kwargs: &Kwargs, key: &str) -> Result<Option<String>, Error> {
    let value: Option<Value> = kwargs.get(key)?;
    let Some(value) = value.filter(|v| !v.is_none() && !v.is_undefined()) else {
        return Ok(None);
    };
    match value.kind() {
        ValueKind::String => Ok(Some(value.as_str().unwrap_or_default().trim().to_string())),
        ValueKind::Number => Ok(Some(value.to_string())),
        _ => Err(bad_hint(
            key,
            format!("`{key}` must be a string, got {}", describe(&value)),
            format!("pass text, e.g. {key}='…'"),
        )),
    }
}

/// `cio.meta_normalize(expr, kind, country=none, calling_code=none,
/// date_format=none)`.
/// The `meta_*` helpers of [`super::meta_events`] are reached from here.
pub(super) fn call(method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    if method != "meta_normalize" {
        return super::meta_events::call(method, args);
    }
    Some(
        from_args(args).and_then(|(expr, kind, kwargs): (Value, Value, Kwargs)| {
            meta_normalize(&expr, &kind, &kwargs).map(Value::from)
        }),
    )
}

fn meta_normalize(expr: &Value, kind: &Value, kwargs: &Kwargs) -> Result<String, Error> {
    let country = text_kwarg(kwargs, "country")?;
    let calling_code = text_kwarg(kwargs, "calling_code")?;
    let date_format = text_kwarg(kwargs, "date_format")?;
    kwargs.assert_all_used()?;
    let key = kind.as_str().map(str::trim).unwrap_or_default();
    let Some(field) = Field::from_key(key) else {
        let hint = suggest::did_you_mean(key, USER_DATA_HASHED.iter().copied());
        return Err(HelperError::new(
            codes::META_UNKNOWN_FIELD,
            format!(
                "nexus.meta_hash: {} is not a Meta user_data field that is hashed",
                describe(kind)
            ),
            format!(
                "{}pass one of: {} (client_ip_address, client_user_agent, fbc and fbp are sent unhashed)",
                if hint.is_empty() { String::new() } else { format!("{hint} ") },
                USER_DATA_HASHED.join(", ")
            ),
        )
        .at_argument("kind")
        .into());
    };
    let Some(expr) = expr.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(HelperError::new(
            codes::BAD_ARGUMENT,
            format!(
                "nexus.meta_hash: the value to hash must be a SQL expression, got {}",
                describe(expr)
            ),
            "pass a column or SQL expression as text, e.g. nexus.meta_hash('email', 'em')",
        )
        .into());
    };
    let only = |name: &str, keys: &[&str]| -> Result<(), Error> {
        if keys.contains(&key) {
            return Ok(());
        }
        Err(bad_hint(
            name,
            format!(
                "`{name}` does not apply to `{key}`: it is read for {} only",
                keys.join(" and ")
            ),
            format!("remove {name}= from the call for `{key}`"),
        ))
    };
    let mut hints = Hints::default();
    if let Some(country) = country.filter(|c| !c.is_empty()) {
        only("country", &["st", "zp"])?;
        if let Country::Fixed(None) = country_hint(&country) {
            return Err(bad_hint(
                "country",
                format!("`country` is the literal {country}, which is not a country cio-sql knows"),
                "pass an ISO 3166-1 alpha-2 code as a SQL string, e.g. country=\"'us'\", or a SQL expression such as country='country' (a column)".into(),
            ));
        }
        hints.country = Some(country);
    }
    if let Some(code) = calling_code.filter(|c| !c.is_empty()) {
        only("calling_code", &["ph"])?;
        hints.calling_code = checked_calling_code(Some(&code))?;
    }
    if let Some(text) = date_format.filter(|c| !c.is_empty()) {
        only("date_format", &["db"])?;
        hints.date_format = Some(checked_date_format(&text, "date_format")?);
    }
    Ok(normalize(expr, field, &hints))
}

/// The calling code of national phone numbers (`1`, `+44`) as its digits,
/// or CIO222.
pub(super) fn checked_calling_code(code: Option<&str>) -> Result<Option<String>, Error> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let digits = code.trim_start_matches('+');
    if digits.is_empty()
        || digits.len() > 3
        || !digits.chars().all(|c| c.is_ascii_digit())
        || digits.starts_with('0')
    {
        return Err(bad_hint(
            "calling_code",
            format!("`calling_code` is {code:?}, which is not a country calling code"),
            "pass the one to three digits of the calling code of national numbers, e.g. calling_code='1' (US, Canada) or calling_code='44' (UK)".into(),
        ));
    }
    Ok(Some(digits.to_string()))
}

/// A date-of-birth layout passed as `argument`, or CIO222.
pub(super) fn checked_date_format(text: &str, argument: &str) -> Result<DateFormat, Error> {
    DateFormat::parse(text).ok_or_else(|| {
        bad_hint(
            argument,
            format!("`{argument}` is {text:?}, which cio-sql cannot read"),
            "pass 'date' for a DATE or TIMESTAMP column, or the layout of the text: YYYY, MM and DD separated by one of - / . or a space (e.g. 'MM/DD/YYYY'), or 'YYYYMMDD'".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_formats() {
        assert_eq!(DateFormat::parse("date"), Some(DateFormat::Date));
        assert_eq!(DateFormat::parse("YYYYMMDD"), Some(DateFormat::Compact));
        assert_eq!(
            DateFormat::parse("mm/dd/yyyy"),
            Some(DateFormat::Separated {
                sep: '/',
                order: [b'M', b'D', b'Y']
            })
        );
        assert_eq!(DateFormat::parse("YYYY-MM-MM"), None);
        assert_eq!(DateFormat::parse("YYYY_MM_DD"), None);
        assert_eq!(DateFormat::parse("YYYY-MM"), None);
    }

    #[test]
    fn country_literals_resolve_when_compiling() {
        assert!(matches!(country_hint("'US'"), Country::Fixed(Some("us"))));
        assert!(matches!(
            country_hint("'United Kingdom'"),
            Country::Fixed(Some("gb"))
        ));
        assert!(matches!(country_hint("'Narnia'"), Country::Fixed(None)));
        assert!(matches!(
            country_hint("persons.country"),
            Country::PerRow(_)
        ));
        // A fixed US country needs no per-row test.
        let zip = normalize(
            "zip",
            Field::Zip,
            &Hints {
                country: Some("'us'".into()),
                ..Hints::default()
            },
        );
        assert!(zip.starts_with("CASE WHEN REGEXP_LIKE("), "{zip}");
        assert!(!zip.contains("'unitedstates'"), "{zip}");
    }

    #[test]
    fn no_backslash_in_the_sql() {
        for key in USER_DATA_HASHED {
            let field = Field::from_key(key).unwrap();
            let sql = normalize(
                "x",
                field,
                &Hints {
                    country: Some("c".into()),
                    calling_code: Some("1".into()),
                    date_format: None,
                },
            );
            assert!(!sql.contains('\\'), "{key}: {sql}");
        }
    }
}
