//! Data types of expressions where they are certain: what each Snowflake
//! function returns (from its name and, for some, its arguments), literals,
//! operators and casts; and which functions aggregate or only exist as
//! window functions.

use sqlparser::ast::{BinaryOperator, DataType, ObjectName, ObjectNamePart, Value};

/// What type inference needs of an argument: its type, where certain, and
/// whether it is the literal `NULL` (which takes any type).
pub(super) trait Typed {
    /// The data type, where certain.
    fn data_type(&self) -> Option<&str>;
    /// True for the literal `NULL`.
    fn is_null(&self) -> bool;
}

pub(super) const AGGREGATES: &[&str] = &[
    "ANY_VALUE",
    "APPROX_COUNT_DISTINCT",
    "APPROX_PERCENTILE",
    "APPROX_TOP_K",
    "ARRAY_AGG",
    "ARRAY_UNION_AGG",
    "ARRAY_UNIQUE_AGG",
    "AVG",
    "BITAND_AGG",
    "BITOR_AGG",
    "BITXOR_AGG",
    "BOOLAND_AGG",
    "BOOLOR_AGG",
    "BOOLXOR_AGG",
    "CORR",
    "COUNT",
    "COUNT_IF",
    "COVAR_POP",
    "COVAR_SAMP",
    "GROUPING",
    "HASH_AGG",
    "HLL",
    "KURTOSIS",
    "LISTAGG",
    "MAX",
    "MAX_BY",
    "MEDIAN",
    "MIN",
    "MIN_BY",
    "MODE",
    "OBJECT_AGG",
    "PERCENTILE_CONT",
    "PERCENTILE_DISC",
    "SKEW",
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "SUM",
    "VAR_POP",
    "VAR_SAMP",
    "VARIANCE",
    "VARIANCE_POP",
    "VARIANCE_SAMP",
];

/// Functions that only exist as window functions.
pub(super) const WINDOW_ONLY: &[&str] = &[
    "CONDITIONAL_CHANGE_EVENT",
    "CONDITIONAL_TRUE_EVENT",
    "CUME_DIST",
    "DENSE_RANK",
    "FIRST_VALUE",
    "LAG",
    "LAST_VALUE",
    "LEAD",
    "NTH_VALUE",
    "NTILE",
    "PERCENT_RANK",
    "RANK",
    "RATIO_TO_REPORT",
    "ROW_NUMBER",
];

/// Functions whose first argument is an unquoted date or time part
/// (`DATEADD(day, 1, x)`), not a column.
pub(super) const DATE_PART_FIRST: &[&str] = &[
    "DATEADD",
    "DATEDIFF",
    "DATE_PART",
    "DATE_TRUNC",
    "TIMEADD",
    "TIMEDIFF",
    "TIMESTAMPADD",
    "TIMESTAMPDIFF",
    "TIMESTAMP_DIFF",
];

/// Functions whose second argument is an unquoted date part.
pub(super) const DATE_PART_SECOND: &[&str] = &["LAST_DAY"];

