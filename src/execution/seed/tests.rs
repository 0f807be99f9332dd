//! Tests of reading and planning seeds.

use super::parse_seed;
use super::plan::*;
use super::*;
use crate::catalog::Catalog;
use crate::catalog::OfflineCatalog;
use crate::project::Target;
use crate::project::seeds::values::{infer_type, is_date, is_timestamp};
use crate::sql::{self, Quoting, RelationName};
use std::path::Path;

fn seed(name: &str, csv_text: &str) -> Seed {
    parse_seed(name, &format!("seeds/{name}.csv"), csv_text.as_bytes()).unwrap()
}

fn plan(s: &Seed, catalog: &dyn Catalog) -> Result<SeedPlan, Diagnostic> {
    plan_seed(
        s,
        catalog,
        &Target::default_target(None),
        Quoting::default(),
    )
}

#[test]
fn declared_seeds_follow_the_catalog() {
    let catalog = OfflineCatalog::parse(
        "relations:\n  - name: people\n    schema: NEXUS\n    columns:\n      - {name: id, data_type: TEXT}\n      - {name: CamelCase, data_type: TEXT}\n      - {name: ltv, data_type: \"NUMBER(38,2)\"}\n      - {name: seen_at, data_type: TIMESTAMP_NTZ}\n      - {name: ok, data_type: BOOLEAN}\n",
        Path::new("catalog.yml"),
        "DB",
        "CIO",
    )
    .unwrap();
    let s = seed(
        "people",
        "ltv,id,seen_at,ok\n1.5,o'neil,2024-01-02 03:04:05,true\n,x,,0\n",
    );
    let plan = plan(&s, &catalog).unwrap();
    assert_eq!(plan.relation.to_string(), "DB.NEXUS.people");
    let scratch = "DB.NEXUS.CIO_SQL_SEED_LOAD_";
    assert!(plan.scratch.to_string().starts_with(scratch));
    assert_eq!(plan.statements[0], "CREATE SCHEMA IF NOT EXISTS DB.NEXUS");
    assert!(plan.statements[1].starts_with("SHOW TERSE TABLES LIKE 'CIO_SQL_SEED_LOAD_"));
    assert_eq!(
        plan.statements[2],
        format!(
            "CREATE OR REPLACE TABLE {} (\n    id VARCHAR,\n    \"CamelCase\" VARCHAR,\n    ltv NUMBER(38, 1),\n    seen_at TIMESTAMP_NTZ,\n    ok BOOLEAN\n)",
            plan.scratch
        )
    );
    assert_eq!(
        plan.statements[3],
        format!(
            "INSERT INTO {} (id, \"CamelCase\", ltv, seen_at, ok) VALUES\n    ('o''neil', NULL, 1.5, CAST('2024-01-02 03:04:05' AS TIMESTAMP_NTZ), TRUE),\n    ('x', NULL, NULL, NULL, FALSE)",
            plan.scratch
        )
    );
    assert_eq!(
        plan.statements[4],
        format!(
            "CREATE OR REPLACE TABLE DB.NEXUS.people AS SELECT * FROM {}",
            plan.scratch
        )
    );
    assert_eq!(
        plan.statements[5],
        format!("DROP TABLE IF EXISTS {}", plan.scratch)
    );
    assert_eq!(plan.steps.len(), plan.statements.len());
    assert_eq!(
        plan.steps[3],
        SeedStep::Insert {
            first_line: 2,
            last_line: 3
        }
    );
}

