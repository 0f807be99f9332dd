//! dbt's selectors (issue 14, item 5; issue 15: the empty selection and
//! "did you mean"): methods, graph operators, `state:` with `--state DIR`,
//! and `ls --output`/`--resource-type` (item 8), over `fixtures/dbt_shop`.

use crate::dbt_seeds::{offline, options, shop};
use cio_sql::compile::Compilation;
use cio_sql::diagnostics::Diagnostic;
use cio_sql::pipeline::compile;
use std::path::Path;

fn selected(dir: &Path, select: &[&str], exclude: &[&str]) -> Vec<String> {
    let c = compiled(dir, select, exclude).unwrap();
    c.selected_nodes.clone()
}

#[allow(clippy::result_large_err)]
fn compiled(dir: &Path, select: &[&str], exclude: &[&str]) -> Result<Compilation, Diagnostic> {
    let mut opts = options(dir);
    opts.select = select.iter().map(|s| s.to_string()).collect();
    opts.exclude = exclude.iter().map(|s| s.to_string()).collect();
    opts.write = false;
    compile(&opts)
}

fn error(dir: &Path, select: &str) -> Diagnostic {
    compiled(dir, &[select], &[]).expect_err(select)
}

#[test]
fn dbt_methods_and_graph_operators() {
    let dir = shop();
    let d = dir.path();
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["config.materialized:view"],
            &[],
            &["stg_customers", "stg_orders"],
        ),
        (
            &["config.materialized:seed"],
            &[],
            &["country_codes", "raw_customers", "raw_orders"],
        ),
        (
            &["config.column_types.order_id:varchar(16)"],
            &[],
            &["raw_orders"],
        ),
        (
            &["config.tags:raw", "config.schema:nope"],
            &["raw_*"],
            &["country_codes"],
        ),
        (&["fqn:staging"], &[], &["stg_customers", "stg_orders"]),
        (&["staging"], &[], &["stg_customers", "stg_orders"]),
        (&["fqn:dbt_shop.lookup.*"], &[], &["country_codes"]),
        (
            &["fqn:*"],
            &["resource_type:model"],
            &["country_codes", "raw_customers", "raw_orders"],
        ),
        (
            &["resource_type:seed,tag:raw"],
            &["lookup"],
            &["raw_customers", "raw_orders"],
        ),
        (&["file:customers.sql"], &[], &["customers"]),
        (&["models/staging"], &[], &["stg_customers", "stg_orders"]),
        (&["path:seeds/lookup"], &[], &["country_codes"]),
        (
            &["package:dbt_shop,resource_type:model"],
            &["staging"],
            &["countries", "customers"],
        ),
        (
            &["@stg_orders"],
            &[],
            &[
                "raw_customers",
                "raw_orders",
                "stg_customers",
                "stg_orders",
                "customers",
            ],
        ),
        (&["raw_orders+1"], &[], &["raw_orders", "stg_orders"]),
        (
            &["1+customers"],
            &[],
            &["stg_customers", "stg_orders", "customers"],
        ),
        (&["+countries"], &[], &["country_codes", "countries"]),
    ];
    for (select, exclude, want) in cases {
        let mut got = selected(d, select, exclude);
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "--select {select:?} --exclude {exclude:?}");
    }
}

#[test]
fn source_selects_the_models_that_read_it() {
    let dir = shop();
    std::fs::write(
        dir.path().join("models/sources.yml"),
        "version: 2\nsources:\n  - name: shopify\n    schema: raw_shopify\n    tables:\n      - name: carts\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("models/carts.sql"),
        "select * from {{ source('shopify', 'carts') }}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("models/cart_rollup.sql"),
        "select count(*) as n from {{ ref('carts') }}",
    )
    .unwrap();
    assert_eq!(
        selected(dir.path(), &["source:shopify+"], &[]),
        ["carts", "cart_rollup"]
    );
    assert_eq!(
        selected(dir.path(), &["source:shopify.carts+1"], &[]),
        ["carts"]
    );
    // The source itself is not a node cio-sql builds: nothing, with a warning.
    let c = compiled(dir.path(), &["source:shopify"], &[]).unwrap();
    assert!(c.selected_nodes.is_empty());
    assert!(c.diagnostics.iter().any(|d| d.code == "CIO044"));
}

