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

mod helpers;
mod objects;
mod state;
mod sync_helpers;

pub use helpers::{find_column, select_expr};
pub use objects::{ColumnList, ColumnValue, Relation};
pub use state::{RenderState, Warning};

use crate::catalog::Catalog;
use crate::diagnostics::Diagnostic;
use crate::project::{ModelConfig, Project, Target};
use crate::sql::{Column, Quoting, RelationName};
use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use objects::{Adapter, BoundMacros, ConfigObject, Exceptions, MacroProxy, Namespace};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// Built-in macro files, `templates/*.sql`: (path, source). Embedded with
/// paths relative to this file, so every checkout builds its own
/// templates; a test checks the list against the folder.
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
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
];

/// The name of the generated template that imports every macro.
const MACRO_MODULE: &str = "__cio_macros__";
/// Prepended to every model, on its first line so line numbers stay true.
const PRELUDE: &str =
    "{% import '__cio_macros__' as __cio_macros %}{% do __cio_bind(__cio_macros) %}";

/// An error raised by a helper or context function, with a code and a fix.
///
/// Attached as the source of a minijinja error, so it survives the trip
/// through the template engine and becomes the diagnostic's code and help.
#[derive(Debug, Clone)]
pub struct HelperError {
    /// Stable code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl HelperError {
    /// A new helper error.
    pub fn new(code: &'static str, message: impl Into<String>, help: impl Into<String>) -> Self {
        HelperError {
            code,
            message: message.into(),
            help: help.into(),
        }
    }
}

impl std::fmt::Display for HelperError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HelperError {}

impl From<HelperError> for Error {
    fn from(err: HelperError) -> Error {
        Error::new(ErrorKind::InvalidOperation, err.message.clone()).with_source(err)
    }
}

/// A model as other models see it through `ref()`.
#[derive(Debug, Clone)]
pub struct ModelRef {
    /// The model name.
    pub name: String,
    /// Where it is built.
    pub relation: RelationName,
}

/// Data shared by every render: read-only except for the columns of
/// upstream models, which analysis fills in as models are compiled.
pub struct Shared {
    /// The project name.
    pub project_name: String,
    /// The selected target.
    pub target: Target,
    /// Project variables.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Models by lower-case name.
    pub models: HashMap<String, ModelRef>,
    /// The catalog.
    pub catalog: Arc<dyn Catalog>,
    /// Relation quoting.
    pub quoting: Quoting,
    /// Declared sources: (source, table) lower-case → relation.
    pub sources: HashMap<(String, String), RelationName>,
    /// Output columns of compiled models, by relation key.
    pub model_columns: RwLock<HashMap<String, Vec<Column>>>,
    /// Catalog columns already handed to a render, by relation key: every
    /// model that introspects a relation shares one list.
    catalog_columns: RwLock<HashMap<String, Arc<[Column]>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("project_name", &self.project_name)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Columns of a relation: a compiled model's output columns, else the catalog's.
    pub fn columns_of(&self, name: &RelationName) -> Option<Vec<Column>> {
        if let Ok(map) = self.model_columns.read()
            && let Some(cols) = map.get(&name.key())
        {
            return Some(cols.clone());
        }
        self.catalog.columns(name).map(<[Column]>::to_vec)
    }

    /// Like [`Shared::columns_of`], but catalog columns come as one shared
    /// list, copied out of the catalog once per relation per process.
    pub fn shared_columns_of(&self, name: &RelationName) -> Option<Arc<[Column]>> {
        let key = name.key();
        if let Ok(map) = self.model_columns.read()
            && let Some(cols) = map.get(&key)
        {
            return Some(cols.as_slice().into());
        }
        if let Ok(cache) = self.catalog_columns.read()
            && let Some(cols) = cache.get(&key)
        {
            return Some(cols.clone());
        }
        let cols: Arc<[Column]> = self.catalog.columns(name)?.into();
        if let Ok(mut cache) = self.catalog_columns.write() {
            cache.insert(key, cols.clone());
        }
        Some(cols)
    }
}

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
    macro_sources: HashMap<String, String>,
    macro_paths: HashMap<String, String>,
}

/// The names every model's render context sets besides the globals.
const RENDER_CONTEXT: &[&str] = &["this", "model"];

