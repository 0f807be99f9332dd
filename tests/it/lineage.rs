//! Output columns of every model at compile time: the manifest,
//! `adapter.get_columns_in_relation` on a model of the project, the
//! unresolved-columns warning, and `cio-sql lineage` (snapshots of every
//! example sync model, text and JSON).

use crate::support::copy_dir;

use crate::support::{TestProject, render_all, snapshots};
use cio_sql::analysis::Transform;
use cio_sql::compile::{CompileOptions, ModelStatus};
use cio_sql::project::LoadOptions;
use cio_sql::reports::ReportError;
use cio_sql::reports::lineage::{SourceKind, compile_with_catalog, lineage, render_text};

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example_options() -> CompileOptions {
    CompileOptions {
        load: LoadOptions {
            project_dir: repo(),
            profiles_dir: Some(repo()),
            ..LoadOptions::default()
        },
        ..CompileOptions::default()
    }
}

// ---------------------------------------------------------------------------
// Columns of models, at compile time

#[test]
fn a_model_introspects_an_upstream_model_without_a_warehouse() {
    let p = TestProject::new();
    p.model(
        "people",
        "SELECT\n    user_id AS \"userId\",\n    email AS \"email\",\n    TO_TIMESTAMP_NTZ(_updated_at) AS \"timestamp\",\n    first_name\nFROM {{ ref('nexus_entities') }}",
    );
    p.model(
        "copy",
        "SELECT\n{%- for c in adapter.get_columns_in_relation(ref('people')) %}\n    {{ c.quoted }} AS {{ adapter.quote(c.name ~ '_' ~ c.dtype) }}{{ ',' if not loop.last }}\n{%- endfor %}\nFROM {{ ref('people') }}",
    );
    let sql = p.sql("copy");
    assert_eq!(
        sql,
        "SELECT\n    \"userId\" AS \"userId_VARCHAR\",\n    \"email\" AS \"email_VARCHAR\",\n    \"timestamp\" AS \"timestamp_TIMESTAMP_NTZ\",\n    FIRST_NAME AS \"FIRST_NAME_VARCHAR\"\nFROM ANALYTICS.PUBLIC.people\n"
    );
    // The downstream model's own columns are known through the upstream's.
    let c = p.compile();
    let copy = c.model("copy").unwrap();
    let copy_columns = copy.columns();
    let names: Vec<&str> = copy_columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "userId_VARCHAR",
            "email_VARCHAR",
            "timestamp_TIMESTAMP_NTZ",
            "FIRST_NAME_VARCHAR"
        ]
    );
    assert_eq!(
        copy_columns[2].data_type.as_deref(),
        Some("TIMESTAMP_NTZ"),
        "the type comes through the upstream model"
    );
}

#[test]
fn star_over_an_upstream_model_expands_its_columns() {
    let p = TestProject::new();
    p.model(
        "people",
        "SELECT user_id AS \"userId\", email FROM {{ ref('nexus_entities') }}",
    );
    p.model("everyone", "SELECT p.* FROM {{ ref('people') }} AS p");
    let c = p.compile();
    let m = c.model("everyone").unwrap();
    assert!(m.diagnostics.is_empty(), "{}", render_all(&m.diagnostics));
    let columns = m.columns();
    let cols: Vec<(&str, bool)> = columns
        .iter()
        .map(|c| (c.name.as_str(), c.quoted))
        .collect();
    assert_eq!(cols, [("userId", true), ("EMAIL", false)]);
    assert_eq!(columns[0].lineage[0].relation, "ANALYTICS.PUBLIC.people");
    assert_eq!(columns[0].lineage[0].column, "userId");
}

#[test]
fn unresolved_columns_say_why_and_fall_back_to_the_catalog() {
    let p = TestProject::new();
    // A relation the catalog does not know: no columns, a warning.
    p.model("raw_copy", "SELECT * FROM RAW.STRIPE.CUSTOMERS");
    // A model that is also in the catalog (built earlier): its columns
    // come from there.
    p.file(
        "catalog.yml",
        &format!(
            "{}  - name: built\n    schema: PUBLIC\n    columns:\n      - {{name: id, data_type: NUMBER}}\n",
            crate::support::ENTITIES
        ),
    );
    p.model("built", "SELECT * FROM RAW.STRIPE.CHARGES");
    // Downstream of a model without columns: the warning names it.
    p.model("after", "SELECT * FROM {{ ref('raw_copy') }}");
    let c = p.compile();
    assert!(c.succeeded(), "warnings only");

    let raw = c.model("raw_copy").unwrap();
    assert!(raw.columns().is_empty());
    assert_eq!(
        raw.columns_unresolved.as_deref(),
        Some("cannot expand `*`: the columns of RAW.STRIPE.CUSTOMERS are not known")
    );
    let d = &raw.diagnostics[0];
    assert_eq!(d.code, "CIO160");
    assert!(!d.is_error());
    assert_eq!(
        d.file.as_deref(),
        Some(std::path::Path::new("models/raw_copy.sql"))
    );
    assert!(
        d.help
            .as_deref()
            .unwrap()
            .starts_with("add RAW.STRIPE.CUSTOMERS to the catalog (catalog.yml)")
    );

    let built = c.model("built").unwrap();
    let built_columns = built.columns();
    assert_eq!(built_columns.len(), 1);
    assert_eq!(built_columns[0].name, "ID");
    assert!(matches!(
        &built_columns[0].transform,
        Transform::Unknown { reason } if reason.starts_with("read from the catalog: cannot expand")
    ));

    let after = c.model("after").unwrap();
    assert!(
        after.diagnostics[0]
            .help
            .as_deref()
            .unwrap()
            .starts_with("the columns of model raw_copy are not known"),
        "{}",
        render_all(&after.diagnostics)
    );

    // --warn-error makes the warning fail the model.
    let strict = cio_sql::pipeline::compile(&CompileOptions {
        warn_error: true,
        ..p.options()
    })
    .unwrap();
    assert_eq!(strict.model("raw_copy").unwrap().status, ModelStatus::Error);
}