#[test]
fn scratch_names_are_plain_per_load_and_in_their_family() {
    let codes = RelationName::new("DB", "S", "codes");
    let family = scratch_family(&codes);
    assert_eq!(
        family,
        scratch_family(&RelationName::new("db", "s", "CODES"))
    );
    assert_ne!(
        family,
        scratch_family(&RelationName::new("DB", "S", "codes2"))
    );
    assert_ne!(
        family,
        scratch_family(&RelationName::new("DB", "T", "codes"))
    );
    assert!(family.starts_with(SCRATCH_PREFIX) && family.len() == 35);
    let (a, b) = (scratch_relation(&codes), scratch_relation(&codes));
    assert_ne!(a, b, "every load has its own");
    assert_eq!((a.database.as_str(), a.schema.as_str()), ("DB", "S"));
    assert!(a.identifier.starts_with(&family) && a.identifier.len() == 43);
    assert!(sql::is_plain_identifier(&a.identifier) && !sql::is_reserved(&a.identifier));
}

#[test]
fn only_this_seeds_leftovers_are_dropped() {
    let p = plan(&seed("t", "a\n1\n"), &OfflineCatalog::empty("c")).unwrap();
    let mine = format!("{}0A1B2C3D", p.scratch_family);
    let lower = mine.to_lowercase();
    let other = format!(
        "{}0A1B2C3D",
        scratch_family(&RelationName::new("ANALYTICS", "PUBLIC", "u"))
    );
    let odd = format!("{}x\"; drop table y", p.scratch_family);
    let drops = p.leftover_drops([
        mine.as_str(),
        lower.as_str(),
        other.as_str(),
        odd.as_str(),
        p.scratch_family.as_str(),
        "T",
    ]);
    assert_eq!(
        drops,
        vec![format!("DROP TABLE IF EXISTS ANALYTICS.PUBLIC.{mine}")],
        "only the upper-case names cio-sql makes"
    );
    assert_eq!(
        p.statements[1],
        format!(
            "SHOW TERSE TABLES LIKE '{}%' IN SCHEMA ANALYTICS.PUBLIC",
            p.scratch_family
        )
    );
}

#[test]
fn undeclared_seeds_infer_types() {
    let catalog = OfflineCatalog::empty("catalog.yml");
    let s = seed(
        "codes",
        "code,n,flag,day,at,big,sci,crème\na,1,true,2024-01-01,2024-01-01 00:00:00,123456789012345678901234567890123456789,1e5,Crème brûlée tasting\nb,2.25,false,2024-01-02,2024-01-02T10:00:00.5Z,1,2,2024-01-02 10:00:00 is when\n",
    );
    let plan = plan(&s, &catalog).unwrap();
    let types: Vec<&str> = plan.columns.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "VARCHAR",
            "NUMBER(38, 2)",
            "BOOLEAN",
            "DATE",
            "TIMESTAMP_NTZ",
            "FLOAT",
            "FLOAT",
            "VARCHAR"
        ]
    );
    assert_eq!(plan.relation.to_string(), "ANALYTICS.PUBLIC.codes");
}

#[test]
fn multibyte_values_are_typed_without_slicing_inside_a_character() {
    // 19+ bytes with a multi-byte character across byte 10 (issue 10, item 2).
    for value in [
        "Crème brûlée tasting",
        "2024-01-0é 00:00:00",
        "2024-01-01 00:00:0é",
        "2024-01-01é00:00:00",
        "ééééééééééééééééééééé",
        "🍮🍮🍮🍮🍮",
    ] {
        let values = [value];
        assert_eq!(infer_type(&values), "VARCHAR", "{value}");
        assert!(!is_date(value) && !is_timestamp(value));
    }
}

