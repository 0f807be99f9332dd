//! The track, objects and relationships macros and `cio-sql sync-query`,
//! through the library: the example project (snapshotted) and small
//! projects built in temporary folders for every rule and error.

use cio_sql::compile::{Compilation, CompileOptions, CompiledModel, ModelStatus};
use cio_sql::diagnostics::Severity;
use cio_sql::pipeline::compile;
use cio_sql::project::LoadOptions;
use cio_sql::reports::ReportError;
use cio_sql::reports::sync_query::{
    LAST_SYNC_TIME, SyncType, render_plan, render_setup, sync_models, sync_query,
};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const PROFILES: &str = "t:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      database: ANALYTICS\n      schema: CUSTOMER_IO\n";
const PEOPLE: &str = "{{ nexus.customer_io_identify() }}\n";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example_catalog() -> String {
    std::fs::read_to_string(repo().join("catalog.yml")).expect("catalog.yml")
}

/// A project in a temporary folder: `models` as (path under models/, source),
/// over `catalog` (the example catalog when `None`).
fn project(models: &[(&str, &str)], catalog: Option<&str>) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("dbt_project.yml"), "name: t\nprofile: t\n").unwrap();
    std::fs::write(root.join("profiles.yml"), PROFILES).unwrap();
    let catalog = catalog.map_or_else(example_catalog, str::to_string);
    std::fs::write(root.join("catalog.yml"), catalog).unwrap();
    for (path, source) in models {
        let file = root.join("models").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, source).unwrap();
    }
    dir
}

fn compile_dir(dir: &Path) -> Compilation {
    compile(&CompileOptions {
        load: LoadOptions {
            project_dir: dir.to_path_buf(),
            profiles_dir: Some(dir.to_path_buf()),
            ..LoadOptions::default()
        },
        write: false,
        ..CompileOptions::default()
    })
    .expect("the project loads")
}

/// Compiles `source` as model `m` next to the people model
/// `customer_io_persons`.
fn compile_one(source: &str) -> Compilation {
    let dir = project(
        &[("customer_io_persons.sql", PEOPLE), ("m.sql", source)],
        None,
    );
    compile_dir(dir.path())
}

fn model<'a>(c: &'a Compilation, name: &str) -> &'a CompiledModel {
    c.model(name).unwrap_or_else(|| panic!("no model {name}"))
}

/// The SQL of model `m`, which must compile without warnings.
fn sql_of(source: &str) -> String {
    let c = compile_one(source);
    let m = model(&c, "m");
    assert_eq!(
        m.status,
        ModelStatus::Success,
        "{:#?}",
        m.diagnostics
            .iter()
            .map(|d| d.render(false))
            .collect::<Vec<_>>()
    );
    assert!(m.diagnostics.is_empty(), "{:#?}", m.diagnostics);
    m.sql().unwrap()
}

/// The single error of model `m`: (code, message, help).
fn error_of(source: &str) -> (String, String, String) {
    let c = compile_one(source);
    let m = model(&c, "m");
    assert_eq!(
        m.status,
        ModelStatus::Error,
        "expected an error, got {:?}",
        m.sql()
    );
    let d = m
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("an error diagnostic");
    assert_eq!(d.model.as_deref(), Some("m"), "the error names the model");
    assert_eq!(
        d.file.as_deref(),
        Some(Path::new("models/m.sql")),
        "the error points at the model file"
    );
    (
        d.code.to_string(),
        d.message.clone(),
        d.help.clone().unwrap_or_default(),
    )
}

fn warnings_of(source: &str) -> Vec<(String, String)> {
    let c = compile_one(source);
    let m = model(&c, "m");
    assert_eq!(m.status, ModelStatus::Success, "{:#?}", m.diagnostics);
    m.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| (d.code.to_string(), d.message.clone()))
        .collect()
}

fn config_str<'a>(m: &'a CompiledModel, key: &str) -> Option<&'a str> {
    m.config.values.get(key).and_then(|v| v.as_str())
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

// ---------------------------------------------------------------------------
// The example project

fn example() -> Compilation {
    compile_dir(&repo())
}

const EXAMPLE_SYNC_MODELS: &[(&str, &str)] = &[
    ("customer_io_events", "track"),
    ("customer_io_locations", "group"),
    ("customer_io_location_relationships", "relationship"),
];

#[test]
fn example_project_compiles_without_warnings() {
    let c = example();
    assert!(c.succeeded());
    for m in &c.models {
        assert_eq!(m.status, ModelStatus::Success, "{}", m.name);
        assert!(m.diagnostics.is_empty(), "{}: {:#?}", m.name, m.diagnostics);
    }
    for (name, _) in EXAMPLE_SYNC_MODELS {
        assert!(c.model(name).is_some(), "example model {name} is missing");
    }
}

#[test]
fn example_sql_is_deterministic() {
    let first: Vec<Option<String>> = example().models.into_iter().map(|m| m.sql()).collect();
    let second: Vec<Option<String>> = example().models.into_iter().map(|m| m.sql()).collect();
    assert_eq!(first, second);
}

#[test]
fn example_models_record_their_sync_type() {
    let c = example();
    for (name, sync) in EXAMPLE_SYNC_MODELS {
        let m = model(&c, name);
        assert_eq!(crate::support::cio_sync(&m.config), Some(*sync), "{name}");
        assert_eq!(config_str(m, "cio_timestamp_column"), Some("timestamp"));
    }
    for name in ["customer_io_events", "customer_io_location_relationships"] {
        let m = model(&c, name);
        assert_eq!(
            config_str(m, "cio_people_model"),
            Some("customer_io_persons")
        );
        assert!(
            m.depends_on.contains(&"customer_io_persons".to_string()),
            "{name} depends on the people model: {:?}",
            m.depends_on
        );
    }
    for name in [
        "customer_io_locations",
        "customer_io_location_relationships",
    ] {
        assert_eq!(config_str(model(&c, name), "cio_object_type_id"), Some("1"));
    }
    // The people model is built before the models it restricts.
    let pos = |n: &str| c.selected.iter().position(|s| s == n).unwrap();
    assert!(pos("customer_io_persons") < pos("customer_io_events"));
    assert!(pos("customer_io_persons") < pos("customer_io_location_relationships"));
}

