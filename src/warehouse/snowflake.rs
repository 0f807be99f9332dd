//! [`SnowflakeWarehouse`]: the [`Warehouse`] backed by `snowflake-api`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use snowflake_api::connection::ConnectionError;
use snowflake_api::{
    AuthArgs, AuthType, CertificateArgs, PasswordArgs, RawQueryResult, SnowflakeApi,
    SnowflakeApiBuilder, SnowflakeApiError,
};

use super::config::{self, AuthMethod, SnowflakeConfig};
use super::convert::{arrow_rows, json_rows};
use super::emulator::HostOverride;
use super::error::{Phase, TimeLimit, WarehouseError};
use super::ipc::decode_stream;
use super::keypair::{inline_private_key_pem, load_private_key_pem};
use super::transport::{
    Backoff, CAPTURE, Captured, Endpoint, RowTypeField, Transport, TransportError,
};
use super::{Executed, Rows, Warehouse};
use crate::sql;

/// Extra time the client waits beyond the statement timeout before giving
/// up itself, so that Snowflake's own timeout error (which carries the query
/// id) normally wins. Documented in README.md ("Time bounds").
const CLIENT_GRACE: Duration = Duration::from_secs(15);

/// How long closing the session may take when the warehouse is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Snowflake's error code for a statement cancelled by its timeout.
const STATEMENT_TIMEOUT_CODE: &str = "000630";

/// Snowflake statement type ids: SELECT, and the DML range (INSERT,
/// UPDATE, DELETE, MERGE, multi-table INSERT).
const SELECT_TYPE_ID: i64 = 0x1000;
const DML_TYPE_IDS: std::ops::RangeInclusive<i64> = 0x3000..=0x3500;

/// Retry and timeout timing of a [`SnowflakeWarehouse`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// Backoff between retries of transient failures.
    pub backoff: Backoff,
    /// Extra client-side wait beyond the statement timeout.
    pub client_grace: Duration,
}

impl Tuning {
    /// Production timing.
    pub(crate) const DEFAULT: Tuning = Tuning {
        backoff: Backoff::DEFAULT,
        client_grace: CLIENT_GRACE,
    };
}

/// A Snowflake connection that runs statements synchronously.
///
/// [`SnowflakeWarehouse::connect`] logs in at once (so bad credentials or an
/// unreachable host fail immediately), then sets the configured role,
/// warehouse, database and schema with `USE` statements. One Snowflake
/// session is kept for the life of the value: the session token is renewed
/// by `snowflake-api` when needed, and `QUERY_TAG` and
/// `STATEMENT_TIMEOUT_IN_SECONDS` are sent as login session parameters, so
/// every statement carries them. Dropping the value closes the session.
///
/// Calls block the calling thread on a private multi-thread tokio runtime;
/// they may come from several threads at once, but not from inside an async
/// runtime (that returns [`WarehouseError::Config`]).
pub struct SnowflakeWarehouse {
    api: SnowflakeApi,
    runtime: tokio::runtime::Runtime,
    host: String,
    user: String,
    statement_timeout_secs: u64,
    client_grace: Duration,
    logins: Arc<AtomicU64>,
    /// Held around each statement in emulator mode (see `connect`).
    one_at_a_time: Option<Mutex<()>>,
}

impl std::fmt::Debug for SnowflakeWarehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnowflakeWarehouse")
            .field("host", &self.host)
            .field("user", &self.user)
            .field("statement_timeout_secs", &self.statement_timeout_secs)
            .finish_non_exhaustive()
    }
}

impl SnowflakeWarehouse {
    /// Connects, logs in and prepares the session (see the type docs).
    pub fn connect(config: &SnowflakeConfig) -> Result<Self, WarehouseError> {
        Self::connect_tuned(config, Tuning::DEFAULT)
    }

