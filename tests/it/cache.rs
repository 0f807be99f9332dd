//! The compile cache (`target/compile_cache.bin`): a model is reused only
//! when nothing it depends on changed, and a reused compile writes exactly
//! what a fresh one does.

use crate::support::{ENTITIES, TestProject};
use cio_sql::compile::{Compilation, CompileOptions, ModelStatus};
use cio_sql::pipeline::compile;

const PEOPLE: &str = "{{ config(materialized='table') }}\n{{ nexus.customer_io_identify(anonymous_id_column='segment_anonymous_id') }}";

/// A project of a sync model, a chain of two plain models over it, and a
/// model that stands alone.
fn project() -> TestProject {
    let p = TestProject::new();
    p.model("people", PEOPLE);
    p.model(
        "people_emails",
        "SELECT \"userId\", \"email\" FROM {{ ref('people') }}",
    );
    p.model(
        "people_count",
        "SELECT COUNT(*) AS n FROM {{ ref('people_emails') }}",
    );
    p.model(
        "journey",
        "SELECT entity_id, state_value FROM {{ ref('high_level_customer_journey') }}",
    );
    p
}

fn compile_with(p: &TestProject, f: impl FnOnce(&mut CompileOptions)) -> Compilation {
    let mut opts = p.options();
    f(&mut opts);
    compile(&opts).expect("project loads")
}

/// What a compile produced, model by model: name, SQL, output column
/// names.
fn outputs(c: &Compilation) -> Vec<(String, Option<String>, String)> {
    c.models
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.sql(),
                serde_json::to_string(&m.columns().iter().map(|c| &c.name).collect::<Vec<_>>())
                    .unwrap(),
            )
        })
        .collect()
}

fn fresh(p: &TestProject) -> Compilation {
    compile_with(p, |o| {
        o.use_cache = false;
        o.write = false;
    })
}

#[test]
fn an_unchanged_project_is_reused_whole_and_writes_the_same_files() {
    let p = project();
    let first = p.compile();
    assert!(first.succeeded());
    assert_eq!(first.reused, 0);
    assert!(p.path("target/compile_cache.bin").is_file());
    let manifest = std::fs::read(p.path("target/manifest.json")).unwrap();
    let people = std::fs::read(p.path("target/compiled/models/people.sql")).unwrap();

    std::fs::remove_file(p.path("target/manifest.json")).unwrap();
    std::fs::remove_file(p.path("target/compiled/models/people.sql")).unwrap();
    let cache_file = || std::fs::metadata(p.path("target/compile_cache.bin")).unwrap();
    let before = cache_file();
    let second = p.compile();
    assert_eq!(second.reused, 4, "every model comes from the cache");
    let after = cache_file();
    assert_eq!(
        (after.len(), after.modified().unwrap()),
        (before.len(), before.modified().unwrap()),
        "a compile that reuses every model leaves the cache file alone"
    );
    assert_eq!(outputs(&second), outputs(&first));
    assert_eq!(
        std::fs::read(p.path("target/manifest.json")).unwrap(),
        manifest
    );
    assert_eq!(
        std::fs::read(p.path("target/compiled/models/people.sql")).unwrap(),
        people,
        "a reused model's SQL file is written again when it is missing"
    );
    // The config() of a reused model is the rendered one.
    let m = second.model("people").unwrap();
    assert_eq!(crate::support::cio_sync(&m.config), Some("identify"));
    assert_eq!(m.depends_on, Vec::<String>::new());
    assert_eq!(
        second.model("people_count").unwrap().depends_on,
        ["people_emails"]
    );
}

#[test]
fn editing_a_model_recompiles_it_and_everything_downstream() {
    let p = project();
    p.compile();
    p.model(
        "people_emails",
        "SELECT \"userId\" AS uid, \"email\" FROM {{ ref('people') }}",
    );
    let c = p.compile();
    assert_eq!(c.reused, 2, "people and journey are reused");
    assert_eq!(outputs(&c), outputs(&fresh(&p)));
    let names: Vec<String> = c
        .model("people_emails")
        .unwrap()
        .columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["UID", "email"]);
    // The next compile reuses everything again.
    assert_eq!(p.compile().reused, 4);
}

