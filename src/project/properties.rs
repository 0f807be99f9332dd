//! dbt's `.yml` properties of models, seeds and sources (`description`,
//! `meta`, `tags`, `config`, `columns`, and the `tests:`/`data_tests:`
//! entries, kept typed but uninterpreted, each with its file and line), and
//! `{% docs %}` blocks with the `{{ doc('name') }}` calls of descriptions
//! resolved. See dbt's "Model properties"
//! (<https://docs.getdbt.com/reference/model-properties>) and "doc"
//! (<https://docs.getdbt.com/reference/dbt-jinja-functions/doc>).
//!
//! Read once, when the project loads. `config:` blocks and `tags` of a
//! model or seed are layered over the project file's folder config (a
//! model's own `config()` still wins), as in dbt.

use super::{read_text, relative};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One entry of a `tests:` or `data_tests:` list, as written: not run or
/// compiled here (that is the data-tests work's).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DataTest {
    /// The test: `unique`, `accepted_values`, `dbt_utils.expression_is_true`
    /// (its `test_name:` when the entry names one).
    pub test: String,
    /// The entry's own `name:`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The column it is under, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Its arguments: the `arguments:` mapping, or the entry's other keys.
    pub arguments: Map<String, Value>,
    /// Its `config:` mapping (and the config keys written beside the
    /// arguments: `severity`, `where`, `error_if`, …).
    pub config: Map<String, Value>,
    /// The properties file, relative to the project.
    pub file: String,
    /// The 1-based line of the entry.
    pub line: usize,
}

/// A column's properties.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ColumnProperties {
    /// Its name, as written.
    pub name: String,
    /// `description`, with `doc()` calls resolved.
    pub description: String,
    /// `meta`.
    pub meta: Map<String, Value>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `data_type`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
}

/// The properties of one model, seed or source table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeProperties {
    /// `description`, with `doc()` calls resolved.
    pub description: String,
    /// `meta`.
    pub meta: Map<String, Value>,
    /// `tags`.
    pub tags: Vec<String>,
    /// The `config:` block.
    pub config: Map<String, Value>,
    /// `columns`, in order.
    pub columns: Vec<ColumnProperties>,
    /// Its tests and its columns' tests, in file order.
    pub data_tests: Vec<DataTest>,
    /// The file that declares them, relative to the project.
    pub patch_path: String,
}

impl NodeProperties {
    /// The configuration its properties give the node: the `config:`
    /// block, plus `tags`.
    pub fn node_config(&self) -> super::ModelConfig {
        let mut config = super::ModelConfig::default();
        for (k, v) in &self.config {
            super::merge_config_value(&mut config.values, k, v.clone());
        }
        if !self.tags.is_empty() {
            super::merge_config_value(&mut config.values, "tags", Value::from(self.tags.clone()));
        }
        config
    }
}

/// Every properties entry of the project.
#[derive(Debug, Clone, Default)]
pub struct Properties {
    /// Models by lower-case name.
    pub models: HashMap<String, NodeProperties>,
    /// Seeds by lower-case name.
    pub seeds: HashMap<String, NodeProperties>,
    /// Source tables by lower-case (source, table).
    pub sources: HashMap<(String, String), NodeProperties>,
    /// `{% docs name %}` blocks by name.
    pub docs: BTreeMap<String, String>,
}

/// A diagnostic for the properties file `file`.
fn bad(file: &str, text: &str, line: Option<usize>, message: String, help: &str) -> Diagnostic {
    let d = Diagnostic::error(codes::PROPERTIES, message).with_help(help);
    match line {
        Some(l) => d.at_line(Path::new(file), text, l, None),
        None => d.at_file(file),
    }
}

