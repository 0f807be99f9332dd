//! The vocabulary of Snowflake SQL that every stage shares: names and
//! literals, the one place that decides how a name is written in the SQL
//! cio-sql generates (the macros' column lists, `ref()`, `this` and
//! `source()`, the `CREATE` statements of `run` and `seed`, the
//! introspection queries) and which names cio-sql refuses to create;
//! relation names ([`RelationName`], [`Quoting`]), columns ([`Column`]) and
//! data types ([`normalize_type`]).
//!
//! Every rule follows Snowflake's "Identifier requirements"
//! (<https://docs.snowflake.com/en/sql-reference/identifiers-syntax>); see
//! [`is_plain_identifier`]. A leaf module: it depends on no stage.

mod column;
mod relation;
mod types;

pub use column::Column;
pub use relation::{NamePart, Quoting, RelationName};
pub use types::{is_text_type, is_timestamp_type, normalize_type, utc_timestamp};

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

/// The longest name Snowflake holds, quoted or not: 255 characters
/// ("Identifier requirements", see [`is_plain_identifier`]).
pub const MAX_NAME_CHARS: usize = 255;

/// True when `name` can be written as an unquoted Snowflake identifier:
/// it starts with a letter (`A`-`Z`, `a`-`z`) or an underscore and holds
/// only letters, decimal digits, underscores and dollar signs.
///
/// This is Snowflake's rule for unquoted object identifiers, the one rule
/// cio-sql uses wherever it decides whether a name needs quotes. Snowflake
/// stores and resolves such a name upper-cased (`id` is `ID`); any other
/// name must be double-quoted, is kept exactly as spelled, and may hold any
/// character (a `"` doubled). Snowflake, "Identifier requirements":
/// <https://docs.snowflake.com/en/sql-reference/identifiers-syntax>.
pub fn is_plain_identifier(name: &str) -> bool {
    letter_cases(name).is_some()
}

/// True for a character that may start an unquoted Snowflake identifier:
/// an ASCII letter or `_` (see [`is_plain_identifier`]).
pub fn is_identifier_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// True for a character an unquoted Snowflake identifier may hold after its
/// first: an ASCII letter, a decimal digit, `_` or `$` (see
/// [`is_plain_identifier`]).
pub fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// For a plain identifier, whether it holds lower-case and upper-case
/// letters; `None` for any other name. One pass: it runs for every column
/// a macro writes.
fn letter_cases(name: &str) -> Option<(bool, bool)> {
    let mut bytes = name.bytes();
    let first = bytes.next()?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let (mut lower, mut upper) = (first.is_ascii_lowercase(), first.is_ascii_uppercase());
    for b in bytes {
        match b {
            b'a'..=b'z' => lower = true,
            b'A'..=b'Z' => upper = true,
            b'0'..=b'9' | b'_' | b'$' => {}
            _ => return None,
        }
    }
    Some((lower, upper))
}

/// True when `text` (surrounding whitespace aside) is a single unquoted SQL
/// identifier (any case), such as `user_id` or `USER_ID`, as opposed to an
/// expression or a quoted name.
pub fn is_bare_identifier(text: &str) -> bool {
    is_plain_identifier(text.trim())
}

/// True when the stored name `name` (as Snowflake keeps it) can only be
/// written quoted: it is not a plain identifier, or it holds lower-case
/// letters, which an unquoted name never stores.
pub fn stored_needs_quotes(name: &str) -> bool {
    !matches!(letter_cases(name), Some((false, _)))
}

/// True when a catalog spelling names what the unquoted name names: a plain
/// identifier in one case (`first_name`, `FIRST_NAME`). A mixed-case
/// spelling (`CamelCaseTrait`) can only have been created quoted.
pub fn spelled_unquoted(name: &str) -> bool {
    matches!(letter_cases(name), Some((lower, upper)) if !(lower && upper))
}

