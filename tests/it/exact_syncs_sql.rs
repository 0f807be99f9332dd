//! Exact syncs (issue 12) at compile time: the UTC shape of the macros'
//! timestamps, the change-tracking statement and queries (pinned by
//! snapshots: the emulator cannot check Snowflake's time-zone semantics),
//! and the errors of a sync model change tracking cannot key.

use crate::support::{TestProject, render_all, snapshots};
use cio_sql::compile::tracking_of;
use cio_sql::reports::sync_query::sync_query;

fn example_catalog() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.yml")).unwrap()
}

/// The example catalog with the business timestamps as TZ and LTZ columns.
fn zoned_catalog() -> String {
    let ntz = "{name: _updated_at, data_type: TIMESTAMP_NTZ(9)}";
    let catalog = example_catalog();
    // nexus_entities' _updated_at is LTZ, nexus_relationships' TZ.
    let first = catalog.find(ntz).unwrap();
    let mut out = catalog.clone();
    out.replace_range(
        first..first + ntz.len(),
        "{name: _updated_at, data_type: TIMESTAMP_LTZ(9)}",
    );
    let out = out.replace(ntz, "{name: _updated_at, data_type: TIMESTAMP_TZ(9)}");
    out.replace(
        "{name: occurred_at, data_type: TIMESTAMP_NTZ(9)}",
        "{name: occurred_at, data_type: TIMESTAMP_TZ(9)}",
    )
}

fn zoned_project() -> TestProject {
    let p = TestProject::new();
    p.file(
        "dbt_project.yml",
        "name: test_project\nprofile: test_project\nmodels:\n  test_project:\n    +materialized: table\n",
    );
    p.file("catalog.yml", &zoned_catalog());
    p.model(
        "customer_io_persons",
        "{{ nexus.customer_io_identify() }}\n",
    );
    p.model(
        "events",
        "{{ nexus.customer_io_track(user_id_column='user_id') }}\n",
    );
    p.model(
        "relationships",
        "{{ nexus.customer_io_relationships(object_type_id='1', object_entity_type='location', user_id_column='user_id') }}\n",
    );
    p
}

#[test]
fn tz_and_ltz_timestamps_are_converted_to_utc() {
    let p = zoned_project();
    let persons = p.sql("customer_io_persons");
    // Snowflake's TO_TIMESTAMP_NTZ of a TZ/LTZ value keeps the wall clock
    // and drops the offset; CONVERT_TIMEZONE('UTC', …) gives UTC.
    assert!(
        persons.contains("CONVERT_TIMEZONE('UTC', _updated_at)::TIMESTAMP_NTZ AS \"timestamp\""),
        "{persons}"
    );
    assert!(persons.contains("CONVERT_TIMEZONE('UTC', last_interaction_at)::TIMESTAMP_NTZ"));
    // NTZ columns are taken as UTC, as the seed's identify contract says.
    assert!(persons.contains("TO_TIMESTAMP_NTZ(_created_at) AS \"created_at\""));
    assert!(!persons.contains("TO_TIMESTAMP_NTZ(_updated_at)"));
    let events = p.sql("events");
    assert!(
        events.contains(
            "CONVERT_TIMEZONE('UTC', events.occurred_at)::TIMESTAMP_NTZ AS \"timestamp\""
        ),
        "{events}"
    );
    let relationships = p.sql("relationships");
    assert!(
        !relationships.contains("TO_TIMESTAMP_NTZ(MAX("),
        "{relationships}"
    );
    snapshots(|| {
        insta::assert_snapshot!("exact_syncs__utc_identify", persons);
        insta::assert_snapshot!("exact_syncs__utc_track", events);
        insta::assert_snapshot!("exact_syncs__utc_relationships", relationships);
    });
}

