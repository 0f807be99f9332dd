//! `cio-sql ls --resource-type test`: the data tests `cio-sql test` would
//! run for the selection, one per line, in dbt's `--output` forms.

use super::ExitStatus;
use super::args::LsOutput;
use crate::compile::data_tests::{DataTest, TestKind, TestSeverity};
use crate::compile::project_tests::{project_tests, split_specs};
use crate::compile::select::fqn_of;
use crate::compile::test_select::TestSelection;
use crate::compile::{Compilation, CompileOptions};
use crate::diagnostics::Diagnostic;
use crate::project::Project;
use crate::report::{LogFormat, Output, print_out};
use serde_json::json;
use std::sync::Arc;

/// `opts` with the specs naming tests taken out of its selection, and
/// those specs.
pub(super) fn split(opts: &CompileOptions) -> Result<(CompileOptions, TestSelection), Diagnostic> {
    let project = Project::load(&opts.load)?;
    let (select, exclude, tests) = split_specs(&project, &opts.select, &opts.exclude)?;
    Ok((
        CompileOptions {
            select,
            exclude,
            ..opts.clone()
        },
        tests,
    ))
}

/// The file a test comes from: its `.yml` or `.sql`, or (a contract test)
/// its model's.
fn source_path<'a>(c: &'a Compilation, t: &'a DataTest) -> &'a str {
    match (&t.path, &t.model) {
        (Some(p), _) => p,
        (None, Some(m)) => c.model(m).map_or("", |m| m.path.as_str()),
        (None, None) => "",
    }
}

/// dbt's fqn of a test: the project, the folders of its file below the
/// model (or test) paths, its name.
fn fqn(c: &Compilation, t: &DataTest) -> Vec<String> {
    let config = &c.project.config;
    let roots = if t.kind == TestKind::Singular {
        &config.test_paths
    } else {
        &config.model_paths
    };
    let mut parts = fqn_of(&config.name, source_path(c, t), roots);
    parts.pop();
    parts.push(t.name.clone());
    parts
}

/// Prints the selected tests of `c`.
pub(super) fn list(
    c: &Compilation,
    selection: &TestSelection,
    out: &Output,
    form: Option<LsOutput>,
) -> ExitStatus {
    let catalog = match crate::catalog::load_catalog(&c.project) {
        Ok(catalog) => Arc::new(catalog),
        Err(d) => return super::fatal(out, &d),
    };
    let (tests, warnings) = match project_tests(c, catalog, selection) {
        Ok(found) => found,
        Err(d) => return super::fatal(out, &d),
    };
    for d in &warnings {
        out.diagnostic(d);
    }
    let project = &c.project.config.name;
    for t in &tests {
        let severity = match t.severity {
            TestSeverity::Error => "ERROR",
            TestSeverity::Warn => "WARN",
        };
        let depends_on: Vec<String> = t.depends_on.iter().map(|d| c.unique_id(d)).collect();
        let line = match (form, out.format) {
            (Some(LsOutput::Selector), _) => fqn(c, t).join("."),
            (Some(LsOutput::Name), _) => t.name.clone(),
            (Some(LsOutput::Path), _) => source_path(c, t).to_string(),
            (Some(LsOutput::Json), _) => json!({
                "name": t.name,
                "resource_type": "test",
                "package_name": project,
                "original_file_path": source_path(c, t),
                "unique_id": t.unique_id(project),
                "alias": t.alias(),
                "fqn": fqn(c, t),
                "test_type": t.kind.name(),
                "config": {"severity": severity},
                "depends_on": {"nodes": depends_on},
                "attached_node": t.model.as_deref().map(|m| c.unique_id(m)),
            })
            .to_string(),
            (None, LogFormat::Text) => format!(
                "{}\ttest\t{}\t{}\t{}",
                t.name,
                t.kind.name(),
                t.model.as_deref().unwrap_or("-"),
                severity.to_lowercase()
            ),
            (None, LogFormat::Json) => json!({
                "name": t.name,
                "resource_type": "test",
                "test_type": t.kind.name(),
                "path": source_path(c, t),
                "model": t.model,
                "severity": severity.to_lowercase(),
                "depends_on": t.depends_on,
            })
            .to_string(),
        };
        print_out(&format!("{line}\n"));
    }
    ExitStatus::Success
}