#[test]
fn example_sync_query_snapshots() {
    let c = example();
    let plan = render_plan(&c);
    assert!(plan.contains(LAST_SYNC_TIME));
    snapshot!("sync_types__sync_query__all", plan);
    let setups = sync_query(&c, None).expect("every sync model");
    assert_eq!(setups.len(), 16);
    for s in &setups {
        let one = sync_query(&c, Some(&s.model)).expect("a sync model");
        assert_eq!(one.len(), 1);
        let text = render_setup(&one[0]);
        // Tables filter on the change time; the one view on its timestamp;
        // RudderStack reads its tables' cursor itself.
        let exported = !matches!(s.sync_type.destination().name, "customerio" | "rudderstack");
        let filter = if exported {
            "with `cio-sql export "
        } else if !s.sync_type.is_customerio() {
            "Cursor column (incremental syncs):      \"__cio_sql_changed_at\""
        } else if one[0].change_tracked {
            "AND \"__cio_sql_changed_at\" > DATEADD(second, -300, TO_TIMESTAMP_NTZ({{last_sync_time}}))"
        } else {
            "WHERE TO_TIMESTAMP_NTZ(\"timestamp\") > TO_TIMESTAMP_NTZ({{last_sync_time}})"
        };
        assert!(text.contains(filter), "{text}");
        assert_eq!(one[0].change_tracked, s.model != "paying_customers");
        assert!(text.contains(&format!("FROM {}", s.relation)) || exported);
        assert!(
            one[0].warnings.is_empty(),
            "{}: {:?}",
            s.model,
            one[0].warnings
        );
        snapshot!(format!("sync_types__sync_query__{}", s.model), text);
    }
}

#[test]
fn sync_query_lists_models_in_the_initial_sync_order() {
    let c = example();
    // Customer.io's models first, in its order; then the other
    // destinations', each in its own.
    let all: Vec<(String, SyncType)> = sync_models(&c)
        .into_iter()
        .map(|(m, t)| (m.name.clone(), t))
        .collect();
    let customerio = all.iter().take_while(|(_, t)| t.is_customerio()).count();
    assert!(
        all[customerio..].iter().all(|(_, t)| !t.is_customerio()),
        "{all:?}"
    );
    assert_eq!(
        all[customerio..]
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        [
            "rudderstack_locations",
            "rudderstack_location_relationships",
            "moengage_persons",
            "moengage_aliases",
            "moengage_events",
            "meta_capi_purchases",
            "bluecore_customers",
            "bluecore_events"
        ]
    );
    let order = all[..customerio].to_vec();
    let ranks: Vec<usize> = order.iter().map(|(_, t)| t.rank()).collect();
    let mut sorted = ranks.clone();
    sorted.sort_unstable();
    assert_eq!(ranks, sorted, "{order:?}");
    let types: Vec<SyncType> = order.iter().map(|(_, t)| *t).collect();
    assert_eq!(types.first(), Some(&SyncType::IDENTIFY));
    assert_eq!(types.last(), Some(&SyncType::TRACK));
    assert_eq!(order[0].0, "customer_io_persons");
    let position = |name: &str| order.iter().position(|(n, _)| n == name).unwrap();
    assert!(position("customer_io_locations") < position("customer_io_location_relationships"));
    assert!(position("customer_io_location_relationships") < position("customer_io_events"));
}

#[test]
fn sync_query_uses_the_chosen_target() {
    let c = compile(&CompileOptions {
        load: LoadOptions {
            project_dir: repo(),
            profiles_dir: Some(repo()),
            target: Some("prod".into()),
            ..LoadOptions::default()
        },
        write: false,
        ..CompileOptions::default()
    })
    .unwrap();
    let s = &sync_query(&c, Some("customer_io_events")).unwrap()[0];
    assert_eq!(s.relation, "ANALYTICS.CUSTOMER_IO_PROD.customer_io_events");
    assert!(s.change_tracked);
    assert!(
        s.query
            .contains("\nFROM ANALYTICS.CUSTOMER_IO_PROD.customer_io_events\nWHERE NOT \"__cio_sql_deleted\"\n  AND \"__cio_sql_changed_at\" > DATEADD(second, -300, TO_TIMESTAMP_NTZ({{last_sync_time}}))"),
        "{}",
        s.query
    );
    assert!(
        s.backfill_query.ends_with(
            "\nFROM ANALYTICS.CUSTOMER_IO_PROD.customer_io_events\nWHERE NOT \"__cio_sql_deleted\""
        ),
        "{}",
        s.backfill_query
    );
}

// ---------------------------------------------------------------------------
// nexus.customer_io_track

#[test]
fn track_columns_properties_and_people_restriction() {
    let sql = sql_of("{{ nexus.customer_io_track() }}");
    let expected_head = "SELECT
    persons.\"userId\" AS \"userId\",
    TO_TIMESTAMP_NTZ(events.occurred_at) AS \"timestamp\",
    events.event_name AS \"event\",
    events.event_id AS \"event_id\",
    events.event_description AS \"event_description\",
    events.event_type AS \"event_type\",
    events.value AS \"value\",
    events.value_unit AS \"value_unit\",
    events.significance AS \"significance\",
    events.source AS \"event_data_source\"
FROM (
    SELECT *
    FROM ANALYTICS.NEXUS.nexus_events
    WHERE event_name IS NOT NULL
) AS events
";
    assert!(sql.starts_with(expected_head), "{sql}");
    assert!(
        !sql.contains("_ingested_at") && !sql.contains("_processed_at"),
        "{sql}"
    );
    assert!(
        sql.contains("        email AS \"userId\"\n"),
        "default userId is email: {sql}"
    );
    assert!(sql.contains("      AND email IS NOT NULL\n"));
    assert!(sql.contains("    AND participants.entity_type = 'person'\n"));
    assert!(sql.contains(
        "WHERE persons.\"userId\" IN (\n    SELECT \"userId\"\n    FROM ANALYTICS.CUSTOMER_IO.customer_io_persons\n)\n"
    ));
    assert!(sql.ends_with(
        "QUALIFY ROW_NUMBER() OVER (\n    PARTITION BY events.event_id, persons.\"userId\"\n    ORDER BY persons.entity_id ASC\n) = 1\n"
    ));
    let c = compile_one("{{ nexus.customer_io_track() }}");
    let m = model(&c, "m");
    assert_eq!(crate::support::cio_sync(&m.config), Some("track"));
    assert_eq!(m.depends_on, vec!["customer_io_persons".to_string()]);
}

