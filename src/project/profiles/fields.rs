//! The fields of a Snowflake output in `profiles.yml`: every field
//! dbt-snowflake knows (its `SnowflakeCredentials`, the base `database`,
//! `schema`, `threads`, and the ones dbt Fusion adds) and cio-sql's own,
//! each either used or ignored. A field of neither is a warning (`CIO307`)
//! with a "did you mean"; a known one is never an error for being there.
//!
//! The README's profiles.yml field table lists the same fields (a test
//! checks it).

use crate::diagnostics::{Diagnostic, codes};

/// Whether cio-sql reads a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldUse {
    /// Read and acted on.
    Used,
    /// Accepted (dbt knows it) and not used; the README says why.
    Ignored,
}

/// A field of a Snowflake output.
#[derive(Debug, Clone, Copy)]
pub struct ProfileField {
    /// Its key.
    pub key: &'static str,
    /// Whether cio-sql reads it.
    pub used: FieldUse,
}

const fn used(key: &'static str) -> ProfileField {
    ProfileField {
        key,
        used: FieldUse::Used,
    }
}

const fn ignored(key: &'static str) -> ProfileField {
    ProfileField {
        key,
        used: FieldUse::Ignored,
    }
}

/// Every known field of a Snowflake output. dbt-snowflake's come from its
/// `SnowflakeCredentials` (`dbt/adapters/snowflake/connections.py`) and
/// <https://docs.getdbt.com/docs/core/connect-data-platform/snowflake-setup>.
pub const FIELDS: &[ProfileField] = &[
    used("type"),
    used("account"),
    used("user"),
    used("password"),
    used("authenticator"),
    used("private_key"),
    used("private_key_path"),
    used("private_key_passphrase"),
    used("role"),
    used("warehouse"),
    used("database"),
    used("dbname"),
    used("schema"),
    used("threads"),
    used("query_tag"),
    used("host"),
    used("port"),
    used("protocol"),
    used("proxy_host"),
    used("proxy_port"),
    used("connect_retries"),
    // cio-sql's own.
    used("emulator"),
    used("retries"),
    used("statement_timeout_seconds"),
    used("login_timeout_seconds"),
    used("read_timeout_seconds"),
    used("connect_timeout_seconds"),
    // dbt-snowflake's, accepted and not used (`token` and the `oauth_*`
    // ones only say that `authenticator: oauth` is not supported).
    ignored("token"),
    ignored("oauth_client_id"),
    ignored("oauth_client_secret"),
    ignored("connect_timeout"),
    ignored("client_session_keep_alive"),
    ignored("reuse_connections"),
    ignored("retry_on_database_errors"),
    ignored("retry_all"),
    ignored("insecure_mode"),
    ignored("s3_stage_vpce_dns_name"),
    ignored("platform_detection_timeout_seconds"),
    ignored("workload_identity_provider"),
    ignored("workload_identity_entra_resource"),
    // dbt Fusion's.
    ignored("metadata_warehouse"),
    ignored("request_timeout"),
];

/// The field `key` names, if it is a known one (keys are case-sensitive
/// in dbt, as in YAML).
pub fn known_field(key: &str) -> Option<&'static ProfileField> {
    FIELDS.iter().find(|f| f.key == key)
}

/// The known fields closest to `key` (for "did you mean").
pub fn closest(key: &str) -> Vec<String> {
    crate::suggest::closest(key, FIELDS.iter().map(|f| f.key))
}

/// The warning for an unknown field `key` of output `target` of
/// `profile`: named, with a "did you mean" when a known field is close
/// (positioned by the caller).
pub fn unknown_field(key: &str, profile: &str, target: &str) -> Diagnostic {
    let hint = crate::suggest::did_you_mean(key, FIELDS.iter().map(|f| f.key));
    let help = if hint.is_empty() {
        "remove it, or see the profiles.yml field table in README.md for the fields cio-sql and dbt-snowflake know".to_string()
    } else {
        format!("{hint} (the profiles.yml field table in README.md lists every known field)")
    };
    Diagnostic::warning(
        codes::PROFILE_UNKNOWN_FIELD,
        format!(
            "`{key}` of output `{target}` of profile `{profile}` is not a field cio-sql or dbt-snowflake knows; it is ignored"
        ),
    )
    .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_unique_and_unknown_ones_get_a_suggestion() {
        let mut keys: Vec<&str> = FIELDS.iter().map(|f| f.key).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "a field is listed twice");
        assert_eq!(
            known_field("insecure_mode").unwrap().used,
            FieldUse::Ignored
        );
        assert_eq!(known_field("private_key").unwrap().used, FieldUse::Used);
        assert!(known_field("Private_Key").is_none());
        let w = unknown_field("pasword", "p", "dev");
        assert_eq!((w.code.id(), w.is_error()), ("CIO307", false));
        assert!(w.message.contains("`pasword`"), "{}", w.message);
        assert!(
            w.help
                .as_deref()
                .unwrap()
                .contains("did you mean `password`"),
            "{:?}",
            w.help
        );
        let w = unknown_field("zzqx", "p", "dev");
        assert!(w.help.as_deref().unwrap().contains("field table"));
    }
}