/// Reads the docs blocks of the `.md` files and the properties of the
/// `.yml` files under the model and seed paths.
pub(super) fn load_properties(
    root: &Path,
    yaml_files: &[PathBuf],
    md_files: &[PathBuf],
) -> Result<Properties, Diagnostic> {
    let mut props = Properties::default();
    for path in md_files {
        let text = read_text(path)?;
        let rel = relative(root, path);
        for (name, body, line) in docs_blocks(&text) {
            if props.docs.insert(name.clone(), body).is_some() {
                return Err(bad(
                    &rel,
                    &text,
                    Some(line),
                    format!("two docs blocks are named {name}"),
                    "give every {% docs name %} block its own name",
                ));
            }
        }
    }
    for path in yaml_files {
        let text = read_text(path)?;
        if !["models", "seeds", "sources"]
            .iter()
            .any(|k| text.contains(k))
        {
            continue;
        }
        let rel = relative(root, path);
        // A file that does not parse is the sources reader's to report
        // when it declares sources; here, only when it has node keys.
        let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
            if text.contains("models:") || text.contains("seeds:") {
                let e = serde_yaml::from_str::<serde_yaml::Value>(&text).unwrap_err();
                return Err(
                    Diagnostic::yaml_error(codes::PROPERTIES, Path::new(&rel), &text, &e)
                        .with_help(
                            "properties files hold models: [{name, description, columns: [...]}]",
                        ),
                );
            }
            continue;
        };
        let Ok(json) = serde_json::to_value(&value) else {
            continue;
        };
        let Some(top) = json.as_object() else {
            continue;
        };
        let mut lines = TestLines::scan(&text);
        let mut file = FileReader {
            rel: &rel,
            text: &text,
            docs: &props.docs,
            lines: &mut lines,
        };
        for (key, entries) in top {
            match key.as_str() {
                "models" | "seeds" => {
                    for (name, node) in file.nodes(key, entries)? {
                        let map = if key == "models" {
                            &mut props.models
                        } else {
                            &mut props.seeds
                        };
                        map.insert(name.to_lowercase(), node);
                    }
                }
                "sources" => {
                    let Some(sources) = entries.as_array() else {
                        continue;
                    };
                    for source in sources {
                        let Some(source_name) = source.get("name").and_then(Value::as_str) else {
                            file.skip_tests(source);
                            continue;
                        };
                        // The source's own tests are none of a table's.
                        for (k, v) in source.as_object().into_iter().flatten() {
                            if k == "tables" {
                                for (table, node) in file.nodes("sources", v)? {
                                    props.sources.insert(
                                        (source_name.to_lowercase(), table.to_lowercase()),
                                        node,
                                    );
                                }
                            } else {
                                file.skip_tests(v);
                            }
                        }
                    }
                }
                _ => file.skip_tests(entries),
            }
        }
    }
    Ok(props)
}

/// Reads the node entries of one properties file.
struct FileReader<'a> {
    rel: &'a str,
    text: &'a str,
    docs: &'a BTreeMap<String, String>,
    lines: &'a mut TestLines,
}

