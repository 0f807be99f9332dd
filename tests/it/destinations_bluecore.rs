//! Bluecore (issue 16): the example models `bluecore_customers` and
//! `bluecore_events` built on the emulator, and their compile-time checks.

use crate::destinations_moengage::{compile_with, rows, set};
use crate::emulator_e2e::example_project;
use crate::support::emulator_cli::{cio, connect, query};
use crate::support::fakesnow;
use std::collections::BTreeSet;

#[test]
fn bluecore_tables_hold_customers_by_email_and_their_events() {
    let server = fakesnow::shared();
    let dir = example_project("DEST_BLUECORE", &server.base_url());
    let dir = dir.path();
    let run = cio(dir, &["build"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // The contract data tests ran, the purchase rule among them.
    assert!(
        run.stdout.contains("cio_event_fields_bluecore_events"),
        "{}",
        run.stdout
    );
    let t = |name: &str| format!("DEST_BLUECORE.CUSTOMER_IO.{name}");

    // One customer per email, trimmed and lower-cased; the latest update
    // of the people sharing it wins (Ann: per_02, u_ann).
    let customers = rows(
        dir,
        &format!(
            "SELECT \"email\", COALESCE(\"user_id\", 'NULL') FROM {} WHERE NOT \"__cio_sql_deleted\"",
            t("bluecore_customers")
        ),
    );
    let emails: BTreeSet<String> = customers
        .iter()
        .map(|r| r.split('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        emails,
        set(&[
            "ann@example.com",
            "bob@example.com",
            "carol@example.com",
            "dave@example.com"
        ])
    );
    assert!(customers.contains("ann@example.com/u_ann"), "{customers:?}");
    // Every attribute column is lower case (Bluecore's rule).
    let wh = connect(dir);
    let columns = query(
        wh.as_ref(),
        &format!("SELECT * FROM {} LIMIT 0", t("bluecore_customers")),
    )
    .columns;
    assert!(
        columns.iter().any(|c| c == "camel_case_trait"),
        "{columns:?}"
    );
    for c in columns.iter().filter(|c| !c.starts_with("__cio_sql")) {
        assert_eq!(c, &c.to_lowercase(), "{columns:?}");
    }

    // Events by email: orders as Bluecore's purchase with their total,
    // the time in Unix seconds; Nora has no email, the unnamed event none.
    let events = rows(
        dir,
        &format!(
            "SELECT \"event_id\", \"distinct_id\", \"event\", TO_VARCHAR(\"event_time\"), COALESCE(TO_VARCHAR(\"total\"), 'NULL') FROM {} WHERE NOT \"__cio_sql_deleted\"",
            t("bluecore_events")
        ),
    );
    // evt_01 occurred at 2024-03-01 10:00:00 UTC: `date -u -d '2024-03-01
    // 10:00:00' +%s` is 1709287200.
    let keys: BTreeSet<String> = events
        .iter()
        .map(|e| e.split('/').take(3).collect::<Vec<_>>().join("/"))
        .collect();
    assert_eq!(
        keys,
        set(&[
            "evt_01/ann@example.com/purchase",
            "evt_03/bob@example.com/purchase",
            "evt_04/ann@example.com/Store Visit"
        ]),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("evt_01/ann@example.com/purchase/1709287200/120.5")),
        "{events:?}"
    );
}

#[test]
fn a_bluecore_customer_attribute_with_upper_case_a_space_or_a_dash_is_an_error() {
    let run = compile_with(
        "bad_customers",
        "{{ config(cio_destination='bluecore', cio_sync='customers') }}\nselect 'a@b.c' as \"email\", 1 as \"Plan\", 2 as \"first name\", 3 as \"loyalty-tier\", 4 as tier, 5 as \"ok_one\"\n",
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    for column in ["Plan", "first name", "loyalty-tier", "TIER"] {
        assert!(
            run.stderr.contains(&format!(
                "attribute `{column}` is a name Bluecore does not accept"
            )),
            "{column}: {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("`ok_one`"), "{}", run.stderr);
    assert!(run.stderr.contains("error[CIO214]"), "{}", run.stderr);
    assert!(run.stderr.contains("rename_traits"), "{}", run.stderr);
}

#[test]
fn a_bluecore_event_may_have_upper_case_properties_but_needs_its_distinct_id() {
    let run = compile_with(
        "bad_events",
        "{{ config(cio_destination='bluecore', cio_sync='events') }}\nselect 'e1' as \"event_id\", 'purchase' as \"event\", 1 as \"Total Paid\"\n",
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("bluecore.events syncs need a `distinct_id` column"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("CIO214"), "{}", run.stderr);
}
