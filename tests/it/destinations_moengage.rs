//! MoEngage (issue 16): the example models `moengage_persons`,
//! `moengage_events` and `moengage_aliases` built on the emulator, and their
//! compile-time checks.

use crate::emulator_e2e::example_project;
use crate::support::emulator_cli::{cio, connect, query};
use crate::support::fakesnow;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "NULL".into(),
        other => other.to_string(),
    }
}

/// Every row of `sql`, its values joined with `/`.
pub(crate) fn rows(dir: &Path, sql: &str) -> BTreeSet<String> {
    let wh = connect(dir);
    query(wh.as_ref(), sql)
        .rows
        .iter()
        .map(|r| r.iter().map(text).collect::<Vec<_>>().join("/"))
        .collect()
}

pub(crate) fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn moengage_tables_hold_users_events_and_merges() {
    let server = fakesnow::shared();
    let dir = example_project("DEST_MOENGAGE", &server.base_url());
    let dir = dir.path();
    let run = cio(dir, &["build"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let t = |name: &str| format!("DEST_MOENGAGE.CUSTOMER_IO.{name}");

    // One user per email, as the Customer.io people model keeps them.
    let users = rows(
        dir,
        &format!(
            "SELECT \"customer_id\" FROM {} WHERE NOT \"__cio_sql_deleted\"",
            t("moengage_persons")
        ),
    );
    assert_eq!(
        users,
        set(&["u_ann", "u_bob", "u_dave_a", "u_ned", "u_nora"])
    );
    let persons = rows(
        dir,
        &format!(
            "SELECT \"userId\" FROM {} WHERE NOT \"__cio_sql_deleted\"",
            t("customer_io_persons")
        ),
    );
    assert_eq!(users, persons);

    // The ids the dedupe drops merge into the one it keeps (ties: the
    // lower entity_id; a missing update time loses).
    let merges = rows(
        dir,
        &format!(
            "SELECT \"merged_user\", \"retained_user\" FROM {}",
            t("moengage_aliases")
        ),
    );
    assert_eq!(
        merges,
        set(&["u_ann_old/u_ann", "u_bob_nodate/u_bob", "u_dave_b/u_dave_a"])
    );

    // Events: the Customer.io events' rows, with the time in Unix seconds.
    let events = rows(
        dir,
        &format!(
            "SELECT \"event_id\", \"customer_id\", \"action\", TO_VARCHAR(\"event_time\") FROM {} WHERE NOT \"__cio_sql_deleted\"",
            t("moengage_events")
        ),
    );
    // evt_01 occurred at 2024-03-01 10:00:00 UTC: `date -u -d '2024-03-01
    // 10:00:00' +%s` is 1709287200.
    assert!(
        events.contains("evt_01/u_ann/Order Placed/1709287200"),
        "{events:?}"
    );
    let cio_events: BTreeSet<String> = rows(
        dir,
        &format!(
            "SELECT \"event_id\", \"userId\", \"event\" FROM {} WHERE NOT \"__cio_sql_deleted\"",
            t("customer_io_events")
        ),
    );
    let ours: BTreeSet<String> = events
        .iter()
        .map(|e| e.rsplit_once('/').unwrap().0.to_string())
        .collect();
    assert_eq!(ours, cio_events);
}

/// `cio-sql compile` of the example project with one more model.
pub(crate) fn compile_with(name: &str, source: &str) -> crate::support::emulator_cli::Run {
    let dir = example_project("DEST_OFFLINE", "http://127.0.0.1:9");
    std::fs::write(dir.path().join(format!("models/{name}.sql")), source).unwrap();
    cio(dir.path(), &["compile"])
}

#[test]
fn a_moengage_event_without_customer_id_or_with_a_moe_name_is_an_error() {
    let run = compile_with(
        "bad_events",
        "{{ config(cio_destination='moengage', cio_sync='events') }}\nselect 'e1' as \"event_id\", 'Signed Up' as \"action\", 'x' as \"moe_plan\"\n",
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("moengage.events syncs need a `customer_id` column"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("error[CIO213]"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("attribute `moe_plan` is a name MoEngage does not accept"),
        "{}",
        run.stderr
    );
}
