//! Singular tests: the `.sql` files under the project's `test-paths` (dbt's
//! default `tests`), each a query selecting failing rows, rendered with
//! the models' Jinja context (`ref()`, `source()`, `var()`, macros). A
//! test's name is its file name; `{{ config(severity='warn') }}` makes it
//! a warning, as in dbt.

use crate::catalog::Catalog;
use crate::compile::Compilation;
use crate::compile::data_tests::{DataTest, TestKind, TestSeverity};
use crate::compile::test_config::TestConfig;
use crate::diagnostics::{Diagnostic, codes};
use crate::project::{Model, ModelConfig, Project, read_text};
use crate::render::Renderer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `.sql` files under the project's `test-paths`, sorted.
pub fn test_files(project: &Project) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut files = Vec::new();
    for folder in &project.config.test_paths {
        let dir = project.root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&dir)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| {
                Diagnostic::error(
                    codes::UNREADABLE_FILE,
                    format!("cannot read the test folder {}: {e}", dir.display()),
                )
                .at_file(&dir)
                .with_help("check that the folder and its links can be read")
            })?;
            let path = entry.path();
            if entry.file_type().is_file() && path.extension().is_some_and(|e| e == "sql") {
                files.push(path.to_path_buf());
            }
        }
    }
    Ok(files)
}

/// A singular test's name: its file name without `.sql`.
pub fn test_name(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The singular tests of `c`'s project that read a selected model (or no
/// model at all), rendered over `catalog`. `Err`: a test folder cannot be
/// read, a test does not render (the render's diagnostic, at the test's
/// line), or is empty, has a bad severity or a name another test has
/// (CIO062).
pub fn singular_tests(
    c: &Compilation,
    catalog: Arc<dyn Catalog>,
) -> Result<Vec<DataTest>, Diagnostic> {
    let root = &c.project.root;
    let files = test_files(&c.project)?;
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let renderer = Renderer::new(&c.project, catalog)?;
    let mut tests = Vec::new();
    for file in files {
        let source = read_text(&file)?;
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        let name = test_name(&file);
        let as_model = Model {
            name: name.clone(),
            path: rel.clone(),
            source,
            folder_config: ModelConfig::default(),
        };
        let rendered = renderer.render(&as_model).map_err(|mut d| {
            d.message = format!("test {name}: {}", d.message);
            d
        })?;
        if let Some(first) = tests.iter().find(|t: &&DataTest| t.name == name) {
            return Err(Diagnostic::error(
                codes::SINGULAR_TEST,
                format!(
                    "two singular tests are named {name}: {} and {rel}",
                    first.path.as_deref().unwrap_or_default()
                ),
            )
            .at_file(&rel)
            .with_help("rename one of the files: a test's name is its file name"));
        }
        let reads_selected = rendered.refs.is_empty()
            || rendered
                .refs
                .iter()
                .any(|r| c.selected.iter().any(|s| s.eq_ignore_ascii_case(r)));
        if !reads_selected {
            continue;
        }
        let severity = match rendered
            .config
            .values
            .get("severity")
            .and_then(|v| v.as_str())
        {
            Some(s) if s.eq_ignore_ascii_case("warn") => TestSeverity::Warn,
            Some(s) if s.eq_ignore_ascii_case("error") => TestSeverity::Error,
            None => TestSeverity::Error,
            Some(other) => {
                return Err(Diagnostic::error(
                    codes::SINGULAR_TEST,
                    format!("test {name}: severity is `{other}`, not `warn` or `error`"),
                )
                .at_file(&rel)
                .with_help("write {{ config(severity='warn') }} or severity='error'"));
            }
        };
        let sql = rendered
            .sql
            .trim()
            .trim_end_matches(';')
            .trim_end()
            .to_string();
        if sql.is_empty() {
            return Err(Diagnostic::error(
                codes::SINGULAR_TEST,
                format!(
                    "test {name} is empty: a singular test is a query selecting the failing rows"
                ),
            )
            .at_file(&rel)
            .with_help(
                "write a SELECT that returns the rows that break the rule, or delete the file",
            ));
        }
        let config = TestConfig::from_map(&rendered.config.values).map_err(|(message, help)| {
            Diagnostic::error(codes::TEST_THRESHOLD, format!("test {name}: {message}"))
                .at_file(&rel)
                .with_help(help)
        })?;
        tests.push(DataTest {
            name,
            kind: TestKind::Singular,
            model: rendered.refs.first().cloned(),
            depends_on: rendered.refs.clone(),
            severity,
            sql,
            description: format!("singular test {rel}"),
            path: Some(rel),
            config,
            source_relation: None,
            alias: None,
        });
    }
    Ok(tests)
}
