//! The project's files: reading one (with a diagnostic for every way it can
//! fail), finding the models, schema files and macro files under their
//! paths, and loading models and macros.

use super::{MacroFile, Model, ProjectConfig};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Reads a UTF-8 text file, with a diagnostic for every way that can fail.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    if path.is_dir() {
        return Err(Diagnostic::error(
            codes::UNREADABLE_FILE,
            format!("{} is a directory, not a file", path.display()),
        )
        .at_file(path)
        .with_help(
            "rename the folder so it does not end in .sql, or move it out of the model path",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::error(
            codes::UNREADABLE_FILE,
            format!("cannot read {}: {e}", path.display()),
        )
        .at_file(path)
        .with_help("check that the file exists and is readable")
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
        let line = text.matches('\n').count() + 1;
        let mut d = Diagnostic::error(
            codes::UNREADABLE_FILE,
            format!("{} is not valid UTF-8 (byte {valid})", path.display()),
        )
        .at_file(path)
        .with_help("save the file as UTF-8");
        d.line = Some(line);
        d
    })
}

pub(super) fn display_dir(p: &Path) -> String {
    if p.as_os_str().is_empty() {
        ".".to_string()
    } else {
        p.display().to_string()
    }
}

/// Path of `path` relative to `root`, with `/` separators.
pub(super) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file with extension `ext` below `dir`, sorted; follows links, reports loops.
pub(super) fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, Diagnostic> {
    Ok(files_with_extensions(dir, &[ext])?.swap_remove(0))
}

/// The files below `dir` with each of `exts`, one list per extension, in one
/// walk; sorted, follows links, reports loops.
pub(super) fn files_with_extensions(
    dir: &Path,
    exts: &[&str],
) -> Result<Vec<Vec<PathBuf>>, Diagnostic> {
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
pub(super) fn walk_error(e: &walkdir::Error, dir: &Path) -> Diagnostic {
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
    Diagnostic::error(
        codes::UNREADABLE_FILE,
        format!("cannot read {}: {what}", path.display()),
    )
    .at_file(path)
    .with_help(help)
}

/// The files below the model paths, found in one walk of each path.
pub(super) struct ModelPathFiles {
    /// `.sql` files: (the model path they are under, the file).
    pub sql: Vec<(PathBuf, PathBuf)>,
    /// `.yml` then `.yaml` files of each model path, which may declare sources.
    pub yaml: Vec<PathBuf>,
    /// `.md` files of each model path (docs blocks).
    pub md: Vec<PathBuf>,
    /// `.yml`, `.yaml` and `.md` files of the seed paths (properties, docs).
    pub seed_yaml: Vec<PathBuf>,
}

impl ModelPathFiles {
    pub(super) fn find(root: &Path, config: &ProjectConfig) -> Result<Self, Diagnostic> {
        let mut files = ModelPathFiles {
            sql: Vec::new(),
            yaml: Vec::new(),
            md: Vec::new(),
            seed_yaml: Vec::new(),
        };
        for model_dir in &config.model_paths {
            let dir = root.join(model_dir);
            let [sql, yml, yaml, md]: [Vec<PathBuf>; 4] =
                files_with_extensions(&dir, &["sql", "yml", "yaml", "md"])?
                    .try_into()
                    .expect("one list per extension");
            files.sql.extend(sql.into_iter().map(|f| (dir.clone(), f)));
            files.yaml.extend(yml);
            files.yaml.extend(yaml);
            files.md.extend(md);
        }
        for seed_dir in &config.seed_paths {
            let [yml, yaml, md]: [Vec<PathBuf>; 3] =
                files_with_extensions(&root.join(seed_dir), &["yml", "yaml", "md"])?
                    .try_into()
                    .expect("one list per extension");
            files.seed_yaml.extend(yml);
            files.seed_yaml.extend(yaml);
            files.md.extend(md);
        }
        Ok(files)
    }
}

/// Reads every model file. The files are read and configured in parallel;
/// problems are reported in file order, as a one-by-one read would.
pub(super) fn load_models(
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
                codes::DUPLICATE_MODEL,
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

pub(super) fn relabel(mut d: Diagnostic, abs: &Path, rel: &str) -> Diagnostic {
    if d.file.as_deref() == Some(abs) {
        d.file = Some(PathBuf::from(rel));
    }
    d.message = d.message.replace(&abs.display().to_string(), rel);
    d
}

pub(super) fn load_macros(
    root: &Path,
    macro_paths: &[String],
) -> Result<Vec<MacroFile>, Diagnostic> {
    let mut files = Vec::new();
    for macro_dir in macro_paths {
        for path in files_with_extension(&root.join(macro_dir), "sql")? {
            let rel = relative(root, &path);
            let source =
                generic_tests_as_macros(read_text(&path).map_err(|d| relabel(d, &path, &rel))?);
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

/// dbt's custom generic tests, `{% test name(model, column_name) %} …
/// {% endtest %}`, as the macros dbt makes of them: `test_<name>` (dbt's
/// own naming, which is how a package calls another's test). Only the tag
/// words change, so every line stays where it was.
pub fn generic_tests_as_macros(source: String) -> String {
    if !source.contains("test") {
        return source;
    }
    let mut out = String::with_capacity(source.len() + 16);
    let mut rest = source.as_str();
    while let Some(idx) = rest.find("{%") {
        out.push_str(&rest[..idx + 2]);
        rest = &rest[idx + 2..];
        let control = rest.len() - rest.trim_start_matches(['-', '+']).len();
        let spaces = rest[control..].len() - rest[control..].trim_start().len();
        out.push_str(&rest[..control + spaces]);
        rest = &rest[control + spaces..];
        let ends_word =
            |after: &str| after.starts_with(|c: char| c.is_whitespace() || c == '-' || c == '%');
        if let Some(after) = rest.strip_prefix("test")
            && after.starts_with(char::is_whitespace)
        {
            let gap = after.len() - after.trim_start().len();
            out.push_str("macro");
            out.push_str(&after[..gap]);
            out.push_str("test_");
            rest = &after[gap..];
        } else if let Some(after) = rest.strip_prefix("endtest")
            && ends_word(after)
        {
            out.push_str("endmacro");
            rest = after;
        }
    }
    out.push_str(rest);
    out
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
    fn generic_test_blocks_become_test_macros() {
        let src = "{% test is_positive(model, column_name) %}\nselect 1\n{%- endtest %}\n{% set testing = 1 %}{%   test  b() -%}{% endtest -%}".to_string();
        let out = generic_tests_as_macros(src);
        assert_eq!(
            out,
            "{% macro test_is_positive(model, column_name) %}\nselect 1\n{%- endmacro %}\n{% set testing = 1 %}{%   macro  test_b() -%}{% endmacro -%}"
        );
        assert_eq!(macro_names(&out), vec!["test_is_positive", "test_b"]);
        let plain = "{% macro a() %}{% endmacro %}".to_string();
        assert_eq!(generic_tests_as_macros(plain.clone()), plain);
    }

    #[test]
    fn finds_macro_names() {
        let src = "{% macro a(x) %}{% endmacro %}\n{%- macro  b_2() -%}{%- endmacro %}{% set macro_x = 1 %}";
        assert_eq!(macro_names(src), vec!["a", "b_2"]);
    }
}
