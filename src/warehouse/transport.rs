//! The HTTP middleware installed on every Snowflake client we build.
//!
//! `snowflake-api` sends requests through a `reqwest_middleware` client and
//! exposes neither query ids, row types of empty results, nor HTTP status
//! codes. This layer fills those gaps:
//!
//! * **Retries**: HTTP 5xx/408/429 replies and requests that fail after the
//!   connection was made (reset, dropped, body cut short or stalled longer
//!   than the read timeout, a JSON reply that is not complete JSON) are
//!   retried with bounded exponential backoff; when the retries are used up
//!   the request fails with [`TransportError::GaveUp`] (or
//!   [`TransportError::TimedOut`] when the last attempt stalled). A
//!   connection that cannot be made at all fails at once with
//!   [`TransportError::Unreachable`] (or `TimedOut` when connecting took
//!   longer than the connect timeout); other HTTP errors (401, 403, 404, …)
//!   fail with [`TransportError::Rejected`].
//! * **Time bounds**: the read timeout (silence while waiting for the next
//!   bytes of a reply) and the connect timeout are set on the HTTP client; a
//!   login or session renewal, retries included, is bounded by the login
//!   timeout. The phase of the request in flight and the time spent logging
//!   in are recorded in [`CAPTURE`], so that the statement's own deadline can
//!   leave the login out and a timeout can say what it interrupted.
//! * **Secrets**: the credentials a login sends and the tokens Snowflake
//!   hands out are registered with [`crate::redact`], so that no message,
//!   log or artifact can show them.
//! * **Session parameters**: every login request carries the configured
//!   session parameters (`QUERY_TAG`, `STATEMENT_TIMEOUT_IN_SECONDS`), so
//!   they hold for every statement of every session, re-logins included.
//! * **Long-running statements**: Snowflake answers a synchronous query that
//!   takes longer than ~45 s with "in progress" (codes 333333/333334) and a
//!   result URL; this layer polls that URL until the result is ready, which
//!   `snowflake-api` 0.14 does not do.
//! * **Capture**: the query id, row type, row count, statement type and
//!   error details of each query reply are stored in the task-local
//!   [`CAPTURE`] slot of the call that sent it.
//! * **Login counting**, so callers can check that one session is kept.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Extensions, HeaderMap, StatusCode, header};
use reqwest::{Method, Request, Response};
use reqwest_middleware::{Middleware, Next};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::{Phase, TimeLimit};

tokio::task_local! {
    /// Where the transport layer stores what it learnt from the last query
    /// reply of the current call. Set with `CAPTURE.scope(..)` around one
    /// statement.
    pub(crate) static CAPTURE: Arc<Mutex<Captured>>;
}

/// What the last query reply said, beyond what `snowflake-api` returns.
#[derive(Debug, Default, Clone)]
pub(crate) struct Captured {
    /// Query id of the statement.
    pub query_id: Option<String>,
    /// Column descriptions (also present for empty results).
    pub rowtype: Option<Vec<RowTypeField>>,
    /// Total number of result rows.
    pub total: Option<i64>,
    /// Snowflake's statement type id (0x3000 range is DML).
    pub statement_type_id: Option<i64>,
    /// Error details of a failed statement.
    pub error: Option<ServerError>,
    /// Why the transport layer gave up on a request of this call.
    pub transport: Option<TransportError>,
    /// Whether the reply carried rows inline (`rowsetBase64`) besides any
    /// chunks; `snowflake-api` appends that first part after the chunks.
    pub inline_rows: bool,
    /// The phase of the request in flight (or of the last one).
    pub phase: Option<Phase>,
    /// Time spent in finished login requests of this call.
    pub login_spent: Duration,
    /// When the login request in flight started.
    pub login_started: Option<Instant>,
}

