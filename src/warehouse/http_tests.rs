//! Tests of the whole client stack (snowflake-api, transport and host
//! override middleware) against the scripted, fault-injecting HTTP server
//! of `fault_server.rs` on 127.0.0.1, for behaviour the emulator cannot
//! produce: HTTP 5xx/429, dropped, stalled and truncated replies, hosts
//! that never answer, refused logins, long-running queries, timeouts,
//! servers that echo the credentials back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::fault_server::{Reply, Scripted, encodings, login_ok, login_reply, rows_reply};
use super::snowflake::Tuning;
use super::transport::Backoff;
use super::{
    Phase, Secret, SnowflakeConfig, SnowflakeWarehouse, TimeLimit, Warehouse, WarehouseError,
};

const PASSWORD: &str = "Scripted-Pa55word-never-shown";

/// An Arrow IPC stream with one `N` column (Snowflake FIXED metadata).
fn arrow_stream(values: &[i64]) -> Vec<u8> {
    use arrow_array::{Int64Array, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    let meta = [("logicalType".to_owned(), "FIXED".to_owned())]
        .into_iter()
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("N", DataType::Int64, true).with_metadata(meta),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(Int64Array::from(values.to_vec()))],
    )
    .unwrap();
    let mut out = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &schema).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    drop(w);
    out
}

/// Standard base64, as Snowflake sends `rowsetBase64`.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn chunked_reply(base: &str, query_id: &str, chunk: &str) -> Value {
    json!({"data": {"parameters": [], "rowtype": [{"name": "N", "type": "fixed",
        "scale": 0, "precision": 38, "nullable": true}],
        "rowsetBase64": base64(&arrow_stream(&[1, 2])),
        "chunks": [{"url": format!("{base}/{chunk}"), "rowCount": 2, "uncompressedSize": 64}],
        "chunkHeaders": {}, "total": 4, "returned": 4, "queryId": query_id,
        "finalRoleName": "LOADER", "statementTypeId": 4096, "version": 1}, "success": true})
}

fn config(server: &Scripted) -> SnowflakeConfig {
    let mut c = SnowflakeConfig::new("scripted", "tester");
    c.password = Some(Secret::new(PASSWORD));
    c.host = Some(server.base_url());
    c.retries = 2;
    c.statement_timeout_secs = 30;
    c
}

const FAST: Tuning = Tuning {
    backoff: Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(40),
    },
    client_grace: Duration::from_millis(300),
};

fn connect(c: &SnowflakeConfig) -> SnowflakeWarehouse {
    SnowflakeWarehouse::connect_tuned(c, FAST).unwrap_or_else(|e| panic!("connect: {e}"))
}

fn assert_no_secret(err: &WarehouseError) {
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
}

