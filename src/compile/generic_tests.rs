//! dbt's generic schema tests, from the `tests:`/`data_tests:` blocks of
//! `.yml` properties (read by `project::properties`): `not_null`,
//! `unique`, `accepted_values` and `relationships`, on the columns of
//! models and seeds, with dbt's arguments (`values`, `quote`, `to`,
//! `field`) and `config:` keys `severity`, `where`, `enabled`, the
//! thresholds and `store_failures` ([`TestConfig`]); `tags` and `meta` are
//! accepted.
//!
//! Each becomes a [`DataTest`] of kind generic: one query selecting the
//! failing rows, run like every other test by `cio-sql test` and `build`.
//! A test on a column the node does not have, an unknown test, or bad
//! arguments is an error at the `.yml` line, before anything runs.

use crate::catalog::Catalog;
use crate::compile::data_tests::{DataTest, TestKind, TestSeverity, live_rows};
use crate::compile::test_config::TestConfig;
use crate::compile::test_names::generic_test_names;
use crate::compile::{Compilation, ModelStatus};
use crate::diagnostics::{Diagnostic, codes};
use crate::project::properties::{DataTest as TestEntry, NodeProperties};
use crate::project::read_text;
use crate::sql::{quote, string_literal};
use serde_json::Value;

/// The generic tests cio-sql runs.
const GENERIC: [&str; 4] = ["not_null", "unique", "accepted_values", "relationships"];

/// A node tests can be attached to: its name, relation (as SQL writes it)
/// and column names, as stored.
struct Node {
    name: String,
    relation: String,
    columns: Vec<String>,
    /// A source table: its `DATABASE.SCHEMA.TABLE` (dbt prefixes the
    /// test's name with `source_` and attaches it to no model).
    source: Option<String>,
}

/// The generic tests of every selected model, every seed and every source
/// table of `c` (its columns read from `catalog`), and a warning for each
/// test of a package (`dbt_utils.…`), which is not run.
pub fn generic_tests(
    c: &Compilation,
    catalog: &dyn Catalog,
) -> Result<(Vec<DataTest>, Vec<Diagnostic>), Diagnostic> {
    let quoting = c.project.config.quoting;
    let model_node = |name: &str| -> Option<Node> {
        let m = c.model(name)?;
        (m.status == ModelStatus::Success).then(|| Node {
            name: m.name.clone(),
            // A change-tracked table's live rows: tombstones are deletes.
            relation: live_rows(m, quoting),
            columns: m.columns().into_iter().map(|col| col.name).collect(),
            source: None,
        })
    };
    let seed_node = |name: &str| -> Option<Node> {
        let s = c
            .seeds
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name) && s.status != ModelStatus::Disabled)?;
        Some(Node {
            name: s.name.clone(),
            relation: s.relation.sql(quoting),
            columns: s.columns.iter().map(|(n, _)| n.clone()).collect(),
            source: None,
        })
    };
    let resolve = |name: &str| model_node(name).or_else(|| seed_node(name));
    let props = &c.project.properties;
    let mut out: Vec<DataTest> = Vec::new();
    let mut warnings = Vec::new();
    let mut attached: Vec<(Node, &NodeProperties)> = Vec::new();
    for m in c.selected_models() {
        if let (Some(node), Some(p)) = (
            model_node(&m.name),
            props.models.get(&m.name.to_lowercase()),
        ) {
            attached.push((node, p));
        }
    }
    for s in &c.seeds {
        if let (Some(node), Some(p)) = (seed_node(&s.name), props.seeds.get(&s.name.to_lowercase()))
        {
            attached.push((node, p));
        }
    }
    for st in &c.project.sources {
        let key = (st.source.to_lowercase(), st.table.to_lowercase());
        let Some(p) = props.sources.get(&key) else {
            continue;
        };
        if p.data_tests.is_empty() {
            continue;
        }
        let Some(columns) = catalog.columns(&st.relation) else {
            let first = &p.data_tests[0];
            return Err(at_entry(
                c,
                first,
                Diagnostic::error(
                    codes::GENERIC_TEST,
                    format!(
                        "source('{}', '{}') has tests, but the catalog has no columns for {}",
                        st.source, st.table, st.relation
                    ),
                )
                .with_help(
                    "run `cio-sql catalog` to read its columns from the warehouse, or add it to catalog.yml",
                ),
            ));
        };
        attached.push((
            Node {
                name: format!("{}_{}", st.source, st.table),
                relation: st.relation.sql(quoting),
                columns: columns.iter().map(|col| col.name.clone()).collect(),
                source: Some(st.relation.to_string()),
            },
            p,
        ));
    }
    for (node, p) in &attached {
        for entry in &p.data_tests {
            if entry.config.get("enabled") == Some(&Value::Bool(false)) {
                continue;
            }
            if let Some((package, _)) = entry.test.split_once('.') {
                warnings.push(at_entry(
                    c,
                    entry,
                    Diagnostic::warning(
                        codes::PACKAGE_TEST,
                        format!(
                            "`{}` on `{}` is not run: tests of packages ({package}) are not supported yet",
                            entry.test, node.name
                        ),
                    )
                    .with_help("write the rule as a singular test (a .sql file under test-paths), or remove it"),
                ));
                continue;
            }
            if !GENERIC.contains(&entry.test.as_str()) && is_custom_test(&c.project, &entry.test) {
                warnings.push(at_entry(
                    c,
                    entry,
                    Diagnostic::warning(
                        codes::PACKAGE_TEST,
                        format!(
                            "`{}` on `{}` is not run: custom generic tests ({{% test {} %}} in the macros) are not supported yet",
                            entry.test, node.name, entry.test
                        ),
                    )
                    .with_help("write the rule as a singular test (a .sql file under test-paths), or remove it"),
                ));
                continue;
            }
            let test = generic_test(c, node, entry, &resolve)?;
            if out.iter().any(|t| t.name == test.name) {
                return Err(at_entry(
                    c,
                    entry,
                    Diagnostic::error(
                        codes::GENERIC_TEST,
                        format!("two tests are named `{}`", test.name),
                    )
                    .with_help("give one of them its own `name:`"),
                ));
            }
            out.push(test);
        }
    }
    Ok((out, warnings))
}

