//! End to end on a real Snowflake emulator (fakesnow, started by the tests):
//! seed and build the example project, then check the rows of every sync
//! model; catalog refresh; failure handling; locking; secrets.
//!
//! The emulator is installed into a cached virtualenv on first use; if it
//! cannot be installed or started the tests fail with the reason.

use crate::support::emulator_cli;
use crate::support::fakesnow;

use crate::support::copy_dir;

use cio_sql::warehouse::{Rows, Warehouse};
use emulator_cli::{
    SECRET, cio, connect, profiles, query, records, result_of, run_results, small_project,
    wait_for_exit,
};
use fakesnow::FakeSnow;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A copy of the example project pointed at `database` on `host`.
pub(crate) fn example_project(database: &str, host: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["dbt_project.yml", "catalog.yml"] {
        std::fs::copy(root.join(file), dir.path().join(file)).unwrap();
    }
    for folder in ["models", "seeds", "macros"] {
        copy_dir(&root.join(folder), &dir.path().join(folder));
    }
    std::fs::write(dir.path().join("profiles.yml"), profiles(database, host)).unwrap();
    dir
}

#[test]
fn build_the_example_project_and_check_every_sync_model() {
    let server = fakesnow::shared();
    let dir = example_project("E2E_BUILD", &server.base_url());
    let run = cio(dir.path(), &["build"]);
    assert_eq!(
        run.code,
        0,
        "{}\n{}\n{}",
        run.stdout,
        run.stderr,
        server.log_tail()
    );
    let results = run_results(dir.path());
    assert_eq!(results["success"], true);
    assert_eq!(
        results["results"].as_array().unwrap().len(),
        5 + 16 + 95 + 3,
        "5 seeds, 16 models, their 95 contract data tests and the 3 schema tests of models/schema.yml"
    );
    for test in [
        "unique_customer_io_persons_userId",
        "not_null_customer_io_persons_userId",
        "relationships_customer_io_location_relationships_userId__userId__ref_customer_io_persons_",
    ] {
        assert_eq!(result_of(&results, test)["status"], "pass", "{test}");
    }
    assert_eq!(
        result_of(&results, "cio_timestamp_not_null_persons_with_anonymous_id")["status"],
        "warn",
        "one seeded person has no timestamp, a warning by the project's cio_tests"
    );
    assert_eq!(result_of(&results, "customer_io_persons")["rows"], 5);
    let manifest = std::fs::read_to_string(dir.path().join("target/manifest.json")).unwrap();
    assert!(!manifest.contains(SECRET));

    let wh = connect(dir.path());
    let wh = wh.as_ref();
    let t = |name: &str| format!("E2E_BUILD.CUSTOMER_IO.{name}");

    // People: case- and space-variant emails merged (latest wins), NULL
    // emails each kept, a NULL _updated_at loses, ties go to the lower entity_id.
    let people = records(&query(
        wh,
        &format!(
            "SELECT \"userId\", \"email\", \"timestamp\", \"created_at\", \"first_name\" FROM {} ORDER BY \"userId\"",
            t("customer_io_persons")
        ),
    ));
    let ids: Vec<&str> = people
        .iter()
        .map(|r| r["userId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["u_ann", "u_bob", "u_dave_a", "u_ned", "u_nora"]);
    assert_eq!(people[0]["email"], " ann@example.com ");
    assert_eq!(people[0]["timestamp"], "2024-04-01 12:30:00");
    assert_eq!(
        people[0]["created_at"], "2023-02-01 08:00:00",
        "_created_at is renamed and kept a timestamp"
    );
    assert_eq!(people[1]["email"], "BOB@example.com");
    assert!(people[3]["email"].is_null() && people[4]["email"].is_null());

    let renamed = records(&query(
        wh,
        &format!(
            "SELECT \"given_name\", \"family_name\", \"signed_up_at\", \"camel_case_trait\" FROM {} WHERE \"userId\" = 'u_ann'",
            t("persons_renamed_traits")
        ),
    ));
    assert_eq!(renamed.len(), 1);
    assert_eq!(renamed[0]["family_name"], "Newer");
    assert_eq!(renamed[0]["signed_up_at"], "2023-02-01 08:00:00");
    assert_eq!(renamed[0]["camel_case_trait"], "beta");

    let ignored = query(
        wh,
        &format!("SELECT * FROM {} LIMIT 1", t("persons_ignored_traits")),
    );
    for gone in [
        "phone_number",
        "segment_anonymous_id",
        "_last_merged_at",
        "camelcasetrait",
    ] {
        assert!(
            !ignored.columns.iter().any(|c| c == gone),
            "{gone} must be ignored: {:?}",
            ignored.columns
        );
    }

    let anonymous = records(&query(
        wh,
        &format!(
            "SELECT \"userId\", \"anonymousId\" FROM {} ORDER BY \"anonymousId\"",
            t("persons_with_anonymous_id")
        ),
    ));
    assert_eq!(anonymous.len(), 9);
    assert!(
        anonymous
            .iter()
            .any(|r| r["userId"].is_null() && r["anonymousId"] == "anon-07")
    );

    let paying = records(&query(
        wh,
        &format!(
            "SELECT \"userId\", \"journey_state\" FROM {} ORDER BY 1",
            t("paying_customers")
        ),
    ));
    assert_eq!(
        paying
            .iter()
            .map(|r| r["userId"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["per_02", "per_06"]
    );

    let events = records(&query(
        wh,
        &format!(
            "SELECT \"userId\", \"event\", \"event_id\", \"event_data_source\", \"timestamp\" FROM {} ORDER BY \"event_id\", \"userId\"",
            t("customer_io_events")
        ),
    ));
    let pairs: Vec<(&str, &str)> = events
        .iter()
        .map(|r| {
            (
                r["event_id"].as_str().unwrap(),
                r["userId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("evt_01", "u_ann"),
            ("evt_02", "u_nora"),
            ("evt_03", "u_bob"),
            ("evt_04", "u_ann")
        ],
        "one row per (event, person in the people model); unnamed events out"
    );
    assert_eq!(events[0]["event"], "Order Placed");
    assert_eq!(events[0]["event_data_source"], "shopify");
    assert_eq!(events[0]["timestamp"], "2024-03-01 10:00:00");

    let locations = records(&query(
        wh,
        &format!(
            "SELECT \"groupId\", \"objectTypeId\", \"location_name\", \"status\" FROM {} ORDER BY 1",
            t("customer_io_locations")
        ),
    ));
    assert_eq!(locations.len(), 2);
    assert_eq!(
        (
            locations[0]["groupId"].as_str(),
            locations[0]["objectTypeId"].as_str()
        ),
        (Some("loc_berlin"), Some("1"))
    );
    assert_eq!(
        locations[0]["location_name"], "Berlin Store",
        "the latest version of the object wins"
    );

    let rels = records(&query(
        wh,
        &format!(
            "SELECT \"groupId\", \"userId\", \"relationshipAttributes\" FROM {} ORDER BY \"userId\", \"groupId\"",
            t("customer_io_location_relationships")
        ),
    ));
    let attrs: Vec<(String, String, Value)> = rels
        .iter()
        .map(|r| {
            let raw = &r["relationshipAttributes"];
            let parsed = match raw {
                Value::String(s) => serde_json::from_str(s).unwrap(),
                other => other.clone(),
            };
            (
                r["groupId"].as_str().unwrap().to_string(),
                r["userId"].as_str().unwrap().to_string(),
                parsed,
            )
        })
        .collect();
    assert_eq!(
        attrs.len(),
        3,
        "inactive, other-type and out-of-model relationships are left out: {attrs:?}"
    );
    let (_, _, berlin) = &attrs[0];
    assert_eq!(
        (attrs[0].0.as_str(), attrs[0].1.as_str()),
        ("loc_berlin", "u_ann")
    );
    assert_eq!(berlin["is_first"], true);
    assert_eq!(berlin["is_current_location"], false);
    assert_eq!(berlin["related_object_count"], 2);
    assert_eq!(berlin["role"], "customer");
    assert_eq!(berlin["last_interaction_at"], 1709737200);
    assert_eq!(attrs[1].2["is_current_location"], true);
    assert_eq!(
        (attrs[2].1.as_str(), &attrs[2].2["related_object_count"]),
        ("u_bob", &Value::from(1))
    );

    // show: readable timestamps, JSON rows.
    let show = cio(
        dir.path(),
        &[
            "show",
            "customer_io_persons",
            "--limit",
            "2",
            "--format",
            "json",
        ],
    );
    assert_eq!(show.code, 0, "{}", show.stderr);
    let shown: Vec<Value> = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(shown.len(), 2);
    assert!(
        shown[0]["timestamp"].as_str().unwrap().starts_with("2024-"),
        "{shown:?}"
    );
}

/// Counts the statements sent through it.
struct Counting<'a> {
    inner: &'a dyn Warehouse,
    sent: std::sync::Mutex<Vec<String>>,
}

impl Warehouse for Counting<'_> {
    fn execute(
        &self,
        sql: &str,
    ) -> Result<cio_sql::warehouse::Executed, cio_sql::warehouse::WarehouseError> {
        self.sent.lock().unwrap().push(sql.to_string());
        self.inner.execute(sql)
    }
    fn query(&self, sql: &str) -> Result<Rows, cio_sql::warehouse::WarehouseError> {
        self.sent.lock().unwrap().push(sql.to_string());
        self.inner.query(sql)
    }
}

#[test]
fn catalog_refresh_round_trips_with_one_query_per_database() {
    let server = fakesnow::shared();
    let dir = example_project("E2E_CATALOG", &server.base_url());
    let seed = cio(dir.path(), &["seed"]);
    assert_eq!(seed.code, 0, "{}\n{}", seed.stdout, seed.stderr);

    // compile --live introspects once: one statement for one database.
    let wh = connect(dir.path());
    let counting = Counting {
        inner: wh.as_ref(),
        sent: Default::default(),
    };
    let project = cio_sql::project::Project::load(&cio_sql::project::LoadOptions {
        project_dir: dir.path().into(),
        ..Default::default()
    })
    .unwrap();
    let (catalog, missing) =
        cio_sql::execution::catalog::live_catalog(&project, &counting).unwrap();
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(
        counting.sent.lock().unwrap().len(),
        1,
        "one INFORMATION_SCHEMA query: {:?}",
        counting.sent.lock().unwrap()
    );
    let opts = cio_sql::compile::CompileOptions {
        load: project_load(dir.path()),
        ..Default::default()
    };
    let compiled =
        cio_sql::pipeline::compile_project(project, std::sync::Arc::new(catalog), &opts).unwrap();
    assert!(compiled.succeeded());
    let live = cio(dir.path(), &["compile", "--live"]);
    assert_eq!(live.code, 0, "{}\n{}", live.stdout, live.stderr);

    // A relation the warehouse lacks is reported and kept.
    let mut text = std::fs::read_to_string(dir.path().join("catalog.yml")).unwrap();
    text.push_str("  - name: not_in_the_warehouse\n    schema: NEXUS\n    columns:\n      - {name: a, data_type: TEXT}\n");
    std::fs::write(dir.path().join("catalog.yml"), text).unwrap();
    let refresh = cio(dir.path(), &["catalog"]);
    assert_eq!(refresh.code, 0, "{}\n{}", refresh.stdout, refresh.stderr);
    assert!(
        refresh.stderr.contains("CIO321") && refresh.stderr.contains("not_in_the_warehouse"),
        "{}",
        refresh.stderr
    );
    let first = std::fs::read_to_string(dir.path().join("catalog.yml")).unwrap();
    assert!(first.contains("- name: not_in_the_warehouse"));
    assert!(
        first.contains("- name: nexus_entities\n    database: E2E_CATALOG\n    schema: NEXUS\n"),
        "{first}"
    );

    // The refreshed catalog compiles, and a second refresh changes nothing.
    let compile = cio(dir.path(), &["compile"]);
    assert_eq!(compile.code, 0, "{}\n{}", compile.stdout, compile.stderr);
    assert_eq!(cio(dir.path(), &["catalog"]).code, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("catalog.yml")).unwrap(),
        first,
        "refresh is deterministic"
    );
}

fn project_load(dir: &Path) -> cio_sql::project::LoadOptions {
    cio_sql::project::LoadOptions {
        project_dir: dir.to_path_buf(),
        ..Default::default()
    }
}

#[test]
fn a_failed_model_skips_exactly_its_dependents_and_keeps_the_old_table() {
    let server = fakesnow::shared();
    let models = [
        ("good", "select 1 as v"),
        ("flaky", "select 41 as v"),
        ("child", "select v + 1 as v from {{ ref('flaky') }}"),
        ("grandchild", "select v from {{ ref('child') }}"),
        ("sibling", "select v from {{ ref('good') }}"),
    ];
    let dir = small_project("E2E_SKIP", &server.base_url(), &models);
    let first = cio(dir.path(), &["run"]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);

    std::fs::write(
        dir.path().join("models/flaky.sql"),
        "select v from E2E_SKIP.NOWHERE.missing_table",
    )
    .unwrap();
    let second = cio(dir.path(), &["run"]);
    assert_eq!(second.code, 1, "{}\n{}", second.stdout, second.stderr);
    let results = run_results(dir.path());
    assert_eq!(results["success"], false);
    assert_eq!(result_of(&results, "flaky")["status"], "error");
    assert_eq!(result_of(&results, "flaky")["code"], "CIO303");
    for skipped in ["child", "grandchild"] {
        let r = result_of(&results, skipped);
        assert_eq!(r["status"], "skipped", "{r}");
    }
    assert!(
        result_of(&results, "child")["message"]
            .as_str()
            .unwrap()
            .contains("flaky")
    );
    for ok in ["good", "sibling"] {
        assert_eq!(result_of(&results, ok)["status"], "success");
    }
    let wh = connect(dir.path());
    let old = query(wh.as_ref(), "SELECT v FROM E2E_SKIP.CUSTOMER_IO.flaky");
    assert_eq!(
        old.rows,
        vec![vec![Value::from(41)]],
        "the failed build left the previous table as it was"
    );

    // --fail-fast: nothing is started after the failure.
    let ff = cio(dir.path(), &["run", "--fail-fast", "--threads", "1"]);
    assert_eq!(ff.code, 1);
    let results = run_results(dir.path());
    let statuses: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    let after = statuses
        .iter()
        .skip_while(|s| **s != "error")
        .skip(1)
        .collect::<Vec<_>>();
    assert!(after.iter().all(|s| **s == "skipped"), "{statuses:?}");
}

#[test]
fn the_emulator_stopped_mid_run_gives_exit_1_and_results() {
    let server = FakeSnow::start();
    let mut models: Vec<(String, String)> = vec![("m00".into(), "select 1 as v".into())];
    for i in 1..30 {
        models.push((
            format!("m{i:02}"),
            format!("select v + 1 as v from {{{{ ref('m{:02}') }}}}", i - 1),
        ));
    }
    let refs: Vec<(&str, &str)> = models
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = small_project("E2E_STOP", &server.base_url(), &refs);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cio-sql"))
        .args(["run", "--threads", "1", "--project-dir"])
        .arg(dir.path())
        .env("CIO_SQL_E2E_PASSWORD", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ok = line.contains(" OK ");
        seen.push(line);
        if ok {
            break;
        }
    }
    drop(server); // the emulator goes away mid-run
    seen.extend(lines.map_while(Result::ok));
    let status = wait_for_exit(
        &mut child,
        "cio-sql did not stop after the emulator went away",
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{}\n{stderr}", seen.join("\n"));
    assert!(!stderr.contains("panicked") && !stderr.contains(SECRET));
    let results = run_results(dir.path());
    assert_eq!(results["success"], false);
    let all = results["results"].as_array().unwrap();
    assert_eq!(all.len(), 30, "every model has a result");
    let errors: Vec<&Value> = all.iter().filter(|r| r["status"] == "error").collect();
    assert_eq!(
        errors.len(),
        1,
        "one model failed, its dependents were skipped: {all:?}"
    );
    assert!(
        errors[0]["code"].as_str().unwrap().starts_with("CIO30"),
        "{}",
        errors[0]
    );
    assert!(all.iter().any(|r| r["status"] == "success"));
}

#[test]
fn an_unreachable_host_fails_fast_with_a_clear_message() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = small_project(
        "E2E_NOWHERE",
        &format!("http://127.0.0.1:{closed}"),
        &[("m", "select 1 as v")],
    );
    let started = Instant::now();
    let run = cio(dir.path(), &["run"]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("CIO301") && run.stderr.contains("cannot reach"),
        "{}",
        run.stderr
    );
    let results = run_results(dir.path());
    assert_eq!(results["success"], false);
    assert!(results["error"].as_str().unwrap().contains("cannot reach"));
}

#[test]
fn a_second_concurrent_run_is_refused() {
    let dir = small_project("E2E_LOCK", "http://127.0.0.1:9", &[("m", "select 1 as v")]);
    let lock =
        cio_sql::files::lock::RunLock::acquire(&dir.path().join("target"), "emulator").unwrap();
    let started = Instant::now();
    let run = cio(dir.path(), &["run"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        run.code, 1,
        "a held lock is a runtime failure: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("CIO310") && run.stderr.contains("already building"),
        "{}",
        run.stderr
    );
    drop(lock);
}
