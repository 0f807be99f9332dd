//! Project loading, the dbt context, macros, the DAG, selection, validation
//! and the manifest.

use crate::support::{TestProject, render_all, snapshots};
use cio_sql::compile::{CompileOptions, ModelStatus};
use cio_sql::pipeline::compile;

#[test]
fn two_models_with_one_name_name_both_files() {
    let p = TestProject::new();
    p.file("models/a/people.sql", "select 1 as x")
        .file("models/b/people.sql", "select 2 as x");
    let err = p.compile_err();
    assert_eq!(err.code, "CIO004");
    assert!(
        err.message.contains("models/a/people.sql") && err.message.contains("models/b/people.sql"),
        "{}",
        err.message
    );
}

#[test]
fn existing_dbt_project_file_works_unchanged() {
    let p = TestProject::new();
    p.file(
        "dbt_project.yml",
        "name: 'jaffle'\nversion: '1.0.0'\nconfig-version: 2\nprofile: 'jaffle'\nmodel-paths: [\"transform\"]\nmacro-paths: [\"my_macros\"]\nclean-targets: [\"target\", \"dbt_packages\"]\nrequire-dbt-version: [\">=1.5.0\"]\nvars:\n  min_ltv: 100\nmodels:\n  jaffle:\n    +materialized: view\n    sync:\n      +materialized: table\n      +tags: [\"customer_io\"]\n      +schema: crm\n    staging:\n      +enabled: false\n",
    );
    p.file(
        "transform/sync/people.sql",
        "select {{ var('min_ltv') }} as ltv, {{ shout('x') }} as y from {{ ref('base') }}",
    );
    p.file("transform/base.sql", "select 1 as a");
    p.file("transform/staging/old.sql", "this is not sql at all");
    p.file(
        "my_macros/shout.sql",
        "{% macro shout(s) %}UPPER('{{ s }}'){% endmacro %}",
    );
    let c = p.compile();
    assert!(
        c.succeeded(),
        "{}",
        c.models
            .iter()
            .map(|m| render_all(&m.diagnostics))
            .collect::<String>()
    );
    let people = c.model("people").unwrap();
    assert_eq!(
        people.sql().as_deref(),
        Some("select 100 as ltv, UPPER('x') as y from ANALYTICS.PUBLIC.base\n")
    );
    assert_eq!(people.config.materialized(), "table");
    assert_eq!(people.config.tags(), vec!["customer_io"]);
    assert_eq!(people.relation.to_string(), "ANALYTICS.PUBLIC_crm.people");
    assert_eq!(c.model("base").unwrap().config.materialized(), "view");
    assert_eq!(c.model("old").unwrap().status, ModelStatus::Disabled);
    assert_eq!(c.selected, vec!["base", "people"]);
}

#[test]
fn profiles_targets_and_env_vars() {
    let p = TestProject::new();
    p.file(
        "profiles.yml",
        "test_project:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      database: \"{{ env_var('CIO_SQL_IT_DB_UNSET', 'DEV_DB') }}\"\n      schema: CIO\n      password: hunter2\n    prod:\n      type: snowflake\n      database: PROD_DB\n      schema: CIO\n",
    );
    p.model(
        "m",
        "select '{{ target.name }}' as t, '{{ target.password }}' as p from {{ this }}",
    );
    let c = p.compile();
    assert_eq!(
        c.model("m").unwrap().sql().as_deref(),
        Some("select 'dev' as t, '***' as p from DEV_DB.CIO.m\n"),
        "secrets never reach templates"
    );
    let mut opts = p.options();
    opts.load.target = Some("prod".into());
    let c = compile(&opts).unwrap();
    assert_eq!(c.model("m").unwrap().relation.to_string(), "PROD_DB.CIO.m");
    opts.load.target = Some("qa".into());
    let err = compile(&opts).unwrap_err();
    assert_eq!(err.code, "CIO005");
    assert!(err.help.unwrap().contains("dev, prod"));
    let manifest = std::fs::read_to_string(p.path("target/manifest.json")).unwrap();
    assert!(!manifest.contains("hunter2"));
}

