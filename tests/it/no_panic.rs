//! Property test: whatever text a model holds, render → parse → analyse
//! returns a result (success or diagnostics) and never panics.

use cio_sql::compile::CompileOptions;
use cio_sql::pipeline::compile_project;
use cio_sql::project::{LoadOptions, Project};
use proptest::prelude::*;
use std::sync::Arc;

/// Fragments that make interesting Jinja and SQL when shuffled together.
const FRAGMENTS: &[&str] = &[
    "select ",
    "from ",
    "where ",
    "{{ ",
    " }}",
    "{% ",
    " %}",
    "{# ",
    " #}",
    "if ",
    "endif",
    "for x in y",
    "endfor",
    "nexus.customer_io_identify(",
    ")",
    "(",
    "ref('nexus_entities')",
    "ref(",
    "'",
    "\"",
    ",",
    "=",
    "dedupe_column=",
    "ignore_traits=[",
    "]",
    "rename_traits={",
    "}",
    "'email'",
    "'first_name': 'last_name'",
    "config(materialized='table')",
    "var('x')",
    "1",
    "a",
    " as ",
    "\n",
    "qualify ",
    "union all ",
    "*",
    ";",
    "adapter.get_columns_in_relation(",
    "exceptions.raise_compiler_error('x')",
    "is_incremental()",
    "-",
    "|",
    "macro ",
    "endmacro",
    "\\",
    "é",
    "\u{0}",
];

fn model_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn compile_never_panics(text in model_text()) {
        let p = crate::support::TestProject::new();
        p.model("fuzz", "select 1 as a");
        let opts = CompileOptions {
            load: LoadOptions { project_dir: p.root().to_path_buf(), ..Default::default() },
            write: false,
            ..Default::default()
        };
        let mut project = Project::load(&opts.load).unwrap();
        project.models[0].source = text;
        let catalog = cio_sql::catalog::load_catalog(&project).unwrap();
        let c = compile_project(project, Arc::new(catalog), &opts).unwrap();
        let m = c.model("fuzz").unwrap();
        // Either SQL that parsed, or at least one error diagnostic.
        prop_assert!(m.sql().is_some() || m.diagnostics.iter().any(|d| d.is_error()));
        for d in &m.diagnostics {
            let _ = d.render(false);
        }
    }
}