impl FileReader<'_> {
    /// The entries of a `models:`/`seeds:`/`tables:` list.
    fn nodes(
        &mut self,
        key: &str,
        entries: &Value,
    ) -> Result<Vec<(String, NodeProperties)>, Diagnostic> {
        let Some(list) = entries.as_array() else {
            return Err(bad(
                self.rel,
                self.text,
                key_line(self.text, key),
                format!("`{key}:` in {} is not a list", self.rel),
                "write one entry per node: models:\n  - name: customers\n    description: …",
            ));
        };
        let mut out = Vec::new();
        for entry in list {
            let Some(name) = entry.get("name").and_then(Value::as_str) else {
                return Err(bad(
                    self.rel,
                    self.text,
                    key_line(self.text, key),
                    format!("an entry of `{key}:` in {} has no `name:`", self.rel),
                    "give every entry the name of its model, seed or table: - name: customers",
                ));
            };
            let mut node = NodeProperties {
                patch_path: self.rel.to_string(),
                ..NodeProperties::default()
            };
            for (k, v) in entry.as_object().into_iter().flatten() {
                match k.as_str() {
                    "description" => node.description = self.description(v)?,
                    "meta" => node.meta = v.as_object().cloned().unwrap_or_default(),
                    "tags" => node.tags = strings(v),
                    "config" => node.config = v.as_object().cloned().unwrap_or_default(),
                    "tests" | "data_tests" => {
                        let tests = self.tests(v, None);
                        node.data_tests.extend(tests);
                    }
                    "columns" => {
                        for column in v.as_array().into_iter().flatten() {
                            let col_name = column
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string();
                            let mut col = ColumnProperties {
                                name: col_name.clone(),
                                ..ColumnProperties::default()
                            };
                            for (ck, cv) in column.as_object().into_iter().flatten() {
                                match ck.as_str() {
                                    "description" => col.description = self.description(cv)?,
                                    "meta" => {
                                        col.meta = cv.as_object().cloned().unwrap_or_default()
                                    }
                                    "tags" => col.tags = strings(cv),
                                    "data_type" => col.data_type = cv.as_str().map(str::to_string),
                                    "tests" | "data_tests" => {
                                        let tests = self.tests(cv, Some(&col_name));
                                        node.data_tests.extend(tests);
                                    }
                                    _ => self.skip_tests(cv),
                                }
                            }
                            node.columns.push(col);
                        }
                    }
                    _ => self.skip_tests(v),
                }
            }
            out.push((name.to_string(), node));
        }
        Ok(out)
    }

    /// A description with its `{{ doc('name') }}` calls replaced by the
    /// docs blocks they name.
    fn description(&self, v: &Value) -> Result<String, Diagnostic> {
        let text = v.as_str().unwrap_or_default();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let Some(end) = rest[start..].find("}}") else {
                break;
            };
            let inner = rest[start + 2..start + end].trim();
            out.push_str(&rest[..start]);
            match doc_call(inner) {
                Some(name) => match self.docs.get(name) {
                    Some(body) => out.push_str(body),
                    None => {
                        let hint = crate::suggest::did_you_mean(
                            name,
                            self.docs.keys().map(String::as_str),
                        );
                        return Err(bad(
                            self.rel,
                            self.text,
                            self.text
                                .lines()
                                .position(|l| l.contains("doc(") && l.contains(name))
                                .map(|i| i + 1),
                            format!("doc('{name}') names no docs block"),
                            &format!(
                                "{hint}{}add {{% docs {name} %}}…{{% enddocs %}} to a .md file under the model paths",
                                if hint.is_empty() { "" } else { " Otherwise " }
                            ),
                        ));
                    }
                },
                None => out.push_str(&rest[start..start + end + 2]),
            }
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The entries of a `tests:`/`data_tests:` value, each at its line.
    fn tests(&mut self, v: &Value, column: Option<&str>) -> Vec<DataTest> {
        let Some(items) = v.as_array() else {
            return Vec::new();
        };
        let lines = self.lines.next_block(items.len());
        items
            .iter()
            .zip(lines)
            .filter_map(|(item, line)| self.test(item, column, line))
            .collect()
    }

    /// Consumes the test blocks inside a value that holds no node tests
    /// (so the blocks after it pair with the right entries).
    fn skip_tests(&mut self, v: &Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    if (k == "tests" || k == "data_tests") && v.is_array() {
                        self.lines.next_block(v.as_array().map_or(0, Vec::len));
                    } else {
                        self.skip_tests(v);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.skip_tests(i)),
            _ => {}
        }
    }

    fn test(&self, item: &Value, column: Option<&str>, line: usize) -> Option<DataTest> {
        let mut t = DataTest {
            test: String::new(),
            name: None,
            column: column.map(str::to_string),
            arguments: Map::new(),
            config: Map::new(),
            file: self.rel.to_string(),
            line,
        };
        match item {
            Value::String(s) => t.test = s.clone(),
            Value::Object(map) => {
                // `- name: x, test_name: unique, …`, or `- unique: {…}`.
                let body: Map<String, Value> = match map.get("test_name").and_then(Value::as_str) {
                    Some(test) => {
                        t.test = test.to_string();
                        map.clone()
                    }
                    None => {
                        let (test, body) = map.iter().next()?;
                        t.test = test.clone();
                        body.as_object().cloned().unwrap_or_default()
                    }
                };
                for (k, v) in body {
                    match k.as_str() {
                        "test_name" => {}
                        "name" => t.name = v.as_str().map(str::to_string),
                        "arguments" => t.arguments = v.as_object().cloned().unwrap_or_default(),
                        "config" => t.config.extend(v.as_object().cloned().unwrap_or_default()),
                        k if TEST_CONFIG_KEYS.contains(&k) => {
                            t.config.insert(k.to_string(), v);
                        }
                        _ => {
                            t.arguments.insert(k, v);
                        }
                    }
                }
            }
            _ => return None,
        }
        Some(t)
    }
}

/// Config keys dbt accepts beside a test's arguments.
const TEST_CONFIG_KEYS: &[&str] = &[
    "severity",
    "where",
    "limit",
    "error_if",
    "warn_if",
    "fail_calc",
    "store_failures",
    "store_failures_as",
    "enabled",
    "tags",
    "meta",
    "alias",
    "schema",
    "database",
    "description",
];

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// `doc('name')` / `doc("name")` → `name`.
fn doc_call(inner: &str) -> Option<&str> {
    let args = inner.strip_prefix("doc")?.trim_start().strip_prefix('(')?;
    let args = args.strip_suffix(')')?.trim();
    let quote = args.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    args.strip_prefix(quote)?.strip_suffix(quote)
}