#[test]
fn track_filters_by_source_names_types_and_sql() {
    let sql = sql_of(
        "{{ nexus.customer_io_track(sources='stripe', event_names=['order placed', \"it's done\"], event_types=['purchase'], filters=[\"value > 0\", 'significance >= 2']) }}",
    );
    assert!(
        sql.contains(
            "    WHERE event_name IS NOT NULL
      AND source IN ('stripe')
      AND event_name IN ('order placed', 'it''s done')
      AND event_type IN ('purchase')
      AND (value > 0)
      AND (significance >= 2)
) AS events"
        ),
        "{sql}"
    );
    let one_filter = sql_of("{{ nexus.customer_io_track(filters=\"value_unit = 'usd'\") }}");
    assert!(one_filter.contains("      AND (value_unit = 'usd')\n) AS events"));
}

#[test]
fn track_anonymous_id_keeps_anonymous_rows_once() {
    let sql = sql_of(
        "{{ nexus.customer_io_track(user_id_column='user_id', anonymous_id_column='segment_anonymous_id') }}",
    );
    assert!(sql.starts_with(
        "SELECT\n    persons.\"userId\" AS \"userId\",\n    persons.\"anonymousId\" AS \"anonymousId\",\n    TO_TIMESTAMP_NTZ(events.occurred_at) AS \"timestamp\",\n"
    ));
    assert!(sql.contains(
        "        user_id AS \"userId\",\n        segment_anonymous_id AS \"anonymousId\"\n"
    ));
    assert!(sql.contains("      AND (user_id IS NOT NULL OR segment_anonymous_id IS NOT NULL)\n"));
    assert!(sql.contains("WHERE persons.\"userId\" IS NULL\n    OR persons.\"userId\" IN ("));
    assert!(sql.contains(
        "PARTITION BY events.event_id, persons.\"userId\", CASE WHEN persons.\"userId\" IS NULL THEN persons.\"anonymousId\" END"
    ));
}

#[test]
fn track_without_people_model_keeps_everyone() {
    let c = compile_one("{{ nexus.customer_io_track(people_model=none) }}");
    let m = model(&c, "m");
    let sql = m.sql().unwrap();
    assert!(
        !sql.contains("customer_io_persons") && !sql.contains("WHERE persons"),
        "{sql}"
    );
    assert!(m.depends_on.is_empty());
    assert_eq!(config_str(m, "cio_people_model"), None);
    assert_eq!(
        sync_query(&c, Some("m")).unwrap()[0].after,
        vec!["the people sync (Identify)".to_string()]
    );
}

#[test]
fn track_user_id_expression_is_pasted_as_written() {
    let sql = sql_of("{{ nexus.customer_io_track(user_id_column='COALESCE(user_id, email)') }}");
    assert!(sql.contains("        COALESCE(user_id, email) AS \"userId\"\n"));
    assert!(sql.contains("      AND (COALESCE(user_id, email)) IS NOT NULL\n"));
}

#[test]
fn track_ignores_and_renames_properties_case_insensitively() {
    let sql = sql_of(
        "{{ nexus.customer_io_track(ignore_properties=['EVENT_DESCRIPTION', 'significance'], rename_properties={'Value': 'amount', 'source': 'origin'}) }}",
    );
    assert!(
        !sql.contains("event_description") && !sql.contains("significance"),
        "{sql}"
    );
    assert!(sql.contains("    events.value AS \"amount\",\n"));
    assert!(
        sql.contains("    events.source AS \"origin\"\n"),
        "rename beats the default: {sql}"
    );
}

#[test]
fn track_warns_about_ignore_and_rename_keys_that_match_nothing() {
    let warnings = warnings_of(
        "{{ nexus.customer_io_track(ignore_properties=['significanse'], rename_properties={'valu': 'amount'}) }}",
    );
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().all(|(code, _)| code == "CIO130"));
    assert!(
        warnings[0]
            .1
            .contains("ignore_properties lists `significanse`")
    );
    assert!(warnings[1].1.contains("rename_properties renames `valu`"));
}

#[test]
fn track_renamed_property_colliding_with_a_customer_io_field_fails() {
    for target in ["event", "userId", "timestamp", "anonymousId", "EVENT"] {
        let (code, message, help) = error_of(&format!(
            "{{{{ nexus.customer_io_track(rename_properties={{'event_type': '{target}'}}) }}}}"
        ));
        assert_eq!(code, "CIO120", "{target}");
        assert!(
            message.contains("two output columns would be named"),
            "{message}"
        );
        assert!(
            message.contains("column event_type (renamed by rename_properties)"),
            "{message}"
        );
        assert!(help.contains("rename_properties") && help.contains("ignore_properties"));
    }
}

#[test]
fn track_renamed_property_colliding_with_another_property_fails() {
    let (code, message, _) =
        error_of("{{ nexus.customer_io_track(rename_properties={'value': 'event_type'}) }}");
    assert_eq!(code, "CIO120");
    assert_eq!(
        message,
        "two output columns would be named \"event_type\": column event_type and column value (renamed by rename_properties)"
    );
    let (code, message, _) = error_of(
        "{{ nexus.customer_io_track(rename_properties={'event_id': 'event_data_source'}) }}",
    );
    assert_eq!(code, "CIO120", "the default rename of source counts too");
    assert!(message.contains("\"event_data_source\""));
}

#[test]
fn track_unknown_user_id_column_fails_with_suggestions() {
    let (code, message, help) = error_of("{{ nexus.customer_io_track(user_id_column='emial') }}");
    assert_eq!(code, "CIO121");
    assert_eq!(
        message,
        "`user_id_column` is `emial`, which is not a column of ANALYTICS.NEXUS.nexus_entities"
    );
    assert!(help.starts_with("did you mean `email`?"), "{help}");
}

