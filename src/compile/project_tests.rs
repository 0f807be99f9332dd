//! Every data test of a compilation, as `test`, `build` and `ls` see them:
//! the contract tests of the selected sync models, the singular tests
//! under `test-paths`, and the generic tests of the `.yml` files (with the
//! warnings for tests of packages), narrowed by the test specs of
//! `--select`/`--exclude`.

use crate::catalog::Catalog;
use crate::compile::Compilation;
use crate::compile::data_tests::{DataTest, contract_tests};
use crate::compile::generic_tests::generic_tests;
use crate::compile::singular::{singular_tests, test_files, test_name};
use crate::compile::test_select::TestSelection;
use crate::diagnostics::Diagnostic;
use crate::project::Project;
use std::sync::Arc;

/// The tests of `c` that `selection` keeps, and the warnings found making
/// them.
pub fn project_tests(
    c: &Compilation,
    catalog: Arc<dyn Catalog>,
    selection: &TestSelection,
) -> Result<(Vec<DataTest>, Vec<Diagnostic>), Diagnostic> {
    let mut tests = contract_tests(c);
    tests.extend(singular_tests(c, catalog.clone())?);
    let (generic, warnings) = generic_tests(c, catalog.as_ref())?;
    tests.extend(generic);
    Ok((selection.apply(tests), warnings))
}

/// `select` and `exclude` split into the specs that select models (first,
/// for the compile) and those that name tests, over `project`'s models and
/// singular and generic tests' names ([`crate::compile::test_select::split`]).
pub fn split_specs(
    project: &Project,
    select: &[String],
    exclude: &[String],
) -> Result<(Vec<String>, Vec<String>, TestSelection), Diagnostic> {
    let mut named: Vec<String> = test_files(project)?.iter().map(|f| test_name(f)).collect();
    named.extend(crate::compile::generic_tests::declared_test_names(project));
    let models: Vec<&str> = project.models.iter().map(|m| m.name.as_str()).collect();
    crate::compile::test_select::split(select, exclude, &models, &named)
}
