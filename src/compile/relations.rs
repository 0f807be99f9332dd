//! The names of the relations cio-sql builds. Each part (database, schema,
//! table or view) must be a name Snowflake can hold and, where dbt's
//! `quoting:` is off for it, one that stands without quotes (CIO014,
//! see [`sql::check_name`]); and no two models may build one
//! relation (CIO015), compared the way Snowflake resolves names.

use crate::compile::{CompiledModel, CompiledSeed, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::{Model, Project, config_call_args};
use crate::sql::{self, NamePart, Quoting, RelationName};
use std::collections::HashMap;
use std::path::Path;

/// Checks the relation `relation` that `model` (with its final `config`
/// values in `config_values`) builds: one CIO014 error per part cio-sql
/// cannot create, pointing at where the part comes from (the `config(...)`
/// argument, the project file, or the model's file name).
pub fn check_model_relation(
    project: &Project,
    model: &Model,
    relation: &RelationName,
    config_values: &serde_json::Map<String, serde_json::Value>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for part in relation.parts(project.config.quoting) {
        let NamePart {
            name,
            config_key: key,
            quoting_key,
            quoted,
        } = part;
        let Err(problem) = sql::check_name(name, quoted) else {
            continue;
        };
        let what = match key {
            "alias" => "the relation name",
            "schema" => "the schema",
            _ => "the database",
        };
        let configured = config_values.contains_key(key);
        let from_file = key == "alias" && !configured;
        let in_source = config_call_args(&model.source)
            .into_iter()
            .find(|a| a.key == key);
        let mut d = Diagnostic::error(
            codes::BAD_NAME,
            format!(
                "{what} `{name}` of model {}{} cannot be used in Snowflake SQL: {problem}",
                model.name,
                if from_file { " (its file name)" } else { "" }
            ),
        )
        .for_model(&model.name);
        let how_plain;
        (d, how_plain) = match (in_source, configured) {
            (Some(arg), _) => (
                d.at_span(&model.path, &model.source, arg.key_span),
                format!("write a plain name in config(...), such as {key}='{{plain}}'"),
            ),
            (None, true) => (
                at_project_key(d, project, key),
                format!("write a plain name for `+{key}` in dbt_project.yml, such as `{{plain}}`, or override it in the model with config({key}='…')"),
            ),
            (None, false) if key == "alias" => (
                d.at_file(&model.path),
                "rename the model file to a plain name, such as `{plain}.sql`, or set config(alias='{plain}')".to_string(),
            ),
            // The target's own database or schema: checked when the
            // project loads; a custom schema always has a config key.
            (None, false) => (d.at_file(&model.path), format!("change `{key}`")),
        };
        out.push(d.with_help(problem.help(name, &how_plain, quoting_key)));
    }
    out
}

/// Points `d` at the first line of `dbt_project.yml` that sets `key` (as
/// `key:` or `+key:`), or at the file.
fn at_project_key(d: Diagnostic, project: &Project, key: &str) -> Diagnostic {
    let file = crate::project::PROJECT_FILE;
    let text = std::fs::read_to_string(project.root.join(file)).unwrap_or_default();
    let found = text.lines().position(|line| {
        let line = line.trim_start().trim_start_matches('+');
        line.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    });
    match found {
        Some(i) => d.at_line(Path::new(file), &text, i + 1, None),
        None => d.at_file(file),
    }
}

/// The relation as Snowflake resolves it under `quoting`: one key per
/// object, so unquoted names compare case-insensitively, quoted ones exactly.
pub fn resolved_key(relation: &RelationName, quoting: Quoting) -> (String, String, String) {
    let [db, schema, table] = relation
        .parts(quoting)
        .map(|part| sql::resolved_part(part.name, part.quoted).into_owned());
    (db, schema, table)
}

/// Fails every enabled model that builds the same relation as another
/// (CIO015), naming the other models and their files, as dbt does.
pub fn check_unique_relations(models: &mut [CompiledModel], project: &Project) {
    let quoting = project.config.quoting;
    let mut by_relation: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (i, m) in models.iter().enumerate() {
        if m.stored.is_some() && m.status != ModelStatus::Disabled {
            by_relation
                .entry(resolved_key(&m.relation, quoting))
                .or_default()
                .push(i);
        }
    }
    let mut clashes: Vec<Vec<usize>> = by_relation.into_values().filter(|v| v.len() > 1).collect();
    clashes.sort();
    for group in clashes {
        for &i in &group {
            let others: Vec<String> = group
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| format!("{} ({})", models[j].name, models[j].path))
                .collect();
            let m = &models[i];
            let shown = crate::render::Relation {
                name: m.relation.clone(),
                quoting,
            }
            .render_sql();
            let all = if others.len() == 1 { "both" } else { "all" };
            let d = Diagnostic::error(
                codes::SAME_RELATION,
                format!(
                    "models {} ({}) and {} {all} build the relation {shown}",
                    m.name,
                    m.path,
                    others.join(", ")
                ),
            )
            .for_model(&m.name)
            .with_help(
                "give one of them another name: rename its file or set config(alias='…'); Snowflake resolves unquoted names in upper case, so `Foo` and `FOO` are one relation",
            );
            let source = project.models.iter().find(|pm| pm.name == m.name);
            let d = match source.and_then(|pm| {
                config_call_args(&pm.source)
                    .into_iter()
                    .find(|a| a.key == "alias")
                    .map(|a| (pm, a.key_span))
            }) {
                Some((pm, span)) => d.at_span(&pm.path, &pm.source, span),
                None => d.at_file(&m.path),
            };
            let m = &mut models[i];
            m.diagnostics.push(d);
            m.status = ModelStatus::Error;
        }
    }
}

