//! Snowflake data type normalisation.

/// Normalises a Snowflake data type name to its canonical form.
///
/// Precision and length suffixes are dropped and Snowflake's synonyms are
/// folded into one name, so macros can compare types with a plain equality:
///
/// ```
/// use cio_sql::sql::normalize_type;
/// assert_eq!(normalize_type("VARCHAR(16777216)"), "VARCHAR");
/// assert_eq!(normalize_type("timestamp without time zone"), "TIMESTAMP_NTZ");
/// assert_eq!(normalize_type("NUMBER(38,0)"), "NUMBER");
/// ```
pub fn normalize_type(raw: &str) -> String {
    let upper = raw.trim().to_uppercase();
    // Drop a parenthesised suffix: VARCHAR(10), NUMBER(38, 0), TIMESTAMP_NTZ(9).
    let base = match upper.find('(') {
        Some(idx) => {
            let after = upper[idx..].find(')').map(|end| &upper[idx + end + 1..]);
            format!("{} {}", &upper[..idx], after.unwrap_or(""))
        }
        None => upper,
    };
    let words: Vec<&str> = base.split_whitespace().collect();
    let joined = words.join(" ");
    let canonical = match joined.as_str() {
        "VARCHAR" | "TEXT" | "STRING" | "CHAR" | "CHARACTER" | "NCHAR" | "NVARCHAR"
        | "NVARCHAR2" | "CHAR VARYING" | "NCHAR VARYING" | "CHARACTER VARYING" => "VARCHAR",
        "NUMBER" | "DECIMAL" | "NUMERIC" | "INT" | "INTEGER" | "BIGINT" | "SMALLINT"
        | "TINYINT" | "BYTEINT" | "FIXED" => "NUMBER",
        "FLOAT" | "FLOAT4" | "FLOAT8" | "DOUBLE" | "DOUBLE PRECISION" | "REAL" => "FLOAT",
        "BOOLEAN" | "BOOL" => "BOOLEAN",
        "DATETIME" | "TIMESTAMP_NTZ" | "TIMESTAMP WITHOUT TIME ZONE" | "TIMESTAMPNTZ" => {
            "TIMESTAMP_NTZ"
        }
        "TIMESTAMP_TZ" | "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => "TIMESTAMP_TZ",
        "TIMESTAMP_LTZ" | "TIMESTAMPLTZ" | "TIMESTAMP WITH LOCAL TIME ZONE" => "TIMESTAMP_LTZ",
        "TIMESTAMP" => "TIMESTAMP",
        "DATE" => "DATE",
        "TIME" => "TIME",
        "BINARY" | "VARBINARY" => "BINARY",
        "VARIANT" => "VARIANT",
        "OBJECT" => "OBJECT",
        "ARRAY" => "ARRAY",
        "GEOGRAPHY" => "GEOGRAPHY",
        "GEOMETRY" => "GEOMETRY",
        other => return other.to_string(),
    };
    canonical.to_string()
}

/// True for the types the nexus macros wrap in `TO_TIMESTAMP_NTZ`.
///
/// Expects a normalised type (see [`normalize_type`]).
pub fn is_timestamp_type(normalised: &str) -> bool {
    matches!(
        normalised,
        "TIMESTAMP_NTZ" | "TIMESTAMP_LTZ" | "TIMESTAMP_TZ" | "TIMESTAMP" | "DATETIME" | "DATE"
    )
}

