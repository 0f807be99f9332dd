//! `profiles.yml`: connection targets in dbt's format.

use crate::diagnostics::Diagnostic;
use serde_json::{Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// The database used when no profile is found.
pub const DEFAULT_DATABASE: &str = "ANALYTICS";
/// The schema used when no profile is found.
pub const DEFAULT_SCHEMA: &str = "PUBLIC";

/// Keys whose values are secrets: never printed, logged or written.
pub const SECRET_KEYS: &[&str] = &["password", "private_key_passphrase", "private_key", "token"];

/// The selected output of a profile.
#[derive(Clone)]
pub struct Target {
    /// The target name (`dev`, `prod`); `default` without a profile.
    pub name: String,
    /// The profile it came from, when one was found.
    pub profile: Option<String>,
    /// `type:` of the output (`snowflake`).
    pub kind: String,
    /// Database models are built in.
    pub database: String,
    /// Schema models are built in.
    pub schema: String,
    /// `threads:` (1 when absent).
    pub threads: usize,
    /// Every key of the output, `env_var` already rendered. Holds secrets:
    /// use [`Target::public_fields`] for anything shown to a person.
    pub fields: Map<String, Value>,
    /// The `profiles.yml` it was read from.
    pub source: Option<PathBuf>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("profile", &self.profile)
            .field("kind", &self.kind)
            .field("database", &self.database)
            .field("schema", &self.schema)
            .field("fields", &self.public_fields())
            .finish()
    }
}

impl Target {
    /// The target used when there is no `profiles.yml`.
    pub fn default_target(name: Option<&str>) -> Self {
        Target {
            name: name.unwrap_or("default").to_string(),
            profile: None,
            kind: "snowflake".into(),
            database: DEFAULT_DATABASE.into(),
            schema: DEFAULT_SCHEMA.into(),
            threads: 1,
            fields: Map::new(),
            source: None,
        }
    }

    /// The output's fields with every secret replaced by `"***"`: safe for
    /// `target` in templates, logs and the manifest.
    pub fn public_fields(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in &self.fields {
            if SECRET_KEYS.contains(&key.as_str()) {
                out.insert(key.clone(), Value::String("***".into()));
            } else {
                out.insert(key.clone(), value.clone());
            }
        }
        out.insert("name".into(), Value::String(self.name.clone()));
        out.insert("target_name".into(), Value::String(self.name.clone()));
        out.insert("type".into(), Value::String(self.kind.clone()));
        out.insert("database".into(), Value::String(self.database.clone()));
        out.insert("schema".into(), Value::String(self.schema.clone()));
        out.insert("threads".into(), Value::from(self.threads));
        if let Some(profile) = &self.profile {
            out.insert("profile_name".into(), Value::String(profile.clone()));
        }
        out
    }

    /// A string field of the output, e.g. `account`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }
}

/// Finds `profiles.yml` and returns the selected target of `profile`.
///
/// Search order, as in dbt: `profiles_dir`, `$DBT_PROFILES_DIR`, the project
/// folder, `~/.dbt`. With no file at all, [`Target::default_target`] is used.
pub fn load_target(
    project_dir: &Path,
    profiles_dir: Option<&Path>,
    profile: &str,
    target: Option<&str>,
) -> Result<Target, Diagnostic> {
    let path = match find_profiles(project_dir, profiles_dir)? {
        Some(path) => path,
        None => return Ok(Target::default_target(target)),
    };
    let text = super::read_text(&path)?;
    parse_target(&text, &path, profile, target)
}

fn find_profiles(
    project_dir: &Path,
    explicit: Option<&Path>,
) -> Result<Option<PathBuf>, Diagnostic> {
    if let Some(dir) = explicit {
        let path = dir.join("profiles.yml");
        if !path.is_file() {
            return Err(Diagnostic::error(
                "CIO005",
                format!(
                    "no profiles.yml in {} (given with --profiles-dir)",
                    dir.display()
                ),
            )
            .with_help("point --profiles-dir at the folder that holds profiles.yml"));
        }
        return Ok(Some(path));
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("DBT_PROFILES_DIR") {
        candidates.push(PathBuf::from(dir).join("profiles.yml"));
    }
    candidates.push(project_dir.join("profiles.yml"));
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".dbt").join("profiles.yml"));
    }
    Ok(candidates.into_iter().find(|p| p.is_file()))
}

