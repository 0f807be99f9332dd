//! dbt-snowflake profiles as dbt documents them: `host` as a hostname with
//! `port` and `protocol` (on the emulator), and the fields only commands
//! that connect read (an unset environment variable in one of them fails
//! those commands only).

use crate::support::emulator_cli::{cio, connect, query, records};
use crate::support::fakesnow;

/// A project with one table model whose `dev` output has `connection`
/// (the lines after `schema:`) in dbt-snowflake's form.
fn project_with(database: &str, connection: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dbt_project.yml"),
        "name: cio_sql_example\nmodels:\n  cio_sql_example:\n    +materialized: table\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("profiles.yml"),
        format!(
            "cio_sql_example:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      database: {database}\n      schema: CUSTOMER_IO\n      threads: 2\n{connection}"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    std::fs::write(
        dir.path().join("models/people.sql"),
        "select 1 as id, 'ada' as name union all select 2, 'bob'\n",
    )
    .unwrap();
    dir
}

#[test]
fn connects_with_hostname_port_and_protocol() {
    let server = fakesnow::shared();
    let connection = format!(
        "      account: emulated\n      user: tester\n      password: \"{{{{ env_var('CIO_SQL_E2E_PASSWORD', 'in-process-tests') }}}}\"\n      host: 127.0.0.1\n      port: {}\n      protocol: http\n      emulator: fakesnow\n      connect_retries: 1\n      connect_timeout: 3\n      client_session_keep_alive: false\n      reuse_connections: true\n      retry_on_database_errors: false\n      retry_all: false\n      insecure_mode: false\n",
        server.port()
    );
    let dir = project_with("E2E_DBT_HOST", &connection);
    let run = cio(dir.path(), &["run"]);
    assert_eq!(
        run.code,
        0,
        "{}\n{}\n{}",
        run.stdout,
        run.stderr,
        server.log_tail()
    );
    assert!(
        !run.stderr.contains("warning"),
        "every field is a known dbt-snowflake field: {}",
        run.stderr
    );
    let wh = connect(dir.path());
    let rows = query(
        wh.as_ref(),
        "select id, name from E2E_DBT_HOST.CUSTOMER_IO.PEOPLE order by id",
    );
    let got = records(&rows);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1]["NAME"], "bob");
}

/// A copy of the example project whose profile reads `account`, `user`
/// and `password` from environment variables that are not set.
fn example_with_unset_credentials() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["dbt_project.yml", "catalog.yml"] {
        std::fs::copy(root.join(file), dir.path().join(file)).unwrap();
    }
    for folder in ["models", "seeds", "macros"] {
        crate::support::copy_dir(&root.join(folder), &dir.path().join(folder));
    }
    std::fs::write(
        dir.path().join("profiles.yml"),
        "cio_sql_example:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: \"{{ env_var('CIO_SQL_TEST_UNSET_ACCOUNT') }}\"\n      user: \"{{ env_var('CIO_SQL_TEST_UNSET_USER') }}\"\n      password: \"{{ env_var('CIO_SQL_TEST_UNSET_PASSWORD') }}\"\n      role: TRANSFORMER\n      database: ANALYTICS\n      schema: CUSTOMER_IO\n      threads: 2\n",
    )
    .unwrap();
    dir
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = assert_cmd::Command::cargo_bin("cio-sql")
        .unwrap()
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .env_remove("CIO_SQL_TEST_UNSET_ACCOUNT")
        .env_remove("CIO_SQL_TEST_UNSET_USER")
        .env_remove("CIO_SQL_TEST_UNSET_PASSWORD")
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn commands_that_do_not_connect_need_no_connection_fields() {
    let dir = example_with_unset_credentials();
    for args in [
        &["compile"][..],
        &["ls"],
        &["lineage", "customer_io_persons"],
        &["sync-query"],
        &["review", "--accept"],
        &["review"],
    ] {
        let (code, text) = run_in(dir.path(), args);
        assert_eq!(code, 0, "cio-sql {args:?}:\n{text}");
        assert!(!text.contains("CIO_SQL_TEST_UNSET"), "{args:?}: {text}");
    }
}

#[test]
fn commands_that_connect_name_the_unset_variable_and_field() {
    let dir = example_with_unset_credentials();
    for args in [
        &["run"][..],
        &["build"],
        &["seed"],
        &["show", "customer_io_persons"],
        &["catalog"],
        &["compile", "--live"],
    ] {
        let (code, text) = run_in(dir.path(), args);
        assert_ne!(code, 0, "cio-sql {args:?}:\n{text}");
        assert!(
            text.contains("CIO005")
                && text.contains("environment variable CIO_SQL_TEST_UNSET_ACCOUNT is not set")
                && text.contains("cio_sql_example.outputs.dev.account"),
            "cio-sql {args:?}:\n{text}"
        );
        assert!(
            text.contains("profiles.yml:6"),
            "the line of `account`: {text}"
        );
    }
}

#[test]
fn a_field_compile_reads_still_fails_compile() {
    let dir = example_with_unset_credentials();
    let profiles = dir.path().join("profiles.yml");
    let text = std::fs::read_to_string(&profiles).unwrap().replace(
        "schema: CUSTOMER_IO",
        "schema: \"{{ env_var('CIO_SQL_TEST_UNSET_SCHEMA') }}\"",
    );
    std::fs::write(&profiles, text).unwrap();
    let (code, text) = run_in(dir.path(), &["compile"]);
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("environment variable CIO_SQL_TEST_UNSET_SCHEMA is not set")
            && text.contains("profiles.yml:11"),
        "{text}"
    );
}
