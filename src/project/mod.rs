//! Project loading: the project file, profiles, models and macros.
//!
//! [`Project::load`] reads everything the later stages need from disk, once:
//! `dbt_project.yml`, the selected target of `profiles.yml`, the source text
//! of every model and every project macro. Nothing after this stage reads
//! project files.

mod config;
mod profiles;

pub use config::{Materialization, ModelConfig, ProjectConfig, merge_config_value};
pub use profiles::{Target, env_value, load_target};

use crate::diagnostics::Diagnostic;
use crate::sql::{self, Quoting, RelationName};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The name of the project file, as in dbt.
pub const PROJECT_FILE: &str = "dbt_project.yml";

/// Options that decide how a project is loaded.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The project directory (holds `dbt_project.yml`).
    pub project_dir: PathBuf,
    /// Where to find `profiles.yml`; see [`load_target`] for the search order.
    pub profiles_dir: Option<PathBuf>,
    /// The target to use instead of the profile's default.
    pub target: Option<String>,
    /// `--vars` given on the command line (YAML mapping), overriding the project's.
    pub vars: Option<String>,
    /// The catalog file, overriding `catalog-path` of the project file.
    pub catalog: Option<PathBuf>,
}

/// A model: one `.sql` file under a model path.
#[derive(Debug, Clone)]
pub struct Model {
    /// The model name: the file stem.
    pub name: String,
    /// Path relative to the project root, with `/` separators.
    pub path: String,
    /// The model's source text.
    pub source: String,
    /// Configuration from the project file's `models:` tree for this folder.
    pub folder_config: ModelConfig,
}

/// A file of project macros.
#[derive(Debug, Clone)]
pub struct MacroFile {
    /// Path relative to the project root.
    pub path: String,
    /// The file's source text.
    pub source: String,
    /// Names of the `{% macro %}` definitions in the file, in order.
    pub macros: Vec<String>,
}

/// A loaded project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project directory.
    pub root: PathBuf,
    /// The parsed project file.
    pub config: ProjectConfig,
    /// The selected target of the profile.
    pub target: Target,
    /// Every model, sorted by path.
    pub models: Vec<Model>,
    /// Every project macro file, sorted by path.
    pub macro_files: Vec<MacroFile>,
    /// Sources declared in `.yml` files under the model paths.
    pub sources: Vec<SourceTable>,
    /// Project variables: the project file's `vars`, overridden by `--vars`.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// The catalog file to read.
    pub catalog_path: PathBuf,
}

impl Project {
    /// Loads the project in `opts.project_dir`.
    ///
    /// Fails on the first problem that prevents every model from compiling
    /// (a broken project file, two models with one name, …).
    pub fn load(opts: &LoadOptions) -> Result<Project, Diagnostic> {
        let root = opts.project_dir.clone();
        let project_file = root.join(PROJECT_FILE);
        if !project_file.is_file() {
            return Err(Diagnostic::error(
                "CIO001",
                format!("no {PROJECT_FILE} in {}", display_dir(&root)),
            )
            .with_help(
                "run cio-sql inside a project folder, or pass --project-dir DIR pointing at one",
            ));
        }
        let config = ProjectConfig::load(&project_file)
            .map_err(|d| relabel(d, &project_file, PROJECT_FILE))?;
        let target = load_target(
            &root,
            opts.profiles_dir.as_deref(),
            &config.profile_name(),
            opts.target.as_deref(),
        )?;
        check_target(&target, config.quoting)?;
        let mut vars = config.vars.clone();
        if let Some(cli_vars) = &opts.vars {
            let parsed: serde_json::Value = serde_yaml::from_str(cli_vars).map_err(|e| {
                Diagnostic::error("CIO001", format!("--vars is not a YAML mapping: {e}"))
                    .with_help("pass a mapping, e.g. --vars '{min_orders: 2}'")
            })?;
            match parsed {
                serde_json::Value::Object(map) => vars.extend(map),
                _ => {
                    return Err(Diagnostic::error("CIO001", "--vars is not a YAML mapping")
                        .with_help("pass a mapping, e.g. --vars '{min_orders: 2}'"));
                }
            }
        }
        let model_files = ModelPathFiles::find(&root, &config)?;
        let models = load_models(&root, &model_files.sql, &config)?;
        let macro_files = load_macros(&root, &config.macro_paths)?;
        let sources = load_sources(&root, &model_files.yaml, &target)?;
        let catalog_path = match &opts.catalog {
            Some(path) => path.clone(),
            None => root.join(&config.catalog_path),
        };
        Ok(Project {
            root,
            config,
            target,
            models,
            macro_files,
            sources,
            vars,
            catalog_path,
        })
    }

