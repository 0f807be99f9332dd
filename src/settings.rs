//! The settings of a Snowflake output in `profiles.yml` that cio-sql checks
//! when the file is read: the numeric ones (their keys, `SNOWFLAKE_*`
//! environment variables, ranges and defaults) and `emulator`. A leaf
//! module: the project stage checks them (with the line), the warehouse
//! client uses them.

/// A numeric setting of a Snowflake output: its `profiles.yml` key, its
/// `SNOWFLAKE_*` environment variable, the values it accepts and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericSetting {
    /// Key in a `profiles.yml` output.
    pub key: &'static str,
    /// Environment variable read by `SnowflakeConfig::from_env`.
    pub env: &'static str,
    /// Smallest accepted value.
    pub min: u64,
    /// Largest accepted value.
    pub max: u64,
    /// Value when unset.
    pub default: u64,
}

impl NumericSetting {
    /// The accepted values, for messages: `a whole number from 0 to 20`.
    pub fn range(&self) -> String {
        format!("a whole number from {} to {}", self.min, self.max)
    }

    /// Checks `n` against the range.
    pub fn check(&self, n: u64) -> Result<u64, String> {
        if (self.min..=self.max).contains(&n) {
            Ok(n)
        } else {
            Err(format!("`{}` must be {}, got {n}", self.key, self.range()))
        }
    }

    /// Reads the setting from a YAML/JSON value: an integer, or a string
    /// holding one (as `env_var()` renders). Anything else, or a number out
    /// of range, is an error that names the key and the range.
    pub fn parse(&self, value: &serde_json::Value) -> Result<u64, String> {
        use serde_json::Value;
        let shown = match value {
            Value::String(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        let bad = || format!("`{}` must be {}, got {shown}", self.key, self.range());
        let n = match value {
            Value::Number(n) => n.as_u64().ok_or_else(bad)?,
            Value::String(s) => s.trim().parse::<u64>().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        self.check(n).map_err(|_| bad())
    }
}

/// `retries`: how often a transient failure of one request (HTTP 5xx, 408,
/// 429, a dropped connection, a reply cut short or stalled) is retried.
pub const RETRIES: NumericSetting = NumericSetting {
    key: "retries",
    env: "SNOWFLAKE_RETRIES",
    min: 0,
    max: 20,
    default: 3,
};

/// `statement_timeout_seconds`: Snowflake's `STATEMENT_TIMEOUT_IN_SECONDS`
/// for the session, also enforced by the client (plus a grace). `0` means
/// none. Snowflake accepts 0 to 604800 (7 days):
/// <https://docs.snowflake.com/en/sql-reference/parameters#statement-timeout-in-seconds>.
pub const STATEMENT_TIMEOUT: NumericSetting = NumericSetting {
    key: "statement_timeout_seconds",
    env: "SNOWFLAKE_STATEMENT_TIMEOUT_SECS",
    min: 0,
    max: 604_800,
    default: 3600,
};

/// `connect_timeout_seconds`: the longest wait for a TCP (and TLS)
/// connection.
pub const CONNECT_TIMEOUT: NumericSetting = NumericSetting {
    key: "connect_timeout_seconds",
    env: "SNOWFLAKE_CONNECT_TIMEOUT_SECS",
    min: 1,
    max: 600,
    default: 10,
};

/// `login_timeout_seconds`: the longest a login (or a session renewal) may
/// take, retries included.
pub const LOGIN_TIMEOUT: NumericSetting = NumericSetting {
    key: "login_timeout_seconds",
    env: "SNOWFLAKE_LOGIN_TIMEOUT_SECS",
    min: 1,
    max: 3600,
    default: 60,
};

/// `read_timeout_seconds`: the longest wait for the next bytes of a reply
/// (its headers, or more of its body). Snowflake holds a statement's
/// request for up to 45 s before answering "still running", so the default
/// leaves room for that.
pub const READ_TIMEOUT: NumericSetting = NumericSetting {
    key: "read_timeout_seconds",
    env: "SNOWFLAKE_READ_TIMEOUT_SECS",
    min: 1,
    max: 3600,
    default: 60,
};

/// `port`: the TCP port of a `host` given as a hostname (dbt-snowflake's
/// field; 443 when unset).
pub const PORT: NumericSetting = NumericSetting {
    key: "port",
    env: "SNOWFLAKE_PORT",
    min: 1,
    max: 65_535,
    default: 443,
};

/// `proxy_port`: the port of dbt-snowflake's `proxy_host`.
pub const PROXY_PORT: NumericSetting = NumericSetting {
    key: "proxy_port",
    env: "",
    ..PORT
};

/// Every numeric setting of a Snowflake output.
pub const NUMERIC_SETTINGS: [NumericSetting; 5] = [
    RETRIES,
    STATEMENT_TIMEOUT,
    CONNECT_TIMEOUT,
    LOGIN_TIMEOUT,
    READ_TIMEOUT,
];

/// Default number of retries for transient failures (HTTP 5xx/429, dropped
/// connections).
pub const DEFAULT_RETRIES: u32 = RETRIES.default as u32;

/// Default statement timeout in seconds (one hour); `0` means no timeout.
pub const DEFAULT_STATEMENT_TIMEOUT_SECS: u64 = STATEMENT_TIMEOUT.default;

/// `emulator`: the local Snowflake emulator a target talks to, whose
/// differences from Snowflake the client works around. Only this setting
/// switches them on; `host` alone (a proxy, a private link) never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emulator {
    /// fakesnow (<https://pypi.org/project/fakesnow/>), as started by
    /// `scripts/fakesnow.sh`: its login and query replies leave out fields
    /// the client needs (they are filled in), and it refuses a statement
    /// while another one runs on the same session (statements take turns).
    Fakesnow,
}

impl Emulator {
    /// The key of the setting in a `profiles.yml` output.
    pub const KEY: &'static str = "emulator";

    /// The emulator `value` names (`fakesnow`, in any case), or why not.
    pub fn parse(value: &str) -> Result<Emulator, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "fakesnow" => Ok(Emulator::Fakesnow),
            _ => Err(format!(
                "`emulator` must be `fakesnow` (the only emulator cio-sql knows), got {value:?}"
            )),
        }
    }
}
