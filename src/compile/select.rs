//! Node selection in dbt's syntax (its node selection grammar,
//! <https://docs.getdbt.com/reference/node-selection/syntax>): one criterion
//! is `[@][n+][method[.arg]:]value[+[n]]`; several specs are a union, a
//! comma inside one an intersection, `--exclude` is subtracted.
//!
//! Methods: `fqn:` (the default for a bare value; a value with a `/` is a
//! `path:`, one ending `.sql`/`.csv` a `file:`), `tag:`, `path:`, `file:`,
//! `resource_type:`, `config.<key>:`, `source:`, `package:` and `state:`
//! (`new`, `modified` and its `.body`/`.configs`/`.relation`, with
//! `--state DIR`). dbt's other methods are refused by name; an unknown one
//! is refused with the list. A criterion that matches nothing is a warning
//! (CIO044), except a bare name, which is an error with "did you mean".

use crate::compile::dag::Dag;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use std::collections::BTreeSet;

/// What selection needs to know of a node (a model or a seed).
#[derive(Debug, Clone, Default)]
pub struct Selectable {
    /// Node name.
    pub name: String,
    /// Path relative to the project root.
    pub path: String,
    /// Tags from config.
    pub tags: Vec<String>,
    /// `model` or `seed` (dbt's `resource_type`).
    pub resource_type: &'static str,
    /// dbt's fqn: the project name, the folders below the model (or seed)
    /// path, the name.
    pub fqn: Vec<String>,
    /// The final configuration (with `materialized` always set).
    pub config: serde_json::Map<String, serde_json::Value>,
    /// The declared sources it reads, as `source.table` (lower case).
    pub sources: Vec<String>,
    /// dbt's checksum of its file: the SHA-256 of its text, whitespace
    /// trimmed (what `state:modified.body` compares).
    pub checksum: String,
    /// `database.schema.identifier`, lower case (`state:modified.relation`).
    pub relation: String,
}

impl Selectable {
    /// A compiled model as selection sees it.
    /// `sources` maps a relation (lower case) to the declared source it
    /// is (`source.table`); `text` is the model's source text, when its
    /// checksum is wanted (for `state:`).
    pub fn model(
        m: &crate::compile::CompiledModel,
        project: &crate::project::Project,
        sources: &std::collections::HashMap<String, String>,
        text: Option<&str>,
    ) -> Self {
        let mut config = m.config.values.clone();
        config
            .entry("materialized")
            .or_insert_with(|| serde_json::Value::from(m.config.materialized()));
        Selectable {
            name: m.name.clone(),
            path: m.path.clone(),
            tags: m.config.tags(),
            resource_type: "model",
            fqn: fqn_of(&project.config.name, &m.path, &project.config.model_paths),
            config,
            sources: m
                .relations
                .iter()
                .filter_map(|r| sources.get(&r.to_lowercase()).cloned())
                .collect(),
            checksum: text
                .map(crate::project::seeds::checksum)
                .unwrap_or_default(),
            relation: m.relation.to_string().to_lowercase(),
        }
    }

    /// A seed as selection sees it.
    pub fn seed(s: &crate::compile::CompiledSeed, project: &crate::project::Project) -> Self {
        let mut config = s.config.values.clone();
        config
            .entry("materialized")
            .or_insert_with(|| serde_json::Value::from("seed"));
        Selectable {
            name: s.name.clone(),
            path: s.path.clone(),
            tags: s.config.tags(),
            resource_type: "seed",
            fqn: fqn_of(&project.config.name, &s.path, &project.config.seed_paths),
            config,
            sources: Vec::new(),
            checksum: project
                .seeds
                .iter()
                .find(|p| p.path == s.path)
                .map(|p| p.checksum.clone())
                .unwrap_or_default(),
            relation: s.relation.to_string().to_lowercase(),
        }
    }
}

