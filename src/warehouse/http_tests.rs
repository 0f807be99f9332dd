//! Tests of the whole client stack (snowflake-api, transport and host
//! override middleware) against a scripted HTTP server on 127.0.0.1, for
//! behaviour the emulator cannot produce: HTTP 5xx/429, dropped
//! connections, refused logins, long-running queries, timeouts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::snowflake::Tuning;
use super::transport::Backoff;
use super::{Secret, SnowflakeConfig, SnowflakeWarehouse, Warehouse, WarehouseError};

const PASSWORD: &str = "Scripted-Pa55word-never-shown";

/// One request the server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// Path and query.
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What the server does with a request.
enum Reply {
    Json(u16, Value),
    /// Wait, then answer.
    Slow(Duration, Value),
    /// Close the connection without answering.
    Hangup,
    /// Answer with raw bytes (status 200 or the given one).
    Bytes(u16, Vec<u8>),
}

type Script = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// A tiny HTTP/1.1 server answering from a script; `usize` is the number
/// of earlier requests to the same path.
struct Scripted {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Scripted {
    fn start(script: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        {
            let seen = Arc::clone(&seen);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let seen = Arc::clone(&seen);
                    let script = Arc::clone(&script);
                    std::thread::spawn(move || serve(stream, &seen, &*script));
                }
            });
        }
        Scripted { port, seen, stop }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn seen_at(&self, path_end: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path().ends_with(path_end))
            .collect()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>, script: &Script) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let request = Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let earlier = {
        let mut all = seen.lock().unwrap();
        let n = all.iter().filter(|s| s.path() == request.path()).count();
        all.push(request.clone());
        n
    };
    let (status, body) = match script(&request, earlier) {
        Reply::Hangup => return,
        Reply::Json(status, v) => (status, v.to_string().into_bytes()),
        Reply::Slow(wait, v) => {
            std::thread::sleep(wait);
            (200, v.to_string().into_bytes())
        }
        Reply::Bytes(status, b) => (status, b),
    };
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
}

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

fn login_ok() -> Reply {
    Reply::Json(
        200,
        json!({"data": {"token": "sess-token", "masterToken": "master-token",
            "validityInSeconds": 3600, "masterValidityInSeconds": 14400, "sessionId": 7,
            "serverVersion": "scripted", "parameters": [],
            "sessionInfo": {"roleName": "LOADER"}}, "success": true}),
    )
}

fn rows_reply(query_id: &str, n: i64) -> Value {
    json!({"data": {"parameters": [], "rowtype": [{"name": "N", "type": "fixed", "scale": 0,
        "precision": 38, "nullable": true, "byteLength": null, "length": null}],
        "rowset": [[n.to_string()]], "total": 1, "returned": 1, "queryId": query_id,
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
        matches!(err, WarehouseError::Timeout { seconds: 1, .. }),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(err.is_transient());
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
            seconds: 30,
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