#[test]
fn track_missing_people_model_fails_naming_the_argument() {
    let (code, message, help) =
        error_of("{{ nexus.customer_io_track(people_model='customer_io_person') }}");
    assert_eq!(code, "CIO142");
    assert!(message.starts_with("`people_model` is `customer_io_person`, but the project has no model named customer_io_person"));
    assert!(
        help.starts_with("did you mean `customer_io_persons`?"),
        "{help}"
    );
    assert!(help.contains("people_model=none"));
}

#[test]
fn track_rejects_a_non_list_filter_argument() {
    let (code, message, _) = error_of("{{ nexus.customer_io_track(event_types={'a': 'b'}) }}");
    assert_eq!(code, "CIO104");
    assert!(message.starts_with("`event_types` must be a list of strings"));
}

#[test]
fn track_needs_the_nexus_tables_in_the_catalog() {
    let catalog = example_catalog().replace("- name: nexus_events", "- name: nexus_events_old");
    let dir = project(
        &[
            ("customer_io_persons.sql", PEOPLE),
            ("m.sql", "{{ nexus.customer_io_track() }}"),
        ],
        Some(&catalog),
    );
    let c = compile_dir(dir.path());
    let d = &model(&c, "m").diagnostics[0];
    assert_eq!(d.code, "CIO111", "{}", d.message);
    assert!(d.message.contains("nexus_events"));
}

#[test]
fn track_quotes_mixed_case_catalog_columns() {
    let catalog = example_catalog().replace(
        "      - {name: value_unit, data_type: VARCHAR(16777216)}\n",
        "      - {name: value_unit, data_type: VARCHAR(16777216)}\n      - {name: PageURL, data_type: VARCHAR(16777216)}\n      - {name: received_on, data_type: DATE}\n",
    );
    let dir = project(
        &[
            ("customer_io_persons.sql", PEOPLE),
            ("m.sql", "{{ nexus.customer_io_track() }}"),
        ],
        Some(&catalog),
    );
    let c = compile_dir(dir.path());
    let sql = model(&c, "m").sql().unwrap();
    assert!(
        sql.contains("    events.\"PageURL\" AS \"pageurl\",\n"),
        "{sql}"
    );
    assert!(sql.contains("    TO_TIMESTAMP_NTZ(events.received_on) AS \"received_on\",\n"));
}

// ---------------------------------------------------------------------------
// nexus.customer_io_objects

#[test]
fn objects_columns_traits_and_latest_row_per_group() {
    let sql = sql_of(
        "{{ nexus.customer_io_objects(object_type_id='4', ignore_traits=['email', 'first_name', 'last_name', 'phone_number', 'user_id', 'segment_anonymous_id', 'company_name', 'plan', 'lifetime_value', 'is_subscribed', 'signup_date', 'CamelCaseTrait', '_last_merged_at', 'last_interaction_at', 'first_interaction_at'], filters=\"status = 'open'\") }}",
    );
    assert_eq!(
        sql,
        "SELECT
    entity_id AS \"groupId\",
    '4' AS \"objectTypeId\",
    TO_TIMESTAMP_NTZ(_updated_at) AS \"timestamp\",
    status AS \"status\",
    name AS \"name\",
    TO_TIMESTAMP_NTZ(_updated_at) AS \"_updated_at\",
    TO_TIMESTAMP_NTZ(_created_at) AS \"created_at\"
FROM ANALYTICS.NEXUS.nexus_entities
WHERE entity_type = 'group'
  AND entity_id IS NOT NULL
  AND (status = 'open')
QUALIFY ROW_NUMBER() OVER (
    PARTITION BY entity_id
    ORDER BY _updated_at DESC NULLS LAST, entity_id ASC
) = 1
"
    );
    let c = compile_one("{{ nexus.customer_io_objects(object_type_id=4) }}");
    let m = model(&c, "m");
    assert_eq!(crate::support::cio_sync(&m.config), Some("group"));
    assert_eq!(config_str(m, "cio_object_type_id"), Some("4"));
    assert_eq!(config_str(m, "cio_timestamp_column"), Some("timestamp"));
    assert!(m.sql().unwrap().contains("    '4' AS \"objectTypeId\",\n"));
}

#[test]
fn objects_group_id_column_and_entity_type() {
    let sql = sql_of(
        "{{ nexus.customer_io_objects(object_type_id='2', entity_type=\"o'brien\", group_id_column='NAME') }}",
    );
    assert!(
        sql.starts_with("SELECT\n    NAME AS \"groupId\",\n"),
        "{sql}"
    );
    assert!(
        !sql.contains("name AS \"name\""),
        "the groupId column is not a trait: {sql}"
    );
    assert!(sql.contains("WHERE entity_type = 'o''brien'\n  AND NAME IS NOT NULL\n"));
    assert!(sql.contains("    PARTITION BY NAME\n"));
    let expr = sql_of(
        "{{ nexus.customer_io_objects(object_type_id='2', group_id_column=\"'loc-' || entity_id\") }}",
    );
    assert!(expr.starts_with("SELECT\n    'loc-' || entity_id AS \"groupId\",\n"));
    assert!(expr.contains("  AND ('loc-' || entity_id) IS NOT NULL\n"));
}

#[test]
fn objects_require_an_object_type_id() {
    for call in [
        "{{ nexus.customer_io_objects() }}",
        "{{ nexus.customer_io_objects(object_type_id='') }}",
        "{{ nexus.customer_io_objects(object_type_id=none) }}",
    ] {
        let (code, message, help) = error_of(call);
        assert_eq!(code, "CIO140", "{call}");
        assert!(
            message.starts_with("`object_type_id` is required"),
            "{message}"
        );
        assert!(help.contains("object_type_id='1'"), "{help}");
    }
}

#[test]
fn objects_object_type_id_is_a_number() {
    for bad in ["'locations'", "'-1'", "'0'", "1.5", "['1']"] {
        let (code, message, _) = error_of(&format!(
            "{{{{ nexus.customer_io_objects(object_type_id={bad}) }}}}"
        ));
        assert_eq!(code, "CIO141", "{bad}");
        assert!(
            message.starts_with("`object_type_id` must be the numeric id"),
            "{message}"
        );
    }
    assert!(
        sql_of("{{ nexus.customer_io_objects(object_type_id=' 12 ') }}")
            .contains("'12' AS \"objectTypeId\"")
    );
}