/// `CIO007`: a project macro named like a built-in name of the context,
/// pointing at its `{% macro %}` line.
fn reserved_macro(project: &Project, name: &str, path: &str) -> Diagnostic {
    let d = Diagnostic::error(
        "CIO007",
        format!("the macro `{name}` has the name of cio-sql's built-in `{name}`, so it could never be called"),
    )
    .with_help(format!(
        "rename the macro (e.g. `my_{name}`) and its calls; built-in names such as ref, source, var, config, env_var, this, target and adapter are reserved"
    ));
    let Some(file) = project.macro_files.iter().find(|f| f.path == path) else {
        return d.at_file(path);
    };
    let mut offset = 0;
    while let Some(i) = file.source[offset..].find("macro") {
        let at = offset + i;
        let after = file.source[at + "macro".len()..].trim_start();
        let boundary = file.source[..at].trim_end().ends_with(['%', '-', '+']);
        if boundary
            && after.starts_with(name)
            && !after[name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        {
            let start =
                at + "macro".len() + (file.source[at + "macro".len()..].len() - after.len());
            return d.at_span(path, &file.source, start..start + name.len());
        }
        offset = at + "macro".len();
    }
    d.at_file(path)
}

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
        let mut macro_sources = HashMap::new();
        let mut macro_paths = HashMap::new();

        // Built-in macros, unless the project has a file of the same path.
        let mut nexus: BTreeMap<String, String> = BTreeMap::new();
        for (path, source) in BUILTIN_TEMPLATES {
            if project.macro_files.iter().any(|m| m.path == *path) {
                continue;
            }
            add_macro_template(&mut env, path, source)?;
            macro_sources.insert(path.to_string(), source.to_string());
            macro_paths.insert(path.to_string(), format!("{path} (built-in)"));
            for name in crate::project::macro_names(source) {
                nexus.insert(name, path.to_string());
            }
        }
        // Project macros: callable by name; a nexus name overrides nexus.<name>.
        let mut project_macros: BTreeMap<String, String> = BTreeMap::new();
        for file in &project.macro_files {
            add_macro_template(&mut env, &file.path, &file.source)?;
            macro_sources.insert(file.path.clone(), file.source.clone());
            macro_paths.insert(file.path.clone(), file.path.clone());
            for name in &file.macros {
                if nexus.contains_key(name) {
                    nexus.insert(name.clone(), file.path.clone());
                }
                project_macros.insert(name.clone(), file.path.clone());
            }
        }
        let mut module = String::new();
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
            Diagnostic::error("CIO100", format!("cannot build the macro module: {e}"))
        })?;

        // The dbt context.
        env.add_global(
            "nexus",
            Value::from_object(Namespace {
                names: nexus.keys().cloned().collect(),
            }),
        );
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
        env.add_function("is_incremental", |_kw: Kwargs| false);
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
                        "CIO107",
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
        Ok(Renderer {
            env,
            shared,
            macro_sources,
            macro_paths,
        })
    }

    /// The shared render data (models, catalog, target).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Renders `model`. On failure, returns the error as a diagnostic that
    /// names the model file and line.
    pub fn render(&self, model: &crate::project::Model) -> Result<Rendered, Diagnostic> {
        let source = format!("{PRELUDE}{}", model.source);
        let tmpl = self
            .env
            .template_from_named_str(&model.path, &source)
            .map_err(|e| self.diagnose(&e, model))?;
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
            .map_err(|e| self.diagnose(&e, model))?;
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
                .map(|w| self.locate_warning(w, model))
                .collect();
        }
        rendered.config = config;
        Ok(rendered)
    }

    fn locate_warning(&self, w: &Warning, model: &crate::project::Model) -> Diagnostic {
        let mut d = Diagnostic::warning(w.code, w.message.clone()).for_model(&model.name);
        if let Some(help) = &w.help {
            d = d.with_help(help.clone());
        }
        match &w.call {
            Some((name, nth)) => match nth_call_site(&model.source, name, *nth) {
                Some(range) => d.at_span(&model.path, &model.source, range),
                None => d.at_file(&model.path),
            },
            None => d.at_file(&model.path),
        }
    }

    /// Turns a render error into a diagnostic pointing at the model line
    /// (and noting the macro file line when the error came from a macro).
    fn diagnose(&self, err: &Error, model: &crate::project::Model) -> Diagnostic {
        let mut chain: Vec<&Error> = vec![err];
        let mut helper: Option<&HelperError> = None;
        let mut cur: &dyn std::error::Error = err;
        while let Some(next) = cur.source() {
            if let Some(e) = next.downcast_ref::<Error>() {
                chain.push(e);
            }
            if let Some(h) = next.downcast_ref::<HelperError>() {
                helper = Some(h);
            }
            cur = next;
        }
        let innermost = chain
            .iter()
            .rev()
            .find(|e| e.detail().is_some())
            .copied()
            .unwrap_or(err);
        let (code, message, help) = match helper {
            Some(h) => (h.code, h.message.clone(), Some(h.help.clone())),
            None => {
                let (code, help) = code_for(innermost.kind());
                (code, describe_error(innermost), help.map(str::to_string))
            }
        };
        let mut d = Diagnostic::error(code, message).for_model(&model.name);
        if let Some(help) = help {
            d = d.with_help(help);
        }
        // Primary location: the outermost point in the model itself.
        let in_model = chain.iter().find(|e| e.name() == Some(model.path.as_str()));
        match in_model.and_then(|e| e.range().map(|r| (e, r))) {
            Some((e, range)) => {
                let shift = PRELUDE.len();
                let mut range = range.start.saturating_sub(shift)..range.end.saturating_sub(shift);
                // A multi-line macro call: point at the macro's name.
                let called = e.detail().and_then(|d| d.strip_prefix("error in "));
                if let Some(name) = called.map(|n| n.split(':').next().unwrap_or(n)) {
                    let head = &model.source[..range.end.min(model.source.len())];
                    if let Some(at) = head.rfind(&format!("{name}(")) {
                        let end = model.source[at..]
                            .find('\n')
                            .map_or(model.source.len(), |i| at + i);
                        range = at..end;
                    }
                }
                d = d.at_span(&model.path, &model.source, range);
            }
            None => match in_model.and_then(|e| e.line()) {
                Some(line) => d = d.at_line(&model.path, &model.source, line, None),
                None => d = d.at_file(&model.path),
            },
        }
        // Notes: where inside macros it happened.
        for e in chain.iter().rev() {
            if let (Some(name), Some(line)) = (e.name(), e.line()) {
                if name == model.path || name == MACRO_MODULE {
                    continue;
                }
                let shown = self
                    .macro_paths
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.to_string());
                // minijinja reports the last line of a multi-line call: walk
                // back to the line that opens the tag.
                let lines: Vec<&str> = self
                    .macro_sources
                    .get(name)
                    .map(|s| s.lines().collect())
                    .unwrap_or_default();
                let mut at = line.min(lines.len());
                while at > 1 && !lines[at - 1].contains("{%") && !lines[at - 1].contains("{{") {
                    at -= 1;
                }
                let text = lines
                    .get(at.wrapping_sub(1))
                    .map(|l| format!(": {}", l.trim()))
                    .unwrap_or_default();
                d = d.with_note(format!("raised in {shown}:{at}{text}"));
                break;
            }
        }
        // A macro file that fails to parse surfaces through the import.
        if d.line.is_none()
            && in_model.is_none()
            && let Some(e) = chain.iter().find(|e| e.name().is_some())
            && let (Some(name), Some(src)) =
                (e.name(), e.name().and_then(|n| self.macro_sources.get(n)))
            && let Some(range) = e.range()
        {
            let path = self
                .macro_paths
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_string());
            d = d.at_span(path, src, range);
        }
        d
    }
}