/// The test `entry` on `node`.
fn generic_test(
    c: &Compilation,
    node: &Node,
    entry: &TestEntry,
    resolve: &dyn Fn(&str) -> Option<Node>,
) -> Result<DataTest, Diagnostic> {
    let bad = |message: String, help: &str| {
        at_entry(
            c,
            entry,
            Diagnostic::error(codes::GENERIC_TEST, message).with_help(help.to_string()),
        )
    };
    if !GENERIC.contains(&entry.test.as_str()) {
        let close = crate::suggest::did_you_mean(&entry.test, GENERIC.iter().copied());
        return Err(bad(
            format!("`{}` is not a test cio-sql knows", entry.test),
            &format!(
                "{}cio-sql runs dbt's generic tests {}; for another rule write a singular test (a .sql file under test-paths)",
                if close.is_empty() {
                    String::new()
                } else {
                    format!("{close} ")
                },
                GENERIC.join(", ")
            ),
        ));
    }
    let column_name = entry.arguments.get("column_name").and_then(Value::as_str);
    let Some(column) = entry.column.as_deref().or(column_name) else {
        return Err(bad(
            format!("`{}` needs a column: put it under `columns:`", entry.test),
            "write it in the `tests:` (or `data_tests:`) of a column, or give it `column_name:`",
        ));
    };
    let col = find_column(node, column).ok_or_else(|| {
        bad(
            format!("`{}` has no column `{column}`", node.name),
            &format!("its columns are {}", node.columns.join(", ")),
        )
    })?;
    let severity = match entry.config.get("severity").and_then(Value::as_str) {
        None => TestSeverity::Error,
        Some(s) if s.eq_ignore_ascii_case("error") => TestSeverity::Error,
        Some(s) if s.eq_ignore_ascii_case("warn") => TestSeverity::Warn,
        Some(s) => {
            return Err(bad(
                format!("severity `{s}` is neither `error` nor `warn`"),
                "write severity: warn or severity: error",
            ));
        }
    };
    for key in entry.config.keys() {
        match key.as_str() {
            "severity" | "where" | "enabled" | "tags" | "meta" => {}
            k if TestConfig::KEYS.contains(&k) => {}
            other => {
                return Err(bad(
                    format!("`{other}` is not a test config cio-sql knows"),
                    "a test's config takes severity, where, error_if, warn_if, fail_calc, limit, store_failures, store_failures_as, enabled, tags and meta",
                ));
            }
        }
    }
    let config = TestConfig::from_map(&entry.config).map_err(|(message, help)| {
        at_entry(
            c,
            entry,
            Diagnostic::error(
                codes::TEST_THRESHOLD,
                format!("`{}` on `{}`: {message}", entry.test, node.name),
            )
            .with_help(help),
        )
    })?;
    // dbt's `where`: the test reads the node's rows that match it.
    let rows = match entry.config.get("where") {
        None | Some(Value::Null) => node.relation.clone(),
        Some(Value::String(w)) => format!("(SELECT * FROM {} WHERE {w})", node.relation),
        Some(_) => {
            return Err(bad(
                "`where` is not a string".into(),
                "write where: \"<condition>\"",
            ));
        }
    };
    let c_ = quote(col);
    // A source is built by no node: a test on it depends on no model.
    let mut depends_on: Vec<String> = match node.source {
        None => vec![node.name.clone()],
        Some(_) => Vec::new(),
    };
    let (sql, about) = match entry.test.as_str() {
        "not_null" => (
            format!("SELECT * FROM {rows} WHERE {c_} IS NULL"),
            format!("`{column}` is never NULL"),
        ),
        "unique" => (
            format!(
                "SELECT {c_} AS \"unique_field\", COUNT(*) AS \"n_records\" FROM {rows} WHERE {c_} IS NOT NULL GROUP BY {c_} HAVING COUNT(*) > 1"
            ),
            format!("no two rows share `{column}`"),
        ),
        "accepted_values" => {
            let Some(Value::Array(values)) = entry.arguments.get("values") else {
                return Err(bad(
                    "`accepted_values` needs `values:`, a list".into(),
                    "write values: ['a', 'b']",
                ));
            };
            let quoted = entry
                .arguments
                .get("quote")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let mut list = Vec::new();
            for v in values {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(bad(
                            "a value of `values:` is not a string, number or boolean".into(),
                            "list plain values",
                        ));
                    }
                };
                if quoted {
                    list.push(string_literal(&text));
                } else if text
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_'))
                {
                    list.push(text);
                } else {
                    return Err(bad(
                        format!("with quote: false, `{text}` is not a plain number or name"),
                        "leave quote at its default (true)",
                    ));
                }
            }
            if list.is_empty() {
                return Err(bad("`values:` is empty".into(), "list the accepted values"));
            }
            (
                format!(
                    "SELECT {c_} AS \"value_field\", COUNT(*) AS \"n_records\" FROM {rows} WHERE {c_} IS NOT NULL AND {c_} NOT IN ({}) GROUP BY {c_}",
                    list.join(", ")
                ),
                format!("`{column}` is one of {} values", list.len()),
            )
        }
        _ => {
            // relationships
            let (Some(Value::String(to)), Some(Value::String(field))) =
                (entry.arguments.get("to"), entry.arguments.get("field"))
            else {
                return Err(bad(
                    "`relationships` needs `to:` (ref('model')) and `field:`".into(),
                    "write to: ref('customers') and field: id",
                ));
            };
            let target_name = ref_name(to).ok_or_else(|| {
                bad(
                    format!("`to: {to}` is not ref('<model or seed>')"),
                    "write to: ref('customers')",
                )
            })?;
            let parent = resolve(&target_name).ok_or_else(|| {
                bad(
                    format!("`to: {to}` names no compiled model or seed"),
                    "ref() a model or seed of the project",
                )
            })?;
            let pf = find_column(&parent, field).ok_or_else(|| {
                bad(
                    format!("`{}` has no column `{field}`", parent.name),
                    &format!("its columns are {}", parent.columns.join(", ")),
                )
            })?;
            depends_on.push(parent.name.clone());
            (
                format!(
                    "SELECT child.{c_} AS \"from_field\" FROM {rows} AS child LEFT JOIN {} AS parent ON child.{c_} = parent.{} WHERE child.{c_} IS NOT NULL AND parent.{} IS NULL",
                    parent.relation,
                    quote(pf),
                    quote(pf)
                ),
                format!("every `{column}` is a `{field}` of {}", parent.name),
            )
        }
    };
    let (name, alias) = test_name(entry, &node.name, node.source.is_some(), column);
    Ok(DataTest {
        name,
        kind: TestKind::Generic,
        model: node.source.is_none().then(|| node.name.clone()),
        depends_on,
        severity,
        sql,
        description: format!("{}: {about}", entry.test),
        path: Some(entry.file.clone()),
        config,
        source_relation: node.source.clone(),
        alias,
    })
}

