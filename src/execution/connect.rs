//! From a `profiles.yml` target to a live warehouse connection.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::{Project, Target};
use crate::settings::{
    CONNECT_TIMEOUT, Emulator, LOGIN_TIMEOUT, NumericSetting, PORT, PROXY_PORT, READ_TIMEOUT,
    RETRIES, STATEMENT_TIMEOUT,
};
use crate::warehouse::{
    Secret, SnowflakeConfig, SnowflakeWarehouse, TimeLimit, Warehouse, WarehouseError,
};
use serde_json::Value;
use std::path::PathBuf;

/// Opens a warehouse session for a loaded project: [`connect`] for
/// Snowflake; tests pass one that returns a mock.
pub type Connector = dyn Fn(&Project) -> Result<Box<dyn Warehouse>, Diagnostic>;

/// The [`Connector`] of Snowflake: a session for the project's target.
pub fn connect_project(project: &Project) -> Result<Box<dyn Warehouse>, Diagnostic> {
    connect(&project.target)
}

/// The Snowflake settings of `target` (a `type: snowflake` output).
pub fn snowflake_config(target: &Target) -> Result<SnowflakeConfig, Diagnostic> {
    let source = target
        .source
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "profiles.yml".into());
    if target.source.is_none() {
        return Err(Diagnostic::error(codes::NO_CONNECTION, "no profiles.yml was found, so there is no Snowflake connection")
            .with_help("create profiles.yml (see README.md) in the project folder or ~/.dbt, or pass --profiles-dir"));
    }
    target.check_connection_fields()?;
    if !target.kind.eq_ignore_ascii_case("snowflake") {
        return Err(Diagnostic::error(
            codes::NO_CONNECTION,
            format!(
                "target `{}` has type `{}`; cio-sql runs on Snowflake only",
                target.name, target.kind
            ),
        )
        .at_file(&source)
        .with_help("set `type: snowflake` on the output"));
    }
    let text = |key: &str| {
        target
            .field(key)
            .map(str::to_string)
            .filter(|v| !v.is_empty())
    };
    let required = |key: &str| {
        text(key).ok_or_else(|| {
            Diagnostic::error(codes::NO_CONNECTION, format!("target `{}` has no `{key}`", target.name))
                .at_file(&source)
                .with_help(format!("add `{key}:` to the output (use {{{{ env_var('SNOWFLAKE_{}') }}}} for values kept outside the file)", key.to_uppercase()))
        })
    };
    // profiles.yml values were range-checked when the file was read (with
    // the line); a target built another way is checked here.
    let number = |setting: &NumericSetting, key: &str| -> Result<Option<u64>, Diagnostic> {
        match target.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => setting.parse(value).map(Some).map_err(|why| {
                Diagnostic::error(codes::PROFILE, format!("target `{}`: {why}", target.name))
                    .at_file(&source)
                    .with_help(format!("set `{key}:` to {}", setting.range()))
            }),
        }
    };
    let authenticator = authenticator(target)?;
    let mut config = SnowflakeConfig::new(required("account")?, required("user")?);
    config.password = text("password").map(Secret::new);
    config.private_key_path = text("private_key_path").map(PathBuf::from);
    config.private_key = text("private_key").map(Secret::new);
    config.private_key_passphrase = text("private_key_passphrase").map(Secret::new);
    let has_key = config.private_key_path.is_some() || config.private_key.is_some();
    if authenticator == Authenticator::KeyPair && !has_key {
        return Err(target.at_field(
            Diagnostic::error(
                codes::NO_CONNECTION,
                format!(
                    "target `{}` has `authenticator: snowflake_jwt` (key-pair) but neither `private_key_path` nor `private_key`",
                    target.name
                ),
            ),
            "authenticator",
        )
        .with_help("add private_key_path: /path/to/key.p8 (or private_key: with the PEM text) to the output"));
    }
    if config.password.is_none() && !has_key {
        return Err(Diagnostic::error(codes::NO_CONNECTION, format!("target `{}` has neither `password` nor `private_key_path` (or `private_key`)", target.name))
            .at_file(&source)
            .with_help("set password: \"{{ env_var('SNOWFLAKE_PASSWORD') }}\" or private_key_path: /path/to/key.p8 in the output"));
    }
    config.proxy = proxy(target, number(&PROXY_PORT, PROXY_PORT.key)?)?;
    config.role = text("role");
    config.warehouse = text("warehouse");
    config.database = Some(target.database.clone());
    config.schema = Some(target.schema.clone());
    config.query_tag = text("query_tag");
    config.host = text("host");
    // In range (1 to 65535), so it fits.
    config.port = number(&PORT, PORT.key)?.map(|n| n as u16);
    config.protocol = text("protocol");
    if let Err(why) = config.base_url() {
        let key = ["protocol", "port"]
            .into_iter()
            .find(|k| why.starts_with(k))
            .unwrap_or("host");
        return Err(target.at_field(
            Diagnostic::error(
                codes::NO_CONNECTION,
                format!("target `{}`: {why}", target.name),
            )
            .with_help("write `host` as a hostname with `port` and `protocol` (dbt-snowflake's form), or as an http(s):// base URL alone"),
            key,
        ));
    }
    // Checked when profiles.yml was read (with the line); a target built
    // another way is checked here.
    config.emulator = text(Emulator::KEY)
        .map(|value| {
            Emulator::parse(&value).map_err(|why| {
                Diagnostic::error(codes::PROFILE, format!("target `{}`: {why}", target.name))
                    .at_file(&source)
                    .with_help("set `emulator: fakesnow`, or remove the key")
            })
        })
        .transpose()?;
    let retries = match number(&RETRIES, RETRIES.key)? {
        Some(n) => Some(n),
        None => number(&RETRIES, "connect_retries")?,
    };
    if let Some(n) = retries {
        // In range (at most 20), so it fits.
        config.retries = n as u32;
    }
    for (setting, field) in [
        (STATEMENT_TIMEOUT, &mut config.statement_timeout_secs),
        (CONNECT_TIMEOUT, &mut config.connect_timeout_secs),
        (LOGIN_TIMEOUT, &mut config.login_timeout_secs),
        (READ_TIMEOUT, &mut config.read_timeout_secs),
    ] {
        if let Some(n) = number(&setting, setting.key)? {
            *field = n;
        }
    }
    config.register_secrets();
    Ok(config)
}

