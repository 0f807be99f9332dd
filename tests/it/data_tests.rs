//! Data tests end to end on the emulator (fakesnow, started by the tests):
//! the contract tests generated for every sync model pass on clean seeds
//! and fail, with the right count and sample, on seeds crafted to break
//! each; `build` runs them after their model and skips the dependents of a
//! model whose test fails; `run_results.json` records every test; a
//! warehouse error inside a test is an `error` result; `cio_tests` turns
//! tests off or to warnings, and a bad `cio_tests` is a compile error.

use crate::support::emulator_cli::{cio, connect, profiles, query, result_of, run_results};
use crate::support::fakesnow;
use serde_json::Value;
use std::path::Path;

const CATALOG: &str = "relations:
  - name: people_rows
    schema: CUSTOMER_IO
    columns:
      - {name: user_id, data_type: VARCHAR}
      - {name: anonymous_id, data_type: VARCHAR}
      - {name: ts, data_type: TIMESTAMP_NTZ}
      - {name: bio, data_type: VARCHAR}
  - name: event_rows
    schema: CUSTOMER_IO
    columns:
      - {name: user_id, data_type: VARCHAR}
      - {name: event_name, data_type: VARCHAR}
      - {name: ts, data_type: TIMESTAMP_NTZ}
      - {name: detail, data_type: VARCHAR}
  - name: object_rows
    schema: CUSTOMER_IO
    columns:
      - {name: group_id, data_type: VARCHAR}
      - {name: object_type_id, data_type: VARCHAR}
      - {name: label, data_type: VARCHAR}
  - name: member_rows
    schema: CUSTOMER_IO
    columns:
      - {name: group_id, data_type: VARCHAR}
      - {name: object_type_id, data_type: VARCHAR}
      - {name: user_id, data_type: VARCHAR}
";

const PEOPLE: &str = "{{ config(cio_sync='identify') }}
select user_id as \"userId\", anonymous_id as \"anonymousId\", ts as \"timestamp\", bio as \"bio\"
from {{ ref('people_rows') }}";
const EVENTS: &str = "{{ config(cio_sync='track', cio_key=['userId', 'event', 'timestamp']) }}
select user_id as \"userId\", event_name as \"event\", ts as \"timestamp\", detail as \"detail\"
from {{ ref('event_rows') }}";
const OBJECTS: &str = "{{ config(cio_sync='group') }}
select group_id as \"groupId\", object_type_id as \"objectTypeId\", label as \"label\"
from {{ ref('object_rows') }}";
const MEMBERS: &str = "{{ config(cio_sync='relationship') }}
select group_id as \"groupId\", object_type_id as \"objectTypeId\", user_id as \"userId\"
from {{ ref('member_rows') }}";

/// A project of four sync models over four seeds, one per sync type, plus
/// a model downstream of the people and one alone.
pub(crate) fn project(database: &str, host: &str, dbt_project_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "dbt_project.yml",
        &format!(
            "name: cio_sql_example\nmodels:\n  cio_sql_example:\n    +materialized: table\n{dbt_project_extra}"
        ),
    );
    write("profiles.yml", &profiles(database, host));
    write("catalog.yml", CATALOG);
    write("models/people.sql", PEOPLE);
    write("models/events.sql", EVENTS);
    write("models/objects.sql", OBJECTS);
    write("models/members.sql", MEMBERS);
    write(
        "models/people_count.sql",
        "select count(*) as n from {{ ref('people') }}",
    );
    write("models/alone.sql", "select 1 as n");
    clean_seeds(dir.path());
    dir
}

pub(crate) fn seed(dir: &Path, name: &str, csv: &str) {
    std::fs::create_dir_all(dir.join("seeds")).unwrap();
    std::fs::write(dir.join(format!("seeds/{name}.csv")), csv).unwrap();
}

fn clean_seeds(dir: &Path) {
    seed(
        dir,
        "people_rows",
        "user_id,anonymous_id,ts,bio\nu1,,2024-01-01 00:00:00,hello\nu2,a2,2024-01-02 00:00:00,\n,a3,2024-01-03 00:00:00,anonymous\n",
    );
    seed(
        dir,
        "event_rows",
        "user_id,event_name,ts,detail\nu1,signed_up,2024-01-01 00:00:00,web\nu2,paid,2024-01-02 00:00:00,\n",
    );
    seed(
        dir,
        "object_rows",
        "group_id,object_type_id,label\ng1,1,North\ng2,2,South\n",
    );
    seed(
        dir,
        "member_rows",
        "group_id,object_type_id,user_id\ng1,1,u1\ng1,1,u2\ng2,2,u1\n",
    );
}

