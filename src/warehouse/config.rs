//! Connection settings for Snowflake and the [`Secret`] wrapper that keeps
//! passwords and passphrases out of logs, errors and serialized output.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::WarehouseError;
use crate::settings::{
    CONNECT_TIMEOUT, DEFAULT_RETRIES, DEFAULT_STATEMENT_TIMEOUT_SECS, Emulator, LOGIN_TIMEOUT,
    NumericSetting, READ_TIMEOUT, RETRIES, STATEMENT_TIMEOUT,
};

/// What [`Secret`] prints instead of its value, everywhere.
pub const REDACTED: &str = "***";

/// A secret string (password, key passphrase).
///
/// `Debug`, `Display` and `Serialize` all print [`REDACTED`]; the value is
/// only reachable through [`Secret::expose`]. It deserializes from a plain
/// string so it can be read from configuration files.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Call this only where the value is handed to the
    /// Snowflake client, never to build a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// How to reach and log in to Snowflake.
///
/// Exactly one of `password`, `private_key_path` and `private_key` must be
/// set. `role`,
/// `warehouse`, `database` and `schema` are applied to the session with `USE`
/// statements right after login; names are taken as unquoted Snowflake
/// identifiers (case-insensitive) when they look like one, and quoted
/// verbatim otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnowflakeConfig {
    /// Account identifier, e.g. `xy12345.us-east-1` or `myorg-myaccount`.
    pub account: String,
    /// Login name.
    pub user: String,
    /// Password, for password authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// PEM file with the RSA private key, for key-pair authentication
    /// (PKCS#8, encrypted or not, or PKCS#1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_path: Option<PathBuf>,
    /// The RSA private key itself, for key-pair authentication: PEM text or
    /// the base64 of the DER key (dbt-snowflake's `private_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<Secret>,
    /// Passphrase of an encrypted private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_passphrase: Option<Secret>,
    /// Role to `USE` after login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Warehouse to `USE` after login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    /// Database to `USE` after login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Schema to `USE` after login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `QUERY_TAG` session parameter carried by every statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_tag: Option<String>,
    /// Where Snowflake is reached instead of
    /// `https://{account}.snowflakecomputing.com`: a hostname, as
    /// dbt-snowflake has it (with [`SnowflakeConfig::port`] and
    /// [`SnowflakeConfig::protocol`]), or a whole base URL (e.g.
    /// `http://127.0.0.1:8085` for a local emulator). Plain HTTP is allowed.
    /// Only the URL changes: emulator workarounds come with
    /// [`SnowflakeConfig::emulator`]. See [`SnowflakeConfig::base_url`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// HTTP(S) proxy every request goes through, as a URL
    /// (`http://proxy.example.com:3128`, credentials allowed); built from
    /// dbt-snowflake's `proxy_host` and `proxy_port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// TCP port of the hostname in `host` (dbt-snowflake's `port`; 443
    /// when unset). Not allowed with a URL in `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `https` (the default) or `http` (dbt-snowflake's `protocol`). Not
    /// allowed with a URL in `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// The local emulator `host` points at, if it is one: its replies are
    /// completed with the fields it omits, and statements take turns (see
    /// the `emulator` submodule). Never inferred from `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emulator: Option<Emulator>,
    /// Statement timeout in seconds, set as the session's
    /// `STATEMENT_TIMEOUT_IN_SECONDS` and enforced on the client too
    /// (with a short grace period). `0` disables it.
    #[serde(default = "default_statement_timeout")]
    pub statement_timeout_secs: u64,
    /// How many times a transient failure is retried (exponential backoff)
    /// before it is reported.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// TCP (and TLS) connect timeout in seconds ([`CONNECT_TIMEOUT`]).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Bound on one login, retries included, in seconds ([`LOGIN_TIMEOUT`]).
    #[serde(default = "default_login_timeout")]
    pub login_timeout_secs: u64,
    /// Longest wait for the next bytes of a reply, in seconds
    /// ([`READ_TIMEOUT`]).
    #[serde(default = "default_read_timeout")]
    pub read_timeout_secs: u64,
}

fn default_connect_timeout() -> u64 {
    CONNECT_TIMEOUT.default
}

fn default_login_timeout() -> u64 {
    LOGIN_TIMEOUT.default
}

