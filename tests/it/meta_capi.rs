//! `nexus.meta_capi_events`: the Meta Conversions API events table, its
//! SQL pinned by snapshots, and its compile-time errors.

use crate::meta_hash::sha256_hex;
use crate::support::{TestProject, render_all, snapshots};

/// Entities with every user_data source, events with clear fields and
/// custom data, participants.
pub const CATALOG: &str = r#"relations:
  - name: nexus_entities
    schema: NEXUS
    columns:
      - {name: entity_id, data_type: VARCHAR}
      - {name: entity_type, data_type: VARCHAR}
      - {name: email, data_type: VARCHAR}
      - {name: phone_number, data_type: VARCHAR}
      - {name: first_name, data_type: VARCHAR}
      - {name: last_name, data_type: VARCHAR}
      - {name: gender, data_type: VARCHAR}
      - {name: date_of_birth, data_type: DATE}
      - {name: city, data_type: VARCHAR}
      - {name: state, data_type: VARCHAR}
      - {name: zip, data_type: VARCHAR}
      - {name: country, data_type: VARCHAR}
      - {name: user_id, data_type: VARCHAR}
      - {name: _updated_at, data_type: TIMESTAMP_NTZ}
  - name: nexus_events
    schema: NEXUS
    columns:
      - {name: event_id, data_type: VARCHAR}
      - {name: occurred_at, data_type: TIMESTAMP_NTZ}
      - {name: event_name, data_type: VARCHAR}
      - {name: event_type, data_type: VARCHAR}
      - {name: source, data_type: VARCHAR}
      - {name: value, data_type: "NUMBER(38,2)"}
      - {name: currency, data_type: VARCHAR}
      - {name: page_url, data_type: VARCHAR}
      - {name: user_agent, data_type: VARCHAR}
      - {name: ip_address, data_type: VARCHAR}
      - {name: fbp, data_type: VARCHAR}
      - {name: coupon_code, data_type: VARCHAR}
      - {name: _ingested_at, data_type: TIMESTAMP_NTZ}
  - name: nexus_entity_participants
    schema: NEXUS
    columns:
      - {name: event_id, data_type: VARCHAR}
      - {name: entity_id, data_type: VARCHAR}
      - {name: entity_type, data_type: VARCHAR}
"#;

fn project(model: &str) -> TestProject {
    let p = TestProject::new();
    p.file("catalog.yml", CATALOG);
    p.model("meta_events", model);
    p
}

#[test]
fn website_purchases_sql() {
    let p = project(
        "{{ nexus.meta_capi_events(\n    event_names={'order_completed': 'Purchase', 'signed_up': 'CompleteRegistration'},\n    action_source='website',\n    calling_code='1'\n) }}",
    );
    let sql = p.sql("meta_events");
    snapshots(|| insta::assert_snapshot!("meta_capi_events_website", sql));
}

#[test]
fn store_visits_with_mapped_user_data_sql() {
    let p = project(
        "{{ nexus.meta_capi_events(\n    event_names=['Purchase'],\n    action_source='physical_store',\n    user_data={'em': 'email', 'ph': none, 'external_id': 'entity_id', 'ge': none},\n    clear_user_data={'client_ip_address': none},\n    sources=['pos'],\n    ignore_properties=['page_url', 'user_agent'],\n    rename_properties={'coupon_code': 'coupon'},\n    date_of_birth_format='date'\n) }}",
    );
    let sql = p.sql("meta_events");
    snapshots(|| insta::assert_snapshot!("meta_capi_events_store", sql));
}

