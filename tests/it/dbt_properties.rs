//! `.yml` properties (issue 14, item 6): descriptions (with docs blocks and
//! `doc()`), `meta`, `tags`, `config` blocks and columns of models, seeds
//! and sources in the manifest; `tests:`/`data_tests:` entries parsed with
//! their file and line for the data-tests work; over `fixtures/dbt_shop`.

use crate::dbt_seeds::{offline, options, shop};
use crate::support::TestProject;
use cio_sql::pipeline::compile;
use cio_sql::project::properties::DataTest;
use serde_json::{Value, json};

fn manifest(dir: &std::path::Path) -> Value {
    let (code, out, err) = offline(dir, &["compile"]);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&std::fs::read_to_string(dir.join("target/manifest.json")).unwrap())
        .unwrap()
}

#[test]
fn descriptions_meta_config_and_columns_reach_the_manifest() {
    let dir = shop();
    let m = manifest(dir.path());
    let customers = &m["nodes"]["model.dbt_shop.customers"];
    assert_eq!(
        customers["description"],
        "One row per customer, with their orders."
    );
    assert_eq!(customers["meta"], json!({"owner": "data"}));
    assert_eq!(customers["patch_path"], "models/schema.yml");
    // The config block is layered into the model's config.
    assert_eq!(
        customers["config"]["persist_docs"],
        json!({"relation": true})
    );
    assert_eq!(customers["config"]["materialized"], "table");
    assert_eq!(
        customers["column_properties"][0],
        json!({"name": "customer_id", "description": "The customer.", "meta": {}, "tags": []})
    );
    let seed = &m["nodes"]["seed.dbt_shop.raw_orders"];
    assert_eq!(seed["description"], "Orders as exported.");
    assert_eq!(seed["column_properties"][0]["description"], "In euros.");
    // A model without properties has empty ones.
    assert_eq!(m["nodes"]["model.dbt_shop.countries"]["description"], "");
}

#[test]
fn tests_are_kept_with_their_file_and_line() {
    let dir = shop();
    let c = compile(&options(dir.path())).unwrap();
    let props = &c.project.properties;
    let customers = &props.models["customers"].data_tests;
    let brief: Vec<(&str, Option<&str>, usize)> = customers
        .iter()
        .map(|t| (t.test.as_str(), t.column.as_deref(), t.line))
        .collect();
    assert_eq!(
        brief,
        [
            ("unique", Some("customer_id"), 13),
            ("not_null", Some("customer_id"), 14),
            ("dbt_utils.accepted_range", Some("total"), 17),
        ]
    );
    assert_eq!(
        customers[2].arguments,
        json!({"min_value": 0}).as_object().cloned().unwrap()
    );
    assert_eq!(customers[2].config["severity"], "warn");
    let orders: &DataTest = &props.models["stg_orders"].data_tests[0];
    assert_eq!(orders.test, "relationships");
    assert_eq!(orders.name.as_deref(), Some("orders_have_customers"));
    assert_eq!(orders.line, 23);
    assert_eq!(orders.file, "models/schema.yml");
    assert_eq!(orders.arguments["to"], "ref('stg_customers')");
    assert_eq!(orders.arguments["column_name"], "customer_id");
    assert_eq!(orders.config["where"], "amount > 0");
    // A flow list: each entry at the line of its key.
    let seed = &props.seeds["raw_orders"].data_tests[0];
    assert_eq!((seed.test.as_str(), seed.line), ("not_null", 36));
    // In the manifest too.
    let m = manifest(dir.path());
    assert_eq!(
        m["nodes"]["model.dbt_shop.customers"]["data_tests"][1]["line"],
        14
    );
}

#[test]
fn sources_properties_and_tags_and_seed_config_blocks() {
    let p = TestProject::new();
    p.file(
        "models/sources.yml",
        "version: 2\nsources:\n  - name: shop\n    schema: raw\n    tables:\n      - name: carts\n        description: Open carts.\n        columns:\n          - name: id\n            tests: [unique]\n",
    );
    p.file(
        "seeds/props.yml",
        "version: 2\nseeds:\n  - name: codes\n    config:\n      column_types: {code: varchar(3)}\n    tags: [lookup]\n",
    );
    p.file("seeds/codes.csv", "code\n001\n");
    p.file(
        "models/props.yml",
        "models:\n  - name: carts_model\n    tags: [from_yml]\n",
    );
    p.model(
        "carts_model",
        "{{ config(tags=['from_sql']) }}select * from {{ source('shop', 'carts') }} join {{ ref('codes') }} on true",
    );
    let c = p.compile();
    let m = c.model("carts_model").unwrap();
    assert_eq!(m.config.tags(), ["from_yml", "from_sql"]);
    let seed = c.seed("codes").unwrap();
    assert_eq!(
        seed.columns[0].1, "varchar(3)",
        "the yml config block types it"
    );
    assert_eq!(seed.config.tags(), ["lookup"]);
    let source = &c.project.properties.sources[&("shop".to_string(), "carts".to_string())];
    assert_eq!(source.description, "Open carts.");
    assert_eq!(source.data_tests[0].line, 10);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("target/manifest.json")).unwrap())
            .unwrap();
    let s = &manifest["sources"]["source.test_project.shop.carts"];
    assert_eq!(s["description"], "Open carts.");
    assert_eq!(s["schema"], "raw");
}

#[test]
fn bad_properties_are_clear_errors() {
    let p = TestProject::new();
    p.file(
        "models/schema.yml",
        "models:\n  - name: a\n    description: \"{{ doc('custmers') }}\"\n",
    );
    p.file("models/docs.md", "{% docs customers %}x{% enddocs %}");
    let d = p.compile_err();
    assert_eq!(d.code, "CIO046");
    assert!(d.message.contains("doc('custmers') names no docs block"));
    assert_eq!(d.line, Some(3));
    assert!(d.help.unwrap().contains("did you mean `customers`"));

    let p = TestProject::new();
    p.file("models/schema.yml", "models:\n  name: a\n");
    let d = p.compile_err();
    assert_eq!(d.code, "CIO046");
    assert!(
        d.message
            .contains("`models:` in models/schema.yml is not a list")
    );
    assert_eq!(d.line, Some(1));

    let p = TestProject::new();
    p.file("models/schema.yml", "models:\n  - description: x\n");
    let d = p.compile_err();
    assert!(d.message.contains("has no `name:`"), "{}", d.message);
}