fn default_read_timeout() -> u64 {
    READ_TIMEOUT.default
}

fn default_statement_timeout() -> u64 {
    DEFAULT_STATEMENT_TIMEOUT_SECS
}

fn default_retries() -> u32 {
    DEFAULT_RETRIES
}

/// How the session authenticates, as decided by [`SnowflakeConfig::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// Password authentication.
    Password,
    /// Key-pair (JWT) authentication.
    KeyPair,
}

impl SnowflakeConfig {
    /// A configuration with the given account and user and everything else
    /// unset or at its default; add a password or private key before use.
    pub fn new(account: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            account: account.into(),
            user: user.into(),
            password: None,
            private_key_path: None,
            private_key: None,
            private_key_passphrase: None,
            role: None,
            warehouse: None,
            database: None,
            schema: None,
            query_tag: None,
            host: None,
            proxy: None,
            port: None,
            protocol: None,
            emulator: None,
            statement_timeout_secs: DEFAULT_STATEMENT_TIMEOUT_SECS,
            retries: DEFAULT_RETRIES,
            connect_timeout_secs: CONNECT_TIMEOUT.default,
            login_timeout_secs: LOGIN_TIMEOUT.default,
            read_timeout_secs: READ_TIMEOUT.default,
        }
    }

    /// Reads the configuration from `SNOWFLAKE_*` environment variables:
    /// `ACCOUNT`, `USER`, `PASSWORD`, `PRIVATE_KEY_PATH`, `PRIVATE_KEY`,
    /// `PRIVATE_KEY_PASSPHRASE`, `ROLE`, `WAREHOUSE`, `DATABASE`, `SCHEMA`,
    /// `QUERY_TAG`, `HOST`, `PORT`, `PROTOCOL`, `EMULATOR`, `STATEMENT_TIMEOUT_SECS`, `RETRIES`,
    /// `CONNECT_TIMEOUT_SECS`, `LOGIN_TIMEOUT_SECS`, `READ_TIMEOUT_SECS`.
    pub fn from_env() -> Result<Self, WarehouseError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`SnowflakeConfig::from_env`], reading variables through `lookup`
    /// (handy for tests and for other sources of settings).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, WarehouseError> {
        let get = |name: &str| lookup(&format!("SNOWFLAKE_{name}")).filter(|v| !v.is_empty());
        let required = |name: &str| {
            get(name).ok_or_else(|| {
                WarehouseError::Config(format!("environment variable SNOWFLAKE_{name} is not set"))
            })
        };
        let number = |setting: &NumericSetting| read_env(setting, &lookup);
        let config =
            Self {
                account: required("ACCOUNT")?,
                user: required("USER")?,
                password: get("PASSWORD").map(Secret),
                private_key_path: get("PRIVATE_KEY_PATH").map(PathBuf::from),
                private_key: get("PRIVATE_KEY").map(Secret),
                private_key_passphrase: get("PRIVATE_KEY_PASSPHRASE").map(Secret),
                role: get("ROLE"),
                warehouse: get("WAREHOUSE"),
                database: get("DATABASE"),
                schema: get("SCHEMA"),
                query_tag: get("QUERY_TAG"),
                host: get("HOST"),
                proxy: None,
                port: get("PORT")
                    .map(|v| {
                        v.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                        WarehouseError::Config(format!(
                            "SNOWFLAKE_PORT must be a whole number from 1 to 65535, got {v:?}"
                        ))
                    })
                    })
                    .transpose()?,
                protocol: get("PROTOCOL"),
                emulator: get("EMULATOR")
                    .map(|v| {
                        Emulator::parse(&v).map_err(|why| {
                            WarehouseError::Config(format!("SNOWFLAKE_EMULATOR: {why}"))
                        })
                    })
                    .transpose()?,
                statement_timeout_secs: number(&STATEMENT_TIMEOUT)?,
                // In range, so it fits.
                retries: number(&RETRIES)? as u32,
                connect_timeout_secs: number(&CONNECT_TIMEOUT)?,
                login_timeout_secs: number(&LOGIN_TIMEOUT)?,
                read_timeout_secs: number(&READ_TIMEOUT)?,
            };
        config.validate()?;
        Ok(config)
    }

    /// Checks that the configuration is usable and says which
    /// authentication it selects.
    pub fn validate(&self) -> Result<AuthMethod, WarehouseError> {
        let bad = |msg: &str| Err(WarehouseError::Config(msg.to_owned()));
        if self.account.trim().is_empty() {
            return bad("account is empty");
        }
        if !self
            .account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return bad("account may contain only letters, digits, '-', '_' and '.'");
        }
        if self.user.trim().is_empty() {
            return bad("user is empty");
        }
        for (setting, value) in [
            (STATEMENT_TIMEOUT, self.statement_timeout_secs),
            (RETRIES, u64::from(self.retries)),
            (CONNECT_TIMEOUT, self.connect_timeout_secs),
            (LOGIN_TIMEOUT, self.login_timeout_secs),
            (READ_TIMEOUT, self.read_timeout_secs),
        ] {
            setting.check(value).map_err(WarehouseError::Config)?;
        }
        self.base_url().map_err(WarehouseError::Config)?;
        if self.emulator.is_some() && self.host.is_none() {
            return bad(
                "emulator is set without host: set host to the emulator's URL (http://127.0.0.1:8085 for scripts/fakesnow.sh)",
            );
        }
        if let Some(tag) = &self.query_tag
            && tag.chars().count() > 2000
        {
            return bad("query_tag is longer than Snowflake's 2000 characters");
        }
        if let Some(proxy) = &self.proxy {
            let shown = without_userinfo(proxy);
            let parsed = url::Url::parse(proxy).map_err(|e| {
                WarehouseError::Config(format!("proxy {shown:?} is not a URL: {e}"))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(WarehouseError::Config(format!(
                    "proxy {shown:?} must be an http:// or https:// URL"
                )));
            }
        }
        if self.private_key_path.is_some() && self.private_key.is_some() {
            return bad("set either private_key or private_key_path, not both");
        }
        let key = self.private_key_path.is_some() || self.private_key.is_some();
        match (&self.password, key) {
            (Some(_), true) => bad(
                "set either password or a private key (private_key_path or private_key), not both",
            ),
            (None, false) => bad("set password, private_key_path or private_key"),
            (Some(_), false) => {
                if self.private_key_passphrase.is_some() {
                    return bad(
                        "private_key_passphrase is set without private_key_path or private_key",
                    );
                }
                Ok(AuthMethod::Password)
            }
            (None, true) => Ok(AuthMethod::KeyPair),
        }
    }

    /// The base URL that replaces `https://{account}.snowflakecomputing.com`,
    /// or `None` when nothing (`host`, `port`, `protocol`) changes it.
    ///
    /// As dbt-snowflake (and Snowflake's Python connector) reads them:
    /// `host` is a hostname, `port` defaults to 443 and `protocol` to
    /// `https`, and a missing `host` is the account's own host
    /// (<https://docs.getdbt.com/docs/core/connect-data-platform/snowflake-setup>,
    /// <https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api#connect>).
    /// cio-sql also takes the whole URL in `host`
    /// (`http://127.0.0.1:8085`, `https://proxy.example.com/sf`), which
    /// then cannot be combined with `port` or `protocol`. The error never
    /// shows credentials written into `host`.
    pub fn base_url(&self) -> Result<Option<String>, String> {
        let host = self
            .host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        if host.is_none() && self.port.is_none() && self.protocol.is_none() {
            return Ok(None);
        }
        if let Some(url) = host.filter(|h| h.contains("://")) {
            let shown = without_userinfo(url);
            if self.port.is_some() || self.protocol.is_some() {
                return Err(format!(
                    "host {shown:?} is a URL, so `port` and `protocol` cannot be set too: write `host` as a hostname (`host: 127.0.0.1`, `port: 8085`, `protocol: http`), or put everything in the URL"
                ));
            }
            let parsed =
                url::Url::parse(url).map_err(|e| format!("host {shown:?} is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(format!(
                    "host {shown:?} must be an http:// or https:// base URL"
                ));
            }
            return Ok(Some(url.to_owned()));
        }
        let protocol = match self.protocol.as_deref().map(str::trim) {
            None | Some("") => "https".to_owned(),
            Some(p) if p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http") => {
                p.to_ascii_lowercase()
            }
            Some(p) => {
                return Err(format!("protocol must be `https` or `http`, got {p:?}"));
            }
        };
        let account_host = format!("{}.snowflakecomputing.com", self.account.to_lowercase());
        let hostname = host.unwrap_or(&account_host);
        let bad_host = || {
            format!(
                "host {:?} must be a hostname (e.g. `myorg-myaccount.privatelink.snowflakecomputing.com` or `127.0.0.1`, with `port` and `protocol` beside it) or an http(s):// base URL",
                without_userinfo(hostname)
            )
        };
        // A hostname (or an IPv4/IPv6 address) and nothing else: no
        // credentials, port, path or spaces.
        if hostname.contains(['/', '@', '?', '#', ' ', '\\'])
            || (hostname.contains(':') && !hostname.starts_with('['))
        {
            return Err(bad_host());
        }
        let port = self.port.unwrap_or(443);
        if port == 0 {
            return Err("port must be a whole number from 1 to 65535, got 0".to_owned());
        }
        let url = format!("{protocol}://{hostname}:{port}");
        match url::Url::parse(&url) {
            Ok(parsed) if parsed.host_str().is_some() => Ok(Some(url)),
            _ => Err(bad_host()),
        }
    }

    /// The host the client talks to, for messages: the override if set
    /// (without any credentials in it), else
    /// `{account}.snowflakecomputing.com`.
    pub fn display_host(&self) -> String {
        match self.base_url() {
            Ok(Some(url)) => without_userinfo(url.trim_end_matches('/')),
            Ok(None) => format!("{}.snowflakecomputing.com", self.account.to_lowercase()),
            Err(_) => without_userinfo(self.host.as_deref().unwrap_or_default()),
        }
    }

    /// Registers the secrets of this configuration (password, passphrase,
    /// inline key, credentials in `host` and `proxy`) with the process-wide redactor, so that no
    /// output can show them.
    pub fn register_secrets(&self) {
        for secret in [
            &self.password,
            &self.private_key_passphrase,
            &self.private_key,
        ]
        .into_iter()
        .flatten()
        {
            crate::redact::register(secret.expose());
        }
        for url in [&self.host, &self.proxy].into_iter().flatten() {
            crate::redact::register_url_credentials(url);
        }
    }
}