#[test]
fn a_change_upstream_reaches_models_that_introspect_it() {
    let p = TestProject::new();
    p.model(
        "base",
        "SELECT entity_id, email FROM {{ ref('nexus_entities') }}",
    );
    p.model(
        "copy",
        "SELECT\n{%- for c in adapter.get_columns_in_relation(ref('base')) %}\n    {{ c.name }}{{ ',' if not loop.last }}\n{%- endfor %}\nFROM {{ ref('base') }}",
    );
    p.compile();
    p.model(
        "base",
        "SELECT entity_id, email, status FROM {{ ref('nexus_entities') }}",
    );
    let c = p.compile();
    assert_eq!(c.reused, 0);
    assert!(c.model("copy").unwrap().sql().unwrap().contains("STATUS"));
}

#[test]
fn macros_catalog_vars_target_and_warn_error_each_invalidate_everything() {
    let p = project();
    p.file(
        "profiles.yml",
        "test_project:\n  target: dev\n  outputs:\n    dev: {type: snowflake, database: ANALYTICS, schema: PUBLIC}\n    prod: {type: snowflake, database: PROD, schema: PUBLIC}\n",
    );
    p.compile();
    assert_eq!(p.compile().reused, 4);

    p.file("macros/mine.sql", "{% macro unused() %}1{% endmacro %}");
    assert_eq!(p.compile().reused, 0, "a new macro file");
    assert_eq!(p.compile().reused, 4);

    p.file(
        "catalog.yml",
        &ENTITIES.replace(
            "{name: status, data_type: VARCHAR(16777216)}",
            "{name: status, data_type: NUMBER}",
        ),
    );
    let c = p.compile();
    assert_eq!(c.reused, 0, "a catalog change");
    assert!(
        c.model("people")
            .unwrap()
            .sql()
            .unwrap()
            .contains("status AS \"status\"")
    );

    let c = compile_with(&p, |o| o.load.vars = Some("{x: 1}".into()));
    assert_eq!(c.reused, 0, "--vars");

    let c = compile_with(&p, |o| o.load.target = Some("prod".into()));
    assert_eq!(c.reused, 0, "--target");
    assert!(
        c.model("people")
            .unwrap()
            .sql()
            .unwrap()
            .contains("FROM PROD.")
    );

    p.compile();
    let c = compile_with(&p, |o| o.warn_error = true);
    assert_eq!(c.reused, 0, "--warn-error");
}

#[test]
fn models_that_read_the_environment_are_compiled_every_time_and_warnings_replayed() {
    let p = project();
    p.model(
        "env",
        "SELECT '{{ env_var('CIO_SQL_CACHE_TEST_VALUE', 'unset') }}' AS v",
    );
    // A trait renamed to a reserved attribute in another case warns.
    p.model(
        "warns",
        "{{ nexus.customer_io_identify(\n    rename_traits={'status': 'Timezone'}\n) }}",
    );
    let first = p.compile();
    let warned = first.model("warns").unwrap().diagnostics.clone();
    assert_eq!(warned.len(), 1);
    let second = p.compile();
    assert_eq!(second.reused, 5, "only env is compiled again");
    let warns = second.model("warns").unwrap();
    // The warning is replayed exactly: same text, same place, same snippet.
    assert_eq!(warns.diagnostics, warned, "the warning is shown every time");
    assert_eq!(warns.diagnostics[0].render(false), warned[0].render(false));
    assert!(
        warns.diagnostics[0].source_line.is_some(),
        "with its snippet"
    );
    assert!(
        second
            .model("env")
            .unwrap()
            .sql()
            .unwrap()
            .contains("'unset'")
    );
    // --warn-error still fails it (it is part of every key).
    let strict = compile_with(&p, |o| o.warn_error = true);
    let warns = strict.model("warns").unwrap();
    assert_eq!(warns.status, ModelStatus::Error);
    assert!(warns.diagnostics[0].is_error());
    // And the warning is still replayed on the next plain compile.
    p.compile();
    let again = p.compile();
    assert_eq!(again.reused, 5);
    assert_eq!(again.model("warns").unwrap().diagnostics, warned);
}

