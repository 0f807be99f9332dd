//! `--select` and `--exclude` for data tests (`build`, `test`): the specs
//! that name tests are taken out before the models are selected, and
//! applied to the tests the run generates.
//!
//! A spec names tests when it is `test_type:contract`, `test_type:singular`
//! or `test_type:generic`, or the name of a test (a singular test's file
//! name, a generic test's name, or a contract test's `cio_<test>_<model>`)
//! that is no model's name. Every other spec selects models, as for `run`, and a selected
//! model brings its tests.

use crate::compile::data_tests::{DataTest, TestKind, check_names};
use crate::diagnostics::{Diagnostic, codes};

/// The test specs of a selection.
#[derive(Debug, Clone, Default)]
pub struct TestSelection {
    /// `--select` specs naming tests.
    pub select: Vec<String>,
    /// `--exclude` specs naming tests.
    pub exclude: Vec<String>,
    /// `--select` had specs naming models (their tests are selected).
    pub models_named: bool,
}

const KINDS: [TestKind; 3] = [TestKind::Generic, TestKind::Singular, TestKind::Contract];

/// True when `spec` names tests rather than models. `models`: the
/// project's model names; `singular`: its singular and generic tests'
/// names.
fn is_test_spec(spec: &str, models: &[&str], singular: &[String]) -> bool {
    if spec.starts_with("test_type:") {
        return true;
    }
    if models.iter().any(|m| m.eq_ignore_ascii_case(spec)) {
        return false;
    }
    singular.iter().any(|s| s == spec)
        || spec
            .strip_prefix("cio_")
            .is_some_and(|rest| check_names().any(|c| rest.starts_with(&format!("{c}_"))))
}

/// Splits `select` and `exclude` into the model specs (returned first, for
/// the compile) and the test specs. CIO063: a `test_type:` that is not a
/// kind of test.
pub fn split(
    select: &[String],
    exclude: &[String],
    models: &[&str],
    singular: &[String],
) -> Result<(Vec<String>, Vec<String>, TestSelection), Diagnostic> {
    let part = |specs: &[String], tests: &mut Vec<String>| -> Result<Vec<String>, Diagnostic> {
        let mut rest = Vec::new();
        for spec in specs {
            if let Some(kind) = spec.strip_prefix("test_type:")
                && !KINDS.iter().any(|k| k.name() == kind)
            {
                return Err(Diagnostic::error(
                    codes::TEST_SELECTOR,
                    format!("`{spec}` names no kind of test"),
                )
                .with_help("use test_type:contract, test_type:singular or test_type:generic"));
            }
            if is_test_spec(spec, models, singular) {
                tests.push(spec.clone());
            } else {
                rest.push(spec.clone());
            }
        }
        Ok(rest)
    };
    let mut select_tests = Vec::new();
    let mut exclude_tests = Vec::new();
    let models_select = part(select, &mut select_tests)?;
    let models_exclude = part(exclude, &mut exclude_tests)?;
    let picked = TestSelection {
        select: select_tests,
        exclude: exclude_tests,
        models_named: !models_select.is_empty(),
    };
    Ok((models_select, models_exclude, picked))
}

fn matches(spec: &str, t: &DataTest) -> bool {
    match spec.strip_prefix("test_type:") {
        Some(kind) => t.kind.name() == kind,
        None => t.name == spec,
    }
}

impl TestSelection {
    /// True when `--select` named tests only: then no model is selected
    /// for its tests, and `build` builds every model.
    pub fn tests_only(&self) -> bool {
        !self.select.is_empty() && !self.models_named
    }

    /// The tests of `tests` the selection keeps: those of the selected
    /// models (every test given, as the run generated them for its
    /// models) unless `--select` named tests only, plus those `--select`
    /// names; minus those `--exclude` names.
    pub fn apply(&self, tests: Vec<DataTest>) -> Vec<DataTest> {
        tests
            .into_iter()
            .filter(|t| {
                let named = self.select.iter().any(|s| matches(s, t));
                let kept = if self.select.is_empty() {
                    true
                } else if self.models_named {
                    named || t.model.is_some()
                } else {
                    named
                };
                kept && !self.exclude.iter().any(|s| matches(s, t))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::data_tests::TestSeverity;

    fn test(name: &str, kind: TestKind) -> DataTest {
        DataTest {
            name: name.into(),
            kind,
            model: Some("people".into()),
            depends_on: vec!["people".into()],
            severity: TestSeverity::Error,
            sql: "select 1".into(),
            description: String::new(),
            path: None,
            config: Default::default(),
            source_relation: None,
            alias: None,
        }
    }

    #[test]
    fn test_specs_are_split_from_model_specs_and_applied() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let models = ["people", "cio_not_null_lookalike"];
        let singular = s(&["no_ghosts"]);
        let (m, x, sel) = split(
            &s(&[
                "people",
                "test_type:singular",
                "cio_unique_key_people",
                "cio_not_null_lookalike",
            ]),
            &s(&["cio_row_bytes_people", "tag:x"]),
            &models,
            &singular,
        )
        .unwrap();
        assert_eq!(
            m,
            s(&["people", "cio_not_null_lookalike"]),
            "a model's name stays a model"
        );
        assert_eq!(x, s(&["tag:x"]));
        assert_eq!(
            sel.select,
            s(&["test_type:singular", "cio_unique_key_people"])
        );
        assert!(sel.models_named && !sel.tests_only());
        let tests = vec![
            test("cio_unique_key_people", TestKind::Contract),
            test("cio_row_bytes_people", TestKind::Contract),
            test("no_ghosts", TestKind::Singular),
        ];
        let kept: Vec<String> = sel
            .apply(tests.clone())
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(kept, s(&["cio_unique_key_people", "no_ghosts"]));

        // Tests only: exactly those named.
        let (m, _, sel) = split(&s(&["test_type:contract"]), &[], &models, &singular).unwrap();
        assert!(m.is_empty() && sel.tests_only());
        let kept: Vec<String> = sel
            .apply(tests.clone())
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(kept, s(&["cio_unique_key_people", "cio_row_bytes_people"]));
        let (_, _, sel) = split(&s(&["no_ghosts"]), &[], &models, &singular).unwrap();
        assert_eq!(sel.apply(tests.clone()).len(), 1);
        // No selection: every test; an exclusion by kind.
        let (_, _, sel) = split(&[], &s(&["test_type:singular"]), &models, &singular).unwrap();
        assert_eq!(sel.apply(tests).len(), 2);

        let e = split(&s(&["test_type:schema"]), &[], &models, &singular).unwrap_err();
        assert_eq!(e.code, codes::TEST_SELECTOR);
    }
}
