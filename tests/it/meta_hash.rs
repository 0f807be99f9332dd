//! `nexus.meta_hash`: Meta Conversions API normalisation and SHA-256 in
//! SQL. Every vector of `fixtures/meta_hash_vectors.json` (the project's
//! own research: input, row hints, the normalised string) runs through the
//! macro's SQL on the emulator, and the hash that comes back is compared
//! with a SHA-256 the test computes itself from the expected normalised
//! string.

use crate::support::{TestProject, fakesnow, render_all, snapshots};
use cio_sql::settings::Emulator;
use cio_sql::warehouse::{Secret, SnowflakeConfig, SnowflakeWarehouse, Warehouse};
use serde_json::Value;
use sha2::{Digest, Sha256};

const VECTORS: &str = include_str!("fixtures/meta_hash_vectors.json");

pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A Jinja string literal holding `text`.
fn jinja(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A SQL string literal holding `text`.
fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The `date_format` for a vector's Python `strptime` layout.
fn date_format(fmt: &str) -> &'static str {
    match fmt {
        "%m/%d/%Y" => "MM/DD/YYYY",
        "%Y-%m-%d" => "YYYY-MM-DD",
        "%d.%m.%Y" => "DD.MM.YYYY",
        "%d/%m/%Y" => "DD/MM/YYYY",
        "%Y%m%d" => "YYYYMMDD",
        other => panic!("the test knows no date_format for {other}"),
    }
}

/// One case: a field, an input and the hint arguments of the call.
struct Case {
    field: String,
    input: String,
    args: String,
    /// The normalised string the vector expects (none: not sent).
    normalized: Option<String>,
    /// The vector's own SHA-256 of it.
    sha256: Option<String>,
    note: String,
}