/// How the output logs in, from dbt-snowflake's `authenticator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authenticator {
    /// Unset, or `snowflake`: a password, or a key pair when a key is
    /// given (as Snowflake's connectors pick it).
    Default,
    /// `snowflake_jwt`: a key pair.
    KeyPair,
}

/// The output's `authenticator`; any value but `snowflake` and
/// `snowflake_jwt` is an error (`CIO308`) at its line that says what is
/// not supported yet. The values are Snowflake's:
/// <https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api#connect>
/// and dbt-snowflake's
/// <https://docs.getdbt.com/docs/core/connect-data-platform/snowflake-setup>.
fn authenticator(target: &Target) -> Result<Authenticator, Diagnostic> {
    let Some(raw) = target.field("authenticator").map(str::trim) else {
        return Ok(Authenticator::Default);
    };
    let value = raw.to_ascii_lowercase();
    let what = match value.as_str() {
        "" | "snowflake" => return Ok(Authenticator::Default),
        "snowflake_jwt" => return Ok(Authenticator::KeyPair),
        "externalbrowser" => "browser single sign-on (`externalbrowser`)",
        "oauth" => "OAuth (`oauth`, with `token`)",
        "jwt" => "a JWT passed as an OAuth token (`jwt`, with `token`)",
        "username_password_mfa" => "multi-factor login (`username_password_mfa`)",
        "programmatic_access_token" => "programmatic access tokens (`programmatic_access_token`)",
        "workload_identity" => "workload identity federation (`workload_identity`)",
        "oauth_authorization_code" | "oauth_client_credentials" => "OAuth flows",
        v if v.starts_with("https://") => "native Okta single sign-on (an Okta URL)",
        _ => "",
    };
    let message = if what.is_empty() {
        format!(
            "`authenticator: {raw}` of target `{}` is not an authenticator cio-sql knows",
            target.name
        )
    } else {
        format!(
            "`authenticator: {raw}` of target `{}`: {what} is not supported yet by cio-sql",
            target.name
        )
    };
    Err(target.at_field(
        Diagnostic::error(codes::UNSUPPORTED_AUTH, message).with_help(
            "log in with a password (`authenticator: snowflake`, or no authenticator, with `password:`) or a key pair (`authenticator: snowflake_jwt`, with `private_key_path:` or `private_key:`)",
        ),
        "authenticator",
    ))
}

