//! Test support: projects pointed at a fakesnow emulator, the `cio-sql`
//! binary run on them, and reading back what it did (rows in the emulator,
//! `target/run_results.json`). Every run is checked for a leaked password
//! and a panic.

#![allow(dead_code)]

use assert_cmd::Command;
use cio_sql::warehouse::{Rows, Warehouse};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// The password the profiles use: it must never appear in any output.
pub const SECRET: &str = "pw-e2e-7f3a9c-never-print";

/// A `profiles.yml` for the emulator at `host`, building in `database`.
pub fn profiles(database: &str, host: &str) -> String {
    format!(
        "cio_sql_example:\n  target: emulator\n  outputs:\n    emulator:\n      type: snowflake\n      account: emulated\n      user: tester\n      password: \"{{{{ env_var('CIO_SQL_E2E_PASSWORD', 'in-process-tests') }}}}\"\n      database: {database}\n      schema: CUSTOMER_IO\n      host: {host}\n      emulator: fakesnow\n      threads: 4\n      query_tag: cio-sql-e2e\n      retries: 1\n      statement_timeout_seconds: 60\n"
    )
}

/// A small project with its own models and no catalog relations.
pub fn small_project(database: &str, host: &str, models: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dbt_project.yml"),
        "name: cio_sql_example\nmodels:\n  cio_sql_example:\n    +materialized: table\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("profiles.yml"), profiles(database, host)).unwrap();
    for (name, sql) in models {
        let path = dir.path().join("models").join(format!("{name}.sql"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, sql).unwrap();
    }
    dir
}

/// What a run of the binary printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cio-sql ARGS --project-dir DIR`; fails the test on a leaked
/// password or a panic.
pub fn cio(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("cio-sql")
        .unwrap()
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .env("CIO_SQL_E2E_PASSWORD", SECRET)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "the password leaked into the output"
    );
    assert!(
        !run.stderr.contains("panicked"),
        "cio-sql panicked:\n{}",
        run.stderr
    );
    run
}

/// A connection made the way the commands make it (the emulator accepts
/// any password, so the in-process one uses the profile's default).
pub fn connect(dir: &Path) -> Box<dyn Warehouse> {
    let project = cio_sql::project::Project::load(&cio_sql::project::LoadOptions {
        project_dir: dir.to_path_buf(),
        ..Default::default()
    })
    .unwrap();
    cio_sql::execution::connect::connect(&project.target).unwrap()
}

/// Runs a query, failing the test with the SQL and the error.
pub fn query(wh: &dyn Warehouse, sql: &str) -> Rows {
    wh.query(sql).unwrap_or_else(|e| panic!("{sql}\n{e}"))
}

/// Rows as `column → value` maps.
pub fn records(rows: &Rows) -> Vec<serde_json::Map<String, Value>> {
    rows.rows
        .iter()
        .map(|r| {
            rows.columns
                .iter()
                .cloned()
                .zip(r.iter().cloned())
                .collect()
        })
        .collect()
}

/// `target/run_results.json`, checked for the password.
pub fn run_results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("target/run_results.json"))
        .expect("run_results.json is written");
    assert!(
        !text.contains(SECRET),
        "the password leaked into run_results.json"
    );
    serde_json::from_str(&text).unwrap()
}

/// The result of the node named `name`.
pub fn result_of<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no result for {name}: {results}"))
}

/// Waits at most two minutes for `child` to end, failing the test with
/// `what` if it does not.
pub fn wait_for_exit(child: &mut Child, what: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