/// True when [`identifier`] writes the catalog column `name` as it is,
/// without quotes.
pub fn writes_unquoted(name: &str) -> bool {
    spelled_unquoted(name) && !is_reserved(name)
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

/// Writes a catalog column name as a SQL identifier, by
/// [`relation_part`]'s rule.
///
/// A plain name in one case is written as it is; anything else (mixed
/// case, spaces, symbols) was created quoted and is quoted exactly as
/// spelled. Reserved words are quoted in upper case, which is how Snowflake
/// stores them.
pub fn identifier(name: &str) -> String {
    write_name(name, spelled_unquoted(name))
}

/// Writes one part of a relation name (database, schema or table) the way
/// dbt-snowflake does under `quoting:` (`quoted` is that part's setting):
/// quoted exactly as spelled when `quoted`; otherwise as it is when it is a
/// plain identifier, so an ordinary name renders unchanged. Otherwise it is
/// quoted too, so no name ever changes the statement around it: a reserved
/// word in upper case (the relation the unquoted word would name), any
/// other name exactly as spelled. [`check_name`] refuses names that
/// need those quotes for the relations cio-sql creates.
pub fn relation_part(name: &str, quoted: bool) -> String {
    write_name(name, !quoted && is_plain_identifier(name))
}

/// `name` as it is when `bare` (a reserved word quoted in upper case),
/// else quoted exactly as spelled.
fn write_name(name: &str, bare: bool) -> String {
    if !bare {
        quote(name)
    } else if is_reserved(name) {
        quote(&name.to_ascii_uppercase())
    } else {
        name.to_string()
    }
}

/// The name Snowflake stores for a relation part written by
/// [`relation_part`]: upper-cased when written unquoted (or as the quoted
/// upper-case form of a reserved word), else exactly as spelled. Two parts
/// name the same object when these are equal.
pub fn resolved_part(name: &str, quoted: bool) -> std::borrow::Cow<'_, str> {
    if !quoted && is_plain_identifier(name) {
        std::borrow::Cow::Owned(name.to_ascii_uppercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// `name` as a quoted identifier that means what [`relation_part`] with
/// quoting off means: plain names upper-cased (so reserved words work too),
/// others exactly as spelled. For statements that take one bare name, such
/// as `USE SCHEMA`.
pub fn quoted_resolved(name: &str) -> String {
    quote(&resolved_part(name, false))
}

/// Why a name cannot be used for an object cio-sql creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_CHARS`].
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// The name holds a control character (a line break, a NUL, …), which
    /// cio-sql refuses even quoted.
    Control(char),
    /// The name can only be written quoted, and quoting is off for it.
    NeedsQuotes,
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameProblem::Empty => f.write_str("it is empty"),
            NameProblem::TooLong { chars } => write!(
                f,
                "it is {chars} characters long; Snowflake names hold at most {MAX_NAME_CHARS}"
            ),
            NameProblem::Control(c) => {
                write!(f, "it holds the control character {:?}", c)
            }
            NameProblem::NeedsQuotes => f.write_str(
                "it is not a plain Snowflake identifier (a letter or `_`, then letters, digits, `_` or `$`), so it would need double quotes, and quoting is off for it",
            ),
        }
    }
}

impl NameProblem {
    /// The help for this problem with the name `name`. `how_plain` says how
    /// to give the part a plain name (`{plain}` stands for a plain name close
    /// to `name`, see [`plain_suggestion`]); `quoting_key` is the part's key
    /// under dbt's `quoting:`.
    pub fn help(&self, name: &str, how_plain: &str, quoting_key: &str) -> String {
        let how_plain = how_plain.replace("{plain}", &plain_suggestion(name));
        match self {
            NameProblem::NeedsQuotes => format!(
                "{how_plain}; or set `quoting: {{{quoting_key}: true}}` in dbt_project.yml to create it double-quoted, exactly as spelled (it is then case-sensitive)"
            ),
            _ => format!(
                "{how_plain}: Snowflake names are 1 to {MAX_NAME_CHARS} characters, and cio-sql refuses control characters in them"
            ),
        }
    }
}