/// The proxy URL of dbt-snowflake's `proxy_host` and `proxy_port`: a
/// hostname and a port (both needed), or a whole `http(s)://` URL in
/// `proxy_host` (credentials allowed, no `proxy_port` then).
fn proxy(target: &Target, port: Option<u64>) -> Result<Option<String>, Diagnostic> {
    let host = target
        .field("proxy_host")
        .map(str::trim)
        .filter(|h| !h.is_empty());
    let bad = |message: String, key: &str, help: &str| {
        Err(target.at_field(
            Diagnostic::error(codes::NO_CONNECTION, message).with_help(help.to_string()),
            key,
        ))
    };
    match (host, port) {
        (None, None) => Ok(None),
        (None, Some(_)) => bad(
            format!(
                "target `{}` has `proxy_port` without `proxy_host`",
                target.name
            ),
            "proxy_port",
            "add `proxy_host:` (the proxy's hostname), or remove `proxy_port`",
        ),
        (Some(url), None) if url.contains("://") => Ok(Some(url.to_string())),
        (Some(url), Some(_)) if url.contains("://") => bad(
            format!(
                "target `{}` has a URL in `proxy_host` and a `proxy_port`",
                target.name
            ),
            "proxy_port",
            "put the port in the URL, or write `proxy_host` as a hostname",
        ),
        (Some(_), None) => bad(
            format!(
                "target `{}` has `proxy_host` without `proxy_port`",
                target.name
            ),
            "proxy_host",
            "add `proxy_port:` (e.g. 3128), or write `proxy_host` as a URL: http://proxy.example.com:3128",
        ),
        (Some(host), Some(port)) => Ok(Some(format!("http://{host}:{port}"))),
    }
}

/// Opens a Snowflake session for `target`.
pub fn connect(target: &Target) -> Result<Box<dyn Warehouse>, Diagnostic> {
    let config = snowflake_config(target)?;
    SnowflakeWarehouse::connect(&config)
        .map(|w| Box::new(w) as Box<dyn Warehouse>)
        .map_err(|e| match e {
            // Only the session's own statements ran: no model is to blame.
            WarehouseError::Sql { .. } => warehouse_diagnostic(&e, &target.name).with_help(
                "check `role`, `warehouse`, `database` and `schema` of the output in profiles.yml: each must exist, with the name Snowflake stores (a plain name is upper-cased; any other is used exactly as spelled), and be usable by the role; the target's database and schema must exist before cio-sql connects",
            ),
            e => {
                let d = warehouse_diagnostic(&e, &target.name);
                let help = d.help.clone().unwrap_or_default();
                // Logging in runs no statement.
                d.with_help(format!(
                    "{help}; no statement was sent, so nothing was changed in the warehouse"
                ))
            }
        })
}

/// A warehouse error as a diagnostic (never containing a secret: the
/// warehouse layer scrubs its messages, and every output scrubs again).
pub fn warehouse_diagnostic(err: &WarehouseError, target: &str) -> Diagnostic {
    let (code, help) = match err {
        WarehouseError::Connection { .. } => (
            codes::UNREACHABLE,
            "check `account` (and `host`, if set) in profiles.yml and the network",
        ),
        WarehouseError::Authentication { .. } => (
            codes::AUTHENTICATION,
            "check `user` and the password or private key (they come from the environment or the files named in profiles.yml)",
        ),
        WarehouseError::Sql { .. } => (
            codes::SQL_REJECTED,
            "fix the SQL of the model; `cio-sql compile --select MODEL --show` prints what was sent",
        ),
        WarehouseError::Timeout { limit, .. } => (
            codes::TIMED_OUT,
            match limit {
                TimeLimit::Statement => {
                    "raise `statement_timeout_seconds` in the output, or make the model cheaper"
                }
                TimeLimit::Login => {
                    "check `account` (and `host`, if set) and the network; raise `login_timeout_seconds` in the output if logging in is only slow"
                }
                TimeLimit::Connect => {
                    "check `account` (and `host`, if set) and the network; raise `connect_timeout_seconds` in the output if connecting is only slow"
                }
                TimeLimit::Read => {
                    "the server stopped sending mid-reply; check the network and `host`, or raise `read_timeout_seconds` in the output"
                }
            },
        ),
        WarehouseError::Transient { .. } => (
            codes::TRANSIENT,
            "Snowflake or the network failed repeatedly; run again later",
        ),
        WarehouseError::Protocol { .. } => (
            codes::PROTOCOL,
            "the server's reply was not understood; check `host` in profiles.yml",
        ),
        WarehouseError::Config(_) => (codes::NO_CONNECTION, "fix the output in profiles.yml"),
    };
    Diagnostic::error(code, format!("{err} (target {target})")).with_help(help)
}

/// Whether a statement that failed with `e` may still have run: it was
/// sent, but no answer came (lost connection, timeout, garbled reply).
/// A statement Snowflake rejected, or one never sent, did not.
pub fn outcome_unknown(e: &WarehouseError) -> bool {
    !matches!(e, WarehouseError::Sql { .. } | WarehouseError::Config(_))
}

/// Whether the session can still run statements after `e` (to clean up).
pub fn connection_usable(e: &WarehouseError) -> bool {
    matches!(
        e,
        WarehouseError::Sql { .. } | WarehouseError::Timeout { .. }
    )
}