#[test]
fn login_carries_session_parameters_and_one_session_is_kept() {
    let server = Scripted::start(|req, _| match req.path() {
        "/session/v1/login-request" => login_ok(),
        _ => Reply::Json(200, rows_reply("q", 1)),
    });
    let mut c = config(&server);
    c.query_tag = Some("cio-sql: nightly 'sync'".into());
    c.role = Some("loader".into());
    c.warehouse = Some("transforming".into());
    let wh = connect(&c);
    for _ in 0..3 {
        wh.query("SELECT 1").unwrap();
    }
    let logins = server.seen_at("/session/v1/login-request");
    assert_eq!(logins.len(), 1);
    assert_eq!(wh.login_count(), 1);
    let body = logins[0].json();
    let params = &body["data"]["SESSION_PARAMETERS"];
    assert_eq!(params["QUERY_TAG"], "cio-sql: nightly 'sync'");
    assert_eq!(params["STATEMENT_TIMEOUT_IN_SECONDS"], 30);
    assert!(logins[0].target.contains("roleName=LOADER"));
    assert!(logins[0].target.contains("warehouse=TRANSFORMING"));

    let queries: Vec<String> = server
        .seen_at("/queries/v1/query-request")
        .iter()
        .map(|q| q.json()["sqlText"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        queries,
        [
            "USE ROLE \"LOADER\"",
            "USE WAREHOUSE \"TRANSFORMING\"",
            "SELECT 1",
            "SELECT 1",
            "SELECT 1"
        ]
    );
    for q in server.seen_at("/queries/v1/query-request") {
        assert_eq!(
            q.header("authorization"),
            Some("Snowflake Token=\"sess-token\"")
        );
    }
    drop(wh);
    // Dropping the warehouse closes the session.
    let closes = server.seen_at("/session");
    assert_eq!(closes.len(), 1);
    assert!(closes[0].target.contains("delete=true"));
}

#[test]
fn expired_session_tokens_are_renewed_within_the_same_session() {
    let server = Scripted::start(|req, n| match req.path() {
        // A session token that expires at once forces a renewal before
        // every statement.
        "/session/v1/login-request" => Reply::Json(
            200,
            json!({"data": {"token": "sess-0", "masterToken": "master-token",
                "validityInSeconds": 0, "masterValidityInSeconds": 14400, "sessionId": 7,
                "serverVersion": "scripted", "parameters": [],
                "sessionInfo": {"roleName": "LOADER"}}, "success": true}),
        ),
        "/session/token-request" => Reply::Json(
            200,
            json!({"data": {"sessionToken": format!("sess-{}", n + 1),
                "validityInSecondsST": 0, "masterToken": "master-token",
                "validityInSecondsMT": 14400, "sessionId": 7}, "success": true}),
        ),
        _ => Reply::Json(200, rows_reply("q", 1)),
    });
    let wh = connect(&config(&server));
    wh.query("SELECT 1").unwrap();
    wh.query("SELECT 1").unwrap();
    assert_eq!(wh.login_count(), 1);
    let renewals = server.seen_at("/session/token-request");
    assert_eq!(renewals.len(), 2);
    for r in &renewals {
        // snowflake-api's double slash is normalised.
        assert_eq!(r.path(), "/session/token-request");
        assert_eq!(
            r.header("authorization"),
            Some("Snowflake Token=\"master-token\"")
        );
    }
    let tokens: Vec<String> = server
        .seen_at("/queries/v1/query-request")
        .iter()
        .map(|q| q.header("authorization").unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        tokens,
        [
            "Snowflake Token=\"sess-0\"",
            "Snowflake Token=\"sess-1\"",
            "Snowflake Token=\"sess-2\""
        ]
    );
}

#[test]
fn transient_failures_are_retried_with_the_same_request() {
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", 0) => Reply::Json(503, json!({"message": "warming up"})),
        ("/session/v1/login-request", _) => login_ok(),
        // The set-up `SELECT 1`, then a dropped connection and a 429.
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        ("/queries/v1/query-request", 1) => Reply::Hangup,
        ("/queries/v1/query-request", 2) => Reply::Json(429, json!({"message": "slow down"})),
        _ => Reply::Json(200, rows_reply("q-3", 3)),
    });
    let wh = connect(&config(&server));
    let rows = wh.query("SELECT 3").unwrap();
    assert_eq!(rows.rows, vec![vec![json!(3)]]);
    assert_eq!(rows.query_id.as_deref(), Some("q-3"));
    let sent = server.seen_at("/queries/v1/query-request");
    assert_eq!(sent.len(), 4);
    // Retries re-send the very same request (same requestId), which
    // Snowflake uses to avoid running a statement twice.
    assert_eq!(sent[1].target, sent[2].target);
    assert_eq!(sent[2].target, sent[3].target);
    assert_eq!(server.seen_at("/session/v1/login-request").len(), 2);
    assert_eq!(wh.login_count(), 1, "retries are not new logins");
}