    /// Like [`SnowflakeWarehouse::connect`] with other retry and timeout
    /// timing (tests use short ones).
    pub(crate) fn connect_tuned(
        config: &SnowflakeConfig,
        tuning: Tuning,
    ) -> Result<Self, WarehouseError> {
        config.register_secrets();
        Self::connect_inner(config, tuning).map_err(WarehouseError::redact)
    }

    fn connect_inner(config: &SnowflakeConfig, tuning: Tuning) -> Result<Self, WarehouseError> {
        let method = config.validate()?;
        ensure_not_async()?;
        let host = config.display_host();
        let user = config.user.clone();

        let auth_type = match method {
            AuthMethod::Password => AuthType::Password(PasswordArgs {
                password: config
                    .password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
                    .unwrap_or_default(),
            }),
            AuthMethod::KeyPair => {
                let passphrase = config.private_key_passphrase.as_ref();
                // validate() guarantees a path or an inline key.
                let pem = match (&config.private_key, config.private_key_path.as_deref()) {
                    (Some(inline), _) => inline_private_key_pem(inline.expose(), passphrase),
                    (None, path) => load_private_key_pem(
                        path.unwrap_or_else(|| std::path::Path::new("")),
                        passphrase,
                    ),
                }
                .map_err(|message| WarehouseError::Authentication {
                    host: host.clone(),
                    user: user.clone(),
                    message,
                })?;
                AuthType::Certificate(CertificateArgs {
                    private_key_pem: pem.to_string(),
                })
            }
        };

        // Login parameters are upper-cased by snowflake-api, which matches
        // unquoted names only; other names are set by `USE` alone.
        let login_param = |v: &Option<String>| v.clone().filter(|n| sql::is_plain_identifier(n));
        let auth = AuthArgs {
            account_identifier: config.account.clone(),
            warehouse: login_param(&config.warehouse),
            database: login_param(&config.database),
            schema: login_param(&config.schema),
            username: config.user.clone(),
            role: login_param(&config.role),
            auth_type,
        };

        let mut session_parameters = Map::new();
        if let Some(tag) = &config.query_tag {
            session_parameters.insert("QUERY_TAG".to_owned(), json!(tag));
        }
        if config.statement_timeout_secs > 0 {
            session_parameters.insert(
                "STATEMENT_TIMEOUT_IN_SECONDS".to_owned(),
                json!(config.statement_timeout_secs),
            );
        }
        let logins = Arc::new(AtomicU64::new(0));
        let mut http = reqwest::Client::builder()
            .user_agent(concat!("cio-sql/", env!("CARGO_PKG_VERSION")))
            .gzip(true)
            .referer(false)
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
            .read_timeout(Duration::from_secs(config.read_timeout_secs));
        if let Some(proxy) = &config.proxy {
            // Credentials in the URL go as Proxy-Authorization (basic).
            let proxy = reqwest::Proxy::all(proxy.as_str()).map_err(|_| {
                WarehouseError::Config(format!(
                    "proxy {:?} cannot be used",
                    config::without_userinfo(proxy)
                ))
            })?;
            http = http.proxy(proxy);
        }
        let http = http
            .build()
            .map_err(|e| WarehouseError::Config(format!("cannot build the HTTP client: {e}")))?;
        let mut client = reqwest_middleware::ClientBuilder::new(http).with(Transport {
            retries: config.retries,
            backoff: tuning.backoff,
            session_parameters,
            max_poll_interval: Duration::from_secs(2),
            logins: Arc::clone(&logins),
            login_timeout: Duration::from_secs(config.login_timeout_secs),
            read_timeout: Duration::from_secs(config.read_timeout_secs),
            connect_timeout: Duration::from_secs(config.connect_timeout_secs),
        });
        if let Some(base) = config.base_url().map_err(WarehouseError::Config)? {
            let rewrite = HostOverride::new(
                &config.account,
                &base,
                config.role.as_deref(),
                config.emulator.is_some(),
            )
            .map_err(WarehouseError::Config)?;
            client = client.with(rewrite);
        }

        let api = SnowflakeApiBuilder::new(auth)
            .with_client(client.build())
            .build()
            .map_err(|e| WarehouseError::Config(format!("cannot set up the client: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cio-sql-snowflake")
            .enable_all()
            .build()
            .map_err(|e| WarehouseError::Config(format!("cannot start the async runtime: {e}")))?;

        let wh = Self {
            api,
            runtime,
            host,
            user,
            statement_timeout_secs: config.statement_timeout_secs,
            client_grace: tuning.client_grace,
            logins,
            // fakesnow refuses a statement while another one runs on the
            // same session ("connection is busy"), where Snowflake runs
            // them concurrently; with `emulator: fakesnow`, statements of
            // one client take turns.
            one_at_a_time: config.emulator.is_some().then(|| Mutex::new(())),
        };
        wh.set_up_session(config)?;
        Ok(wh)
    }

    /// Logs in (through the first statement) and applies `USE` statements.
    /// A `USE` that Snowflake refuses says which setting it came from: the
    /// object is missing, misnamed or not granted, not a model's SQL.
    fn set_up_session(&self, config: &SnowflakeConfig) -> Result<(), WarehouseError> {
        let uses: Vec<(String, &str, &str)> = [
            ("ROLE", "role", &config.role),
            ("WAREHOUSE", "warehouse", &config.warehouse),
            ("DATABASE", "database", &config.database),
            ("SCHEMA", "schema", &config.schema),
        ]
        .into_iter()
        .filter_map(|(kind, key, name)| {
            name.as_ref().map(|n| {
                (
                    format!("USE {kind} {}", sql::quoted_resolved(n)),
                    key,
                    n.as_str(),
                )
            })
        })
        .collect();
        if uses.is_empty() {
            // Nothing to set: log in with a trivial statement to fail fast.
            self.run("SELECT 1", self.client_timeout())?;
        }
        for (statement, key, name) in &uses {
            self.run(statement, self.client_timeout())
                .map_err(|e| match e {
                    WarehouseError::Sql {
                        code,
                        sql_state,
                        message,
                        query_id,
                    } => WarehouseError::Sql {
                        message: format!(
                            "`{statement}` failed: the {key} `{name}` of the target does not exist, is misnamed, or the role cannot use it ({message})"
                        ),
                        code,
                        sql_state,
                        query_id,
                    },
                    other => other,
                })?;
        }
        Ok(())
    }

    /// How many times this client has logged in. Stays at 1 while the one
    /// session is kept.
    pub fn login_count(&self) -> u64 {
        self.logins.load(Ordering::SeqCst)
    }

    /// The host (or override base URL) this client talks to.
    pub fn host(&self) -> &str {
        &self.host
    }

    fn client_timeout(&self) -> Option<Duration> {
        (self.statement_timeout_secs > 0)
            .then(|| Duration::from_secs(self.statement_timeout_secs) + self.client_grace)
    }

    /// Runs one statement and returns its raw result and what the transport
    /// layer captured.
    ///
    /// `timeout` bounds the statement end to end (retries and polls
    /// included) but not the time spent logging in, which the login timeout
    /// bounds on its own: the deadline moves by the login time.
    fn run(
        &self,
        sql: &str,
        timeout: Option<Duration>,
    ) -> Result<(RawQueryResult, Captured), WarehouseError> {
        ensure_not_async()?;
        if sql.trim().is_empty() {
            return Err(WarehouseError::Config("empty SQL statement".to_owned()));
        }
        let _turn = self
            .one_at_a_time
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()));
        let slot = Arc::new(Mutex::new(Captured::default()));
        let login_time = || {
            slot.lock()
                .map(|c| c.login_time())
                .unwrap_or(Duration::ZERO)
        };
        let call = async {
            let exec = self.api.exec_raw(sql);
            let Some(limit) = timeout else {
                return Some(exec.await);
            };
            tokio::pin!(exec);
            let started = tokio::time::Instant::now();
            loop {
                let deadline = started + limit + login_time();
                tokio::select! {
                    result = &mut exec => return Some(result),
                    () = tokio::time::sleep_until(deadline) => {
                        if started + limit + login_time() <= tokio::time::Instant::now() {
                            return None;
                        }
                    }
                }
            }
        };
        let outcome = self
            .runtime
            .block_on(CAPTURE.scope(Arc::clone(&slot), call));
        let captured = slot.lock().map(|c| c.clone()).unwrap_or_default();
        let result = match outcome {
            None => Err(WarehouseError::Timeout {
                phase: captured.phase.unwrap_or(Phase::Submit),
                limit: TimeLimit::Statement,
                seconds: self.statement_timeout_secs,
                host: self.host.clone(),
                attempts: 1,
                query_id: captured.query_id.clone(),
            }),
            Some(Err(e)) => Err(self.classify(e, &captured)),
            Some(Ok(r)) => Ok((r, captured)),
        };
        result.map_err(WarehouseError::redact)
    }