#[test]
fn the_model_is_a_meta_events_sync() {
    let p = project(
        "{{ nexus.meta_capi_events(event_names={'order_completed': 'Purchase'}, action_source='app') }}",
    );
    let c = p.compile();
    let m = c.model("meta_events").unwrap();
    assert!(
        m.diagnostics.iter().all(|d| !d.is_error()),
        "{}",
        render_all(&m.diagnostics)
    );
    assert!(
        m.diagnostics
            .iter()
            .all(|d| d.code != "CIO164" && d.code != "CIO227"),
        "the macro's hashes pass the Meta checks:\n{}",
        render_all(&m.diagnostics)
    );
    let config = &m.config.values;
    assert_eq!(config["cio_destination"], "meta_capi");
    assert_eq!(config["cio_sync"], "events");
    let names: Vec<String> = m.columns().into_iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "event_name",
            "event_time",
            "event_id",
            "action_source",
            "event_source_url",
            "em",
            "ph",
            "fn",
            "ln",
            "ge",
            "db",
            "ct",
            "st",
            "zp",
            "country",
            "external_id",
            "client_ip_address",
            "client_user_agent",
            "fbp",
            "event_type",
            "source",
            "value",
            "currency",
            "coupon_code",
        ]
    );
}

#[test]
fn bad_arguments_are_errors_with_fixes() {
    let cases = [
        (
            "{{ nexus.meta_capi_events(action_source='app') }}",
            "CIO223",
            "event_names={'order_completed': 'Purchase'",
        ),
        (
            "{{ nexus.meta_capi_events(event_names={}, action_source='app') }}",
            "CIO223",
            "is empty",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase']) }}",
            "CIO224",
            "is required",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase'], action_source='web') }}",
            "CIO224",
            "website",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase'], action_source='app', user_data={'email': 'email'}) }}",
            "CIO221",
            "did you mean `em`?",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase'], action_source='app', user_data={'fbp': 'fbp'}) }}",
            "CIO221",
            "clear_user_data",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase'], action_source='app', user_data={'em': 'mail'}) }}",
            "CIO121",
            "email",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase'], action_source='website', event_source_url_column='landing') }}",
            "CIO121",
            "page_url",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase'], action_source='website', clear_user_data={'client_user_agent': none}) }}",
            "CIO226",
            "client_user_agent",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase'], action_source='app', calling_code='one') }}",
            "CIO222",
            "calling_code='1'",
        ),
        (
            "{{ nexus.meta_capi_events(event_names=['Purchase'], action_source='app', user_data={'em': none, 'ph': none, 'fn': none, 'ln': none, 'ge': none, 'db': none, 'ct': none, 'st': none, 'zp': none, 'country': none, 'external_id': none}, clear_user_data={'client_ip_address': none, 'client_user_agent': none, 'fbp': none}) }}",
            "CIO225",
            "user_data={'em': 'contact_email'}",
        ),
    ];
    for (model, code, help) in cases {
        let p = project(model);
        let diags = p.errors("meta_events");
        let shown = render_all(&diags);
        assert!(
            diags.iter().any(|d| d.code == code),
            "{model}: expected {code}, got\n{shown}"
        );
        assert!(
            shown.contains(help),
            "{model}: expected {help:?} in\n{shown}"
        );
    }
}

/// A hand-written Meta events model with `user_data` written as `em_sql`.
fn hand_written(em_sql: &str, action_source: &str) -> String {
    format!(
        "{{{{ config(cio_destination='meta_capi', cio_sync='events') }}}}\nSELECT\n    e.event_name AS \"event_name\",\n    DATE_PART(EPOCH_SECOND, e.occurred_at) AS \"event_time\",\n    e.event_id AS \"event_id\",\n    '{action_source}' AS \"action_source\",\n    {em_sql} AS \"em\"\nFROM {{{{ ref('nexus_events') }}}} AS e\nJOIN {{{{ ref('nexus_entity_participants') }}}} AS p ON p.event_id = e.event_id\nJOIN {{{{ ref('nexus_entities') }}}} AS n ON n.entity_id = p.entity_id"
    )
}

fn codes_of(model: &str) -> (Vec<String>, String) {
    let p = project(model);
    let diags = p.errors("meta_events");
    (
        diags.iter().map(|d| d.code.to_string()).collect(),
        render_all(&diags),
    )
}