/// dbt's fqn of the node at `path` under one of `roots`: the project, the
/// folders below the root, the file stem.
pub fn fqn_of(project: &str, path: &str, roots: &[String]) -> Vec<String> {
    let rel = roots
        .iter()
        .find_map(|r| {
            path.strip_prefix(r.as_str())
                .and_then(|p| p.strip_prefix('/'))
        })
        .unwrap_or(path);
    let mut parts: Vec<String> = std::iter::once(project.to_string())
        .chain(rel.split('/').map(str::to_string))
        .collect();
    if let Some(last) = parts.last_mut()
        && let Some((stem, _)) = last.rsplit_once('.')
    {
        *last = stem.to_string();
    }
    parts
}

/// A node of a previous manifest (`--state DIR`), as `state:` compares it.
#[derive(Debug, Clone, Default)]
pub struct StateNode {
    /// Its checksum (`checksum.checksum`).
    pub checksum: String,
    /// Its configuration, when the manifest is cio-sql's (dbt's own
    /// manifests spell every default, so configs are not compared).
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    /// `database.schema.identifier`, lower case.
    pub relation: String,
}

/// A previous manifest: unique id → node.
pub type State = std::collections::HashMap<String, StateNode>;

/// Reads the previous manifest in `dir` (`--state DIR`): dbt's or
/// cio-sql's `manifest.json`.
pub fn read_state(dir: &std::path::Path) -> Result<State, Diagnostic> {
    let file = dir.join("manifest.json");
    let fail = |why: String| {
        Diagnostic::error(
            codes::STATE,
            format!("--state {}: {why}", dir.display()),
        )
        .at_file(&file)
        .with_help("point --state at a folder holding the manifest.json of an earlier compile: copy target/manifest.json aside (e.g. to prod-state/) before changing the project, then pass --state prod-state")
    };
    if !dir.is_dir() {
        return Err(fail("the folder does not exist".into()));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail("the folder holds no manifest.json".into()),
        _ => fail(format!("cannot read manifest.json: {e}")),
    })?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| fail(format!("manifest.json is not valid JSON: {e}")))?;
    let Some(nodes) = manifest.get("nodes").and_then(|n| n.as_object()) else {
        return Err(fail(
            "manifest.json has no `nodes`: it is not a dbt or cio-sql manifest".into(),
        ));
    };
    let ours = manifest
        .pointer("/metadata/generator")
        .and_then(|g| g.as_str())
        == Some("cio-sql");
    let text_of = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_lowercase()
    };
    Ok(nodes
        .iter()
        .map(|(id, node)| {
            let checksum = node
                .pointer("/checksum/checksum")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_string();
            let config = ours
                .then(|| node.get("config").and_then(|c| c.as_object()).cloned())
                .flatten();
            let relation = format!(
                "{}.{}.{}",
                text_of(node, "database"),
                text_of(node, "schema"),
                text_of(node, "alias")
            );
            (
                id.clone(),
                StateNode {
                    checksum,
                    config,
                    relation,
                },
            )
        })
        .collect())
}

/// What selection works on.
pub struct Selector<'a> {
    /// Every enabled node.
    pub nodes: &'a [Selectable],
    /// Their graph.
    pub dag: &'a Dag,
    /// The project name (`package:`, unique ids).
    pub project: &'a str,
    /// The previous manifest of `--state DIR`, when given.
    pub state: Option<&'a State>,
}

/// The methods cio-sql selects by.
pub const METHODS: &[&str] = &[
    "fqn",
    "tag",
    "path",
    "file",
    "resource_type",
    "config",
    "source",
    "package",
    "state",
];

/// dbt's methods that cio-sql does not have (its nodes are models and seeds).
const DBT_ONLY_METHODS: &[&str] = &[
    "group",
    "access",
    "test_name",
    "test_type",
    "exposure",
    "metric",
    "result",
    "source_status",
    "version",
    "semantic_model",
    "saved_query",
    "unit_test",
];

/// dbt's resource types; cio-sql's nodes are of the first two.
const RESOURCE_TYPES: &[&str] = &[
    "model",
    "seed",
    "test",
    "snapshot",
    "source",
    "analysis",
    "exposure",
    "metric",
    "semantic_model",
    "saved_query",
    "unit_test",
    "function",
];

/// `state:` values cio-sql compares.
const STATE_VALUES: &[&str] = &[
    "new",
    "old",
    "modified",
    "unmodified",
    "modified.body",
    "modified.configs",
    "modified.relation",
];