    /// Sorts a `snowflake-api` error into a [`WarehouseError`].
    fn classify(&self, err: SnowflakeApiError, captured: &Captured) -> WarehouseError {
        let auth = |message: String| WarehouseError::Authentication {
            host: self.host.clone(),
            user: self.user.clone(),
            message,
        };
        let protocol = |reason: String| WarehouseError::Protocol {
            host: self.host.clone(),
            reason,
        };
        if let Some(t) = &captured.transport {
            return self.transport_error(t);
        }
        match err {
            SnowflakeApiError::ApiError(code, message) => {
                self.server_error(code, message, captured)
            }
            SnowflakeApiError::AuthError(e) => {
                // The login error type is private to snowflake-api; its
                // transport failures were captured above, a reply it could
                // not parse shows as `RequestError(..)`, anything else (login
                // refused, key unusable) is an authentication failure.
                if format!("{e:?}").starts_with("RequestError(") {
                    protocol(format!("login reply not understood: {e}"))
                } else {
                    auth(e.to_string())
                }
            }
            SnowflakeApiError::RequestError(conn) => self.connection_error(&conn, captured),
            SnowflakeApiError::ArrowError(e) => protocol(format!("bad Arrow result: {e}")),
            SnowflakeApiError::ResponseDeserializationError(e) => {
                protocol(format!("bad base64 result: {e}"))
            }
            other => match &captured.error {
                Some(e) => self.server_error(e.code.clone(), e.message.clone(), captured),
                None => protocol(other.to_string()),
            },
        }
    }