pub(super) fn fixed_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "TO_TIMESTAMP_NTZ" | "TRY_TO_TIMESTAMP_NTZ" | "SYSDATE" => "TIMESTAMP_NTZ",
        "TO_TIMESTAMP_TZ" | "TRY_TO_TIMESTAMP_TZ" => "TIMESTAMP_TZ",
        "TO_TIMESTAMP_LTZ"
        | "TRY_TO_TIMESTAMP_LTZ"
        | "CURRENT_TIMESTAMP"
        | "GETDATE"
        | "LOCALTIMESTAMP" => "TIMESTAMP_LTZ",
        "TO_TIMESTAMP" | "TRY_TO_TIMESTAMP" => "TIMESTAMP",
        "TO_DATE" | "TRY_TO_DATE" | "DATE" | "CURRENT_DATE" => "DATE",
        "TO_TIME" | "TRY_TO_TIME" | "CURRENT_TIME" => "TIME",
        "TO_VARCHAR" | "TO_CHAR" | "LOWER" | "UPPER" | "TRIM" | "LTRIM" | "RTRIM" | "INITCAP"
        | "CONCAT" | "CONCAT_WS" | "SUBSTR" | "SUBSTRING" | "LEFT" | "RIGHT" | "REPLACE"
        | "REGEXP_REPLACE" | "REGEXP_SUBSTR" | "SPLIT_PART" | "LPAD" | "RPAD" | "MD5"
        | "MD5_HEX" | "SHA1" | "SHA1_HEX" | "SHA2" | "SHA2_HEX" | "UUID_STRING" | "LISTAGG"
        | "REVERSE" | "TRANSLATE" | "BASE64_ENCODE" | "HEX_ENCODE" | "TYPEOF" | "MONTHNAME"
        | "DAYNAME" | "REPEAT" | "CHR" | "ARRAY_TO_STRING" | "CURRENT_USER" | "CURRENT_ROLE"
        | "CURRENT_DATABASE" | "CURRENT_SCHEMA" | "CURRENT_WAREHOUSE" => "VARCHAR",
        "COUNT"
        | "COUNT_IF"
        | "ROW_NUMBER"
        | "RANK"
        | "DENSE_RANK"
        | "NTILE"
        | "LENGTH"
        | "LEN"
        | "CHAR_LENGTH"
        | "CHARACTER_LENGTH"
        | "DATEDIFF"
        | "TIMEDIFF"
        | "TIMESTAMPDIFF"
        | "TO_NUMBER"
        | "TO_DECIMAL"
        | "TO_NUMERIC"
        | "TRY_TO_NUMBER"
        | "TRY_TO_DECIMAL"
        | "TRY_TO_NUMERIC"
        | "POSITION"
        | "CHARINDEX"
        | "ARRAY_SIZE"
        | "APPROX_COUNT_DISTINCT"
        | "HASH"
        | "YEAR"
        | "QUARTER"
        | "MONTH"
        | "WEEK"
        | "WEEKOFYEAR"
        | "DAY"
        | "DAYOFMONTH"
        | "DAYOFWEEK"
        | "DAYOFWEEKISO"
        | "DAYOFYEAR"
        | "HOUR"
        | "MINUTE"
        | "SECOND"
        | "DATE_PART"
        | "CONDITIONAL_CHANGE_EVENT"
        | "CONDITIONAL_TRUE_EVENT"
        | "REGEXP_COUNT"
        | "REGEXP_INSTR"
        | "EDITDISTANCE" => "NUMBER",
        "TO_DOUBLE" | "TRY_TO_DOUBLE" | "PERCENT_RANK" | "CUME_DIST" | "RANDOM_FLOAT" => "FLOAT",
        "TO_BOOLEAN" | "TRY_TO_BOOLEAN" | "IS_NULL_VALUE" | "ARRAY_CONTAINS" | "BOOLAND_AGG"
        | "BOOLOR_AGG" | "BOOLXOR_AGG" | "STARTSWITH" | "ENDSWITH" | "CONTAINS" | "REGEXP_LIKE"
        | "RLIKE" | "EQUAL_NULL" | "IS_ARRAY" | "IS_OBJECT" | "IS_VARCHAR" | "IS_BOOLEAN"
        | "IS_INTEGER" | "IS_DECIMAL" | "IS_DOUBLE" | "IS_REAL" | "IS_DATE"
        | "IS_TIMESTAMP_NTZ" | "IS_TIMESTAMP_LTZ" | "IS_TIMESTAMP_TZ" | "BOOLAND" | "BOOLOR"
        | "BOOLNOT" | "BOOLXOR" => "BOOLEAN",
        "OBJECT_CONSTRUCT"
        | "OBJECT_CONSTRUCT_KEEP_NULL"
        | "OBJECT_AGG"
        | "OBJECT_INSERT"
        | "OBJECT_DELETE"
        | "OBJECT_PICK"
        | "TO_OBJECT" => "OBJECT",
        "ARRAY_AGG"
        | "ARRAY_CONSTRUCT"
        | "ARRAY_CONSTRUCT_COMPACT"
        | "ARRAY_UNIQUE_AGG"
        | "ARRAY_UNION_AGG"
        | "ARRAY_CAT"
        | "ARRAY_APPEND"
        | "ARRAY_PREPEND"
        | "ARRAY_DISTINCT"
        | "ARRAY_COMPACT"
        | "ARRAY_SLICE"
        | "ARRAY_SORT"
        | "ARRAY_INTERSECTION"
        | "ARRAY_EXCEPT"
        | "OBJECT_KEYS"
        | "FILTER"
        | "TRANSFORM"
        | "SPLIT"
        | "STRTOK_TO_ARRAY"
        | "TO_ARRAY"
        | "ARRAY_FLATTEN" => "ARRAY",
        "PARSE_JSON" | "TRY_PARSE_JSON" | "GET" | "GET_PATH" | "TO_VARIANT" | "GET_IGNORE_CASE" => {
            "VARIANT"
        }
        _ => return None,
    })
}