/// The selection: names in node order, and a warning (CIO044) for each
/// criterion that matched nothing.
#[derive(Debug, Default)]
pub struct Selected {
    /// Selected node names, in the order of the nodes.
    pub names: Vec<String>,
    /// Criteria that matched no node.
    pub warnings: Vec<Diagnostic>,
}

/// The names selected by `select` (every node when empty) minus `exclude`,
/// in the order of `models`, without `--state`.
pub fn select(
    models: &[Selectable],
    dag: &Dag,
    select: &[String],
    exclude: &[String],
) -> Result<Vec<String>, Diagnostic> {
    let selector = Selector {
        nodes: models,
        dag,
        project: "",
        state: None,
    };
    Ok(selector.select(select, exclude)?.names)
}

impl Selector<'_> {
    /// The nodes selected by `select` (every node when empty) minus
    /// `exclude`, in node order.
    pub fn select(&self, select: &[String], exclude: &[String]) -> Result<Selected, Diagnostic> {
        let mut warnings = Vec::new();
        let all: BTreeSet<String> = self.nodes.iter().map(|m| m.name.clone()).collect();
        let mut chosen: BTreeSet<String> = if select.is_empty() {
            all
        } else {
            let mut set = BTreeSet::new();
            for spec in select.iter().flat_map(|s| s.split_whitespace()) {
                set.extend(self.evaluate(spec, &mut warnings)?);
            }
            set
        };
        for spec in exclude.iter().flat_map(|s| s.split_whitespace()) {
            for name in self.evaluate(spec, &mut warnings)? {
                chosen.remove(&name);
            }
        }
        Ok(Selected {
            names: self
                .nodes
                .iter()
                .filter(|m| chosen.contains(&m.name))
                .map(|m| m.name.clone())
                .collect(),
            warnings,
        })
    }

    /// One spec, with `,` meaning intersection.
    fn evaluate(
        &self,
        spec: &str,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<BTreeSet<String>, Diagnostic> {
        let mut result: Option<BTreeSet<String>> = None;
        for part in spec.split(',').filter(|p| !p.is_empty()) {
            let set = self.criterion(part)?;
            if set.is_empty() {
                warnings.push(
                    Diagnostic::warning(
                        codes::NOTHING_SELECTED,
                        format!(
                            "the selection criterion `{part}` does not match any enabled node"
                        ),
                    )
                    .with_help("list the nodes with `cio-sql ls`; check the spelling of the tag, path or value"),
                );
            }
            result = Some(match result {
                None => set,
                Some(prev) => prev.intersection(&set).cloned().collect(),
            });
        }
        Ok(result.unwrap_or_default())
    }

    /// One criterion: `[@][n+][method:]value[+[n]]`.
    fn criterion(&self, spec: &str) -> Result<BTreeSet<String>, Diagnostic> {
        let (at, rest) = match spec.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        let (up, core, mut down) = split_plus(rest);
        // A source is the node before the models that read it: `source:x+1`
        // is those models.
        if core.starts_with("source:")
            && let Some(Some(depth)) = down
        {
            if depth == 0 {
                return Ok(BTreeSet::new());
            }
            down = Some(Some(depth - 1));
        }
        if at && (up.is_some() || down.is_some()) {
            return Err(Diagnostic::error(
                codes::SELECTION,
                format!("--select/--exclude `{spec}`: the `@` prefix and `+` cannot be combined"),
            )
            .with_help("write @name (the node, its descendants and their ancestors), or +name+"));
        }
        let base = self.base(spec, core)?;
        let mut out = BTreeSet::new();
        for m in base {
            out.insert(m.name.clone());
            if let Some(depth) = up {
                out.extend(
                    self.dag
                        .ancestors(&m.name, depth)
                        .into_iter()
                        .map(str::to_string),
                );
            }
            if let Some(depth) = down {
                out.extend(
                    self.dag
                        .descendants(&m.name, depth)
                        .into_iter()
                        .map(str::to_string),
                );
            }
            if at {
                for d in self.dag.descendants(&m.name, None) {
                    out.extend(self.dag.ancestors(d, None).into_iter().map(str::to_string));
                }
            }
        }
        Ok(out)
    }

    /// The nodes `method:value` (`core`) matches, before graph operators.
    fn base(&self, spec: &str, core: &str) -> Result<Vec<&Selectable>, Diagnostic> {
        let (method, value) = match core.split_once(':') {
            Some((method, value)) => (method, value),
            None if core.contains('/') || core.contains('\\') => ("path", core),
            None if [".sql", ".csv"]
                .iter()
                .any(|e| core.to_lowercase().ends_with(e)) =>
            {
                ("file", core)
            }
            None => ("", core),
        };
        let (method, args) = match method.split_once('.') {
            Some((m, args)) => (m, Some(args)),
            None => (method, None),
        };
        let nodes = self.nodes.iter();
        let found: Vec<&Selectable> = match method {
            "" | "fqn" => {
                let found: Vec<&Selectable> = nodes.filter(|m| fqn_matches(value, m)).collect();
                if method.is_empty() && found.is_empty() && !value.contains(['*', '?']) {
                    let hint = crate::suggest::did_you_mean(
                        value,
                        self.nodes.iter().map(|m| m.name.as_str()),
                    );
                    return Err(Diagnostic::error(
                        codes::SELECTION,
                        format!("--select/--exclude `{spec}`: no model is named {value}"),
                    )
                    .with_help(if hint.is_empty() {
                        "list the models and seeds with `cio-sql ls`".to_string()
                    } else {
                        hint
                    }));
                }
                found
            }
            "tag" => nodes
                .filter(|m| m.tags.iter().any(|t| glob(value, t)))
                .collect(),
            "path" => {
                let path = value.trim_end_matches('/');
                let path = path.strip_prefix("./").unwrap_or(path);
                nodes
                    .filter(|m| {
                        m.path == path
                            || m.path.starts_with(&format!("{path}/"))
                            || glob(path, &m.path)
                    })
                    .collect()
            }
            "file" => nodes
                .filter(|m| {
                    let file = m.path.rsplit('/').next().unwrap_or(&m.path);
                    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
                    glob(value, file) || glob(value, stem)
                })
                .collect(),
            "resource_type" => {
                if !RESOURCE_TYPES.contains(&value) {
                    return Err(bad_value(spec, "resource_type", value, RESOURCE_TYPES));
                }
                nodes.filter(|m| m.resource_type == value).collect()
            }
            "config" => {
                let Some(path) = args.filter(|a| !a.is_empty()) else {
                    return Err(Diagnostic::error(
                        codes::SELECTOR,
                        format!("--select/--exclude `{spec}`: `config` needs a key: config.<key>:<value>"),
                    )
                    .with_help("for example config.materialized:table"));
                };
                nodes
                    .filter(|m| config_matches(&m.config, path, value))
                    .collect()
            }
            "source" => {
                // Sources are not nodes cio-sql builds: `source:x+` selects
                // what reads them.
                nodes
                    .filter(|m| m.sources.iter().any(|s| source_matches(value, s)))
                    .collect()
            }
            "package" => {
                if value == "this" || glob(value, self.project) {
                    nodes.collect()
                } else {
                    Vec::new()
                }
            }
            "state" => self.by_state(spec, value)?,
            m if DBT_ONLY_METHODS.contains(&m) => {
                return Err(Diagnostic::error(
                    codes::SELECTOR,
                    format!(
                        "--select/--exclude `{spec}`: cio-sql does not support dbt's `{m}:` method"
                    ),
                )
                .with_help(format!("the methods cio-sql knows: {}", METHODS.join(", "))));
            }
            m => {
                let hint = crate::suggest::did_you_mean(m, METHODS.iter().copied());
                return Err(Diagnostic::error(
                    codes::SELECTOR,
                    format!("--select/--exclude `{spec}`: `{m}` is not a selector method"),
                )
                .with_help(format!(
                    "{}{}he methods are: {}",
                    hint,
                    if hint.is_empty() { "t" } else { " T" },
                    METHODS.join(", ")
                )));
            }
        };
        // `source:x` alone names the source, which is not a node: the
        // criterion then selects what reads it only with `+`.
        if method == "source" && split_plus(spec).2.is_none() {
            return Ok(Vec::new());
        }
        Ok(found)
    }

    /// `state:<value>` against the previous manifest.
    fn by_state(&self, spec: &str, value: &str) -> Result<Vec<&Selectable>, Diagnostic> {
        if !STATE_VALUES.contains(&value) {
            return Err(bad_value(spec, "state", value, STATE_VALUES));
        }
        let Some(state) = self.state else {
            return Err(Diagnostic::error(
                codes::STATE,
                format!("--select/--exclude `{spec}`: a `state:` selector needs a previous manifest to compare with"),
            )
            .with_help("pass --state DIR, a folder holding the manifest.json of an earlier compile (e.g. a copy of target/)"));
        };
        let id = |m: &Selectable| format!("{}.{}.{}", m.resource_type, self.project, m.name);
        let body = |m: &Selectable, old: &StateNode| old.checksum != m.checksum;
        // As dbt compares configs: not alias, schema, database or tags
        // (those are the relation's, or change no build); an unset
        // `materialized` is the default.
        let configs = |m: &Selectable, old: &StateNode| {
            old.config.as_ref().is_some_and(|c| {
                let default = if m.resource_type == "seed" {
                    "seed"
                } else {
                    "view"
                };
                let strip = |c: &serde_json::Map<String, serde_json::Value>| {
                    let mut c = c.clone();
                    for k in ["alias", "schema", "database", "tags"] {
                        c.remove(k);
                    }
                    c.entry("materialized")
                        .or_insert_with(|| serde_json::Value::from(default));
                    c
                };
                strip(c) != strip(&m.config)
            })
        };
        let relation = |m: &Selectable, old: &StateNode| old.relation != m.relation;
        Ok(self
            .nodes
            .iter()
            .filter(|m| {
                let old = state.get(&id(m));
                match (value, old) {
                    ("new", old) => old.is_none(),
                    ("old", old) => old.is_some(),
                    // As dbt: a node the old manifest lacks is modified
                    // in every sense.
                    (_, None) => value.starts_with("modified"),
                    ("modified", Some(o)) => body(m, o) || configs(m, o) || relation(m, o),
                    ("unmodified", Some(o)) => !(body(m, o) || configs(m, o) || relation(m, o)),
                    ("modified.body", Some(o)) => body(m, o),
                    ("modified.configs", Some(o)) => configs(m, o),
                    ("modified.relation", Some(o)) => relation(m, o),
                    _ => false,
                }
            })
            .collect())
    }
}