    fn server_error(&self, code: String, message: String, captured: &Captured) -> WarehouseError {
        if code == STATEMENT_TIMEOUT_CODE {
            return WarehouseError::Timeout {
                phase: captured.phase.unwrap_or(Phase::Submit),
                limit: TimeLimit::Statement,
                seconds: self.statement_timeout_secs,
                host: self.host.clone(),
                attempts: 1,
                query_id: captured.query_id.clone(),
            };
        }
        if code.starts_with("390") {
            return WarehouseError::Authentication {
                host: self.host.clone(),
                user: self.user.clone(),
                message: format!("{message} (code {code})"),
            };
        }
        WarehouseError::Sql {
            sql_state: captured.error.as_ref().and_then(|e| e.sql_state.clone()),
            code,
            message,
            query_id: captured.query_id.clone(),
        }
    }

    fn connection_error(&self, err: &ConnectionError, captured: &Captured) -> WarehouseError {
        let host = self.host.clone();
        let reqwest_error = |e: &reqwest::Error| {
            if let Some(se) = &captured.error {
                // An error reply that snowflake-api could not parse.
                self.server_error(se.code.clone(), se.message.clone(), captured)
            } else if e.is_decode() {
                WarehouseError::Protocol {
                    host: host.clone(),
                    reason: format!(
                        "reply not understood ({})",
                        super::transport::error_chain(e)
                    ),
                }
            } else if e.is_connect() {
                WarehouseError::Connection {
                    host: host.clone(),
                    reason: super::transport::error_chain(e),
                }
            } else {
                WarehouseError::Transient {
                    host: host.clone(),
                    attempts: 1,
                    reason: super::transport::error_chain(e),
                }
            }
        };
        match err {
            ConnectionError::RequestMiddlewareError(reqwest_middleware::Error::Middleware(e)) => {
                match e.downcast_ref::<TransportError>() {
                    Some(t) => self.transport_error(t),
                    None => WarehouseError::Protocol {
                        host,
                        reason: super::transport::error_chain(e.as_ref()),
                    },
                }
            }
            ConnectionError::RequestMiddlewareError(reqwest_middleware::Error::Reqwest(e))
            | ConnectionError::RequestError(e) => reqwest_error(e),
            ConnectionError::Deserialization(e) => match &captured.error {
                // The reply was an error that snowflake-api could not parse.
                Some(se) => self.server_error(se.code.clone(), se.message.clone(), captured),
                None => WarehouseError::Protocol {
                    host,
                    reason: format!("reply not understood ({e})"),
                },
            },
            other => WarehouseError::Protocol {
                host,
                reason: other.to_string(),
            },
        }
    }