/// The name of `entry` on node `node` (a source's `<source>_<table>`)
/// testing `column`: its `name:`, or dbt's, with dbt's short name when
/// that one is long.
fn test_name(
    entry: &TestEntry,
    node: &str,
    source: bool,
    column: &str,
) -> (String, Option<String>) {
    if let Some(name) = &entry.name {
        return (name.clone(), None);
    }
    // The arguments with the column, as dbt passes them.
    let prefix = if source { "source_" } else { "" };
    let mut arguments = entry.arguments.clone();
    arguments.insert("column_name".into(), Value::String(column.to_string()));
    let (full, short) = generic_test_names(&format!("{prefix}{}", entry.test), node, &arguments);
    let alias = (short != full).then_some(short);
    (full, alias)
}

/// The names of the generic tests the `.yml` files of `project` declare,
/// read without compiling (for `--select` to tell a test's name from a
/// model's).
pub fn declared_test_names(project: &crate::project::Project) -> Vec<String> {
    let props = &project.properties;
    let models = project.models.iter().map(|m| {
        (
            m.name.clone(),
            props.models.get(&m.name.to_lowercase()),
            false,
        )
    });
    let seeds = project.seeds.iter().map(|s| {
        (
            s.name.clone(),
            props.seeds.get(&s.name.to_lowercase()),
            false,
        )
    });
    let sources = project.sources.iter().map(|st| {
        let key = (st.source.to_lowercase(), st.table.to_lowercase());
        (
            format!("{}_{}", st.source, st.table),
            props.sources.get(&key),
            true,
        )
    });
    let mut names = Vec::new();
    for (node, p, source) in models.chain(seeds).chain(sources) {
        for entry in p.into_iter().flat_map(|p| &p.data_tests) {
            let column_name = entry.arguments.get("column_name").and_then(Value::as_str);
            if let Some(column) = entry.column.as_deref().or(column_name) {
                names.push(test_name(entry, &node, source, column).0);
            }
        }
    }
    names
}

