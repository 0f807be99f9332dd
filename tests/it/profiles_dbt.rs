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