#[test]
fn unknown_methods_and_values_say_so_and_suggest() {
    let dir = shop();
    let d = error(dir.path(), "tagg:raw");
    assert_eq!(d.code, "CIO043");
    assert!(
        d.message.contains("`tagg` is not a selector method"),
        "{}",
        d.message
    );
    let help = d.help.unwrap();
    assert!(
        help.starts_with("did you mean `tag`? The methods are: fqn, tag, path"),
        "{help}"
    );
    let d = error(dir.path(), "test_name:unique");
    assert!(
        d.message
            .contains("does not support dbt's `test_name:` method")
    );
    let d = error(dir.path(), "resource_type:sed");
    assert_eq!(d.code, "CIO043");
    assert!(d.help.unwrap().contains("did you mean `seed`"));
    let d = error(dir.path(), "state:modifed");
    assert!(d.help.unwrap().contains("did you mean `modified`"));
    let d = error(dir.path(), "@stg_orders+");
    assert_eq!(d.code, "CIO010");
    // A bare name that names nothing stays an error, with the nodes close to it.
    let d = error(dir.path(), "stg_order");
    assert_eq!(d.code, "CIO010");
    assert!(d.help.unwrap().contains("`stg_orders`"));
    let d = error(dir.path(), "raw_customer");
    assert!(
        d.help.unwrap().contains("`raw_customers`"),
        "seeds are suggested too"
    );
}

#[test]
fn an_empty_selection_warns_with_the_spec_that_matched_nothing() {
    let dir = shop();
    let c = compiled(dir.path(), &["tag:nope"], &[]).unwrap();
    assert!(c.selected_nodes.is_empty());
    let d = c.diagnostics.iter().find(|d| d.code == "CIO044").unwrap();
    assert!(
        d.message
            .contains("`tag:nope` does not match any enabled node")
    );
    // Only the part of an intersection that matched nothing is named.
    let c = compiled(dir.path(), &["tag:raw,config.materialized:nope"], &[]).unwrap();
    let warned: Vec<&str> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == "CIO044")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("config.materialized:nope"));
    let (code, out, err) = offline(dir.path(), &["compile", "-s", "tag:nope"]);
    assert_eq!(code, 0, "a warning: {out}{err}");
    assert!(err.contains("warning[CIO044]"), "{err}");
    assert!(out.contains("Nothing to do"), "{out}");
    let (code, _, err) = offline(dir.path(), &["compile", "-s", "tag:nope", "--warn-error"]);
    assert_ne!(code, 0, "{err}");
    let (code, _, err) = offline(dir.path(), &["ls", "-s", "tag:nope"]);
    assert_eq!(code, 0);
    assert!(
        err.contains("warning[CIO044]") && err.contains("Nothing to do"),
        "{err}"
    );
}