#[test]
fn the_change_tracking_statement_and_queries() {
    let p = zoned_project();
    let c = p.compile();
    let m = c.model("relationships").unwrap();
    let t = tracking_of(m).unwrap().expect("a tracked sync table");
    assert_eq!(
        t.key,
        vec![vec!["groupId".to_string()], vec!["userId".to_string()]]
    );
    let rel = "DB.S.relationships";
    let previous: Vec<String> = t
        .columns
        .iter()
        .cloned()
        .chain(
            cio_sql::analysis::tracking::BOOKKEEPING
                .iter()
                .map(|s| s.to_string()),
        )
        .collect();
    let statement = t.build_sql(rel, "<the model's SELECT>", Some(&previous));
    let first = t.build_sql(rel, "<the model's SELECT>", None);
    assert!(
        !first.contains("__cio_sql_previous"),
        "a first build marks all new"
    );
    assert!(!statement.contains("HASH("), "never HASH(): SHA2 only");
    let setup = &sync_query(&c, Some("relationships")).unwrap()[0];
    snapshots(|| {
        insta::assert_snapshot!("exact_syncs__statement", statement);
        insta::assert_snapshot!("exact_syncs__first_build", first);
        insta::assert_snapshot!(
            "exact_syncs__diff",
            t.diff_counts_sql(rel, "<the model's SELECT>", true)
        );
        insta::assert_snapshot!(
            "exact_syncs__queries",
            format!(
                "{}\n\n{}\n\n{}",
                setup.query,
                setup.backfill_query,
                setup.delete_query.as_deref().unwrap()
            )
        );
    });
}

#[test]
fn a_hand_written_track_model_needs_a_key() {
    let p = TestProject::new();
    p.model(
        "events",
        "{{ config(materialized='table', cio_sync='track') }}\nselect 'u1' as \"userId\", 'Signed Up' as \"event\", current_timestamp() as \"timestamp\"\n",
    );
    let errors = p.errors("events");
    let text = render_all(&errors);
    let e = errors
        .iter()
        .find(|d| d.code == "CIO170")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(e.is_error());
    assert!(
        e.help.as_deref().unwrap_or_default().contains("cio_key"),
        "{text}"
    );
    // Naming the key fixes it; a key column that does not exist does not.
    p.model(
        "events",
        "{{ config(materialized='table', cio_sync='track', cio_key=['event_id']) }}\nselect 'u1' as \"userId\", 'Signed Up' as \"event\", current_timestamp() as \"timestamp\"\n",
    );
    let text = render_all(&p.errors("events"));
    assert!(
        text.contains("CIO170") && text.contains("event_id"),
        "{text}"
    );
    p.model(
        "events",
        "{{ config(materialized='table', cio_sync='track', cio_key=['event_id', 'userId']) }}\nselect 'e1' as \"event_id\", 'u1' as \"userId\", 'Signed Up' as \"event\", current_timestamp() as \"timestamp\"\n",
    );
    assert!(
        !render_all(&p.errors("events")).contains("CIO170"),
        "cio_key names a key"
    );
    // Opting out keeps today's table and query.
    p.model(
        "events",
        "{{ config(materialized='table', cio_sync='track', cio_change_tracking=false) }}\nselect 'u1' as \"userId\", 'Signed Up' as \"event\", current_timestamp() as \"timestamp\"\n",
    );
    let c = p.compile();
    let m = c.model("events").unwrap();
    assert!(
        m.diagnostics.iter().all(|d| !d.is_error()),
        "{}",
        render_all(&m.diagnostics)
    );
    assert!(tracking_of(m).unwrap().is_none());
    let setup = &sync_query(&c, Some("events")).unwrap()[0];
    assert!(!setup.change_tracked);
    assert!(
        setup
            .query
            .contains("TO_TIMESTAMP_NTZ(\"timestamp\") > TO_TIMESTAMP_NTZ({{last_sync_time}})")
    );
}

#[test]
fn bookkeeping_names_and_bad_settings_are_errors() {
    let p = TestProject::new();
    p.model(
        "people",
        "{{ config(materialized='table', cio_sync='identify') }}\nselect 'u1' as \"userId\", 1 as \"__cio_sql_key\"\n",
    );
    assert!(render_all(&p.errors("people")).contains("CIO172"));
    p.model(
        "people",
        "{{ config(materialized='table', cio_sync='identify', cio_max_delete_share=2) }}\nselect 'u1' as \"userId\"\n",
    );
    assert!(render_all(&p.errors("people")).contains("CIO173"));
    p.model(
        "people",
        "{{ config(materialized='table', cio_sync='identify', cio_sync_overlap_seconds='soon') }}\nselect 'u1' as \"userId\"\n",
    );
    assert!(render_all(&p.errors("people")).contains("CIO174"));
}