/// A bad value for `method:` that takes one of `allowed`.
fn bad_value(spec: &str, method: &str, value: &str, allowed: &[&str]) -> Diagnostic {
    let hint = crate::suggest::did_you_mean(value, allowed.iter().copied());
    Diagnostic::error(
        codes::SELECTOR,
        format!("--select/--exclude `{spec}`: `{value}` is not a value of `{method}:`"),
    )
    .with_help(format!(
        "{}{}write one of: {}",
        hint,
        if hint.is_empty() { "" } else { " Otherwise " },
        allowed.join(", ")
    ))
}

/// dbt's `fqn:` match: the value is the node's name, or a dotted prefix of
/// its fqn with or without the project name, each part a glob.
fn fqn_matches(value: &str, m: &Selectable) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() == 1 && glob(value, &m.name) {
        return true;
    }
    let prefix_of =
        |fqn: &[String]| parts.len() <= fqn.len() && parts.iter().zip(fqn).all(|(p, f)| glob(p, f));
    !m.fqn.is_empty() && (prefix_of(&m.fqn) || prefix_of(&m.fqn[1..]))
}

/// `source:` values: `src`, `src.table` (each part a glob), or
/// `project.src.table`.
fn source_matches(value: &str, read: &str) -> bool {
    let (src, table) = read.split_once('.').unwrap_or((read, ""));
    let parts: Vec<&str> = value.split('.').collect();
    match parts.as_slice() {
        [s] => glob(s, src),
        [s, t] => glob(s, src) && glob(t, table),
        [_, s, t] => glob(s, src) && glob(t, table),
        _ => false,
    }
}

