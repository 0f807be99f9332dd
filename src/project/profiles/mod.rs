//! `profiles.yml`: connection targets in dbt's format.

pub mod fields;

use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::settings::{Emulator, NUMERIC_SETTINGS, NumericSetting, PORT, PROXY_PORT, RETRIES};
use serde_json::{Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// The database used when no profile is found.
pub const DEFAULT_DATABASE: &str = "ANALYTICS";
/// The schema used when no profile is found.
pub const DEFAULT_SCHEMA: &str = "PUBLIC";

/// Keys whose values are secrets: never printed, logged or written. Any
/// other key that ends in one of [`SECRET_KEY_ENDINGS`] is one too.
pub const SECRET_KEYS: &[&str] = &["password", "private_key_passphrase", "private_key", "token"];

/// Endings that make a key secret (`oauth_client_secret`, `refresh_token`).
pub const SECRET_KEY_ENDINGS: &[&str] =
    &["password", "passphrase", "secret", "token", "private_key"];

/// `threads`: models built at once.
pub const THREADS: NumericSetting = NumericSetting {
    key: "threads",
    env: "",
    min: 1,
    max: 1024,
    default: 1,
};

/// Whether the value of `key` is a secret.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str()) || SECRET_KEY_ENDINGS.iter().any(|e| key.ends_with(e))
}

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
    /// Fields that only commands that connect read (see
    /// [`COMPILE_FIELDS`]) whose value could not be rendered (an unset
    /// environment variable): absent from `fields`, and an error for those
    /// commands only ([`Target::check_connection_fields`]).
    pub deferred: Vec<(String, Diagnostic)>,
    /// Warnings about the output (a field neither cio-sql nor dbt-snowflake
    /// knows), reported by the commands that compile.
    pub warnings: Vec<Diagnostic>,
}

