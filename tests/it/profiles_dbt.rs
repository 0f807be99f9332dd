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

/// The Snowflake settings `cio-sql` would connect with for an output with
/// `fields` (lines under `dev:`), or the error, read from a real
/// `profiles.yml` (so errors carry its lines).
#[allow(clippy::result_large_err)]
fn settings_of(fields: &str) -> Result<cio_sql::SnowflakeConfig, cio_sql::Diagnostic> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("profiles.yml"),
        format!("p:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: acme\n      user: loader\n      database: D\n      schema: S\n{fields}"),
    )
    .unwrap();
    let target = cio_sql::project::load_target(dir.path(), Some(dir.path()), "p", None)?;
    cio_sql::execution::connect::snowflake_config(&target)
}

#[test]
fn each_dbt_snowflake_field_is_used_or_ignored() {
    // host, port, protocol.
    let c =
        settings_of("      password: pw\n      host: acme.privatelink.snowflakecomputing.com\n")
            .unwrap();
    assert_eq!(
        c.base_url().unwrap().as_deref(),
        Some("https://acme.privatelink.snowflakecomputing.com:443")
    );
    let c = settings_of(
        "      password: pw\n      host: 10.0.0.5\n      port: 8443\n      protocol: https\n",
    )
    .unwrap();
    assert_eq!(
        c.base_url().unwrap().as_deref(),
        Some("https://10.0.0.5:8443")
    );
    for (fields, expected, line) in [
        (
            "      host: 127.0.0.1\n      protocol: ftp\n",
            "protocol must be",
            12,
        ),
        (
            "      host: http://127.0.0.1:1\n      port: 2\n",
            "cannot be set too",
            11,
        ),
        ("      host: a/b\n", "must be a hostname", 11),
    ] {
        let err = settings_of(&format!("      password: pw\n{fields}")).unwrap_err();
        assert_eq!(
            (err.code.id(), err.line),
            ("CIO300", Some(line)),
            "{fields}"
        );
        assert!(err.message.contains(expected), "{}", err.message);
    }
    // connect_retries, when `retries` is not set.
    let c = settings_of("      password: pw\n      connect_retries: 7\n").unwrap();
    assert_eq!(c.retries, 7);
    let c =
        settings_of("      password: pw\n      connect_retries: 7\n      retries: 2\n").unwrap();
    assert_eq!(c.retries, 2);
    // proxy_host and proxy_port.
    let c = settings_of(
        "      password: pw\n      proxy_host: proxy.example.com\n      proxy_port: 3128\n",
    )
    .unwrap();
    assert_eq!(c.proxy.as_deref(), Some("http://proxy.example.com:3128"));
    let c = settings_of(
        "      password: pw\n      proxy_host: http://u:Proxy-Pw-1@proxy.example.com:3128\n",
    )
    .unwrap();
    assert_eq!(
        c.proxy.as_deref(),
        Some("http://u:Proxy-Pw-1@proxy.example.com:3128")
    );
    assert!(!format!("{:?}", cio_sql::redact::scrub("x Proxy-Pw-1")).contains("Proxy-Pw-1"));
    for (fields, expected, line) in [
        (
            "      proxy_host: proxy.example.com\n",
            "without `proxy_port`",
            11,
        ),
        ("      proxy_port: 3128\n", "without `proxy_host`", 11),
        (
            "      proxy_host: http://p:1\n      proxy_port: 2\n",
            "a URL in `proxy_host`",
            12,
        ),
    ] {
        let err = settings_of(&format!("      password: pw\n{fields}")).unwrap_err();
        assert_eq!(
            (err.code.id(), err.line),
            ("CIO300", Some(line)),
            "{fields}"
        );
        assert!(err.message.contains(expected), "{}", err.message);
    }
    // The ignored ones change nothing.
    let plain = settings_of("      password: pw\n").unwrap();
    let ignored = settings_of("      password: pw\n      connect_timeout: 30\n      client_session_keep_alive: true\n      reuse_connections: false\n      retry_on_database_errors: true\n      retry_all: true\n      insecure_mode: true\n      token: not-used-Tok3n\n      oauth_client_id: id\n      s3_stage_vpce_dns_name: vpce.example.com\n").unwrap();
    assert_eq!(plain, ignored);
}

#[test]
fn authenticator_snowflake_and_snowflake_jwt_work_and_others_are_not_supported_yet() {
    let c = settings_of("      password: pw\n      authenticator: snowflake\n").unwrap();
    assert!(c.password.is_some());
    let c = settings_of("      private_key_path: /keys/k.p8\n      authenticator: SNOWFLAKE_JWT\n")
        .unwrap();
    assert_eq!(
        c.private_key_path.as_deref(),
        Some(std::path::Path::new("/keys/k.p8"))
    );
    let c = settings_of("      private_key: |\n        -----BEGIN PRIVATE KEY-----\n        MIIB\n        -----END PRIVATE KEY-----\n      private_key_passphrase: Pass-Phr4se\n").unwrap();
    assert!(
        c.private_key
            .as_ref()
            .unwrap()
            .expose()
            .contains("BEGIN PRIVATE KEY")
    );
    assert_eq!(
        c.private_key_passphrase.as_ref().unwrap().expose(),
        "Pass-Phr4se"
    );
    assert!(c.validate().is_ok());
    let err = settings_of("      password: pw\n      authenticator: snowflake_jwt\n").unwrap_err();
    assert_eq!((err.code.id(), err.line), ("CIO300", Some(11)));
    assert!(
        err.message
            .contains("neither `private_key_path` nor `private_key`")
    );
    let err = settings_of("      private_key: abc\n      private_key_path: /k.p8\n").unwrap();
    assert!(err.validate().unwrap_err().to_string().contains("not both"));
    for (value, expected) in [
        ("externalbrowser", "browser single sign-on"),
        ("oauth", "OAuth (`oauth`, with `token`)"),
        ("username_password_mfa", "multi-factor"),
        ("https://acme.okta.com", "Okta"),
        ("programmatic_access_token", "programmatic access tokens"),
        ("kerberos", "not an authenticator cio-sql knows"),
    ] {
        let err = settings_of(&format!(
            "      password: pw\n      token: T0ken-Secret\n      authenticator: {value}\n"
        ))
        .unwrap_err();
        assert_eq!((err.code.id(), err.line), ("CIO308", Some(12)), "{value}");
        assert!(err.message.contains(expected), "{value}: {}", err.message);
        assert!(err.message.contains("authenticator"), "{}", err.message);
        assert!(
            err.help.as_deref().unwrap().contains("snowflake_jwt"),
            "{:?}",
            err.help
        );
        let shown = format!(
            "{} {}",
            err.render(false),
            serde_json::to_string(&err).unwrap()
        );
        assert!(!shown.contains("T0ken-Secret"), "{shown}");
    }
}

#[test]
fn the_readme_field_table_lists_every_known_field() {
    use cio_sql::project::profile_fields::{FIELDS, FieldUse};
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("| field | used | default | meaning |\n|---|---|---|---|\n")
        .nth(1)
        .expect("the profiles.yml field table");
    let rows: Vec<(String, String)> = table
        .lines()
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[2].to_string())
        })
        .collect();
    let listed: Vec<(String, String)> = FIELDS
        .iter()
        .map(|f| {
            let used = match f.used {
                FieldUse::Used => "used",
                FieldUse::Ignored => "ignored",
            };
            (f.key.to_string(), used.to_string())
        })
        .collect();
    let mut a = rows.clone();
    let mut b = listed.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "README rows vs the field registry");
}
