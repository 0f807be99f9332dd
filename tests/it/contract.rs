//! The Customer.io contract checks at compile time: every rule (CIO201–CIO211)
//! triggered through `compile` by a model with a sync type, clean models of
//! every sync type that trigger none, CIO146, `--warn-error`, and where the
//! diagnostics point.

use crate::support::{TestProject, render_all, snapshots};
use cio_sql::compile::{CompileOptions, ModelStatus};
use cio_sql::diagnostics::{Diagnostic, Severity};
use cio_sql::pipeline::compile;

const EVENTS: &str = "  - name: nexus_events\n    schema: NEXUS\n    columns:\n      - {name: event_id, data_type: VARCHAR}\n      - {name: occurred_at, data_type: TIMESTAMP_NTZ}\n      - {name: event_name, data_type: VARCHAR}\n";

/// Compiles `source` as model `m` of sync type `sync` and returns its
/// status and diagnostics.
fn check(sync: &str, body: &str) -> (ModelStatus, Vec<Diagnostic>) {
    let p = TestProject::new();
    p.file(
        "catalog.yml",
        &format!("{}{EVENTS}", crate::support::ENTITIES),
    );
    p.model("m", &format!("{{{{ config(cio_sync='{sync}') }}}}\n{body}"));
    let c = p.compile();
    let m = c.model("m").unwrap();
    (m.status, m.diagnostics.clone())
}

fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.code.id()).collect()
}

/// The one diagnostic of `body`, which must have `code` and `severity`.
fn only(sync: &str, body: &str, code: &str, severity: Severity) -> Diagnostic {
    let (status, diags) = check(sync, body);
    assert_eq!(codes(&diags), vec![code], "{}", render_all(&diags));
    assert_eq!(diags[0].severity, severity);
    let expected = match severity {
        Severity::Error => ModelStatus::Error,
        Severity::Warning => ModelStatus::Success,
    };
    assert_eq!(status, expected);
    assert!(diags[0].help.is_some(), "every finding has a help line");
    diags[0].clone()
}

const FROM: &str = "FROM {{ ref('nexus_entities') }}";

#[test]
fn clean_models_of_every_sync_type_have_no_findings() {
    let cases = [
        (
            "identify",
            format!(
                "SELECT\n    user_id AS \"userId\",\n    TO_TIMESTAMP_NTZ(_updated_at) AS \"timestamp\",\n    email AS \"email\",\n    TO_TIMESTAMP_NTZ(_created_at) AS \"created_at\"\n{FROM}"
            ),
        ),
        (
            "identify",
            format!("SELECT segment_anonymous_id AS \"anonymousId\"\n{FROM}"),
        ),
        (
            "track",
            "SELECT\n    event_id AS \"userId\",\n    event_name AS \"event\",\n    occurred_at AS \"timestamp\"\nFROM {{ ref('nexus_events') }}".to_string(),
        ),
        (
            "group",
            format!(
                "SELECT\n    entity_id AS \"groupId\",\n    '1' AS \"objectTypeId\",\n    status AS \"status\"\n{FROM}"
            ),
        ),
        (
            "relationship",
            format!(
                "SELECT\n    entity_id AS \"groupId\",\n    '1' AS \"objectTypeId\",\n    user_id AS \"userId\",\n    OBJECT_CONSTRUCT('role', status) AS \"relationshipAttributes\"\n{FROM}"
            ),
        ),
    ];
    for (sync, body) in cases {
        let (status, diags) = check(sync, &body);
        assert!(diags.is_empty(), "{sync}: {}", render_all(&diags));
        assert_eq!(status, ModelStatus::Success);
    }
}

#[test]
fn the_nexus_macros_pass_their_own_contract() {
    let p = TestProject::new();
    p.model("people", "{{ nexus.customer_io_identify() }}");
    p.model(
        "renamed",
        "{{ nexus.customer_io_identify(rename_traits={'first_name': 'given_name'}) }}",
    );
    let c = p.compile();
    for m in &c.models {
        assert!(m.diagnostics.is_empty(), "{}", render_all(&m.diagnostics));
    }
}