fn cases() -> Vec<Case> {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    let mut out = Vec::new();
    for (field, spec) in vectors["fields"].as_object().unwrap() {
        for v in spec["vectors"].as_array().unwrap() {
            let hints = v["hints"].as_object().cloned().unwrap_or_default();
            // Each hint once as a literal; a country hint once more as a
            // per-row expression, which takes the other branch of the SQL.
            let mut variants: Vec<String> = vec![String::new()];
            for (key, value) in &hints {
                let value = value.as_str().unwrap();
                let arg = match key.as_str() {
                    "calling_code" => format!("calling_code={}", jinja(value)),
                    "country" => format!("country={}", jinja(&sql_literal(value))),
                    "fmt" => format!("date_format={}", jinja(date_format(value))),
                    other => panic!("unknown hint {other}"),
                };
                variants = variants.iter().map(|a| format!("{a}, {arg}")).collect();
                if key == "country" {
                    variants.push(format!(
                        ", country={}",
                        jinja(&format!("UPPER({})", sql_literal(value)))
                    ));
                }
            }
            for args in variants {
                out.push(Case {
                    field: field.clone(),
                    input: v["input"].as_str().unwrap().to_string(),
                    args,
                    normalized: v["normalized"].as_str().map(str::to_string),
                    sha256: v["sha256"].as_str().map(str::to_string),
                    note: v["note"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
    }
    out
}

/// One SELECT of every case: its number, the normalised text and the hash.
fn model(cases: &[Case]) -> String {
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let expr = jinja(&sql_literal(&c.input));
            let kind = jinja(&c.field);
            format!(
                "SELECT {i} AS n, {{{{ nexus.meta_normalize({expr}, {kind}{args}) }}}} AS normalized, {{{{ nexus.meta_hash({expr}, {kind}{args}) }}}} AS hashed",
                args = c.args
            )
        })
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n")
}

fn connect() -> SnowflakeWarehouse {
    let server = fakesnow::shared();
    let mut c = SnowflakeConfig::new("testacct", "tester");
    c.password = Some(Secret::new("meta-hash-tests"));
    c.host = Some(server.base_url());
    c.emulator = Some(Emulator::Fakesnow);
    c.retries = 1;
    c.statement_timeout_secs = 120;
    SnowflakeWarehouse::connect(&c)
        .unwrap_or_else(|e| panic!("cannot connect to fakesnow: {e}\n{}", server.log_tail()))
}

/// Snowflake has no Unicode normalisation: a name stored decomposed
/// (`e` + U+0301) is hashed decomposed. These vectors are the only ones
/// that need NFC, and the test says what they give instead.
fn is_decomposed(text: &str) -> bool {
    text.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c))
}

#[test]
fn every_vector_hashes_on_the_emulator_as_computed_here() {
    let cases = cases();
    assert!(cases.len() >= 66, "the vectors file has 66 vectors");
    let project = TestProject::new();
    project.model("hashes", &model(&cases));
    let sql = project.sql("hashes");
    let wh = connect();
    let rows = wh
        .query(&format!("SELECT * FROM ({sql}) ORDER BY n"))
        .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    assert_eq!(rows.rows.len(), cases.len());
    let mut failures = Vec::new();
    let mut decomposed = 0;
    for (row, case) in rows.rows.iter().zip(&cases) {
        let normalized = row[1].as_str().map(str::to_string);
        let hashed = row[2].as_str().map(str::to_string);
        let mut expected = case.normalized.clone();
        if is_decomposed(&case.input) {
            // Lower-cased, as stored: the documented exception.
            decomposed += 1;
            expected = Some(case.input.to_lowercase());
            assert_ne!(expected, case.normalized);
        }
        // The vector's own hash is the SHA-256 of its normalised string.
        if let (Some(n), Some(h)) = (&case.normalized, &case.sha256) {
            assert_eq!(&sha256_hex(n), h, "vector {} {:?}", case.field, case.input);
        }
        let want_hash = expected.as_deref().map(sha256_hex);
        if normalized != expected || hashed != want_hash {
            failures.push(format!(
                "{} {:?}{} ({}): normalised {normalized:?}, expected {expected:?}; hash {hashed:?}, expected {want_hash:?}",
                case.field, case.input, case.args, case.note
            ));
        }
    }
    assert_eq!(decomposed, 2, "the two decomposed-Unicode vectors");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn null_and_blank_values_stay_null() {
    let fields = cio_sql::destinations::meta_capi::USER_DATA_HASHED;
    let selects: Vec<String> = fields
        .iter()
        .flat_map(|f| {
            ["NULL", "'   '", "''"].map(|v| {
                format!(
                    "SELECT '{f}' AS field, {v} AS input, {{{{ nexus.meta_hash(\"{v}\", '{f}') }}}} AS hashed"
                )
            })
        })
        .collect();
    let project = TestProject::new();
    project.model("nulls", &selects.join("\nUNION ALL\n"));
    let sql = project.sql("nulls");
    let rows = connect()
        .query(&sql)
        .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    assert_eq!(rows.rows.len(), fields.len() * 3);
    for row in &rows.rows {
        assert!(
            row[2].is_null(),
            "{row:?}: the hash of nothing must be NULL"
        );
    }
}

#[test]
fn the_sql_of_each_field_is_pinned() {
    // The emulator runs on DuckDB: the Snowflake shape of every rule is
    // pinned here (regular expressions: POSIX ERE, no Unicode classes, see
    // https://docs.snowflake.com/en/sql-reference/functions-regexp).
    let calls = [
        "nexus.meta_hash('email', 'em')",
        "nexus.meta_hash('phone', 'ph')",
        "nexus.meta_hash('phone', 'ph', calling_code='44')",
        "nexus.meta_hash('first_name', 'fn')",
        "nexus.meta_hash('gender', 'ge')",
        "nexus.meta_hash('birthday', 'db', date_format='date')",
        "nexus.meta_hash('birthday_text', 'db', date_format='MM/DD/YYYY')",
        "nexus.meta_hash('city', 'ct')",
        "nexus.meta_hash('state', 'st', country='country')",
        "nexus.meta_hash('zip', 'zp', country=\"'us'\")",
        "nexus.meta_hash('country', 'country')",
        "nexus.meta_hash('user_id', 'external_id')",
    ];
    let body: Vec<String> = calls
        .iter()
        .map(|c| format!("-- {c}\n{{{{ {c} }}}}"))
        .collect();
    let project = TestProject::new();
    project.model("shapes", &format!("SELECT\n{}", body.join(",\n")));
    let sql = project.sql("shapes");
    snapshots(|| insta::assert_snapshot!("meta_hash_sql", sql));
}

#[test]
fn bad_arguments_are_clear_errors() {
    let cases = [
        (
            "nexus.meta_hash('email', 'email')",
            "CIO221",
            "did you mean `em`?",
        ),
        (
            "nexus.meta_hash('ip', 'client_ip_address')",
            "CIO221",
            "sent unhashed",
        ),
        (
            "nexus.meta_hash('phone', 'ph', calling_code='+0044')",
            "CIO222",
            "calling code",
        ),
        (
            "nexus.meta_hash('email', 'em', calling_code='1')",
            "CIO222",
            "does not apply to `em`",
        ),
        (
            "nexus.meta_hash('b', 'db', date_format='DD-MM')",
            "CIO222",
            "'MM/DD/YYYY'",
        ),
        (
            "nexus.meta_hash('s', 'st', country=\"'narnia'\")",
            "CIO222",
            "ISO 3166-1",
        ),
    ];
    for (call, code, help) in cases {
        let project = TestProject::new();
        project.model("bad", &format!("SELECT\n    {{{{ {call} }}}} AS x"));
        let diags = project.errors("bad");
        let shown = render_all(&diags);
        assert!(
            diags.iter().any(|d| d.code == code),
            "{call}: expected {code}, got\n{shown}"
        );
        assert!(
            shown.contains(help),
            "{call}: expected {help:?} in\n{shown}"
        );
        assert!(
            shown.contains("bad.sql:2"),
            "{call}: points at the call\n{shown}"
        );
    }
}
