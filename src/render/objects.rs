//! The objects a model sees in its Jinja context: relations, columns,
//! `adapter`, `config`, `exceptions`, the `nexus` namespace and project macros.

use super::state::{RenderState, Warning};
use super::{HelperError, Shared};
use crate::diagnostics::codes;
use crate::sql;
use crate::sql::Quoting;
use crate::sql::{Column, RelationName, is_text_type, is_timestamp_type};
use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value, from_args};
use minijinja::{Error, ErrorKind, State};
use std::fmt;
use std::sync::Arc;

/// A relation as dbt-snowflake renders it: `database.schema.identifier`.
#[derive(Debug, Clone)]
pub struct Relation {
    /// The relation's name.
    pub name: RelationName,
    /// Which parts are quoted when rendered.
    pub quoting: Quoting,
}

impl Relation {
    /// The relation as SQL text.
    /// Every part goes through [`sql::relation_part`].
    pub fn render_sql(&self) -> String {
        format!(
            "{}.{}",
            self.schema_sql(),
            sql::relation_part(&self.name.identifier, self.quoting.identifier)
        )
    }

    /// The relation's schema as SQL text: `database.schema`.
    pub fn schema_sql(&self) -> String {
        format!(
            "{}.{}",
            sql::relation_part(&self.name.database, self.quoting.database),
            sql::relation_part(&self.name.schema, self.quoting.schema)
        )
    }
}

impl Object for Relation {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "database" => Value::from(self.name.database.clone()),
            "schema" => Value::from(self.name.schema.clone()),
            "identifier" | "name" | "table" => Value::from(self.name.identifier.clone()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["database", "schema", "identifier"])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "render" => {
                let () = from_args(args)?;
                Ok(Value::from(self.render_sql()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_sql())
    }
}

/// A column returned by `adapter.get_columns_in_relation`, with dbt's
/// attribute names (`name`/`column`, `dtype`/`data_type`).
#[derive(Debug, Clone)]
pub struct ColumnValue(pub Column);

impl Object for ColumnValue {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" | "column" => Value::from(self.0.name.clone()),
            "dtype" | "data_type" => Value::from(self.0.data_type.clone()),
            "quoted" => Value::from(self.0.identifier()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["name", "dtype"])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let () = from_args(args)?;
        match method {
            "is_string" => Ok(Value::from(is_text_type(&self.0.data_type))),
            "is_timestamp" => Ok(Value::from(is_timestamp_type(&self.0.data_type))),
            "is_number" => Ok(Value::from(matches!(
                self.0.data_type.as_str(),
                "NUMBER" | "FLOAT"
            ))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.name)
    }
}

/// The columns of a relation, as `adapter.get_columns_in_relation` returns
/// them: a sequence of [`ColumnValue`]s over one shared list, so the `cio`
/// helpers read the columns back without copying them for every call.
#[derive(Debug, Clone)]
pub struct ColumnList(pub Arc<[Column]>);

impl Object for ColumnList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let column = self.0.get(key.as_usize()?)?;
        Some(Value::from_object(ColumnValue(column.clone())))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
}

/// Reads a column back from a template value (a [`ColumnValue`] or any map
/// with `name` and `dtype`/`data_type`).
pub fn column_from_value(value: &Value) -> Option<Column> {
    if let Some(col) = value.downcast_object_ref::<ColumnValue>() {
        return Some(col.0.clone());
    }
    let name = value.get_attr("name").ok()?;
    let name = name.as_str()?.to_string();
    let dtype = value
        .get_attr("data_type")
        .ok()
        .filter(|v| !v.is_undefined())
        .or_else(|| value.get_attr("dtype").ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Some(Column::new(name, &dtype))
}

/// `adapter`: catalog access for macros.
#[derive(Debug)]
pub struct Adapter(pub Arc<Shared>);

impl Object for Adapter {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get_columns_in_relation" => {
                let (relation,): (Value,) = from_args(args)?;
                let name = relation_name_of(&relation, &self.0)?;
                match self.0.shared_columns_of(&name) {
                    Some(cols) => Ok(Value::from_object(ColumnList(cols))),
                    None => Err(HelperError::new(
                        codes::NOT_IN_CATALOG,
                        format!("relation {name} is not in the catalog ({})", self.0.catalog.origin()),
                        format!(
                            "add it to the catalog file:\n  relations:\n    - name: {}\n      database: {}\n      schema: {}\n      columns:\n        - {{name: ..., data_type: ...}}\nor refresh the catalog from Snowflake with `cio-sql catalog`",
                            name.identifier, name.database, name.schema
                        ),
                    )
                    .into()),
                }
            }
            "quote" => {
                let (name,): (String,) = from_args(args)?;
                Ok(Value::from(sql::quote(&name)))
            }
            "get_relation" => {
                let (database, schema, identifier): (String, String, String) = from_args(args)?;
                let name = RelationName::new(database, schema, identifier);
                if self.0.columns_of(&name).is_some() {
                    Ok(Value::from_object(Relation {
                        name,
                        quoting: self.0.quoting,
                    }))
                } else {
                    Ok(Value::from(()))
                }
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// The relation name behind a `Relation` value or a `db.schema.name` string.
fn relation_name_of(value: &Value, shared: &Shared) -> Result<RelationName, Error> {
    if let Some(rel) = value.downcast_object_ref::<Relation>() {
        return Ok(rel.name.clone());
    }
    if let Some(text) = value.as_str() {
        let parts: Vec<&str> = text.split('.').map(|p| p.trim_matches('"')).collect();
        return Ok(match parts.as_slice() {
            [db, schema, name] => RelationName::new(*db, *schema, *name),
            [schema, name] => RelationName::new(&shared.target.database, *schema, *name),
            [name] => RelationName::new(&shared.target.database, &shared.target.schema, *name),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("`{text}` is not a relation name"),
                ));
            }
        });
    }
    Err(Error::new(
        ErrorKind::InvalidOperation,
        "adapter.get_columns_in_relation expects a relation, e.g. ref('nexus_entities')",
    ))
}