/// Rows that break each contract test a known number of times.
fn crafted_seeds(dir: &Path) {
    let long_id = "x".repeat(151);
    // 501 two-byte characters: 1002 bytes in 501 characters.
    let wide = "é".repeat(501);
    let fits = "é".repeat(500);
    let huge = "a".repeat(33_000);
    seed(
        dir,
        "people_rows",
        &format!(
            "user_id,anonymous_id,ts,bio\n\
             u1,,2024-01-01 00:00:00,hello\n\
             u1,,2024-01-01 00:00:00,again\n\
             ,,2024-01-01 00:00:00,nobody\n\
             {long_id},,2024-01-01 00:00:00,long id\n\
             u5,,2024-01-01 00:00:00,{wide}\n\
             u6,,2024-01-01 00:00:00,{fits}\n\
             u7,,,no time\n\
             u8,,2999-01-01 00:00:00,future\n\
             u9,,2024-01-01 00:00:00,{huge}\n"
        ),
    );
    let long_event = "e".repeat(101);
    let data = "d".repeat(100_001);
    seed(
        dir,
        "event_rows",
        &format!(
            "user_id,event_name,ts,detail\n\
             u1,signed_up,2024-01-01 00:00:00,web\n\
             u1,signed_up,2024-01-01 00:00:00,web again\n\
             ghost,signed_up,2024-01-01 00:00:00,web\n\
             u1,{long_event},2024-01-01 00:00:00,web\n\
             u1,big,2024-01-01 00:00:00,{data}\n\
             u1,,2024-01-01 00:00:00,no name\n"
        ),
    );
    seed(
        dir,
        "object_rows",
        "group_id,object_type_id,label\ng1,1,North\ng1,1,North again\ng2,1.5,Half\ng3,abc,Word\n",
    );
    seed(
        dir,
        "member_rows",
        "group_id,object_type_id,user_id\ng1,1,u1\ng1,1,u1\ng1,1,ghost\n",
    );
}