#[test]
fn persistent_server_errors_surface_as_transient_after_bounded_retries() {
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", _) => login_ok(),
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        _ => Reply::Json(502, json!({"message": "bad gateway"})),
    });
    let c = config(&server);
    let wh = connect(&c);
    let started = Instant::now();
    let err = wh.execute("SELECT 1").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    match &err {
        WarehouseError::Transient {
            attempts, reason, ..
        } => {
            assert_eq!(*attempts, c.retries + 1);
            assert!(
                reason.contains("502") && reason.contains("bad gateway"),
                "{reason}"
            );
        }
        other => panic!("expected Transient, got {other:?}"),
    }
    assert!(err.is_transient());
    assert_eq!(
        server.seen_at("/queries/v1/query-request").len(),
        1 + c.retries as usize + 1
    );
    assert_no_secret(&err);
}

#[test]
fn refused_login_is_an_authentication_error_without_the_password() {
    let server = Scripted::start(|req, _| match req.path() {
        "/session/v1/login-request" => Reply::Json(
            200,
            json!({"data": {"authnMethod": "PASSWORD", "nextAction": "RETRY_LOGIN"},
                "code": "390100", "message": "Incorrect username or password was specified.",
                "success": false}),
        ),
        _ => Reply::Json(500, json!({})),
    });
    let err = SnowflakeWarehouse::connect_tuned(&config(&server), FAST).unwrap_err();
    match &err {
        WarehouseError::Authentication { message, user, .. } => {
            assert!(
                message.contains("Incorrect username or password"),
                "{message}"
            );
            assert!(message.contains("390100"), "{message}");
            assert_eq!(user, "tester");
        }
        other => panic!("expected Authentication, got {other:?}"),
    }
    assert_no_secret(&err);
    // The password was sent to the server, and only there.
    let login = &server.seen_at("/session/v1/login-request")[0];
    assert_eq!(login.json()["data"]["PASSWORD"], PASSWORD);
    assert_eq!(
        server.seen_at("/session/v1/login-request").len(),
        1,
        "not retried"
    );
}

#[test]
fn http_401_on_a_query_is_an_authentication_error() {
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", _) => login_ok(),
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        _ => Reply::Json(
            401,
            json!({"data": null, "code": "390104", "message": "User must login again.",
                "success": false}),
        ),
    });
    let wh = connect(&config(&server));
    let err = wh.query("SELECT 1").unwrap_err();
    assert!(
        matches!(&err, WarehouseError::Authentication { message, .. } if message.contains("login again")),
        "{err:?}"
    );
}

#[test]
fn long_running_queries_are_polled_until_done() {
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", _) => login_ok(),
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        ("/queries/v1/query-request", _) => Reply::Json(
            200,
            json!({"code": "333334", "message": "Asynchronous execution in progress.",
                "success": true, "data": {"queryId": "q-long",
                "getResultUrl": "/queries/q-long/result"}}),
        ),
        ("/queries/q-long/result", 0) => Reply::Json(
            200,
            json!({"code": "333333", "message": "Query execution in progress.",
                "success": true, "data": {"queryId": "q-long",
                "getResultUrl": "/queries/q-long/result"}}),
        ),
        ("/queries/q-long/result", _) => Reply::Json(200, rows_reply("q-long", 42)),
        _ => Reply::Json(404, json!({})),
    });
    let wh = connect(&config(&server));
    let rows = wh.query("CREATE TABLE big AS SELECT 42").unwrap();
    assert_eq!(rows.rows, vec![vec![json!(42)]]);
    assert_eq!(rows.query_id.as_deref(), Some("q-long"));
    let polls = server.seen_at("/queries/q-long/result");
    assert_eq!(polls.len(), 2);
    for p in &polls {
        assert_eq!(p.method, "GET");
        assert_eq!(
            p.header("authorization"),
            Some("Snowflake Token=\"sess-token\"")
        );
    }
}