/// Whether the project, or a package it installed, defines the generic test
/// `name` (`{% test name(...) %}`, a macro `test_<name>` once loaded).
fn is_custom_test(project: &crate::project::Project, name: &str) -> bool {
    let macro_name = format!("test_{name}");
    let installed = project
        .packages
        .iter()
        .filter_map(|p| p.installed.as_deref());
    std::iter::once(project.macro_files.as_slice())
        .chain(installed)
        .flatten()
        .any(|f| f.macros.contains(&macro_name))
}

/// The stored name of `node`'s column `name`: the same name, or the one
/// name equal to it ignoring case (a `.yml` names `user_id`, the table has
/// `USER_ID`).
fn find_column<'a>(node: &'a Node, name: &str) -> Option<&'a str> {
    let name = name.trim_matches('"');
    node.columns
        .iter()
        .find(|c| *c == name)
        .or_else(|| {
            let mut same = node.columns.iter().filter(|c| c.eq_ignore_ascii_case(name));
            match (same.next(), same.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        })
        .map(String::as_str)
}

/// `x` of `ref('x')` (or `ref("x")`, with spaces, in `{{ }}` or not).
fn ref_name(to: &str) -> Option<String> {
    let t = to
        .trim()
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim();
    let inner = t.strip_prefix("ref(")?.strip_suffix(')')?.trim();
    let name = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))?;
    (!name.is_empty()).then(|| name.to_string())
}

/// `d` pointed at the line of `entry` in its `.yml` file.
fn at_entry(c: &Compilation, entry: &TestEntry, d: Diagnostic) -> Diagnostic {
    let path = c.project.root.join(&entry.file);
    match read_text(&path) {
        Ok(source) => d.at_line(&entry.file, &source, entry.line, None),
        Err(_) => d.at_file(&entry.file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_are_read_in_every_spelling() {
        assert_eq!(ref_name("ref('customers')").as_deref(), Some("customers"));
        assert_eq!(
            ref_name("{{ ref(\"customers\") }}").as_deref(),
            Some("customers")
        );
        assert_eq!(ref_name("customers"), None);
        assert_eq!(ref_name("ref('')"), None);
    }

    #[test]
    fn columns_match_exactly_or_by_the_one_name_equal_ignoring_case() {
        let node = Node {
            name: "m".into(),
            relation: "R".into(),
            columns: vec!["userId".into(), "ID".into(), "a".into(), "A".into()],
            source: None,
        };
        assert_eq!(find_column(&node, "userId"), Some("userId"));
        assert_eq!(find_column(&node, "userid"), Some("userId"));
        assert_eq!(find_column(&node, "id"), Some("ID"));
        assert_eq!(find_column(&node, "A"), Some("A"));
        assert_eq!(find_column(&node, "b"), None);
    }
}
