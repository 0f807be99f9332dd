//! The Snowflake warehouse against a real emulator (fakesnow, started by
//! `common/fakesnow.rs`). Each test uses its own database, since all tests
//! of this process share one fakesnow server.

use crate::support::fakesnow;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cio_sql::settings::Emulator;
use cio_sql::warehouse::{
    Executed, RelationName, Rows, Secret, SnowflakeConfig, SnowflakeWarehouse, Warehouse,
    WarehouseError, introspect_columns,
};
use serde_json::{Value, json};

/// Never expected in any output.
const PASSWORD: &str = "Emul4tor-Pa55word-never-shown";

fn config(host: &str) -> SnowflakeConfig {
    let mut c = SnowflakeConfig::new("testacct", "tester");
    c.password = Some(Secret::new(PASSWORD));
    c.host = Some(host.to_owned());
    c.emulator = Some(Emulator::Fakesnow);
    c.query_tag = Some("cio-sql-tests".to_owned());
    c.retries = 1;
    c.statement_timeout_secs = 120;
    c
}

fn connect() -> SnowflakeWarehouse {
    let server = fakesnow::shared();
    SnowflakeWarehouse::connect(&config(&server.base_url())).unwrap_or_else(|e| {
        panic!(
            "cannot connect to fakesnow: {e}\nfakesnow log:\n{}",
            server.log_tail()
        )
    })
}

fn exec(wh: &dyn Warehouse, sql: &str) -> Executed {
    wh.execute(sql)
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}\n{}", fakesnow::shared().log_tail()))
}

fn query(wh: &dyn Warehouse, sql: &str) -> Rows {
    wh.query(sql)
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}\n{}", fakesnow::shared().log_tail()))
}

fn assert_no_secret(err: &WarehouseError) {
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(PASSWORD), "password leaked: {shown}");
}

/// Forwards to another warehouse and records the statements.
struct Recording<'a> {
    inner: &'a dyn Warehouse,
    sent: Mutex<Vec<String>>,
}

impl<'a> Recording<'a> {
    fn new(inner: &'a dyn Warehouse) -> Self {
        Self {
            inner,
            sent: Mutex::new(Vec::new()),
        }
    }

    fn sent(&self) -> Vec<String> {
        self.sent.lock().unwrap().clone()
    }
}

impl Warehouse for Recording<'_> {
    fn execute(&self, sql: &str) -> Result<Executed, WarehouseError> {
        self.sent.lock().unwrap().push(sql.to_owned());
        self.inner.execute(sql)
    }

    fn query(&self, sql: &str) -> Result<Rows, WarehouseError> {
        self.sent.lock().unwrap().push(sql.to_owned());
        self.inner.query(sql)
    }
}

#[test]
fn creates_tables_and_reads_typed_rows() {
    let wh = connect();
    assert!(wh.host().starts_with("http://127.0.0.1:"));
    exec(&wh, "CREATE DATABASE IF NOT EXISTS E2E_TYPES");
    exec(&wh, "CREATE SCHEMA IF NOT EXISTS E2E_TYPES.CORE");
    let created = exec(
        &wh,
        "CREATE OR REPLACE TABLE E2E_TYPES.CORE.PEOPLE AS SELECT \
         1 AS ID, 'ada' AS NAME, '2024-01-02 03:04:05.123'::TIMESTAMP_NTZ AS CREATED_AT, \
         NULL::VARCHAR AS NICKNAME, 1.5::NUMBER(10,2) AS SCORE, TRUE AS ACTIVE, \
         '2024-01-02'::DATE AS BORN",
    );
    assert_eq!(created.rows, None, "DDL reports no row count");
    assert!(created.query_id.is_some_and(|q| !q.is_empty()));

    let inserted = exec(
        &wh,
        "INSERT INTO E2E_TYPES.CORE.PEOPLE VALUES \
         (2, 'bob', '2023-12-31 23:59:59'::TIMESTAMP_NTZ, 'b', 2.25, FALSE, NULL), \
         (3, 'cy', NULL, NULL, NULL, NULL, NULL)",
    );
    assert_eq!(inserted.rows, Some(2));
    let updated = exec(
        &wh,
        "UPDATE E2E_TYPES.CORE.PEOPLE SET NICKNAME = 'c' WHERE ID = 3",
    );
    assert_eq!(updated.rows, Some(1));

    let rows = query(
        &wh,
        "SELECT ID, NAME, CREATED_AT, NICKNAME, SCORE, ACTIVE, BORN \
         FROM E2E_TYPES.CORE.PEOPLE ORDER BY ID",
    );
    assert_eq!(
        rows.columns,
        [
            "ID",
            "NAME",
            "CREATED_AT",
            "NICKNAME",
            "SCORE",
            "ACTIVE",
            "BORN"
        ]
    );
    assert!(rows.query_id.as_ref().is_some_and(|q| !q.is_empty()));
    assert_eq!(
        rows.rows[0],
        vec![
            json!(1),
            json!("ada"),
            json!("2024-01-02 03:04:05.123"),
            Value::Null,
            json!(1.5),
            json!(true),
            json!("2024-01-02"),
        ]
    );
    assert_eq!(
        rows.rows[1],
        vec![
            json!(2),
            json!("bob"),
            json!("2023-12-31 23:59:59"),
            json!("b"),
            json!(2.25),
            json!(false),
            Value::Null,
        ]
    );
    assert_eq!(rows.rows[2][0], json!(3));
    assert_eq!(rows.rows[2][3], json!("c"));
    for (i, v) in rows.rows[2].iter().enumerate() {
        if ![0, 1, 3].contains(&i) {
            assert_eq!(*v, Value::Null, "column {} of row 3", rows.columns[i]);
        }
    }

    let counted = exec(&wh, "SELECT ID FROM E2E_TYPES.CORE.PEOPLE");
    assert_eq!(counted.rows, Some(3), "SELECT reports rows produced");
    assert_eq!(wh.login_count(), 1, "one session for all statements");
}

