//! Rendering: the minijinja environment and the per-model render.
//!
//! [`Renderer::new`] builds one environment per process: the built-in `nexus`
//! macros from `templates/`, the project's macros, and the dbt context
//! (`ref`, `source`, `var`, `config`, `this`, `target`, `env_var`,
//! `is_incremental`, `log`, `exceptions`, `adapter`). [`Renderer::render`]
//! then renders one model; it is safe to call from several threads at once.
//!
//! Every model is rendered with a one-line prelude that imports the macro
//! module and binds it to the render, so `nexus.<name>(...)` and project
//! macros called by bare name dispatch through Rust, which records each call
//! and points errors at the model line that made it.

mod args;
mod context;
pub mod ephemeral;
mod errors;
mod helpers;
mod meta_events;
mod meta_hash;
mod objects;
mod shared;
mod state;
mod sync_helpers;

pub use context::env_var;
pub use errors::HelperError;
pub use helpers::{find_column, select_expr};
pub use objects::{ColumnList, ColumnValue, Relation};
pub use shared::{ModelRef, Shared, model_relation, relation_for, seed_relation};
pub use state::{RenderState, Warning};

use crate::catalog::Catalog;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::{ModelConfig, Project};
use crate::sql::RelationName;
use context::{resolve_ref, resolve_source};
use errors::{MacroSources, add_macro_template, reserved_macro};
use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, State, UndefinedBehavior};
use objects::{
    Adapter, BoundMacros, ConfigObject, Exceptions, MacroProxy, MissingPackage, Namespace,
};
use shared::shared_for;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Built-in macro files, `templates/*.sql`: (path, source). Embedded with
/// paths relative to this file, so every checkout builds its own
/// templates; a test checks the list against the folder.
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    (
        "templates/bluecore_customers.sql",
        include_str!("../../templates/bluecore_customers.sql"),
    ),
    (
        "templates/bluecore_events.sql",
        include_str!("../../templates/bluecore_events.sql"),
    ),
    (
        "templates/customer_io_identify.sql",
        include_str!("../../templates/customer_io_identify.sql"),
    ),
    (
        "templates/customer_io_objects.sql",
        include_str!("../../templates/customer_io_objects.sql"),
    ),
    (
        "templates/customer_io_relationships.sql",
        include_str!("../../templates/customer_io_relationships.sql"),
    ),
    (
        "templates/customer_io_track.sql",
        include_str!("../../templates/customer_io_track.sql"),
    ),
    (
        "templates/meta_capi_events.sql",
        include_str!("../../templates/meta_capi_events.sql"),
    ),
    (
        "templates/meta_hash.sql",
        include_str!("../../templates/meta_hash.sql"),
    ),
    (
        "templates/moengage_aliases.sql",
        include_str!("../../templates/moengage_aliases.sql"),
    ),
    (
        "templates/moengage_events.sql",
        include_str!("../../templates/moengage_events.sql"),
    ),
    (
        "templates/moengage_users.sql",
        include_str!("../../templates/moengage_users.sql"),
    ),
    (
        "templates/rudderstack_customer_io_objects.sql",
        include_str!("../../templates/rudderstack_customer_io_objects.sql"),
    ),
    (
        "templates/rudderstack_customer_io_relationships.sql",
        include_str!("../../templates/rudderstack_customer_io_relationships.sql"),
    ),
];

/// The name of the generated template that imports every macro.
const MACRO_MODULE: &str = "__cio_macros__";
/// Prepended to every model, on its first line so line numbers stay true.
const PRELUDE: &str =
    "{% import '__cio_macros__' as __cio_macros %}{% do __cio_bind(__cio_macros) %}";

/// The result of rendering one model.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The compiled SQL, whitespace-normalised, ending in one newline.
    pub sql: String,
    /// Folder config with the model's `config()` calls on top.
    pub config: ModelConfig,
    /// Models it `ref()`s, by name, in first-use order.
    pub refs: Vec<String>,
    /// Catalog relations it reads.
    pub relations: Vec<String>,
    /// Warnings raised while rendering.
    pub warnings: Vec<Diagnostic>,
    /// `log()` lines: (shown to the user, text).
    pub logs: Vec<String>,
    /// The render read an environment variable: compiling the same inputs
    /// again may give another result (see [`crate::store`]).
    pub volatile: bool,
}