#[test]
fn no_profile_uses_documented_defaults() {
    let p = TestProject::new();
    p.model("m", "select 1 as a from {{ this }}");
    let c = p.compile();
    assert_eq!(c.project.target.name, "default");
    assert_eq!(
        c.model("m").unwrap().relation.to_string(),
        "ANALYTICS.PUBLIC.m"
    );
}

#[test]
fn context_functions() {
    let p = TestProject::new();
    p.file("models/sources.yml", "version: 2\nsources:\n  - name: raw\n    database: RAW_DB\n    schema: SEGMENT\n    tables:\n      - name: tracks\n        identifier: TRACKS_V2\n");
    p.model(
        "ctx",
        "{{ config(materialized='table', tags=['a'], alias='context_model', owner='crm-team') }}\n\
         {%- set cols = adapter.get_columns_in_relation(ref('high_level_customer_journey')) -%}\n\
         select\n  '{{ cols | map(attribute='name') | join(',') }}' as names,\n  '{{ cols[2].dtype }}/{{ cols[2].data_type }}/{{ cols[0].column }}' as t,\n  '{{ this }}' as this_rel,\n  '{{ this.identifier }}' as ident,\n  {{ is_incremental() }} as inc,\n  '{{ env_var('CIO_SQL_IT_UNSET', 'dflt') }}' as env,\n  '{{ var('missing', 'fallback') }}' as v,\n  '{{ {'a': 1}.get('a') }}{{ {'k': 2}.items() | list | length }}' as pycompat\nfrom {{ source('raw', 'tracks') }}\n",
    );
    let c = p.compile();
    let m = c.model("ctx").unwrap();
    assert!(m.diagnostics.is_empty(), "{}", render_all(&m.diagnostics));
    let sql = m.sql().unwrap();
    assert!(
        sql.contains("'entity_id,state_value,is_current' as names"),
        "{sql}"
    );
    assert!(sql.contains("'BOOLEAN/BOOLEAN/entity_id' as t"), "{sql}");
    assert!(
        sql.contains("'ANALYTICS.PUBLIC.context_model' as this_rel"),
        "{sql}"
    );
    assert!(sql.contains("'context_model' as ident"), "{sql}");
    assert!(sql.contains("False as inc"), "{sql}");
    assert!(
        sql.contains("'dflt' as env") && sql.contains("'fallback' as v"),
        "{sql}"
    );
    assert!(sql.contains("'11' as pycompat"), "{sql}");
    assert!(sql.contains("from RAW_DB.SEGMENT.TRACKS_V2"), "{sql}");
    assert_eq!(m.config.materialized(), "table");
    assert_eq!(m.config.alias(), Some("context_model"));
    assert_eq!(
        m.config.values["owner"], "crm-team",
        "unknown config keys are kept"
    );
    assert_eq!(
        m.relations,
        vec![
            "ANALYTICS.NEXUS.high_level_customer_journey",
            "RAW_DB.SEGMENT.TRACKS_V2"
        ]
    );
}