impl Captured {
    /// Time this call has spent logging in so far.
    pub(crate) fn login_time(&self) -> Duration {
        self.login_spent + self.login_started.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// Applies `f` to the current call's capture slot, if there is one.
fn with_capture(f: impl FnOnce(&mut Captured)) {
    let _ = CAPTURE.try_with(|slot| {
        if let Ok(mut slot) = slot.lock() {
            f(&mut slot);
        }
    });
}

/// One column of a reply's `rowtype`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct RowTypeField {
    /// Column name.
    pub name: String,
    /// Snowflake type, lower case (`fixed`, `text`, `timestamp_ntz`, …).
    #[serde(rename = "type")]
    pub type_: String,
    /// Scale for `fixed`, fractional-second digits for times and timestamps.
    #[serde(default)]
    pub scale: Option<i64>,
}

/// Error details from a failed query reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerError {
    pub code: String,
    pub message: String,
    pub sql_state: Option<String>,
}

/// Why the transport layer gave up on a request. Carried inside
/// `reqwest_middleware::Error::Middleware` and recovered by downcasting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TransportError {
    /// No connection could be made.
    #[error("{reason}")]
    Unreachable { reason: String },
    /// Transient failures persisted through every retry.
    #[error("{reason}")]
    GaveUp { attempts: u32, reason: String },
    /// The server refused the request with a non-retryable HTTP status.
    #[error("HTTP {status}: {message}")]
    Rejected {
        status: u16,
        message: String,
        /// Which kind of request was refused.
        endpoint: Endpoint,
    },
    /// A time limit ran out.
    #[error("{phase} timed out after {seconds}s")]
    TimedOut {
        phase: Phase,
        limit: TimeLimit,
        seconds: u64,
        attempts: u32,
    },
}

/// Snowflake's "query still running" reply codes.
const IN_PROGRESS_CODES: [&str; 2] = ["333333", "333334"];

/// Row types `snowflake-api` 0.14 can deserialize; others are presented to
/// it as `text` so that a column of a newer type does not fail the reply.
const KNOWN_TYPES: [&str; 13] = [
    "fixed",
    "real",
    "text",
    "date",
    "variant",
    "timestamp_ltz",
    "timestamp_ntz",
    "timestamp_tz",
    "object",
    "binary",
    "time",
    "boolean",
    "array",
];

/// Which Snowflake endpoint a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `session/v1/login-request`
    Login,
    /// `queries/v1/query-request`
    Query,
    /// `queries/{id}/result` (polling a running query)
    Result,
    /// Anything else (token renewal, session close, result chunks).
    Other,
}

impl Endpoint {
    /// The phase a request to `path` belongs to: logins, session renewals
    /// and closes are the login phase; result polls and result parts the
    /// result fetch.
    pub(crate) fn phase(path: &str) -> Phase {
        match Self::of_path(path) {
            Self::Login => Phase::Login,
            Self::Query => Phase::Submit,
            Self::Result => Phase::Fetch,
            Self::Other if path.contains("/session") => Phase::Login,
            Self::Other => Phase::Fetch,
        }
    }

    /// Whether replies from this endpoint are JSON.
    fn replies_json(&self) -> bool {
        matches!(self, Self::Login | Self::Query | Self::Result)
    }

    /// Classifies a request path.
    pub(crate) fn of_path(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        if path.ends_with("/session/v1/login-request") {
            Self::Login
        } else if path.ends_with("/queries/v1/query-request") {
            Self::Query
        } else if path.contains("/queries/") && path.ends_with("/result") {
            Self::Result
        } else {
            Self::Other
        }
    }
}

/// Retry timing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    /// Wait before the first retry; doubled for each further one.
    pub initial: Duration,
    /// Upper bound of one wait.
    pub max: Duration,
}

impl Backoff {
    /// Production timing: 250 ms doubling up to 8 s.
    pub(crate) const DEFAULT: Backoff = Backoff {
        initial: Duration::from_millis(250),
        max: Duration::from_secs(8),
    };