#[test]
fn unhashed_pii_is_an_error_naming_the_column_and_the_helper() {
    for em in [
        "n.email",
        "LOWER(TRIM(n.email))",
        "SHA2(n.email, 256)",
        "SHA2(LOWER(n.email), 512)",
        "MD5(LOWER(n.email))",
    ] {
        let (codes, shown) = codes_of(&hand_written(em, "app"));
        assert!(codes.contains(&"CIO227".to_string()), "{em}:\n{shown}");
        assert!(shown.contains("`em`"), "{em}: names the column\n{shown}");
        assert!(
            shown.contains("nexus.meta_hash('email', 'em')"),
            "{em}: names the helper\n{shown}"
        );
        assert!(
            shown.contains("meta_events.sql:7"),
            "{em}: at the line\n{shown}"
        );
    }
    let (codes, shown) = codes_of(&hand_written(
        "{{ nexus.meta_hash('n.email', 'em') }}",
        "app",
    ));
    assert!(codes.is_empty(), "{shown}");
    let (codes, shown) = codes_of(&hand_written("SHA2(LOWER(TRIM(n.email)), 256)", "app"));
    assert!(codes.is_empty(), "{shown}");
}

#[test]
fn a_pass_through_under_its_own_name_is_a_warning() {
    let p = project(&hand_written("n.email", "app"));
    p.model(
        "meta_again",
        "{{ config(cio_destination='meta_capi', cio_sync='events') }}\nSELECT \"event_name\", \"event_time\", \"event_id\", \"action_source\", \"em\" FROM {{ ref('meta_events') }}",
    );
    let diags = p.errors("meta_again");
    let shown = render_all(&diags);
    assert!(diags.iter().any(|d| d.code == "CIO164"), "{shown}");
    assert!(diags.iter().all(|d| !d.is_error()), "{shown}");
}

#[test]
fn action_source_and_required_columns_are_checked() {
    let (codes, shown) = codes_of(&hand_written("NULL", "web"));
    assert!(codes.contains(&"CIO224".to_string()), "{shown}");
    assert!(shown.contains("did you mean `website`?"), "{shown}");
    let (codes, shown) = codes_of(&hand_written("NULL", "website"));
    assert_eq!(
        codes.iter().filter(|c| *c == "CIO226").count(),
        2,
        "event_source_url and client_user_agent:\n{shown}"
    );
    let model = hand_written("NULL", "app").replace("    e.event_id AS \"event_id\",\n", "");
    let (codes, shown) = codes_of(&model);
    assert!(codes.contains(&"CIO201".to_string()), "{shown}");
    assert!(shown.contains("event_id"), "{shown}");
}

#[test]
fn the_registry_gives_meta_models_their_data_tests() {
    let p = project(
        "{{ nexus.meta_capi_events(event_names={'order_completed': 'Purchase'}, action_source='app') }}",
    );
    let c = p.compile();
    let tests = cio_sql::compile::data_tests::contract_tests(&c);
    let find = |name: &str| {
        tests
            .iter()
            .find(|t| t.name.starts_with(&format!("cio_{name}_")))
            .unwrap_or_else(|| {
                panic!(
                    "no {name} test: {:?}",
                    tests.iter().map(|t| &t.name).collect::<Vec<_>>()
                )
            })
    };
    let sha = find("sha256_hex");
    for key in ["\"em\"", "\"ph\"", "\"external_id\""] {
        assert!(sha.sql.contains(key), "{}", sha.sql);
    }
    assert!(!sha.sql.contains("\"fbp\""), "{}", sha.sql);
    assert!(find("unix_seconds").sql.contains("\"event_time\""));
    assert!(find("accepted_value").sql.contains("'physical_store'"));
    assert!(find("unique_key").sql.contains("\"event_id\""));
    assert!(find("not_null").sql.contains("\"action_source\" IS NULL"));
    let age = find("event_time_recent");
    assert_eq!(
        age.severity,
        cio_sql::compile::data_tests::TestSeverity::Warn
    );
    assert!(
        age.sql
            .contains("\"event_time\" < DATE_PART(EPOCH_SECOND, CURRENT_TIMESTAMP()) - 604800"),
        "{}",
        age.sql
    );
}