/// The rendering environment of one project.
pub struct Renderer {
    env: Environment<'static>,
    shared: Arc<Shared>,
    /// Source text of every macro template, for diagnostics.
    macros: MacroSources,
    /// The ephemeral models, by lower-case name: rendered again into each
    /// model that refs them.
    ephemerals: std::collections::HashMap<String, crate::project::Model>,
}

/// The names every model's render context sets besides the globals.
const RENDER_CONTEXT: &[&str] = &["this", "model", INCREMENTAL_FLAG];

/// The context variable `is_incremental()` reads.
const INCREMENTAL_FLAG: &str = "__cio_is_incremental";

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

impl Renderer {
    /// Builds the environment for `project` over `catalog`.
    ///
    /// Fails when a macro file does not parse.
    pub fn new(project: &Project, catalog: Arc<dyn Catalog>) -> Result<Renderer, Diagnostic> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_recursion_limit(200);
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);

        let shared = Arc::new(shared_for(project, catalog));
        let mut macros = MacroSources::default();

        // Built-in macros, unless the project has a file of the same path.
        let mut nexus: BTreeMap<String, String> = BTreeMap::new();
        for (path, source) in BUILTIN_TEMPLATES {
            if project.macro_files.iter().any(|m| m.path == *path) {
                continue;
            }
            add_macro_template(&mut env, path, source)?;
            macros.sources.insert(path.to_string(), source.to_string());
            macros
                .paths
                .insert(path.to_string(), format!("{path} (built-in)"));
            for name in crate::project::macro_names(source) {
                nexus.insert(name, path.to_string());
            }
        }
        // Project macros: callable by name; a nexus name overrides nexus.<name>.
        let mut project_macros: BTreeMap<String, String> = BTreeMap::new();
        for file in &project.macro_files {
            add_macro_template(&mut env, &file.path, &file.source)?;
            macros
                .sources
                .insert(file.path.clone(), file.source.clone());
            macros.paths.insert(file.path.clone(), file.path.clone());
            for name in &file.macros {
                if nexus.contains_key(name) {
                    nexus.insert(name.clone(), file.path.clone());
                }
                project_macros.insert(name.clone(), file.path.clone());
            }
        }
        // Installed packages' macros, as `<package>.<macro>`.
        let mut package_imports = String::new();
        let mut packages: Vec<(String, Vec<String>)> = Vec::new();
        for package in &project.packages {
            let Some(files) = &package.installed else {
                continue;
            };
            if !crate::sql::is_plain_identifier(&package.name) || package.is_nexus() {
                continue;
            }
            let mut names = Vec::new();
            for file in files {
                add_macro_template(&mut env, &file.path, &file.source)?;
                macros
                    .sources
                    .insert(file.path.clone(), file.source.clone());
                macros.paths.insert(file.path.clone(), file.path.clone());
                names.extend(file.macros.iter().map(|n| (n.clone(), file.path.clone())));
            }
            names.sort();
            names.dedup_by(|a, b| a.0 == b.0);
            packages.push((
                package.name.clone(),
                names.iter().map(|(n, _)| n.clone()).collect(),
            ));
            for (name, path) in names {
                package_imports.push_str(&format!(
                    "{{% from {path:?} import {name} as {}__{name} %}}",
                    package.name
                ));
            }
        }
        let mut module = String::new();
        module.push_str(&package_imports);
        for (name, path) in &nexus {
            module.push_str(&format!(
                "{{% from {path:?} import {name} as nexus__{name} %}}"
            ));
        }
        for (name, path) in &project_macros {
            module.push_str(&format!(
                "{{% from {path:?} import {name} as project__{name} %}}"
            ));
        }
        env.add_template_owned(MACRO_MODULE, module).map_err(|e| {
            Diagnostic::error(
                codes::JINJA_SYNTAX,
                format!("cannot build the macro module: {e}"),
            )
        })?;

        // The dbt context.
        env.add_global(
            "nexus",
            Value::from_object(Namespace {
                package: "nexus".into(),
                names: nexus.keys().cloned().collect(),
            }),
        );
        for (package, names) in packages {
            env.add_global(
                package.clone(),
                Value::from_object(Namespace { package, names }),
            );
        }
        for package in project
            .packages
            .iter()
            .filter(|p| p.installed.is_none() && !p.is_nexus())
        {
            env.add_global(
                package.name.clone(),
                Value::from_object(MissingPackage {
                    name: package.name.clone(),
                    spec: package.spec.clone(),
                    listed_at: format!("{}:{}", package.file, package.line),
                    install_path: project.config.packages_install_path.clone(),
                }),
            );
        }
        env.add_global("cio", Value::from_object(helpers::Helpers));
        env.add_global("adapter", Value::from_object(Adapter(shared.clone())));
        env.add_global("config", Value::from_object(ConfigObject));
        env.add_global("exceptions", Value::from_object(Exceptions));
        env.add_global(
            "target",
            Value::from(minijinja::value::Serde(shared.target.public_fields())),
        );
        env.add_global("project_name", Value::from(shared.project_name.clone()));
        env.add_function("env_var", env_var);
        // True only in the render of an incremental run (see
        // `Renderer::render_incremental`); a compile renders the full build.
        env.add_function("is_incremental", |state: &State, _kw: Kwargs| {
            state.lookup(INCREMENTAL_FLAG).is_some_and(|v| v.is_true())
        });
        env.add_function("__cio_bind", |state: &mut State, module: Value| {
            *state.get_or_insert_extension_with(|| BoundMacros(Value::from(()))) =
                BoundMacros(module);
            Value::from("")
        });
        env.add_function("log", |state: &mut State, msg: Value, kwargs: Kwargs| {
            let info: Option<bool> = kwargs.get("info").ok().flatten();
            let _ = kwargs.assert_all_used();
            let rs = state.get_or_insert_extension_with(RenderState::default);
            if info.unwrap_or(false) {
                rs.logs.push(msg.to_string());
            }
            Value::from("")
        });
        let s = shared.clone();
        env.add_function("ref", move |state: &mut State, args: Rest<Value>| {
            resolve_ref(&s, state, &args)
        });
        let s = shared.clone();
        env.add_function(
            "source",
            move |state: &mut State, source: String, table: String| {
                resolve_source(&s, state, &source, &table)
            },
        );
        let s = shared.clone();
        env.add_function("var", move |name: String, default: Option<Value>| {
            match s.vars.get(&name) {
                Some(v) => Ok(Value::from(minijinja::value::Serde(v))),
                None => default.ok_or_else(|| {
                    HelperError::new(
                        codes::VAR_UNDEFINED,
                        format!("var('{name}') is not defined"),
                        format!("define it under `vars:` in dbt_project.yml, pass --vars '{{{name}: …}}', or give a default: var('{name}', …)"),
                    )
                    .into()
                }),
            }
        });
        for (name, path) in &project_macros {
            // A macro named like a built-in name of the context (`ref`,
            // `var`, `config`, `this`, `range`, …) would never be called.
            if env.globals().any(|(g, _)| g == name.as_str())
                || RENDER_CONTEXT.contains(&name.as_str())
            {
                return Err(reserved_macro(project, name, path));
            }
            env.add_global(
                name.clone(),
                Value::from_object(MacroProxy { name: name.clone() }),
            );
        }
        let ephemerals = project
            .models
            .iter()
            .filter(|m| {
                shared
                    .models
                    .get(&m.name.to_lowercase())
                    .is_some_and(|r| r.ephemeral)
            })
            .map(|m| (m.name.to_lowercase(), m.clone()))
            .collect();
        Ok(Renderer {
            env,
            shared,
            macros,
            ephemerals,
        })
    }

    /// The shared render data (models, catalog, target).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Renders `model`. On failure, returns the error as a diagnostic that
    /// names the model file and line.
    pub fn render(&self, model: &crate::project::Model) -> Result<Rendered, Diagnostic> {
        self.render_as(model, false)
    }

    /// Renders `model` for an incremental run: `is_incremental()` is true
    /// (the caller checked that its table exists and no full refresh was
    /// asked for, as dbt does).
    pub fn render_incremental(
        &self,
        model: &crate::project::Model,
    ) -> Result<Rendered, Diagnostic> {
        self.render_as(model, true)
    }

    fn render_as(
        &self,
        model: &crate::project::Model,
        incremental: bool,
    ) -> Result<Rendered, Diagnostic> {
        let (mut rendered, ctes) = self.render_parts(model, incremental, &mut Vec::new())?;
        if !ctes.is_empty() {
            rendered.sql = ephemeral::inject(&rendered.sql, &ctes);
        }
        Ok(rendered)
    }

    /// Renders `model` without inlining the ephemeral models it refs: its
    /// own SQL, and the CTEs of those models (theirs first) in order.
    /// `stack`: the models whose render is under way, refs of ephemerals.
    fn render_parts(
        &self,
        model: &crate::project::Model,
        incremental: bool,
        stack: &mut Vec<String>,
    ) -> Result<(Rendered, Vec<ephemeral::Cte>), Diagnostic> {
        let source = format!("{PRELUDE}{}", model.source);
        let tmpl = self
            .env
            .template_from_named_str(&model.path, &source)
            .map_err(|e| self.macros.diagnose(&e, model))?;
        let this = self
            .shared
            .models
            .get(&model.name.to_lowercase())
            .map(|m| m.relation.clone())
            .unwrap_or_else(|| {
                RelationName::new(
                    &self.shared.target.database,
                    &self.shared.target.schema,
                    &model.name,
                )
            });
        let ctx = minijinja::context! {
            __cio_is_incremental => incremental,
            this => Value::from_object(Relation { name: this, quoting: self.shared.quoting }),
            model => minijinja::context! {
                name => model.name.clone(),
                path => model.path.clone(),
                original_file_path => model.path.clone(),
                unique_id => format!("model.{}.{}", self.shared.project_name, model.name),
                config => Value::from(minijinja::value::Serde(&model.folder_config.values)),
            },
        };
        let captured = tmpl
            .render_captured(ctx)
            .map_err(|e| self.macros.diagnose(&e, model))?;
        let sql = normalize_whitespace(captured.output());
        let state = captured.state();
        let mut config = model.folder_config.clone();
        let mut rendered = Rendered {
            sql,
            config: ModelConfig::default(),
            refs: Vec::new(),
            relations: Vec::new(),
            warnings: Vec::new(),
            logs: Vec::new(),
            volatile: false,
        };
        if let Some(rs) = state.get_extension::<RenderState>() {
            rendered.volatile = rs.volatile;
            config.merge(&ModelConfig {
                values: rs.config.clone(),
            });
            rendered.refs = rs.refs.clone();
            rendered.relations = rs.relations.clone();
            rendered.logs = rs.logs.clone();
            rendered.warnings = rs
                .warnings
                .iter()
                .map(|w| self.macros.locate_warning(w, model))
                .collect();
        }
        rendered.config = config;
        let refs = state
            .get_extension::<RenderState>()
            .map(|rs| rs.ephemerals.clone())
            .unwrap_or_default();
        let mut ctes = Vec::new();
        for name in refs {
            let key = name.to_lowercase();
            let (Some(e), Some(known)) = (self.ephemerals.get(&key), self.shared.models.get(&key))
            else {
                continue;
            };
            if stack.contains(&key) || key == model.name.to_lowercase() {
                return Err(Diagnostic::error(
                    codes::REF_CYCLE,
                    format!(
                        "the ephemeral model {name} refs itself through {}",
                        model.name
                    ),
                )
                .for_model(&model.name)
                .at_file(&model.path)
                .with_help("break the cycle of ref()s between ephemeral models"));
            }
            stack.push(model.name.to_lowercase());
            let inner = self.render_parts(e, false, stack);
            stack.pop();
            let (inner, nested) = inner?;
            for c in nested {
                ephemeral::push(&mut ctes, c);
            }
            for r in inner.relations {
                if !rendered.relations.contains(&r) {
                    rendered.relations.push(r);
                }
            }
            rendered.volatile |= inner.volatile;
            ephemeral::push(
                &mut ctes,
                ephemeral::Cte {
                    model: known.name.clone(),
                    name: ephemeral::cte_name(&known.relation.identifier),
                    body: inner.sql,
                },
            );
        }
        Ok((rendered, ctes))
    }
}

/// Trailing spaces removed, runs of blank lines folded into one, no leading
/// or trailing blank lines, one final newline.
pub fn normalize_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0usize;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() && blank_run > 0 {
            out.push('\n');
        }
        blank_run = 0;
        out.push_str(line);
        out.push('\n');
    }
    // The SQL is kept until the end of the compile: give back the room the
    // removed whitespace took (often a third of the rendered text).
    out.shrink_to_fit();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .map(|n| format!("templates/{n}"))
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = BUILTIN_TEMPLATES.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            embedded, on_disk,
            "list every templates/*.sql in BUILTIN_TEMPLATES"
        );
        for (path, source) in BUILTIN_TEMPLATES {
            let file = std::fs::read_to_string(dir.parent().unwrap().join(path)).unwrap();
            assert_eq!(*source, file, "{path} is embedded from another file");
        }
    }

    #[test]
    fn whitespace_is_normalised() {
        assert_eq!(
            normalize_whitespace("\n\nselect 1   \n\n\n\nfrom x\n\n"),
            "select 1\n\nfrom x\n"
        );
    }
}