    fn delay(&self, retry: u32, hint: Option<Duration>) -> Duration {
        let exp = self
            .initial
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
        let base = exp.min(self.max);
        // A little jitter so that parallel callers do not retry in lockstep.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = base.mul_f64(f64::from(nanos % 1000) / 4000.0);
        let wait = base + jitter;
        match hint {
            Some(h) => h.min(self.max.max(Duration::from_secs(1)) * 4).max(wait),
            None => wait,
        }
    }
}

/// The always-installed middleware (see the module docs).
pub(crate) struct Transport {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Retry timing.
    pub backoff: Backoff,
    /// Session parameters added to every login request.
    pub session_parameters: Map<String, Value>,
    /// Longest pause between two polls of a running query.
    pub max_poll_interval: Duration,
    /// Successful-or-not login requests sent so far.
    pub logins: Arc<AtomicU64>,
    /// Bound on one login or session renewal, retries included.
    pub login_timeout: Duration,
    /// The read timeout set on the HTTP client, for messages.
    pub read_timeout: Duration,
    /// The connect timeout set on the HTTP client, for messages.
    pub connect_timeout: Duration,
}

/// A fully read reply.
struct Buffered {
    status: StatusCode,
    version: http::Version,
    headers: HeaderMap,
    body: Bytes,
}

impl Buffered {
    fn into_response(self) -> Response {
        let mut builder = http::Response::builder()
            .status(self.status)
            .version(self.version);
        for (name, value) in &self.headers {
            // The body is already decoded and may have been rewritten.
            if name != header::CONTENT_LENGTH && name != header::CONTENT_ENCODING {
                builder = builder.header(name, value);
            }
        }
        match builder.body(self.body.clone()) {
            Ok(r) => Response::from(r),
            // Unreachable with headers copied from a valid reply; keep the body.
            Err(_) => Response::from(http::Response::new(self.body)),
        }
    }
}

/// Reads a whole reply, so that dropped bodies count as transient failures.
async fn buffer(resp: Response) -> Result<Buffered, reqwest::Error> {
    let status = resp.status();
    let version = resp.version();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?;
    Ok(Buffered {
        status,
        version,
        headers,
        body,
    })
}

/// Rebuilds a buffered reply with a new body.
pub(crate) fn rebuild(resp: &Response, body: Bytes) -> Response {
    Buffered {
        status: resp.status(),
        version: resp.version(),
        headers: resp.headers().clone(),
        body,
    }
    .into_response()
}

/// Reads a reply into memory, then hands it back as a fresh `Response`.
pub(crate) async fn read_reply(resp: Response) -> Result<(Response, Bytes), reqwest::Error> {
    let b = buffer(resp).await?;
    let body = b.body.clone();
    Ok((b.into_response(), body))
}

/// The error and its sources, joined, without the request URL that
/// `reqwest` puts in its own message.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        let text = match text.find(" for url (") {
            Some(i) => text[..i].to_owned(),
            None => text,
        };
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The `message` of a JSON error body, or the start of the body as text.
fn body_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(m) = v.get("message").and_then(Value::as_str)
    {
        return m.to_owned();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    text.chars().take(300).collect()
}