#[test]
fn bad_values_and_columns_are_reported_with_file_and_line() {
    let catalog = OfflineCatalog::parse(
        "relations:\n  - name: t\n    columns:\n      - {name: n, data_type: NUMBER}\n      - {name: w, data_type: \"VECTOR(FLOAT, 3)\"}\n  - name: u\n    columns:\n      - {name: n, data_type: NUMBER}\n",
        Path::new("catalog.yml"),
        "DB",
        "S",
    )
    .unwrap();
    let err = plan(&seed("u", "n\n1\n\n\"\"\nabc\n"), &catalog).unwrap_err();
    assert_eq!(err.code, "CIO032");
    assert_eq!(err.file.as_deref(), Some(Path::new("seeds/u.csv")));
    assert_eq!(err.line, Some(5), "blank lines are skipped, not miscounted");
    assert!(
        err.message.contains("line 5") && err.message.contains("`abc` is not a number"),
        "{}",
        err.message
    );
    let err = plan(&seed("u", "m\n1\n"), &catalog).unwrap_err();
    assert_eq!((err.code.id(), err.line), ("CIO031", Some(1)));
    let err = plan(&seed("t", "n\n1\n"), &catalog).unwrap_err();
    assert_eq!((err.code.id(), err.line), ("CIO033", Some(1)));
    assert!(err.message.contains("VECTOR"), "{}", err.message);
    let huge = format!("n\n{}\n", "9".repeat(39));
    let err = plan(&seed("u", &huge), &catalog).unwrap_err();
    assert_eq!((err.code.id(), err.line), ("CIO032", Some(2)));
}

#[test]
fn a_catalog_entry_without_columns_loads_with_inferred_types() {
    let catalog = OfflineCatalog::parse(
        "relations:\n  - name: t\n    schema: RAW\n    columns: []\n",
        Path::new("catalog.yml"),
        "DB",
        "S",
    )
    .unwrap();
    let plan = plan(&seed("t", "a,b\n1,x\n"), &catalog).unwrap();
    assert_eq!(plan.relation.to_string(), "DB.RAW.t");
    assert_eq!(plan.columns[0].1, "NUMBER(38, 0)");
}

#[test]
fn malformed_csv_names_the_line() {
    let cases: [(&[u8], usize, &str); 8] = [
        (
            b"a,b\n1,2\n3\n",
            3,
            "line 3 has 1 field, but the header names 2 columns",
        ),
        (b"a,b\r\n1,2\r\n3,4,5\r\n", 3, "has 3 fields"),
        (b"a,b\r1,2\r\r3\r", 4, "line 4 has 1 field"),
        (b"a,,c\n1,2,3\n", 1, "column 2 of the header has no name"),
        (b"id,ID\n1,2\n", 1, "named twice"),
        (b"a\n\xff\n", 2, "not valid UTF-8"),
        (b"", 1, "the file is empty"),
        (b"a,b\n\"x,1\n", 2, "line 2 has 1 field"),
    ];
    for (bytes, line, what) in cases {
        match parse_seed("x", "seeds/x.csv", bytes) {
            Err(err) => {
                assert_eq!(err.code, "CIO030");
                assert_eq!(err.file.as_deref(), Some(Path::new("seeds/x.csv")));
                assert!(err.message.contains(what), "{what}: {}", err.message);
                assert_eq!(err.line, Some(line), "{what}");
                assert!(err.render(false).contains("seeds/x.csv"));
            }
            Ok(s) => panic!("{what}: parsed {s:?}"),
        }
    }
}

#[test]
fn bom_and_crlf_are_read() {
    let s = seed(
        "b",
        "\u{feff}id,name\r\n1,\"a \"\"quoted\"\", multi\r\nline\"\r\n",
    );
    assert_eq!(s.header, vec!["id", "name"]);
    assert_eq!(
        s.rows,
        vec![vec![
            Some("1".to_string()),
            Some("a \"quoted\", multi\r\nline".to_string())
        ]]
    );
    assert_eq!(s.lines, vec![2]);
}

