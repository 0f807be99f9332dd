//! Exact syncs (issue 12), end to end on the emulator through the binary:
//! change-tracked sync tables, the incremental and delete queries of
//! `sync-query` on the change time, the mass-delete guard and `plan`.

use crate::emulator_e2e::example_project;
use crate::support::emulator_cli::{cio, connect, query};
use crate::support::fakesnow;
use cio_sql::warehouse::Warehouse;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `--vars` that make the incremental query exact (no overlap margin).
const EXACT: &str = "{cio_sync_overlap_seconds: 0}";

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Unix time strictly after everything built so far and strictly before
/// anything built later: sleeps past the next whole second on each side.
fn cursor() -> u64 {
    std::thread::sleep(Duration::from_millis(1100));
    let t = now_unix();
    std::thread::sleep(Duration::from_millis(1100));
    t
}

fn build(dir: &Path, extra: &[&str]) -> crate::support::emulator_cli::Run {
    let mut args = vec!["build"];
    args.extend_from_slice(extra);
    cio(dir, &args)
}

fn must_build(dir: &Path) {
    let run = build(dir, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// The sync-query setups by model name (JSON, exact queries).
fn setups(dir: &Path) -> BTreeMap<String, Value> {
    let run = cio(
        dir,
        &["sync-query", "--log-format", "json", "--vars", EXACT],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "sync_query")
        .map(|v| (v["model"].as_str().unwrap().to_string(), v))
        .collect()
}

/// `plan --log-format json --rows N` by model, checking its exit code:
/// 1 when a model would trip the mass-delete guard, else 0.
fn plans(dir: &Path, rows: usize) -> BTreeMap<String, Value> {
    let run = cio(
        dir,
        &["plan", "--log-format", "json", "--rows", &rows.to_string()],
    );
    let found: BTreeMap<String, Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "plan")
        .map(|v| (v["model"].as_str().unwrap().to_string(), v))
        .collect();
    let tripped = found.values().any(|p| !p["mass_delete"].is_null());
    assert_eq!(
        run.code,
        i32::from(tripped),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    found
}

/// Runs `sql` with `{{last_sync_time}}` set to `t`, returning each row as
/// the values of `columns` joined with `/`.
fn keys_at(wh: &dyn Warehouse, sql: &str, t: u64, columns: &[&str]) -> BTreeSet<String> {
    let sql = sql.replace("{{last_sync_time}}", &t.to_string());
    let rows = query(wh, &sql);
    let at: Vec<usize> = columns
        .iter()
        .map(|c| {
            rows.columns
                .iter()
                .position(|n| n == c)
                .unwrap_or_else(|| panic!("no column {c} in {:?}\n{sql}", rows.columns))
        })
        .collect();
    rows.rows
        .iter()
        .map(|r| {
            at.iter()
                .map(|&i| match &r[i] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Edits a seed file: `f` gets and returns its lines.
fn edit_seed(dir: &Path, name: &str, f: impl FnOnce(Vec<String>) -> Vec<String>) {
    let path = dir.join("seeds").join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path).unwrap();
    let lines = f(text.lines().map(str::to_string).collect());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// An event of a person who is not in the people model yet.
fn add_event_of_a_future_person(dir: &Path) {
    edit_seed(dir, "nexus_events", |mut l| {
        l.push("evt_07,2023-12-01 09:00:00,Signed Up,Zoe signed up,web,,,1,segment,2023-12-01 09:01:00,2024-05-01 00:00:00".into());
        l
    });
    edit_seed(dir, "nexus_entity_participants", |mut l| {
        l.push(
            "ep_10,evt_07,per_10,person,customer,2023-12-01 09:01:00,2024-05-01 00:00:00".into(),
        );
        l
    });
}

/// The second day: a late event, a new person with an older event, a
/// removed person, an ended relationship, a changed trait.
fn change_the_seeds(dir: &Path) {
    edit_seed(dir, "nexus_entities", |l| {
        let mut out: Vec<String> = l
            .into_iter()
            // Bob (u_bob) leaves: per_05, with the same email, takes his place.
            .filter(|line| !line.starts_with("per_06,"))
            // Nora's first name is corrected.
            .map(|line| line.replacen("per_03,person,,Nora,", "per_03,person,,Norah,", 1))
            .collect();
        out.push("per_10,person,zoe@example.com,Zoe,Late,,active,u_zoe,,Zoe Late,,free,0,true,2023-12-01,,per_10,2024-05-01 00:00:00,2024-01-02 00:00:00,2023-12-01 00:00:00,,,".into());
        out
    });
    edit_seed(dir, "nexus_events", |mut l| {
        // Reaches the warehouse late, with an occurred_at long before T1.
        l.push("evt_06,2024-03-03 12:00:00,Order Placed,A late order,purchase,10,EUR,3,shopify,2024-03-03 12:01:00,2024-05-01 00:00:00".into());
        l
    });
    edit_seed(dir, "nexus_entity_participants", |mut l| {
        l.push(
            "ep_09,evt_06,per_02,person,customer,2024-03-03 12:01:00,2024-05-01 00:00:00".into(),
        );
        l
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
}

const PEOPLE: &str = "customer_io_persons";
const EVENTS: &str = "customer_io_events";
const RELATIONSHIPS: &str = "customer_io_location_relationships";
const LOCATIONS: &str = "customer_io_locations";

#[test]
fn the_next_sync_sends_exactly_what_changed() {
    let server = fakesnow::shared();
    let dir = example_project("EXACT_SCENARIO", &server.base_url());
    let dir = dir.path();
    add_event_of_a_future_person(dir);
    // The scenario makes u_bob_nodate (no update time, so no "timestamp")
    // win Bob's email in every identify model: a row Customer.io takes,
    // which the contract test `timestamp_not_null` reports; here as a
    // warning, so that the builds go on (see README, "Testing your syncs").
    let project = dir.join("dbt_project.yml");
    let text = std::fs::read_to_string(&project).unwrap();
    let text = text.replacen(
        "    identify:\n",
        "    identify:\n      +cio_tests: {timestamp_not_null: warn}\n",
        1,
    );
    assert!(
        text.contains("+cio_tests: {timestamp_not_null: warn}\n      +tags"),
        "dbt_project.yml changed shape"
    );
    std::fs::write(&project, text).unwrap();
    must_build(dir);
    let s = setups(dir);
    let wh = connect(dir);
    let wh = wh.as_ref();
    let q = |model: &str| s[model]["query"].as_str().unwrap().to_string();
    let dq = |model: &str| s[model]["delete_query"].as_str().unwrap().to_string();

    // The first sync (last_sync_time = 0) sends every row.
    let table_rows = |model: &str| {
        let rows = query(
            wh,
            &format!("SELECT COUNT(*) FROM EXACT_SCENARIO.CUSTOMER_IO.{model}"),
        );
        rows.rows[0][0]
            .as_u64()
            .or_else(|| rows.rows[0][0].as_str().and_then(|s| s.parse().ok()))
            .unwrap()
    };
    let people0 = keys_at(wh, &q(PEOPLE), 0, &["userId"]);
    assert_eq!(
        people0,
        set(&["u_ann", "u_bob", "u_dave_a", "u_ned", "u_nora"])
    );
    assert_eq!(people0.len() as u64, table_rows(PEOPLE));
    let events0 = keys_at(wh, &q(EVENTS), 0, &["event_id", "userId"]);
    assert_eq!(
        events0,
        set(&[
            "evt_01/u_ann",
            "evt_02/u_nora",
            "evt_03/u_bob",
            "evt_04/u_ann"
        ]),
        "Zoe's event waits for Zoe"
    );
    let rels0 = keys_at(wh, &q(RELATIONSHIPS), 0, &["groupId", "userId"]);
    assert_eq!(
        rels0,
        set(&["loc_berlin/u_ann", "loc_lisbon/u_ann", "loc_lisbon/u_bob"])
    );
    assert_eq!(keys_at(wh, &q(LOCATIONS), 0, &["groupId"]).len(), 2);
    // Nothing to delete on the first day.
    for model in [PEOPLE, RELATIONSHIPS, LOCATIONS] {
        assert!(keys_at(wh, &dq(model), 0, &["event"]).is_empty(), "{model}");
    }
    // Bookkeeping columns are never sent.
    let sent = query(wh, &q(PEOPLE).replace("{{last_sync_time}}", "0"));
    assert!(
        sent.columns.iter().all(|c| !c.starts_with("__cio")),
        "{:?}",
        sent.columns
    );
    assert!(
        s[EVENTS]["delete_query"].is_null(),
        "events are not deleted"
    );

    let t1 = cursor();
    change_the_seeds(dir);
    // `plan` (after loading the seeds) tells what the next build changes;
    // the relationships would trip the mass-delete guard, so it exits 1.
    let seeded = cio(dir, &["seed"]);
    assert_eq!(seeded.code, 0, "{}\n{}", seeded.stdout, seeded.stderr);
    let planned = plans(dir, 1);
    let counts = |model: &str| {
        let p = &planned[model];
        ["new", "changed", "unchanged", "deleted"].map(|k| p[k].as_u64().unwrap())
    };
    assert_eq!(counts(PEOPLE), [2, 1, 3, 1], "{}", planned[PEOPLE]);
    assert_eq!(counts(LOCATIONS), [0, 0, 2, 0]);
    assert!(planned[PEOPLE]["mass_delete"].is_null());
    assert_eq!(
        planned[PEOPLE]["samples"]["deleted"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        planned[PEOPLE]["samples"]["new"].as_array().unwrap().len(),
        1,
        "--rows 1"
    );
    // Events and relationships read the people model as built: plan them
    // once it is.
    assert_eq!(planned[EVENTS]["reads_models"], serde_json::json!([PEOPLE]));
    let people_built = build(dir, &["--select", PEOPLE]);
    assert_eq!(
        people_built.code, 0,
        "{}\n{}",
        people_built.stdout, people_built.stderr
    );
    let planned = plans(dir, 1);
    let counts = |model: &str| {
        let p = &planned[model];
        ["new", "changed", "unchanged", "deleted"].map(|k| p[k].as_u64().unwrap())
    };
    assert_eq!(counts(PEOPLE), [0, 0, 6, 0], "{}", planned[PEOPLE]);
    assert_eq!(counts(EVENTS), [2, 0, 3, 1], "{}", planned[EVENTS]);
    assert_eq!(
        counts(RELATIONSHIPS),
        [0, 1, 0, 2],
        "{}",
        planned[RELATIONSHIPS]
    );
    assert!(planned[RELATIONSHIPS]["mass_delete"].is_string());
    // Two of the three relationships go: the mass-delete guard stops that
    // model, which keeps its table and change times; the others build.
    let guarded = build(dir, &[]);
    assert_eq!(guarded.code, 1, "{}\n{}", guarded.stdout, guarded.stderr);
    assert!(
        guarded.stdout.contains("CIO330")
            || guarded
                .stdout
                .contains("would delete 2 of the table's 3 rows"),
        "{}",
        guarded.stdout
    );
    assert_eq!(
        keys_at(wh, &q(RELATIONSHIPS), 0, &["groupId", "userId"]),
        rels0
    );
    assert!(keys_at(wh, &q(RELATIONSHIPS), t1, &["groupId", "userId"]).is_empty());
    assert!(keys_at(wh, &dq(RELATIONSHIPS), 0, &["userId"]).is_empty());
    let allowed = build(dir, &["--allow-mass-delete"]);
    assert_eq!(allowed.code, 0, "{}\n{}", allowed.stdout, allowed.stderr);

    // The second sync: the new and changed rows, the late event and the
    // events of the person who joined; the delete query the removed keys.
    assert_eq!(
        keys_at(wh, &q(PEOPLE), t1, &["userId"]),
        set(&["u_bob_nodate", "u_nora", "u_zoe"]),
        "Nora changed, Zoe joined, u_bob_nodate now wins Bob's email"
    );
    assert_eq!(
        keys_at(wh, &dq(PEOPLE), t1, &["userId", "event"]),
        set(&["u_bob/User Deleted"])
    );
    assert_eq!(
        keys_at(wh, &q(EVENTS), t1, &["event_id", "userId"]),
        set(&["evt_06/u_ann", "evt_07/u_zoe"]),
        "the late event and the events of the person who joined"
    );
    assert_eq!(
        keys_at(wh, &dq(RELATIONSHIPS), t1, &["userId", "objectId", "event"]),
        set(&[
            "u_ann/loc_berlin/Relationship Deleted",
            "u_bob/loc_lisbon/Relationship Deleted"
        ])
    );
    assert_eq!(
        keys_at(wh, &q(RELATIONSHIPS), t1, &["groupId", "userId"]),
        set(&["loc_lisbon/u_ann"]),
        "Ann's remaining relationship changed: her related_object_count fell"
    );
    assert!(keys_at(wh, &q(LOCATIONS), t1, &["groupId"]).is_empty());
    assert!(keys_at(wh, &dq(LOCATIONS), t1, &["event"]).is_empty());

    // A third build with no change: the next sync sends nothing.
    let t2 = cursor();
    must_build(dir);
    for model in [PEOPLE, EVENTS, RELATIONSHIPS, LOCATIONS] {
        assert!(
            keys_at(wh, &q(model), t2, &["timestamp"]).is_empty(),
            "{model} sent rows after a build without changes"
        );
    }
    for model in [PEOPLE, RELATIONSHIPS, LOCATIONS] {
        assert!(
            keys_at(wh, &dq(model), t2, &["event"]).is_empty(),
            "{model}"
        );
    }
    // The plan counts are what the queries returned.
    for (model, [new, changed, _, deleted]) in [
        (EVENTS, counts(EVENTS)),
        (RELATIONSHIPS, counts(RELATIONSHIPS)),
    ] {
        let sent = keys_at(wh, &q(model), t1, &["timestamp", "userId"]).len() as u64;
        assert_eq!(sent, new + changed, "{model}");
        if model == RELATIONSHIPS {
            let deletes = keys_at(wh, &dq(model), t1, &["userId", "event"]).len() as u64;
            assert_eq!(deletes, deleted, "{model}");
        }
    }
    let after = plans(dir, 0);
    for model in [PEOPLE, EVENTS, RELATIONSHIPS, LOCATIONS] {
        let p = &after[model];
        assert_eq!(
            (
                p["new"].as_u64(),
                p["changed"].as_u64(),
                p["deleted"].as_u64()
            ),
            (Some(0), Some(0), Some(0)),
            "{model}: {p}"
        );
    }
    // The deletes stay deleted and the earlier sync still sees them.
    assert_eq!(keys_at(wh, &dq(PEOPLE), t1, &["userId"]), set(&["u_bob"]));
}

/// `(userId, name, change time, deleted)` of every row of `relation`.
fn tracked_rows(wh: &dyn Warehouse, relation: &str) -> Vec<String> {
    let rows = query(
        wh,
        &format!(
            "SELECT \"userId\", \"name\", TO_VARCHAR(\"__cio_sql_changed_at\"), \"__cio_sql_deleted\" FROM {relation} ORDER BY 1, 3"
        ),
    );
    rows.rows.iter().map(|r| format!("{r:?}")).collect()
}

#[test]
fn a_failed_build_keeps_the_table_and_its_change_times() {
    let server = fakesnow::shared();
    let people = "{{ config(cio_sync='identify') }}\nselect 'u1' as \"userId\", 'Ann' as \"name\"\nunion all select 'u2', 'Bob'\n";
    let dir = crate::support::emulator_cli::small_project(
        "EXACT_FAILED",
        &server.base_url(),
        &[("people", people)],
    );
    let dir = dir.path();
    must_build(dir);
    let wh = connect(dir);
    let wh = wh.as_ref();
    let relation = "EXACT_FAILED.CUSTOMER_IO.people";
    let before = tracked_rows(wh, relation);
    assert_eq!(before.len(), 2, "{before:?}");
    std::thread::sleep(Duration::from_millis(1100));
    // The new SELECT fails in the warehouse, halfway through the statement.
    std::fs::write(
        dir.join("models/people.sql"),
        "{{ config(cio_sync='identify') }}\nselect 'u1' as \"userId\", 'Ann' as \"name\"\nunion all select 'u3', CAST(CAST('not a number' AS INTEGER) AS VARCHAR)\n",
    )
    .unwrap();
    let failed = build(dir, &[]);
    assert_eq!(failed.code, 1, "{}\n{}", failed.stdout, failed.stderr);
    assert_eq!(tracked_rows(wh, relation), before, "the table is as it was");
    // A build that changes nothing keeps the change times too.
    std::fs::write(dir.join("models/people.sql"), people).unwrap();
    must_build(dir);
    assert_eq!(tracked_rows(wh, relation), before);
}