/// `config.<path>:<value>`: the config value at the dotted `path` equals
/// `value` (a list: holds it; a boolean: `true`/`false` in any case).
fn config_matches(
    config: &serde_json::Map<String, serde_json::Value>,
    path: &str,
    value: &str,
) -> bool {
    use serde_json::Value;
    let mut keys = path.split('.');
    let Some(first) = keys.next() else {
        return false;
    };
    let mut at = config.get(first);
    for k in keys {
        at = at.and_then(|v| v.get(k));
    }
    let scalar = |v: &Value| match v {
        Value::String(s) => glob(value, s),
        Value::Bool(b) => value.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Number(n) => n.to_string() == value,
        _ => false,
    };
    match at {
        Some(Value::Array(items)) => items.iter().any(scalar),
        Some(v) => scalar(v),
        None => false,
    }
}

fn split_plus(spec: &str) -> (Option<Option<usize>>, &str, Option<Option<usize>>) {
    let mut rest = spec;
    let mut up = None;
    if let Some(idx) = rest.find('+') {
        let prefix = &rest[..idx];
        if prefix.chars().all(|c| c.is_ascii_digit()) {
            up = Some(prefix.parse().ok());
            rest = &rest[idx + 1..];
        }
    }
    let mut down = None;
    if let Some(idx) = rest.rfind('+') {
        let suffix = &rest[idx + 1..];
        if suffix.chars().all(|c| c.is_ascii_digit()) {
            down = Some(suffix.parse().ok());
            rest = &rest[..idx];
        }
    }
    (up, rest, down)
}