#[test]
fn big_seeds_are_batched_by_rows_and_bytes() {
    let mut text = String::from("n\n");
    for i in 0..1201 {
        text.push_str(&format!("{i}\n"));
    }
    let p = plan(&seed("nums", &text), &OfflineCatalog::empty("c")).unwrap();
    let inserts: Vec<&SeedStep> = p
        .steps
        .iter()
        .filter(|s| matches!(s, SeedStep::Insert { .. }))
        .collect();
    assert_eq!(inserts.len(), 3);
    assert_eq!(
        *inserts[2],
        SeedStep::Insert {
            first_line: 1002,
            last_line: 1202
        }
    );
    assert_eq!(p.rows, 1201);

    let wide = "x".repeat(100_000);
    let mut text = String::from("v\n");
    for _ in 0..12 {
        text.push_str(&wide);
        text.push('\n');
    }
    let p = plan(&seed("wide", &text), &OfflineCatalog::empty("c")).unwrap();
    let inserts: Vec<&String> = p
        .statements
        .iter()
        .filter(|s| s.starts_with("INSERT"))
        .collect();
    assert_eq!(inserts.len(), 3, "five rows of 100 kB per statement");
    assert!(inserts.iter().all(|s| s.len() < INSERT_BYTES + 1000));
}

#[test]
fn failure_reports_say_what_ran_and_what_changed() {
    let p = plan(&seed("t", "a\n1\n"), &OfflineCatalog::empty("c")).unwrap();
    let table = "ANALYTICS.PUBLIC.t";
    let scratch = p.scratch.to_string();
    // Rejected at the insert: the table is untouched, the scratch dropped.
    let text = p.failure_report(3, false, &Cleanup::Dropped);
    assert!(text.starts_with("Statement 4 of 6 (insert CSV lines 2–2 into the scratch table) failed. Statements 1–3 had run: create the schema ANALYTICS.PUBLIC if it is missing;"), "{text}");
    assert!(
        text.contains(&format!(
            "{table} was not changed; the scratch table {scratch} was dropped."
        )),
        "{text}"
    );
    // Connection lost at the insert: the scratch may be left.
    let text = p.failure_report(3, true, &Cleanup::NotTried);
    assert!(text.contains("may or may not have run"), "{text}");
    assert!(text.contains(&format!("{table} was not changed; the scratch table {scratch} may be left behind (the connection was lost); the next load of this seed drops it")), "{text}");
    // Lost at the replace: either old or new rows.
    let text = p.failure_report(4, true, &Cleanup::NotTried);
    assert!(
        text.contains("holds either its old rows or the new ones"),
        "{text}"
    );
    // The first statement: nothing had run, no scratch to speak of.
    let text = p.failure_report(0, false, &Cleanup::Dropped);
    assert!(text.contains("No statement of this seed had run"), "{text}");
    assert!(!text.contains("scratch table"), "{text}");
    // The final drop: loaded, scratch left.
    let text = p.failure_report(5, false, &Cleanup::DropFailed("boom".into()));
    assert!(
        text.contains(&format!("{table} was loaded (1 rows)")),
        "{text}"
    );
    assert!(text.contains("dropping it failed: boom"), "{text}");
}

#[test]
fn seed_names() {
    let off = Quoting::default();
    let rel = |name: &str| RelationName::new("DB", "S", name);
    let scratch = |name: &str| format!("{name}__cio_seed_load");
    let check = |name: &str, declared: bool, columns: &[&str]| {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        check_seed(
            "seeds/x.csv",
            &rel(name),
            &scratch(name),
            declared,
            &columns,
            off,
        )
    };
    assert!(check("people", false, &["id", "First Name"]).is_ok());
    // A catalog relation exists under its name: quoted, it is fine.
    assert!(check("my table", true, &["id"]).is_ok());
    let err = check("my table", false, &["id"]).unwrap_err();
    assert!(err.message.contains("(its file name)"), "{}", err.message);
    let long = "x".repeat(250);
    let err = check(&long, false, &["id"]).unwrap_err();
    assert!(
        err.message.contains("as the scratch table"),
        "{}",
        err.message
    );
    let err = check("people", false, &["id", "a\nb"]).unwrap_err();
    assert_eq!((err.code.id(), err.line), ("CIO014", Some(1)));
    assert!(err.message.contains("control character"), "{}", err.message);
}