/// The data type a function returns, where it is certain from its name and
/// the types of its arguments.
pub(super) fn function_type<T: Typed>(name: &str, args: &[T]) -> Option<String> {
    if let Some(t) = fixed_type(name) {
        return Some(t.to_string());
    }
    let arg = |i: usize| args.get(i).and_then(|a| a.data_type()).map(str::to_string);
    match name {
        "MIN" | "MAX" | "ANY_VALUE" | "MODE" | "FIRST_VALUE" | "LAST_VALUE" | "NTH_VALUE"
        | "LAG" | "LEAD" | "MIN_BY" | "MAX_BY" | "NULLIF" | "ZEROIFNULL" | "NULLIFZERO" | "ABS" => {
            arg(0)
        }
        "DATE_TRUNC" => arg(1),
        // Adding to a timestamp keeps its type (to a DATE it depends on the
        // date part, so that stays unknown).
        "DATEADD" | "TIMEADD" | "TIMESTAMPADD" => arg(2).filter(|t| t.starts_with("TIMESTAMP")),
        "CONVERT_TIMEZONE" => match args.len() {
            2 => Some("TIMESTAMP_TZ".to_string()),
            3 => Some("TIMESTAMP_NTZ".to_string()),
            _ => None,
        },
        "COALESCE" | "NVL" | "IFNULL" | "GREATEST" | "LEAST" => common_type(args),
        "IFF" => common_type(args.get(1..).unwrap_or(&[])),
        "NVL2" => common_type(args.get(1..).unwrap_or(&[])),
        _ => None,
    }
}

/// The type shared by all of `items`, ignoring `NULL` literals; `None` if any
/// other item's type is unknown or they differ.
pub(super) fn common_type<T: Typed>(items: &[T]) -> Option<String> {
    let mut found: Option<&str> = None;
    for item in items {
        if item.is_null() {
            continue;
        }
        let t = item.data_type()?;
        match found {
            None => found = Some(t),
            Some(f) if f == t => {}
            Some(_) => return None,
        }
    }
    found.map(str::to_string)
}

/// A data type as Snowflake prints it: upper case, no space after commas
/// (`NUMBER(38,0)`).
pub(super) fn type_name(dt: &DataType) -> String {
    dt.to_string().to_uppercase().replace(", ", ",")
}

pub(super) fn literal_type(v: &Value) -> Option<String> {
    match v {
        Value::Number(n, _) => Some(if n.contains(['e', 'E']) {
            "FLOAT".to_string()
        } else {
            "NUMBER".to_string()
        }),
        Value::Boolean(_) => Some("BOOLEAN".to_string()),
        Value::Null | Value::Placeholder(_) => None,
        Value::HexStringLiteral(_)
        | Value::SingleQuotedByteStringLiteral(_)
        | Value::DoubleQuotedByteStringLiteral(_)
        | Value::TripleSingleQuotedByteStringLiteral(_)
        | Value::TripleDoubleQuotedByteStringLiteral(_) => Some("BINARY".to_string()),
        _ => Some("VARCHAR".to_string()),
    }
}

pub(super) fn is_numeric(t: &Option<String>) -> bool {
    t.as_deref().is_some_and(|t| {
        [
            "NUMBER", "INT", "INTEGER", "BIGINT", "SMALLINT", "DECIMAL", "NUMERIC",
        ]
        .iter()
        .any(|p| t == *p || t.starts_with(&format!("{p}(")))
    })
}

pub(super) fn function_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.to_uppercase(),
            ObjectNamePart::Function(f) => f.name.value.to_uppercase(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

pub(super) fn binary_type(
    op: &BinaryOperator,
    l: &Option<String>,
    r: &Option<String>,
) -> Option<String> {
    use BinaryOperator as B;
    match op {
        B::Gt | B::Lt | B::GtEq | B::LtEq | B::Eq | B::NotEq | B::And | B::Or | B::Xor => {
            Some("BOOLEAN".to_string())
        }
        B::StringConcat => Some("VARCHAR".to_string()),
        B::Plus | B::Minus | B::Multiply | B::Modulo if is_numeric(l) && is_numeric(r) => {
            Some("NUMBER".to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_type_detection() {
        assert!(is_numeric(&Some("NUMBER".to_string())));
        assert!(is_numeric(&Some("NUMBER(38,0)".to_string())));
        assert!(!is_numeric(&Some("NUMBERS".to_string())));
        assert!(!is_numeric(&None));
    }
}