/// Case-insensitive glob with `*` and `?`.
fn glob(pattern: &str, text: &str) -> bool {
    fn inner(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => inner(&p[1..], t) || (!t.is_empty() && inner(p, &t[1..])),
            (Some('?'), Some(_)) => inner(&p[1..], &t[1..]),
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b) && inner(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    inner(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn fixture() -> (Vec<Selectable>, Dag) {
        let models = vec![
            Selectable {
                name: "people".into(),
                path: "models/sync/people.sql".into(),
                tags: vec!["sync".into()],
                ..Selectable::default()
            },
            Selectable {
                name: "events".into(),
                path: "models/sync/events.sql".into(),
                tags: vec!["sync".into(), "daily".into()],
                ..Selectable::default()
            },
            Selectable {
                name: "base".into(),
                path: "models/base.sql".into(),
                tags: vec![],
                ..Selectable::default()
            },
        ];
        let deps: HashMap<&str, Vec<String>> = HashMap::from([
            ("people", vec!["base".to_string()]),
            ("events", vec!["people".to_string()]),
            ("base", vec![]),
        ]);
        let dag = Dag::new(models.iter().map(|m| m.name.as_str()), |n| deps[n].clone());
        (models, dag)
    }

    fn sel(spec: &[&str], ex: &[&str]) -> Vec<String> {
        let (m, d) = fixture();
        let s: Vec<String> = spec.iter().map(|s| s.to_string()).collect();
        let e: Vec<String> = ex.iter().map(|s| s.to_string()).collect();
        select(&m, &d, &s, &e).unwrap()
    }

    #[test]
    fn dbt_selectors() {
        assert_eq!(sel(&[], &[]), vec!["people", "events", "base"]);
        assert_eq!(sel(&["people"], &[]), vec!["people"]);
        assert_eq!(sel(&["+people"], &[]), vec!["people", "base"]);
        assert_eq!(sel(&["people+"], &[]), vec!["people", "events"]);
        assert_eq!(sel(&["1+events"], &[]), vec!["people", "events"]);
        assert_eq!(sel(&["tag:sync"], &[]), vec!["people", "events"]);
        assert_eq!(sel(&["tag:sync,tag:daily"], &[]), vec!["events"]);
        assert_eq!(sel(&["path:models/sync"], &[]), vec!["people", "events"]);
        assert_eq!(sel(&["peo*"], &[]), vec!["people"]);
        assert_eq!(sel(&["tag:sync"], &["events"]), vec!["people"]);
        assert_eq!(sel(&["people events"], &[]), vec!["people", "events"]);
    }

    #[test]
    fn unknown_names_suggest() {
        let (m, d) = fixture();
        let err = select(&m, &d, &["peple".into()], &[]).unwrap_err();
        assert!(err.help.unwrap().contains("people"));
    }
}
