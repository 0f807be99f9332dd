//! RudderStack's Customer.io destination (issue 16): the example models
//! `rudderstack_locations` and `rudderstack_location_relationships` built on
//! the emulator, read through the query `sync-query` prints, with the delete
//! actions change tracking gives a row the model stops returning.

use crate::emulator_e2e::example_project;
use crate::support::emulator_cli::{cio, connect, query};
use crate::support::fakesnow;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const OBJECTS: &str = "rudderstack_locations";
const RELATIONSHIPS: &str = "rudderstack_location_relationships";

fn must(dir: &Path, args: &[&str]) -> String {
    let run = cio(dir, args);
    assert_eq!(run.code, 0, "{args:?}\n{}\n{}", run.stdout, run.stderr);
    run.stdout
}

/// The query `sync-query MODEL --log-format json` prints for `model`.
fn sync_query(dir: &Path, model: &str) -> Value {
    let out = must(dir, &["sync-query", model, "--log-format", "json"]);
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "sync_query")
        .unwrap_or_else(|| panic!("no setup in {out}"))
}

/// Rows of `sql` as `columns` joined with `/`, with the change time as Unix
/// seconds in the last place.
fn rows(dir: &Path, sql: &str, columns: &[&str]) -> BTreeMap<String, i64> {
    let wh = connect(dir);
    let wrapped = format!(
        "SELECT {}, DATE_PART(epoch_second, \"__cio_sql_changed_at\") AS \"t\" FROM ({sql}) AS q",
        columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let r = query(wh.as_ref(), &wrapped);
    r.rows
        .iter()
        .map(|row| {
            let text: Vec<String> = row[..columns.len()]
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            let t = match &row[columns.len()] {
                Value::String(s) => s.parse().unwrap(),
                other => other.as_i64().unwrap(),
            };
            (text.join("/"), t)
        })
        .collect()
}

fn edit_seed(dir: &Path, name: &str, f: impl FnOnce(Vec<String>) -> Vec<String>) {
    let path = dir.join("seeds").join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path).unwrap();
    let lines = f(text.lines().map(str::to_string).collect());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn keys(rows: &BTreeMap<String, i64>) -> BTreeSet<&str> {
    rows.keys().map(String::as_str).collect()
}

#[test]
fn rudderstack_tables_carry_identify_then_delete_actions() {
    let server = fakesnow::shared();
    let dir = example_project("DEST_RUDDERSTACK", &server.base_url());
    let dir = dir.path();
    must(dir, &["build"]);

    let objects = sync_query(dir, OBJECTS);
    let relationships = sync_query(dir, RELATIONSHIPS);
    assert_eq!(objects["sync_type"], "rudderstack.objects");
    assert_eq!(relationships["sync_type"], "rudderstack.relationships");
    let oq = objects["query"].as_str().unwrap().to_string();
    let rq = relationships["query"].as_str().unwrap().to_string();
    assert!(!oq.contains("{{"), "RudderStack has no placeholder: {oq}");

    let o0 = rows(
        dir,
        &oq,
        &["action", "groupId", "objectTypeId", "location_name"],
    );
    assert_eq!(
        keys(&o0),
        BTreeSet::from([
            "identify/loc_berlin/1/Berlin Store",
            "identify/loc_lisbon/1/Lisbon Store"
        ])
    );
    let r0 = rows(dir, &rq, &["action", "groupId", "objectTypeId", "userId"]);
    assert_eq!(
        keys(&r0),
        BTreeSet::from([
            "add_relationships/loc_berlin/1/u_ann",
            "add_relationships/loc_lisbon/1/u_ann",
            "add_relationships/loc_lisbon/1/u_bob"
        ])
    );

    // The next day: Berlin closes for good (its rows leave nexus_entities),
    // and Ann's Berlin relationship ends.
    std::thread::sleep(Duration::from_millis(1100));
    let t1 = now_unix();
    std::thread::sleep(Duration::from_millis(1100));
    edit_seed(dir, "nexus_entities", |l| {
        l.into_iter()
            .filter(|line| !line.starts_with("loc_berlin,"))
            .collect()
    });
    edit_seed(dir, "nexus_relationships", |l| {
        l.into_iter()
            .map(|line| {
                if line.starts_with("rel_01,") {
                    line.replacen(",a_to_b,true,", ",a_to_b,false,", 1)
                } else {
                    line
                }
            })
            .collect()
    });
    must(dir, &["build"]);

    let o1 = rows(
        dir,
        &oq,
        &["action", "groupId", "objectTypeId", "location_name"],
    );
    // The tombstone keeps the last values, with the delete action.
    assert_eq!(
        keys(&o1),
        BTreeSet::from([
            "delete/loc_berlin/1/Berlin Store",
            "identify/loc_lisbon/1/Lisbon Store"
        ])
    );
    assert!(o1["delete/loc_berlin/1/Berlin Store"] > t1, "{o1:?}");
    assert!(o1["identify/loc_lisbon/1/Lisbon Store"] < t1, "unchanged");

    let r1 = rows(dir, &rq, &["action", "groupId", "objectTypeId", "userId"]);
    assert_eq!(
        keys(&r1),
        BTreeSet::from([
            "delete_relationships/loc_berlin/1/u_ann",
            "add_relationships/loc_lisbon/1/u_ann",
            "add_relationships/loc_lisbon/1/u_bob"
        ])
    );
    assert!(r1["delete_relationships/loc_berlin/1/u_ann"] > t1, "{r1:?}");
    assert!(r1["add_relationships/loc_lisbon/1/u_bob"] < t1, "unchanged");

    // The contract tests read the live rows: the tombstones pass them.
    must(dir, &["test", "--select", OBJECTS, RELATIONSHIPS]);
}

/// Writes `model.sql` with `source` into a copy of the example project and
/// compiles it offline.
fn compile_with(name: &str, source: &str) -> crate::support::emulator_cli::Run {
    let dir = example_project("DEST_OFFLINE", "http://127.0.0.1:9");
    std::fs::write(dir.path().join(format!("models/{name}.sql")), source).unwrap();
    let run = cio(dir.path(), &["compile"]);
    drop(dir);
    run
}

#[test]
fn an_unknown_destination_or_sync_type_is_an_error_at_the_config() {
    let run = compile_with(
        "bad_destination",
        "{{ config(cio_destination='ruderstack', cio_sync='objects') }}\nselect 1 as \"groupId\"\n",
    );
    // A model that fails to compile fails the command (exit 1).
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("error[CIO016]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("models/bad_destination.sql:1:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "did you mean `rudderstack`? set cio_destination to one of 'customerio', 'rudderstack'"
        ),
        "{}",
        run.stderr
    );

    let run = compile_with(
        "bad_sync",
        "{{ config(cio_destination='rudderstack', cio_sync='object') }}\nselect 1 as \"groupId\"\n",
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("error[CIO017]"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("did you mean `objects`? use config(cio_sync=...) with one of 'objects', 'relationships'"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_rudderstack_row_without_its_action_is_an_error() {
    let run = compile_with(
        "no_action",
        "{{ config(cio_destination='rudderstack', cio_sync='relationships') }}\nselect '1' as \"groupId\", '1' as \"objectTypeId\", 'u' as \"userId\"\n",
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("error[CIO201]"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("rudderstack.relationships syncs need a `action` column"),
        "{}",
        run.stderr
    );
}