    /// The directory compiled output goes to (`target/` by default).
    pub fn target_dir(&self) -> PathBuf {
        self.root.join(&self.config.target_path)
    }
}

/// Checks the database and schema of `target`, which every model and seed
/// is built in unless configured otherwise: a configuration error, found
/// when the project loads.
fn check_target(target: &Target, quoting: Quoting) -> Result<(), Diagnostic> {
    let relation = RelationName::new(&target.database, &target.schema, "");
    for part in relation.parts(quoting).into_iter().take(2) {
        let (name, key) = (part.name, part.config_key);
        if let Err(problem) = sql::check_name(name, part.quoted) {
            let file = target
                .source
                .as_ref()
                .map_or_else(|| "profiles.yml".into(), |p| p.display().to_string());
            return Err(Diagnostic::error(
                "CIO014",
                format!(
                    "`{key}: {name}` of target `{}` cannot be used in Snowflake SQL: {problem}",
                    target.name
                ),
            )
            .at_file(&file)
            .with_help(problem.help(
                name,
                &format!("use a plain {key} such as `{{plain}}` in {file}"),
                part.quoting_key,
            )));
        }
    }
    Ok(())
}

/// The target folder of the project in `project_dir`, for a command that
/// must leave a record there even when the project does not load: the
/// project file's `target-path` when the file can be read, else `target/`
/// if that folder exists next to a project file; `None` when there is no
/// project here.
pub fn target_dir_of(project_dir: &Path) -> Option<PathBuf> {
    let file = project_dir.join(PROJECT_FILE);
    if !file.is_file() {
        return None;
    }
    match ProjectConfig::load(&file) {
        Ok(config) => Some(project_dir.join(config.target_path)),
        Err(_) => {
            let dir = project_dir.join("target");
            dir.is_dir().then_some(dir)
        }
    }
}

/// A table of a declared source: `source('nexus', 'nexus_events')`.
#[derive(Debug, Clone)]
pub struct SourceTable {
    /// The source name.
    pub source: String,
    /// The table name used in `source()`.
    pub table: String,
    /// Where it lives.
    pub relation: RelationName,
}

#[derive(serde::Deserialize)]
struct SourcesFile {
    #[serde(default)]
    sources: Vec<SourceEntry>,
}

#[derive(serde::Deserialize)]
struct SourceEntry {
    name: String,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    tables: Vec<SourceTableEntry>,
}

#[derive(serde::Deserialize)]
struct SourceTableEntry {
    name: String,
    #[serde(default)]
    identifier: Option<String>,
}

