//! A scripted, fault-injecting HTTP/1.1 server on 127.0.0.1 for tests.
//!
//! Each connection carries one request, answered by the script (a function
//! of the request and of how many earlier requests went to the same path):
//! JSON, raw bytes, a slow reply, a dropped connection, or one of the faults
//! a network or a server can produce — a reply that stalls mid-body, a
//! connection that is accepted and never answered, a reply cut short, an
//! error that echoes the request (its body and its `Authorization` header)
//! back.
//!
//! Everything is bounded: a connection is held at most [`MAX_HOLD`], a
//! request is read with a timeout, the accept loop ends when the server is
//! dropped (or after [`MAX_CONNECTIONS`]), and every waiting thread checks
//! the stop flag, so a test finishes by itself even when the client under
//! test misbehaves.
//!
//! Used by the unit tests in `http_tests.rs` and, through `#[path]`, by the
//! CLI tests in `tests/it/hardening_secrets.rs`; each uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The longest a connection is held open without an answer.
pub const MAX_HOLD: Duration = Duration::from_secs(20);

/// Connections accepted before the server stops accepting.
pub const MAX_CONNECTIONS: usize = 10_000;

/// How long reading a request may take.
const READ_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What the server does with a request.
pub enum Reply {
    Json(u16, Value),
    /// Wait, then answer.
    Slow(Duration, Value),
    /// Close the connection without answering.
    Hangup,
    /// Answer with raw bytes (status 200 or the given one).
    Bytes(u16, Vec<u8>),
    /// Send the headers and the first half of the body, then stall (hold
    /// the connection, sending nothing more).
    StallMidBody(Value),
    /// Read the request and never answer (hold the connection).
    Silent,
    /// Send the headers and the first half of the body, then close.
    Truncated(Value),
    /// A failed Snowflake reply with this status whose message echoes the
    /// request body and `Authorization` header, JSON-escaped.
    Echo(u16),
}

type Script = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// The server. Dropping it stops it and releases every held connection.
pub struct Scripted {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Scripted {
    pub fn start(script: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        {
            let seen = Arc::clone(&seen);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming().take(MAX_CONNECTIONS) {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let seen = Arc::clone(&seen);
                    let script = Arc::clone(&script);
                    let stop = Arc::clone(&stop);
                    std::thread::spawn(move || serve(stream, &seen, &*script, &stop));
                }
            });
        }
        Scripted { port, seen, stop }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn seen_at(&self, path_end: &str) -> Vec<Seen> {
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

/// Holds the connection until the server stops or [`MAX_HOLD`] passes.
fn hold(stop: &AtomicBool) {
    let started = Instant::now();
    while !stop.load(Ordering::SeqCst) && started.elapsed() < MAX_HOLD {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A successful Snowflake login reply handing out these tokens.
pub fn login_reply(token: &str, master_token: &str) -> Value {
    json!({"data": {"token": token, "masterToken": master_token,
        "validityInSeconds": 3600, "masterValidityInSeconds": 14400, "sessionId": 7,
        "serverVersion": "scripted", "parameters": [],
        "sessionInfo": {"roleName": "LOADER"}}, "success": true})
}

/// [`login_reply`] with the tokens `sess-token` and `master-token`.
pub fn login_ok() -> Reply {
    Reply::Json(200, login_reply("sess-token", "master-token"))
}

/// A successful query reply: one row, one `N` column holding `n`.
pub fn rows_reply(query_id: &str, n: i64) -> Value {
    json!({"data": {"parameters": [], "rowtype": [{"name": "N", "type": "fixed", "scale": 0,
        "precision": 38, "nullable": true, "byteLength": null, "length": null}],
        "rowset": [[n.to_string()]], "total": 1, "returned": 1, "queryId": query_id,
        "finalRoleName": "LOADER", "statementTypeId": 4096, "version": 1}, "success": true})
}

/// The body of a failed reply that echoes `req` back.
pub fn echo(req: &Seen) -> Value {
    json!({"success": false, "code": "390100",
        "data": {"authnMethod": "PASSWORD", "nextAction": "RETRY_LOGIN", "errorCode": "390100"},
        "message": format!("Bad request {} {}: body {} with Authorization {}",
            req.method, req.target, req.body, req.header("authorization").unwrap_or("-"))})
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>, script: &Script, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(READ_REQUEST_TIMEOUT));
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers = Vec::new();
    // A bounded number of header lines.
    for _ in 0..200 {
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
        .unwrap_or(0)
        .min(16 << 20);
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let request = Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let earlier = match seen.lock() {
        Ok(mut all) => {
            let n = all.iter().filter(|s| s.path() == request.path()).count();
            all.push(request.clone());
            n
        }
        Err(_) => 0,
    };
    let mut stream = reader.into_inner();
    let head = |status: u16, len: usize| {
        format!(
            "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n\
             Content-Length: {len}\r\nConnection: close\r\n\r\n"
        )
    };
    let (status, body) = match script(&request, earlier) {
        Reply::Hangup => return,
        Reply::Silent => return hold(stop),
        Reply::StallMidBody(v) => {
            let body = v.to_string().into_bytes();
            let _ = stream.write_all(head(200, body.len()).as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
            let _ = stream.flush();
            return hold(stop);
        }
        Reply::Truncated(v) => {
            let body = v.to_string().into_bytes();
            let _ = stream.write_all(head(200, body.len()).as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
            return;
        }
        Reply::Json(status, v) => (status, v.to_string().into_bytes()),
        Reply::Slow(wait, v) => {
            let started = Instant::now();
            while started.elapsed() < wait.min(MAX_HOLD) && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            (200, v.to_string().into_bytes())
        }
        Reply::Bytes(status, b) => (status, b),
        Reply::Echo(status) => (status, echo(&request).to_string().into_bytes()),
    };
    let _ = stream.write_all(head(status, body.len()).as_bytes());
    let _ = stream.write_all(&body);
}

/// Every form a secret can take in text, for tests that check it never
/// shows: raw; JSON-escaped once and twice, and as `\uXXXX`; percent-encoded
/// (both cases, and as a form); base64 (standard, URL-safe, and inside a
/// basic-auth token); Rust's `{:?}`.
pub fn encodings(secret: &str) -> Vec<String> {
    use base64::Engine;
    let json_escape = |s: &str| {
        let quoted = serde_json::to_string(s).unwrap_or_default();
        quoted[1..quoted.len() - 1].to_owned()
    };
    let json = json_escape(secret);
    let b64 = &base64::engine::general_purpose::STANDARD;
    vec![
        secret.to_owned(),
        json_escape(&json),
        json,
        secret
            .encode_utf16()
            .map(|u| format!("\\u{u:04x}"))
            .collect(),
        secret.bytes().map(|b| format!("%{b:02X}")).collect(),
        secret.bytes().map(|b| format!("%{b:02x}")).collect(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        b64.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        b64.encode(format!("user:{secret}")),
        format!("{secret:?}"),
    ]
}
