//! Data tests: queries that return a model's failing rows, run by
//! `cio-sql test` and by `build` right after the model
//! (`execution::data_test`).
//!
//! A [`DataTest`] is one query with its name, kind, the model it belongs
//! to, the models it reads and its severity. The contract tests are
//! generated here for every sync model from the destination registry
//! ([`crate::destinations`]: the sync type's required fields and key, and
//! the destination's [`DataRules`]); a `.yml` reader of dbt's generic tests
//! and the singular tests under `test-paths` fill the same type.
//!
//! A model turns contract tests off or down to warnings with its
//! `cio_tests` config (`config(cio_tests={'unique_key': 'warn'})`, or
//! `+cio_tests:` in `dbt_project.yml`), checked when it compiles
//! ([`check_config`]: CIO060, CIO061).

use crate::compile::{Compilation, CompiledModel, ModelStatus};
use crate::destinations::{DataRules, Field, SyncType, ValueRule};
use crate::diagnostics::{Diagnostic, codes};
use crate::project::ModelConfig;
use crate::sql::quote;
use serde_json::Value;

/// What made a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    /// One of dbt's generic tests (`unique`, `not_null`, …) from a `.yml`.
    Generic,
    /// A `.sql` file under `test-paths` selecting failing rows.
    Singular,
    /// Generated from the sync type's contract.
    Contract,
}

impl TestKind {
    /// Its name in `test_type:` selectors.
    pub fn name(self) -> &'static str {
        match self {
            TestKind::Generic => "generic",
            TestKind::Singular => "singular",
            TestKind::Contract => "contract",
        }
    }
}

/// What a failing test does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestSeverity {
    /// A failure fails the run and skips the model's dependents in `build`.
    Error,
    /// A failure is reported and the run goes on.
    Warn,
}

/// One data test: a query returning the failing rows.
#[derive(Debug, Clone)]
pub struct DataTest {
    /// Its name, unique in the project (`cio_unique_key_people`).
    pub name: String,
    /// What made it.
    pub kind: TestKind,
    /// The model it is attached to, if any.
    pub model: Option<String>,
    /// Every model it reads (its model first).
    pub depends_on: Vec<String>,
    /// What a failure does.
    pub severity: TestSeverity,
    /// The query returning the failing rows (no trailing `;`).
    pub sql: String,
    /// What it checks, in a few words.
    pub description: String,
    /// Its source file (a singular test), relative to the project.
    pub path: Option<String>,
    /// When it fails and whether its rows are stored (dbt's test configs).
    pub config: crate::compile::test_config::TestConfig,
    /// The source table it tests (a test on a source), as
    /// `DATABASE.SCHEMA.TABLE`: the models reading it run after it.
    pub source_relation: Option<String>,
    /// dbt's short name for a long generic test's name: its compiled
    /// file's and stored-failures table's name (`None`: its name).
    pub alias: Option<String>,
}

impl DataTest {
    /// `test.<project>.<name>`, as in dbt's `run_results.json`.
    pub fn unique_id(&self, project: &str) -> String {
        format!("test.{project}.{}", self.name)
    }