fn retryable_status(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

impl Transport {
    /// Sends `req`, retrying transient failures, and reads the whole reply.
    async fn send(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: &Next<'_>,
    ) -> reqwest_middleware::Result<Buffered> {
        let url_path = &req.url().path().to_owned();
        let endpoint = Endpoint::of_path(url_path);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let Some(this_try) = req.try_clone() else {
                // A streaming body cannot be replayed: send it once.
                let resp = next.clone().run(req, extensions).await?;
                return Ok(buffer(resp).await?);
            };
            let (reason, hint, timed_out) = match next.clone().run(this_try, extensions).await {
                Ok(resp) => {
                    let status = resp.status();
                    let hint = retry_after(resp.headers());
                    match buffer(resp).await {
                        Ok(b)
                            if status.is_success()
                                && endpoint.replies_json()
                                && serde_json::from_slice::<serde::de::IgnoredAny>(&b.body)
                                    .is_err() =>
                        {
                            (
                                format!(
                                    "reply cut short: {} bytes that are not complete JSON",
                                    b.body.len()
                                ),
                                None,
                                false,
                            )
                        }
                        Ok(b) if status.is_success() => return Ok(b),
                        Ok(b) if retryable_status(status) => (
                            format!("HTTP {}: {}", status.as_u16(), body_message(&b.body)),
                            hint,
                            false,
                        ),
                        Ok(b) => {
                            return Err(reqwest_middleware::Error::middleware(
                                TransportError::Rejected {
                                    status: status.as_u16(),
                                    message: body_message(&b.body),
                                    endpoint: Endpoint::of_path(url_path),
                                },
                            ));
                        }
                        Err(e) => (
                            format!("reply cut short: {}", error_chain(&e)),
                            None,
                            e.is_timeout(),
                        ),
                    }
                }
                Err(reqwest_middleware::Error::Reqwest(e)) => {
                    if e.is_connect() && e.is_timeout() {
                        return Err(reqwest_middleware::Error::middleware(
                            TransportError::TimedOut {
                                phase: Phase::Connect,
                                limit: TimeLimit::Connect,
                                seconds: self.connect_timeout.as_secs(),
                                attempts: attempt,
                            },
                        ));
                    }
                    if e.is_connect() {
                        return Err(reqwest_middleware::Error::middleware(
                            TransportError::Unreachable {
                                reason: error_chain(&e),
                            },
                        ));
                    }
                    if e.is_builder() {
                        return Err(reqwest_middleware::Error::Reqwest(e));
                    }
                    // An inner layer may have read the body already.
                    let reason = if e.is_body() || e.is_decode() {
                        format!("reply cut short: {}", error_chain(&e))
                    } else {
                        error_chain(&e)
                    };
                    (reason, None, e.is_timeout())
                }
                Err(other) => return Err(other),
            };
            if attempt > self.retries {
                let error = if timed_out {
                    TransportError::TimedOut {
                        phase: Endpoint::phase(url_path),
                        limit: TimeLimit::Read,
                        seconds: self.read_timeout.as_secs(),
                        attempts: attempt,
                    }
                } else {
                    TransportError::GaveUp {
                        attempts: attempt,
                        reason,
                    }
                };
                return Err(reqwest_middleware::Error::middleware(error));
            }
            tokio::time::sleep(self.backoff.delay(attempt, hint)).await;
        }
    }

    /// [`Transport::send`] for a login-phase request, bounded by the login
    /// timeout (retries included) and timed for the statement deadline.
    async fn send_login(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: &Next<'_>,
    ) -> reqwest_middleware::Result<Buffered> {
        let started = Instant::now();
        with_capture(|slot| slot.login_started = Some(started));
        let result =
            tokio::time::timeout(self.login_timeout, self.send(req, extensions, next)).await;
        with_capture(|slot| {
            slot.login_started = None;
            slot.login_spent += started.elapsed();
        });
        match result {
            Ok(r) => r,
            Err(_) => Err(reqwest_middleware::Error::middleware(
                TransportError::TimedOut {
                    phase: Phase::Login,
                    limit: TimeLimit::Login,
                    seconds: self.login_timeout.as_secs(),
                    attempts: 1,
                },
            )),
        }
    }

    /// Polls a running query's result URL until Snowflake has the result.
    async fn poll_result(
        &self,
        original: &reqwest::Url,
        headers: &HeaderMap,
        first: Value,
        extensions: &mut Extensions,
        next: &Next<'_>,
    ) -> reqwest_middleware::Result<Option<(Buffered, Value)>> {
        let mut reply = first;
        let mut last: Option<Buffered> = None;
        let mut pause = Duration::from_millis(100);
        loop {
            let in_progress = is_in_progress(&reply);
            let result_url = reply
                .get("data")
                .and_then(|d| d.get("getResultUrl"))
                .and_then(Value::as_str);
            let (true, Some(result_url)) = (in_progress, result_url) else {
                return Ok(last.map(|b| (b, reply)));
            };
            let bad_url = |why: String| {
                reqwest_middleware::Error::middleware(TransportError::Rejected {
                    status: 0,
                    message: format!("bad result URL {result_url:?}: {why}"),
                    endpoint: Endpoint::Result,
                })
            };
            let url = original
                .join(result_url)
                .map_err(|e| bad_url(e.to_string()))?;
            // The session token goes with the poll: never to another host.
            if url.origin() != original.origin() {
                return Err(bad_url("points to another host".to_owned()));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(self.max_poll_interval);
            let mut req = Request::new(Method::GET, url);
            for name in [header::AUTHORIZATION, header::ACCEPT] {
                if let Some(v) = headers.get(&name) {
                    req.headers_mut().insert(name, v.clone());
                }
            }
            let b = self.send(req, extensions, next).await?;
            reply = serde_json::from_slice(&b.body).unwrap_or(Value::Null);
            last = Some(b);
        }
    }
}

/// Stores a transport failure in the current call's capture slot, so the
/// caller can classify it however `snowflake-api` wraps it.
fn record_failure<T>(result: reqwest_middleware::Result<T>) -> reqwest_middleware::Result<T> {
    if let Err(reqwest_middleware::Error::Middleware(e)) = &result
        && let Some(t) = e.downcast_ref::<TransportError>()
    {
        with_capture(|slot| slot.transport = Some(t.clone()));
    }
    result
}

/// Fields of a login request or reply that hold credentials or tokens.
const CREDENTIAL_FIELDS: [&str; 9] = [
    "PASSWORD",
    "TOKEN",
    "PASSCODE",
    "token",
    "masterToken",
    "sessionToken",
    "idToken",
    "mfaToken",
    "oldSessionToken",
];

/// Registers with [`crate::redact`] every credential or token in the `data`
/// object of a login-phase request or reply body.
pub(crate) fn register_credentials(body: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let Some(data) = v.get("data").and_then(Value::as_object).or(v.as_object()) else {
        return;
    };
    for field in CREDENTIAL_FIELDS {
        if let Some(secret) = data.get(field).and_then(Value::as_str) {
            crate::redact::register(secret);
        }
    }
}

/// Whether a reply says the query is still running.
fn is_in_progress(reply: &Value) -> bool {
    reply
        .get("code")
        .and_then(Value::as_str)
        .is_some_and(|c| IN_PROGRESS_CODES.contains(&c))
}

/// Adds `params` to the `data.SESSION_PARAMETERS` object of a login body.
/// Returns the new body, or `None` when the body is not a login request.
pub(crate) fn add_session_parameters(body: &[u8], params: &Map<String, Value>) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    let data = v.get_mut("data")?.as_object_mut()?;
    let session = data
        .entry("SESSION_PARAMETERS")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?;
    for (k, val) in params {
        session.insert(k.clone(), val.clone());
    }
    serde_json::to_vec(&v).ok()
}