#[test]
fn context_errors_have_codes_and_help() {
    let p = TestProject::new();
    p.model("undef_var", "select {{ var('nope') }}");
    p.model(
        "raise",
        "{% if true %}{{ exceptions.raise_compiler_error('orders need an owner') }}{% endif %}",
    );
    p.model(
        "bad_ref",
        "select * from {{ ref('high_level_customer_jorney') }}",
    );
    p.model("bad_source", "select * from {{ source('raw', 'nothing') }}");
    p.model(
        "bad_env",
        "select '{{ env_var('CIO_SQL_IT_SURELY_UNSET') }}'",
    );
    p.model("unknown_macro", "select {{ nexus.customer_io_identifi() }}");
    p.model("jinja_syntax", "select 1\nfrom {{ ref('x' }}\n");
    p.model("unterminated", "select '{{ 'abc }}'");
    p.model("undefined_fn", "select {{ mystery() }}");
    p.model("sql_syntax", "select a,\n  b c d\nfrom t\n");
    p.model("not_select", "delete from t");
    p.model("empty", "{# nothing #}\n");
    p.model(
        "table_kind",
        "{{ config(materialized='snapshot') }} select 1 as a",
    );
    let c = p.compile();
    let code = |name: &str| {
        let m = c.model(name).unwrap();
        assert_eq!(m.status, ModelStatus::Error, "{name}");
        assert!(m.sql().is_none() || m.diagnostics.iter().any(|d| d.is_error()));
        m.diagnostics.iter().find(|d| d.is_error()).unwrap().clone()
    };
    assert_eq!(code("undef_var").code, "CIO107");
    let raise = code("raise");
    assert_eq!(
        (raise.code.id(), raise.message.as_str()),
        ("CIO105", "orders need an owner")
    );
    let bad_ref = code("bad_ref");
    assert_eq!(bad_ref.code, "CIO111");
    assert!(
        bad_ref
            .help
            .unwrap()
            .contains("did you mean `high_level_customer_journey`")
    );
    assert_eq!(code("bad_source").code, "CIO112");
    assert_eq!(code("bad_env").code, "CIO108");
    let unknown = code("unknown_macro");
    assert_eq!(unknown.code, "CIO103");
    assert!(
        unknown
            .help
            .unwrap()
            .contains("did you mean nexus.customer_io_identify")
    );
    let syntax = code("jinja_syntax");
    assert_eq!((syntax.code.id(), syntax.line), ("CIO100", Some(2)));
    assert_eq!(code("unterminated").code, "CIO100");
    assert_eq!(code("undefined_fn").code, "CIO103");
    let sql = code("sql_syntax");
    assert_eq!((sql.code.id(), sql.line), ("CIO150", Some(2)));
    assert!(sql.message.contains("does not parse"), "{}", sql.message);
    assert_eq!(code("not_select").code, "CIO152");
    assert_eq!(code("empty").code, "CIO151");
    assert_eq!(code("table_kind").code, "CIO009");
    snapshots(|| {
        for name in [
            "raise",
            "bad_ref",
            "jinja_syntax",
            "sql_syntax",
            "unknown_macro",
        ] {
            insta::assert_snapshot!(
                format!("error_{name}"),
                render_all(&c.model(name).unwrap().diagnostics)
            );
        }
    });
}

#[test]
fn project_macros_are_callable_and_override_nexus() {
    let p = TestProject::new();
    p.file("macros/util.sql", "{% macro cents(col) %}({{ col }} * 100){% endmacro %}\n{% macro twice(x) %}{{ cents(x) }} + {{ cents(x) }}{% endmacro %}");
    p.file(
        "macros/override.sql",
        "{% macro customer_io_identify(entity_type='person') %}SELECT 'overridden {{ entity_type }}' AS \"userId\"{% endmacro %}",
    );
    p.model("m", "select {{ twice('amount') }} as v");
    p.model(
        "people",
        "{{ nexus.customer_io_identify(entity_type='lead') }}",
    );
    let c = p.compile();
    assert_eq!(
        c.model("m").unwrap().sql().as_deref(),
        Some("select (amount * 100) + (amount * 100) as v\n")
    );
    assert_eq!(
        c.model("people").unwrap().sql().as_deref(),
        Some("SELECT 'overridden lead' AS \"userId\"\n")
    );
}

#[test]
fn broken_macro_file_is_reported_with_its_line() {
    let p = TestProject::new();
    p.file(
        "macros/broken.sql",
        "{% macro ok() %}1{% endmacro %}\n{% macro bad( %}\n",
    );
    p.model("m", "select 1 as a");
    let err = p.compile_err();
    assert_eq!(err.code, "CIO100");
    assert_eq!(
        err.file.as_deref(),
        Some(std::path::Path::new("macros/broken.sql"))
    );
    assert_eq!(err.line, Some(2));
}

#[test]
fn cycles_print_the_whole_cycle() {
    let p = TestProject::new();
    p.model("a", "select * from {{ ref('c') }}");
    p.model("b", "select * from {{ ref('a') }}");
    p.model("c", "select * from {{ ref('b') }}");
    p.model("d", "select 1 as x");
    let c = p.compile();
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code == "CIO011")
        .expect("cycle error");
    for n in ["a", "b", "c"] {
        assert!(d.message.contains(n), "{}", d.message);
    }
    assert_eq!(d.message.matches(" -> ").count(), 3, "{}", d.message);
    assert_eq!(c.model("d").unwrap().status, ModelStatus::Success);
    assert!(!c.succeeded());
}

