//! From a `profiles.yml` target to a live warehouse connection.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::{Project, Target};
use crate::settings::{
    CONNECT_TIMEOUT, Emulator, LOGIN_TIMEOUT, NumericSetting, PORT, READ_TIMEOUT, RETRIES,
    STATEMENT_TIMEOUT,
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
    let mut config = SnowflakeConfig::new(required("account")?, required("user")?);
    config.password = text("password").map(Secret::new);
    config.private_key_path = text("private_key_path").map(PathBuf::from);
    config.private_key_passphrase = text("private_key_passphrase").map(Secret::new);
    if config.password.is_none() && config.private_key_path.is_none() {
        return Err(Diagnostic::error(codes::NO_CONNECTION, format!("target `{}` has neither `password` nor `private_key_path`", target.name))
            .at_file(&source)
            .with_help("set password: \"{{ env_var('SNOWFLAKE_PASSWORD') }}\" or private_key_path: /path/to/key.p8 in the output"));
    }
    config.role = text("role");
    config.warehouse = text("warehouse");
    config.database = Some(target.database.clone());
    config.schema = Some(target.schema.clone());
    config.query_tag = text("query_tag");
    config.host = text("host");
    // In range (1 to 65535), so it fits.
    config.port = number(&PORT, PORT.key)?.map(|n| n as u16);
    config.protocol = text("protocol");
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