/// `config`: callable as `config(materialized='table')`, and as an object
/// with `config.get(key, default)` and `config.require(key)`.
#[derive(Debug)]
pub struct ConfigObject;

impl Object for ConfigObject {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (kwargs,): (Kwargs,) = from_args(args).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                "config() takes keyword arguments only, e.g. config(materialized='table')",
            )
        })?;
        let mut pairs = Vec::new();
        for key in kwargs.args() {
            let value: Value = kwargs.get(key)?;
            let json = serde_json::to_value(&value).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("config({key}=…) cannot be stored: {e}"),
                )
            })?;
            pairs.push((key.to_string(), json));
        }
        let rs = state.get_or_insert_extension_with(RenderState::default);
        for (key, value) in pairs {
            crate::project::merge_config_value(&mut rs.config, &key, value);
        }
        Ok(Value::from(""))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get" | "require" => {
                let (key, default): (String, Option<Value>) = from_args(args)?;
                let found = state
                    .get_extension::<RenderState>()
                    .and_then(|rs| rs.config.get(&key).cloned())
                    .or_else(|| {
                        state
                            .lookup("model")
                            .and_then(|m| m.get_attr("config").ok())
                            .and_then(|c| c.get_attr(&key).ok())
                            .filter(|v| !v.is_undefined())
                            .map(|v| serde_json::to_value(&v).unwrap_or_default())
                    });
                match (found, method) {
                    (Some(v), _) => Ok(Value::from(minijinja::value::Serde(&v))),
                    (None, "require") => Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("config `{key}` is required but not set"),
                    )),
                    (None, _) => Ok(default.unwrap_or(Value::from(()))),
                }
            }
            "set" => {
                let (key, value): (String, Value) = from_args(args)?;
                let json = serde_json::to_value(&value).unwrap_or_default();
                let rs = state.get_or_insert_extension_with(RenderState::default);
                crate::project::merge_config_value(&mut rs.config, &key, json);
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `exceptions`: `raise_compiler_error(msg)` and `warn(msg)`.
#[derive(Debug)]
pub struct Exceptions;

impl Object for Exceptions {
    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (message,): (String,) = from_args(args)?;
        match method {
            "raise_compiler_error" => Err(HelperError::new(
                codes::RAISED,
                message,
                "this error was raised by exceptions.raise_compiler_error in the model or a macro",
            )
            .into()),
            "warn" => {
                let rs = state.get_or_insert_extension_with(RenderState::default);
                let call = rs.calls.last().cloned();
                rs.warnings.push(Warning {
                    code: codes::WARNED,
                    message,
                    help: None,
                    call,
                });
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Where macros are bound for one render: set by the model prelude through
/// `__cio_bind`, read by [`Namespace`] and [`MacroProxy`].
#[derive(Debug)]
pub struct BoundMacros(pub Value);

/// `nexus`: the built-in macro namespace (`nexus.customer_io_identify(...)`).
#[derive(Debug)]
pub struct Namespace {
    /// The package: `nexus`, or an installed package's name.
    pub package: String,
    /// The names of the macros in the namespace, sorted.
    pub names: Vec<String>,
}

impl Object for Namespace {
    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        if !self.names.iter().any(|n| n == method) {
            let suggestion = crate::suggest::closest(method, self.names.iter().map(String::as_str));
            let p = &self.package;
            return Err(HelperError::new(
                codes::UNKNOWN_MACRO,
                format!("{p} has no macro named `{method}`"),
                match suggestion.first() {
                    Some(best) => format!(
                        "did you mean {p}.{best}? The {p} macros are: {}",
                        self.names.join(", ")
                    ),
                    None => format!("the {p} macros are: {}", self.names.join(", ")),
                },
            )
            .into());
        }
        call_bound(
            state,
            &format!("{}__{method}", self.package),
            &format!("{}.{method}", self.package),
            args,
        )
    }

    fn get_value(self: &Arc<Self>, _key: &Value) -> Option<Value> {
        None
    }
}

/// A package that `packages.yml` lists but that is not installed under
/// `dbt_packages/`: calling any of its macros is an error naming it.
#[derive(Debug)]
pub struct MissingPackage {
    /// Its name.
    pub name: String,
    /// How `packages.yml` lists it.
    pub spec: String,
    /// Where: `packages.yml:3`.
    pub listed_at: String,
    /// Where dbt installs packages (`dbt_packages`).
    pub install_path: String,
}

impl Object for MissingPackage {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        Err(HelperError::new(
            codes::PACKAGE_MISSING,
            format!(
                "{}.{method}() is a macro of the package {} ({}, listed at {}), which is not installed under {}/",
                self.name, self.name, self.spec, self.listed_at, self.install_path
            ),
            format!(
                "cio-sql installs no packages: run `dbt deps` once to install {} into {}/, or remove the call (only dbt-nexus is built in, as nexus.<macro>)",
                self.name, self.install_path
            ),
        )
        .into())
    }
}

/// A project macro, callable by its bare name from any model or macro.
#[derive(Debug)]
pub struct MacroProxy {
    /// The macro's name.
    pub name: String,
}

impl Object for MacroProxy {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        call_bound(state, &format!("project__{}", self.name), &self.name, args)
    }
}

/// Calls macro `key` of the bound macro module, tracking the call so that
/// warnings and errors can name the call site.
fn call_bound(
    state: &mut State<'_, '_>,
    key: &str,
    display: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let module = state
        .get_extension::<BoundMacros>()
        .map(|b| b.0.clone())
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "macros are not bound"))?;
    let mac = module.get_attr(key)?;
    if mac.is_undefined() {
        return Err(Error::new(
            ErrorKind::UnknownFunction,
            format!("macro {display} is not defined"),
        ));
    }
    let rs = state.get_or_insert_extension_with(RenderState::default);
    let count = rs.call_counts.entry(display.to_string()).or_insert(0);
    *count += 1;
    let frame = (display.to_string(), *count);
    rs.calls.push(frame);
    let result = mac.call(state, args);
    if let Some(rs) = state.get_extension_mut::<RenderState>() {
        rs.calls.pop();
    }
    result.map_err(|inner| {
        let detail = if inner.kind() == ErrorKind::TooManyArguments && inner.line().is_none() {
            let names: Vec<String> = mac
                .get_attr("arguments")
                .ok()
                .and_then(|a| a.try_iter().ok())
                .map(|it| it.map(|v| v.to_string()).collect())
                .unwrap_or_default();
            return Error::new(
                ErrorKind::TooManyArguments,
                format!(
                    "error in {display}: {}",
                    inner.detail().unwrap_or("too many arguments")
                ),
            )
            .with_source(unknown_argument(display, inner.detail(), &names));
        } else {
            format!("error in {display}")
        };
        Error::new(inner.kind(), detail).with_source(inner)
    })
}

/// CIO104 for a call with an argument the macro does not take: the
/// misspelled name (minijinja's detail quotes it in backticks) is the
/// argument the diagnostic points at, with the closest names the macro
/// takes.
fn unknown_argument(display: &str, detail: Option<&str>, names: &[String]) -> HelperError {
    let detail = detail.unwrap_or("too many arguments");
    let unknown = detail
        .strip_prefix("unknown keyword argument `")
        .and_then(|rest| rest.split('`').next());
    // The one closest name: a misspelled argument is one argument.
    let hint = unknown
        .and_then(|u| {
            crate::suggest::closest(u, names.iter().map(String::as_str))
                .into_iter()
                .next()
        })
        .map(|best| format!("did you mean `{best}`? "))
        .unwrap_or_default();
    let error = HelperError::new(
        codes::BAD_ARGUMENT,
        format!("{display}: {detail}"),
        format!("{hint}{display} takes: {}", names.join(", ")),
    );
    match unknown {
        Some(name) => error.at_argument(name),
        None => error,
    }
}