fn load_sources(
    root: &Path,
    yaml_files: &[PathBuf],
    target: &Target,
) -> Result<Vec<SourceTable>, Diagnostic> {
    let mut out = Vec::new();
    {
        for path in yaml_files {
            let text = read_text(path)?;
            // A file without the word cannot have a `sources:` key: not
            // parsed (schema files of large projects are big). Whether it
            // declares sources is decided by parsing, below.
            if !text.contains("sources") {
                continue;
            }
            let rel = relative(root, path);
            let help =
                "sources are declared as sources: [{name, database, schema, tables: [{name}]}]";
            let value: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| {
                Diagnostic::yaml_error("CIO006", Path::new(&rel), &text, &e).with_help(help)
            })?;
            // Only a mapping with a top-level `sources:` key declares
            // sources; a list, or a mapping without it, is some other file.
            if !value
                .as_mapping()
                .is_some_and(|m| m.contains_key("sources"))
            {
                continue;
            }
            let parsed: SourcesFile = serde_yaml::from_str(&text).map_err(|e| {
                Diagnostic::yaml_error("CIO006", Path::new(&rel), &text, &e).with_help(help)
            })?;
            for source in parsed.sources {
                for table in source.tables {
                    out.push(SourceTable {
                        relation: RelationName::new(
                            source
                                .database
                                .clone()
                                .unwrap_or_else(|| target.database.clone()),
                            source.schema.clone().unwrap_or_else(|| source.name.clone()),
                            table
                                .identifier
                                .clone()
                                .unwrap_or_else(|| table.name.clone()),
                        ),
                        source: source.name.clone(),
                        table: table.name,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The literal keyword arguments of `config(...)` calls in a model's source,
/// read without rendering: `ref()` needs a model's alias, schema and database
/// before that model is rendered, as dbt's static parser does.
pub fn static_config(source: &str) -> ModelConfig {
    let mut config = ModelConfig::default();
    for arg in config_call_args(source) {
        if let (true, Some(v)) = (
            matches!(arg.key, "alias" | "schema" | "database" | "materialized"),
            arg.value,
        ) {
            merge_config_value(&mut config.values, arg.key, serde_json::Value::String(v));
        }
    }
    config
}

/// One keyword argument of a `config(...)` call in a model's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigArg<'a> {
    /// The keyword (`alias`).
    pub key: &'a str,
    /// Where the keyword is in the source (bytes).
    pub key_span: std::ops::Range<usize>,
    /// The value, when it is one string literal (`'sales, eu'`); `None`
    /// for anything computed (`var('x')`, `'a' ~ b`).
    pub value: Option<String>,
}

/// The keyword arguments of every `config(...)` call in `source`, in order.
/// Commas and parentheses inside strings, lists and calls do not split an
/// argument; string escapes (`\'`) are read as Jinja reads them.
pub fn config_call_args(source: &str) -> Vec<ConfigArg<'_>> {
    let mut out = Vec::new();
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(found) = source[from..].find("config(") {
        let at = from + found;
        from = at + "config(".len();
        let before = source[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        // Split the arguments at top-level commas, up to the closing `)`.
        let mut depth = 0usize;
        let mut arg_start = from;
        let mut i = from;
        while i < bytes.len() {
            match bytes[i] {
                q @ (b'\'' | b'"') => {
                    i = string_end(bytes, i, q);
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth > 0 => depth -= 1,
                b')' => break,
                b',' if depth == 0 => {
                    out.extend(keyword_arg(source, arg_start..i));
                    arg_start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        out.extend(keyword_arg(source, arg_start..i.min(bytes.len())));
        from = i.min(bytes.len());
    }
    out
}

/// The index just past the string literal opened by `quote` at `start`
/// (or the end of the text when it is not closed).
fn string_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    closing_quote(bytes, start, quote).map_or(bytes.len(), |i| i + 1)
}

/// The index of the quote that closes the string literal opened at `start`.
fn closing_quote(bytes: &[u8], start: usize, quote: u8) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// `key=value` in `source[range]`, when the text is a keyword argument.
fn keyword_arg(source: &str, range: std::ops::Range<usize>) -> Option<ConfigArg<'_>> {
    let text = &source[range.clone()];
    let eq = text.find('=')?;
    let key = text[..eq].trim();
    if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let key_start = range.start + text.find(key)?;
    Some(ConfigArg {
        key,
        key_span: key_start..key_start + key.len(),
        value: string_literal_value(text[eq + 1..].trim()),
    })
}

/// The value of `text` when it is exactly one Jinja string literal.
fn string_literal_value(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    if closing_quote(text.as_bytes(), 0, quote as u8)? != text.len() - 1 {
        return None;
    }
    let mut value = String::new();
    let mut chars = text[1..text.len() - 1].chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        value.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'b' => '\u{8}',
            'f' => '\u{c}',
            c @ ('\\' | '\'' | '"' | '/') => c,
            // \uXXXX and the like: leave them to the renderer.
            _ => return None,
        });
    }
    Some(value)
}

/// Reads a UTF-8 text file, with a diagnostic for every way that can fail.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    if path.is_dir() {
        return Err(Diagnostic::error(
            "CIO002",
            format!("{} is a directory, not a file", path.display()),
        )
        .at_file(path)
        .with_help(
            "rename the folder so it does not end in .sql, or move it out of the model path",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::error("CIO002", format!("cannot read {}: {e}", path.display()))
            .at_file(path)
            .with_help("check that the file exists and is readable")
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
        let line = text.matches('\n').count() + 1;
        let mut d = Diagnostic::error(
            "CIO002",
            format!("{} is not valid UTF-8 (byte {valid})", path.display()),
        )
        .at_file(path)
        .with_help("save the file as UTF-8");
        d.line = Some(line);
        d
    })
}

fn display_dir(p: &Path) -> String {
    if p.as_os_str().is_empty() {
        ".".to_string()
    } else {
        p.display().to_string()
    }
}

/// Path of `path` relative to `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file with extension `ext` below `dir`, sorted; follows links, reports loops.
fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, Diagnostic> {
    Ok(files_with_extensions(dir, &[ext])?.swap_remove(0))
}

/// The files below `dir` with each of `exts`, one list per extension, in one
/// walk; sorted, follows links, reports loops.
fn files_with_extensions(dir: &Path, exts: &[&str]) -> Result<Vec<Vec<PathBuf>>, Diagnostic> {
    let mut out = vec![Vec::new(); exts.len()];
    if !dir.exists() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| walk_error(&e, dir))?;
        // A folder named like a file is kept: read_text reports it clearly.
        let path = entry.path();
        if let Some(ext) = path.extension().and_then(|e| e.to_str())
            && let Some(i) = exts.iter().position(|e| *e == ext)
        {
            out[i].push(path.to_path_buf());
        }
    }
    Ok(out)
}

/// A diagnostic for a failed step of a folder walk: a link that loops, a
/// link to nothing, a folder that cannot be read.
fn walk_error(e: &walkdir::Error, dir: &Path) -> Diagnostic {
    let path = e
        .path()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.to_path_buf());
    let dangling = path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(&path).is_err();
    let (what, help) = if e.loop_ancestor().is_some() {
        (
            "a symbolic link loops back to a parent folder".to_string(),
            "remove the looping link or point it outside the project folders".to_string(),
        )
    } else if dangling {
        let to = std::fs::read_link(&path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".into());
        (
            format!("it is a symbolic link to {to}, which does not exist"),
            format!(
                "point the link at an existing file, or remove it (`rm {}`)",
                path.display()
            ),
        )
    } else {
        (
            e.io_error()
                .map_or_else(|| e.to_string(), |io| io.to_string()),
            "check that the folder exists and is readable".to_string(),
        )
    };
    Diagnostic::error("CIO002", format!("cannot read {}: {what}", path.display()))
        .at_file(path)
        .with_help(help)
}

/// The files below the model paths, found in one walk of each path.
struct ModelPathFiles {
    /// `.sql` files: (the model path they are under, the file).
    sql: Vec<(PathBuf, PathBuf)>,
    /// `.yml` then `.yaml` files of each model path, which may declare sources.
    yaml: Vec<PathBuf>,
}

impl ModelPathFiles {
    fn find(root: &Path, config: &ProjectConfig) -> Result<Self, Diagnostic> {
        let mut files = ModelPathFiles {
            sql: Vec::new(),
            yaml: Vec::new(),
        };
        for model_dir in &config.model_paths {
            let dir = root.join(model_dir);
            let [sql, yml, yaml]: [Vec<PathBuf>; 3] =
                files_with_extensions(&dir, &["sql", "yml", "yaml"])?
                    .try_into()
                    .expect("one list per extension");
            files.sql.extend(sql.into_iter().map(|f| (dir.clone(), f)));
            files.yaml.extend(yml);
            files.yaml.extend(yaml);
        }
        Ok(files)
    }
}

/// Reads every model file. The files are read and configured in parallel;
/// problems are reported in file order, as a one-by-one read would.
fn load_models(
    root: &Path,
    files: &[(PathBuf, PathBuf)],
    config: &ProjectConfig,
) -> Result<Vec<Model>, Diagnostic> {
    use rayon::prelude::*;
    let read: Vec<(String, String, Result<Model, Diagnostic>)> = files
        .par_iter()
        .map(|(dir, path)| {
            let rel = relative(root, path);
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let model = read_text(path)
                .map_err(|d| relabel(d, path, &rel))
                .map(|source| {
                    // The folder path below the model path, for `models:` config lookup.
                    let folder: Vec<String> = Path::new(&relative(dir, path))
                        .parent()
                        .map(|p| {
                            p.components()
                                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    Model {
                        folder_config: config.folder_config(&folder, &name),
                        name: name.clone(),
                        path: rel.clone(),
                        source,
                    }
                });
            (name, rel, model)
        })
        .collect();
    let mut models: Vec<Model> = Vec::with_capacity(read.len());
    let mut seen: HashMap<String, String> = HashMap::new();
    for (name, rel, model) in read {
        if let Some(first) = seen.get(&name.to_lowercase()) {
            return Err(Diagnostic::error(
                "CIO004",
                format!("two models are named {name}: {first} and {rel}"),
            )
            .at_file(&rel)
            .with_help(
                "model names come from file names and must be unique: rename one of the files",
            ));
        }
        seen.insert(name.to_lowercase(), rel);
        models.push(model?);
    }
    models.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(models)
}

fn relabel(mut d: Diagnostic, abs: &Path, rel: &str) -> Diagnostic {
    if d.file.as_deref() == Some(abs) {
        d.file = Some(PathBuf::from(rel));
    }
    d.message = d.message.replace(&abs.display().to_string(), rel);
    d
}

fn load_macros(root: &Path, macro_paths: &[String]) -> Result<Vec<MacroFile>, Diagnostic> {
    let mut files = Vec::new();
    for macro_dir in macro_paths {
        for path in files_with_extension(&root.join(macro_dir), "sql")? {
            let rel = relative(root, &path);
            let source = read_text(&path).map_err(|d| relabel(d, &path, &rel))?;
            let macros = macro_names(&source);
            files.push(MacroFile {
                path: rel,
                source,
                macros,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The names of the `{% macro name(...) %}` definitions in `source`, in order.
pub fn macro_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(idx) = rest.find("{%") {
        rest = &rest[idx + 2..];
        let tag = rest.trim_start_matches(['-', '+']).trim_start();
        if let Some(after) = tag.strip_prefix("macro")
            && after.starts_with(char::is_whitespace)
        {
            let name: String = after
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_config_reads_string_arguments() {
        let src = "{{ config(alias='sales, eu', materialized = \"table\", tags=['a', 'b'], schema=var('s')) }}\nselect 1";
        let c = static_config(src);
        assert_eq!(c.alias(), Some("sales, eu"));
        assert_eq!(c.materialized(), "table");
        assert_eq!(c.schema(), None, "a computed schema is not static");
        let c = static_config("{{ config(alias='a)b', database='it\\'s') }}");
        assert_eq!(c.alias(), Some("a)b"));
        assert_eq!(c.database(), Some("it's"));
        assert_eq!(static_config("{{ config(alias='a' ~ 'b') }}").alias(), None);
        assert_eq!(static_config("{{ my_config(alias='x') }}").alias(), None);
        let args = config_call_args("{{ config(\n  alias='x') }}");
        assert_eq!(args[0].key, "alias");
        assert_eq!(args[0].key_span, 13..18);
        // Unclosed calls and strings end at the end of the text.
        assert_eq!(static_config("{{ config(alias='x").alias(), None);
        assert_eq!(static_config("{{ config(alias='x'").alias(), Some("x"));
    }

    #[test]
    fn finds_macro_names() {
        let src = "{% macro a(x) %}{% endmacro %}\n{%- macro  b_2() -%}{%- endmacro %}{% set macro_x = 1 %}";
        assert_eq!(macro_names(src), vec!["a", "b_2"]);
    }
}