#[test]
fn state_new_and_modified_compare_with_a_previous_manifest() {
    let dir = shop();
    let d = dir.path();
    let state = tempfile::tempdir().unwrap();
    // No manifest there yet: a clear error with the fix.
    let (code, _, err) = offline(
        d,
        &["ls", "-s", "state:modified", "--state"]
            .iter()
            .copied()
            .chain([state.path().to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error[CIO045]") && err.contains("holds no manifest.json"),
        "{err}"
    );
    assert!(err.contains("copy target/manifest.json aside"), "{err}");
    // Without --state.
    assert_eq!(error(d, "state:new").code, "CIO045");

    let (code, _, err) = offline(d, &["compile"]);
    assert_eq!(code, 0, "{err}");
    std::fs::copy(
        d.join("target/manifest.json"),
        state.path().join("manifest.json"),
    )
    .unwrap();
    let with_state = |select: &str| -> Vec<String> {
        let mut opts = options(d);
        opts.select = vec![select.to_string()];
        opts.state = Some(state.path().to_path_buf());
        opts.write = false;
        let mut names = compile(&opts).unwrap().selected_nodes;
        names.sort();
        names
    };
    assert!(with_state("state:modified").is_empty(), "nothing changed");
    std::fs::write(
        d.join("models/staging/stg_orders.sql"),
        "select order_id, customer_id, amount from {{ ref('raw_orders') }}\n",
    )
    .unwrap();
    std::fs::write(d.join("models/new_model.sql"), "select 1 as x\n").unwrap();
    std::fs::write(
        d.join("seeds/raw_customers.csv"),
        "id,first_name,last_name,signed_up_at,vip\n3,Grace,Hopper,2024-01-02 03:04:05,true\n",
    )
    .unwrap();
    assert_eq!(with_state("state:new"), ["new_model"]);
    assert_eq!(
        with_state("state:modified"),
        ["new_model", "raw_customers", "stg_orders"]
    );
    assert_eq!(
        with_state("state:modified.body"),
        with_state("state:modified")
    );
    assert_eq!(
        with_state("state:modified+"),
        [
            "customers",
            "new_model",
            "raw_customers",
            "stg_customers",
            "stg_orders"
        ]
    );
    // A config change (dbt compares configs other than alias, schema,
    // database and tags).
    let project = std::fs::read_to_string(d.join("dbt_project.yml")).unwrap();
    std::fs::write(
        d.join("dbt_project.yml"),
        project.replace(
            "      +materialized: view\n",
            "      +materialized: table\n",
        ),
    )
    .unwrap();
    assert_eq!(
        with_state("state:modified.configs"),
        ["new_model", "stg_customers", "stg_orders"]
    );
    assert_eq!(with_state("state:modified.relation"), ["new_model"]);
}

#[test]
fn ls_prints_dbts_output_forms_and_filters_by_resource_type() {
    let dir = shop();
    let d = dir.path();
    let ls = |args: &[&str]| -> Vec<String> {
        let (code, out, err) = offline(d, &[&["ls", "-s", "+stg_orders"], args].concat());
        assert_eq!(code, 0, "{err}");
        out.lines().map(str::to_string).collect()
    };
    assert_eq!(
        ls(&["-o", "selector"]),
        ["dbt_shop.raw_orders", "dbt_shop.staging.stg_orders"]
    );
    assert_eq!(ls(&["--output", "name"]), ["raw_orders", "stg_orders"]);
    assert_eq!(
        ls(&["--output", "path"]),
        ["seeds/raw_orders.csv", "models/staging/stg_orders.sql"]
    );
    assert_eq!(
        ls(&["-o", "name", "--resource-type", "seed"]),
        ["raw_orders"]
    );
    assert_eq!(
        ls(&["-o", "name", "--resource-type", "model"]),
        ["stg_orders"]
    );
    assert_eq!(ls(&["-o", "name", "--resource-type", "all"]).len(), 2);
    let json: Vec<serde_json::Value> = ls(&["-o", "json"])
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json[0]["unique_id"], "seed.dbt_shop.raw_orders");
    assert_eq!(json[0]["resource_type"], "seed");
    assert_eq!(json[1]["unique_id"], "model.dbt_shop.stg_orders");
    assert_eq!(
        json[1]["fqn"],
        serde_json::json!(["dbt_shop", "staging", "stg_orders"])
    );
    assert_eq!(
        json[1]["depends_on"]["nodes"],
        serde_json::json!(["seed.dbt_shop.raw_orders"])
    );
    assert_eq!(json[1]["config"]["materialized"], "view");
    let (code, _, err) = offline(d, &["ls", "--resource-type", "snapshots"]);
    assert_eq!(code, 2, "{err}");
}