fn add_macro_template(
    env: &mut Environment<'static>,
    path: &str,
    source: &str,
) -> Result<(), Diagnostic> {
    env.add_template_owned(path.to_string(), source.to_string())
        .map_err(|e| {
            let d = Diagnostic::error(
                "CIO100",
                format!(
                    "Jinja syntax error in macro file {path}: {}",
                    describe_error(&e)
                ),
            )
            .with_help("fix the macro file; every model imports it");
            match e.range() {
                Some(range) => d.at_span(path, source, range),
                None => d.at_file(path),
            }
        })
}

/// The code and default help for a minijinja error kind.
fn code_for(kind: ErrorKind) -> (&'static str, Option<&'static str>) {
    match kind {
        ErrorKind::SyntaxError => (
            "CIO100",
            Some(
                "check the Jinja tags: every {{ has its }}, every {% if %} its {% endif %}, every string its closing quote",
            ),
        ),
        ErrorKind::UndefinedError => (
            "CIO102",
            Some(
                "check the spelling; variables come from var(), the model context (this, model, target) or a macro's arguments",
            ),
        ),
        ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod
        | ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest => (
            "CIO103",
            Some(
                "check the spelling; project macros live in the macro-paths folders, built-in ones are called as nexus.<name>(...)",
            ),
        ),
        ErrorKind::TooManyArguments | ErrorKind::MissingArgument => {
            ("CIO104", Some("check the macro's arguments in README.md"))
        }
        ErrorKind::BadInclude | ErrorKind::TemplateNotFound => ("CIO103", None),
        _ => ("CIO101", None),
    }
}

