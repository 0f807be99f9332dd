//! [`WarehouseError`]: what can go wrong talking to a warehouse, sorted by
//! what the caller should do about it.

/// An error from a [`Warehouse`](super::Warehouse).
///
/// Messages never contain a password or passphrase: they are built from
/// Snowflake's replies and transport errors and scrubbed of the configured
/// secrets before they are returned.
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

    /// The statement ran longer than the configured statement timeout.
    #[error("Snowflake statement timed out after {seconds}s{}", query_id_suffix(.query_id))]
    Timeout {
        /// The timeout that was exceeded, in seconds.
        seconds: u64,
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

    /// Replaces every occurrence of each secret in the error's text with
    /// `***`.
    pub(crate) fn redact(self, secrets: &[String]) -> Self {
        let r = |s: String| redact_str(s, secrets);
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
            Self::Timeout { seconds, query_id } => Self::Timeout {
                seconds,
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

/// Replaces each (non-empty) secret in `text` with `***`.
pub(crate) fn redact_str(text: String, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text, |acc, s| {
            if acc.contains(s.as_str()) {
                acc.replace(s.as_str(), super::config::REDACTED)
            } else {
                acc
            }
        })
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
        let secret = "p@ss w0rd".to_string();
        let e = WarehouseError::Authentication {
            host: "h".into(),
            user: "u".into(),
            message: format!("bad password {secret} and again {secret}"),
        }
        .redact(std::slice::from_ref(&secret));
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(&secret), "{shown}");
        assert!(shown.contains("bad password *** and again ***"), "{shown}");
        // Empty secrets must not turn every gap into `***`.
        assert_eq!(redact_str("abc".into(), &[String::new()]), "abc");
    }
}
