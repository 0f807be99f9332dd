//! `cio-sql ls --resource-type test` and `ls -s test_type:…`: the data
//! tests `cio-sql test` would run, in dbt's output forms (offline: `ls`
//! connects to nothing).

use crate::data_tests::{SCHEMA_TESTS, project};
use crate::support::emulator_cli::cio;

fn lines(dir: &std::path::Path, args: &[&str]) -> Vec<String> {
    let run = cio(dir, args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.stdout.lines().map(str::to_string).collect()
}

#[test]
fn ls_lists_tests_by_kind_in_dbts_forms() {
    let dir = project("LS_TESTS", "http://127.0.0.1:9", "");
    std::fs::write(dir.path().join("models/schema.yml"), SCHEMA_TESTS).unwrap();
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("tests/no_ghosts.sql"),
        "select * from {{ ref('members') }} where \"userId\" = 'ghost'",
    )
    .unwrap();
    let d = dir.path();
    let mut generic = lines(d, &["ls", "-s", "test_type:generic", "-o", "name"]);
    generic.sort();
    assert_eq!(
        generic,
        [
            "accepted_values_people_bio__hello__anonymous",
            "not_null_object_rows_group_id",
            "not_null_people_userId",
            "relationships_members_userId__userId__ref_people_",
            "unique_object_rows_group_id",
            "unique_people_userId",
        ]
    );
    assert_eq!(
        lines(d, &["ls", "-s", "test_type:singular", "-o", "path"]),
        ["tests/no_ghosts.sql"]
    );
    assert_eq!(
        lines(d, &["ls", "-s", "unique_people_userId", "-o", "selector"]),
        ["cio_sql_example.unique_people_userId"]
    );
    let json: serde_json::Value = serde_json::from_str(
        &lines(
            d,
            &[
                "ls",
                "-s",
                "not_null_people_userId",
                "--resource-type",
                "test",
                "-o",
                "json",
            ],
        )[0],
    )
    .unwrap();
    assert_eq!(json["resource_type"], "test");
    assert_eq!(
        json["unique_id"],
        "test.cio_sql_example.not_null_people_userId"
    );
    assert_eq!(json["original_file_path"], "models/schema.yml");
    assert_eq!(json["config"]["severity"], "WARN");
    assert_eq!(json["attached_node"], "model.cio_sql_example.people");
    assert_eq!(
        json["depends_on"]["nodes"],
        serde_json::json!(["model.cio_sql_example.people"])
    );
    // A model's tests: its contract tests and schema tests, and no model.
    let people = lines(
        d,
        &[
            "ls",
            "--resource-type",
            "test",
            "-s",
            "people",
            "-o",
            "name",
        ],
    );
    assert!(
        people.contains(&"cio_unique_key_people".to_string()),
        "{people:?}"
    );
    assert!(
        people.contains(&"unique_people_userId".to_string()),
        "{people:?}"
    );
    assert!(!people.contains(&"people".to_string()), "{people:?}");
    assert!(
        !people.iter().any(|n| n.ends_with("_members")),
        "{people:?}"
    );
    // Without --resource-type test, ls lists models and seeds as before.
    let models = lines(d, &["ls", "-o", "name"]);
    assert!(models.contains(&"people".to_string()));
    assert!(!models.iter().any(|n| n.starts_with("cio_")), "{models:?}");
    let run = cio(d, &["ls", "-s", "test_type:unit"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("CIO063") || run.stdout.contains("CIO063"));
}