/// Fails a seed that loads the relation an enabled model builds (CIO041,
/// on both), or that an earlier seed loads (CIO034), compared the way
/// Snowflake resolves names, as dbt refuses two nodes with one database
/// representation.
pub fn check_seed_relations(
    models: &mut [CompiledModel],
    seeds: &mut [CompiledSeed],
    project: &Project,
) {
    let quoting = project.config.quoting;
    let by_model: HashMap<(String, String, String), usize> = models
        .iter()
        .enumerate()
        .filter(|(_, m)| m.status != ModelStatus::Disabled)
        .map(|(i, m)| (resolved_key(&m.relation, quoting), i))
        .collect();
    let mut by_seed: HashMap<(String, String, String), usize> = HashMap::new();
    for i in 0..seeds.len() {
        if seeds[i].status == ModelStatus::Disabled {
            continue;
        }
        let key = resolved_key(&seeds[i].relation, quoting);
        let shown = crate::render::Relation {
            name: seeds[i].relation.clone(),
            quoting,
        }
        .render_sql();
        if let Some(&m) = by_model.get(&key) {
            let (model, seed) = (&mut models[m], &mut seeds[i]);
            let d = Diagnostic::error(
                codes::SEED_MODEL_RELATION,
                format!(
                    "the seed {} and the model {} ({}) both build the relation {shown}",
                    seed.path, model.name, model.path
                ),
            )
            .with_help(
                "give one of them another relation: set +alias or +schema for the seed in dbt_project.yml (seeds:), or config(alias='…') in the model",
            );
            model
                .diagnostics
                .push(d.clone().for_model(&model.name).at_file(&model.path));
            model.status = ModelStatus::Error;
            seed.diagnostics.push(d.at_file(&seed.path));
            seed.status = ModelStatus::Error;
        } else if let Some(&first) = by_seed.get(&key) {
            let other = seeds[first].path.clone();
            let seed = &mut seeds[i];
            seed.diagnostics.push(
                Diagnostic::error(
                    codes::SEEDS_CLASH,
                    format!("{} and {other} both load {shown}", seed.path),
                )
                .at_file(&seed.path)
                .with_help("rename one of the files (a seed's file name is its table name), or set +alias for one"),
            );
            seed.status = ModelStatus::Error;
        } else {
            by_seed.insert(key, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_keys_follow_quoting() {
        let off = Quoting::default();
        let on = Quoting {
            identifier: true,
            ..Quoting::default()
        };
        let foo = RelationName::new("analytics", "public", "Foo");
        let upper = RelationName::new("ANALYTICS", "PUBLIC", "FOO");
        assert_eq!(resolved_key(&foo, off), resolved_key(&upper, off));
        assert_ne!(resolved_key(&foo, on), resolved_key(&upper, on));
    }
}