#[test]
fn empty_result_without_schema_works() {
    let wh = connect();
    exec(&wh, "CREATE DATABASE IF NOT EXISTS E2E_EMPTY");
    exec(&wh, "CREATE SCHEMA IF NOT EXISTS E2E_EMPTY.S");
    exec(
        &wh,
        "CREATE OR REPLACE TABLE E2E_EMPTY.S.T AS SELECT 1 AS A, 'x' AS B",
    );
    let rows = query(&wh, "SELECT A, B FROM E2E_EMPTY.S.T WHERE 1 = 0");
    assert!(rows.rows.is_empty());
    // The rows carry no Arrow schema; names come from the reply's row type.
    assert_eq!(rows.columns, ["A", "B"]);
    let executed = exec(&wh, "SELECT A FROM E2E_EMPTY.S.T WHERE 1 = 0");
    assert_eq!(executed.rows, Some(0));
}

#[test]
fn use_statements_set_the_session_context() {
    let server = fakesnow::shared();
    {
        let wh = connect();
        exec(&wh, "CREATE DATABASE IF NOT EXISTS E2E_CTX");
        exec(&wh, "CREATE SCHEMA IF NOT EXISTS E2E_CTX.MARTS");
        exec(
            &wh,
            "CREATE OR REPLACE TABLE E2E_CTX.MARTS.USERS AS SELECT 42 AS ID",
        );
    }
    let mut c = config(&server.base_url());
    c.role = Some("sysadmin".into());
    c.warehouse = Some("compute_wh".into());
    c.database = Some("e2e_ctx".into());
    c.schema = Some("marts".into());
    let wh = SnowflakeWarehouse::connect(&c)
        .unwrap_or_else(|e| panic!("connect: {e}\n{}", server.log_tail()));
    // Unqualified names resolve through the session's database and schema.
    let rows = query(&wh, "SELECT ID FROM USERS");
    assert_eq!(rows.rows, vec![vec![json!(42)]]);
    assert_eq!(wh.login_count(), 1);
}

#[test]
fn sql_error_carries_snowflake_message_and_no_secret() {
    let wh = connect();
    let err = wh
        .query("SELECT * FROM E2E_NOWHERE.S.MISSING_TABLE")
        .unwrap_err();
    match &err {
        WarehouseError::Sql { code, message, .. } => {
            assert_eq!(code, "002003", "{err}");
            assert!(message.contains("MISSING_TABLE"), "{message}");
        }
        other => panic!("expected a SQL error, got {other:?}"),
    }
    assert!(err.to_string().contains("MISSING_TABLE"));
    assert_no_secret(&err);

    // Even when Snowflake echoes the secret back, it is scrubbed.
    let err = wh
        .query(&format!("SELECT * FROM E2E_NOWHERE.S.\"{PASSWORD}\""))
        .unwrap_err();
    assert!(matches!(err, WarehouseError::Sql { .. }), "{err:?}");
    assert!(err.to_string().contains("***"), "{err}");
    assert_no_secret(&err);

    // The session survives failed statements.
    assert_eq!(query(&wh, "SELECT 1 AS ONE").rows, vec![vec![json!(1)]]);
    assert_eq!(wh.login_count(), 1);
}