/// Reads what a query reply says into a [`Captured`].
pub(crate) fn capture_reply(reply: &Value) -> Captured {
    let data = reply.get("data");
    let field = |name: &str| data.and_then(|d| d.get(name));
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let success = reply
        .get("success")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let error = (!success).then(|| ServerError {
        code: text(field("errorCode"))
            .or_else(|| text(reply.get("code")))
            .unwrap_or_else(|| "unknown".to_owned()),
        message: text(reply.get("message")).unwrap_or_else(|| "(no message)".to_owned()),
        sql_state: text(field("sqlState")),
    });
    Captured {
        query_id: text(field("queryId")),
        rowtype: field("rowtype").and_then(|r| serde_json::from_value(r.clone()).ok()),
        total: field("total").and_then(Value::as_i64),
        statement_type_id: field("statementTypeId").and_then(Value::as_i64),
        error,
        transport: None,
        inline_rows: field("rowsetBase64")
            .and_then(Value::as_str)
            .is_some_and(|b| !b.is_empty()),
        ..Captured::default()
    }
}

/// Presents row types `snowflake-api` does not know as `text`. Returns
/// whether anything changed.
pub(crate) fn normalise_rowtypes(reply: &mut Value) -> bool {
    let known: HashSet<&str> = KNOWN_TYPES.into_iter().collect();
    let Some(rowtype) = reply
        .get_mut("data")
        .and_then(|d| d.get_mut("rowtype"))
        .and_then(Value::as_array_mut)
    else {
        return false;
    };
    let mut changed = false;
    for col in rowtype {
        if let Some(t) = col.get_mut("type")
            && let Some(name) = t.as_str()
            && !known.contains(name)
        {
            *t = Value::String("text".to_owned());
            changed = true;
        }
    }
    changed
}