#[test]
fn a_damaged_cache_is_ignored() {
    let p = project();
    let expected = outputs(&p.compile());
    let path = p.path("target/compile_cache.bin");
    // Replaced, as cio-sql replaces it, rather than rewritten in place: a
    // compile reads its models back from the file it wrote.
    let replace = |bytes: &[u8]| {
        let tmp = p.path("target/damaged");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    };
    let mut bytes = std::fs::read(&path).unwrap();
    // Flip bytes in the middle of the records.
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0xa5;
    }
    replace(&bytes);
    let c = p.compile();
    assert!(c.succeeded());
    assert!(c.reused < 4, "the damaged record is not reused");
    assert_eq!(outputs(&c), expected);

    replace(b"garbage");
    let c = p.compile();
    assert_eq!(c.reused, 0);
    assert_eq!(outputs(&c), expected);
}

#[test]
fn without_the_cache_nothing_is_read_or_written() {
    let p = project();
    let c = compile_with(&p, |o| o.use_cache = false);
    assert_eq!(c.reused, 0);
    assert!(!p.path("target/compile_cache.bin").exists());
    assert!(p.path("target/manifest.json").is_file());
    p.compile();
    let c = compile_with(&p, |o| o.use_cache = false);
    assert_eq!(c.reused, 0, "an existing cache is not read either");
}

#[test]
fn failures_are_not_cached_and_disabled_models_stay_disabled() {
    let p = project();
    p.model("broken", "SELECT {{ undefined_macro() }}");
    p.model("off", "{{ config(enabled=false) }}\nSELECT 1 AS x");
    p.compile();
    let c = p.compile();
    assert_eq!(c.model("broken").unwrap().status, ModelStatus::Error);
    assert!(!c.model("broken").unwrap().diagnostics.is_empty());
    assert_eq!(c.model("off").unwrap().status, ModelStatus::Disabled);
    // The disabled model is reused too, but is not selected: not counted.
    assert_eq!(c.reused, 4, "every selected model but the broken one");
    // A ref to the disabled model is caught whether or not it is reused.
    p.model("uses_off", "SELECT x FROM {{ ref('off') }}");
    let c = p.compile();
    let d = &c.model("uses_off").unwrap().diagnostics;
    assert!(d.iter().any(|d| d.code == "CIO013"), "{d:?}");
}

#[test]
fn a_ref_made_inside_a_macro_is_followed() {
    let p = TestProject::new();
    p.file(
        "macros/ids_of.sql",
        "{% macro ids_of(model='base') %}SELECT entity_id FROM {{ ref(model) }}{% endmacro %}",
    );
    p.model(
        "base",
        "{{ config(alias='base_v1') }}\nSELECT entity_id, email FROM {{ ref('nexus_entities') }}",
    );
    // The source does not name `base`: the macro's default argument does.
    p.model("ids", "{{ ids_of() }}");
    let first = p.compile();
    assert!(
        first.succeeded(),
        "{:?}",
        first.model("ids").unwrap().diagnostics
    );
    assert_eq!(first.model("ids").unwrap().depends_on, ["base"]);
    assert_eq!(p.compile().reused, 2, "both reused when nothing changed");

    p.model(
        "base",
        "{{ config(alias='base_v2') }}\nSELECT entity_id, email FROM {{ ref('nexus_entities') }}",
    );
    let c = p.compile();
    assert_eq!(
        c.reused, 0,
        "the change reaches the model that refs it through a macro"
    );
    assert!(c.model("ids").unwrap().sql().unwrap().contains("base_v2"));
    assert_eq!(outputs(&c), outputs(&fresh(&p)));
    assert_eq!(p.compile().reused, 2);
}