/// `expr`, of the normalised type `normalised`, as a UTC `TIMESTAMP_NTZ`:
/// what every timestamp a nexus macro outputs is. `None` for a type that is
/// not a timestamp (see [`is_timestamp_type`]).
///
/// - `TIMESTAMP_TZ` and `TIMESTAMP_LTZ`: `CONVERT_TIMEZONE('UTC', expr)::TIMESTAMP_NTZ`.
///   Snowflake's `TO_TIMESTAMP_NTZ` of such a value keeps its wall-clock
///   time and drops the offset (an LTZ one in the session's time zone), so
///   it is not UTC ("Conversion rules" of "Date & time data types",
///   <https://docs.snowflake.com/en/sql-reference/data-types-datetime#timestamp-ltz-timestamp-ntz-timestamp-tz>;
///   "CONVERT_TIMEZONE", <https://docs.snowflake.com/en/sql-reference/functions/convert_timezone>:
///   the two-argument form converts to the target zone). The emulator
///   converts either way, so snapshots pin this shape.
/// - `TIMESTAMP_NTZ`, `TIMESTAMP` (NTZ under the default
///   `TIMESTAMP_TYPE_MAPPING`), `DATETIME`, `DATE`: `TO_TIMESTAMP_NTZ(expr)`,
///   the value taken as UTC.
pub fn utc_timestamp(expr: &str, normalised: &str) -> Option<String> {
    match normalised {
        "TIMESTAMP_TZ" | "TIMESTAMP_LTZ" => {
            Some(format!("CONVERT_TIMEZONE('UTC', {expr})::TIMESTAMP_NTZ"))
        }
        t if is_timestamp_type(t) => Some(format!("TO_TIMESTAMP_NTZ({expr})")),
        _ => None,
    }
}

/// True for text types, whose dedupe keys are compared as `LOWER(TRIM(col))`.
pub fn is_text_type(normalised: &str) -> bool {
    normalised == "VARCHAR"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_utc_ntz() {
        for (t, want) in [
            (
                "TIMESTAMP_TZ",
                Some("CONVERT_TIMEZONE('UTC', c)::TIMESTAMP_NTZ"),
            ),
            (
                "TIMESTAMP_LTZ",
                Some("CONVERT_TIMEZONE('UTC', c)::TIMESTAMP_NTZ"),
            ),
            ("TIMESTAMP_NTZ", Some("TO_TIMESTAMP_NTZ(c)")),
            ("TIMESTAMP", Some("TO_TIMESTAMP_NTZ(c)")),
            ("DATE", Some("TO_TIMESTAMP_NTZ(c)")),
            ("VARCHAR", None),
        ] {
            assert_eq!(utc_timestamp("c", t).as_deref(), want, "{t}");
        }
    }

    #[test]
    fn normalises_synonyms_and_suffixes() {
        let cases = [
            ("VARCHAR(16777216)", "VARCHAR"),
            ("text", "VARCHAR"),
            ("STRING", "VARCHAR"),
            ("char(1)", "VARCHAR"),
            ("character varying(20)", "VARCHAR"),
            ("TIMESTAMP_NTZ(9)", "TIMESTAMP_NTZ"),
            ("DATETIME", "TIMESTAMP_NTZ"),
            ("timestamp without time zone", "TIMESTAMP_NTZ"),
            ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP_TZ"),
            ("TIMESTAMPTZ", "TIMESTAMP_TZ"),
            ("timestamp_ltz(3)", "TIMESTAMP_LTZ"),
            ("TIMESTAMP(9)", "TIMESTAMP"),
            ("NUMBER(38,0)", "NUMBER"),
            ("NUMBER(38, 2)", "NUMBER"),
            ("int", "NUMBER"),
            ("DOUBLE PRECISION", "FLOAT"),
            ("bool", "BOOLEAN"),
            ("  date ", "DATE"),
            ("VARIANT", "VARIANT"),
            ("SOMETHING_NEW", "SOMETHING_NEW"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_type(raw), want, "normalising {raw:?}");
        }
    }

    #[test]
    fn timestamp_and_text_classes() {
        for t in [
            "TIMESTAMP_NTZ",
            "TIMESTAMP_LTZ",
            "TIMESTAMP_TZ",
            "TIMESTAMP",
            "DATE",
        ] {
            assert!(is_timestamp_type(t), "{t}");
        }
        for t in ["VARCHAR", "NUMBER", "TIME", "BOOLEAN"] {
            assert!(!is_timestamp_type(t), "{t}");
        }
        assert!(is_text_type("VARCHAR"));
        assert!(!is_text_type("NUMBER"));
    }
}
