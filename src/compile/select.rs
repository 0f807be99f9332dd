//! Node selection in dbt's syntax: `name`, `+name`, `name+`, `2+name`,
//! `tag:x`, `path:models/x`, globs (`identify_*`), unions (several specs) and
//! intersections (`tag:a,tag:b`).

use crate::compile::dag::Dag;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use std::collections::BTreeSet;

/// What selection needs to know of a model.
#[derive(Debug, Clone)]
pub struct Selectable {
    /// Model name.
    pub name: String,
    /// Path relative to the project root.
    pub path: String,
    /// Tags from config.
    pub tags: Vec<String>,
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
            },
            Selectable {
                name: "events".into(),
                path: "models/sync/events.sql".into(),
                tags: vec!["sync".into(), "daily".into()],
            },
            Selectable {
                name: "base".into(),
                path: "models/base.sql".into(),
                tags: vec![],
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