#[test]
fn the_manifest_holds_the_columns_of_every_example_model() {
    let dir = tempfile::tempdir().unwrap();
    for entry in ["dbt_project.yml", "profiles.yml", "catalog.yml"] {
        std::fs::copy(repo().join(entry), dir.path().join(entry)).unwrap();
    }
    copy_dir(&repo().join("models"), &dir.path().join("models"));
    let c = cio_sql::pipeline::compile(&CompileOptions {
        load: LoadOptions {
            project_dir: dir.path().to_path_buf(),
            profiles_dir: Some(dir.path().to_path_buf()),
            ..LoadOptions::default()
        },
        write: true,
        ..CompileOptions::default()
    })
    .unwrap();
    assert!(c.succeeded());
    let text = std::fs::read_to_string(dir.path().join("target/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let nodes = manifest["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), 16);
    for (id, node) in nodes {
        let columns = node["columns"].as_array().unwrap();
        assert!(!columns.is_empty(), "{id} has no columns");
        assert!(node.get("columns_unresolved").is_none(), "{id}");
        for col in columns {
            assert!(
                col["name"].is_string() && col["quoted"].is_boolean(),
                "{col}"
            );
            assert!(col["transform"]["kind"].is_string(), "{col}");
            assert!(col["lineage"].is_array(), "{col}");
        }
    }
    let persons = &nodes["model.cio_sql_example.customer_io_persons"]["columns"];
    assert_eq!(
        persons[1],
        serde_json::json!({
            "name": "timestamp",
            "data_type": "TIMESTAMP_NTZ",
            "quoted": true,
            "transform": {"kind": "wrapped", "function": "TO_TIMESTAMP_NTZ"},
            "lineage": [{"relation": "ANALYTICS.NEXUS.nexus_entities", "column": "_UPDATED_AT"}]
        })
    );
}

// ---------------------------------------------------------------------------
// cio-sql lineage

#[test]
fn lineage_of_every_example_sync_model() {
    let (c, catalog) = compile_with_catalog(&example_options()).unwrap();
    let sync_models: Vec<&str> = c
        .models
        .iter()
        .filter(|m| crate::support::cio_sync(&m.config).is_some())
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(sync_models.len(), 16);
    snapshots(|| {
        for name in sync_models {
            let l = lineage(&c, catalog.as_ref(), name).unwrap();
            // Every column is explained: no unknown part in the examples.
            for col in &l.columns {
                assert!(
                    !matches!(col.transform, Transform::Unknown { .. }),
                    "{name}.{}",
                    col.name
                );
                assert!(
                    col.sources.iter().all(|s| s.kind == SourceKind::Catalog),
                    "{name}.{}",
                    col.name
                );
            }
            insta::assert_snapshot!(format!("lineage__{name}"), render_text(&l));
            insta::assert_snapshot!(
                format!("lineage__{name}__json"),
                serde_json::to_string_pretty(&l).unwrap()
            );
        }
    });
}

