//! The catalogue of mistakes a new user makes, writing a project from the
//! README alone (issue 15): each case breaks a project the way a user would,
//! runs `cio-sql compile` (or the command named) and snapshots what the user
//! reads on the terminal. One snapshot per mistake, named `mistakes_<case>`.

use crate::support::{TestProject, snapshots};
use assert_cmd::Command;

/// The example project's full catalog (all five nexus relations).
fn full_catalog() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.yml")).unwrap()
}

fn project() -> TestProject {
    let p = TestProject::new();
    p.file("catalog.yml", &full_catalog());
    p
}

/// Runs `cio-sql <args> --project-dir <p>` and returns what the user sees
/// (stderr then stdout), with the temporary folder replaced by `<project>`
/// and timings by `<t>`.
fn run(p: &TestProject, args: &[&str]) -> String {
    let out = Command::cargo_bin("cio-sql")
        .unwrap()
        .args(args)
        .arg("--project-dir")
        .arg(p.root())
        .env("NO_COLOR", "1")
        .env_remove("SNOWFLAKE_ACCOUNT")
        .env_remove("SNOWFLAKE_USER")
        .env_remove("SNOWFLAKE_PASSWORD")
        .output()
        .unwrap();
    let text = format!(
        "exit: {}\n{}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    normalize(&text, p)
}

fn normalize(text: &str, p: &TestProject) -> String {
    let root = p.root().display().to_string();
    let text = text.replace(&root, "<project>");
    // Timings ("in 12ms", "0.01s") vary run to run.
    let re = regex::Regex::new(r"\b\d+(\.\d+)?\s?(ms|s)\b").unwrap();
    re.replace_all(&text, "<t>").into_owned()
}

fn compile(p: &TestProject) -> String {
    run(p, &["compile"])
}

fn check(name: &str, text: String) {
    snapshots(|| insta::assert_snapshot!(format!("mistakes_{name}"), text));
}

#[test]
fn misspelled_argument_in_a_multi_line_call() {
    let p = project();
    p.model(
        "people",
        "{{ nexus.customer_io_identify(\n    entity_type='person',\n    user_id_colum='user_id',\n    dedupe_column='email',\n    rename_traits={'first_name': 'given_name'}\n) }}\n",
    );
    check("misspelled_argument", compile(&p));
}

#[test]
fn misspelled_column_value_in_a_multi_line_call() {
    let p = project();
    p.model(
        "people",
        "{{ nexus.customer_io_identify(\n    entity_type='person',\n    dedupe_column='emial',\n    ignore_traits=['plan'],\n    rename_traits={'first_name': 'given_name'}\n) }}\n",
    );
    check("misspelled_column_value", compile(&p));
}

#[test]
fn hand_written_sql_names_a_column_no_relation_has() {
    let p = project();
    p.model(
        "balances",
        "{{ config(cio_sync='identify') }}\nselect\n    user_id as \"userId\",\n    acount_balance as \"balance\"\nfrom {{ ref('nexus_entities') }}\n",
    );
    check("unknown_column", compile(&p));
    check(
        "unknown_column_warn_error",
        run(&p, &["compile", "--warn-error"]),
    );
}

#[test]
fn unquoted_identifier_over_a_quoted_mixed_case_column() {
    let p = project();
    p.model(
        "colors",
        "{{ config(cio_sync='identify') }}\nselect\n    user_id as \"userId\",\n    CamelCaseTrait as \"camel\"\nfrom {{ ref('nexus_entities') }}\n",
    );
    check("unquoted_mixed_case_column", compile(&p));
}

#[test]
fn a_macro_internal_column_missing_from_the_catalog() {
    let p = project();
    let catalog = full_catalog().replace(
        "      - {name: entity_type, data_type: VARCHAR(16777216)}\n      - {name: role,",
        "      - {name: role,",
    );
    p.file("catalog.yml", &catalog);
    p.model(
        "customer_io_persons",
        "{{ nexus.customer_io_identify() }}\n",
    );
    p.model(
        "events",
        "{{ nexus.customer_io_track(user_id_column='user_id') }}\n",
    );
    check("missing_internal_column", compile(&p));
}

#[test]
fn the_warehouse_names_the_timestamp_column_differently() {
    let p = project();
    let catalog = full_catalog().replace(
        "      - {name: _updated_at, data_type: TIMESTAMP_NTZ(9)}\n      - {name: _created_at",
        "      - {name: updated_at, data_type: TIMESTAMP_NTZ(9)}\n      - {name: _created_at",
    );
    p.file("catalog.yml", &catalog);
    p.model("people", "{{ nexus.customer_io_identify() }}\n");
    check("renamed_timestamp_column", compile(&p));
    // The fix the help offers works.
    p.model(
        "people",
        "{{ nexus.customer_io_identify(updated_at_column='updated_at') }}\n",
    );
    let out = compile(&p);
    assert!(out.starts_with("exit: 0"), "{out}");
    let sql = std::fs::read_to_string(p.path("target/compiled/models/people.sql")).unwrap();
    assert!(
        sql.contains("updated_at") && !sql.contains("_updated_at"),
        "{sql}"
    );
}

#[test]
fn track_default_people_model_is_not_the_projects() {
    let p = project();
    p.model("people", "{{ nexus.customer_io_identify() }}\n");
    p.model(
        "events",
        "{{ nexus.customer_io_track(user_id_column='user_id') }}\n",
    );
    check("people_model_default", compile(&p));
}

#[test]
fn unquoted_jinja_in_a_profile() {
    let p = project();
    p.model("people", "{{ nexus.customer_io_identify() }}\n");
    p.file(
        "profiles.yml",
        "test_project:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: {{ env_var('SNOWFLAKE_ACCOUNT') }}\n      user: analyst\n      database: ANALYTICS\n      schema: CIO\n",
    );
    check("yaml_unquoted_jinja", compile(&p));
}

#[test]
fn comma_inside_brackets_in_a_flow_mapping() {
    let p = project();
    p.model("people", "{{ nexus.customer_io_identify() }}\n");
    let catalog = full_catalog().replace(
        "{name: lifetime_value, data_type: \"NUMBER(38,2)\"}",
        "{name: lifetime_value, data_type: NUMBER(38,2)}",
    );
    p.file("catalog.yml", &catalog);
    check("yaml_comma_in_brackets", compile(&p));
}

#[test]
fn colon_in_an_unquoted_value() {
    let p = project();
    p.model("people", "{{ nexus.customer_io_identify() }}\n");
    p.file(
        "dbt_project.yml",
        "name: test_project\nprofile: test_project\nmodels:\n  test_project:\n    +meta: {owner: team: crm}\n",
    );
    check("yaml_colon_in_value", compile(&p));
}

#[test]
fn unclosed_bracket_in_the_project_file() {
    let p = project();
    p.model("people", "{{ nexus.customer_io_identify() }}\n");
    p.file(
        "dbt_project.yml",
        "name: test_project\nprofile: test_project\nmodel-paths: [\"models\"\nmacro-paths: [\"macros\"]\n\nmodels:\n  test_project:\n    +materialized: table\n",
    );
    check("yaml_unclosed_bracket", compile(&p));
    p.file(
        "dbt_project.yml",
        "name: test_project\nprofile: test_project\nmodels:\n  test_project:\n    +tags: [crm, daily\n    people:\n      +materialized: table\n",
    );
    check("yaml_unclosed_bracket_nested", compile(&p));
}

#[test]
fn folder_config_error_in_the_project_file() {
    let p = project();
    p.file(
        "dbt_project.yml",
        "name: test_project\nprofile: test_project\nmodels:\n  test_project:\n    people:\n      +materialized: snapshot\n",
    );
    p.model("people/a", "{{ nexus.customer_io_identify() }}\n");
    p.model(
        "people/b",
        "{{ nexus.customer_io_identify(entity_type='lead') }}\n",
    );
    p.model(
        "people/c",
        "{{ nexus.customer_io_identify(entity_type='user') }}\n",
    );
    check("folder_config_error", compile(&p));
}

#[test]
fn summary_after_a_failure_among_cached_models() {
    let p = project();
    p.model("a", "{{ nexus.customer_io_identify() }}\n");
    p.model(
        "b",
        "{{ nexus.customer_io_identify(entity_type='lead') }}\n",
    );
    p.model(
        "c",
        "{{ nexus.customer_io_identify(entity_type='user') }}\n",
    );
    p.model(
        "d",
        "{{ nexus.customer_io_identify(entity_type='admin') }}\n",
    );
    let first = compile(&p);
    assert!(first.starts_with("exit: 0"), "{first}");
    p.model(
        "d",
        "{{ nexus.customer_io_identify(entity_typ='admin') }}\n",
    );
    check("summary_line", compile(&p));
    check(
        "summary_line_selected",
        run(&p, &["compile", "--select", "d"]),
    );
}

// ---- Contract rules (CIO2xx) -------------------------------------------

fn contract(sql_columns: &str, sync: &str) -> String {
    let p = project();
    p.model(
        "m",
        &format!(
            "{{{{ config(cio_sync='{sync}') }}}}\nselect\n{sql_columns}\nfrom {{{{ ref('nexus_entities') }}}}\n"
        ),
    );
    compile(&p)
}

#[test]
fn contract_camel_case_trait_names() {
    check(
        "contract_camel_case_traits",
        contract(
            "    user_id as \"userId\",\n    first_name as \"firstName\",\n    last_name as \"lastName\"",
            "identify",
        ),
    );
}

#[test]
fn contract_reserved_attribute_in_the_wrong_case() {
    check(
        "contract_reserved_wrong_case",
        contract(
            "    user_id as \"userId\",\n    email as \"Email\",\n    _created_at as \"Created_At\",\n    is_subscribed as \"Unsubscribed\",\n    plan as \"Timezone\"",
            "identify",
        ),
    );
}

#[test]
fn contract_identifier_in_another_case() {
    check(
        "contract_identifier_case",
        contract("    user_id as userId,\n    email as \"email\"", "identify"),
    );
}

#[test]
fn contract_attributes_differing_only_in_case() {
    check(
        "contract_case_only_duplicates",
        contract(
            "    user_id as \"userId\",\n    first_name as \"name\",\n    last_name as \"Name\"",
            "identify",
        ),
    );
}

#[test]
fn contract_unquoted_reserved_attribute() {
    check(
        "contract_unquoted_reserved",
        contract(
            "    user_id as \"userId\",\n    email as email,\n    _created_at as created_at,\n    plan as plan",
            "identify",
        ),
    );
}

#[test]
fn contract_object_side_reserved_names() {
    check(
        "contract_object_reserved",
        contract(
            "    entity_id as \"groupId\",\n    'company' as \"objectTypeId\",\n    name as \"relationship\",\n    plan as \"object_id\",\n    company_name as \"cio_object_id\"",
            "group",
        ),
    );
}

#[test]
fn contract_many_track_properties() {
    let props: Vec<String> = (0..301).map(|i| format!("    1 as \"p{i}\"")).collect();
    check(
        "contract_track_many_properties",
        contract(
            &format!(
                "    user_id as \"userId\",\n    'e' as \"event\",\n{}",
                props.join(",\n")
            ),
            "track",
        ),
    );
}

#[test]
fn review_with_a_dir_hints_the_same_dir() {
    let p = project();
    p.model("people", "{{ nexus.customer_io_identify() }}\n");
    check(
        "review_dir_hint",
        run(&p, &["review", "--dir", "sql/reviewed"]),
    );
}

#[test]
fn a_warning_is_replayed_from_the_compile_cache() {
    let p = project();
    p.model(
        "people",
        "{{ nexus.customer_io_identify(\n    ignore_traits=['phone_numbr']\n) }}\n",
    );
    let first = compile(&p);
    let second = compile(&p);
    // The same warning, word for word, from the cache.
    assert_eq!(
        first.replace(
            "in <t>:",
            "in <t> (1 of them unchanged since the last compile):"
        ),
        second
    );
    check("cached_warning", second);
    let strict = run(&p, &["compile", "--warn-error"]);
    assert!(strict.starts_with("exit: 1"), "{strict}");
}