    /// The name of its compiled file and stored-failures table.
    pub fn alias(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// One contract check: its name in `cio_tests` and what it checks.
struct Check {
    name: &'static str,
    about: &'static str,
}

/// Every contract check, in the order they run.
const CHECKS: &[Check] = &[
    Check {
        name: "not_null",
        about: "every row has the fields its sync type needs",
    },
    Check {
        name: "unique_key",
        about: "no two rows share the sync key",
    },
    Check {
        name: "id_bytes",
        about: "ids fit the destination's limit",
    },
    Check {
        name: "attribute_value_bytes",
        about: "every attribute value fits the destination's limit",
    },
    Check {
        name: "event_name_bytes",
        about: "event names fit the destination's limit",
    },
    Check {
        name: "event_data_bytes",
        about: "an event's data fits the destination's limit",
    },
    Check {
        name: "row_bytes",
        about: "a row fits one API call",
    },
    Check {
        name: "user_exists",
        about: "every userId is a person of the people model",
    },
    Check {
        name: "timestamp_not_null",
        about: "every row has a timestamp",
    },
    Check {
        name: "timestamp_not_future",
        about: "no timestamp is in the future",
    },
    Check {
        name: "object_type_id_whole",
        about: "objectTypeId is a whole number",
    },
    Check {
        name: "whole_number",
        about: "the fields holding a whole number do",
    },
    Check {
        name: "unix_seconds",
        about: "the fields holding a time hold whole Unix seconds",
    },
    Check {
        name: "sha256_hex",
        about: "the hashed fields hold lower-case hex SHA-256 digests",
    },
    Check {
        name: "accepted_value",
        about: "the fields with a fixed list of values hold one of them",
    },
    Check {
        name: "event_time_recent",
        about: "Meta events: event_time is neither ahead nor older than the 7 days Meta accepts (warn)",
    },
    Check {
        name: "event_fields",
        about: "the events needing a field have it (Bluecore's purchase: total)",
    },
];

/// A check's severity when the model's `cio_tests` does not set it: an
/// error, but for the age of Meta events, which only says that a send now
/// would be refused (an old table is not wrong).
fn default_severity(check: &str) -> TestSeverity {
    if check == "event_time_recent" {
        TestSeverity::Warn
    } else {
        TestSeverity::Error
    }
}

/// The names `cio_tests` accepts.
pub fn check_names() -> impl Iterator<Item = &'static str> {
    CHECKS.iter().map(|c| c.name)
}

/// What one check is set to in a model's `cio_tests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    Off,
    On(TestSeverity),
}