    fn transport_error(&self, err: &TransportError) -> WarehouseError {
        let host = self.host.clone();
        match err {
            TransportError::Unreachable { reason } => WarehouseError::Connection {
                host,
                reason: reason.clone(),
            },
            TransportError::GaveUp {
                attempts, reason, ..
            } => WarehouseError::Transient {
                host,
                attempts: *attempts,
                reason: reason.clone(),
            },
            TransportError::TimedOut {
                phase,
                limit,
                seconds,
                attempts,
            } => WarehouseError::Timeout {
                phase: *phase,
                limit: *limit,
                seconds: *seconds,
                host,
                attempts: *attempts,
                query_id: None,
            },
            TransportError::Rejected {
                status,
                message,
                endpoint,
            } if matches!(status, 401 | 403) && *endpoint != Endpoint::Other => {
                WarehouseError::Authentication {
                    host,
                    user: self.user.clone(),
                    message: format!("HTTP {status}: {message}"),
                }
            }
            TransportError::Rejected {
                status,
                message,
                endpoint: Endpoint::Other,
            } => WarehouseError::Protocol {
                host,
                reason: format!(
                    "HTTP {status} fetching a result part or renewing the session: {message}"
                ),
            },
            TransportError::Rejected {
                status, message, ..
            } => WarehouseError::Protocol {
                host,
                reason: format!("HTTP {status}: {message}"),
            },
        }
    }
}

fn ensure_not_async() -> Result<(), WarehouseError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(WarehouseError::Config(
            "the Snowflake warehouse is synchronous and cannot be called from inside an async \
             runtime; call it from a plain thread (e.g. tokio::task::spawn_blocking)"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Column descriptions for a JSON result without a captured row type.
fn rowtype_from_schema(schema: &[snowflake_api::FieldSchema]) -> Vec<RowTypeField> {
    schema
        .iter()
        .map(|f| {
            // The type enum is not nameable outside snowflake-api; its Debug
            // name (`TimestampNtz`) is turned into the wire name.
            let debug = format!("{:?}", f.type_);
            let mut wire = String::new();
            for (i, c) in debug.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    wire.push('_');
                }
                wire.push(c.to_ascii_lowercase());
            }
            RowTypeField {
                name: f.name.clone(),
                type_: wire,
                scale: f.scale,
            }
        })
        .collect()
}