#[test]
fn selection_and_manifest() {
    let p = TestProject::new();
    p.file(
        "dbt_project.yml",
        "name: test_project\nmodels:\n  test_project:\n    sync:\n      +tags: [cio]\n",
    );
    p.model("base", "select 1 as a");
    p.model("sync/people", "select * from {{ ref('base') }}");
    p.model("sync/events", "select * from {{ ref('people') }}");
    p.model("other", "select 2 as b");
    let select = |s: &[&str], e: &[&str]| {
        let opts = CompileOptions {
            select: s.iter().map(|x| x.to_string()).collect(),
            exclude: e.iter().map(|x| x.to_string()).collect(),
            write: false,
            ..p.options()
        };
        compile(&opts).unwrap().selected
    };
    assert_eq!(select(&["+events"], &[]), vec!["base", "people", "events"]);
    assert_eq!(select(&["base+"], &["events"]), vec!["base", "people"]);
    assert_eq!(select(&["tag:cio"], &[]), vec!["people", "events"]);
    assert_eq!(select(&["path:models/sync"], &[]), vec!["people", "events"]);
    let opts = CompileOptions {
        select: vec!["peple".into()],
        ..p.options()
    };
    let err = compile(&opts).unwrap_err();
    assert!(err.help.unwrap().contains("`people`"));

    let c = p.compile();
    assert!(c.succeeded());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("target/manifest.json")).unwrap())
            .unwrap();
    let events = &manifest["nodes"]["model.test_project.events"];
    assert_eq!(
        events["depends_on"]["nodes"][0],
        "model.test_project.people"
    );
    assert_eq!(
        events["compiled_path"],
        "target/compiled/models/sync/events.sql"
    );
    assert_eq!(events["tags"][0], "cio");
    assert_eq!(
        manifest["child_map"]["model.test_project.base"][0],
        "model.test_project.people"
    );
    assert_eq!(
        std::fs::read_to_string(p.path("target/compiled/models/sync/events.sql")).unwrap(),
        "select * from ANALYTICS.PUBLIC.people\n"
    );
}

#[test]
fn bad_project_files_are_clear() {
    let p = TestProject::new();
    p.file("dbt_project.yml", "name: [unclosed\n");
    let err = p.compile_err();
    assert_eq!((err.code.id(), err.line), ("CIO001", Some(1)));
    assert_eq!(
        err.file.as_deref(),
        Some(std::path::Path::new("dbt_project.yml"))
    );

    let p = TestProject::new();
    p.file(
        "catalog.yml",
        "relations:\n  - name: x\n    columns:\n      - {name: a, dtype: TEXT}\n",
    );
    let err = p.compile_err();
    assert_eq!((err.code.id(), err.line), ("CIO003", Some(4)));

    let p = TestProject::new();
    p.file("profiles.yml", "test_project:\n  outputs: [\n");
    let err = p.compile_err();
    assert_eq!(err.code, "CIO005");

    let empty = tempfile::tempdir().unwrap();
    let err = compile(&CompileOptions {
        load: cio_sql::project::LoadOptions {
            project_dir: empty.path().into(),
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.code, "CIO001");
    assert!(err.help.unwrap().contains("--project-dir"));
}

#[test]
fn example_project_compiles_and_matches_snapshots() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let c = compile(&CompileOptions {
        load: cio_sql::project::LoadOptions {
            project_dir: root.to_path_buf(),
            ..Default::default()
        },
        write: false,
        ..Default::default()
    })
    .unwrap();
    for m in &c.models {
        assert!(
            m.diagnostics.is_empty(),
            "{}: {}",
            m.name,
            render_all(&m.diagnostics)
        );
    }
    assert!(c.succeeded());
    snapshots(|| {
        for m in &c.models {
            insta::assert_snapshot!(
                format!(
                    "example__{}",
                    m.path.replace('/', "__").trim_end_matches(".sql")
                ),
                m.sql().unwrap()
            );
        }
    });
}