/// The fields of an output that commands which do not connect (`compile`,
/// `ls`, `lineage`, `sync-query`, `review`) read. A value of any other
/// field that cannot be rendered — `account: "{{ env_var('SNOWFLAKE_ACCOUNT') }}"`
/// with the variable unset — fails only the commands that connect.
pub const COMPILE_FIELDS: &[&str] = &["type", "database", "dbname", "schema", "threads"];

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
            deferred: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The first field that only commands that connect read and whose
    /// value could not be rendered, as the error it is for them (naming
    /// the field, the variable and the line).
    pub fn check_connection_fields(&self) -> Result<(), Diagnostic> {
        match self.deferred.first() {
            Some((_, d)) => Err(d.clone()),
            None => Ok(()),
        }
    }

    /// The output's fields with every secret replaced by `"***"` and every
    /// other value scrubbed ([`crate::redact`]: a `host` URL loses its
    /// credentials): safe for `target` in templates, logs and the manifest.
    pub fn public_fields(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in &self.fields {
            if is_secret_key(key) {
                out.insert(key.clone(), Value::String(crate::redact::MASK.into()));
            } else {
                let mut value = value.clone();
                crate::redact::scrub_json(&mut value);
                out.insert(key.clone(), value);
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

    /// `d` pointed at the line of the output's field `key` (its value)
    /// in the `profiles.yml` the target came from, with every secret of
    /// the file masked; at the file when the line cannot be found. For
    /// errors found after loading (by the commands that connect): the file
    /// is read again, on this error path only.
    pub fn at_field(&self, d: Diagnostic, key: &str) -> Diagnostic {
        let Some(path) = &self.source else {
            return d;
        };
        let located = std::fs::read_to_string(path).ok().and_then(|text| {
            let profile = self.profile.as_deref()?;
            let pos = key_position(&text, &[profile, "outputs", &self.name, key])?;
            Some((text, pos))
        });
        match located {
            Some((text, pos))
                if text
                    .lines()
                    .nth(pos.line - 1)
                    .is_some_and(|l| line_key(l.trim_start()).is_some_and(|(k, _)| k == key)) =>
            {
                d.at_line(
                    path,
                    &mask_secret_lines(&text),
                    pos.line,
                    Some(pos.value_column),
                )
            }
            _ => d.at_file(path),
        }
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
                codes::PROFILE,
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
///
/// Secrets of the output are registered with [`crate::redact`]; no
/// diagnostic shows the value of a secret field (a YAML error on such a line
/// shows the line with the value masked).
pub fn parse_target(
    text: &str,
    path: &Path,
    profile: &str,
    target: Option<&str>,
) -> Result<Target, Diagnostic> {
    // Points `d` at the key `keys` (or its value), or at the deepest
    // ancestor found, in the text with its secrets masked (built only for
    // an error: loading stays cheap).
    let at_key = |d: Diagnostic, keys: &[&str], value: bool| match key_position(text, keys) {
        Some(pos) => {
            let column = if value {
                pos.value_column
            } else {
                pos.key_column
            };
            d.at_line(path, &mask_secret_lines(text), pos.line, Some(column))
        }
        None => d.at_file(path),
    };
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        Diagnostic::yaml_error(codes::PROFILE, path, &mask_secret_lines(text), &e)
            .with_general_help(
                "profiles.yml maps a profile name to {target: NAME, outputs: {NAME: {...}}}",
            )
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
            codes::PROFILE,
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
    if !entry.is_object() {
        return Err(at_key(
            Diagnostic::error(
                codes::PROFILE,
                format!(
                    "profile `{profile}` in {} must be a mapping with `target:` and `outputs:`",
                    path.display()
                ),
            ),
            &[profile],
            true,
        )
        .with_help(format!(
            "write {profile}:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      …"
        )));
    }
    let target_name = match target {
        Some(t) => t.to_string(),
        None => match entry.get("target") {
            Some(Value::String(t)) => render_value(t, path, &format!("{profile}.target"))?,
            _ => "dev".to_string(),
        },
    };
    let outputs = match entry.get("outputs") {
        Some(Value::Object(o)) => o,
        None | Some(Value::Null) => {
            return Err(at_key(
                Diagnostic::error(
                    codes::PROFILE,
                    format!(
                        "profile `{profile}` in {} has no `outputs:`",
                        path.display()
                    ),
                ),
                &[profile],
                false,
            )
            .with_help(format!(
                "add `outputs:` under `{profile}:`, a mapping of target names to their settings (`dev: {{type: snowflake, …}}`)"
            )));
        }
        Some(other) => {
            return Err(at_key(
                Diagnostic::error(
                    codes::PROFILE,
                    format!(
                        "`outputs` of profile `{profile}` must be a mapping of target names to their settings, not {}",
                        yaml_kind(other)
                    ),
                ),
                &[profile, "outputs"],
                true,
            )
            .with_help(
                "write each target as a key under `outputs:`, e.g.\n  outputs:\n    dev:\n      type: snowflake\n      …",
            ));
        }
    };
    let Some(output_value) = outputs.get(&target_name) else {
        let known: Vec<String> = outputs.keys().cloned().collect();
        return Err(Diagnostic::error(
            codes::PROFILE,
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
    let Some(output) = output_value.as_object() else {
        return Err(at_key(
            Diagnostic::error(
                codes::PROFILE,
                format!(
                    "output `{target_name}` of profile `{profile}` must be a mapping of settings, not {}",
                    yaml_kind(output_value)
                ),
            ),
            &[profile, "outputs", &target_name],
            true,
        )
        .with_help(format!(
            "write `{target_name}:` followed by its settings, indented: `type: snowflake`, `account: …`"
        )));
    };
    let mut fields = Map::new();
    let mut deferred = Vec::new();
    let mut warnings = Vec::new();
    let snowflake = output
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(|t| t.trim().eq_ignore_ascii_case("snowflake"));
    for (key, value) in output {
        if snowflake && fields::known_field(key).is_none() {
            // A misspelled secret key (`pasword:`) holds a secret: its value
            // is registered, and never shown.
            if let Value::String(v) = value
                && fields::closest(key).iter().any(|k| is_secret_key(k))
            {
                crate::redact::register(v);
            }
            let d = fields::unknown_field(key, profile, &target_name);
            warnings.push(
                match key_position(text, &[profile, "outputs", &target_name, key]) {
                    Some(pos) if pos.value_column > pos.key_column => {
                        let masked =
                            mask_value_at(&mask_secret_lines(text), pos.line, pos.value_column);
                        d.at_line(path, &masked, pos.line, Some(pos.key_column))
                    }
                    Some(pos) => d.at_line(
                        path,
                        &mask_secret_lines(text),
                        pos.line,
                        Some(pos.key_column),
                    ),
                    None => d.at_file(path),
                },
            );
        }
        let rendered = match value {
            Value::String(s) => {
                match render_value(s, path, &format!("{profile}.outputs.{target_name}.{key}")) {
                    Ok(v) => Value::String(v),
                    Err(d) => {
                        let d = at_key(d, &[profile, "outputs", &target_name, key], true);
                        if COMPILE_FIELDS.contains(&key.as_str()) {
                            return Err(d);
                        }
                        let help = d.help.clone().unwrap_or_default();
                        deferred.push((
                            key.clone(),
                            d.with_help(format!(
                                "{help}; only commands that connect to Snowflake read `{key}` (compile, ls, lineage, sync-query and review run without it)"
                            )),
                        ));
                        continue;
                    }
                }
            }
            other => other.clone(),
        };
        register_secrets(key, &rendered);
        fields.insert(key.clone(), rendered);
    }
    // Numeric settings: whole numbers in range, or an error at their line.
    let mut numeric: Vec<NumericSetting> = NUMERIC_SETTINGS.to_vec();
    numeric.push(NumericSetting {
        key: "connect_retries",
        ..RETRIES
    });
    numeric.push(THREADS);
    numeric.push(PORT);
    numeric.push(PROXY_PORT);
    for setting in &numeric {
        let Some(value) = fields.get(setting.key).filter(|v| !v.is_null()) else {
            continue;
        };
        if let Err(why) = setting.parse(value) {
            return Err(at_key(
                Diagnostic::error(
                    codes::PROFILE,
                    format!("output `{target_name}` of profile `{profile}`: {why}"),
                ),
                &[profile, "outputs", &target_name, setting.key],
                true,
            )
            .with_help(format!(
                "set `{}:` to {} (default {})",
                setting.key,
                setting.range(),
                setting.default
            )));
        }
    }
    if let Some(value) = fields.get(Emulator::KEY).filter(|v| !v.is_null()) {
        let parsed = match value {
            Value::String(s) => Emulator::parse(s).map(|_| ()),
            other => Emulator::parse(&other.to_string()).map(|_| ()),
        };
        if let Err(why) = parsed {
            return Err(at_key(
                Diagnostic::error(
                    codes::PROFILE,
                    format!("output `{target_name}` of profile `{profile}`: {why}"),
                ),
                &[profile, "outputs", &target_name, Emulator::KEY],
                true,
            )
            .with_help(
                "set `emulator: fakesnow` for a target whose `host` is a local fakesnow, or remove the key (a real Snowflake, a proxy or a private link needs none)",
            ));
        }
    }
    let string = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);
    let database = string("database")
        .or_else(|| string("dbname"))
        .ok_or_else(|| {
            Diagnostic::error(
                codes::PROFILE,
                format!("output `{target_name}` of profile `{profile}` has no `database`"),
            )
            .at_file(path)
            .with_help("add `database: ANALYTICS` (the database models are built in)")
        })?;
    let schema = string("schema").ok_or_else(|| {
        Diagnostic::error(
            codes::PROFILE,
            format!("output `{target_name}` of profile `{profile}` has no `schema`"),
        )
        .at_file(path)
        .with_help("add `schema: CUSTOMER_IO` (the schema models are built in)")
    })?;
    let threads = fields
        .get(THREADS.key)
        .and_then(|v| THREADS.parse(v).ok())
        .unwrap_or(THREADS.default) as usize;
    Ok(Target {
        name: target_name,
        profile: Some(profile.to_string()),
        kind: string("type").unwrap_or_else(|| "snowflake".into()),
        database,
        schema,
        threads,
        fields,
        source: Some(path.to_path_buf()),
        deferred,
        warnings,
    })
}

/// Registers the secrets a field of an output holds: its value when the key
/// is secret, the credentials of any URL otherwise.
fn register_secrets(key: &str, value: &Value) {
    match value {
        Value::String(s) if is_secret_key(key) => crate::redact::register(s),
        Value::String(s) => crate::redact::register_url_credentials(s),
        Value::Number(n) if is_secret_key(key) => crate::redact::register(&n.to_string()),
        _ => {}
    }
}

/// "a list", "a string", … for messages.
fn yaml_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Where a key of a block-style YAML document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeyPosition {
    /// 1-based line.
    line: usize,
    /// 1-based column of the key.
    key_column: usize,
    /// 1-based column of the value on the same line (the key's when the
    /// value is on the following lines).
    value_column: usize,
}

/// The key of a block-mapping line (`key: …`, `"key": …`), after its
/// indentation, and the byte offset of what follows the colon.
fn line_key(content: &str) -> Option<(String, usize)> {
    let (key, rest_at) =
        if let Some(quote) = content.chars().next().filter(|c| matches!(c, '"' | '\'')) {
            let end = content[1..].find(quote)? + 1;
            let after = &content[end + 1..];
            let colon = after.find(|c: char| !c.is_whitespace())?;
            if !after[colon..].starts_with(':') {
                return None;
            }
            (content[1..end].to_string(), end + 1 + colon + 1)
        } else {
            let colon = content.match_indices(':').map(|(i, _)| i).find(|&i| {
                content[i + 1..].is_empty() || content[i + 1..].starts_with([' ', '\t'])
            })?;
            let key = content[..colon].trim_end();
            if key.is_empty() || key.starts_with(['-', '#', '{', '[']) {
                return None;
            }
            (key.to_string(), colon + 1)
        };
    Some((key, rest_at))
}

/// The position of the key at `path` in a block-style YAML `text`, or of
/// its deepest ancestor present; `None` when not even the first key is found
/// (flow style, say).
fn key_position(text: &str, path: &[&str]) -> Option<KeyPosition> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut best: Option<(usize, KeyPosition)> = None;
    for (i, line) in text.lines().enumerate() {
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let Some((key, rest_at)) = line_key(content) else {
            continue;
        };
        while stack.last().is_some_and(|(ind, _)| *ind >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        let depth = stack.len();
        if depth > path.len() || !stack.iter().zip(path).all(|((_, k), p)| k == p) {
            continue;
        }
        let rest = &content[rest_at..];
        let value_offset = rest.len() - rest.trim_start().len();
        let key_column = line[..indent].chars().count() + 1;
        let value_column = if rest.trim().is_empty() {
            key_column
        } else {
            line[..indent + rest_at + value_offset].chars().count() + 1
        };
        let pos = KeyPosition {
            line: i + 1,
            key_column,
            value_column,
        };
        if depth == path.len() {
            return Some(pos);
        }
        if best.is_none_or(|(d, _)| depth > d) {
            best = Some((depth, pos));
        }
    }
    best.map(|(_, p)| p)
}

/// `profiles.yml` text with the value of every secret field replaced by
/// `***`, line by line (same number of lines): the line of a secret key
/// keeps the key and loses its value, and the lines of a value continued
/// below it (a block scalar, a multi-line string) are masked too. Templates
/// are masked like any value: their `env_var` defaults may be secrets.
pub fn mask_secret_lines(text: &str) -> String {
    let mask = crate::redact::MASK;
    let mut out = String::with_capacity(text.len());
    // Indentation of the secret key whose value may continue below.
    let mut secret_indent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let (body, ending) = match line.strip_suffix('\n') {
            Some(b) => match b.strip_suffix('\r') {
                Some(b2) => (b2, "\r\n"),
                None => (b, "\n"),
            },
            None => (line, ""),
        };
        let content = body.trim_start();
        let indent = body.len() - content.len();
        if let Some(key_indent) = secret_indent {
            if content.is_empty() {
                out.push_str(line);
                continue;
            }
            if indent > key_indent {
                out.push_str(&body[..indent]);
                out.push_str(mask);
                out.push_str(ending);
                continue;
            }
            secret_indent = None;
        }
        // A list item (`- password: x`) starts its mapping after the dash.
        let item = content.strip_prefix("- ").map(|rest| {
            (
                indent + 2 + (rest.len() - rest.trim_start().len()),
                rest.trim_start(),
            )
        });
        let (key_at, key_content) = item.unwrap_or((indent, content));
        match line_key(key_content) {
            Some((key, rest_at)) if is_secret_key(&key) => {
                let value = key_content[rest_at..].trim();
                if value.is_empty() {
                    out.push_str(body);
                } else {
                    out.push_str(&body[..key_at + rest_at]);
                    out.push(' ');
                    out.push_str(mask);
                }
                out.push_str(ending);
                secret_indent = Some(key_at);
            }
            _ => {
                out.push_str(&crate::redact::mask_key_values(body));
                out.push_str(ending);
            }
        }
    }
    out
}

/// `text` with the value on line `line` (1-based), from `column` (1-based,
/// in characters) to the end of the line, replaced by `***`.
fn mask_value_at(text: &str, line: usize, column: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let kept: String = l.chars().take(column - 1).collect();
            out.push_str(&kept);
            out.push_str(crate::redact::MASK);
            if l.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(l);
        }
    }
    out
}

/// `env_var(name, default)` as dbt has it: the environment variable, else
/// the default; `Err` with the message when there is neither. Profiles and
/// models (see [`crate::render`]) read the environment through this.
pub fn env_value(name: &str, default: Option<String>) -> Result<String, String> {
    match std::env::var(name) {
        Ok(value) => Ok(value),
        Err(_) => default.ok_or_else(|| format!("environment variable {name} is not set")),
    }
}

/// Renders `{{ env_var('X', 'default') }}` (and other Jinja) in one value.
fn render_value(raw: &str, path: &Path, key: &str) -> Result<String, Diagnostic> {
    if !raw.contains("{{") && !raw.contains("{%") {
        return Ok(raw.to_string());
    }
    let mut env = minijinja::Environment::new();
    env.add_function(
        "env_var",
        |name: String, default: Option<String>| -> Result<String, minijinja::Error> {
            env_value(&name, default).map_err(|message| {
                minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message)
            })
        },
    );
    env.render_str(raw, ()).map_err(|e| {
        let detail = e.detail().unwrap_or("cannot render the value").to_string();
        Diagnostic::error(codes::PROFILE, format!("{key} in {}: {detail}", path.display()))
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

    /// A profile whose `dev` output has `extra` appended.
    fn profile_with(extra: &str) -> String {
        format!(
            "p:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: acme\n      database: D\n      schema: S\n{extra}"
        )
    }

    #[test]
    fn yaml_errors_never_show_a_secret_value() {
        let text = profile_with("      password: Hunter2: S3cretPW\n      user: u\n");
        let err = parse_target(&text, Path::new("profiles.yml"), "p", None).unwrap_err();
        let shown = format!(
            "{} {}",
            err.render(false),
            serde_json::to_string(&err).unwrap()
        );
        assert!(
            !shown.contains("Hunter2") && !shown.contains("S3cretPW"),
            "{shown}"
        );
        assert!(shown.contains("password: ***"), "{shown}");
        assert_eq!(err.line, Some(9));
        assert_eq!(err.code, "CIO005");
    }

    #[test]
    fn secret_lines_are_masked_whole_and_continued() {
        let text = "p:\n  outputs:\n    dev:\n      password: \"ab: cd\n        ef gh\"\n      private_key: |\n        -----BEGIN PRIVATE KEY-----\n        MIIB\n\n      user: u\n      - token: t0k3n\n      flow: {password: fl0w, user: u}\n      password_hint: keep\n";
        let masked = mask_secret_lines(text);
        assert_eq!(masked.lines().count(), text.lines().count());
        for gone in ["ab: cd", "ef gh", "MIIB", "BEGIN", "t0k3n", "fl0w"] {
            assert!(!masked.contains(gone), "{gone}: {masked}");
        }
        for kept in [
            "user: u",
            "password_hint: keep",
            "      password: ***",
            "      private_key: ***",
        ] {
            assert!(masked.contains(kept), "{kept}: {masked}");
        }
    }

    #[test]
    fn numeric_settings_out_of_range_are_errors_at_their_line() {
        for (line, key, range) in [
            ("retries: 4294967297", "retries", "from 0 to 20"),
            (
                "statement_timeout_seconds: -5",
                "statement_timeout_seconds",
                "from 0 to 604800",
            ),
            ("retries: many", "retries", "from 0 to 20"),
            (
                "login_timeout_seconds: 0",
                "login_timeout_seconds",
                "from 1 to 3600",
            ),
            (
                "read_timeout_seconds: 1.5",
                "read_timeout_seconds",
                "from 1 to 3600",
            ),
            (
                "connect_timeout_seconds: [1]",
                "connect_timeout_seconds",
                "from 1 to 600",
            ),
            ("threads: 0", "threads", "from 1 to 1024"),
            ("connect_retries: -1", "connect_retries", "from 0 to 20"),
            ("port: 70000", "port", "from 1 to 65535"),
        ] {
            let text = profile_with(&format!("      {line}\n"));
            let err = parse_target(&text, Path::new("profiles.yml"), "p", None).unwrap_err();
            assert_eq!(err.code, "CIO005");
            assert!(
                err.message.contains(key) && err.message.contains(range),
                "{}",
                err.message
            );
            assert_eq!(err.line, Some(9), "{line}");
            assert_eq!(
                err.source_line.as_deref(),
                Some(format!("      {line}").as_str())
            );
            assert!(err.help.as_deref().unwrap_or("").contains(range));
        }
        let ok = profile_with(
            "      retries: \"5\"\n      statement_timeout_seconds: 0\n      threads: 8\n",
        );
        let t = parse_target(&ok, Path::new("profiles.yml"), "p", None).unwrap();
        assert_eq!(t.threads, 8);
    }

    #[test]
    fn the_emulator_setting_names_a_known_emulator() {
        let text = profile_with("      emulator: fakesnoww\n");
        let err = parse_target(&text, Path::new("profiles.yml"), "p", None).unwrap_err();
        assert_eq!((err.code.id(), err.line), ("CIO005", Some(9)));
        assert!(
            err.message.contains("`emulator` must be `fakesnow`"),
            "{}",
            err.message
        );
        assert!(
            err.help
                .as_deref()
                .unwrap_or("")
                .contains("emulator: fakesnow")
        );
        let ok = profile_with("      emulator: Fakesnow\n");
        let t = parse_target(&ok, Path::new("profiles.yml"), "p", None).unwrap();
        assert_eq!(t.field("emulator"), Some("Fakesnow"));
    }

    #[test]
    fn outputs_must_be_a_mapping() {
        let text = "p:\n  target: dev\n  outputs: [dev]\n";
        let err = parse_target(text, Path::new("profiles.yml"), "p", None).unwrap_err();
        assert!(
            err.message
                .contains("`outputs` of profile `p` must be a mapping of target names"),
            "{}",
            err.message
        );
        assert!(err.message.contains("not a list"), "{}", err.message);
        assert_eq!((err.line, err.column), (Some(3), Some(12)));
        assert!(!err.help.as_deref().unwrap_or("").contains("(none)"));

        let text = "p:\n  target: dev\n  outputs:\n    dev: snowflake\n";
        let err = parse_target(text, Path::new("profiles.yml"), "p", None).unwrap_err();
        assert!(
            err.message.contains("must be a mapping of settings"),
            "{}",
            err.message
        );
        assert_eq!(err.line, Some(4));

        let err =
            parse_target("p:\n  target: dev\n", Path::new("profiles.yml"), "p", None).unwrap_err();
        assert!(err.message.contains("has no `outputs:`"), "{}", err.message);
        assert_eq!(err.line, Some(1));
        let err = parse_target("p: [a]\n", Path::new("profiles.yml"), "p", None).unwrap_err();
        assert!(err.message.contains("must be a mapping"), "{}", err.message);
    }

    #[test]
    fn key_positions_follow_indentation() {
        let text = "# c\np:\n  outputs:\n    \"dev\":\n      retries: 5 # x\n    prod:\n      retries: 7\n";
        let pos = key_position(text, &["p", "outputs", "prod", "retries"]).unwrap();
        assert_eq!((pos.line, pos.key_column, pos.value_column), (7, 7, 16));
        let pos = key_position(text, &["p", "outputs", "dev", "retries"]).unwrap();
        assert_eq!(pos.line, 5);
        // A missing key falls back to its deepest ancestor.
        let pos = key_position(text, &["p", "outputs", "qa", "retries"]).unwrap();
        assert_eq!(pos.line, 3);
        assert!(key_position("{p: 1}", &["p"]).is_none());
    }

    #[test]
    fn public_fields_hide_secrets_and_url_credentials() {
        let text = profile_with(
            "      password: pf-Secret-1\n      oauth_client_secret: pf-Secret-2\n      host: https://bob:pf-Url-Pw@proxy.example.com\n",
        );
        let t = parse_target(&text, Path::new("profiles.yml"), "p", None).unwrap();
        let shown = serde_json::to_string(&t.public_fields()).unwrap();
        for secret in ["pf-Secret-1", "pf-Secret-2", "pf-Url-Pw", "bob:"] {
            assert!(!shown.contains(secret), "{secret}: {shown}");
        }
        assert!(shown.contains("https://***@proxy.example.com"), "{shown}");
        // Registered: any later output is scrubbed of them.
        assert_eq!(crate::redact::scrub("x pf-Secret-2 y"), "x *** y");
        assert!(is_secret_key("PRIVATE_KEY_PASSPHRASE") && !is_secret_key("private_key_path"));
    }

    #[test]
    fn unset_variables_of_connection_fields_fail_only_connecting() {
        let text = "p:\n  outputs:\n    dev:\n      account: \"{{ env_var('CIO_SQL_TEST_UNSET_ACC') }}\"\n      user: \"{{ env_var('CIO_SQL_TEST_UNSET_USR') }}\"\n      database: d\n      schema: s\n";
        let t = parse_target(text, Path::new("profiles.yml"), "p", None).unwrap();
        assert_eq!(t.field("account"), None);
        let keys: Vec<&str> = t.deferred.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["account", "user"]);
        let err = t.check_connection_fields().unwrap_err();
        assert_eq!((err.code.id(), err.line), ("CIO005", Some(4)));
        assert!(
            err.message.contains("CIO_SQL_TEST_UNSET_ACC"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("p.outputs.dev.account"),
            "{}",
            err.message
        );
        assert!(
            Target::default_target(None)
                .check_connection_fields()
                .is_ok()
        );
    }

    #[test]
    fn unknown_fields_warn_at_their_line_and_known_dbt_fields_do_not() {
        let text = profile_with(
            "      pasword: Typo-Secret-9\n      client_session_keep_alive: true\n      reuse_connections: false\n      insecure_mode: true\n      retry_all: true\n      retry_on_database_errors: true\n      connect_timeout: 10\n      connect_retries: 2\n      oauth_client_id: i\n      workload_identity_provider: OIDC\n",
        );
        let t = parse_target(&text, Path::new("profiles.yml"), "p", None).unwrap();
        assert_eq!(t.warnings.len(), 1, "{:?}", t.warnings);
        let w = &t.warnings[0];
        assert_eq!(
            (w.code.id(), w.line, w.column),
            ("CIO307", Some(9), Some(7))
        );
        assert!(
            w.help
                .as_deref()
                .unwrap()
                .contains("did you mean `password`")
        );
        // The value of a misspelled key is never shown: it may be a secret.
        assert_eq!(w.source_line.as_deref(), Some("      pasword: ***"));
        assert_eq!(crate::redact::scrub("a Typo-Secret-9"), "a ***");
        // Another adapter's output is not checked against Snowflake's fields.
        let text = "p:\n  outputs:\n    dev:\n      type: duckdb\n      path: x.duckdb\n      database: d\n      schema: s\n";
        let t = parse_target(text, Path::new("profiles.yml"), "p", None).unwrap();
        assert!(t.warnings.is_empty());
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
