//! Incremental models (issue 14, item 3), end to end on the emulator
//! through the binary: the first run builds the table, the second moves
//! only the new rows with each strategy, `--full-refresh` rebuilds, each
//! `on_schema_change` mode behaves as dbt's, a failed run leaves the table
//! as it was; and the bad configs, offline.

use crate::dbt_seeds::offline;
use crate::support::emulator_cli::{cio, connect, query, result_of, run_results, small_project};
use crate::support::fakesnow;
use serde_json::Value;
use std::path::Path;

const EVENTS: &str = "id,name,updated_at\n1,ann,1\n2,bob,2\n3,cid,3\n";
/// Row 1 gone (a full build drops it, an incremental run keeps it), row 2
/// renamed and newer, row 4 new.
const EVENTS_LATER: &str = "id,name,updated_at\n2,bobby,5\n3,cid,3\n4,dee,6\n";

/// A model over the `raw_events` seed that reads only rows newer than
/// what `{{ this }}` holds on an incremental run.
fn model(config: &str, columns: &str) -> String {
    format!(
        "{{{{ config(materialized='incremental', {config}) }}}}\nselect {columns} from {{{{ ref('raw_events') }}}}\n{{% if is_incremental() %}}\nwhere updated_at > (select max(updated_at) from {{{{ this }}}})\n{{% endif %}}\n"
    )
}

fn project(database: &str, config: &str) -> tempfile::TempDir {
    let server = fakesnow::shared();
    let sql = model(config, "id, name, updated_at");
    let dir = small_project(database, &server.base_url(), &[("events", &sql)]);
    write_seed(dir.path(), EVENTS);
    dir
}

fn write_seed(dir: &Path, csv: &str) {
    std::fs::create_dir_all(dir.join("seeds")).unwrap();
    std::fs::write(dir.join("seeds/raw_events.csv"), csv).unwrap();
}