#[test]
fn chunked_arrow_results_keep_the_server_row_order() {
    let base = Arc::new(Mutex::new(String::new()));
    let base_in_script = Arc::clone(&base);
    let server = Scripted::start(move |req, n| {
        let base = base_in_script.lock().unwrap().clone();
        match (req.path(), n) {
            ("/session/v1/login-request", _) => login_ok(),
            ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
            ("/queries/v1/query-request", 1) => {
                Reply::Json(200, chunked_reply(&base, "q-chunked", "chunk/good"))
            }
            ("/queries/v1/query-request", _) => {
                Reply::Json(200, chunked_reply(&base, "q-denied", "chunk/denied"))
            }
            ("/chunk/good", _) => Reply::Bytes(200, arrow_stream(&[3, 4])),
            _ => Reply::Json(403, json!({"message": "AccessDenied"})),
        }
    });
    *base.lock().unwrap() = server.base_url();
    let wh = connect(&config(&server));
    let rows = wh.query("SELECT N FROM T ORDER BY N").unwrap();
    // The inline part holds the first rows, the chunk the rest.
    assert_eq!(
        rows.rows,
        vec![
            vec![json!(1)],
            vec![json!(2)],
            vec![json!(3)],
            vec![json!(4)]
        ]
    );
    assert_eq!(server.seen_at("/chunk/good")[0].method, "GET");

    // A refused chunk download is not mistaken for a failed login.
    let err = wh.query("SELECT N FROM T").unwrap_err();
    assert!(
        matches!(&err, WarehouseError::Protocol { reason, .. } if reason.contains("403")),
        "{err:?}"
    );
}

#[test]
fn result_urls_on_other_hosts_are_not_polled() {
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", _) => login_ok(),
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        _ => Reply::Json(
            200,
            json!({"code": "333334", "message": "in progress", "success": true,
                "data": {"queryId": "q", "getResultUrl": "http://127.0.0.1:9/queries/q/result"}}),
        ),
    });
    let wh = connect(&config(&server));
    let err = wh.query("SELECT 1").unwrap_err();
    assert!(
        matches!(&err, WarehouseError::Protocol { reason, .. } if reason.contains("another host")),
        "{err:?}"
    );
}

#[test]
fn hung_statement_times_out_on_the_client() {
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", _) => login_ok(),
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        _ => Reply::Slow(Duration::from_secs(5), rows_reply("late", 1)),
    });
    let mut c = config(&server);
    c.statement_timeout_secs = 1;
    let wh = connect(&c);
    let started = Instant::now();
    let err = wh.query("SELECT SYSTEM$WAIT(10)").unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            WarehouseError::Timeout {
                seconds: 1,
                limit: TimeLimit::Statement,
                phase: Phase::Submit,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(err.is_transient());
    assert!(
        err.to_string().contains("statement_timeout_seconds"),
        "{err}"
    );
}

#[test]
fn snowflake_errors_keep_code_state_and_query_id() {
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", _) => login_ok(),
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        ("/queries/v1/query-request", 1) => Reply::Json(
            200,
            json!({"data": {"internalError": false, "errorCode": "002003", "age": 0,
                "sqlState": "02000", "queryId": "q-err", "line": -1, "pos": -1},
                "code": "002003", "success": false,
                "message": "SQL compilation error:\nObject 'X' does not exist or not authorized."}),
        ),
        _ => Reply::Json(
            200,
            json!({"data": {"internalError": false, "errorCode": "000630", "age": 0,
                "sqlState": "57014", "queryId": "q-slow"}, "code": "000630", "success": false,
                "message": "Statement reached its statement or warehouse timeout of 30 second(s) and was canceled."}),
        ),
    });
    let wh = connect(&config(&server));
    let err = wh.execute("SELECT * FROM X").unwrap_err();
    assert_eq!(
        err,
        WarehouseError::Sql {
            code: "002003".into(),
            sql_state: Some("02000".into()),
            message: "SQL compilation error:\nObject 'X' does not exist or not authorized.".into(),
            query_id: Some("q-err".into()),
        }
    );
    let err = wh.execute("SELECT SYSTEM$WAIT(60)").unwrap_err();
    assert_eq!(
        err,
        WarehouseError::Timeout {
            phase: Phase::Submit,
            limit: TimeLimit::Statement,
            seconds: 30,
            host: server.base_url(),
            attempts: 1,
            query_id: Some("q-slow".into())
        }
    );
}

