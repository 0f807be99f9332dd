//! The dbt context functions a model calls: `ref()`, `source()` and
//! `env_var()`, each recording what the render reads.

use super::HelperError;
use super::objects::Relation;
use super::shared::Shared;
use super::state::RenderState;
use crate::diagnostics::codes;
use crate::sql::RelationName;
use minijinja::value::Value;
use minijinja::{Error, State};

pub(super) fn resolve_ref(
    shared: &Shared,
    state: &mut State,
    args: &[Value],
) -> Result<Value, Error> {
    let names: Vec<&str> = args
        .iter()
        .filter(|a| !a.is_kwargs())
        .filter_map(|a| a.as_str())
        .collect();
    let name = match names.as_slice() {
        [name] | [_, name] => *name,
        _ => {
            return Err(HelperError::new(
                codes::BAD_ARGUMENT,
                "ref() takes a model name: ref('nexus_entities')",
                "pass the model or relation name as one string",
            )
            .into());
        }
    };
    let lower = name.to_lowercase();
    if let Some(model) = shared
        .models
        .get(&lower)
        .or_else(|| shared.seeds.get(&lower))
    {
        let rs = state.get_or_insert_extension_with(RenderState::default);
        if !rs.refs.contains(&model.name) {
            rs.refs.push(model.name.clone());
        }
        if model.ephemeral {
            if !rs.ephemerals.contains(&model.name) {
                rs.ephemerals.push(model.name.clone());
            }
            return Ok(Value::from_safe_string(super::ephemeral::cte_name(
                &model.relation.identifier,
            )));
        }
        return Ok(Value::from_object(Relation {
            name: model.relation.clone(),
            quoting: shared.quoting,
        }));
    }
    let chosen = shared
        .catalog
        .find(name, &shared.target.database, &shared.target.schema);
    match chosen {
        Some(relation) => Ok(warehouse_relation(shared, state, relation)),
        None => {
            let mut candidates: Vec<&str> = shared
                .models
                .values()
                .chain(shared.seeds.values())
                .map(|m| m.name.as_str())
                .collect();
            let relations = shared.catalog.relations();
            candidates.extend(relations.iter().map(|r| r.identifier.as_str()));
            let hint = crate::suggest::did_you_mean(name, candidates);
            Err(HelperError::new(
                codes::REF_NOT_FOUND,
                format!("ref('{name}'): no model, no seed and no catalog relation is named {name}"),
                format!(
                    "{}{}create models/{name}.sql (or seeds/{name}.csv), or add {name} to the catalog ({}) if it is a table of the warehouse",
                    hint,
                    if hint.is_empty() { "" } else { " Otherwise " },
                    shared.catalog.origin()
                ),
            )
            .into())
        }
    }
}

pub(super) fn resolve_source(
    shared: &Shared,
    state: &mut State,
    source: &str,
    table: &str,
) -> Result<Value, Error> {
    let key = (source.to_lowercase(), table.to_lowercase());
    let relation = shared.sources.get(&key).cloned().or_else(|| {
        shared
            .catalog
            .relations()
            .into_iter()
            .find(|r| {
                r.schema.eq_ignore_ascii_case(source) && r.identifier.eq_ignore_ascii_case(table)
            })
            .cloned()
    });
    match relation {
        Some(relation) => Ok(warehouse_relation(shared, state, relation)),
        None => Err(HelperError::new(
            codes::SOURCE_NOT_DECLARED,
            format!("source('{source}', '{table}') is not declared"),
            format!(
                "declare it in a .yml file under the model path:\n  sources:\n    - name: {source}\n      schema: {source}\n      tables:\n        - name: {table}"
            ),
        )
        .into()),
    }
}

/// Records that the render reads warehouse relation `relation` and returns it.
fn warehouse_relation(shared: &Shared, state: &mut State, relation: RelationName) -> Value {
    let rs = state.get_or_insert_extension_with(RenderState::default);
    let key = relation.to_string();
    if !rs.relations.contains(&key) {
        rs.relations.push(key);
    }
    Value::from_object(Relation {
        name: relation,
        quoting: shared.quoting,
    })
}

/// `env_var(name, default)`: an environment variable, or the default.
pub fn env_var(state: &mut State, name: String, default: Option<String>) -> Result<String, Error> {
    state
        .get_or_insert_extension_with(RenderState::default)
        .volatile = true;
    crate::project::env_value(&name, default).map_err(|message| {
        HelperError::new(
            codes::ENV_VAR_UNSET,
            message,
            format!("export {name}=…, or give a default: env_var('{name}', 'default')"),
        )
        .into()
    })
}