/// A plain identifier close to `name`, for help texts: every character a
/// plain name cannot hold becomes `_`, and a leading `_` is added when the
/// name does not start with a letter or `_`.
pub fn plain_suggestion(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if is_identifier_char(c) { c } else { '_' })
        .take(MAX_NAME_CHARS - 1)
        .collect();
    if !out.starts_with(is_identifier_start) {
        out.insert(0, '_');
    }
    out
}

/// Checks a name cio-sql writes into a statement: Snowflake must be able
/// to hold it (not empty, at most [`MAX_NAME_CHARS`] characters; cio-sql
/// also refuses control characters). For an object cio-sql creates (a
/// model's database, schema or table, a seed table) with quoting off
/// (`quoted` false), it must also be a plain identifier: quoting it anyway
/// would make it case-sensitive behind the user's back.
pub fn check_name(name: &str, quoted: bool) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(NameProblem::Control(c));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(NameProblem::TooLong { chars });
    }
    if !quoted && !is_plain_identifier(name) {
        return Err(NameProblem::NeedsQuotes);
    }
    Ok(())
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

    #[test]
    fn plain_identifiers_follow_snowflake_rule() {
        // Letters or `_` first, then letters, digits, `_` and `$`.
        for plain in ["a", "_", "_x1", "My$identifier", "MyIdentifier1", "X$"] {
            assert!(is_plain_identifier(plain), "{plain}");
        }
        for not_plain in [
            "", "1st", "$x", "a b", "a.b", "a-b", "a;b", "é", "naïve", "a\"b",
        ] {
            assert!(!is_plain_identifier(not_plain), "{not_plain}");
        }
        assert!(is_bare_identifier("  user$id "));
    }

    #[test]
    fn column_identifiers() {
        // `$` is part of a plain name, as in Snowflake.
        assert_eq!(identifier("my$col"), "my$col");
        assert_eq!(identifier("$col"), "\"$col\"");
        assert_eq!(identifier("2nd_name"), "\"2nd_name\"");
        assert_eq!(identifier("prénom"), "\"prénom\"");
        assert_eq!(
            identifier("Select"),
            "\"Select\"",
            "mixed case: created quoted"
        );
        assert_eq!(identifier("select"), "\"SELECT\"");
        assert_eq!(identifier(""), "\"\"");
        assert_eq!(identifier("a\"\"b"), "\"a\"\"\"\"b\"");
        assert!(writes_unquoted("user_id") && writes_unquoted("A$1"));
        assert!(!writes_unquoted("order") && !writes_unquoted("CamelCase") && !writes_unquoted(""));
    }

    #[test]
    fn stored_names_needing_quotes() {
        assert!(!stored_needs_quotes("USER_ID") && !stored_needs_quotes("_X$1"));
        for quoted in ["userId", "1ABC", "A B", "", "É", "A\"B"] {
            assert!(stored_needs_quotes(quoted), "{quoted}");
        }
    }

    #[test]
    fn relation_parts() {
        // Ordinary names render unchanged, whatever their case.
        assert_eq!(
            relation_part("customer_io_persons", false),
            "customer_io_persons"
        );
        assert_eq!(relation_part("Foo", false), "Foo");
        assert_eq!(relation_part("my$table", false), "my$table");
        // Quoting on: exactly as spelled.
        assert_eq!(relation_part("Foo", true), "\"Foo\"");
        // Quoting off, but the name cannot stand unquoted: still quoted, so
        // nothing can change the statement around it.
        assert_eq!(relation_part("order", false), "\"ORDER\"");
        assert_eq!(relation_part("my model", false), "\"my model\"");
        assert_eq!(relation_part("a.b.c", false), "\"a.b.c\"");
        assert_eq!(relation_part("9lives", false), "\"9lives\"");
        assert_eq!(relation_part("日本", false), "\"日本\"");
        assert_eq!(
            relation_part("t\"; DROP TABLE x; --", false),
            "\"t\"\"; DROP TABLE x; --\""
        );
        assert_eq!(relation_part("", true), "\"\"");
    }

    #[test]
    fn resolved_parts_compare_like_snowflake() {
        assert_eq!(resolved_part("Foo", false), "FOO");
        assert_eq!(resolved_part("order", false), "ORDER");
        assert_eq!(resolved_part("Foo", true), "Foo");
        assert_eq!(resolved_part("my model", false), "my model");
        assert_eq!(quoted_resolved("analytics"), "\"ANALYTICS\"");
        assert_eq!(quoted_resolved("select"), "\"SELECT\"");
        assert_eq!(quoted_resolved("my-db"), "\"my-db\"");
        assert_eq!(quoted_resolved("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn suggestions_are_plain() {
        assert_eq!(plain_suggestion("my model"), "my_model");
        assert_eq!(plain_suggestion("a.b.c"), "a_b_c");
        assert_eq!(plain_suggestion("semi;drop table x"), "semi_drop_table_x");
        assert_eq!(plain_suggestion("1st"), "_1st");
        assert_eq!(plain_suggestion("é"), "_");
        assert_eq!(plain_suggestion(""), "_");
        for name in ["my model", "1st", "é", "", &"x y".repeat(200)] {
            assert_eq!(check_name(&plain_suggestion(name), false), Ok(()), "{name}");
        }
    }

    #[test]
    fn created_names() {
        assert_eq!(check_name("orders", false), Ok(()));
        assert_eq!(check_name("order", false), Ok(()), "quoted in upper case");
        assert_eq!(check_name("", true), Err(NameProblem::Empty));
        assert_eq!(check_name("my model", false), Err(NameProblem::NeedsQuotes));
        assert_eq!(check_name("my model", true), Ok(()));
        assert_eq!(check_name("1st", false), Err(NameProblem::NeedsQuotes));
        assert_eq!(check_name("é", false), Err(NameProblem::NeedsQuotes));
        assert_eq!(check_name("é", true), Ok(()));
        assert_eq!(check_name("a\"b", true), Ok(()));
        assert_eq!(check_name("a\nb", true), Err(NameProblem::Control('\n')));
        assert_eq!(check_name(&"x".repeat(255), false), Ok(()));
        assert_eq!(
            check_name(&"é".repeat(256), true),
            Err(NameProblem::TooLong { chars: 256 })
        );
        let why = NameProblem::NeedsQuotes.to_string();
        assert!(why.contains("quoting is off"), "{why}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, failure_persistence: None, ..Default::default() })]

        /// Whatever the name, a rendered relation is one three-part name
        /// in one statement, and it names what Snowflake would store.
        #[test]
        fn any_name_renders_as_one_relation(
            parts in proptest::collection::vec(proptest::prelude::any::<String>(), 3),
            quoted in proptest::prelude::any::<bool>(),
        ) {
            use sqlparser::ast::{ObjectNamePart, Statement};
            let sql = format!(
                "CREATE OR REPLACE TABLE {}.{}.{} AS SELECT 1 AS x",
                relation_part(&parts[0], quoted),
                relation_part(&parts[1], quoted),
                relation_part(&parts[2], quoted),
            );
            let parsed = sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SnowflakeDialect {}, &sql);
            // Names Snowflake can hold always parse; others (a control
            // character) may fail to, but never make a second statement.
            let holdable = parts.iter().all(|p| check_name(p, true).is_ok());
            proptest::prop_assert!(parsed.is_ok() || !holdable, "{}: {:?}", sql, parsed);
            if let Ok(statements) = parsed {
                proptest::prop_assert_eq!(statements.len(), 1, "{}", sql);
                let Statement::CreateTable(create) = &statements[0] else {
                    return Err(proptest::test_runner::TestCaseError::fail(format!("not a CREATE TABLE: {sql}")));
                };
                let got: Vec<String> = create.name.0.iter().map(|p| match p {
                    ObjectNamePart::Identifier(i) if i.quote_style.is_some() => i.value.clone(),
                    ObjectNamePart::Identifier(i) => i.value.to_ascii_uppercase(),
                    other => other.to_string(),
                }).collect();
                let want: Vec<String> = parts.iter().map(|p| resolved_part(p, quoted).into_owned()).collect();
                proptest::prop_assert_eq!(got, want, "{}", sql);
            }
        }
    }
}