/// `url` with the userinfo of its authority (`user:password@`) replaced by
/// `***@`.
pub(crate) fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let shown = match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}@{}", REDACTED, &rest[at + 1..]),
        None => rest.to_owned(),
    };
    match scheme {
        Some(s) => format!("{s}://{shown}"),
        None => shown,
    }
}

/// Reads the setting from its environment variable through `lookup`.
fn read_env(
    setting: &NumericSetting,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<u64, WarehouseError> {
    match lookup(setting.env).filter(|v| !v.is_empty()) {
        None => Ok(setting.default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .and_then(|n| setting.check(n).ok())
            .ok_or_else(|| {
                WarehouseError::Config(format!(
                    "{} must be {}, got {v:?}",
                    setting.env,
                    setting.range()
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const PW: &str = "hunter2-Sup3rSecret!";

    fn config() -> SnowflakeConfig {
        let mut c = SnowflakeConfig::new("xy12345.us-east-1", "loader");
        c.password = Some(Secret::new(PW));
        c.private_key_passphrase = None;
        c
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new(PW);
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), PW);
    }

    #[test]
    fn config_debug_and_serialization_hide_secrets() {
        let mut c = config();
        c.password = None;
        c.private_key_path = Some("/keys/k.p8".into());
        c.private_key_passphrase = Some(Secret::new("pass-PHRASE-42"));
        let debug = format!("{c:?} {c:#?}");
        let json = serde_json::to_string(&c).unwrap();
        let yaml = serde_yaml::to_string(&c).unwrap();
        for out in [&debug, &json, &yaml] {
            assert!(!out.contains("pass-PHRASE-42"), "{out}");
            assert!(out.contains(REDACTED), "{out}");
        }
        let c = config();
        let all = format!("{c:?} {}", serde_json::to_string(&c).unwrap());
        assert!(!all.contains(PW));
    }

    #[test]
    fn deserializes_secret_from_plain_string() {
        let c: SnowflakeConfig =
            serde_yaml::from_str("account: acct\nuser: u\npassword: s3cret\nquery_tag: cio-sql\n")
                .unwrap();
        assert_eq!(c.password.as_ref().unwrap().expose(), "s3cret");
        assert_eq!(c.retries, DEFAULT_RETRIES);
        assert_eq!(c.statement_timeout_secs, DEFAULT_STATEMENT_TIMEOUT_SECS);
        assert_eq!(c.validate().unwrap(), AuthMethod::Password);
    }

    #[test]
    fn validation_rejects_bad_combinations() {
        let mut c = config();
        c.private_key_path = Some("k.p8".into());
        assert!(c.validate().is_err());
        c.password = None;
        assert_eq!(c.validate().unwrap(), AuthMethod::KeyPair);
        c.private_key_path = None;
        assert!(c.validate().is_err());

        let mut c = config();
        c.account = "evil.com/x?".into();
        assert!(c.validate().is_err());
        let mut c = config();
        c.host = Some("ftp://127.0.0.1".into());
        assert!(c.validate().is_err());
        c.host = Some("http://127.0.0.1:9999".into());
        assert!(c.validate().is_ok());
        let mut c = config();
        c.private_key_passphrase = Some(Secret::new("x"));
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("private_key_passphrase"), "{err}");
    }

    #[test]
    fn reads_environment_through_lookup() {
        let vars: HashMap<&str, &str> = [
            ("SNOWFLAKE_ACCOUNT", "acct"),
            ("SNOWFLAKE_USER", "u"),
            ("SNOWFLAKE_PASSWORD", PW),
            ("SNOWFLAKE_ROLE", "loader"),
            ("SNOWFLAKE_RETRIES", "5"),
            ("SNOWFLAKE_STATEMENT_TIMEOUT_SECS", "0"),
        ]
        .into_iter()
        .collect();
        let c = SnowflakeConfig::from_lookup(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.account, "acct");
        assert_eq!(c.role.as_deref(), Some("loader"));
        assert_eq!(c.retries, 5);
        assert_eq!(c.statement_timeout_secs, 0);
        assert_eq!(c.password.unwrap().expose(), PW);

        let err = SnowflakeConfig::from_lookup(|k| {
            (k == "SNOWFLAKE_ACCOUNT").then(|| "acct".to_string())
        })
        .unwrap_err();
        assert!(err.to_string().contains("SNOWFLAKE_USER"), "{err}");

        let err = SnowflakeConfig::from_lookup(|k| match k {
            "SNOWFLAKE_ACCOUNT" | "SNOWFLAKE_USER" | "SNOWFLAKE_PASSWORD" => Some("x".into()),
            "SNOWFLAKE_RETRIES" => Some("many".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(err.to_string().contains("SNOWFLAKE_RETRIES"), "{err}");
    }

    #[test]
    fn display_host_prefers_override() {
        let mut c = config();
        assert_eq!(c.display_host(), "xy12345.us-east-1.snowflakecomputing.com");
        c.host = Some("http://127.0.0.1:1234/".into());
        assert_eq!(c.display_host(), "http://127.0.0.1:1234");
    }

    #[test]
    fn host_is_a_hostname_with_port_and_protocol_or_a_url() {
        let url = |host: Option<&str>, port: Option<u16>, protocol: Option<&str>| {
            let mut c = config();
            c.host = host.map(str::to_owned);
            c.port = port;
            c.protocol = protocol.map(str::to_owned);
            c.base_url()
        };
        // dbt-snowflake's form: a hostname, 443 and https by default.
        assert_eq!(
            url(Some("acme.privatelink.snowflakecomputing.com"), None, None).unwrap(),
            Some("https://acme.privatelink.snowflakecomputing.com:443".into())
        );
        assert_eq!(
            url(Some("127.0.0.1"), Some(8085), Some("http")).unwrap(),
            Some("http://127.0.0.1:8085".into())
        );
        assert_eq!(
            url(Some("[::1]"), Some(8085), Some("HTTP")).unwrap(),
            Some("http://[::1]:8085".into())
        );
        // port or protocol alone change the account's own URL.
        assert_eq!(
            url(None, Some(8443), None).unwrap(),
            Some("https://xy12345.us-east-1.snowflakecomputing.com:8443".into())
        );
        assert_eq!(url(None, None, None).unwrap(), None);
        // cio-sql's URL form, unchanged.
        assert_eq!(
            url(Some("http://127.0.0.1:9999/"), None, None).unwrap(),
            Some("http://127.0.0.1:9999/".into())
        );
        for (host, port, protocol, expected) in [
            (
                Some("http://127.0.0.1:1"),
                Some(2),
                None,
                "cannot be set too",
            ),
            (
                Some("http://127.0.0.1:1"),
                None,
                Some("http"),
                "cannot be set too",
            ),
            (
                Some("127.0.0.1"),
                None,
                Some("ftp"),
                "protocol must be `https` or `http`",
            ),
            (Some("127.0.0.1:8085"), None, None, "must be a hostname"),
            (Some("h/x"), None, None, "must be a hostname"),
            (Some("ftp://h"), None, None, "http:// or https://"),
            (Some("127.0.0.1"), Some(0), None, "from 1 to 65535"),
        ] {
            let err = url(host, port, protocol).unwrap_err();
            assert!(
                err.contains(expected),
                "{host:?} {port:?} {protocol:?}: {err}"
            );
        }
        let mut c = config();
        c.host = Some("127.0.0.1".into());
        c.port = Some(8085);
        c.protocol = Some("http".into());
        assert_eq!(c.display_host(), "http://127.0.0.1:8085");
        assert!(c.validate().is_ok());
        c.protocol = Some("gopher".into());
        assert!(c.validate().unwrap_err().to_string().contains("protocol"));
        let vars: HashMap<&str, &str> = [
            ("SNOWFLAKE_ACCOUNT", "acct"),
            ("SNOWFLAKE_USER", "u"),
            ("SNOWFLAKE_PASSWORD", PW),
            ("SNOWFLAKE_HOST", "localhost"),
            ("SNOWFLAKE_PORT", "8085"),
            ("SNOWFLAKE_PROTOCOL", "http"),
        ]
        .into_iter()
        .collect();
        let c = SnowflakeConfig::from_lookup(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(
            c.base_url().unwrap().as_deref(),
            Some("http://localhost:8085")
        );
    }

    #[test]
    fn credentials_in_host_are_never_displayed() {
        let mut c = config();
        c.host = Some("https://bob:Host-Pa55@proxy.example.com:8443/sf".into());
        assert_eq!(c.display_host(), "https://***@proxy.example.com:8443/sf");
        assert_eq!(without_userinfo("bob:pw@h/x@y"), "***@h/x@y");
        c.host = Some("bob:Host-Pa55@proxy".into());
        let err = c.validate().unwrap_err().to_string();
        assert!(!err.contains("Host-Pa55"), "{err}");
        c.host = Some("http://bob:Host-Pa55@proxy".into());
        c.port = Some(1);
        let err = c.validate().unwrap_err().to_string();
        assert!(
            !err.contains("Host-Pa55") && err.contains("***@proxy"),
            "{err}"
        );
    }

    #[test]
    fn numeric_settings_are_range_checked() {
        use serde_json::json;
        assert_eq!(RETRIES.parse(&json!(5)), Ok(5));
        assert_eq!(RETRIES.parse(&json!(" 7 ")), Ok(7));
        for bad in [
            json!(4_294_967_297u64),
            json!(-1),
            json!(1.5),
            json!("many"),
            json!(true),
        ] {
            let err = RETRIES.parse(&bad).unwrap_err();
            assert!(err.contains("from 0 to 20"), "{err}");
        }
        let err = STATEMENT_TIMEOUT.parse(&json!(-5)).unwrap_err();
        assert_eq!(
            err,
            "`statement_timeout_seconds` must be a whole number from 0 to 604800, got -5"
        );
        assert!(LOGIN_TIMEOUT.parse(&json!(0)).is_err());
        let mut c = config();
        c.read_timeout_secs = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("read_timeout_seconds")
        );
        let err = SnowflakeConfig::from_lookup(|k| match k {
            "SNOWFLAKE_ACCOUNT" | "SNOWFLAKE_USER" | "SNOWFLAKE_PASSWORD" => Some("x".into()),
            "SNOWFLAKE_RETRIES" => Some("4294967297".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(err.to_string().contains("from 0 to 20"), "{err}");
    }
}
