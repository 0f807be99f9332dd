//! [`WarehouseError`]: what can go wrong talking to a warehouse, sorted by
//! what the caller should do about it.

/// An error from a [`Warehouse`](super::Warehouse).
///
/// Messages never contain a secret: they are built from Snowflake's replies
/// and transport errors and scrubbed ([`crate::redact`]) before they are
/// returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarehouseError {
    /// The host could not be reached at all (DNS failure, connection
    /// refused, TLS failure). Not retried: the configuration is probably
    /// wrong.
    #[error("cannot reach Snowflake at {host}: {reason}")]
    Connection {
        /// Host (or override base URL) that was tried.
        host: String,
        /// What the network stack said.
        reason: String,
    },

    /// Login was refused, or the session became invalid.
    #[error("Snowflake authentication failed for user {user} at {host}: {message}")]
    Authentication {
        /// Host (or override base URL) that refused the login.
        host: String,
        /// Login name (not secret).
        user: String,
        /// Snowflake's message, or a description of the local problem
        /// (e.g. an unreadable private key).
        message: String,
    },

    /// Snowflake rejected or failed the statement.
    #[error("Snowflake SQL error {code}{}: {message}", query_id_suffix(.query_id))]
    Sql {
        /// Snowflake's error code, e.g. `002003`.
        code: String,
        /// ANSI SQL state, e.g. `42S02`, when Snowflake sent one.
        sql_state: Option<String>,
        /// Snowflake's message.
        message: String,
        /// Query id of the failed statement, when known.
        query_id: Option<String>,
    },

    /// A time limit ran out: the statement timeout, or a bound on one
    /// network phase (connect, login, waiting for a reply).
    #[error("{}", timeout_message(.phase, .limit, *.seconds, .host, *.attempts, .query_id))]
    Timeout {
        /// What the client was doing when the time ran out.
        phase: Phase,
        /// Which limit ran out (it names the setting that governs it).
        limit: TimeLimit,
        /// The limit, in seconds.
        seconds: u64,
        /// Host (or override base URL).
        host: String,
        /// Requests sent in the phase (more than 1 when stalls were retried).
        attempts: u32,
        /// Query id, when known.
        query_id: Option<String>,
    },

    /// A failure that may go away on its own (HTTP 5xx/429, dropped
    /// connection); reported only after the configured retries with
    /// exponential backoff were used up.
    #[error("transient Snowflake failure at {host} after {attempts} attempt(s): {reason}")]
    Transient {
        /// Host (or override base URL).
        host: String,
        /// How many requests were sent in total.
        attempts: u32,
        /// The last failure.
        reason: String,
    },

    /// Snowflake (or an emulator) answered something this client does not
    /// understand.
    #[error("unexpected reply from Snowflake at {host}: {reason}")]
    Protocol {
        /// Host (or override base URL).
        host: String,
        /// What could not be understood.
        reason: String,
    },

    /// The configuration is unusable; nothing was sent.
    #[error("invalid Snowflake configuration: {0}")]
    Config(String),
}

/// What the client was doing when a time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Opening the TCP (and TLS) connection.
    Connect,
    /// Logging in, or renewing the session.
    Login,
    /// Sending a statement and waiting for Snowflake's reply to it.
    Submit,
    /// Polling a running statement, or downloading result parts.
    Fetch,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::Login => "login",
            Phase::Submit => "statement submit",
            Phase::Fetch => "result fetch",
        })
    }
}

/// A time limit of the client, each governed by one `profiles.yml` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// `connect_timeout_seconds`: one TCP/TLS connection.
    Connect,
    /// `login_timeout_seconds`: one login, retries included.
    Login,
    /// `read_timeout_seconds`: silence while waiting for a reply's next bytes.
    Read,
    /// `statement_timeout_seconds`: one statement, end to end (on the client,
    /// plus a grace), or Snowflake's own cancellation.
    Statement,
}

impl TimeLimit {
    /// The `profiles.yml` key that sets this limit.
    pub fn setting(&self) -> &'static str {
        use crate::settings as config;
        match self {
            TimeLimit::Connect => config::CONNECT_TIMEOUT.key,
            TimeLimit::Login => config::LOGIN_TIMEOUT.key,
            TimeLimit::Read => config::READ_TIMEOUT.key,
            TimeLimit::Statement => config::STATEMENT_TIMEOUT.key,
        }
    }
}

