//! Issue 10, the seed items: no panic on any CSV (item 2), a bad seed is a
//! failed node that skips only its readers (item 5), and a load cut off by
//! a dead emulator or a killed run says what it changed and leaves no
//! scratch table behind (item 14). Plus the run scheduler on odd input.
//!
//! The emulator tests start fakesnow themselves (`common/fakesnow.rs`);
//! each uses its own database on the shared server, or its own server when
//! it kills it.

use crate::support::emulator_cli;
use crate::support::fakesnow;

use crate::support::mock::{MockReply, MockWarehouse};
use cio_sql::artifacts::run_results::NodeStatus;
use cio_sql::catalog::{Catalog, OfflineCatalog};
use cio_sql::execution::run::{RunOptions, run_models};
use cio_sql::execution::seed::{Cleanup, parse_seed, plan_seed};
use cio_sql::project::Target;
use cio_sql::sql::Quoting;
use cio_sql::warehouse::{Warehouse, WarehouseError};
use emulator_cli::{
    SECRET, cio, connect, query, records, result_of, run_results, small_project, wait_for_exit,
};
use proptest::prelude::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn status(results: &Value, name: &str) -> String {
    result_of(results, name)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn message(results: &Value, name: &str) -> String {
    result_of(results, name)["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The tables of `database.CUSTOMER_IO` whose name marks a seed's scratch
/// table (today's `CIO_SQL_SEED_LOAD_…`, or the `…__cio_seed_load` of
/// before).
fn scratch_tables(wh: &dyn Warehouse, database: &str) -> Vec<String> {
    let rows = query(
        wh,
        &format!(
            "SELECT table_name FROM {database}.information_schema.tables \
             WHERE UPPER(table_schema) = 'CUSTOMER_IO' AND UPPER(table_name) LIKE '%SEED%LOAD%'"
        ),
    );
    rows.rows
        .iter()
        .filter_map(|r| r.first().and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// A CSV of `rows` rows (`id,label,amount`): four INSERT statements for
/// 2,000 rows, each a few seconds on the emulator.
fn big_csv(rows: usize) -> String {
    let mut text = String::from("id,label,amount\n");
    for i in 0..rows {
        text.push_str(&format!("{i},row number {i} of the big seed,{i}.5\n"));
    }
    text
}

/// Starts `cio-sql ARGS` on `dir` in the background.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("cio-sql"))
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .env("CIO_SQL_E2E_PASSWORD", SECRET)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (at most two minutes) until a scratch table whose name contains
/// `name` shows in `database`, while `child` runs.
fn wait_for_scratch_table(wh: &dyn Warehouse, database: &str, name: &str, child: &mut Child) {
    let started = Instant::now();
    loop {
        let name = name.to_uppercase();
        if scratch_tables(wh, database)
            .iter()
            .any(|t| t.to_uppercase().contains(&name))
        {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "cio-sql ended before its scratch table was seen"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no scratch table appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (at most two minutes) for `child` to end; its exit code, stdout
/// and stderr.
fn finish(mut child: Child) -> (Option<i32>, String, String) {
    let mut stdout = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        stdout.push_str(&line.unwrap());
        stdout.push('\n');
    }
    let status = wait_for_exit(&mut child, "cio-sql did not stop");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    (status.code(), stdout, stderr)
}

// ---------------------------------------------------------------- item 2

#[test]
fn item02_multibyte_seed_value_loads() {
    let server = fakesnow::shared();
    let dir = small_project("H_SEEDS_MB", &server.base_url(), &[]);
    let values = [
        "Crème brûlée tasting",
        "2024-01-0é 12:00:00 is no time",
        "日本語のテキストです、長い値",
        "🍮 flan, 🍰 cake and \"quotes\"",
        "o'neil \\ backslash",
    ];
    let mut csv = String::from("id,dessert\n");
    for (i, v) in values.iter().enumerate() {
        csv.push_str(&format!("{i},\"{}\"\n", v.replace('"', "\"\"")));
    }
    write(dir.path(), "seeds/desserts.csv", csv.as_bytes());
    let run = cio(dir.path(), &["seed"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = run_results(dir.path());
    assert_eq!(status(&results, "desserts"), "success");
    assert_eq!(result_of(&results, "desserts")["rows"], 5);

    let wh = connect(dir.path());
    let rows = records(&query(
        wh.as_ref(),
        "SELECT id, dessert FROM H_SEEDS_MB.CUSTOMER_IO.desserts ORDER BY id",
    ));
    let read: Vec<&str> = rows
        .iter()
        .map(|r| r["DESSERT"].as_str().unwrap())
        .collect();
    assert_eq!(read, values, "every value comes back intact");
}

/// CSV text from pieces that break naive readers: any Unicode, quotes,
/// separators, line ends, a byte order mark, empty fields.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zé🍮 ,\"'\\\\\r\n\u{feff}]{0,24}",
        Just(String::new()),
        Just("2024-01-0é 00:00:00".to_string()),
        Just("Crème brûlée tasting".to_string()),
        Just("123456789012345678901234567890123456789012".to_string()),
        Just("1e400".to_string()),
        Just("-0.000000000000001".to_string()),
        Just("TRUE".to_string()),
        Just("2024-02-30 25:61:61".to_string()),
    ]
}

/// A header name: a catalog column now and then, else anything.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["a", "b", "c", "d", "e", "A", "id"]).prop_map(str::to_string),
        1 => cell(),
    ]
}

fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    (1usize..6)
        .prop_flat_map(|width| {
            (
                any::<bool>(),
                prop::collection::vec(name(), width),
                prop::collection::vec(
                    prop_oneof![
                        4 => prop::collection::vec(cell(), width),
                        1 => prop::collection::vec(cell(), 0..7),
                    ],
                    0..6,
                ),
                prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
                any::<bool>(),
                prop::collection::vec(any::<u8>(), 0..8),
            )
        })
        .prop_map(|(bom, header, rows, eol, quote, junk)| {
            let field = |c: &String| {
                if quote {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            };
            let line = |cells: &[String]| cells.iter().map(field).collect::<Vec<_>>().join(",");
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text.push_str(&line(&header));
            for row in &rows {
                text.push_str(eol);
                text.push_str(&line(row));
            }
            let mut bytes = text.into_bytes();
            // Now and then a few stray bytes: not always UTF-8.
            if junk.len() == 7 {
                bytes.extend(junk);
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Reading, typing and statement building never panic: a plan, or a
    /// diagnostic that names the file and the line.
    #[test]
    fn item02_seed_planner_never_panics(bytes in csv_text(), declared in any::<bool>()) {
        let path = "seeds/fuzz.csv";
        let catalog = if declared {
            OfflineCatalog::parse(
                "relations:\n  - name: fuzz\n    schema: RAW\n    columns:\n      - {name: a, data_type: NUMBER}\n      - {name: b, data_type: BOOLEAN}\n      - {name: c, data_type: TIMESTAMP_NTZ}\n      - {name: d, data_type: TEXT}\n      - {name: e, data_type: \"\"}\n",
                Path::new("catalog.yml"),
                "DB",
                "S",
            )
            .unwrap()
        } else {
            OfflineCatalog::empty("catalog.yml")
        };
        let planned = match parse_seed("fuzz", path, &bytes) {
            Ok(seed) => plan_seed(&seed, &catalog as &dyn Catalog, &Target::default_target(None), Quoting::default()),
            Err(d) => Err(d),
        };
        match planned {
            Ok(plan) => {
                prop_assert_eq!(plan.steps.len(), plan.statements.len());
                prop_assert!(plan.statements.len() >= 5);
                for i in 0..plan.statements.len() {
                    for cleanup in [Cleanup::Dropped, Cleanup::NotTried, Cleanup::DropFailed("x".into())] {
                        let text = plan.failure_report(i, i % 2 == 0, &cleanup);
                        prop_assert!(text.contains(&plan.relation.to_string()));
                    }
                }
            }
            Err(d) => {
                // CIO03x: the CSV itself; CIO014: a header name Snowflake cannot hold.
                prop_assert!(d.code.id().starts_with("CIO03") || d.code == "CIO014", "{}", d.code);
                prop_assert_eq!(d.file.as_deref(), Some(Path::new(path)));
                prop_assert!(d.line.is_some(), "no line: {}", d.message);
                prop_assert!(d.help.is_some(), "no fix: {}", d.message);
                let text = d.render(false);
                prop_assert!(text.contains(path), "{}", text);
            }
        }
    }
}

// ---------------------------------------------------------------- item 5

const DECLARED: &str = "relations:\n  - name: people\n    schema: RAW\n    columns:\n      - {name: id, data_type: TEXT}\n      - {name: score, data_type: NUMBER}\n      - {name: seen_at, data_type: TIMESTAMP_NTZ}\n";

/// A project with a good seed, a catalog-declared seed, and models that
/// read seeds every way a model can: `ref()` to the catalog relation, the
/// relation's name in the SQL, a model upstream, or not at all.
fn seed_project(database: &str) -> tempfile::TempDir {
    let server = fakesnow::shared();
    let dir = small_project(
        database,
        &server.base_url(),
        &[
            ("independent", "select 1 as v"),
            (
                "reads_good",
                &format!("select code from {database}.CUSTOMER_IO.good"),
            ),
            ("people_by_ref", "select id, score from {{ ref('people') }}"),
            (
                "people_by_name",
                &format!("with p as (select * from {database}.RAW.people) select id from p"),
            ),
            ("people_child", "select id from {{ ref('people_by_ref') }}"),
        ],
    );
    write(dir.path(), "catalog.yml", DECLARED.as_bytes());
    write(
        dir.path(),
        "seeds/good.csv",
        b"code,label\na,Alpha\nb,Beta\n",
    );
    write(
        dir.path(),
        "seeds/people.csv",
        b"id,score,seen_at\np1,10,2024-01-01 00:00:00\np2,20,2024-01-02 00:00:00\n",
    );
    dir
}

fn assert_people_readers_skipped_rest_built(results: &Value) {
    for skipped in ["people_by_ref", "people_by_name", "people_child"] {
        assert_eq!(status(results, skipped), "skipped", "{skipped}: {results}");
        assert!(
            message(results, skipped).contains("seed `people`"),
            "{}",
            message(results, skipped)
        );
    }
    assert!(message(results, "people_child").contains("upstream model people_by_ref"));
    for ok in ["good", "independent", "reads_good"] {
        assert_eq!(status(results, ok), "success", "{ok}: {results}");
    }
}

#[test]
fn item05_ragged_seed_fails_only_its_readers() {
    let dir = seed_project("H_SEEDS_RAGGED");
    write(dir.path(), "seeds/ragged.csv", b"a,b\n1,2\n3\n");
    write(
        dir.path(),
        "models/reads_ragged.sql",
        b"select a from H_SEEDS_RAGGED.CUSTOMER_IO.ragged",
    );
    write(
        dir.path(),
        "models/ragged_child.sql",
        b"select a from {{ ref('reads_ragged') }}",
    );
    let run = cio(dir.path(), &["build"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let results = run_results(dir.path());
    assert_eq!(results["success"], false);
    assert!(results["error"].is_null(), "{results}");
    let ragged = result_of(&results, "ragged");
    assert_eq!(ragged["status"], "error");
    assert_eq!(ragged["code"], "CIO030");
    let m = message(&results, "ragged");
    assert!(
        m.starts_with("seeds/ragged.csv:3: line 3 has 1 field, but the header names 2 columns")
            && m.contains("fix: give every row as many fields"),
        "{m}"
    );
    assert!(
        run.stderr.contains("--> seeds/ragged.csv:3"),
        "{}",
        run.stderr
    );
    for skipped in ["reads_ragged", "ragged_child"] {
        assert_eq!(status(&results, skipped), "skipped");
        assert!(message(&results, skipped).contains("seed `ragged`"));
    }
    for ok in [
        "good",
        "people",
        "independent",
        "reads_good",
        "people_by_ref",
        "people_by_name",
        "people_child",
    ] {
        assert_eq!(status(&results, ok), "success", "{ok}: {results}");
    }
    let wh = connect(dir.path());
    let good = query(
        wh.as_ref(),
        "SELECT code FROM H_SEEDS_RAGGED.CUSTOMER_IO.reads_good ORDER BY 1",
    );
    assert_eq!(good.rows.len(), 2);

    // A model downstream of a reader is skipped even when the reader is not
    // selected.
    let run = cio(dir.path(), &["build", "--select", "ragged_child"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let results = run_results(dir.path());
    assert_eq!(status(&results, "ragged_child"), "skipped");
    assert!(
        message(&results, "ragged_child")
            .contains("upstream model reads_ragged reads seed `ragged`"),
        "{}",
        message(&results, "ragged_child")
    );

    // --fail-fast: nothing after the failed seed starts.
    let run = cio(dir.path(), &["build", "--fail-fast"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let results = run_results(dir.path());
    assert_eq!(status(&results, "ragged"), "error");
    assert_eq!(status(&results, "good"), "success", "sorted before ragged");
    for name in ["independent", "reads_good", "people_by_ref"] {
        assert_eq!(status(&results, name), "skipped");
        assert!(message(&results, name).contains("--fail-fast"));
    }
}

/// Writes `csv` as the `people` seed and builds: exit 1, and the results
/// with the `people` seed failed with `code`; its message.
fn build_with_bad_people(dir: &Path, csv: &[u8], code: &str) -> (Value, String) {
    write(dir, "seeds/people.csv", csv);
    let run = cio(dir, &["build"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let results = run_results(dir);
    assert_eq!(status(&results, "people"), "error");
    assert_eq!(result_of(&results, "people")["code"], code, "{results}");
    let m = message(&results, "people");
    (results, m)
}

#[test]
fn item05_bad_typed_value_fails_only_its_readers() {
    let dir = seed_project("H_SEEDS_TYPED");
    let (results, m) = build_with_bad_people(
        dir.path(),
        b"id,score,seen_at\np1,10,2024-01-01 00:00:00\n\np2,lots,2024-01-02 00:00:00\n",
        "CIO032",
    );
    assert!(
        m.starts_with("seeds/people.csv:4: line 4, column `score`: `lots` is not a number")
            && m.contains("fix:"),
        "{m}"
    );
    assert_eq!(
        result_of(&results, "people")["relation"],
        "H_SEEDS_TYPED.RAW.people"
    );
    assert_people_readers_skipped_rest_built(&results);
}

#[test]
fn item05_non_utf8_seed_is_a_failed_node() {
    let dir = seed_project("H_SEEDS_LATIN");
    let (results, m) = build_with_bad_people(
        dir.path(),
        b"id,score,seen_at\np1,10,2024-01-01 00:00:00\np\xe9,20,2024-01-02 00:00:00\n",
        "CIO030",
    );
    assert!(
        m.starts_with("seeds/people.csv:3: the file is not valid UTF-8")
            && m.contains("fix: save the file as UTF-8"),
        "{m}"
    );
    assert_people_readers_skipped_rest_built(&results);
}

#[test]
fn item05_seed_failing_in_the_warehouse_skips_its_readers_and_keeps_the_old_table() {
    let dir = seed_project("H_SEEDS_WH");
    let first = cio(dir.path(), &["build"]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    // A timestamp the warehouse cannot read: only the warehouse finds out.
    let (results, m) = build_with_bad_people(
        dir.path(),
        b"id,score,seen_at\np1,10,2024-01-01 00:00:00\np3,30,the day after tomorrow\n",
        "CIO303",
    );
    assert!(
        m.contains("Statement 4 of 6 (insert CSV lines 2–3 into the scratch table) failed")
            && m.contains("Statements 1–3 had run")
            && m.contains("H_SEEDS_WH.RAW.people was not changed; the scratch table H_SEEDS_WH.RAW.CIO_SQL_SEED_LOAD_")
            && m.contains("was dropped"),
        "{m}"
    );
    assert_people_readers_skipped_rest_built(&results);
    let wh = connect(dir.path());
    let old = query(
        wh.as_ref(),
        "SELECT id FROM H_SEEDS_WH.RAW.people ORDER BY id",
    );
    assert_eq!(
        old.rows,
        vec![vec![Value::from("p1")], vec![Value::from("p2")]],
        "the failed load left the table as it was"
    );
    let leftovers = query(
        wh.as_ref(),
        "SELECT table_name FROM H_SEEDS_WH.information_schema.tables WHERE UPPER(table_name) LIKE '%SEED%LOAD%'",
    );
    assert!(leftovers.rows.is_empty(), "{:?}", leftovers.rows);
}

// ---------------------------------------------------------------- item 14

#[test]
fn item14_emulator_killed_mid_seed_message_is_truthful() {
    let server = fakesnow::FakeSnow::start();
    let dir = small_project(
        "H_SEEDS_KILLED",
        &server.base_url(),
        &[
            ("reads_big", "select id from H_SEEDS_KILLED.CUSTOMER_IO.big"),
            ("other", "select 1 as v"),
        ],
    );
    write(dir.path(), "seeds/a_small.csv", b"n\n1\n");
    write(dir.path(), "seeds/big.csv", big_csv(2000).as_bytes());
    let wh = connect(dir.path());
    let mut child = spawn(dir.path(), &["build"]);
    // The big seed's scratch table, not the small one's.
    let family = cio_sql::execution::seed::scratch_family(&cio_sql::sql::RelationName::new(
        "H_SEEDS_KILLED",
        "CUSTOMER_IO",
        "big",
    ));
    wait_for_scratch_table(wh.as_ref(), "H_SEEDS_KILLED", &family, &mut child);
    drop(wh);
    drop(server); // the emulator dies while the big seed is loading
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let results = run_results(dir.path());
    assert_eq!(status(&results, "a_small"), "success");
    let big = result_of(&results, "big");
    assert_eq!(big["status"], "error");
    assert!(big["code"].as_str().unwrap().starts_with("CIO30"), "{big}");
    let m = message(&results, "big");
    assert!(m.starts_with("seed seeds/big.csv: "), "{m}");
    assert!(
        m.contains(&format!("had run: create the schema H_SEEDS_KILLED.CUSTOMER_IO if it is missing; drop the scratch tables H_SEEDS_KILLED.CUSTOMER_IO.{family}… that earlier loads left; create the scratch table H_SEEDS_KILLED.CUSTOMER_IO.{family}")),
        "which statements ran: {m}"
    );
    assert!(
        m.contains("may or may not have run"),
        "the lost statement: {m}"
    );
    assert!(
        m.contains("H_SEEDS_KILLED.CUSTOMER_IO.big was not changed")
            || m.contains(
                "H_SEEDS_KILLED.CUSTOMER_IO.big holds either its old rows or the new ones"
            ),
        "what may have changed: {m}"
    );
    assert!(
        m.contains(
            "may be left behind (the connection was lost); the next load of this seed drops it"
        ),
        "{m}"
    );
    for text in [&m, &stdout, &stderr] {
        assert!(!text.contains("nothing was changed"), "{text}");
    }
    assert_eq!(status(&results, "reads_big"), "skipped");
    // A model tried after the emulator died says its statement got no answer.
    assert_eq!(status(&results, "other"), "error");
    let m = message(&results, "other");
    assert!(
        m.contains("got no answer") && m.contains("was not changed"),
        "{m}"
    );
}

#[test]
fn item14_leftover_scratch_table_is_dropped() {
    let server = fakesnow::shared();
    let dir = small_project(
        "H_SEEDS_LEFTOVER",
        &server.base_url(),
        &[("m", "select 1 as v")],
    );
    write(dir.path(), "seeds/big.csv", big_csv(2000).as_bytes());
    let wh = connect(dir.path());
    // A run killed while its scratch table is filling leaves it behind.
    let mut child = spawn(dir.path(), &["seed"]);
    wait_for_scratch_table(wh.as_ref(), "H_SEEDS_LEFTOVER", "SEED", &mut child);
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        !scratch_tables(wh.as_ref(), "H_SEEDS_LEFTOVER").is_empty(),
        "the killed run left its scratch table"
    );
    // The next build drops it, even with another seed broken.
    write(dir.path(), "seeds/broken.csv", b"a,b\n1\n");
    let run = cio(dir.path(), &["build"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let results = run_results(dir.path());
    assert_eq!(status(&results, "big"), "success", "{results}");
    assert_eq!(result_of(&results, "big")["rows"], 2000);
    assert_eq!(status(&results, "broken"), "error");
    assert_eq!(status(&results, "m"), "success");
    assert_eq!(
        scratch_tables(wh.as_ref(), "H_SEEDS_LEFTOVER"),
        Vec::<String>::new()
    );
    let n = query(
        wh.as_ref(),
        "SELECT COUNT(*) AS n FROM H_SEEDS_LEFTOVER.CUSTOMER_IO.big",
    );
    assert_eq!(n.rows[0][0], Value::from(2000));
}

#[test]
fn item14_scratch_table_cannot_clash_with_a_user_table() {
    let server = fakesnow::shared();
    let dir = small_project("H_SEEDS_CLASH", &server.base_url(), &[]);
    write(dir.path(), "seeds/codes.csv", b"code\na\nb\n");
    let wh = connect(dir.path());
    for sql in [
        "CREATE DATABASE IF NOT EXISTS H_SEEDS_CLASH",
        "CREATE SCHEMA IF NOT EXISTS H_SEEDS_CLASH.CUSTOMER_IO",
        "CREATE TABLE H_SEEDS_CLASH.CUSTOMER_IO.codes__cio_seed_load AS SELECT 42 AS keep",
    ] {
        wh.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let run = cio(dir.path(), &["seed"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let kept = query(
        wh.as_ref(),
        "SELECT keep FROM H_SEEDS_CLASH.CUSTOMER_IO.codes__cio_seed_load",
    );
    assert_eq!(
        kept.rows,
        vec![vec![Value::from(42)]],
        "the user's table is untouched"
    );
    let codes = query(
        wh.as_ref(),
        "SELECT code FROM H_SEEDS_CLASH.CUSTOMER_IO.codes ORDER BY 1",
    );
    assert_eq!(codes.rows.len(), 2);
}

/// With a mock warehouse: after a rejected statement the scratch table is
/// dropped; after a lost connection no statement is sent at all, and the
/// message says the scratch table may be left.
#[test]
fn item14_scratch_table_is_dropped_only_while_the_connection_works() {
    let p = crate::support::TestProject::new();
    p.file("seeds/codes.csv", "code\na\n");
    p.file(
        "profiles.yml",
        "test_project:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: a\n      user: u\n      password: p\n      database: DB\n      schema: S\n",
    );
    let c = p.compile();
    let catalog = OfflineCatalog::empty("catalog.yml");
    let load = |reply: MockReply| {
        let wh = MockWarehouse::new();
        wh.once("insert into", reply);
        let loaded = cio_sql::execution::seed::load_seeds(&c, &catalog, &wh, false, &|_, _, _| {});
        (loaded, wh.statements())
    };
    let (loaded, sent) = load(MockReply::sql_error(
        "100038",
        "Numeric value 'a' is not recognized",
    ));
    let r = &loaded.results[0];
    assert_eq!(
        (r.status, r.code.as_deref()),
        (NodeStatus::Error, Some("CIO303"))
    );
    assert!(
        sent.last()
            .unwrap()
            .starts_with("DROP TABLE IF EXISTS DB.S.CIO_SQL_SEED_LOAD_"),
        "{sent:?}"
    );
    assert!(r.message.as_ref().unwrap().contains("was dropped"), "{r:?}");
    assert_eq!(loaded.failed.len(), 1);

    let lost = WarehouseError::Connection {
        host: "h".into(),
        reason: "connection reset".into(),
    };
    let (loaded, sent) = load(MockReply::Error(lost));
    let r = &loaded.results[0];
    assert_eq!(r.code.as_deref(), Some("CIO301"));
    assert!(
        sent.last().unwrap().starts_with("INSERT INTO"),
        "no drop after a lost connection: {sent:?}"
    );
    let m = r.message.as_ref().unwrap();
    assert!(
        m.contains("may be left behind (the connection was lost)"),
        "{m}"
    );
    assert!(!m.contains("nothing was changed"), "{m}");
}

/// A project whose target is `DB.S`, for runs on a mock warehouse.
fn mock_target_project() -> crate::support::TestProject {
    let p = crate::support::TestProject::new();
    p.file(
        "profiles.yml",
        "test_project:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: a\n      user: u\n      password: p\n      database: DB\n      schema: S\n",
    );
    p
}

// ------------------------------------------------------- the run scheduler

/// A warehouse that panics on every statement, as a bug would.
struct Panicking;

impl Warehouse for Panicking {
    fn execute(&self, _: &str) -> Result<cio_sql::warehouse::Executed, WarehouseError> {
        panic!("boom in the warehouse");
    }
    fn query(&self, _: &str) -> Result<cio_sql::warehouse::Rows, WarehouseError> {
        panic!("boom in the warehouse");
    }
}

#[test]
fn run_scheduler_survives_odd_input() {
    let p = crate::support::TestProject::new();
    p.model("a", "select 1 as v");
    p.model("broken", "select {{ nope( }}");
    p.model("child", "select * from {{ ref('broken') }}");
    p.model("b", "select v from {{ ref('a') }}");
    let c = p.compile();
    let run = |wh: &dyn Warehouse, opts: RunOptions| run_models(&c, wh, opts, &|_, _, _| {});
    // No threads asked for (and the target's default), many threads.
    for threads in [0, 1, 64] {
        let results = run(
            &MockWarehouse::new(),
            RunOptions {
                threads,
                ..Default::default()
            },
        );
        let by_name = |n: &str| results.iter().find(|r| r.name == n).unwrap().status;
        assert_eq!(results.len(), 4);
        assert_eq!(by_name("a"), NodeStatus::Success);
        assert_eq!(by_name("b"), NodeStatus::Success);
        assert_eq!(by_name("broken"), NodeStatus::Error);
        assert_eq!(
            by_name("child"),
            NodeStatus::Skipped,
            "its dependency failed to compile"
        );
    }
    // A panic while building a model is that model's error, not the run's.
    let results = run(
        &Panicking,
        RunOptions {
            threads: 2,
            ..Default::default()
        },
    );
    assert_eq!(results.len(), 4);
    let a = results.iter().find(|r| r.name == "a").unwrap();
    assert_eq!(a.status, NodeStatus::Error);
    assert!(
        a.message.as_ref().unwrap().contains("internal error"),
        "{a:?}"
    );
    // An empty selection runs nothing.
    let mut empty = p.compile();
    empty.selected.clear();
    let results = run_models(
        &empty,
        &MockWarehouse::new(),
        RunOptions::default(),
        &|_, _, _| {},
    );
    assert!(results.is_empty());
}

/// Two seeds of one relation, and a relation of the project that takes a
/// scratch table's name, are failed seeds with the reason; the rest load.
#[test]
fn item14_seed_relations_and_scratch_names_never_collide() {
    let p = mock_target_project();
    p.file("seeds/a/twice.csv", "x\n1\n");
    p.file("seeds/b/twice.csv", "x\n2\n");
    p.file("seeds/codes.csv", "code\na\n");
    p.file("seeds/fine.csv", "n\n1\n");
    let scratch = cio_sql::execution::seed::scratch_relation(&cio_sql::sql::RelationName::new(
        "DB", "S", "codes",
    ));
    p.model(&scratch.identifier, "select 1 as v");
    let c = p.compile();
    let wh = MockWarehouse::new();
    let loaded = cio_sql::execution::seed::load_seeds(
        &c,
        &OfflineCatalog::empty("catalog.yml"),
        &wh,
        false,
        &|_, _, _| {},
    );
    let outcome: Vec<(&str, NodeStatus, Option<&str>)> = loaded
        .results
        .iter()
        .map(|r| (r.name.as_str(), r.status, r.code.as_deref()))
        .collect();
    assert_eq!(
        outcome,
        vec![
            ("twice", NodeStatus::Success, None),
            ("twice", NodeStatus::Error, Some("CIO034")),
            ("codes", NodeStatus::Error, Some("CIO035")),
            ("fine", NodeStatus::Success, None),
        ]
    );
    let message = |i: usize| loaded.results[i].message.clone().unwrap_or_default();
    assert!(
        message(1).contains("seeds/b/twice.csv and seeds/a/twice.csv both load DB.S.twice"),
        "{}",
        message(1)
    );
    assert!(message(2).contains(&scratch.identifier), "{}", message(2));
    assert!(
        wh.statements()
            .iter()
            .all(|s| !s.contains(&scratch.identifier)),
        "nothing was sent for the clashing seed"
    );
}
