//! dbt's generic tests on sources (`sources:` → `tables:` → columns'
//! `tests`/`data_tests`), on the emulator through the binary: they read the
//! source relation, are named `source_<test>_<source>_<table>_<column>`,
//! and in `build` run before the models that read the source, whose
//! failure skips them.

use crate::data_tests::{project, seed};
use crate::support::emulator_cli::{cio, result_of, run_results};
use crate::support::fakesnow;

const SOURCES: &str = "version: 2
sources:
  - name: raw
    schema: CUSTOMER_IO
    tables:
      - name: event_rows
        columns:
          - name: user_id
            tests: [not_null]
          - name: event_name
            data_tests:
              - accepted_values:
                  values: ['signed_up', 'paid']
";

/// The position of `name` in `results`, which lists nodes as they finish.
fn position(results: &serde_json::Value, name: &str) -> usize {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {results}"))
}

#[test]
fn source_tests_run_before_the_models_reading_the_source_and_skip_them() {
    let server = fakesnow::shared();
    let dir = project("E2E_SOURCE_TESTS", &server.base_url(), "");
    std::fs::write(dir.path().join("models/sources.yml"), SOURCES).unwrap();
    std::fs::write(
        dir.path().join("models/raw_events.sql"),
        "select user_id, event_name from {{ source('raw', 'event_rows') }}",
    )
    .unwrap();
    let run = cio(dir.path(), &["build", "--select", "test_type:generic"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 0, "{}", log());
    let results = run_results(dir.path());
    let not_null = "source_not_null_raw_event_rows_user_id";
    let accepted = "source_accepted_values_raw_event_rows_event_name__signed_up__paid";
    assert_eq!(result_of(&results, not_null)["status"], "pass", "{}", log());
    assert_eq!(result_of(&results, accepted)["status"], "pass");
    assert_eq!(result_of(&results, "raw_events")["status"], "success");
    assert!(position(&results, not_null) < position(&results, "raw_events"));
    assert!(position(&results, accepted) < position(&results, "raw_events"));
    let sql = std::fs::read_to_string(dir.path().join(format!(
        "target/compiled/cio_sql_example/models/sources.yml/{not_null}.sql"
    )))
    .unwrap();
    assert!(
        sql.contains("FROM E2E_SOURCE_TESTS.CUSTOMER_IO.event_rows WHERE \"user_id\" IS NULL"),
        "{sql}"
    );

    // A name of 64 characters or more: dbt's short name for its file.
    assert!(
        dir.path()
            .join("target/compiled/cio_sql_example/models/sources.yml/source_accepted_values_raw_eve_667c16cee1d09b8540563fe1e00f1f36.sql")
            .is_file()
    );

    // A NULL user and an event name not accepted: both fail, the model
    // reading the source is skipped, the others are built.
    seed(
        dir.path(),
        "event_rows",
        "user_id,event_name,ts,detail\nu1,signed_up,2024-01-01 00:00:00,web\n,paid,2024-01-02 00:00:00,\nu2,refunded,2024-01-02 00:00:00,\n",
    );
    let run = cio(dir.path(), &["build", "--select", "test_type:generic"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    assert_eq!(run.code, 1, "{}", log());
    let results = run_results(dir.path());
    assert_eq!(result_of(&results, not_null)["status"], "fail", "{}", log());
    assert_eq!(result_of(&results, not_null)["failures"], 1);
    assert_eq!(result_of(&results, accepted)["failures"], 1);
    assert_eq!(result_of(&results, "raw_events")["status"], "skipped");
    assert_eq!(result_of(&results, "people")["status"], "success");
}

#[test]
fn a_source_test_on_a_missing_column_is_an_error_at_its_line() {
    let server = fakesnow::shared();
    let dir = project("E2E_SOURCE_TESTS_BAD", &server.base_url(), "");
    std::fs::write(
        dir.path().join("models/sources.yml"),
        SOURCES.replace("name: user_id", "name: user_key"),
    )
    .unwrap();
    let run = cio(dir.path(), &["test"]);
    let text = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, 2, "{text}");
    assert!(text.contains("CIO064"), "{text}");
    assert!(
        text.contains("`raw_event_rows` has no column `user_key`"),
        "{text}"
    );
    assert!(text.contains("models/sources.yml:9"), "{text}");
}