/// The example model `models/meta/meta_capi_purchases.sql` built on the
/// emulator, with one buyer's row made messy (spaces, case, punctuation, a
/// phone number with a national prefix and an extension): every hash is
/// compared with a SHA-256 computed here from the normalised value.
#[test]
fn the_example_purchases_build_with_hashes_computed_here() {
    use crate::support::emulator_cli::{cio, connect, query, records};
    let server = crate::support::fakesnow::shared();
    let dir = crate::emulator_e2e::example_project("E2E_META", &server.base_url());
    let seed = dir.path().join("seeds/nexus_entities.csv");
    let text = std::fs::read_to_string(&seed).unwrap();
    let messy = text
        .lines()
        .map(|l| {
            if let Some(rest) = l.strip_prefix("per_06,person,BOB@example.com,Bob,Dated,,") {
                format!("per_06,person,  BOB@Example.COM ,\" José \",O'Brien-Smith,\"+1 (650) 555-1212 ext. 9\",{rest}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(
        messy.trim_end(),
        text.trim_end(),
        "the per_06 row is in the seed"
    );
    std::fs::write(&seed, messy + "\n").unwrap();

    let run = cio(dir.path(), &["build", "--select", "+meta_capi_purchases"]);
    assert_eq!(
        run.code,
        0,
        "{}\n{}\n{}",
        run.stdout,
        run.stderr,
        server.log_tail()
    );
    let wh = connect(dir.path());
    let rows = records(&query(
        wh.as_ref(),
        "SELECT * FROM E2E_META.CUSTOMER_IO.meta_capi_purchases ORDER BY \"event_id\"",
    ));
    // The example project is change-tracked: its bookkeeping columns
    // follow the model's own.
    let columns: Vec<&str> = rows[0]
        .keys()
        .map(String::as_str)
        .filter(|c| !c.starts_with("__cio_sql_"))
        .collect();
    assert_eq!(
        columns,
        [
            "event_name",
            "event_time",
            "event_id",
            "action_source",
            "em",
            "ph",
            "fn",
            "ln",
            "external_id",
            "event_description",
            "event_type",
            "value",
            "currency",
            "significance",
            "source"
        ]
    );
    assert_eq!(rows.len(), 2, "the two Order Placed events: {rows:?}");
    let number = |v: &serde_json::Value| -> f64 {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("not a number: {v}"))
    };
    // evt_01: Ann, the lower of her two entity ids (per_01).
    let ann = &rows[0];
    assert_eq!(ann["event_id"], "evt_01");
    assert_eq!(ann["event_name"], "Purchase");
    assert_eq!(
        number(&ann["event_time"]),
        1_709_287_200.0,
        "2024-03-01 10:00:00 UTC"
    );
    assert_eq!(ann["action_source"], "other");
    assert_eq!(ann["em"], sha256_hex("ann@example.com"));
    assert_eq!(ann["ph"], sha256_hex("49301111"));
    assert_eq!(ann["fn"], sha256_hex("ann"));
    assert_eq!(ann["ln"], sha256_hex("older"));
    assert_eq!(ann["external_id"], sha256_hex("u_ann_old"));
    assert_eq!(number(&ann["value"]), 120.5);
    assert_eq!(ann["currency"], "EUR");
    // evt_03: the messy row.
    let bob = &rows[1];
    assert_eq!(bob["event_id"], "evt_03");
    assert_eq!(bob["em"], sha256_hex("bob@example.com"));
    assert_eq!(bob["ph"], sha256_hex("16505551212"));
    assert_eq!(bob["fn"], sha256_hex("josé"));
    assert_eq!(bob["ln"], sha256_hex("obriensmith"));
    assert_eq!(bob["external_id"], sha256_hex("u_bob"));
    for row in &rows {
        for key in ["em", "ph", "fn", "ln", "external_id"] {
            let h = row[key].as_str().unwrap();
            assert!(
                h.len() == 64
                    && h.chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{key}: {h}"
            );
        }
    }
}