/// Parses `profiles.yml` text and selects `profile`'s target.
pub fn parse_target(
    text: &str,
    path: &Path,
    profile: &str,
    target: Option<&str>,
) -> Result<Target, Diagnostic> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        Diagnostic::yaml_error("CIO005", path, text, &e)
            .with_help("profiles.yml maps a profile name to {target: NAME, outputs: {NAME: {...}}}")
    })?;
    let Some(entry) = doc.get(profile) else {
        let known: Vec<&str> = doc
            .as_object()
            .map(|m| {
                m.keys()
                    .map(String::as_str)
                    .filter(|k| *k != "config")
                    .collect()
            })
            .unwrap_or_default();
        return Err(Diagnostic::error(
            "CIO005",
            format!("profile `{profile}` is not in {}", path.display()),
        )
        .at_file(path)
        .with_help(format!(
            "add a `{profile}:` entry, or set `profile:` in dbt_project.yml to one of: {}",
            if known.is_empty() {
                "(none)".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    let target_name = match target {
        Some(t) => t.to_string(),
        None => match entry.get("target") {
            Some(Value::String(t)) => render_value(t, path, &format!("{profile}.target"))?,
            _ => "dev".to_string(),
        },
    };
    let outputs = entry.get("outputs").and_then(Value::as_object);
    let Some(output) = outputs
        .and_then(|o| o.get(&target_name))
        .and_then(Value::as_object)
    else {
        let known: Vec<String> = outputs
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        return Err(Diagnostic::error(
            "CIO005",
            format!(
                "target `{target_name}` is not an output of profile `{profile}` in {}",
                path.display()
            ),
        )
        .at_file(path)
        .with_help(format!(
            "choose one of: {} (with --target NAME), or add it under outputs:",
            if known.is_empty() {
                "(none)".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    let mut fields = Map::new();
    for (key, value) in output {
        let rendered = match value {
            Value::String(s) => Value::String(render_value(
                s,
                path,
                &format!("{profile}.outputs.{target_name}.{key}"),
            )?),
            other => other.clone(),
        };
        fields.insert(key.clone(), rendered);
    }
    let string = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);
    let database = string("database")
        .or_else(|| string("dbname"))
        .ok_or_else(|| {
            Diagnostic::error(
                "CIO005",
                format!("output `{target_name}` of profile `{profile}` has no `database`"),
            )
            .at_file(path)
            .with_help("add `database: ANALYTICS` (the database models are built in)")
        })?;
    let schema = string("schema").ok_or_else(|| {
        Diagnostic::error(
            "CIO005",
            format!("output `{target_name}` of profile `{profile}` has no `schema`"),
        )
        .at_file(path)
        .with_help("add `schema: CUSTOMER_IO` (the schema models are built in)")
    })?;
    let threads = match fields.get("threads") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(1).max(1) as usize,
        Some(Value::String(s)) => s.parse().unwrap_or(1),
        _ => 1,
    };
    Ok(Target {
        name: target_name,
        profile: Some(profile.to_string()),
        kind: string("type").unwrap_or_else(|| "snowflake".into()),
        database,
        schema,
        threads,
        fields,
        source: Some(path.to_path_buf()),
    })
}

/// Renders `{{ env_var('X', 'default') }}` (and other Jinja) in one value.
fn render_value(raw: &str, path: &Path, key: &str) -> Result<String, Diagnostic> {
    if !raw.contains("{{") && !raw.contains("{%") {
        return Ok(raw.to_string());
    }
    let mut env = minijinja::Environment::new();
    env.add_function("env_var", crate::render::env_var);
    env.render_str(raw, ()).map_err(|e| {
        let detail = e.detail().unwrap_or("cannot render the value").to_string();
        Diagnostic::error("CIO005", format!("{key} in {}: {detail}", path.display()))
            .at_file(path)
            .with_help("set the environment variable, or give env_var a default: {{ env_var('NAME', 'default') }}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILES: &str = "p:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: \"{{ env_var('CIO_SQL_TEST_UNSET_ACCOUNT', 'acme') }}\"\n      password: \"{{ env_var('CIO_SQL_TEST_UNSET_PW', 'hunter2') }}\"\n      database: ANALYTICS\n      schema: CIO\n      threads: 4\n    prod:\n      type: snowflake\n      database: PROD\n      schema: CIO\n";

    #[test]
    fn selects_default_and_named_targets() {
        let t = parse_target(PROFILES, Path::new("profiles.yml"), "p", None).unwrap();
        assert_eq!(
            (t.name.as_str(), t.database.as_str(), t.threads),
            ("dev", "ANALYTICS", 4)
        );
        assert_eq!(t.field("account"), Some("acme"));
        let prod = parse_target(PROFILES, Path::new("profiles.yml"), "p", Some("prod")).unwrap();
        assert_eq!(prod.database, "PROD");
    }

    #[test]
    fn secrets_never_show() {
        let t = parse_target(PROFILES, Path::new("profiles.yml"), "p", None).unwrap();
        assert!(!format!("{t:?}").contains("hunter2"));
        assert_eq!(t.public_fields()["password"], "***");
    }

    #[test]
    fn missing_env_var_and_target_are_clear() {
        let text = "p:\n  outputs:\n    dev:\n      database: \"{{ env_var('CIO_SQL_TEST_SURELY_UNSET') }}\"\n      schema: s\n";
        let err = parse_target(text, Path::new("profiles.yml"), "p", None).unwrap_err();
        assert!(
            err.message.contains("CIO_SQL_TEST_SURELY_UNSET"),
            "{}",
            err.message
        );
        let err = parse_target(PROFILES, Path::new("profiles.yml"), "p", Some("qa")).unwrap_err();
        assert!(err.help.unwrap().contains("dev, prod"));
        let err = parse_target(PROFILES, Path::new("profiles.yml"), "nope", None).unwrap_err();
        assert!(err.message.contains("profile `nope`"));
    }
}