#[test]
fn cio201_a_required_column_is_missing() {
    let d = only(
        "track",
        "SELECT event_id AS \"userId\", occurred_at AS \"timestamp\"\nFROM {{ ref('nexus_events') }}",
        "CIO201",
        Severity::Error,
    );
    assert_eq!(d.message, "track syncs need a `event` column");
    assert_eq!(
        d.file.as_deref(),
        Some(std::path::Path::new("models/m.sql"))
    );
    let d = only(
        "identify",
        &format!("SELECT email AS \"email\"\n{FROM}"),
        "CIO201",
        Severity::Error,
    );
    assert!(
        d.message.contains("`userId`, `anonymousId`"),
        "{}",
        d.message
    );
}

#[test]
fn cio202_a_required_column_written_unquoted() {
    let d = only(
        "track",
        "SELECT\n    event_id AS \"userId\",\n    event_name AS event\nFROM {{ ref('nexus_events') }}",
        "CIO202",
        Severity::Error,
    );
    assert_eq!(
        d.message,
        "column `EVENT` is meant to be `event` but was written without double quotes, so Snowflake upper-cased it"
    );
    // Points at the alias in the model.
    assert_eq!((d.line, d.column), (Some(4), Some(19)));
    assert_eq!(d.source_line.as_deref(), Some("    event_name AS event"));
}

#[test]
fn an_identifier_in_another_case_is_accepted() {
    // "Customer.io recognizes identifiers like userId and groupId in any
    // case" (Queries for each sync type).
    let (status, diags) = check("identify", &format!("SELECT\n    email AS userId\n{FROM}"));
    assert!(diags.is_empty(), "{}", render_all(&diags));
    assert_eq!(status, ModelStatus::Success);
}

#[test]
fn cio203_two_columns_with_one_name() {
    let d = only(
        "identify",
        &format!(
            "SELECT\n    user_id AS \"userId\",\n    email AS \"email\",\n    first_name AS \"email\"\n{FROM}"
        ),
        "CIO203",
        Severity::Error,
    );
    assert!(
        d.message.contains("one column for Customer.io"),
        "{}",
        d.message
    );
    assert_eq!(d.line, Some(5), "points at the second column");
}

#[test]
fn cio204_an_attribute_name_over_150_bytes() {
    let long = "a".repeat(151);
    only(
        "identify",
        &format!("SELECT user_id AS \"userId\", email AS \"{long}\"\n{FROM}"),
        "CIO204",
        Severity::Error,
    );
}

#[test]
fn cio205_more_than_300_attributes() {
    let attributes: Vec<String> = (0..301).map(|i| format!("1 AS \"a{i}\"")).collect();
    let d = only(
        "identify",
        &format!(
            "SELECT user_id AS \"userId\", {}\n{FROM}",
            attributes.join(", ")
        ),
        "CIO205",
        Severity::Error,
    );
    assert!(
        d.message.starts_with("301 attribute columns"),
        "{}",
        d.message
    );
    // 300 is fine.
    let attributes: Vec<String> = (0..300).map(|i| format!("1 AS \"a{i}\"")).collect();
    let (status, diags) = check(
        "identify",
        &format!(
            "SELECT user_id AS \"userId\", {}\n{FROM}",
            attributes.join(", ")
        ),
    );
    assert!(diags.is_empty() && status == ModelStatus::Success);
}

#[test]
fn cio206_an_unquoted_attribute() {
    let d = only(
        "identify",
        &format!("SELECT user_id AS \"userId\", email AS email_address\n{FROM}"),
        "CIO206",
        Severity::Warning,
    );
    assert_eq!(
        d.help.as_deref(),
        Some("write AS \"email_address\" (with the double quotes)")
    );
}

#[test]
fn cio207_a_reserved_attribute_in_another_case() {
    only(
        "identify",
        &format!("SELECT user_id AS \"userId\", email AS \"Email\"\n{FROM}"),
        "CIO207",
        Severity::Warning,
    );
    // Mixed case is fine otherwise: attribute names are case-sensitive.
    let (_, diags) = check(
        "identify",
        &format!("SELECT user_id AS \"userId\", first_name AS \"firstName\"\n{FROM}"),
    );
    assert!(diags.is_empty(), "{}", render_all(&diags));
}

