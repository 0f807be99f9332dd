//! The names of the relations cio-sql builds. Each part (database, schema,
//! table or view) must be a name Snowflake can hold and, where dbt's
//! `quoting:` is off for it, one that stands without quotes (CIO014,
//! see [`sql::check_name`]); and no two models may build one
//! relation (CIO015), compared the way Snowflake resolves names.

use crate::catalog::RelationName;
use crate::compile::{CompiledModel, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::project::{Model, Project, Quoting, Target, config_call_args};
use crate::render::sql::{self, NameProblem};
use std::collections::HashMap;
use std::path::Path;

/// The code of a relation name cio-sql cannot create.
pub const BAD_NAME: &str = "CIO014";
/// The code of two models building one relation.
pub const SAME_RELATION: &str = "CIO015";

/// The three parts of a relation, with the config key that sets each, its
/// `quoting:` key and its setting.
fn parts(relation: &RelationName, quoting: Quoting) -> [(&str, &str, &'static str, bool); 3] {
    [
        (
            relation.database.as_str(),
            "database",
            "database",
            quoting.database,
        ),
        (relation.schema.as_str(), "schema", "schema", quoting.schema),
        (
            relation.identifier.as_str(),
            "alias",
            "identifier",
            quoting.identifier,
        ),
    ]
}

/// A plain identifier close to `name`, for help texts: every character a
/// plain name cannot hold becomes `_`, and a leading `_` is added when the
/// name does not start with a letter or `_`.
fn plain_suggestion(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
                c
            } else {
                '_'
            }
        })
        .take(sql::MAX_NAME_CHARS - 1)
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// The help for `problem` with the name `name`. `how_plain` says how to
/// give the part a plain name (`{plain}` stands for a plain name close to
/// `name`); `quoting_key` is the part's key under `quoting:`.
fn help(problem: &NameProblem, name: &str, how_plain: &str, quoting_key: &str) -> String {
    let how_plain = how_plain.replace("{plain}", &plain_suggestion(name));
    match problem {
        NameProblem::NeedsQuotes => format!(
            "{how_plain}; or set `quoting: {{{quoting_key}: true}}` in dbt_project.yml to create it double-quoted, exactly as spelled (it is then case-sensitive)"
        ),
        _ => format!(
            "{how_plain}: Snowflake names are 1 to {} characters, and cio-sql refuses control characters in them",
            sql::MAX_NAME_CHARS
        ),
    }
}

/// Checks the database and schema of `target`, which every model and seed
/// is built in unless configured otherwise: a configuration error, found
/// when the project loads.
pub fn check_target(target: &Target, quoting: Quoting) -> Result<(), Diagnostic> {
    let relation = RelationName::new(&target.database, &target.schema, "");
    for (name, key, quoting_key, quoted) in parts(&relation, quoting).into_iter().take(2) {
        if let Err(problem) = sql::check_name(name, quoted) {
            let file = target
                .source
                .as_ref()
                .map_or_else(|| "profiles.yml".into(), |p| p.display().to_string());
            return Err(Diagnostic::error(
                BAD_NAME,
                format!(
                    "`{key}: {name}` of target `{}` cannot be used in Snowflake SQL: {problem}",
                    target.name
                ),
            )
            .at_file(&file)
            .with_help(help(
                &problem,
                name,
                &format!("use a plain {key} such as `{{plain}}` in {file}"),
                quoting_key,
            )));
        }
    }
    Ok(())
}

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
    for (name, key, quoting_key, quoted) in parts(relation, project.config.quoting) {
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
            BAD_NAME,
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
        out.push(d.with_help(help(&problem, name, &how_plain, quoting_key)));
    }
    out
}

/// Checks the names a seed loads into: the table `relation` (a catalog
/// relation when `declared`, which exists and only needs to be a name
/// Snowflake holds; else a new table named after the file), its scratch
/// table `scratch`, and its `columns` (always written by
/// [`sql::identifier`], so any name Snowflake holds will do).
pub fn check_seed(
    path: &str,
    relation: &RelationName,
    scratch: &str,
    declared: bool,
    columns: &[String],
    quoting: Quoting,
) -> Result<(), Diagnostic> {
    let quoted = declared || quoting.identifier;
    let table = &relation.identifier;
    let what = if declared {
        "the catalog relation"
    } else {
        "the table name (its file name)"
    };
    let bad_table = match sql::check_name(table, quoted) {
        Err(problem) => Some((problem, String::new())),
        Ok(()) => sql::check_name(scratch, quoted)
            .err()
            .map(|p| (p, format!(" as the scratch table `{scratch}`"))),
    };
    if let Some((problem, as_scratch)) = bad_table {
        return Err(Diagnostic::error(
            BAD_NAME,
            format!("seed {path}: {what} `{table}` cannot be used in Snowflake SQL{as_scratch}: {problem}"),
        )
        .at_file(path)
        .with_help(help(
            &problem,
            table,
            "rename the CSV file to a plain name, such as `{plain}.csv`",
            "identifier",
        )));
    }
    for column in columns {
        if let Err(problem) = sql::check_name(column, true) {
            let mut d = Diagnostic::error(
                BAD_NAME,
                format!("seed {path}: the column name `{column}` in the header cannot be used in Snowflake SQL: {problem}"),
            )
            .at_file(path)
            .with_help(help(
                &problem,
                column,
                "rename the column in the header (line 1)",
                "identifier",
            ));
            d.line = Some(1);
            return Err(d);
        }
    }
    Ok(())
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
    let [db, schema, table] = parts(relation, quoting)
        .map(|(name, _, _, quoted)| sql::resolved_part(name, quoted).into_owned());
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
                SAME_RELATION,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_plain() {
        assert_eq!(plain_suggestion("my model"), "my_model");
        assert_eq!(plain_suggestion("a.b.c"), "a_b_c");
        assert_eq!(plain_suggestion("semi;drop table x"), "semi_drop_table_x");
        assert_eq!(plain_suggestion("1st"), "_1st");
        assert_eq!(plain_suggestion("é"), "_");
        assert_eq!(plain_suggestion(""), "_");
        for name in ["my model", "1st", "é", "", &"x y".repeat(200)] {
            assert_eq!(
                sql::check_name(&plain_suggestion(name), false),
                Ok(()),
                "{name}"
            );
        }
    }

    #[test]
    fn seed_names() {
        let off = Quoting::default();
        let rel = |name: &str| RelationName::new("DB", "S", name);
        let scratch = |name: &str| format!("{name}__cio_seed_load");
        let check = |name: &str, declared: bool, columns: &[&str]| {
            let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            check_seed(
                "seeds/x.csv",
                &rel(name),
                &scratch(name),
                declared,
                &columns,
                off,
            )
        };
        assert!(check("people", false, &["id", "First Name"]).is_ok());
        // A catalog relation exists under its name: quoted, it is fine.
        assert!(check("my table", true, &["id"]).is_ok());
        let err = check("my table", false, &["id"]).unwrap_err();
        assert!(err.message.contains("(its file name)"), "{}", err.message);
        let long = "x".repeat(250);
        let err = check(&long, false, &["id"]).unwrap_err();
        assert!(
            err.message.contains("as the scratch table"),
            "{}",
            err.message
        );
        let err = check("people", false, &["id", "a\nb"]).unwrap_err();
        assert_eq!((err.code, err.line), (BAD_NAME, Some(1)));
        assert!(err.message.contains("control character"), "{}", err.message);
    }

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