/// The failing-row count of every test in `results`, by name.
fn tests_of(results: &Value) -> Vec<(String, String, u64)> {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["unique_id"].as_str().unwrap().starts_with("test."))
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["failures"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// The contract tests expected for the project, with the failing rows
/// the crafted seeds give each.
const EXPECTED: &[(&str, u64)] = &[
    ("cio_not_null_people", 1),
    ("cio_unique_key_people", 1),
    ("cio_id_bytes_people", 1),
    ("cio_attribute_value_bytes_people", 2),
    ("cio_row_bytes_people", 1),
    ("cio_timestamp_not_null_people", 1),
    ("cio_timestamp_not_future_people", 1),
    ("cio_not_null_events", 1),
    ("cio_unique_key_events", 1),
    ("cio_id_bytes_events", 0),
    ("cio_event_name_bytes_events", 1),
    ("cio_event_data_bytes_events", 1),
    ("cio_row_bytes_events", 1),
    ("cio_user_exists_events", 1),
    ("cio_timestamp_not_null_events", 0),
    ("cio_timestamp_not_future_events", 0),
    ("cio_not_null_objects", 0),
    ("cio_unique_key_objects", 1),
    ("cio_id_bytes_objects", 0),
    ("cio_attribute_value_bytes_objects", 0),
    ("cio_row_bytes_objects", 0),
    ("cio_object_type_id_whole_objects", 2),
    ("cio_not_null_members", 0),
    ("cio_unique_key_members", 1),
    ("cio_id_bytes_members", 0),
    ("cio_row_bytes_members", 0),
    ("cio_user_exists_members", 1),
    ("cio_object_type_id_whole_members", 0),
];

#[test]
fn contract_tests_pass_on_clean_seeds_and_fail_on_crafted_ones() {
    let server = fakesnow::shared();
    let dir = project("E2E_DATA_TESTS", &server.base_url(), "");
    let run = cio(dir.path(), &["build"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 0, "{}", log());
    let results = run_results(dir.path());
    let tests = tests_of(&results);
    let mut names: Vec<&str> = tests.iter().map(|(n, _, _)| n.as_str()).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = EXPECTED.iter().map(|(n, _)| *n).collect();
    expected.sort_unstable();
    assert_eq!(names, expected, "one result per contract test");
    for (name, status, failures) in &tests {
        assert_eq!(
            (status.as_str(), *failures),
            ("pass", 0),
            "{name}: {}",
            log()
        );
    }
    assert!(
        run.stdout.contains("tests: 28 passed, 0 failed, 0 warned"),
        "{}",
        log()
    );
    // Compiled test SQL is written like a model's.
    let compiled = dir
        .path()
        .join("target/compiled/cio_tests/cio_unique_key_people.sql");
    let sql = std::fs::read_to_string(&compiled).unwrap();
    assert!(sql.contains("HAVING COUNT(*) > 1"), "{sql}");

    crafted_seeds(dir.path());
    // The crafted seeds replace most rows: past the mass-delete guard.
    let run = cio(dir.path(), &["build", "--rows", "5", "--allow-mass-delete"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 1, "a failing test fails the build: {}", log());
    let results = run_results(dir.path());
    assert_eq!(results["success"], false);
    let tests = tests_of(&results);
    for (name, failures) in EXPECTED {
        let (_, status, got) = tests
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no result for {name}: {}", log()));
        let want = if *failures == 0 { "pass" } else { "fail" };
        assert_eq!(
            (status.as_str(), got),
            (want, failures),
            "{name}: {}",
            log()
        );
    }
    let unique = result_of(&results, "cio_unique_key_people");
    assert_eq!(unique["code"], "CIO340");
    assert_eq!(
        unique["message"],
        "1 failing row (severity error): identify: no two rows share the sync key"
    );
    // The sample: the duplicated key and its count.
    assert!(
        run.stdout.contains("FAIL    cio_unique_key_people"),
        "{}",
        log()
    );
    let sample = run
        .stdout
        .lines()
        .skip_while(|l| !l.contains("FAIL    cio_unique_key_people"))
        .skip(2)
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        sample.contains("| userId | anonymousId | N_RECORDS |")
            || sample.to_ascii_lowercase().contains("n_records"),
        "{sample}\n{}",
        log()
    );
    assert!(sample.contains("| u1 "), "{sample}");
    // The sample is printed, never written to run_results.json.
    let text = std::fs::read_to_string(dir.path().join("target/run_results.json")).unwrap();
    assert!(!text.contains(&"d".repeat(200)));

    // The model downstream of a failed test is skipped; the rest build.
    let downstream = result_of(&results, "people_count");
    assert_eq!(downstream["status"], "skipped", "{}", log());
    let why = downstream["message"].as_str().unwrap();
    assert!(
        why.starts_with("skipped: upstream test cio_")
            && why.ends_with("did not pass")
            && why.contains("_people"),
        "{why}"
    );
    for built in ["people", "events", "objects", "members", "alone"] {
        assert_eq!(result_of(&results, built)["status"], "success", "{built}");
    }

    // `cio-sql test` alone: the same counts, the summary, exit 1; with
    // --store-failures the rows land in the audit schema.
    let run = cio(dir.path(), &["test", "--store-failures"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 1, "{}", log());
    assert!(
        run.stdout
            .contains("11 passed, 17 failed, 0 warned, 0 errored"),
        "{}",
        log()
    );
    let results = run_results(dir.path());
    assert_eq!(results["metadata"]["command"], "test");
    assert_eq!(tests_of(&results).len(), EXPECTED.len(), "only tests run");
    let wh = connect(dir.path());
    let stored = query(
        wh.as_ref(),
        "SELECT COUNT(*) AS n FROM E2E_DATA_TESTS.CUSTOMER_IO_dbt_test__audit.cio_object_type_id_whole_objects",
    );
    assert_eq!(stored.rows[0][0].to_string().trim_matches('"'), "2");
}

#[test]
fn cio_tests_turn_tests_to_warnings_or_off() {
    let server = fakesnow::shared();
    let dir = project(
        "E2E_DATA_TESTS_CONFIG",
        &server.base_url(),
        "    people:\n      +cio_tests: {unique_key: warn, attribute_value_bytes: warn, id_bytes: warn, not_null: warn, row_bytes: warn, timestamp_not_null: warn, timestamp_not_future: off}\n",
    );
    crafted_seeds(dir.path());
    std::fs::write(
        dir.path().join("models/people.sql"),
        PEOPLE.replace(
            "config(cio_sync='identify')",
            "config(cio_sync='identify', cio_tests={'timestamp_not_future': {'enabled': false}})",
        ),
    )
    .unwrap();
    let run = cio(dir.path(), &["build", "--select", "people", "people_count"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 0, "warnings do not fail the build: {}", log());
    let results = run_results(dir.path());
    let tests = tests_of(&results);
    assert!(
        !tests
            .iter()
            .any(|(n, _, _)| n == "cio_timestamp_not_future_people"),
        "switched off: {tests:?}"
    );
    let unique = result_of(&results, "cio_unique_key_people");
    assert_eq!(unique["status"], "warn");
    assert_eq!(unique["failures"], 1);
    assert_eq!(unique["code"], "CIO341");
    assert_eq!(result_of(&results, "people_count")["status"], "success");
    assert!(run.stdout.contains("0 failed, 6 warned"), "{}", log());
}

#[test]
fn a_warehouse_error_inside_a_test_is_an_error_result() {
    let server = fakesnow::shared();
    let dir = project("E2E_DATA_TESTS_ERROR", &server.base_url(), "");
    // Nothing is built: every test's query reads a table that is not there.
    let run = cio(dir.path(), &["test", "--select", "objects"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 1, "{}", log());
    let results = run_results(dir.path());
    let r = result_of(&results, "cio_unique_key_objects");
    assert_eq!(r["status"], "error", "{}", log());
    assert_eq!(r["code"], "CIO303");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.starts_with("test cio_unique_key_objects could not run: "),
        "{message}"
    );
    assert!(run.stdout.contains("errored"), "{}", log());
    assert_eq!(tests_of(&results).len(), 6, "the objects model's tests");
}

#[test]
fn a_bad_cio_tests_config_is_a_compile_error() {
    let dir = project("UNUSED", "http://127.0.0.1:9", "");
    let people = dir.path().join("models/people.sql");
    std::fs::write(
        &people,
        PEOPLE.replace(
            "config(cio_sync='identify')",
            "config(cio_sync='identify', cio_tests={'uniqe_key': 'warn'})",
        ),
    )
    .unwrap();
    let run = cio(dir.path(), &["compile"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[CIO060]"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cio_tests names `uniqe_key`, which is not a contract test"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("did you mean `unique_key`?"));
    assert!(
        run.stderr.contains("--> models/people.sql:1:"),
        "{}",
        run.stderr
    );

    std::fs::write(
        &people,
        PEOPLE.replace(
            "config(cio_sync='identify')",
            "config(cio_sync='identify', cio_tests={'unique_key': 'loud'})",
        ),
    )
    .unwrap();
    let run = cio(dir.path(), &["compile"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error[CIO061]"), "{}", run.stderr);
    assert!(run.stderr.contains("which is not off, warn or error"));
}

#[test]
fn singular_tests_under_test_paths_select_failing_rows() {
    let server = fakesnow::shared();
    let dir = project("E2E_DATA_TESTS_SINGULAR", &server.base_url(), "");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "tests/no_ghost_members.sql",
        "-- Every member is a known person.\nselect m.* from {{ ref('members') }} m where m.\"userId\" = '{{ var(\"ghost\", \"ghost\") }}'\n",
    );
    write(
        "tests/objects/few_objects.sql",
        "{{ config(severity='warn') }}\nselect count(*) as n from {{ ref('objects') }} having count(*) > 2",
    );
    let run = cio(dir.path(), &["build"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 0, "{}", log());
    let results = run_results(dir.path());
    assert_eq!(result_of(&results, "no_ghost_members")["status"], "pass");
    assert_eq!(
        result_of(&results, "no_ghost_members")["unique_id"],
        "test.cio_sql_example.no_ghost_members"
    );
    assert_eq!(result_of(&results, "few_objects")["status"], "pass");
    let compiled = std::fs::read_to_string(
        dir.path()
            .join("target/compiled/cio_sql_example/tests/no_ghost_members.sql"),
    )
    .unwrap();
    assert!(
        compiled.contains("from E2E_DATA_TESTS_SINGULAR.CUSTOMER_IO.members m"),
        "ref() is rendered: {compiled}"
    );

    crafted_seeds(dir.path());
    // The crafted seeds replace most rows: past the mass-delete guard.
    let run = cio(dir.path(), &["build", "--rows", "3", "--allow-mass-delete"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 1, "{}", log());
    let results = run_results(dir.path());
    let ghost = result_of(&results, "no_ghost_members");
    assert_eq!(ghost["status"], "fail", "{}", log());
    assert_eq!(ghost["failures"], 1);
    let few = result_of(&results, "few_objects");
    assert_eq!(
        (few["status"].as_str(), few["failures"].as_u64()),
        (Some("warn"), Some(1))
    );
    assert!(run.stdout.contains("| ghost "), "the sample: {}", log());

    // Selected through its model only: --select objects runs few_objects,
    // not no_ghost_members.
    let run = cio(dir.path(), &["test", "--select", "objects"]);
    let results = run_results(dir.path());
    let names: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"few_objects") && !names.contains(&"no_ghost_members"),
        "{names:?}\n{}",
        run.stdout
    );

    // An empty test is a configuration error before anything runs.
    write("tests/empty.sql", "{# nothing yet #}\n");
    let run = cio(dir.path(), &["test"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[CIO062]: test empty is empty"),
        "{}",
        run.stderr
    );
}

#[test]
fn select_and_exclude_pick_tests_by_kind_name_and_model() {
    let server = fakesnow::shared();
    let dir = project("E2E_DATA_TESTS_SELECT", &server.base_url(), "");
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("tests/no_ghosts.sql"),
        "select * from {{ ref('events') }} where \"userId\" = 'ghost'",
    )
    .unwrap();
    let run = cio(dir.path(), &["build"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let names = |args: &[&str]| -> Vec<String> {
        let run = cio(dir.path(), args);
        assert_eq!(run.code, 0, "{args:?}: {}\n{}", run.stdout, run.stderr);
        let mut names: Vec<String> = tests_of(&run_results(dir.path()))
            .into_iter()
            .map(|(n, _, _)| n)
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names(&["test", "--select", "test_type:singular"]),
        ["no_ghosts"]
    );
    assert_eq!(
        names(&["test", "--select", "cio_unique_key_objects", "no_ghosts"]),
        ["cio_unique_key_objects", "no_ghosts"]
    );
    let members = names(&["test", "--select", "members"]);
    assert_eq!(members.len(), 6, "the tests of the model: {members:?}");
    assert!(members.iter().all(|n| n.ends_with("_members")));
    let contract = names(&[
        "test",
        "--select",
        "test_type:contract",
        "--exclude",
        "cio_row_bytes_people",
    ]);
    assert_eq!(contract.len(), 27, "{contract:?}");
    assert!(!contract.contains(&"no_ghosts".to_string()));
    // `build --select test_type:singular` builds every model, runs the one test.
    let run = cio(dir.path(), &["build", "--select", "test_type:singular"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let results = run_results(dir.path());
    assert_eq!(result_of(&results, "alone")["status"], "success");
    assert_eq!(tests_of(&results).len(), 1);

    let run = cio(dir.path(), &["test", "--select", "test_type:schema"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("error[CIO063]"), "{}", run.stderr);
}

#[test]
fn test_fails_when_a_selected_model_does_not_compile() {
    let server = fakesnow::shared();
    let dir = project("E2E_DATA_TESTS_BROKEN", &server.base_url(), "");
    let run = cio(dir.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(
        dir.path().join("models/objects.sql"),
        "{{ config(cio_sync='group') }}\nselect label as \"label\" from {{ ref('object_rows') }}",
    )
    .unwrap();
    let run = cio(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("error[CIO201]"), "{}", run.stderr);
    let results = run_results(dir.path());
    assert_eq!(results["success"], false);
    assert!(
        results["error"]
            .as_str()
            .unwrap()
            .contains("their data tests did not run"),
        "{results}"
    );
    assert!(
        !tests_of(&results)
            .iter()
            .any(|(n, _, _)| n.ends_with("_objects"))
    );
}

/// The SQL of every contract test, pinned: the emulator ignores the case
/// of quoted names, so a column written without its quotes would pass
/// there and fail on Snowflake.
#[test]
fn contract_test_sql_is_pinned() {
    let dir = project("ANALYTICS", "http://127.0.0.1:9", "");
    let opts = cio_sql::compile::CompileOptions {
        load: cio_sql::project::LoadOptions {
            project_dir: dir.path().to_path_buf(),
            ..Default::default()
        },
        ..Default::default()
    };
    let c = cio_sql::pipeline::compile(&opts).unwrap();
    let tests = cio_sql::compile::data_tests::contract_tests(&c);
    let text: Vec<String> = tests
        .iter()
        .map(|t| {
            format!(
                "-- {} ({:?}, reads {:?})\n{}\n",
                t.name, t.severity, t.depends_on, t.sql
            )
        })
        .collect();
    crate::support::snapshots(|| insta::assert_snapshot!("contract_test_sql", text.join("\n")));
}

pub(crate) const SCHEMA_TESTS: &str = "version: 2
models:
  - name: people
    columns:
      - name: userId
        tests:
          - unique
          - not_null:
              config: {severity: warn}
      - name: bio
        data_tests:
          - accepted_values:
              values: ['hello', 'anonymous']
  - name: members
    columns:
      - name: userId
        tests:
          - relationships:
              to: ref('people')
              field: userId
seeds:
  - name: object_rows
    columns:
      - name: group_id
        tests: [unique, not_null]
";

#[test]
fn dbt_generic_tests_from_yml_pass_on_clean_rows_and_fail_on_broken_ones() {
    let server = fakesnow::shared();
    let dir = project("E2E_DATA_TESTS_GENERIC", &server.base_url(), "");
    std::fs::write(dir.path().join("models/schema.yml"), SCHEMA_TESTS).unwrap();
    let run = cio(dir.path(), &["build", "--select", "test_type:generic"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 0, "only a warning fails: {}", log());
    let results = run_results(dir.path());
    let status = |name: &str| result_of(&results, name)["status"].clone();
    assert_eq!(status("unique_people_userId"), "pass", "{}", log());
    // The anonymous person has no userId: a warning, one row.
    assert_eq!(status("not_null_people_userId"), "warn");
    assert_eq!(result_of(&results, "not_null_people_userId")["failures"], 1);
    assert_eq!(
        status("accepted_values_people_bio__hello__anonymous"),
        "pass"
    );
    assert_eq!(
        status("relationships_members_userId__userId__ref_people_"),
        "pass"
    );
    assert_eq!(status("unique_object_rows_group_id"), "pass");
    assert_eq!(status("not_null_object_rows_group_id"), "pass");
    let sql = std::fs::read_to_string(
        dir.path()
            .join("target/compiled/cio_sql_example/models/schema.yml/accepted_values_people_bio__hello__anonymous.sql"),
    )
    .unwrap();
    assert!(sql.contains("NOT IN ('hello', 'anonymous')"), "{sql}");

    // Broken rows: u1 twice (unique), a bio not accepted, a member who is
    // no person (relationships), a repeated group (unique on the seed).
    seed(
        dir.path(),
        "people_rows",
        "user_id,anonymous_id,ts,bio\nu1,,2024-01-01 00:00:00,hello\nu1,,2024-01-01 00:00:00,bad\n,a3,2024-01-03 00:00:00,anonymous\n",
    );
    seed(
        dir.path(),
        "member_rows",
        "group_id,object_type_id,user_id\ng1,1,u1\ng1,1,u9\ng2,2,u1\n",
    );
    seed(
        dir.path(),
        "object_rows",
        "group_id,object_type_id,label\ng1,1,North\ng1,2,South\n",
    );
    let run = cio(
        dir.path(),
        &[
            "build",
            "--select",
            "test_type:generic",
            "--allow-mass-delete",
        ],
    );
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 1, "{}", log());
    let results = run_results(dir.path());
    let failures = |name: &str| {
        let r = result_of(&results, name);
        (r["status"].clone(), r["failures"].clone())
    };
    assert_eq!(
        failures("unique_people_userId"),
        ("fail".into(), 1.into()),
        "{}",
        log()
    );
    assert_eq!(
        failures("accepted_values_people_bio__hello__anonymous"),
        ("fail".into(), 1.into())
    );
    assert_eq!(
        failures("relationships_members_userId__userId__ref_people_"),
        ("fail".into(), 1.into())
    );
    assert_eq!(
        failures("unique_object_rows_group_id"),
        ("fail".into(), 1.into())
    );
}

#[test]
fn a_yml_test_on_a_missing_column_or_unknown_test_is_an_error_at_its_line() {
    let server = fakesnow::shared();
    let dir = project("E2E_DATA_TESTS_GENERIC_BAD", &server.base_url(), "");
    let yml = dir.path().join("models/schema.yml");
    std::fs::write(
        &yml,
        "version: 2\nmodels:\n  - name: people\n    columns:\n      - name: user_id\n        tests: [unique]\n",
    )
    .unwrap();
    let run = cio(dir.path(), &["test"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(text.contains("CIO064"), "{text}");
    assert!(text.contains("`people` has no column `user_id`"), "{text}");
    assert!(text.contains("models/schema.yml:6"), "{text}");

    std::fs::write(
        &yml,
        "version: 2\nmodels:\n  - name: people\n    columns:\n      - name: userId\n        tests: [uniqe]\n",
    )
    .unwrap();
    let run = cio(dir.path(), &["test"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(text.contains("did you mean `unique`?"), "{text}");
}