fn describe_error(e: &Error) -> String {
    let kind = e.kind().to_string();
    match e.detail() {
        Some(detail) => format!("{kind}: {detail}"),
        None => kind,
    }
}

/// Byte range of the `nth` (1-based) call `name(` in `source`.
fn nth_call_site(source: &str, name: &str, nth: usize) -> Option<std::ops::Range<usize>> {
    let pattern = format!("{name}(");
    let hits: Vec<usize> = source.match_indices(&pattern).map(|(i, _)| i).collect();
    let start = *hits.get(nth.saturating_sub(1)).or(hits.first())?;
    let end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i)
        .min(start + pattern.len() + 60);
    Some(start..end)
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

fn shared_for(project: &Project, catalog: Arc<dyn Catalog>) -> Shared {
    let mut models = HashMap::new();
    for model in &project.models {
        models.insert(
            model.name.to_lowercase(),
            ModelRef {
                name: model.name.clone(),
                relation: model_relation(project, model),
            },
        );
    }
    let sources = project
        .sources
        .iter()
        .map(|s| {
            (
                (s.source.to_lowercase(), s.table.to_lowercase()),
                s.relation.clone(),
            )
        })
        .collect();
    Shared {
        project_name: project.config.name.clone(),
        target: project.target.clone(),
        vars: project.vars.clone(),
        models,
        catalog,
        quoting: project.config.quoting,
        sources,
        model_columns: RwLock::new(HashMap::new()),
        catalog_columns: RwLock::new(HashMap::new()),
    }
}

/// Where a model is built: dbt's default naming. A custom schema is appended
/// to the target schema (`CIO` + `crm` → `CIO_crm`).
pub fn model_relation(project: &Project, model: &crate::project::Model) -> RelationName {
    let mut config = model.folder_config.clone();
    config.merge(&crate::project::static_config(&model.source));
    relation_for(&project.target, &model.name, &config)
}

/// The relation of model `name` with `config`, on `target`.
pub fn relation_for(target: &Target, name: &str, config: &ModelConfig) -> RelationName {
    let database = config.database().unwrap_or(&target.database).to_string();
    let schema = match config.schema() {
        Some(custom) => format!("{}_{}", target.schema, custom),
        None => target.schema.clone(),
    };
    RelationName::new(database, schema, config.alias().unwrap_or(name))
}

fn resolve_ref(shared: &Shared, state: &mut State, args: &[Value]) -> Result<Value, Error> {
    let names: Vec<&str> = args
        .iter()
        .filter(|a| !a.is_kwargs())
        .filter_map(|a| a.as_str())
        .collect();
    let name = match names.as_slice() {
        [name] | [_, name] => *name,
        _ => {
            return Err(HelperError::new(
                "CIO104",
                "ref() takes a model name: ref('nexus_entities')",
                "pass the model or relation name as one string",
            )
            .into());
        }
    };
    if let Some(model) = shared.models.get(&name.to_lowercase()) {
        let rs = state.get_or_insert_extension_with(RenderState::default);
        if !rs.refs.contains(&model.name) {
            rs.refs.push(model.name.clone());
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
            let mut candidates: Vec<&str> =
                shared.models.values().map(|m| m.name.as_str()).collect();
            let relations = shared.catalog.relations();
            candidates.extend(relations.iter().map(|r| r.identifier.as_str()));
            let hint = crate::suggest::did_you_mean(name, candidates);
            Err(HelperError::new(
                "CIO111",
                format!("ref('{name}'): no model and no catalog relation is named {name}"),
                format!(
                    "{}{}create models/{name}.sql, or add {name} to the catalog ({}) if it is a table of the warehouse",
                    hint,
                    if hint.is_empty() { "" } else { " Otherwise " },
                    shared.catalog.origin()
                ),
            )
            .into())
        }
    }
}

fn resolve_source(
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
            "CIO112",
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
            "CIO108",
            message,
            format!("export {name}=…, or give a default: env_var('{name}', 'default')"),
        )
        .into()
    })
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

    #[test]
    fn nth_call_site_finds_the_right_call() {
        let src = "a {{ nexus.m(1) }}\nb {{ nexus.m(2) }}";
        let r = nth_call_site(src, "nexus.m", 2).unwrap();
        assert!(src[r].starts_with("nexus.m(2)"));
    }
}