#[test]
fn introspection_sends_one_query_for_two_schemas() {
    let wh = connect();
    exec(&wh, "CREATE DATABASE IF NOT EXISTS E2E_INTRO");
    exec(&wh, "CREATE SCHEMA IF NOT EXISTS E2E_INTRO.RAW");
    exec(&wh, "CREATE SCHEMA IF NOT EXISTS E2E_INTRO.MARTS");
    exec(
        &wh,
        "CREATE OR REPLACE TABLE E2E_INTRO.RAW.EVENTS (\
         ZED VARCHAR(100), ALPHA NUMBER(38,0), MID TIMESTAMP_NTZ, AMOUNT NUMBER(10,2))",
    );
    exec(
        &wh,
        "CREATE OR REPLACE TABLE E2E_INTRO.MARTS.USERS (USER_ID NUMBER(38,0), EMAIL VARCHAR)",
    );

    let recording = Recording::new(&wh);
    let relations = [
        RelationName::new("e2e_intro", "raw", "events"),
        RelationName::new("E2E_INTRO", "MARTS", "USERS"),
        RelationName::new("e2e_intro", "marts", "does_not_exist"),
    ];
    let columns = introspect_columns(&recording, &relations)
        .unwrap_or_else(|e| panic!("introspection failed: {e}"));
    let sent = recording.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("INFORMATION_SCHEMA.COLUMNS"),
        "{}",
        sent[0]
    );

    let names = |rel: &RelationName| -> Vec<String> {
        columns[rel].iter().map(|(c, _)| c.clone()).collect()
    };
    assert_eq!(names(&relations[0]), ["ZED", "ALPHA", "MID", "AMOUNT"]);
    assert_eq!(names(&relations[1]), ["USER_ID", "EMAIL"]);
    assert!(!columns.contains_key(&relations[2]));
    let types: Vec<&str> = columns[&relations[0]]
        .iter()
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(types[0], "VARCHAR(100)");
    assert_eq!(types[1], "NUMBER(38,0)");
    assert!(types[2].starts_with("TIMESTAMP_NTZ"), "{types:?}");
    assert_eq!(types[3], "NUMBER(10,2)");
}

#[test]
fn several_threads_share_one_session() {
    let wh = connect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let wh = &wh;
            s.spawn(move || {
                for i in 0..5 {
                    let rows = query(wh, &format!("SELECT {t} AS T, {i} AS I"));
                    assert_eq!(rows.rows, vec![vec![json!(t), json!(i)]]);
                }
            });
        }
    });
    assert_eq!(wh.login_count(), 1);
}

#[test]
fn unreachable_host_fails_fast_with_clear_message() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("http://127.0.0.1:{port}");
    let mut c = config(&host);
    c.retries = 3;
    let started = Instant::now();
    let err = SnowflakeWarehouse::connect(&c).unwrap_err();
    let took = started.elapsed();
    // A refused connection is retried with backoff only (0.25 + 0.5 + 1 s,
    // plus up to a quarter of jitter), never waiting out the 10 s connect
    // timeout; the bound is loose because the suite runs tests in parallel
    // on a loaded machine (a wall-clock figure is the benchmark's job), and
    // the reason says the connection was refused, not timed out.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    match &err {
        WarehouseError::Connection { host: h, reason } => {
            assert_eq!(h, &host);
            assert!(!reason.is_empty());
            assert!(!reason.contains("timed out"), "{reason}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert_no_secret(&err);
}

/// Runs `openssl` (the tool Snowflake's key-pair guide uses).
fn openssl(args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("this test needs the openssl command: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn key_pair_login_with_encrypted_key() {
    let server = fakesnow::shared();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.pem");
    let encrypted = dir.path().join("rsa_key.p8");
    let passphrase = "key-Passphrase-never-shown";
    // As in Snowflake's guide: a 2048-bit RSA key as encrypted PKCS#8.
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        plain.to_str().unwrap(),
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes256",
        "-in",
        plain.to_str().unwrap(),
        "-out",
        encrypted.to_str().unwrap(),
        "-passout",
        &format!("pass:{passphrase}"),
    ]);

    let mut c = config(&server.base_url());
    c.password = None;
    c.private_key_path = Some(encrypted.clone());
    c.private_key_passphrase = Some(Secret::new(passphrase));
    let wh = SnowflakeWarehouse::connect(&c)
        .unwrap_or_else(|e| panic!("key-pair login: {e}\n{}", server.log_tail()));
    assert_eq!(query(&wh, "SELECT 7 AS N").rows, vec![vec![json!(7)]]);
    drop(wh);

    // The unencrypted key works without a passphrase.
    c.private_key_path = Some(plain);
    c.private_key_passphrase = None;
    let wh = SnowflakeWarehouse::connect(&c)
        .unwrap_or_else(|e| panic!("key-pair login (plain key): {e}"));
    assert_eq!(wh.login_count(), 1);
    drop(wh);

    c.private_key_path = Some(encrypted);
    c.private_key_passphrase = Some(Secret::new("Wrong-passphrase-never-shown"));
    let err = SnowflakeWarehouse::connect(&c).unwrap_err();
    assert!(
        matches!(err, WarehouseError::Authentication { .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("rsa_key.p8"), "{shown}");
    assert!(!shown.contains("never-shown"), "{shown}");
}
