//! Small SQL text helpers shared by the macros and the analysis stage:
//! identifier quoting and string literals, following Snowflake's rules.

/// Snowflake's reserved keywords: a column with one of these names must be
/// quoted even when it is a plain identifier.
const RESERVED: &[&str] = &[
    "ACCOUNT",
    "ALL",
    "ALTER",
    "AND",
    "ANY",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CHECK",
    "COLUMN",
    "CONNECT",
    "CONNECTION",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "DATABASE",
    "DELETE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "EXISTS",
    "FALSE",
    "FOLLOWING",
    "FOR",
    "FROM",
    "FULL",
    "GRANT",
    "GROUP",
    "GSCLUSTER",
    "HAVING",
    "ILIKE",
    "IN",
    "INCREMENT",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "ISSUE",
    "JOIN",
    "LATERAL",
    "LEFT",
    "LIKE",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "MINUS",
    "NATURAL",
    "NOT",
    "NULL",
    "OF",
    "ON",
    "OR",
    "ORDER",
    "ORGANIZATION",
    "QUALIFY",
    "REGEXP",
    "REVOKE",
    "RIGHT",
    "RLIKE",
    "ROW",
    "ROWS",
    "SAMPLE",
    "SCHEMA",
    "SELECT",
    "SET",
    "SOME",
    "START",
    "TABLE",
    "TABLESAMPLE",
    "THEN",
    "TO",
    "TRIGGER",
    "TRUE",
    "TRY_CAST",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHENEVER",
    "WHERE",
    "WITH",
];

/// True when `name` is a plain identifier: only lower-case letters, digits
/// and underscores, or only upper-case ones, not starting with a digit.
///
/// Such a name can be written unquoted; Snowflake stores it upper-cased.
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return false;
    }
    let all_lower = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let all_upper = name
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    all_lower || all_upper
}

/// True when `text` is a single unquoted SQL identifier (any case), such as
/// `user_id` or `USER_ID`, as opposed to an expression or a quoted name.
pub fn is_bare_identifier(text: &str) -> bool {
    let text = text.trim();
    let mut chars = text.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// True when `name` is one of Snowflake's reserved keywords, in any case.
pub fn is_reserved(name: &str) -> bool {
    // Called for every column of every model: compare without allocating.
    RESERVED
        .binary_search_by(|word| {
            let word = word.bytes();
            let name = name.bytes().map(|b| b.to_ascii_uppercase());
            word.cmp(name)
        })
        .is_ok()
}

/// Writes a catalog column name as a SQL identifier.
///
/// Plain names are written as they are; anything else (mixed case, spaces,
/// symbols) was created quoted and is quoted exactly as spelled. Reserved
/// words are quoted in upper case, which is how Snowflake stores them.
pub fn identifier(name: &str) -> String {
    if is_plain_identifier(name) {
        if is_reserved(name) {
            quote(&name.to_ascii_uppercase())
        } else {
            name.to_string()
        }
    } else {
        quote(name)
    }
}

/// Double-quotes `name`, doubling any double quote inside.
pub fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A Snowflake string literal: single quotes, with `'` and `\` escaped.
pub fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_sorted_for_binary_search() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
        assert!(is_reserved("order") && is_reserved("Qualify") && is_reserved("WITH"));
        assert!(!is_reserved("orders") && !is_reserved("") && !is_reserved("with_x"));
    }

    #[test]
    fn quoting_rules() {
        assert_eq!(identifier("first_name"), "first_name");
        assert_eq!(identifier("FIRST_NAME"), "FIRST_NAME");
        assert_eq!(identifier("CamelCaseTrait"), "\"CamelCaseTrait\"");
        assert_eq!(identifier("has space"), "\"has space\"");
        assert_eq!(identifier("1st"), "\"1st\"");
        assert_eq!(identifier("order"), "\"ORDER\"");
        assert_eq!(identifier("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(string_literal("o'brien\\x"), "'o''brien\\\\x'");
        assert!(is_bare_identifier("USER_ID"));
        assert!(!is_bare_identifier("COALESCE(a, b)"));
        assert!(!is_bare_identifier("\"userId\""));
    }
}