fn build(dir: &Path, extra: &[&str]) {
    let mut args = vec!["build"];
    args.extend_from_slice(extra);
    let run = cio(dir, &args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// A `build` that must fail: its run results.
fn failed_build(dir: &Path) -> Value {
    let run = cio(dir, &["build"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run_results(dir)
}

/// The table's rows as `id:name` (plus any further columns), sorted by id.
fn rows(dir: &Path, database: &str) -> Vec<String> {
    let wh = connect(dir);
    let rows = query(
        wh.as_ref(),
        &format!("SELECT * FROM {database}.CUSTOMER_IO.events ORDER BY id"),
    );
    rows.rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .filter(|(i, _)| rows.columns[*i] != "UPDATED_AT")
                .map(|(_, v)| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => "null".into(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(":")
        })
        .collect()
}

fn columns(dir: &Path, database: &str) -> Vec<String> {
    let wh = connect(dir);
    query(
        wh.as_ref(),
        &format!("SELECT * FROM {database}.CUSTOMER_IO.events LIMIT 0"),
    )
    .columns
}

#[test]
fn merge_updates_matched_rows_and_full_refresh_rebuilds() {
    let db = "INC_MERGE";
    let dir = project(db, "unique_key='id'");
    build(dir.path(), &[]);
    assert_eq!(rows(dir.path(), db), ["1:ann", "2:bob", "3:cid"]);
    let compiled =
        std::fs::read_to_string(dir.path().join("target/compiled/models/events.sql")).unwrap();
    assert!(
        !compiled.contains("max(updated_at)"),
        "the compiled SQL is the full build's: {compiled}"
    );

    write_seed(dir.path(), EVENTS_LATER);
    build(dir.path(), &[]);
    // Row 1 kept (not in the new rows), row 2 replaced (not duplicated),
    // row 4 added.
    assert_eq!(rows(dir.path(), db), ["1:ann", "2:bobby", "3:cid", "4:dee"]);
    let results = run_results(dir.path());
    assert_eq!(result_of(&results, "events")["rows"], 4);
    // The scratch table is gone.
    let wh = connect(dir.path());
    let left = query(
        wh.as_ref(),
        &format!("SHOW OBJECTS LIKE 'EVENTS__DBT_TMP' IN SCHEMA {db}.CUSTOMER_IO"),
    );
    assert!(left.rows.is_empty(), "{:?}", left.rows);

    build(dir.path(), &["--full-refresh"]);
    assert_eq!(rows(dir.path(), db), ["2:bobby", "3:cid", "4:dee"]);
}

#[test]
fn append_inserts_every_new_row() {
    let db = "INC_APPEND";
    let dir = project(db, "incremental_strategy='append'");
    build(dir.path(), &[]);
    write_seed(dir.path(), EVENTS_LATER);
    build(dir.path(), &[]);
    assert_eq!(
        rows(dir.path(), db),
        ["1:ann", "2:bob", "2:bobby", "3:cid", "4:dee"]
    );
}

#[test]
fn delete_insert_replaces_rows_by_a_two_column_key() {
    let db = "INC_DELINS";
    let dir = project(
        db,
        "unique_key=['id', 'updated_at'], incremental_strategy='delete+insert'",
    );
    build(dir.path(), &[]);
    write_seed(dir.path(), EVENTS_LATER);
    build(dir.path(), &[]);
    assert_eq!(
        rows(dir.path(), db),
        ["1:ann", "2:bob", "2:bobby", "3:cid", "4:dee"]
    );
    // The same new rows again: deleted and inserted, not duplicated.
    std::fs::write(
        dir.path().join("models/events.sql"),
        model(
            "unique_key=['id', 'updated_at'], incremental_strategy='delete+insert'",
            "id, name, updated_at",
        )
        .replace("where updated_at >", "where updated_at + 4 >"),
    )
    .unwrap();
    build(dir.path(), &[]);
    assert_eq!(
        rows(dir.path(), db),
        ["1:ann", "2:bob", "2:bobby", "3:cid", "4:dee"]
    );
}

/// The model gains a column `flag` and loses `name` on its second run.
fn change_schema(dir: &Path, config: &str) {
    std::fs::write(
        dir.join("models/events.sql"),
        model(config, "id, updated_at, id > 2 as flag"),
    )
    .unwrap();
    write_seed(dir, EVENTS_LATER);
}

#[test]
fn on_schema_change_modes_behave_as_dbts() {
    let cases: [(&str, &str, &[&str], &[&str]); 3] = [
        (
            "INC_OSC_IGNORE",
            "ignore",
            &["ID", "NAME", "UPDATED_AT"],
            // name is not in the new rows: NULL for them.
            &["1:ann", "2:null", "3:cid", "4:null"],
        ),
        (
            "INC_OSC_APPEND",
            "append_new_columns",
            &["ID", "NAME", "UPDATED_AT", "FLAG"],
            // The MERGE sets the new rows' columns only: row 2 keeps its name.
            &["1:ann:null", "2:bob:false", "3:cid:null", "4:null:true"],
        ),
        (
            "INC_OSC_SYNC",
            "sync_all_columns",
            &["ID", "UPDATED_AT", "FLAG"],
            &["1:null", "2:false", "3:null", "4:true"],
        ),
    ];
    for (db, mode, want_columns, want_rows) in cases {
        let config = format!("unique_key='id', on_schema_change='{mode}'");
        let dir = project(db, &config);
        build(dir.path(), &[]);
        change_schema(dir.path(), &config);
        let run = cio(dir.path(), &["build"]);
        if mode == "ignore" {
            // dbt's ignore writes the table's columns from the new rows:
            // a column the rows lack fails the MERGE, the table unchanged.
            assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
            assert_eq!(rows(dir.path(), db), ["1:ann", "2:bob", "3:cid"]);
            assert_eq!(columns(dir.path(), db), want_columns);
            continue;
        }
        assert_eq!(run.code, 0, "{mode}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(columns(dir.path(), db), want_columns, "{mode}");
        assert_eq!(rows(dir.path(), db), want_rows, "{mode}");
    }
}

#[test]
fn on_schema_change_fail_stops_with_the_table_unchanged() {
    let db = "INC_OSC_FAIL";
    let config = "unique_key='id', on_schema_change='fail'";
    let dir = project(db, config);
    build(dir.path(), &[]);
    change_schema(dir.path(), config);
    let results = failed_build(dir.path());
    let r = result_of(&results, "events");
    assert_eq!(r["code"], "CIO050", "{r}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("Source columns not in target: [FLAG]")
            && message.contains("target columns not in source: [NAME]"),
        "{message}"
    );
    assert_eq!(rows(dir.path(), db), ["1:ann", "2:bob", "3:cid"]);
    // The same failure with the new columns matching: no change, merged.
    std::fs::write(
        dir.path().join("models/events.sql"),
        model(config, "id, name, updated_at"),
    )
    .unwrap();
    build(dir.path(), &[]);
    assert_eq!(rows(dir.path(), db), ["1:ann", "2:bobby", "3:cid", "4:dee"]);
}

#[test]
fn a_failed_incremental_run_leaves_the_table_as_it_was() {
    let db = "INC_FAILS";
    let config = "unique_key='id', incremental_strategy='delete+insert'";
    let dir = project(db, config);
    build(dir.path(), &[]);
    write_seed(dir.path(), EVENTS_LATER);
    // The new rows' `name` cannot be inserted: the DELETE already ran in
    // the transaction, which is rolled back.
    std::fs::write(
        dir.path().join("models/events.sql"),
        model(config, "id, name, updated_at").replace(
            "select id, name, updated_at",
            "select id, case when id = 4 then null else name end as name, updated_at",
        ),
    )
    .unwrap();
    let wh = connect(dir.path());
    query(
        wh.as_ref(),
        &format!("ALTER TABLE {db}.CUSTOMER_IO.events ALTER COLUMN name SET NOT NULL"),
    );
    let results = failed_build(dir.path());
    let message = result_of(&results, "events")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("INSERT INTO"),
        "the INSERT failed: {message}"
    );
    assert_eq!(rows(dir.path(), db), ["1:ann", "2:bob", "3:cid"]);
}

#[test]
fn a_view_in_its_place_is_replaced_by_the_table() {
    let db = "INC_VIEW";
    let dir = project(db, "unique_key='id'");
    let wh = connect(dir.path());
    query(wh.as_ref(), &format!("CREATE DATABASE IF NOT EXISTS {db}"));
    query(
        wh.as_ref(),
        &format!("CREATE SCHEMA IF NOT EXISTS {db}.CUSTOMER_IO"),
    );
    query(
        wh.as_ref(),
        &format!("CREATE OR REPLACE VIEW {db}.CUSTOMER_IO.events AS SELECT 9 AS id"),
    );
    build(dir.path(), &[]);
    assert_eq!(rows(dir.path(), db), ["1:ann", "2:bob", "3:cid"]);
}

/// A bad config is a compile error at the config line, with the fix.
#[test]
fn bad_incremental_configs_are_clear_errors() {
    for (config, code, words) in [
        ("", "CIO048", "needs a unique_key"),
        (
            "unique_key='id', incremental_strategy='upsert'",
            "CIO048",
            "not a strategy",
        ),
        (
            "unique_key='id', on_schema_change='drop'",
            "CIO048",
            "not a mode",
        ),
        (
            "unique_key='id', cio_sync='identify'",
            "CIO049",
            "change-tracked",
        ),
    ] {
        let sql = format!(
            "{{{{ config(materialized='incremental'{}{config}) }}}}\nselect 1 as id\n",
            if config.is_empty() { "" } else { ", " }
        );
        let dir = small_project("OFFLINE", "http://127.0.0.1:1", &[("events", &sql)]);
        let (status, stdout, stderr) = offline(dir.path(), &["compile"]);
        assert_eq!(status, 1, "{config}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(&format!("error[{code}]")),
            "{config}: {stderr}"
        );
        assert!(stderr.contains(words), "{config}: {stderr}");
        assert!(stderr.contains("models/events.sql:1"), "{config}: {stderr}");
        assert!(stderr.contains("help:"), "{config}: {stderr}");
    }
}

/// The statements of each strategy, as sent to Snowflake (pinned: the
/// emulator runs them, but its MERGE and transactions are not Snowflake's;
/// see the comments in `execution/incremental.rs`).
#[test]
fn strategy_statements_are_pinned() {
    use cio_sql::execution::incremental::{SchemaChange, apply, stage};
    use cio_sql::project::incremental::{IncrementalConfig, OnSchemaChange, Strategy};
    let config = |strategy, key: &[&str]| IncrementalConfig {
        strategy,
        unique_key: key.iter().map(|k| k.to_string()).collect(),
        on_schema_change: OnSchemaChange::Ignore,
        full_refresh: None,
    };
    let change = SchemaChange {
        alters: vec!["ALTER TABLE DB.S.m ADD COLUMN \"NAME\" VARCHAR(16777216)".into()],
        columns: vec!["ID".into(), "NAME".into()],
    };
    let mut out = String::new();
    for (title, c) in [
        ("merge, one key", config(Strategy::Merge, &["id"])),
        ("merge, two keys", config(Strategy::Merge, &["id", "day"])),
        ("append", config(Strategy::Append, &[])),
        (
            "delete+insert",
            config(Strategy::DeleteInsert, &["id", "day"]),
        ),
        (
            "delete+insert without a key",
            config(Strategy::DeleteInsert, &[]),
        ),
    ] {
        let plan = apply("DB.S.m", "DB.S.m__dbt_tmp", &c, &change);
        out.push_str(&format!("-- {title} (transaction: {})\n", plan.transaction));
        for s in &plan.statements {
            out.push_str(&format!("{};\n", s.sql));
        }
        out.push_str(&format!("-- finally\n{};\n\n", plan.finally.join(";\n")));
    }
    let staged = stage("DB.S.m__dbt_tmp", "select 1 as id\n;");
    out.push_str(&format!("-- stage\n{};\n", staged.statements[0].sql));
    crate::support::snapshots(|| insta::assert_snapshot!("incremental_strategy_statements", out));
}