#[test]
fn cio212_an_unquoted_reserved_attribute() {
    only(
        "identify",
        &format!("SELECT user_id AS \"userId\", email AS email\n{FROM}"),
        "CIO212",
        Severity::Error,
    );
}

#[test]
fn cio207_on_a_macro_rename_points_at_the_rename() {
    let p = TestProject::new();
    p.model(
        "m",
        "{{ nexus.customer_io_identify(\n    rename_traits={'first_name': 'Timezone'}\n) }}",
    );
    let c = p.compile();
    let diags = &c.model("m").unwrap().diagnostics;
    assert_eq!(codes(diags), vec!["CIO207"]);
    let d = &diags[0];
    assert_eq!((d.line, d.column), (Some(2), Some(34)));
    assert_eq!(
        d.notes,
        vec!["the column comes from line 5 of the compiled SQL: `first_name AS \"Timezone\",`"]
    );
}

#[test]
fn cio208_a_reserved_attribute_name() {
    for name in ["id", "cio_id", "_created_in_customerio_at"] {
        only(
            "identify",
            &format!("SELECT user_id AS \"userId\", entity_id AS \"{name}\"\n{FROM}"),
            "CIO208",
            Severity::Warning,
        );
    }
}

#[test]
fn cio209_created_at_that_is_not_a_timestamp() {
    only(
        "identify",
        &format!("SELECT user_id AS \"userId\", status AS \"created_at\"\n{FROM}"),
        "CIO209",
        Severity::Warning,
    );
}

#[test]
fn cio210_an_unaliased_expression() {
    only(
        "identify",
        &format!("SELECT user_id AS \"userId\", LOWER(email)\n{FROM}"),
        "CIO210",
        Severity::Warning,
    );
}

#[test]
fn cio211_an_optional_special_column_with_the_wrong_case() {
    only(
        "identify",
        &format!("SELECT user_id AS \"userId\", _updated_at AS \"Timestamp\"\n{FROM}"),
        "CIO211",
        Severity::Warning,
    );
}

#[test]
fn models_without_a_sync_type_are_not_checked() {
    let p = TestProject::new();
    p.model(
        "m",
        &format!("SELECT email AS userId, LOWER(email), first_name AS \"firstName\"\n{FROM}"),
    );
    let c = p.compile();
    assert!(c.model("m").unwrap().diagnostics.is_empty());
}

#[test]
fn cio146_an_unknown_sync_type_fails_the_model() {
    let (status, diags) = check("people", &format!("SELECT user_id AS \"userId\"\n{FROM}"));
    assert_eq!(status, ModelStatus::Error);
    assert_eq!(codes(&diags), vec!["CIO146"]);
    assert_eq!((diags[0].line, diags[0].column), (Some(1), Some(11)));
    // A sync type is read ignoring case.
    let (status, diags) = check("Identify", &format!("SELECT user_id AS \"userId\"\n{FROM}"));
    assert!(diags.is_empty() && status == ModelStatus::Success);
}

#[test]
fn warn_error_turns_contract_warnings_into_errors() {
    let p = TestProject::new();
    p.model(
        "m",
        &format!(
            "{{{{ config(cio_sync='identify') }}}}\nSELECT user_id AS \"userId\", first_name AS \"Email\"\n{FROM}"
        ),
    );
    let c = compile(&CompileOptions {
        warn_error: true,
        ..p.options()
    })
    .unwrap();
    let m = c.model("m").unwrap();
    assert_eq!(m.status, ModelStatus::Error);
    assert_eq!(codes(&m.diagnostics), vec!["CIO207"]);
    assert!(m.diagnostics[0].is_error());
    assert!(!c.succeeded());
}

#[test]
fn contract_diagnostics_snapshot() {
    let (_, diags) = check(
        "identify",
        "SELECT\n    email AS userId,\n    email AS \"Email\",\n    entity_id AS id,\n    status AS \"created_at\",\n    LOWER(last_name),\n    _updated_at AS \"Timestamp\"\nFROM {{ ref('nexus_entities') }}",
    );
    snapshots(|| insta::assert_snapshot!("contract_diagnostics", render_all(&diags)));
}
