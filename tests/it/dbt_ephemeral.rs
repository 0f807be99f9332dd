//! Ephemeral models (issue 14, item 4): inlined as `__dbt__cte__<name>`
//! CTEs into every model that refs them (nested ones first, each once),
//! seen through by the analysis, never built.

use crate::support::emulator_cli::{cio, connect, query, run_results, small_project};
use crate::support::{TestProject, fakesnow, render_all, snapshots};

/// `base` (ephemeral) ← `named` (ephemeral, refs base) ← `report` (refs
/// both; has a WITH of its own) and `plain` (refs named, no WITH).
fn models() -> [(&'static str, &'static str); 4] {
    [
        (
            "base",
            "{{ config(materialized='ephemeral') }}\nselect 1 as id, 'ann' as name\nunion all select 2, 'bob'\n",
        ),
        (
            "named",
            "{{ config(materialized='ephemeral') }}\nselect id, upper(name) as shout from {{ ref('base') }}\n",
        ),
        (
            "report",
            "with counted as (\n  select count(*) as n from {{ ref('base') }}\n)\nselect named.id, named.shout, counted.n\nfrom {{ ref('named') }} as named cross join counted\n",
        ),
        ("plain", "select shout from {{ ref('named') }}\n"),
    ]
}

fn project() -> TestProject {
    let p = TestProject::new();
    for (name, sql) in models() {
        p.model(name, sql);
    }
    p
}

#[test]
fn ephemerals_are_inlined_once_in_dependency_order() {
    let p = project();
    let c = p.compile();
    assert!(c.succeeded(), "{}", render_all(&c.diagnostics));
    for m in &c.models {
        assert!(
            m.diagnostics.iter().all(|d| !d.is_error()),
            "{}: {}",
            m.name,
            render_all(&m.diagnostics)
        );
    }
    let sql = |name: &str| c.model(name).unwrap().sql().unwrap();
    let report = sql("report");
    assert_eq!(
        report.matches("__dbt__cte__base as (").count(),
        1,
        "{report}"
    );
    assert!(
        report.find("__dbt__cte__base as").unwrap() < report.find("__dbt__cte__named as").unwrap(),
        "{report}"
    );
    // The analysis sees through them: columns with their lineage.
    let names: Vec<String> = c
        .model("report")
        .unwrap()
        .columns()
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["ID", "SHOUT", "N"]);
    // The compiled files are the inlined SQL too.
    let compiled = std::fs::read_to_string(p.path("target/compiled/models/plain.sql")).unwrap();
    assert!(compiled.contains("__dbt__cte__named as ("), "{compiled}");
    // The DAG and manifest know them as dbt does.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("target/manifest.json")).unwrap())
            .unwrap();
    let node = &manifest["nodes"]["model.test_project.named"];
    assert_eq!(node["config"]["materialized"], "ephemeral", "{node}");
    snapshots(|| {
        insta::assert_snapshot!(
            "ephemeral_inlined",
            format!(
                "-- report\n{}\n-- plain\n{}\n-- named (ephemeral)\n{}",
                report,
                sql("plain"),
                sql("named")
            )
        )
    });
}

#[test]
fn a_dynamic_ephemeral_is_a_clear_error() {
    let p = TestProject::new();
    p.file(
        "dbt_project.yml",
        "name: test_project\nprofile: test_project\nvars:\n  how: ephemeral\n",
    );
    p.model(
        "sneaky",
        "{{ config(materialized=var('how')) }}\nselect 1 as id\n",
    );
    p.model("user", "select id from {{ ref('sneaky') }}\n");
    let c = p.compile();
    let d = c.model("sneaky").unwrap().diagnostics.clone();
    assert!(d.iter().any(|d| d.code == "CIO051"), "{}", render_all(&d));
}

#[test]
fn ephemerals_are_never_built() {
    let server = fakesnow::shared();
    let dir = small_project("EPH_RUN", &server.base_url(), &models());
    let run = cio(dir.path(), &["build"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = run_results(dir.path());
    let names: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"report") && !names.contains(&"base") && !names.contains(&"named"),
        "{names:?}"
    );
    let wh = connect(dir.path());
    let rows = query(
        wh.as_ref(),
        "SELECT id, shout, n FROM EPH_RUN.CUSTOMER_IO.report ORDER BY id",
    );
    assert_eq!(
        serde_json::to_string(&rows.rows).unwrap(),
        r#"[[1,"ANN",2],[2,"BOB",2]]"#,
        "{:?}",
        rows.rows
    );
    let objects = query(wh.as_ref(), "SHOW OBJECTS IN SCHEMA EPH_RUN.CUSTOMER_IO");
    let name = objects.column_index("name").unwrap();
    let built: Vec<String> = objects
        .rows
        .iter()
        .map(|r| r[name].as_str().unwrap_or_default().to_lowercase())
        .collect();
    assert!(
        !built.iter().any(|n| n == "base" || n == "named"),
        "{built:?}"
    );
}