/// Converts a raw result into [`Rows`].
fn to_rows(result: RawQueryResult, captured: &Captured) -> Result<Rows, String> {
    let rowtype = captured.rowtype.as_deref();
    let (columns, rows) = match result {
        RawQueryResult::Bytes(mut chunks) => {
            // snowflake-api puts the inline first part after the downloaded
            // chunks; restore the server's row order.
            if captured.inline_rows && chunks.len() > 1 {
                chunks.rotate_right(1);
            }
            let mut batches = Vec::new();
            for chunk in &chunks {
                batches.extend(decode_stream(chunk)?);
            }
            arrow_rows(&batches, rowtype)?
        }
        RawQueryResult::Json(j) => {
            let fallback;
            let rt = match rowtype {
                Some(rt) if rt.len() == j.schema.len() => rt,
                _ => {
                    fallback = rowtype_from_schema(&j.schema);
                    &fallback
                }
            };
            json_rows(&j.value, rt)?
        }
        RawQueryResult::Empty => (
            rowtype
                .map(|r| r.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default(),
            Vec::new(),
        ),
    };
    Ok(Rows {
        columns,
        rows,
        query_id: captured.query_id.clone(),
    })
}

/// Rows affected by a DML statement: the sum of its `number of rows …`
/// result columns.
fn dml_row_count(rows: &Rows) -> Option<u64> {
    let first = rows.rows.first()?;
    let mut total: u64 = 0;
    let mut any = false;
    for (name, value) in rows.columns.iter().zip(first) {
        if name.to_ascii_lowercase().starts_with("number of ") {
            let n = match value {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }?;
            total = total.saturating_add(n);
            any = true;
        }
    }
    any.then_some(total)
}

impl Warehouse for SnowflakeWarehouse {
    fn execute(&self, sql: &str) -> Result<Executed, WarehouseError> {
        let (result, captured) = self.run(sql, self.client_timeout())?;
        let kind = captured.statement_type_id;
        let rows = match kind {
            Some(k) if DML_TYPE_IDS.contains(&k) => {
                let rows =
                    to_rows(result, &captured).map_err(|reason| WarehouseError::Protocol {
                        host: self.host.clone(),
                        reason,
                    })?;
                dml_row_count(&rows)
            }
            Some(SELECT_TYPE_ID) => captured.total.and_then(|t| u64::try_from(t).ok()),
            _ => None,
        };
        Ok(Executed {
            query_id: captured.query_id,
            rows,
        })
    }

    fn query(&self, sql: &str) -> Result<Rows, WarehouseError> {
        let (result, captured) = self.run(sql, self.client_timeout())?;
        to_rows(result, &captured).map_err(|reason| {
            WarehouseError::Protocol {
                host: self.host.clone(),
                reason,
            }
            .redact()
        })
    }
}

impl Drop for SnowflakeWarehouse {
    fn drop(&mut self) {
        if self.login_count() == 0 || ensure_not_async().is_err() {
            return;
        }
        let api = &mut self.api;
        // Best effort: the session also expires on its own.
        let _ = self
            .runtime
            .block_on(async { tokio::time::timeout(CLOSE_TIMEOUT, api.close_session()).await });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dml_counts_sum_number_of_columns() {
        let rows = Rows {
            columns: vec![
                "number of rows updated".into(),
                "number of multi-joined rows updated".into(),
            ],
            rows: vec![vec![json!(3), json!("2")]],
            query_id: None,
        };
        assert_eq!(dml_row_count(&rows), Some(5));
        let status = Rows {
            columns: vec!["status".into()],
            rows: vec![vec![json!("ok")]],
            query_id: None,
        };
        assert_eq!(dml_row_count(&status), None);
        assert_eq!(dml_row_count(&Rows::default()), None);
    }

    #[test]
    fn statement_type_ranges() {
        assert!(DML_TYPE_IDS.contains(&0x3100));
        assert!(DML_TYPE_IDS.contains(&0x3400));
        assert!(
            !DML_TYPE_IDS.contains(&0x3600),
            "COPY reports its own columns"
        );
        assert!(!DML_TYPE_IDS.contains(&SELECT_TYPE_ID));
    }
}