#[test]
fn unparsable_replies_are_protocol_errors() {
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", _) => login_ok(),
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        _ => Reply::Json(200, json!({"unexpected": true})),
    });
    let wh = connect(&config(&server));
    let err = wh.query("SELECT 1").unwrap_err();
    assert!(matches!(err, WarehouseError::Protocol { .. }), "{err:?}");
}

#[test]
fn calls_from_inside_an_async_runtime_are_refused() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut c = SnowflakeConfig::new("acct", "u");
    c.password = Some(Secret::new(PASSWORD));
    c.host = Some("http://127.0.0.1:9".into());
    let err = rt
        .block_on(async { SnowflakeWarehouse::connect_tuned(&c, FAST) })
        .unwrap_err();
    assert!(matches!(err, WarehouseError::Config(_)), "{err:?}");
}

// ---------------------------------------------------------------------------
// Fault injection: every fault is bounded, and no secret leaks.
//
// Elapsed times are asserted with generous margins: the machine running the
// tests may be loaded.

/// A server that logs in, answers the set-up `SELECT 1`, then answers every
/// further statement with `fault(n)` (n = 0 for the first one).
fn faulty(fault: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Scripted {
    Scripted::start(move |req, n| match (req.path(), n) {
        ("/session/v1/login-request", _) => login_ok(),
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        ("/queries/v1/query-request", n) => fault(n - 1),
        _ => Reply::Json(404, json!({})),
    })
}

fn assert_never_shown(err: &WarehouseError, secrets: &[&str]) {
    let shown = format!("{err} {err:?}");
    for secret in secrets {
        for form in encodings(secret) {
            assert!(!shown.contains(&form), "{form:?} leaked: {shown}");
        }
    }
}

#[test]
fn a_reply_that_stalls_mid_body_is_bounded_by_the_read_timeout() {
    let server = faulty(|_| Reply::StallMidBody(rows_reply("stalled", 1)));
    let mut c = config(&server);
    c.read_timeout_secs = 1;
    c.retries = 1;
    let wh = connect(&c);
    let started = Instant::now();
    let err = wh.query("SELECT 1").unwrap_err();
    let took = started.elapsed();
    // Two attempts of 1 s each and a short backoff; far below the 30 s
    // statement timeout.
    assert!(took >= Duration::from_secs(2), "took {took:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    match &err {
        WarehouseError::Timeout {
            phase,
            limit,
            seconds,
            attempts,
            ..
        } => {
            assert_eq!(*phase, Phase::Submit);
            assert_eq!(*limit, TimeLimit::Read);
            assert_eq!((*seconds, *attempts), (1, 2));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("statement submit") && text.contains("read_timeout_seconds"),
        "{text}"
    );
    assert_eq!(server.seen_at("/queries/v1/query-request").len(), 1 + 2);
}

#[test]
fn a_stalled_reply_is_retried_and_the_retry_can_succeed() {
    let server = faulty(|n| match n {
        0 => Reply::StallMidBody(rows_reply("stalled", 1)),
        _ => Reply::Json(200, rows_reply("q-ok", 7)),
    });
    let mut c = config(&server);
    c.read_timeout_secs = 1;
    let wh = connect(&c);
    let started = Instant::now();
    let rows = wh.query("SELECT 7").unwrap();
    assert_eq!(rows.rows, vec![vec![json!(7)]]);
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn a_host_that_never_answers_fails_the_login_within_the_login_timeout() {
    let server = Scripted::start(|_, _| Reply::Silent);
    let mut c = config(&server);
    c.login_timeout_secs = 2;
    c.read_timeout_secs = 1;
    c.retries = 20;
    let started = Instant::now();
    let err = SnowflakeWarehouse::connect_tuned(&c, FAST).unwrap_err();
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "took {took:?}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(
        matches!(
            err,
            WarehouseError::Timeout {
                phase: Phase::Login,
                limit: TimeLimit::Login,
                seconds: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("login_timeout_seconds"), "{text}");
    assert!(!text.contains("statement_timeout_seconds"), "{text}");
    // The login was retried after each silent second, within the bound.
    let logins = server.seen_at("/session/v1/login-request").len();
    assert!((1..=4).contains(&logins), "{logins} logins");
}

#[test]
fn the_statement_deadline_leaves_the_login_out() {
    // The login takes 1.5 s; the statement itself is quick. A 1 s
    // statement timeout (plus the test's 0.3 s grace) must not fire.
    let server = Scripted::start(|req, _| match req.path() {
        "/session/v1/login-request" => Reply::Slow(
            Duration::from_millis(1500),
            login_reply("sess-slow", "master-slow"),
        ),
        _ => Reply::Json(200, rows_reply("q", 1)),
    });
    let mut c = config(&server);
    c.statement_timeout_secs = 1;
    let wh = connect(&c);
    wh.query("SELECT 1").unwrap();
}

#[test]
fn a_burst_of_503_replies_is_retried() {
    let server = faulty(|n| match n {
        0..=2 => Reply::Json(503, json!({"message": "Service Unavailable"})),
        _ => Reply::Json(200, rows_reply("q-after-burst", 5)),
    });
    let mut c = config(&server);
    c.retries = 3;
    let wh = connect(&c);
    let rows = wh.query("SELECT 5").unwrap();
    assert_eq!(rows.query_id.as_deref(), Some("q-after-burst"));
    assert_eq!(server.seen_at("/queries/v1/query-request").len(), 1 + 4);
}

#[test]
fn persistent_503_replies_give_up_within_the_bound() {
    let server = faulty(|_| Reply::Json(503, json!({"message": "Service Unavailable"})));
    let mut c = config(&server);
    c.retries = 4;
    let wh = connect(&c);
    let started = Instant::now();
    let err = wh.execute("SELECT 1").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(&err, WarehouseError::Transient { attempts: 5, reason, .. } if reason.contains("503")),
        "{err:?}"
    );
}

#[test]
fn truncated_replies_are_retried_then_reported() {
    // Cut short on the wire (fewer bytes than Content-Length), then a
    // complete HTTP reply whose JSON is cut short, then the real answer.
    let server = faulty(|n| match n {
        0 => Reply::Truncated(rows_reply("cut", 1)),
        1 => {
            let full = rows_reply("cut", 1).to_string();
            Reply::Bytes(200, full.as_bytes()[..full.len() / 2].to_vec())
        }
        2 => Reply::Json(200, rows_reply("q-whole", 9)),
        _ => Reply::Truncated(rows_reply("cut", 1)),
    });
    let wh = connect(&config(&server));
    let rows = wh.query("SELECT 9").unwrap();
    assert_eq!(rows.query_id.as_deref(), Some("q-whole"));
    let started = Instant::now();
    let err = wh.query("SELECT 9").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(&err, WarehouseError::Transient { reason, .. } if reason.contains("cut short")),
        "{err:?}"
    );
}

#[test]
fn a_server_echoing_the_credentials_back_leaks_nothing() {
    // A password with characters that JSON escapes, so that the echo holds
    // it escaped (once in the message, twice on the wire).
    const ECHOED: &str = "Echo\"Pa55\\word/1";
    let server = Scripted::start(|req, n| match (req.path(), n) {
        ("/session/v1/login-request", 0) => Reply::Echo(400),
        ("/session/v1/login-request", _) => {
            Reply::Json(200, login_reply("sess-ECHO-token-1", "master-ECHO-token-2"))
        }
        ("/queries/v1/query-request", 0) => Reply::Json(200, rows_reply("setup", 1)),
        _ => Reply::Echo(200),
    });
    let mut c = config(&server);
    c.password = Some(Secret::new(ECHOED));
    let err = SnowflakeWarehouse::connect_tuned(&c, FAST).unwrap_err();
    assert!(matches!(err, WarehouseError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("Bad request"), "{err}");
    assert_never_shown(&err, &[ECHOED]);
    // The echo did hold the password.
    assert!(
        server.seen_at("/session/v1/login-request")[0]
            .body
            .contains("Pa55")
    );

    let wh = connect(&c);
    let err = wh.query("SELECT 1").unwrap_err();
    assert!(err.to_string().contains("Authorization"), "{err}");
    assert_never_shown(&err, &[ECHOED, "sess-ECHO-token-1", "master-ECHO-token-2"]);
}

#[test]
fn a_connect_that_hangs_names_the_connect_phase() {
    // A listening socket with a full accept queue drops new connection
    // attempts, so connecting to it hangs until the connect timeout.
    let (fd, port, fillers) = full_listener();
    let mut c = SnowflakeConfig::new("scripted", "tester");
    c.password = Some(Secret::new(PASSWORD));
    c.host = Some(format!("http://127.0.0.1:{port}"));
    c.connect_timeout_secs = 1;
    // Should the connection be made after all, the test still ends soon.
    c.read_timeout_secs = 2;
    c.login_timeout_secs = 3;
    let started = Instant::now();
    let err = SnowflakeWarehouse::connect_tuned(&c, FAST).unwrap_err();
    let took = started.elapsed();
    drop(fillers);
    // SAFETY: `fd` is the socket `full_listener` opened, closed once.
    unsafe { libc::close(fd) };
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(
        matches!(
            err,
            WarehouseError::Timeout {
                phase: Phase::Connect,
                limit: TimeLimit::Connect,
                seconds: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("connect_timeout_seconds"), "{err}");
}

/// A loopback socket listening with a backlog of 0 whose accept queue is
/// already full (it never accepts): the kernel drops further SYNs. Returns
/// the socket, its port and the connections that fill the queue.
fn full_listener() -> (libc::c_int, u16, Vec<std::net::TcpStream>) {
    // SAFETY: plain socket calls on a socket this function owns; every
    // pointer passed points at a live, correctly sized local.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
        addr.sin_port = 0;
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(libc::bind(fd, (&raw const addr).cast(), len), 0, "bind");
        assert_eq!(libc::listen(fd, 0), 0, "listen");
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut bound_len = len;
        assert_eq!(
            libc::getsockname(fd, (&raw mut bound).cast(), &mut bound_len),
            0
        );
        let port = u16::from_be(bound.sin_port);
        // Fill the accept queue (each filler gives up quickly itself).
        let target = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut fillers = Vec::new();
        for _ in 0..4 {
            if let Ok(s) = std::net::TcpStream::connect_timeout(&target, Duration::from_millis(200))
            {
                fillers.push(s);
            }
        }
        (fd, port, fillers)
    }
}

/// A fakesnow-style server: its login reply lacks the master token, the
/// session id and the validities, its query replies `returned`, `version`,
/// `finalRoleName` and `parameters`.
fn fakesnow_like() -> Scripted {
    Scripted::start(|req, _| match req.path() {
        "/session/v1/login-request" => Reply::Json(
            200,
            json!({"data": {"token": "tok", "serverVersion": "9.1", "parameters": [],
                "sessionInfo": {"databaseName": null, "schemaName": null}}, "success": true}),
        ),
        _ => Reply::Json(
            200,
            json!({"data": {"rowtype": [{"name": "N", "type": "fixed", "scale": 0,
                "precision": 38, "nullable": true}], "rowset": [["1"]], "total": 1,
                "queryId": "q-emu"}, "success": true}),
        ),
    })
}

#[test]
fn emulator_workarounds_come_with_the_emulator_setting_only() {
    // `emulator: fakesnow`: the replies are completed, the session works.
    let server = fakesnow_like();
    let mut c = config(&server);
    c.emulator = Some(crate::settings::Emulator::Fakesnow);
    let wh = connect(&c);
    assert_eq!(wh.query("SELECT 1").unwrap().rows, vec![vec![json!(1)]]);
    // `host` alone (a proxy, a private link) is talked to as Snowflake:
    // nothing is patched, so the incomplete reply is an error.
    let server = fakesnow_like();
    let plain = config(&server);
    assert!(plain.emulator.is_none());
    let err = SnowflakeWarehouse::connect_tuned(&plain, FAST)
        .expect_err("an incomplete login reply is not accepted without emulator");
    assert!(
        matches!(
            err,
            WarehouseError::Protocol { .. } | WarehouseError::Authentication { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn an_emulator_needs_a_host() {
    let mut c = SnowflakeConfig::new("acct", "u");
    c.password = Some(Secret::new(PASSWORD));
    c.emulator = Some(crate::settings::Emulator::Fakesnow);
    let err = c.validate().unwrap_err();
    assert!(
        err.to_string().contains("emulator is set without host"),
        "{err}"
    );
}

#[test]
fn requests_go_through_the_proxy_with_its_credentials() {
    // The scripted server plays the proxy: requests for the (unresolvable)
    // Snowflake host reach it in absolute form.
    let proxy = Scripted::start(|req, _| {
        if req.path().ends_with("/session/v1/login-request") {
            login_ok()
        } else {
            Reply::Json(200, rows_reply("q", 3))
        }
    });
    let mut c = config(&proxy);
    c.host = Some("snowflake.invalid".into());
    c.port = Some(8443);
    c.protocol = Some("http".into());
    c.proxy = Some(format!(
        "http://squid:Proxy-Pa55@127.0.0.1:{}",
        proxy.port()
    ));
    let wh = connect(&c);
    assert_eq!(wh.query("SELECT 3").unwrap().rows.len(), 1);
    let seen = proxy.seen();
    assert!(!seen.is_empty());
    for req in &seen {
        assert!(
            req.target.starts_with("http://snowflake.invalid:8443/"),
            "{}",
            req.target
        );
        // Basic auth of `squid:Proxy-Pa55`.
        assert_eq!(
            req.header("proxy-authorization"),
            Some("Basic c3F1aWQ6UHJveHktUGE1NQ==")
        );
    }
    // The proxy's password is a registered secret.
    assert_eq!(crate::redact::scrub("p Proxy-Pa55"), "p ***");
}

#[test]
fn an_inline_private_key_logs_in_with_a_key_pair_jwt() {
    use base64::Engine as _;
    use pkcs8::EncodePrivateKey;
    let server = Scripted::start(|req, _| match req.path() {
        "/session/v1/login-request" => login_ok(),
        _ => Reply::Json(200, rows_reply("q", 1)),
    });
    // snowflake-api signs only with keys of 2048 bits or more.
    let key = rsa::RsaPrivateKey::new(&mut pkcs8::rand_core::OsRng, 2048).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let inline = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
    let mut c = config(&server);
    c.password = None;
    c.private_key = Some(Secret::new(inline.clone()));
    let wh = connect(&c);
    wh.query("SELECT 1").unwrap();
    let login = server.seen_at("/session/v1/login-request")[0].json();
    assert_eq!(login["data"]["AUTHENTICATOR"], "SNOWFLAKE_JWT");
    let jwt = login["data"]["TOKEN"].as_str().unwrap();
    assert_eq!(jwt.split('.').count(), 3, "{jwt}");
    assert!(!login.to_string().contains(&inline[..40]));
    // The inline key is a registered secret.
    assert_eq!(crate::redact::scrub(&format!("k {inline}")), "k ***");
}