/// The `{% docs name %}…{% enddocs %}` blocks of a `.md` file: name, body
/// (trimmed), the line of the block.
fn docs_blocks(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("{%") {
        let Some(close) = rest[start..].find("%}") else {
            break;
        };
        let tag =
            rest[start + 2..start + close].trim_matches(|c: char| c == '-' || c.is_whitespace());
        let after = start + close + 2;
        if let Some(name) = tag.strip_prefix("docs")
            && name.starts_with(char::is_whitespace)
        {
            let name = name.trim().to_string();
            let Some(end) = rest[after..].find("enddocs") else {
                break;
            };
            // Back to the `{%` of the end tag.
            let body_end = rest[after..after + end].rfind("{%").unwrap_or(end);
            let body = rest[after..after + body_end].trim().to_string();
            let line = text[..offset + start].matches('\n').count() + 1;
            out.push((name, body, line));
            let skip = rest[after + end..].find("%}").map_or(end, |e| end + e + 2);
            offset += after + skip;
            rest = &rest[after + skip..];
        } else {
            offset += after;
            rest = &rest[after..];
        }
    }
    out
}

/// The 1-based line where `key:` first starts a line (after indentation).
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.starts_with(':'))
        })
        .map(|i| i + 1)
}

/// The lines of the entries of every `tests:`/`data_tests:` list of a
/// file, block by block in file order; the parsed YAML visits the same
/// lists in the same order, so the n-th list's entries pair with the n-th
/// block.
struct TestLines {
    blocks: std::collections::VecDeque<Block>,
}

/// One `tests:` list in the text.
struct Block {
    /// The line of the key.
    key: usize,
    /// The line of each `- ` entry (empty for a flow list `[a, b]`).
    entries: Vec<usize>,
}

impl TestLines {
    fn scan(text: &str) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let indent = |l: &str| l.len() - l.trim_start().len();
        let mut blocks = std::collections::VecDeque::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let body = line.trim_start().trim_start_matches("- ").trim_start();
            let key = ["tests:", "data_tests:"]
                .into_iter()
                .find(|k| body.starts_with(k));
            let Some(key) = key else {
                i += 1;
                continue;
            };
            let after = body[key.len()..].trim();
            let key_indent = indent(line);
            let mut block = Block {
                key: i + 1,
                entries: Vec::new(),
            };
            if after.is_empty() || after.starts_with('#') {
                let mut item_indent = None;
                let mut j = i + 1;
                while j < lines.len() {
                    let l = lines[j];
                    let t = l.trim_start();
                    if t.is_empty() || t.starts_with('#') {
                        j += 1;
                        continue;
                    }
                    let ind = indent(l);
                    let is_item = t.starts_with("- ") || t == "-";
                    match item_indent {
                        None if is_item && ind >= key_indent => {
                            item_indent = Some(ind);
                            block.entries.push(j + 1);
                        }
                        Some(n) if ind == n && is_item => block.entries.push(j + 1),
                        Some(n) if ind > n => {}
                        _ => break,
                    }
                    j += 1;
                }
            }
            blocks.push_back(block);
            i += 1;
        }
        TestLines { blocks }
    }

    /// The lines of the next block's `n` entries (its key's line for each
    /// when the block is written another way).
    fn next_block(&mut self, n: usize) -> Vec<usize> {
        match self.blocks.pop_front() {
            Some(b) if b.entries.len() == n => b.entries,
            Some(b) => vec![b.key; n],
            None => vec![1; n],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_blocks_and_doc_calls() {
        let blocks =
            docs_blocks("x\n{% docs a %}\nAlpha\n{% enddocs %}\n{%- docs b -%} B {%- enddocs -%}");
        assert_eq!(
            blocks,
            vec![("a".into(), "Alpha".into(), 2), ("b".into(), "B".into(), 5)]
        );
        assert_eq!(doc_call("doc('a')"), Some("a"));
        assert_eq!(doc_call("doc( \"b\" )"), Some("b"));
        assert_eq!(doc_call("var('a')"), None);
    }

    #[test]
    fn test_entries_get_their_lines() {
        let text = "models:\n  - name: m\n    tests:\n      - unique_combo: {columns: [a]}\n    columns:\n      - name: a\n        data_tests:\n          - unique\n          - accepted_values:\n              values: [1, 2]\n              severity: warn\n      - name: b\n        tests: [not_null]\n";
        let mut lines = TestLines::scan(text);
        assert_eq!(lines.next_block(1), vec![4]);
        assert_eq!(lines.next_block(2), vec![8, 9]);
        assert_eq!(lines.next_block(1), vec![13]);
    }
}