#[async_trait::async_trait]
impl Middleware for Transport {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        // snowflake-api builds the token-renewal URL with a double slash.
        if req.url().path().starts_with("//") {
            let path = format!("/{}", req.url().path().trim_start_matches('/'));
            req.url_mut().set_path(&path);
        }
        let endpoint = Endpoint::of_path(req.url().path());
        let phase = Endpoint::phase(req.url().path());
        with_capture(|slot| slot.phase = Some(phase));
        if phase == Phase::Login
            && let Some(body) = req.body().and_then(|b| b.as_bytes())
        {
            register_credentials(body);
        }
        if endpoint == Endpoint::Login {
            self.logins.fetch_add(1, Ordering::SeqCst);
            if !self.session_parameters.is_empty()
                && let Some(new_body) = req
                    .body()
                    .and_then(|b| b.as_bytes())
                    .and_then(|b| add_session_parameters(b, &self.session_parameters))
            {
                *req.body_mut() = Some(new_body.into());
            }
        }
        let url = req.url().clone();
        let headers = req.headers().clone();
        let mut reply = if phase == Phase::Login {
            record_failure(self.send_login(req, extensions, &next).await)?
        } else {
            record_failure(self.send(req, extensions, &next).await)?
        };
        if phase == Phase::Login {
            register_credentials(&reply.body);
        }
        if !matches!(endpoint, Endpoint::Query | Endpoint::Result) {
            return Ok(reply.into_response());
        }
        let Ok(mut json) = serde_json::from_slice::<Value>(&reply.body) else {
            return Ok(reply.into_response());
        };
        if is_in_progress(&json) {
            match record_failure(
                self.poll_result(&url, &headers, json, extensions, &next)
                    .await,
            )? {
                Some((polled, polled_json)) => {
                    reply = polled;
                    json = polled_json;
                }
                // "In progress" without a result URL: nothing to poll.
                None => return Ok(reply.into_response()),
            }
        }
        let captured = capture_reply(&json);
        // Outside a capture scope (e.g. session close) there is nowhere to store it.
        with_capture(|slot| {
            *slot = Captured {
                phase: slot.phase,
                login_spent: slot.login_spent,
                login_started: slot.login_started,
                ..captured
            }
        });
        if normalise_rowtypes(&mut json)
            && let Ok(body) = serde_json::to_vec(&json)
        {
            reply.body = Bytes::from(body);
        }
        Ok(reply.into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_endpoints() {
        assert_eq!(
            Endpoint::of_path("/session/v1/login-request"),
            Endpoint::Login
        );
        assert_eq!(
            Endpoint::of_path("/prefix/queries/v1/query-request"),
            Endpoint::Query
        );
        assert_eq!(
            Endpoint::of_path("/queries/01b2-abc/result"),
            Endpoint::Result
        );
        assert_eq!(Endpoint::of_path("/session"), Endpoint::Other);
        assert_eq!(Endpoint::of_path("/session/token-request"), Endpoint::Other);
    }

    #[test]
    fn session_parameters_are_merged_into_login_body() {
        let body = json!({"data": {"LOGIN_NAME": "U", "PASSWORD": "pw",
            "SESSION_PARAMETERS": {"CLIENT_VALIDATE_DEFAULT_PARAMETERS": true}}});
        let mut params = Map::new();
        params.insert("QUERY_TAG".into(), json!("cio-sql run 7"));
        params.insert("STATEMENT_TIMEOUT_IN_SECONDS".into(), json!(60));
        let out = add_session_parameters(&serde_json::to_vec(&body).unwrap(), &params).unwrap();
        let out: Value = serde_json::from_slice(&out).unwrap();
        let sp = &out["data"]["SESSION_PARAMETERS"];
        assert_eq!(sp["QUERY_TAG"], "cio-sql run 7");
        assert_eq!(sp["STATEMENT_TIMEOUT_IN_SECONDS"], 60);
        assert_eq!(sp["CLIENT_VALIDATE_DEFAULT_PARAMETERS"], true);
        assert_eq!(out["data"]["LOGIN_NAME"], "U");
        assert!(add_session_parameters(b"not json", &params).is_none());
    }

    #[test]
    fn captures_success_and_error_replies() {
        let ok = json!({"success": true, "data": {
            "queryId": "q-1", "total": 2, "statementTypeId": 4096,
            "rowtype": [{"name": "ID", "type": "fixed", "scale": 0, "nullable": true},
                        {"name": "TS", "type": "timestamp_ntz", "scale": 9}]}});
        let c = capture_reply(&ok);
        assert_eq!(c.query_id.as_deref(), Some("q-1"));
        assert_eq!(c.total, Some(2));
        assert_eq!(c.statement_type_id, Some(4096));
        let rt = c.rowtype.unwrap();
        assert_eq!(rt[1].name, "TS");
        assert_eq!(rt[1].type_, "timestamp_ntz");
        assert_eq!(rt[1].scale, Some(9));
        assert!(c.error.is_none());

        let err = json!({"success": false, "code": "002003", "message": "Table 'X' does not exist",
            "data": {"errorCode": "002003", "sqlState": "42S02", "queryId": "q-2"}});
        let c = capture_reply(&err);
        assert_eq!(
            c.error,
            Some(ServerError {
                code: "002003".into(),
                message: "Table 'X' does not exist".into(),
                sql_state: Some("42S02".into()),
            })
        );
        assert_eq!(c.query_id.as_deref(), Some("q-2"));
    }

    #[test]
    fn unknown_row_types_become_text() {
        let mut v = json!({"data": {"rowtype": [
            {"name": "G", "type": "geography"}, {"name": "N", "type": "fixed"}]}});
        assert!(normalise_rowtypes(&mut v));
        assert_eq!(v["data"]["rowtype"][0]["type"], "text");
        assert_eq!(v["data"]["rowtype"][1]["type"], "fixed");
        assert!(!normalise_rowtypes(&mut v));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
        };
        let d1 = b.delay(1, None);
        let d3 = b.delay(3, None);
        let d9 = b.delay(9, None);
        assert!(d1 >= Duration::from_millis(100) && d1 < Duration::from_millis(130));
        assert!(d3 >= Duration::from_millis(400) && d3 < Duration::from_millis(500));
        assert!(d9 < Duration::from_millis(500));
        // Retry-After is honoured but bounded.
        assert!(b.delay(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert!(b.delay(1, Some(Duration::from_secs(3600))) <= Duration::from_secs(4));
    }

    #[test]
    fn body_message_prefers_json_message() {
        assert_eq!(
            body_message(br#"{"message": "overloaded", "code": "x"}"#),
            "overloaded"
        );
        assert_eq!(body_message(b"  "), "(empty body)");
        assert_eq!(body_message(b"Bad gateway"), "Bad gateway");
    }
}
