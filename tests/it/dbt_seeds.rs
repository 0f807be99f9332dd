//! Seeds are nodes (issue 14, item 1): `ref()` of a seed, its columns known
//! offline, dbt's `seeds:` config, the DAG, the manifest, `ls`, `lineage`,
//! selection, `build` loading them first, and the bad-input cases, over the
//! dbt-style fixture project `fixtures/dbt_shop`.

use crate::support::emulator_cli::{self, cio, connect, query, records, run_results};
use crate::support::{TestProject, copy_dir, fakesnow, render_all};
use assert_cmd::Command;
use cio_sql::compile::{CompileOptions, ModelStatus};
use cio_sql::pipeline::compile;
use cio_sql::project::LoadOptions;
use std::path::Path;

/// A copy of the fixture project in a temporary folder.
pub fn shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/dbt_shop");
    copy_dir(&fixture, dir.path());
    dir
}

pub fn options(dir: &Path) -> CompileOptions {
    CompileOptions {
        load: LoadOptions {
            project_dir: dir.to_path_buf(),
            profiles_dir: Some(dir.to_path_buf()),
            ..Default::default()
        },
        write: true,
        use_cache: true,
        ..Default::default()
    }
}

/// Runs the binary in `dir` (offline), returning (exit code, stdout, stderr).
pub fn offline(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("cio-sql")
        .unwrap()
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .arg("--profiles-dir")
        .arg(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ref_resolves_to_the_seed_with_its_configured_relation() {
    let dir = shop();
    let c = compile(&options(dir.path())).unwrap();
    assert!(c.succeeded(), "{}", render_all(&c.diagnostics));
    let sql = |m: &str| c.model(m).unwrap().sql().unwrap();
    // +schema: raw → the target schema with `_raw`; +alias renames.
    assert!(
        sql("stg_customers").contains("from analytics.shop_raw.raw_customers"),
        "{}",
        sql("stg_customers")
    );
    assert_eq!(
        sql("countries").trim(),
        "select * from analytics.shop_raw.countries"
    );
    let m = c.model("stg_orders").unwrap();
    assert_eq!(m.depends_on, ["raw_orders"]);
    // `+enabled: false` leaves the seed out.
    assert!(c.seed("retired").unwrap().status == ModelStatus::Disabled);
    assert!(!c.dag.names().iter().any(|n| n == "retired"));
}

#[test]
fn seed_columns_are_known_offline_with_types() {
    let dir = shop();
    let c = compile(&options(dir.path())).unwrap();
    let columns = |m: &str| -> Vec<(String, String)> {
        c.model(m)
            .unwrap()
            .columns()
            .into_iter()
            .map(|col| (col.name, col.data_type.unwrap_or_default()))
            .collect()
    };
    // Inferred the way `cio-sql seed` types values; the delimiter is `;`.
    assert_eq!(
        columns("countries"),
        [
            ("CODE".to_string(), "VARCHAR".to_string()),
            ("NAME".into(), "VARCHAR".into())
        ]
    );
    let customers = columns("stg_customers");
    assert_eq!(
        customers,
        [
            ("CUSTOMER_ID".to_string(), "NUMBER".to_string()),
            ("FIRST_NAME".into(), "VARCHAR".into()),
            ("LAST_NAME".into(), "VARCHAR".into()),
            ("SIGNED_UP_AT".into(), "TIMESTAMP_NTZ".into()),
            ("VIP".into(), "BOOLEAN".into()),
        ]
    );
    // +column_types wins over inference (order_id stays text: `0001`).
    let seed = c.seed("raw_orders").unwrap();
    assert_eq!(
        seed.columns,
        [
            ("order_id".to_string(), "varchar(16)".to_string()),
            ("customer_id".into(), "NUMBER(38, 0)".into()),
            ("ordered_on".into(), "DATE".into()),
            ("amount".into(), "number(10, 2)".into()),
        ]
    );
    assert_eq!(
        columns("stg_orders")[0],
        ("ORDER_ID".to_string(), "VARCHAR".to_string())
    );
}

#[test]
fn seeds_are_in_the_dag_selection_manifest_ls_and_lineage() {
    let dir = shop();
    let (code, out, err) = offline(dir.path(), &["compile"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Compiled 4 of 4 selected models (and 3 seeds)"),
        "{out}"
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("target/manifest.json")).unwrap(),
    )
    .unwrap();
    let seed = &manifest["nodes"]["seed.dbt_shop.raw_customers"];
    assert_eq!(seed["resource_type"], "seed");
    assert_eq!(seed["relation_name"], "analytics.shop_raw.raw_customers");
    assert_eq!(seed["tags"], serde_json::json!(["raw"]));
    assert_eq!(
        manifest["parent_map"]["model.dbt_shop.stg_customers"],
        serde_json::json!(["seed.dbt_shop.raw_customers"])
    );
    assert_eq!(
        manifest["child_map"]["seed.dbt_shop.raw_customers"],
        serde_json::json!(["model.dbt_shop.stg_customers"])
    );

    // `+customers` brings in the seeds it reads, through the staging models.
    let (code, out, _) = offline(dir.path(), &["ls", "-s", "+customers", "--output", "name"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "raw_customers",
            "raw_orders",
            "stg_customers",
            "stg_orders",
            "customers"
        ]
    );
    let (_, out, _) = offline(dir.path(), &["ls"]);
    assert!(
        out.lines()
            .any(|l| l == "country_codes\tseed\tanalytics.shop_raw.countries\traw"),
        "{out}"
    );
    let (code, out, err) = offline(dir.path(), &["lineage", "stg_orders"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("analytics.shop_raw.raw_orders.AMOUNT  (seed raw_orders)"),
        "{out}"
    );
}

#[test]
fn a_changed_seed_header_reaches_the_models_through_the_cache() {
    let dir = shop();
    let c = compile(&options(dir.path())).unwrap();
    assert_eq!(c.model("countries").unwrap().columns().len(), 2);
    std::fs::write(
        dir.path().join("seeds/lookup/country_codes.csv"),
        "code;name;region\nDE;Germany;EU\n",
    )
    .unwrap();
    let c = compile(&options(dir.path())).unwrap();
    let names: Vec<String> = c
        .model("countries")
        .unwrap()
        .columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["CODE", "NAME", "REGION"]);
}

#[test]
fn a_large_seed_is_typed_from_its_first_mebibyte() {
    let p = TestProject::new();
    let mut csv = String::from("id,label\n");
    let row = "123456,abcdefghijklmnopqrstuvwxyz\n";
    while csv.len() <= cio_sql::project::seeds::PREFIX_BYTES + row.len() {
        csv.push_str(row);
    }
    // Past the prefix: a value that is not a number, and a ragged row,
    // which only `cio-sql seed` (which reads every row) sees.
    csv.push_str("not-a-number,x\nragged\n");
    p.file("seeds/big.csv", &csv);
    p.model("reads_big", "select id from {{ ref('big') }}");
    let c = p.compile();
    assert!(c.succeeded(), "{}", render_all(&c.diagnostics));
    assert_eq!(c.seed("big").unwrap().columns[0].1, "NUMBER(38, 0)");
}

#[test]
fn bad_seeds_are_compile_errors_with_file_line_and_fix() {
    // A ragged row.
    let p = TestProject::new();
    p.file("seeds/ragged.csv", "a,b\n1,2\n3\n");
    p.model("reads", "select a from {{ ref('ragged') }}");
    let c = p.compile();
    assert!(!c.succeeded());
    let d = c.diagnostics.iter().find(|d| d.code == "CIO030").unwrap();
    assert_eq!(
        (d.file.as_deref(), d.line),
        (Some(Path::new("seeds/ragged.csv")), Some(3)),
        "{d:?}"
    );
    assert!(
        d.message
            .contains("line 3 has 1 field, but the header names 2 columns")
    );
    assert!(d.help.as_deref().unwrap().contains("as many fields"));

    // A header that names a column twice.
    let p = TestProject::new();
    p.file("seeds/twice.csv", "id,name,ID\n1,a,2\n");
    let c = p.compile();
    let d = c.diagnostics.iter().find(|d| d.code == "CIO030").unwrap();
    assert_eq!(d.line, Some(1));
    assert!(
        d.message.contains("column `ID` is named twice"),
        "{}",
        d.message
    );

    // A seed and a model building one relation.
    let p = TestProject::new();
    p.file(
        "dbt_project.yml",
        "name: test_project\nprofile: test_project\nseeds:\n  test_project:\n    +alias: people\n",
    );
    p.file("seeds/raw_people.csv", "id\n1\n");
    p.model("people", "select 1 as id");
    let c = p.compile();
    let m = c.model("people").unwrap();
    assert_eq!(m.status, ModelStatus::Error);
    let d = m.diagnostics.iter().find(|d| d.code == "CIO041").unwrap();
    assert!(
        d.message
            .contains("the seed seeds/raw_people.csv and the model people (models/people.sql) both build the relation"),
        "{}",
        d.message
    );
    assert!(c.diagnostics.iter().any(|d| d.code == "CIO041"));

    // A seed named like a model.
    let p = TestProject::new();
    p.file("seeds/people.csv", "id\n1\n");
    p.model("people", "select 1 as id");
    let d = p.compile_err();
    assert_eq!(d.code, "CIO040");
    assert!(d.help.unwrap().contains("rename"));

    // A bad `column_types` entry or `delimiter`.
    for (config, what) in [
        (
            "+column_types: {id: \"int; drop table x\"}",
            "not a SQL type name",
        ),
        ("+delimiter: \"::\"", "not one character"),
    ] {
        let p = TestProject::new();
        p.file(
            "dbt_project.yml",
            &format!(
                "name: test_project\nprofile: test_project\nseeds:\n  test_project:\n    {config}\n"
            ),
        );
        p.file("seeds/s.csv", "id\n1\n");
        let c = p.compile();
        let d = c.diagnostics.iter().find(|d| d.code == "CIO042").unwrap();
        assert!(d.message.contains(what), "{}", d.message);
    }
}

#[test]
fn build_loads_the_seeds_with_their_config_before_the_models() {
    let server = fakesnow::shared();
    let dir = shop();
    std::fs::write(
        dir.path().join("profiles.yml"),
        emulator_cli::profiles("C14B_SHOP", &server.base_url())
            .replace("cio_sql_example:", "dbt_shop:"),
    )
    .unwrap();
    let run = cio(dir.path(), &["build"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = run_results(dir.path());
    let ids: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unique_id"].as_str().unwrap())
        .collect();
    // The three seeds load first; then the models and the tests of the
    // `.yml` (a seed's test, a model-level test with `column_name:`).
    assert!(
        ids[..3].iter().all(|i| i.starts_with("seed."))
            && ids[3..].iter().all(|i| !i.starts_with("seed.")),
        "{ids:?}"
    );
    for test in [
        "not_null_raw_orders_amount",
        "orders_have_customers",
        "unique_customers_customer_id",
        "not_null_customers_customer_id",
    ] {
        assert_eq!(
            emulator_cli::result_of(&results, test)["status"],
            "pass",
            "{test}: {ids:?}"
        );
    }
    // dbt_utils.accepted_range is not run, and says so; so is the
    // project's own generic test (macros/generic_tests.sql), whose
    // `{% test %}` block compiles as dbt's macro `test_is_positive`.
    let out = format!("{}\n{}", run.stdout, run.stderr);
    assert!(out.contains("CIO065"), "{out}");
    assert!(
        out.contains("`is_positive` on `raw_orders` is not run: custom generic tests"),
        "{out}"
    );
    let wh = connect(dir.path());
    let rows = records(&query(
        wh.as_ref(),
        "SELECT customer_id, orders, total FROM C14B_SHOP.CUSTOMER_IO.customers ORDER BY 1",
    ));
    assert_eq!(rows.len(), 2, "{rows:?}");
    // `0001` kept as text by +column_types, `;`-separated lookup seed
    // under its alias.
    let orders = records(&query(
        wh.as_ref(),
        "SELECT order_id FROM C14B_SHOP.CUSTOMER_IO_raw.raw_orders ORDER BY 1",
    ));
    assert_eq!(orders[0]["ORDER_ID"], "0001", "{orders:?}");
    let countries = query(
        wh.as_ref(),
        "SELECT code FROM C14B_SHOP.CUSTOMER_IO_raw.countries",
    );
    assert_eq!(countries.rows.len(), 2);
}

/// `build` loads only the seeds its selection needs: the selected ones and
/// those the selected models read, through other models too.
#[test]
fn build_loads_only_the_seeds_the_selection_needs() {
    let server = crate::support::fakesnow::shared();
    let dir = emulator_cli::small_project(
        "SEEDS_NEEDED",
        &server.base_url(),
        &[
            ("over_a", "select x from {{ ref('seed_a') }}"),
            ("top", "select x from {{ ref('over_a') }}"),
            ("over_b", "select y from {{ ref('seed_b') }}"),
        ],
    );
    std::fs::create_dir_all(dir.path().join("seeds")).unwrap();
    std::fs::write(dir.path().join("seeds/seed_a.csv"), "x\n1\n").unwrap();
    std::fs::write(dir.path().join("seeds/seed_b.csv"), "y\n2\n").unwrap();
    let loaded = |select: &str| {
        let run = cio(dir.path(), &["build", "--select", select]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let results = run_results(dir.path());
        let mut seeds: Vec<String> = results["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["unique_id"].as_str().unwrap().starts_with("seed."))
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        seeds.sort();
        seeds
    };
    assert_eq!(loaded("over_a"), ["seed_a"]);
    assert_eq!(loaded("top"), ["seed_a"], "through the unselected over_a");
    assert_eq!(loaded("over_b"), ["seed_b"]);
    assert_eq!(loaded("seed_b"), ["seed_b"]);
}