#[test]
fn lineage_follows_refs_into_upstream_models() {
    let p = TestProject::new();
    p.model(
        "people",
        "{{ config(cio_sync='identify') }}\nSELECT\n    user_id AS \"userId\",\n    LOWER(TRIM(email)) AS \"email\",\n    TO_TIMESTAMP_NTZ(_updated_at) AS \"timestamp\",\n    status\nFROM {{ ref('nexus_entities') }}",
    );
    p.model(
        "journeys",
        "SELECT entity_id, MAX(state_value) AS \"state\"\nFROM {{ ref('high_level_customer_journey') }}\nGROUP BY entity_id",
    );
    p.model(
        "people_plus",
        "{{ config(cio_sync='identify') }}\nWITH p AS (SELECT * FROM {{ ref('people') }})\nSELECT\n    p.\"userId\",\n    p.\"email\",\n    p.\"timestamp\",\n    LOWER(p.status) AS \"status\",\n    j.\"state\" AS \"journey_state\",\n    1 AS \"version\"\nFROM p\nLEFT JOIN {{ ref('journeys') }} AS j ON j.entity_id = p.\"userId\"\nLEFT JOIN RAW.CRM.NOTES AS n ON n.user_id = p.\"userId\"",
    );
    let (c, catalog) = compile_with_catalog(&p.options()).unwrap();
    let l = lineage(&c, catalog.as_ref(), "people_plus").unwrap();
    let by_name = |n: &str| l.columns.iter().find(|c| c.name == n).unwrap();

    let user_id = by_name("userId");
    assert_eq!(user_id.model_transform, Transform::Copied);
    assert_eq!(user_id.transform, Transform::Renamed);
    let upstream = &user_id.sources[0];
    assert_eq!(upstream.kind, SourceKind::Model);
    assert_eq!(upstream.model.as_deref(), Some("people"));
    assert_eq!(
        upstream.sources[0].relation,
        "ANALYTICS.NEXUS.nexus_entities"
    );
    assert_eq!(upstream.sources[0].column, "USER_ID");
    assert_eq!(upstream.sources[0].kind, SourceKind::Catalog);

    assert_eq!(
        by_name("email").transform,
        Transform::Wrapped {
            function: "LOWER".into()
        }
    );
    assert_eq!(
        by_name("journey_state").transform,
        Transform::Aggregated {
            function: "MAX".into()
        }
    );
    assert_eq!(by_name("version").transform, Transform::Constant);
    snapshots(|| {
        insta::assert_snapshot!("lineage__through_refs", render_text(&l));
    });
}

#[test]
fn lineage_marks_what_it_cannot_follow_as_unknown() {
    let p = TestProject::new();
    p.model("raw_people", "SELECT * FROM RAW.CRM.PEOPLE");
    p.model(
        "people",
        "{{ config(cio_sync='identify') }}\nSELECT r.id AS \"userId\", r.email AS \"email\"\nFROM {{ ref('raw_people') }} AS r",
    );
    let (c, catalog) = compile_with_catalog(&p.options()).unwrap();
    let l = lineage(&c, catalog.as_ref(), "people").unwrap();
    let user_id = &l.columns[0];
    assert!(matches!(
        &user_id.transform,
        Transform::Unknown { reason } if reason.starts_with("the columns of model raw_people are not known")
    ));
    assert_eq!(user_id.sources[0].kind, SourceKind::Model);
    assert!(user_id.sources[0].unknown.is_some());
    // A model whose own columns are unknown has no lineage, only why.
    let raw = lineage(&c, catalog.as_ref(), "raw_people").unwrap();
    assert!(raw.columns.is_empty());
    assert!(
        render_text(&raw)
            .contains("The output columns cannot be worked out from the SQL: cannot expand `*`")
    );
}

#[test]
fn lineage_of_an_unknown_model_suggests_names() {
    let (c, catalog) = compile_with_catalog(&example_options()).unwrap();
    let err = lineage(&c, catalog.as_ref(), "customer_io_person").unwrap_err();
    assert!(matches!(err, ReportError::NoSuchModel(_)), "{err:?}");
    assert_eq!(err.diagnostics()[0].code, "CIO145");
    assert!(
        err.diagnostics()[0]
            .help
            .as_deref()
            .unwrap()
            .starts_with("did you mean `customer_io_persons`")
    );
}

fn cio_sql() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("cio-sql").expect("the binary");
    cmd.env("NO_COLOR", "1").env_remove("DBT_PROFILES_DIR");
    cmd
}

#[test]
fn cli_lineage_text_json_and_exit_codes() {
    let run = |args: &[&str]| {
        cio_sql()
            .arg("lineage")
            .args(args)
            .arg("--project-dir")
            .arg(repo())
            .arg("--profiles-dir")
            .arg(repo())
            .output()
            .unwrap()
    };
    let (c, catalog) = compile_with_catalog(&example_options()).unwrap();
    let expected = lineage(&c, catalog.as_ref(), "customer_io_events").unwrap();

    let text = run(&["customer_io_events"]);
    assert_eq!(text.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(text.stdout).unwrap(),
        render_text(&expected)
    );

    let json = run(&["customer_io_events", "--format", "json"]);
    assert_eq!(json.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["model"], "customer_io_events");
    assert_eq!(value["sync_type"], "track");
    assert_eq!(value["columns"][1]["name"], "timestamp");
    assert_eq!(
        value["columns"][1]["sources"][0]["relation"],
        "ANALYTICS.NEXUS.nexus_events"
    );

    let unknown = run(&["customer_io_event"]);
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("error[CIO145]") && stderr.contains("did you mean `customer_io_events`"),
        "{stderr}"
    );
    assert!(unknown.stdout.is_empty());
}
