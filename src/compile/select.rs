//! Node selection in dbt's syntax: `name`, `+name`, `name+`, `2+name`,
//! `tag:x`, `path:models/x`, globs (`identify_*`), unions (several specs) and
//! intersections (`tag:a,tag:b`).

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
    /// The final configuration.
    pub config: serde_json::Map<String, serde_json::Value>,
}

impl Selectable {
    /// A compiled model as selection sees it.
    pub fn model(m: &crate::compile::CompiledModel, project: &crate::project::Project) -> Self {
        Selectable {
            name: m.name.clone(),
            path: m.path.clone(),
            tags: m.config.tags(),
            resource_type: "model",
            fqn: fqn_of(&project.config.name, &m.path, &project.config.model_paths),
            config: m.config.values.clone(),
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

/// The names selected by `select` (every model when empty) minus `exclude`,
/// in the order of `models`.
pub fn select(
    models: &[Selectable],
    dag: &Dag,
    select: &[String],
    exclude: &[String],
) -> Result<Vec<String>, Diagnostic> {
    let all: BTreeSet<String> = models.iter().map(|m| m.name.clone()).collect();
    let mut chosen: BTreeSet<String> = if select.is_empty() {
        all.clone()
    } else {
        let mut set = BTreeSet::new();
        for spec in select.iter().flat_map(|s| s.split_whitespace()) {
            set.extend(evaluate(models, dag, spec)?);
        }
        set
    };
    for spec in exclude.iter().flat_map(|s| s.split_whitespace()) {
        for name in evaluate(models, dag, spec)? {
            chosen.remove(&name);
        }
    }
    Ok(models
        .iter()
        .filter(|m| chosen.contains(&m.name))
        .map(|m| m.name.clone())
        .collect())
}

/// One spec, with `,` meaning intersection.
fn evaluate(models: &[Selectable], dag: &Dag, spec: &str) -> Result<BTreeSet<String>, Diagnostic> {
    let mut result: Option<BTreeSet<String>> = None;
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let set = evaluate_one(models, dag, part)?;
        result = Some(match result {
            None => set,
            Some(prev) => prev.intersection(&set).cloned().collect(),
        });
    }
    Ok(result.unwrap_or_default())
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

fn evaluate_one(
    models: &[Selectable],
    dag: &Dag,
    spec: &str,
) -> Result<BTreeSet<String>, Diagnostic> {
    let (up, core, down) = split_plus(spec);
    let base: Vec<&Selectable> = if let Some(tag) = core.strip_prefix("tag:") {
        models
            .iter()
            .filter(|m| m.tags.iter().any(|t| glob(tag, t)))
            .collect()
    } else if let Some(path) = core.strip_prefix("path:") {
        let path = path.trim_end_matches('/');
        models
            .iter()
            .filter(|m| {
                m.path == path || m.path.starts_with(&format!("{path}/")) || glob(path, &m.path)
            })
            .collect()
    } else {
        let name = core.strip_prefix("fqn:").unwrap_or(core);
        let name = name.rsplit('.').next().unwrap_or(name);
        let found: Vec<&Selectable> = models.iter().filter(|m| glob(name, &m.name)).collect();
        if found.is_empty() && !name.contains('*') {
            let hint = crate::suggest::did_you_mean(name, models.iter().map(|m| m.name.as_str()));
            return Err(Diagnostic::error(
                codes::SELECTION,
                format!("--select/--exclude `{spec}`: no model is named {name}"),
            )
            .with_help(if hint.is_empty() {
                "list the models with `cio-sql ls`".to_string()
            } else {
                hint
            }));
        }
        found
    };
    let mut out = BTreeSet::new();
    for m in base {
        out.insert(m.name.clone());
        if let Some(depth) = up {
            out.extend(
                dag.ancestors(&m.name, depth)
                    .into_iter()
                    .map(str::to_string),
            );
        }
        if let Some(depth) = down {
            out.extend(
                dag.descendants(&m.name, depth)
                    .into_iter()
                    .map(str::to_string),
            );
        }
    }
    Ok(out)
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