fn timeout_message(
    phase: &Phase,
    limit: &TimeLimit,
    seconds: u64,
    host: &str,
    attempts: u32,
    query_id: &Option<String>,
) -> String {
    let setting = limit.setting();
    let tries = if attempts > 1 {
        format!(", {attempts} attempts")
    } else {
        String::new()
    };
    let qid = query_id_suffix(query_id);
    match limit {
        TimeLimit::Connect => format!(
            "connecting to Snowflake at {host} timed out after {seconds}s (connect phase; limit `{setting}`{tries})"
        ),
        TimeLimit::Login => format!(
            "login to Snowflake at {host} timed out after {seconds}s (login phase; limit `{setting}`)"
        ),
        TimeLimit::Read => format!(
            "Snowflake at {host} sent nothing for {seconds}s ({phase} phase; limit `{setting}`{tries}){qid}"
        ),
        TimeLimit::Statement => format!(
            "Snowflake statement timed out after {seconds}s ({phase} phase; limit `{setting}`){qid}"
        ),
    }
}

fn query_id_suffix(query_id: &Option<String>) -> String {
    match query_id {
        Some(id) if !id.is_empty() => format!(" (query id {id})"),
        _ => String::new(),
    }
}

impl WarehouseError {
    /// Whether retrying the same call later might succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::Timeout { .. })
    }

    /// The query id carried by the error, when known.
    pub fn query_id(&self) -> Option<&str> {
        match self {
            Self::Sql { query_id, .. } | Self::Timeout { query_id, .. } => query_id.as_deref(),
            _ => None,
        }
    }

    /// The error with every secret known to the process masked in its
    /// text ([`crate::redact::scrub_reply`]: it holds server text).
    pub(crate) fn redact(self) -> Self {
        let r = crate::redact::scrub_reply_string;
        match self {
            Self::Connection { host, reason } => Self::Connection {
                host: r(host),
                reason: r(reason),
            },
            Self::Authentication {
                host,
                user,
                message,
            } => Self::Authentication {
                host: r(host),
                user: r(user),
                message: r(message),
            },
            Self::Sql {
                code,
                sql_state,
                message,
                query_id,
            } => Self::Sql {
                code: r(code),
                sql_state: sql_state.map(r),
                message: r(message),
                query_id: query_id.map(r),
            },
            Self::Timeout {
                phase,
                limit,
                seconds,
                host,
                attempts,
                query_id,
            } => Self::Timeout {
                phase,
                limit,
                seconds,
                host: r(host),
                attempts,
                query_id: query_id.map(r),
            },
            Self::Transient {
                host,
                attempts,
                reason,
            } => Self::Transient {
                host: r(host),
                attempts,
                reason: r(reason),
            },
            Self::Protocol { host, reason } => Self::Protocol {
                host: r(host),
                reason: r(reason),
            },
            Self::Config(m) => Self::Config(r(m)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_error_mentions_code_and_query_id() {
        let e = WarehouseError::Sql {
            code: "002003".into(),
            sql_state: Some("42S02".into()),
            message: "Object 'X' does not exist".into(),
            query_id: Some("01b2".into()),
        };
        assert_eq!(
            e.to_string(),
            "Snowflake SQL error 002003 (query id 01b2): Object 'X' does not exist"
        );
        assert_eq!(e.query_id(), Some("01b2"));
        assert!(!e.is_transient());
    }

    #[test]
    fn redaction_scrubs_every_field() {
        let secret = "p@ss w0rd-Error";
        crate::redact::register(secret);
        let e = WarehouseError::Authentication {
            host: "https://bob:x-y-z-w@h".into(),
            user: "u".into(),
            message: format!(
                "bad password {secret} and again {secret}, echo {{\"PASSWORD\":\"ab\"}}"
            ),
        }
        .redact();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.contains("x-y-z-w"), "{shown}");
        assert!(shown.contains("bad password *** and again ***"), "{shown}");
        assert!(shown.contains(r#"{"PASSWORD":"***"}"#), "{shown}");
    }

    #[test]
    fn timeouts_name_the_phase_and_the_setting() {
        let e = WarehouseError::Timeout {
            phase: Phase::Login,
            limit: TimeLimit::Login,
            seconds: 60,
            host: "http://127.0.0.1:9".into(),
            attempts: 1,
            query_id: None,
        };
        assert_eq!(
            e.to_string(),
            "login to Snowflake at http://127.0.0.1:9 timed out after 60s (login phase; limit `login_timeout_seconds`)"
        );
        let e = WarehouseError::Timeout {
            phase: Phase::Fetch,
            limit: TimeLimit::Read,
            seconds: 60,
            host: "h".into(),
            attempts: 4,
            query_id: Some("q".into()),
        };
        assert_eq!(
            e.to_string(),
            "Snowflake at h sent nothing for 60s (result fetch phase; limit `read_timeout_seconds`, 4 attempts) (query id q)"
        );
        assert_eq!(e.query_id(), Some("q"));
    }
}
