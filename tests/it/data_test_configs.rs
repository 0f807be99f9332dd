//! dbt's test configs on the emulator, through the binary: `error_if`,
//! `warn_if`, `fail_calc`, `limit` and a test's own `store_failures`, in
//! `config:` and beside the arguments; a malformed value is CIO066 at the
//! `.yml` line.

use crate::data_tests::{project, seed};
use crate::support::emulator_cli::{cio, connect, query, result_of, run_results};
use crate::support::fakesnow;

/// People with u1 twice, one NULL userId and two bios not accepted.
const PEOPLE_ROWS: &str = "user_id,anonymous_id,ts,bio\n\
    u1,,2024-01-01 00:00:00,hello\n\
    u1,,2024-01-01 00:00:00,bad\n\
    ,a3,2024-01-03 00:00:00,worse\n";

const CONFIGURED: &str = "version: 2
models:
  - name: people
    columns:
      - name: userId
        tests:
          - unique:
              error_if: \">1\"
          - not_null:
              config:
                error_if: \">5\"
                warn_if: \">5\"
      - name: bio
        tests:
          - accepted_values:
              values: ['hello']
              config:
                fail_calc: \"sum(n_records)\"
                warn_if: \">=2\"
                error_if: \">=3\"
          - name: bio_limited
            test_name: accepted_values
            values: ['hello']
            limit: 1
            store_failures: true
";

#[test]
fn thresholds_fail_calc_limit_and_store_failures_decide_each_test() {
    let server = fakesnow::shared();
    let dir = project("E2E_TEST_CONFIGS", &server.base_url(), "");
    seed(dir.path(), "people_rows", PEOPLE_ROWS);
    std::fs::write(dir.path().join("models/schema.yml"), CONFIGURED).unwrap();
    let run = cio(dir.path(), &["build", "--select", "test_type:generic"]);
    let log = || format!("{}\n{}\n{}", run.stdout, run.stderr, server.log_tail());
    let results = run_results(dir.path());
    let outcome = |name: &str| {
        let r = result_of(&results, name);
        (r["status"].clone(), r["failures"].clone())
    };
    // One duplicated userId: over `!= 0` (warn), not over `>1` (error).
    assert_eq!(
        outcome("unique_people_userId"),
        ("warn".into(), 1.into()),
        "{}",
        log()
    );
    // One NULL, under both thresholds: a pass that still counts it.
    assert_eq!(outcome("not_null_people_userId"), ("pass".into(), 1.into()));
    // Two rows not accepted, in two groups: sum(n_records) is 2, a warning.
    assert_eq!(
        outcome("accepted_values_people_bio__hello"),
        ("warn".into(), 2.into())
    );
    // Two groups, `limit: 1`: one failure, an error; stored without the flag.
    assert_eq!(outcome("bio_limited"), ("fail".into(), 1.into()));
    assert_eq!(run.code, 1, "{}", log());
    let message = result_of(&results, "accepted_values_people_bio__hello")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("failures = sum(n_records), error if >= 3, warn if >= 2"),
        "{message}"
    );
    let wh = connect(dir.path());
    let stored = query(
        wh.as_ref(),
        "SELECT COUNT(*) AS n FROM E2E_TEST_CONFIGS.CUSTOMER_IO_dbt_test__audit.bio_limited",
    );
    assert_eq!(stored.rows[0][0].to_string().trim_matches('"'), "1");
    // Only the test that asked for it is stored.
    let audit = query(
        wh.as_ref(),
        "SELECT COUNT(*) AS n FROM E2E_TEST_CONFIGS.information_schema.tables WHERE table_schema ILIKE 'CUSTOMER_IO_dbt_test__audit'",
    );
    assert_eq!(audit.rows[0][0].to_string().trim_matches('"'), "1");
}

#[test]
fn a_malformed_threshold_is_an_error_at_its_line() {
    let server = fakesnow::shared();
    let dir = project("E2E_TEST_CONFIGS_BAD", &server.base_url(), "");
    let yml = dir.path().join("models/schema.yml");
    for (config, what) in [
        (
            "error_if: \"ten\"",
            "error_if `ten` is not a comparison with a number",
        ),
        (
            "fail_calc: \"count(*) from x\"",
            "is not one SQL expression",
        ),
        ("limit: -3", "limit -3 is not a whole number"),
        (
            "store_failures_as: view",
            "store_failures_as: view is not supported",
        ),
    ] {
        std::fs::write(
            &yml,
            format!(
                "version: 2\nmodels:\n  - name: people\n    columns:\n      - name: userId\n        tests:\n          - unique\n          - not_null:\n              config: {{{config}}}\n"
            ),
        )
        .unwrap();
        let run = cio(dir.path(), &["test"]);
        let text = format!("{}{}", run.stdout, run.stderr);
        assert_eq!(run.code, 2, "{text}");
        assert!(text.contains("CIO066"), "{text}");
        assert!(text.contains(what), "{config}: {text}");
        assert!(text.contains("models/schema.yml:8"), "{text}");
    }
}