#[test]
fn objects_renamed_trait_colliding_with_a_customer_io_field_fails() {
    for target in [
        "groupId",
        "objectTypeId",
        "timestamp",
        "userId",
        "relationshipAttributes",
    ] {
        let (code, message, _) = error_of(&format!(
            "{{{{ nexus.customer_io_objects(object_type_id='1', rename_traits={{'status': '{target}'}}) }}}}"
        ));
        assert_eq!(code, "CIO120", "{target}");
        assert!(
            message.contains("column status (renamed by rename_traits)"),
            "{message}"
        );
    }
}

#[test]
fn objects_unknown_group_id_column_fails() {
    let (code, message, help) = error_of(
        "{{ nexus.customer_io_objects(object_type_id='1', group_id_column='entity_idd') }}",
    );
    assert_eq!(code, "CIO121");
    assert!(message.starts_with("`group_id_column` is `entity_idd`"));
    assert!(help.starts_with("did you mean `entity_id`"), "{help}");
}

// ---------------------------------------------------------------------------
// nexus.customer_io_relationships

const RELATIONSHIPS: &str =
    "{{ nexus.customer_io_relationships(object_type_id='1', object_entity_type='location') }}";

#[test]
fn relationships_default_attributes() {
    let sql = sql_of(RELATIONSHIPS);
    assert!(sql.starts_with(
        "SELECT
    attributed.\"groupId\" AS \"groupId\",
    attributed.\"objectTypeId\" AS \"objectTypeId\",
    attributed.\"userId\" AS \"userId\",
    attributed.\"timestamp\" AS \"timestamp\",
    OBJECT_CONSTRUCT(
        'is_most_recent', attributed.cio_attribute_1,
        'is_first', attributed.cio_attribute_2,
        'related_object_count', attributed.cio_attribute_3,
        'first_interaction_at', attributed.cio_attribute_4,
        'last_interaction_at', attributed.cio_attribute_5
    ) AS \"relationshipAttributes\"
FROM (
    SELECT
        pairs.\"groupId\" AS \"groupId\",
        '1' AS \"objectTypeId\",
        pairs.\"userId\" AS \"userId\",
        GREATEST_IGNORE_NULLS(TO_TIMESTAMP_NTZ(MAX(pairs._updated_at) OVER (PARTITION BY pairs.\"userId\")), pairs.last_interaction_at) AS \"timestamp\",
        ROW_NUMBER() OVER (PARTITION BY pairs.\"userId\" ORDER BY pairs.established_at DESC NULLS LAST, pairs.\"groupId\" ASC) = 1 AS cio_attribute_1,
        ROW_NUMBER() OVER (PARTITION BY pairs.\"userId\" ORDER BY pairs.established_at ASC NULLS LAST, pairs.\"groupId\" ASC) = 1 AS cio_attribute_2,
        COUNT(*) OVER (PARTITION BY pairs.\"userId\") AS cio_attribute_3,
        DATE_PART(EPOCH_SECOND, pairs.first_interaction_at) AS cio_attribute_4,
        DATE_PART(EPOCH_SECOND, pairs.last_interaction_at) AS cio_attribute_5
    FROM (
"
    ), "{sql}");
    // Either side of a relationship may be the person.
    assert!(sql.contains("(entity_a_type = 'person' AND entity_b_type = 'location')\n                OR (entity_a_type = 'location' AND entity_b_type = 'person')"));
    assert!(sql.contains("              AND is_active\n"));
    assert!(sql.contains("            email AS \"userId\"\n"));
    assert!(sql.contains("            entity_id AS \"groupId\"\n"));
    assert!(sql.contains("            WHERE entity_type = 'location'\n"));
    assert!(sql.contains("        ) AS interactions\n"));
    assert!(sql.contains("              AND object_participants.entity_type = 'location'\n"));
    assert!(sql.contains("        WHERE persons.\"userId\" IN (\n            SELECT \"userId\"\n            FROM ANALYTICS.CUSTOMER_IO.customer_io_persons\n        )\n"));
    assert!(sql.contains("            PARTITION BY objects.\"groupId\", persons.\"userId\"\n            ORDER BY relationships._updated_at DESC NULLS LAST, relationships.relationship_id ASC\n"));
    assert!(sql.ends_with("    ) AS pairs\n) AS attributed\n"), "{sql}");
    let c = compile_one(RELATIONSHIPS);
    let m = model(&c, "m");
    assert_eq!(crate::support::cio_sync(&m.config), Some("relationship"));
    assert_eq!(config_str(m, "cio_object_type_id"), Some("1"));
    assert_eq!(
        config_str(m, "cio_people_model"),
        Some("customer_io_persons")
    );
    assert_eq!(m.depends_on, vec!["customer_io_persons".to_string()]);
}

#[test]
fn relationships_without_attributes_skip_the_extra_joins() {
    let c = compile_one(
        "{{ nexus.customer_io_relationships(object_type_id='1', derived_attributes=[], active_only=false, relationship_types=['member_of', 'owner'], filters='established_at IS NOT NULL', people_model=none) }}",
    );
    let m = model(&c, "m");
    let sql = m.sql().unwrap();
    assert!(
        sql.contains("    OBJECT_CONSTRUCT() AS \"relationshipAttributes\"\n")
            && sql.contains(
                "        TO_TIMESTAMP_NTZ(pairs._updated_at) AS \"timestamp\"\n    FROM (\n"
            ),
        "{sql}"
    );
    assert!(
        !sql.contains("interactions") && !sql.contains("nexus_events"),
        "{sql}"
    );
    assert!(!sql.contains("is_active") && !sql.contains("customer_io_persons"));
    assert!(sql.contains("              AND relationship_type IN ('member_of', 'owner')\n              AND (established_at IS NOT NULL)\n        ) AS relationships\n"));
    assert!(
        m.relations
            .iter()
            .all(|r| !r.contains("NEXUS_EVENTS") && !r.contains("nexus_events"))
    );
    assert!(m.depends_on.is_empty());
}

#[test]
fn relationships_per_person_attribute_resyncs_the_person() {
    let sql = sql_of(
        "{{ nexus.customer_io_relationships(object_type_id='1', derived_attributes=['related_object_count']) }}",
    );
    assert!(sql.contains("        TO_TIMESTAMP_NTZ(MAX(pairs._updated_at) OVER (PARTITION BY pairs.\"userId\")) AS \"timestamp\",\n        COUNT(*) OVER (PARTITION BY pairs.\"userId\") AS cio_attribute_1\n"), "{sql}");
    assert!(!sql.contains("interactions"));
}

#[test]
fn relationships_rename_and_custom_attributes() {
    let sql = sql_of(
        "{{ nexus.customer_io_relationships(object_type_id='1', derived_attributes=['is_most_recent', 'last_interaction_at'], rename_attributes={'is_most_recent': 'is_home'}, custom_attributes={'role': 'person_role', 'since': 'DATE_PART(EPOCH_SECOND, established_at)'}) }}",
    );
    assert!(
        sql.contains(
            "    OBJECT_CONSTRUCT(
        'is_home', attributed.cio_attribute_1,
        'last_interaction_at', attributed.cio_attribute_2,
        'role', attributed.cio_attribute_3,
        'since', attributed.cio_attribute_4
    ) AS \"relationshipAttributes\""
        ),
        "{sql}"
    );
    assert!(sql.contains(
        "        ROW_NUMBER() OVER (PARTITION BY pairs.\"userId\" ORDER BY pairs.established_at DESC NULLS LAST, pairs.\"groupId\" ASC) = 1 AS cio_attribute_1,
        DATE_PART(EPOCH_SECOND, pairs.last_interaction_at) AS cio_attribute_2,
        person_role AS cio_attribute_3,
        DATE_PART(EPOCH_SECOND, established_at) AS cio_attribute_4
"
    ), "{sql}");
}

#[test]
fn relationships_unknown_derived_attribute_fails() {
    let (code, message, help) = error_of(
        "{{ nexus.customer_io_relationships(object_type_id='1', derived_attributes=['is_most_recnt']) }}",
    );
    assert_eq!(code, "CIO143");
    assert_eq!(
        message,
        "`derived_attributes` lists `is_most_recnt`, which is not a derived relationship attribute"
    );
    assert!(help.starts_with("did you mean `is_most_recent`?"), "{help}");
    assert!(help.contains("custom_attributes"));
}

#[test]
fn relationships_attribute_names_must_be_unique() {
    let (code, message, help) = error_of(
        "{{ nexus.customer_io_relationships(object_type_id='1', custom_attributes={'IS_FIRST': 'TRUE'}) }}",
    );
    assert_eq!(code, "CIO144");
    assert_eq!(
        message,
        "two relationship attributes would be named \"IS_FIRST\": derived attribute is_first and custom_attributes entry IS_FIRST"
    );
    assert!(help.contains("rename_attributes"));
    let (code, message, _) = error_of(
        "{{ nexus.customer_io_relationships(object_type_id='1', rename_attributes={'is_first': 'is_most_recent'}) }}",
    );
    assert_eq!(code, "CIO144");
    assert!(message.contains("derived attribute is_most_recent and derived attribute is_first (renamed by rename_attributes)"), "{message}");
}

#[test]
fn relationships_warn_about_renaming_an_unused_attribute() {
    let warnings = warnings_of(
        "{{ nexus.customer_io_relationships(object_type_id='1', derived_attributes=['is_first'], rename_attributes={'is_most_recent': 'home'}) }}",
    );
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].0, "CIO130");
    assert!(
        warnings[0]
            .1
            .starts_with("rename_attributes renames `is_most_recent`")
    );
}

#[test]
fn relationships_require_an_object_type_id() {
    let (code, message, _) = error_of("{{ nexus.customer_io_relationships() }}");
    assert_eq!(code, "CIO140");
    assert!(message.starts_with("`object_type_id` is required"));
}

#[test]
fn relationships_missing_people_model_fails_naming_the_argument() {
    let dir = project(
        &[(
            "m.sql",
            "{{ nexus.customer_io_relationships(object_type_id='1') }}",
        )],
        None,
    );
    let c = compile_dir(dir.path());
    let d = &model(&c, "m").diagnostics[0];
    assert_eq!(d.code, "CIO142");
    assert_eq!(d.file.as_deref(), Some(Path::new("models/m.sql")));
    assert!(d.message.starts_with("`people_model` is `customer_io_persons`, but the project has no model named customer_io_persons"));
    assert!(d.help.as_deref().unwrap().contains("people_model=none"));
}

#[test]
fn relationships_unknown_id_columns_fail() {
    let (code, message, _) = error_of(
        "{{ nexus.customer_io_relationships(object_type_id='1', user_id_column='usr_id') }}",
    );
    assert_eq!(code, "CIO121");
    assert!(message.starts_with("`user_id_column` is `usr_id`"));
    let (code, message, _) = error_of(
        "{{ nexus.customer_io_relationships(object_type_id='1', group_id_column='grp') }}",
    );
    assert_eq!(code, "CIO121");
    assert!(message.starts_with("`group_id_column` is `grp`"));
}

#[test]
fn error_messages_snapshot() {
    let cases = [
        (
            "missing_object_type",
            "{{ nexus.customer_io_objects(entity_type='location') }}",
        ),
        (
            "bad_object_type",
            "{{ nexus.customer_io_objects(object_type_id='locations') }}",
        ),
        (
            "rename_to_event",
            "{{ nexus.customer_io_track(\n    rename_properties={'event_type': 'event'}\n) }}",
        ),
        (
            "unknown_user_id",
            "{{ nexus.customer_io_track(user_id_column='emial') }}",
        ),
        (
            "missing_people_model",
            "{{ nexus.customer_io_relationships(\n    object_type_id='1',\n    people_model='customer_io_person'\n) }}",
        ),
        (
            "unknown_attribute",
            "{{ nexus.customer_io_relationships(object_type_id='1', derived_attributes=['first']) }}",
        ),
    ];
    let mut text = String::new();
    for (name, source) in cases {
        let c = compile_one(source);
        let d = model(&c, "m")
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .unwrap_or_else(|| panic!("{name}: no error"));
        text.push_str(&format!("## {name}\n{}\n\n", d.render(false)));
    }
    snapshot!("sync_types__errors", text);
}

// ---------------------------------------------------------------------------
// Hand-written sync models and sync-query errors

#[test]
fn a_hand_written_model_declares_its_sync_type() {
    let c = compile_one(
        "{{ config(cio_sync='track') }}\nSELECT\n    event_id AS \"userId\",\n    event_name AS \"event\",\n    occurred_at AS Timestamp\nFROM {{ ref('nexus_events') }}",
    );
    // The contract check warns at compile time (CIO211) ...
    let m = model(&c, "m");
    assert_eq!(m.status, ModelStatus::Success);
    assert_eq!(m.diagnostics[0].code, "CIO211");
    assert_eq!(m.diagnostics[0].line, Some(5));
    // ... and sync-query says the same in its mapping.
    let s = &sync_query(&c, Some("m")).unwrap()[0];
    assert_eq!(s.sync_type, SyncType::TRACK);
    assert_eq!(s.timestamp_column, "timestamp");
    assert_eq!(
        s.warnings,
        vec![
            "column TIMESTAMP is not timestamp: Customer.io matches names case-sensitively; alias it quoted, AS \"timestamp\"".to_string(),
            "the model has no \"timestamp\" column, so the incremental query fails; set cio_timestamp_column to the column that records when a row changed".to_string(),
        ]
    );
    let text = render_setup(s);
    assert!(text.contains("Sync type: Track (events)"));
    assert!(text.contains("warning: column TIMESTAMP is not timestamp"));
}

#[test]
fn a_group_sync_reads_user_id_and_anonymous_id_as_fields_not_attributes() {
    // Customer.io's group call carries an optional userId or anonymousId,
    // which relates a person to the object: the contract checks and
    // sync-query read them from one table, as fields.
    let c = compile_one(
        "{{ config(cio_sync='group') }}\nSELECT\n    event_id AS \"groupId\",\n    '1' AS \"objectTypeId\",\n    source AS \"userId\",\n    event_type AS \"anonymousId\",\n    value_unit AS \"plan\"\nFROM {{ ref('nexus_events') }}",
    );
    let m = model(&c, "m");
    assert_eq!(m.status, ModelStatus::Success);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let s = &sync_query(&c, Some("m")).unwrap()[0];
    assert_eq!(s.other_columns, vec!["plan".to_string()]);
    let fed: Vec<(&str, Option<&str>)> = s
        .mapping
        .iter()
        .map(|f| (f.field.as_str(), f.column.as_deref()))
        .collect();
    assert!(fed.contains(&("userId", Some("userId"))), "{fed:?}");
    assert!(
        fed.contains(&("anonymousId", Some("anonymousId"))),
        "{fed:?}"
    );
}

#[test]
fn a_model_breaking_the_contract_fails_and_sync_query_shows_why() {
    let c = compile_one(
        "{{ config(cio_sync='track') }}\nSELECT\n    event_id AS \"userId\",\n    event_name AS Event,\n    occurred_at AS \"timestamp\"\nFROM {{ ref('nexus_events') }}",
    );
    assert_eq!(model(&c, "m").status, ModelStatus::Error);
    let err = sync_query(&c, Some("m")).unwrap_err();
    assert!(matches!(err, ReportError::Unavailable(_)), "{err:?}");
    let d = &err.diagnostics()[0];
    assert_eq!(d.code, "CIO202");
    assert_eq!((d.line, d.column), (Some(4), Some(19)));
    assert!(
        d.message.contains("`EVENT` is meant to be `event`"),
        "{}",
        d.message
    );
}

#[test]
fn a_hand_written_model_with_its_own_timestamp_column() {
    let c = compile_one(
        "{{ config(cio_sync='group', cio_timestamp_column='changed_at') }}\nSELECT\n    entity_id AS \"groupId\",\n    '3' AS \"objectTypeId\",\n    _updated_at AS \"changed_at\",\n    name AS \"name\"\nFROM {{ ref('nexus_entities') }}",
    );
    let s = &sync_query(&c, Some("m")).unwrap()[0];
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert!(s.query.ends_with(
        "WHERE TO_TIMESTAMP_NTZ(\"changed_at\") > TO_TIMESTAMP_NTZ({{last_sync_time}})"
    ));
    assert_eq!(
        s.other_columns,
        vec!["changed_at".to_string(), "name".to_string()]
    );
}

#[test]
fn sync_query_warns_about_plain_columns_of_a_relationships_sync() {
    let c = compile_one(
        "{{ config(cio_sync='relationship') }}\nSELECT\n    entity_id AS \"groupId\",\n    '1' AS \"objectTypeId\",\n    email AS \"userId\",\n    _updated_at AS \"timestamp\",\n    name AS \"name\"\nFROM {{ ref('nexus_entities') }}",
    );
    let s = &sync_query(&c, Some("m")).unwrap()[0];
    assert_eq!(
        s.warnings,
        vec![
            "name would land on the object, not on the relationship; move them into \"relationshipAttributes\"".to_string()
        ]
    );
}

#[test]
fn a_missing_required_column_fails_compile() {
    let c = compile_one(
        "{{ config(cio_sync='relationship') }}\nSELECT\n    entity_id AS \"groupId\",\n    email AS \"userId\",\n    _updated_at AS \"timestamp\"\nFROM {{ ref('nexus_entities') }}",
    );
    let err = sync_query(&c, Some("m")).unwrap_err();
    assert!(matches!(err, ReportError::Unavailable(_)), "{err:?}");
    assert_eq!(err.diagnostics()[0].code, "CIO201");
    assert_eq!(
        err.diagnostics()[0].message,
        "relationship syncs need a `objectTypeId` column"
    );
}

#[test]
fn sync_query_unknown_model_exits_2_with_suggestions() {
    let c = example();
    let err = sync_query(&c, Some("customer_io_event")).unwrap_err();
    assert!(matches!(err, ReportError::NoSuchModel(_)), "{err:?}");
    let d = &err.diagnostics()[0];
    assert_eq!(d.code, "CIO145");
    assert_eq!(
        d.message,
        "the project has no model named customer_io_event"
    );
    assert!(
        d.help
            .as_deref()
            .unwrap()
            .starts_with("did you mean `customer_io_events`")
    );
}

#[test]
fn sync_query_model_without_sync_type_exits_1() {
    let c = compile_one("SELECT 1 AS x");
    let err = sync_query(&c, Some("m")).unwrap_err();
    assert!(matches!(err, ReportError::Unavailable(_)), "{err:?}");
    assert_eq!(err.diagnostics()[0].code, "CIO147");
    assert!(
        err.diagnostics()[0]
            .message
            .contains("has no Customer.io sync type")
    );
    assert!(
        err.diagnostics()[0]
            .help
            .as_deref()
            .unwrap()
            .contains("config(cio_sync='identify')")
    );
}

#[test]
fn sync_query_rejects_an_unknown_sync_type() {
    let c = compile_one("{{ config(cio_sync='people') }}\nSELECT 1 AS x");
    let err = sync_query(&c, Some("m")).unwrap_err();
    assert!(matches!(err, ReportError::Unavailable(_)), "{err:?}");
    assert_eq!(err.diagnostics()[0].code, "CIO146");
    assert!(sync_models(&c).iter().all(|(m, _)| m.name != "m"));
}

#[test]
fn sync_query_on_a_failed_model_exits_1_with_its_error() {
    let c = compile_one("{{ nexus.customer_io_objects() }}");
    let err = sync_query(&c, Some("m")).unwrap_err();
    assert!(matches!(err, ReportError::Unavailable(_)), "{err:?}");
    assert_eq!(err.diagnostics()[0].code, "CIO140");
}

// ---------------------------------------------------------------------------
// Reading output columns

#[test]
fn sync_query_reads_the_analysed_output_columns() {
    // Through a CTE and `p.*`, a join column under an alias, and an
    // unaliased expression, whose generated name sync-query cannot know.
    let c = compile_one(
        "{{ config(cio_sync='identify') }}\nWITH p AS (\n    SELECT user_id AS \"userId\", _updated_at AS \"timestamp\"\n    FROM {{ ref('nexus_entities') }}\n)\nSELECT p.*, j.state_value AS \"journey\", LOWER(j.state_value)\nFROM p\nJOIN {{ ref('high_level_customer_journey') }} AS j ON j.entity_id = p.\"userId\"",
    );
    let m = model(&c, "m");
    assert_eq!(m.status, ModelStatus::Success);
    let codes: Vec<&str> = m.diagnostics.iter().map(|d| d.code.id()).collect();
    assert_eq!(codes, vec!["CIO210"]);
    let s = &sync_query(&c, Some("m")).unwrap()[0];
    let mapped: Vec<(&str, Option<&str>)> = s
        .mapping
        .iter()
        .map(|m| (m.field.as_str(), m.column.as_deref()))
        .collect();
    assert_eq!(
        mapped,
        vec![
            ("userId", Some("userId")),
            ("anonymousId", None),
            ("timestamp", Some("timestamp"))
        ]
    );
    assert_eq!(s.other_columns, vec!["journey".to_string()]);
    assert_eq!(s.unknown_columns, vec!["LOWER(J.STATE_VALUE)".to_string()]);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn sync_query_says_when_the_columns_are_unknown() {
    let c = compile_one(
        "{{ config(cio_sync='identify') }}\nSELECT t.*\nFROM RAW.STRIPE.CUSTOMERS AS t",
    );
    let m = model(&c, "m");
    assert_eq!(m.status, ModelStatus::Success);
    assert_eq!(m.diagnostics[0].code, "CIO160");
    assert!(m.columns().is_empty());
    let s = &sync_query(&c, Some("m")).unwrap()[0];
    assert!(s.mapping.iter().all(|m| m.column.is_none()));
    assert_eq!(
        s.unknown_columns,
        vec!["the output columns (cannot expand `*`: the columns of RAW.STRIPE.CUSTOMERS are not known)".to_string()]
    );
    // Nothing is claimed missing when the columns are not known.
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert!(render_setup(s).contains("not read from the SQL: the output columns"));
}

// ---------------------------------------------------------------------------
// The command, end to end

fn cio_sql() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("cio-sql").expect("the binary");
    cmd.env("NO_COLOR", "1").env_remove("DBT_PROFILES_DIR");
    cmd
}

#[test]
fn cli_sync_query_prints_the_plan() {
    let out = cio_sql()
        .args(["sync-query", "--project-dir"])
        .arg(repo())
        .arg("--profiles-dir")
        .arg(repo())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, render_plan(&example()));
    assert!(stdout.contains("TO_TIMESTAMP_NTZ({{last_sync_time}})"));
}

#[test]
fn cli_sync_query_exit_codes() {
    let unknown = cio_sql()
        .args(["sync-query", "customer_io_event", "--project-dir"])
        .arg(repo())
        .arg("--profiles-dir")
        .arg(repo())
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("error[CIO145]") && stderr.contains("did you mean `customer_io_events`"),
        "{stderr}"
    );

    let dir = project(&[("plain.sql", "SELECT 1 AS x")], None);
    let plain = cio_sql()
        .args(["sync-query", "plain", "--project-dir"])
        .arg(dir.path())
        .arg("--profiles-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("error[CIO147]"));
    assert!(plain.stdout.is_empty());
}

#[test]
fn cli_sync_query_json_lines() {
    let out = cio_sql()
        .args(["sync-query", "--log-format", "json", "--project-dir"])
        .arg(repo())
        .arg("--profiles-dir")
        .arg(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 16);
    assert_eq!(lines[0]["event"], "sync_query");
    assert_eq!(lines[0]["order"], 1);
    assert_eq!(lines[0]["sync_type"], "identify");
    assert_eq!(lines[7]["model"], "customer_io_events");
    assert!(
        lines[7]["query"]
            .as_str()
            .unwrap()
            .ends_with("> DATEADD(second, -300, TO_TIMESTAMP_NTZ({{last_sync_time}}))")
    );
    assert!(lines[7]["delete_query"].is_null(), "events are not deleted");
    assert!(
        lines[0]["delete_query"]
            .as_str()
            .unwrap()
            .contains("'User Deleted' AS \"event\"")
    );
}