/// The `cio_tests` of a model: check name → setting. `Err`: what is wrong
/// with it and how to fix it.
fn settings(config: &ModelConfig) -> Result<Vec<(String, Setting)>, (bool, String, String)> {
    let value = match config.values.get("cio_tests") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(v) => v,
    };
    let shape = "write cio_tests as a mapping of contract tests to `off`, `warn` or `error`, e.g. cio_tests={'unique_key': 'warn', 'row_bytes': 'off'}";
    let Value::Object(map) = value else {
        return Err((
            false,
            format!("cio_tests is {value}, not a mapping"),
            shape.into(),
        ));
    };
    let mut out = Vec::new();
    for (name, v) in map {
        if !check_names().any(|c| c == name) {
            let hint = crate::suggest::did_you_mean(name, check_names());
            let names: Vec<&str> = check_names().collect();
            return Err((
                true,
                format!("cio_tests names `{name}`, which is not a contract test"),
                format!(
                    "{}the contract tests are {}",
                    if hint.is_empty() {
                        String::new()
                    } else {
                        format!("{hint} ")
                    },
                    names.join(", ")
                ),
            ));
        }
        let setting = match v {
            Value::Bool(false) => Some(Setting::Off),
            Value::Bool(true) => Some(Setting::On(TestSeverity::Error)),
            Value::String(s) => parse_setting(s),
            Value::Object(o) => {
                let enabled = match o.get("enabled") {
                    None => Some(true),
                    Some(Value::Bool(b)) => Some(*b),
                    Some(_) => None,
                };
                let severity = match o.get("severity") {
                    None => Some(TestSeverity::Error),
                    Some(Value::String(s)) => match parse_setting(s) {
                        Some(Setting::On(sev)) => Some(sev),
                        _ => None,
                    },
                    Some(_) => None,
                };
                let known = o.keys().all(|k| k == "enabled" || k == "severity");
                match (enabled, severity, known) {
                    (Some(false), Some(_), true) => Some(Setting::Off),
                    (Some(true), Some(sev), true) => Some(Setting::On(sev)),
                    _ => None,
                }
            }
            _ => None,
        };
        match setting {
            Some(s) => out.push((name.clone(), s)),
            None => {
                return Err((
                    false,
                    format!("cio_tests sets `{name}` to {v}, which is not off, warn or error"),
                    format!(
                        "write `{name}: off`, `{name}: warn` or `{name}: error` (or {{severity: warn, enabled: false}})"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn parse_setting(s: &str) -> Option<Setting> {
    match s.trim().to_ascii_lowercase().as_str() {
        "off" | "false" | "disabled" => Some(Setting::Off),
        "warn" => Some(Setting::On(TestSeverity::Warn)),
        "error" | "on" | "true" => Some(Setting::On(TestSeverity::Error)),
        _ => None,
    }
}

/// Checks a model's `cio_tests` config: CIO060 for a name that is no
/// contract test, CIO061 for a value that is not a mapping of `off`,
/// `warn` or `error`. Points at `cio_tests` in `source` when the model sets
/// it there.
pub fn check_config(
    name: &str,
    path: &str,
    source: Option<&str>,
    config: &ModelConfig,
) -> Option<Diagnostic> {
    let (unknown, message, help) = settings(config).err()?;
    let code = if unknown {
        codes::UNKNOWN_CONTRACT_TEST
    } else {
        codes::BAD_TEST_CONFIG
    };
    let d = Diagnostic::error(code, format!("{name}: {message}"))
        .for_model(name)
        .with_help(help);
    Some(
        match source.and_then(|s| s.find("cio_tests").map(|at| (s, at))) {
            Some((s, at)) => d.at_span(path, s, at..at + "cio_tests".len()),
            None => d.at_file(path),
        },
    )
}

/// The contract tests of every selected sync model of `c` that compiled,
/// in model order, with what each model's `cio_tests` made of them.
pub fn contract_tests(c: &Compilation) -> Vec<DataTest> {
    let quoting = c.project.config.quoting;
    // The people models of each destination: every compiled model of its
    // people sync with its person field (Customer.io: identify, userId).
    let people: Vec<(SyncType, &CompiledModel, String)> = c
        .models
        .iter()
        .filter(|m| m.status != ModelStatus::Disabled && m.stored.is_some())
        .filter_map(|m| sync_of(m).map(|s| (s, m)))
        .filter(|(s, m)| {
            s.destination().data_rules.people.as_ref().is_some_and(|p| {
                s.name() == p.people_sync
                    && m.columns().iter().any(|col| col.name == p.person_field)
            })
        })
        .map(|(s, m)| (s, m, live_rows(m, quoting)))
        .collect();
    let mut out = Vec::new();
    for m in c.selected_models() {
        if m.status != ModelStatus::Success {
            continue;
        }
        let Some(sync) = sync_of(m) else { continue };
        let Ok(set) = settings(&m.config) else {
            continue;
        };
        let columns: Vec<String> = m.columns().into_iter().map(|c| c.name).collect();
        if columns.is_empty() {
            continue;
        }
        let model = ModelTests {
            sync,
            rules: &sync.destination().data_rules,
            relation: live_rows(m, quoting),
            columns: &columns,
            cio_key: cio_key(m),
        };
        for check in CHECKS {
            let setting = set
                .iter()
                .find(|(n, _)| n == check.name)
                .map_or(Setting::On(default_severity(check.name)), |(_, s)| *s);
            let Setting::On(severity) = setting else {
                continue;
            };
            let mut depends_on = vec![m.name.clone()];
            let sql = if check.name == "user_exists" {
                let others: Vec<&(SyncType, &CompiledModel, String)> = people
                    .iter()
                    .filter(|(s, p, _)| {
                        p.name != m.name && s.destination().name == sync.destination().name
                    })
                    .collect();
                if others.is_empty() {
                    continue;
                }
                depends_on.extend(others.iter().map(|(_, p, _)| p.name.clone()));
                let relations: Vec<&str> = others.iter().map(|(_, _, r)| r.as_str()).collect();
                model.user_exists(&relations)
            } else {
                model.query(check.name)
            };
            let Some(sql) = sql else { continue };
            out.push(DataTest {
                name: format!("cio_{}_{}", check.name, m.name),
                kind: TestKind::Contract,
                model: Some(m.name.clone()),
                depends_on,
                severity,
                sql,
                description: format!("{}: {}", sync, check.about),
                path: None,
                config: Default::default(),
                source_relation: None,
                alias: None,
            });
        }
    }
    out
}

/// The sync type of a compiled model, if it is a sync model.
fn sync_of(m: &CompiledModel) -> Option<SyncType> {
    crate::analysis::project::sync_type(&m.name, &m.path, None, &m.config)
        .ok()
        .flatten()
}

/// The rows of `m`'s relation a sync reads: for a change-tracked sync
/// table, its live rows (a tombstone is a key Customer.io is told to
/// delete, not a row it receives: it is no duplicate, no missing person and
/// no NULL the sync would send); otherwise the relation itself.
pub(crate) fn live_rows(m: &CompiledModel, quoting: crate::sql::Quoting) -> String {
    let relation = m.relation.sql(quoting);
    match crate::compile::model::tracking_of(m) {
        Ok(Some(_)) => format!(
            "(SELECT * FROM {relation} WHERE NOT {})",
            quote(crate::analysis::tracking::DELETED)
        ),
        _ => relation,
    }
}

/// What the checks of one sync model need.
struct ModelTests<'a> {
    sync: SyncType,
    rules: &'a DataRules,
    relation: String,
    /// Output column names, as stored.
    columns: &'a [String],
    /// The model's `cio_key` columns: the key of a sync type that has none
    /// of its own (track).
    cio_key: Vec<String>,
}

/// The columns of a model's `cio_key` config (one name or a list).
fn cio_key(m: &CompiledModel) -> Vec<String> {
    match m.config.values.get("cio_key") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A column of the model, by its stored name: always quoted, exactly as
/// stored (an output column named `event` was created quoted, so the bare
/// word would name `EVENT`).
fn col(name: &str) -> String {
    quote(name)
}

/// Bytes of a value as the destination receives it: its text, in UTF-8.
/// `OCTET_LENGTH` of a BINARY made from the text
/// (<https://docs.snowflake.com/en/sql-reference/functions/octet_length>,
/// <https://docs.snowflake.com/en/sql-reference/functions/to_binary>):
/// `OCTET_LENGTH` of a VARCHAR works on Snowflake but not on the emulator,
/// so the value is made binary first on both.
fn bytes(column: &str) -> String {
    format!(
        "OCTET_LENGTH(TO_BINARY(TO_VARCHAR({}), 'UTF-8'))",
        col(column)
    )
}

impl ModelTests<'_> {
    fn has(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// The columns that are none of the sync type's fields: attributes
    /// (or an event's properties).
    fn attributes(&self) -> Vec<&str> {
        let spec = self.sync.spec();
        self.columns
            .iter()
            .filter(|c| spec.field(c).is_none())
            .map(String::as_str)
            .collect()
    }

    /// The destination's event rules, when this sync type sends events
    /// (it reads the event name field).
    fn events(&self) -> Option<&crate::destinations::EventRules> {
        self.rules
            .events
            .as_ref()
            .filter(|e| self.sync.spec().field(e.name_field).is_some())
    }

    fn is_event(&self) -> bool {
        self.events().is_some()
    }

    /// Rows where a field of the sync type present in the model holds a
    /// value its rule rejects: `bad` gives, for a field and its quoted
    /// column, the condition of a bad value (`None`: not this check's rule).
    fn rows_with_bad(&self, bad: impl Fn(&Field, &str) -> Option<String>) -> Option<String> {
        let any: Vec<String> = self
            .sync
            .spec()
            .fields
            .iter()
            .filter(|f| self.has(f.name))
            .filter_map(|f| {
                let c = col(f.name);
                bad(f, &c).map(|b| format!("({c} IS NOT NULL AND {b})"))
            })
            .collect();
        (!any.is_empty()).then(|| self.rows_where(&any.join(" OR ")))
    }

    fn rows_where(&self, condition: &str) -> String {
        format!("SELECT * FROM {} WHERE {condition}", self.relation)
    }

    /// The query of check `name`, or `None` when it does not apply to
    /// this model.
    fn query(&self, name: &str) -> Option<String> {
        let r = self.rules;
        match name {
            "not_null" => {
                let groups: Vec<String> = self
                    .sync
                    .spec()
                    .required_groups()
                    .into_iter()
                    .filter_map(|g| {
                        let present: Vec<String> = g
                            .iter()
                            .filter(|f| self.has(f))
                            .map(|f| format!("{} IS NULL", col(f)))
                            .collect();
                        (!present.is_empty()).then(|| format!("({})", present.join(" AND ")))
                    })
                    .collect();
                (!groups.is_empty()).then(|| self.rows_where(&groups.join(" OR ")))
            }
            "unique_key" => {
                let spec = self.sync.spec();
                // A track row has no key of its own: its `cio_key`, when set.
                let key: Vec<&str> = if spec.key.is_empty() {
                    self.cio_key.iter().map(String::as_str).collect()
                } else {
                    spec.key
                        .iter()
                        .flat_map(|part| part.iter().copied())
                        .collect()
                };
                let key: Vec<String> = key.into_iter().filter(|f| self.has(f)).map(col).collect();
                if key.is_empty() {
                    return None;
                }
                let all_null: Vec<String> = key.iter().map(|k| format!("{k} IS NULL")).collect();
                let key = key.join(", ");
                Some(format!(
                    "SELECT {key}, COUNT(*) AS n_records FROM {} WHERE NOT ({}) GROUP BY {key} HAVING COUNT(*) > 1",
                    self.relation,
                    all_null.join(" AND ")
                ))
            }
            "id_bytes" => {
                let max = r.max_id_bytes?;
                let over: Vec<String> = r
                    .id_fields
                    .iter()
                    .filter(|f| self.has(f))
                    .map(|f| format!("{} > {max}", bytes(f)))
                    .collect();
                (!over.is_empty()).then(|| self.rows_where(&over.join(" OR ")))
            }
            "attribute_value_bytes" if !self.is_event() => {
                let max = r.max_value_bytes?;
                let over: Vec<String> = self
                    .attributes()
                    .iter()
                    .map(|c| format!("{} > {max}", bytes(c)))
                    .collect();
                (!over.is_empty()).then(|| self.rows_where(&over.join(" OR ")))
            }
            "event_name_bytes" => {
                let e = self.events()?;
                let max = e.max_name_bytes?;
                self.has(e.name_field)
                    .then(|| self.rows_where(&format!("{} > {max}", bytes(e.name_field))))
            }
            "event_data_bytes" => {
                let max = self.events()?.max_data_bytes?;
                let sizes: Vec<String> = self
                    .attributes()
                    .iter()
                    .map(|c| format!("COALESCE({}, 0)", bytes(c)))
                    .collect();
                (!sizes.is_empty())
                    .then(|| self.rows_where(&format!("{} > {max}", sizes.join(" + "))))
            }
            "row_bytes" => {
                // Names and values: less than the JSON of the call, so a
                // row over the limit is certainly too large.
                let sizes: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| format!("{} + COALESCE({}, 0)", c.len(), bytes(c)))
                    .collect();
                let max = r.max_call_bytes?;
                Some(self.rows_where(&format!("{} > {max}", sizes.join(" + "))))
            }
            "timestamp_not_null" => {
                let ts = r.timestamp_field.filter(|t| self.has(t))?;
                Some(self.rows_where(&format!("{} IS NULL", col(ts))))
            }
            // CURRENT_TIMESTAMP() is a TIMESTAMP_LTZ, whose operations run in
            // the session's time zone
            // (<https://docs.snowflake.com/en/sql-reference/data-types-datetime>);
            // that a TIMESTAMP_NTZ is compared with it as a wall-clock time
            // of that zone is our reading, not verified on Snowflake.
            "timestamp_not_future" => {
                let ts = r.timestamp_field.filter(|t| self.has(t))?;
                Some(self.rows_where(&format!("{} > CURRENT_TIMESTAMP()", col(ts))))
            }
            // A whole number, in a number or in text: TRY_TO_DECIMAL of its
            // text is NULL when it is no number
            // (<https://docs.snowflake.com/en/sql-reference/functions/try_to_decimal>).
            "object_type_id_whole" | "whole_number" => {
                let object_type = name == "object_type_id_whole";
                self.rows_with_bad(|f, c| {
                    let is_object_type = f.name == "objectTypeId";
                    (f.value == ValueRule::WholeNumber && is_object_type == object_type).then(
                        || {
                            let n = format!("TRY_TO_DECIMAL(TO_VARCHAR({c}), 38, 10)");
                            format!("({n} IS NULL OR {n} <> FLOOR({n}))")
                        },
                    )
                })
            }
            "unix_seconds" => self.rows_with_bad(|f, c| {
                (f.value == ValueRule::UnixSeconds).then(|| {
                    let n = format!("TRY_TO_DECIMAL(TO_VARCHAR({c}), 38, 10)");
                    format!("({n} IS NULL OR {n} <> FLOOR({n}) OR {n} < 0)")
                })
            }),
            // REGEXP_LIKE matches the whole value
            // (<https://docs.snowflake.com/en/sql-reference/functions/regexp_like>).
            "sha256_hex" => self.rows_with_bad(|f, c| {
                (f.value == ValueRule::Sha256Hex)
                    .then(|| format!("NOT REGEXP_LIKE(TO_VARCHAR({c}), '[0-9a-f]{{64}}')"))
            }),
            "accepted_value" => self.rows_with_bad(|f, c| match f.value {
                ValueRule::OneOf(values) => {
                    let list: Vec<String> = values
                        .iter()
                        .map(|v| crate::sql::string_literal(v))
                        .collect();
                    Some(format!("TO_VARCHAR({c}) NOT IN ({})", list.join(", ")))
                }
                _ => None,
            }),
            // "If any event_time in data is greater than 7 days in the
            // past, we return an error for the entire request" (Meta,
            // Server Event Parameters): rows a send now would lose.
            "event_time_recent" => {
                use crate::destinations::meta_capi::{MAX_EVENT_AGE_SECONDS, META_CAPI};
                let t = col("event_time");
                (self.sync.destination().name == META_CAPI.name && self.has("event_time")).then(
                    || {
                        let now = "DATE_PART(EPOCH_SECOND, CURRENT_TIMESTAMP())";
                        self.rows_where(&format!(
                            "{t} > {now} OR {t} < {now} - {MAX_EVENT_AGE_SECONDS}"
                        ))
                    },
                )
            }
            // An event missing a field it needs: with no such column, every
            // such event misses it.
            "event_fields" => {
                let name = self.events()?.name_field;
                let rules = crate::destinations::event_fields::rules(self.sync.destination().name);
                let bad: Vec<String> = rules
                    .iter()
                    .map(|r| {
                        let missing: Vec<String> = r
                            .fields
                            .iter()
                            .map(|f| {
                                if self.has(f) {
                                    format!("{} IS NULL", col(f))
                                } else {
                                    "TRUE".to_string()
                                }
                            })
                            .collect();
                        format!(
                            "({} = {} AND ({}))",
                            col(name),
                            crate::sql::string_literal(r.event),
                            missing.join(" OR ")
                        )
                    })
                    .collect();
                (self.has(name) && !bad.is_empty()).then(|| self.rows_where(&bad.join(" OR ")))
            }
            _ => None,
        }
    }

    /// Rows naming a person none of the people `relations` has.
    fn user_exists(&self, relations: &[&str]) -> Option<String> {
        let people = self.rules.people.as_ref()?;
        let person = people.person_field;
        if self.sync.spec().name == people.people_sync
            || self.sync.spec().field(person).is_none()
            || !self.has(person)
        {
            return None;
        }
        let col = col(person);
        let missing: Vec<String> = relations
            .iter()
            .map(|r| {
                format!("NOT EXISTS (SELECT 1 FROM {r} AS people WHERE people.{col} = child.{col})")
            })
            .collect();
        Some(format!(
            "SELECT child.* FROM {} AS child WHERE child.{col} IS NOT NULL AND {}",
            self.relation,
            missing.join(" AND ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(v: Value) -> ModelConfig {
        let mut c = ModelConfig::default();
        c.values.insert("cio_tests".into(), v);
        c
    }

    #[test]
    fn cio_tests_settings_are_read_and_checked() {
        let s = settings(&config(serde_json::json!({
            "unique_key": "warn", "row_bytes": "off", "id_bytes": false,
            "not_null": {"severity": "warn"}, "user_exists": {"enabled": false}
        })))
        .unwrap();
        let get = |n: &str| s.iter().find(|(k, _)| k == n).unwrap().1;
        assert_eq!(get("unique_key"), Setting::On(TestSeverity::Warn));
        assert_eq!(get("row_bytes"), Setting::Off);
        assert_eq!(get("id_bytes"), Setting::Off);
        assert_eq!(get("not_null"), Setting::On(TestSeverity::Warn));
        assert_eq!(get("user_exists"), Setting::Off);

        let d = check_config(
            "m",
            "models/m.sql",
            None,
            &config(serde_json::json!({"uniqe_key": "warn"})),
        )
        .unwrap();
        assert_eq!(d.code, codes::UNKNOWN_CONTRACT_TEST);
        assert!(d.help.as_deref().unwrap().contains("`unique_key`"), "{d:?}");
        for bad in [
            serde_json::json!("warn"),
            serde_json::json!({"unique_key": "loud"}),
            serde_json::json!({"unique_key": {"severity": "warn", "when": 1}}),
        ] {
            let d = check_config("m", "models/m.sql", None, &config(bad.clone())).unwrap();
            assert_eq!(d.code, codes::BAD_TEST_CONFIG, "{bad}");
        }
        assert!(check_config("m", "m.sql", None, &ModelConfig::default()).is_none());
    }

    #[test]
    fn contract_queries_follow_the_registry() {
        let columns: Vec<String> = ["userId", "event", "timestamp", "PLAN"]
            .map(String::from)
            .to_vec();
        let t = ModelTests {
            sync: SyncType::TRACK,
            rules: &SyncType::TRACK.destination().data_rules,
            relation: "DB.S.events".into(),
            columns: &columns,
            cio_key: Vec::new(),
        };
        assert_eq!(
            t.query("not_null").unwrap(),
            "SELECT * FROM DB.S.events WHERE (\"event\" IS NULL) OR (\"userId\" IS NULL)"
        );
        assert_eq!(t.query("unique_key"), None, "an event has no key");
        let keyed = ModelTests {
            sync: SyncType::TRACK,
            rules: &SyncType::TRACK.destination().data_rules,
            relation: "DB.S.events".into(),
            columns: &columns,
            cio_key: vec!["userId".into(), "event".into(), "timestamp".into()],
        };
        assert_eq!(
            keyed.query("unique_key").unwrap(),
            "SELECT \"userId\", \"event\", \"timestamp\", COUNT(*) AS n_records FROM DB.S.events WHERE NOT (\"userId\" IS NULL AND \"event\" IS NULL AND \"timestamp\" IS NULL) GROUP BY \"userId\", \"event\", \"timestamp\" HAVING COUNT(*) > 1",
            "a track model's cio_key is its key"
        );
        assert_eq!(t.query("attribute_value_bytes"), None);
        assert!(
            t.query("event_name_bytes")
                .unwrap()
                .ends_with("OCTET_LENGTH(TO_BINARY(TO_VARCHAR(\"event\"), 'UTF-8')) > 100")
        );
        assert!(t.query("event_data_bytes").unwrap().ends_with(
            "COALESCE(OCTET_LENGTH(TO_BINARY(TO_VARCHAR(\"PLAN\"), 'UTF-8')), 0) > 100000"
        ));
        assert_eq!(
            t.user_exists(&["DB.S.people"]).unwrap(),
            "SELECT child.* FROM DB.S.events AS child WHERE child.\"userId\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM DB.S.people AS people WHERE people.\"userId\" = child.\"userId\")"
        );
        let columns: Vec<String> = ["groupId", "objectTypeId", "userId", "NAME"]
            .map(String::from)
            .to_vec();
        let r = ModelTests {
            sync: SyncType::RELATIONSHIP,
            columns: &columns,
            ..t
        };
        assert_eq!(
            r.query("unique_key").unwrap(),
            "SELECT \"groupId\", \"userId\", COUNT(*) AS n_records FROM DB.S.events WHERE NOT (\"groupId\" IS NULL AND \"userId\" IS NULL) GROUP BY \"groupId\", \"userId\" HAVING COUNT(*) > 1"
        );
        assert!(
            r.query("object_type_id_whole")
                .unwrap()
                .contains("TRY_TO_DECIMAL(TO_VARCHAR(\"objectTypeId\"), 38, 10) <> FLOOR(")
        );
        assert_eq!(r.query("timestamp_not_null"), None, "no timestamp column");
        assert!(
            r.query("attribute_value_bytes")
                .unwrap()
                .ends_with("OCTET_LENGTH(TO_BINARY(TO_VARCHAR(\"NAME\"), 'UTF-8')) > 1000")
        );
        // Every check has a query for some sync type.
        for check in CHECKS {
            let any = SyncType::all().any(|sync| {
                let all: Vec<String> = sync
                    .spec()
                    .fields
                    .iter()
                    .map(|f| f.name.to_string())
                    .chain(["X".to_string()])
                    .collect();
                let m = ModelTests {
                    sync,
                    rules: &sync.destination().data_rules,
                    relation: "R".into(),
                    columns: &all,
                    cio_key: Vec::new(),
                };
                m.query(check.name).is_some() || m.user_exists(&["P"]).is_some()
            });
            assert!(any, "{}", check.name);
        }
    }

    #[test]
    fn value_rules_of_other_destinations_are_checked() {
        let objects = SyncType::find("rudderstack", "objects").unwrap();
        let columns: Vec<String> = ["action", "groupId", "objectTypeId", "name"]
            .map(String::from)
            .to_vec();
        let t = ModelTests {
            sync: objects,
            rules: &objects.destination().data_rules,
            relation: "R".into(),
            columns: &columns,
            cio_key: Vec::new(),
        };
        assert_eq!(
            t.query("accepted_value").unwrap(),
            "SELECT * FROM R WHERE (\"action\" IS NOT NULL AND TO_VARCHAR(\"action\") NOT IN ('identify', 'delete'))"
        );
        assert!(
            t.query("object_type_id_whole")
                .unwrap()
                .contains("TRY_TO_DECIMAL(TO_VARCHAR(\"objectTypeId\"), 38, 10)")
        );
        assert_eq!(
            t.query("whole_number"),
            None,
            "objectTypeId is its own check"
        );
        assert_eq!(t.query("unix_seconds"), None);
        assert_eq!(t.query("sha256_hex"), None);
        assert_eq!(t.query("event_name_bytes"), None, "no events");
        assert_eq!(t.query("timestamp_not_null"), None, "no timestamp rule");
        assert_eq!(t.user_exists(&["P"]), None, "no people rule");
        assert!(
            t.query("attribute_value_bytes")
                .unwrap()
                .ends_with("OCTET_LENGTH(TO_BINARY(TO_VARCHAR(\"name\"), 'UTF-8')) > 1000")
        );
        assert_eq!(
            t.query("unique_key").unwrap(),
            "SELECT \"objectTypeId\", \"groupId\", COUNT(*) AS n_records FROM R WHERE NOT (\"objectTypeId\" IS NULL AND \"groupId\" IS NULL) GROUP BY \"objectTypeId\", \"groupId\" HAVING COUNT(*) > 1"
        );

        let events = SyncType::find("moengage", "events").unwrap();
        let columns: Vec<String> = ["customer_id", "event_id", "action", "event_time", "plan"]
            .map(String::from)
            .to_vec();
        let e = ModelTests {
            sync: events,
            rules: &events.destination().data_rules,
            relation: "E".into(),
            columns: &columns,
            cio_key: Vec::new(),
        };
        assert_eq!(
            e.query("unix_seconds").unwrap(),
            "SELECT * FROM E WHERE (\"event_time\" IS NOT NULL AND (TRY_TO_DECIMAL(TO_VARCHAR(\"event_time\"), 38, 10) IS NULL OR TRY_TO_DECIMAL(TO_VARCHAR(\"event_time\"), 38, 10) <> FLOOR(TRY_TO_DECIMAL(TO_VARCHAR(\"event_time\"), 38, 10)) OR TRY_TO_DECIMAL(TO_VARCHAR(\"event_time\"), 38, 10) < 0))"
        );
        assert!(
            e.query("event_name_bytes")
                .unwrap()
                .ends_with("TO_VARCHAR(\"action\"), 'UTF-8')) > 200")
        );
        assert_eq!(e.query("event_data_bytes"), None, "no event data limit");
        assert_eq!(e.query("id_bytes"), None, "no id limit");
        assert_eq!(
            e.user_exists(&["U"]).unwrap(),
            "SELECT child.* FROM E AS child WHERE child.\"customer_id\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM U AS people WHERE people.\"customer_id\" = child.\"customer_id\")"
        );
    }

    #[test]
    fn a_bluecore_purchase_needs_its_total_and_a_search_its_term() {
        let events = SyncType::find("bluecore", "events").unwrap();
        let columns: Vec<String> = ["event", "distinct_id", "event_id", "total"]
            .map(String::from)
            .to_vec();
        let t = ModelTests {
            sync: events,
            rules: &events.destination().data_rules,
            relation: "B".into(),
            columns: &columns,
            cio_key: Vec::new(),
        };
        // No search_term column: every search misses it.
        assert_eq!(
            t.query("event_fields").unwrap(),
            "SELECT * FROM B WHERE (\"event\" = 'purchase' AND (\"total\" IS NULL)) OR (\"event\" = 'search' AND (TRUE))"
        );
        let moengage = SyncType::find("moengage", "events").unwrap();
        let m = ModelTests {
            sync: moengage,
            rules: &moengage.destination().data_rules,
            relation: "E".into(),
            columns: &columns,
            cio_key: Vec::new(),
        };
        assert_eq!(m.query("event_fields"), None, "MoEngage has no such rule");
    }
}
