//! nexus.customer_io_identify: every rule, error and warning of its contract.

use crate::support::{TestProject, aliases, render_all, snapshots};

fn identify(args: &str) -> String {
    let p = TestProject::new();
    p.model(
        "people",
        &format!("{{{{ nexus.customer_io_identify({args}) }}}}\n"),
    );
    p.sql("people")
}

fn identify_errors(args: &str) -> Vec<cio_sql::diagnostics::Diagnostic> {
    let p = TestProject::new();
    p.model(
        "people",
        &format!("select 1 as a\n{{# comment #}}\n{{{{ nexus.customer_io_identify({args}) }}}}\n"),
    );
    p.errors("people")
}

#[test]
fn column_order_and_trait_names() {
    let sql = identify("");
    assert_eq!(
        aliases(&sql),
        vec![
            "userId",
            "timestamp",
            "email",
            "first_name",
            "last_name",
            "phone_number",
            "status",
            "segment_anonymous_id",
            "account_number",
            "signup_date",
            "trial_ends",
            "local_seen_at",
            "camelcasetrait",
            "shouty_trait",
            "_updated_at",
            "created_at",
        ]
    );
    assert!(sql.starts_with("SELECT\n    user_id AS \"userId\",\n    TO_TIMESTAMP_NTZ(_updated_at) AS \"timestamp\",\n"), "{sql}");
    assert!(!sql.trim_end().ends_with(';'), "no trailing semicolon");
}

#[test]
fn system_and_id_columns_are_not_traits() {
    let sql = identify("");
    for system in [
        "    entity_id AS",
        "    entity_type AS",
        "_processed_at",
        "traits_entity_id",
        "user_id AS \"user_id\"",
    ] {
        assert!(
            !sql.contains(system),
            "{system} must not be a trait:\n{sql}"
        );
    }
    let sql = identify("anonymous_id_column='segment_anonymous_id'");
    assert_eq!(&aliases(&sql)[..3], ["userId", "anonymousId", "timestamp"]);
    assert!(!aliases(&sql).contains(&"segment_anonymous_id".to_string()));
}

#[test]
fn anonymous_id_only_when_given() {
    assert!(!identify("").contains("anonymousId"));
    let sql = identify("anonymous_id_column='segment_anonymous_id'");
    assert!(sql.contains("    segment_anonymous_id AS \"anonymousId\",\n"));
    assert!(
        sql.contains("AND (user_id IS NOT NULL OR segment_anonymous_id IS NOT NULL)"),
        "{sql}"
    );
}

#[test]
fn user_id_expression_is_pasted_as_written() {
    let sql = identify("user_id_column='COALESCE(user_id, segment_anonymous_id)'");
    assert!(
        sql.contains("    COALESCE(user_id, segment_anonymous_id) AS \"userId\",\n"),
        "{sql}"
    );
    assert!(
        sql.contains("AND (COALESCE(user_id, segment_anonymous_id)) IS NOT NULL"),
        "{sql}"
    );
    // An expression names no column, so user_id stays a trait.
    assert!(sql.contains("user_id AS \"user_id\""), "{sql}");
}

#[test]
fn ignore_and_rename_are_case_insensitive() {
    let sql = identify(
        "ignore_traits=['PHONE_NUMBER', 'camelcasetrait'], rename_traits={'First_Name': 'firstName'}, user_id_column='USER_ID', dedupe_column='EMAIL'",
    );
    let a = aliases(&sql);
    assert!(!a.contains(&"phone_number".to_string()));
    assert!(!a.contains(&"camelcasetrait".to_string()));
    assert!(a.contains(&"firstName".to_string()), "{a:?}");
    assert!(sql.contains("USER_ID AS \"userId\""), "{sql}");
    assert!(!a.contains(&"user_id".to_string()));
    assert!(sql.contains("PARTITION BY LOWER(TRIM(email))"), "{sql}");
}

#[test]
fn default_rename_and_override() {
    assert!(identify("").contains("TO_TIMESTAMP_NTZ(_created_at) AS \"created_at\""));
    let sql = identify("rename_traits={'_created_at': 'signed_up_at'}");
    assert!(
        sql.contains("TO_TIMESTAMP_NTZ(_created_at) AS \"signed_up_at\""),
        "{sql}"
    );
    assert!(!aliases(&sql).contains(&"created_at".to_string()));
    // Renamed targets are used verbatim.
    let sql = identify("rename_traits={'first_name': 'First Name'}");
    assert!(sql.contains("first_name AS \"First Name\""), "{sql}");
}

#[test]
fn timestamp_types_are_wrapped() {
    let sql = identify("");
    for (col, alias) in [
        ("signup_date", "signup_date"),
        ("trial_ends", "trial_ends"),
        ("_updated_at", "_updated_at"),
        ("_created_at", "created_at"),
    ] {
        assert!(
            sql.contains(&format!("TO_TIMESTAMP_NTZ({col}) AS \"{alias}\"")),
            "{col}:\n{sql}"
        );
    }
    // TZ and LTZ columns are converted to UTC first (issue 12).
    assert!(
        sql.contains("CONVERT_TIMEZONE('UTC', local_seen_at)::TIMESTAMP_NTZ AS \"local_seen_at\""),
        "{sql}"
    );
    assert!(sql.contains("    account_number AS \"account_number\""));
    assert!(sql.contains("    email AS \"email\""));
}

#[test]
fn quoting_follows_the_catalog_spelling() {
    let sql = identify("");
    assert!(
        sql.contains("    \"CamelCaseTrait\" AS \"camelcasetrait\""),
        "{sql}"
    );
    assert!(
        sql.contains("    SHOUTY_TRAIT AS \"shouty_trait\""),
        "{sql}"
    );
}

#[test]
fn rows_kept_entity_type_and_filters() {
    let sql = identify(
        "entity_type=\"o'brien\\\\x\", filters=[\"status = 'active'\", 'account_number > 10 OR account_number IS NULL']",
    );
    assert!(
        sql.contains("WHERE entity_type = 'o''brien\\\\x'\n"),
        "{sql}"
    );
    assert!(sql.contains("  AND user_id IS NOT NULL\n  AND (status = 'active')\n  AND (account_number > 10 OR account_number IS NULL)\n"), "{sql}");
}

#[test]
fn dedupe_rules() {
    let base = identify("");
    assert!(base.contains(
        "QUALIFY LOWER(TRIM(email)) IS NULL\n    OR ROW_NUMBER() OVER (\n        PARTITION BY LOWER(TRIM(email))\n        ORDER BY _updated_at DESC NULLS LAST, entity_id ASC\n    ) = 1\n"
    ), "{base}");
    // Non-text keys are compared raw.
    assert!(identify("dedupe_column='account_number'").contains("PARTITION BY account_number\n"));
    // Any column of the relation: ignored, system, renamed, the userId column.
    assert!(
        identify("dedupe_column='phone_number', ignore_traits=['phone_number']")
            .contains("PARTITION BY LOWER(TRIM(phone_number))")
    );
    assert!(identify("dedupe_column='entity_id'").contains("PARTITION BY LOWER(TRIM(entity_id))"));
    assert!(
        identify("dedupe_column='first_name', rename_traits={'first_name': 'fn'}")
            .contains("PARTITION BY LOWER(TRIM(first_name))")
    );
    assert!(identify("dedupe_column='user_id'").contains("PARTITION BY LOWER(TRIM(user_id))"));
    assert!(
        identify("dedupe_column='CamelCaseTrait'")
            .contains("PARTITION BY LOWER(TRIM(\"CamelCaseTrait\"))")
    );
}

#[test]
fn can_be_wrapped_in_a_cte() {
    let p = TestProject::new();
    p.model(
        "paying",
        "with persons as (\n{{ nexus.customer_io_identify() }}\n)\nselect p.* from persons p join {{ ref('high_level_customer_journey') }} j on j.entity_id = p.\"userId\" where j.is_current\n",
    );
    let sql = p.sql("paying");
    assert!(sql.contains("FROM ANALYTICS.NEXUS.nexus_entities"), "{sql}");
    assert!(
        sql.contains("join ANALYTICS.NEXUS.high_level_customer_journey j"),
        "{sql}"
    );
}

#[test]
fn output_is_deterministic() {
    let p = TestProject::new();
    p.model("people", "{{ nexus.customer_io_identify(rename_traits={'b_x': 'x', 'first_name': 'f', 'last_name': 'l'}) }}");
    let first = p.sql("people");
    for _ in 0..5 {
        assert_eq!(p.sql("people"), first);
    }
    assert!(!first.contains("\n\n"), "no blank lines inside the SELECT");
}

#[test]
fn collisions_after_renames_name_both_sources() {
    for (args, name, first, second) in [
        (
            "rename_traits={'first_name': 'last_name'}",
            "last_name",
            "column first_name (renamed by rename_traits)",
            "column last_name",
        ),
        (
            "rename_traits={'status': 'timestamp'}",
            "timestamp",
            "_updated_at",
            "column status (renamed by rename_traits)",
        ),
        (
            "rename_traits={'email': 'userId'}",
            "userId",
            "user_id_column (user_id)",
            "column email (renamed by rename_traits)",
        ),
        (
            "rename_traits={'email': 'USERID'}",
            "USERID",
            "user_id_column (user_id)",
            "column email (renamed by rename_traits)",
        ),
        (
            "anonymous_id_column='segment_anonymous_id', rename_traits={'status': 'anonymousid'}",
            "anonymousid",
            "anonymous_id_column (segment_anonymous_id)",
            "column status",
        ),
    ] {
        let errs = identify_errors(args);
        let text = render_all(&errs);
        assert_eq!(errs.len(), 1, "{text}");
        assert_eq!(errs[0].code, "CIO120", "{text}");
        assert!(text.contains(&format!("\"{name}\"")), "{args}: {text}");
        assert!(
            text.contains(first) && text.contains(second),
            "{args}: {text}"
        );
        assert_eq!(errs[0].line, Some(3), "points at the macro call: {text}");
    }
}

#[test]
fn unknown_columns_list_the_closest_names() {
    let errs = identify_errors("dedupe_column='emial'");
    assert_eq!(errs[0].code, "CIO121");
    let help = errs[0].help.clone().unwrap();
    assert!(help.starts_with("did you mean `email`?"), "{help}");
    for (arg, value) in [
        ("user_id_column", "usr_id"),
        ("anonymous_id_column", "segment_anon_id"),
    ] {
        let errs = identify_errors(&format!("{arg}='{value}'"));
        assert_eq!(errs[0].code, "CIO121", "{arg}");
        assert!(errs[0].message.contains(arg), "{}", errs[0].message);
        assert!(
            errs[0].help.as_ref().unwrap().contains("did you mean"),
            "{arg}"
        );
    }
}

#[test]
fn missing_relation_says_how_to_add_it() {
    let p = TestProject::new();
    p.file(
        "catalog.yml",
        "relations:\n  - name: nexus_entities_old\n    columns: []\n",
    );
    p.model("people", "{{ nexus.customer_io_identify() }}");
    let errs = p.errors("people");
    assert_eq!(errs[0].code, "CIO111", "{}", render_all(&errs));
    assert!(
        errs[0]
            .help
            .as_ref()
            .unwrap()
            .contains("did you mean `nexus_entities_old`")
    );

    // Known to ref() (a model) but absent from the catalog for introspection.
    let p = TestProject::new();
    p.file("catalog.yml", "relations: []\n");
    p.model("nexus_entities", "select 1 as entity_id");
    p.model("people", "{{ nexus.customer_io_identify() }}");
    let errs = p.errors("people");
    assert_eq!(errs[0].code, "CIO110", "{}", render_all(&errs));
    assert!(
        errs[0]
            .message
            .contains("nexus_entities is not in the catalog"),
        "{}",
        errs[0].message
    );
    assert!(
        errs[0]
            .help
            .as_ref()
            .unwrap()
            .contains("- name: nexus_entities")
    );
}

#[test]
fn failed_models_write_nothing_and_others_compile() {
    let p = TestProject::new();
    p.model(
        "bad",
        "{{ nexus.customer_io_identify(dedupe_column='nope') }}",
    );
    p.model("good", "{{ nexus.customer_io_identify() }}");
    let c = p.compile();
    assert!(!c.succeeded());
    assert_eq!(c.error_count(), 1);
    assert!(p.path("target/compiled/models/good.sql").is_file());
    assert!(!p.path("target/compiled/models/bad.sql").exists());
}

#[test]
fn warnings_for_unmatched_keys_and_conflicts() {
    let p = TestProject::new();
    p.model(
        "people",
        "{{ nexus.customer_io_identify(\n    ignore_traits=['phone_numbr', 'status'],\n    rename_traits={'frist_name': 'fn', 'status': 's'}\n) }}",
    );
    let c = p.compile();
    assert!(c.succeeded(), "warnings do not fail the compile");
    let diags = &c.model("people").unwrap().diagnostics;
    let codes: Vec<&str> = diags.iter().map(|d| d.code.id()).collect();
    assert_eq!(
        codes,
        vec!["CIO130", "CIO130", "CIO131"],
        "{}",
        render_all(diags)
    );
    assert!(diags[0].help.as_ref().unwrap().contains("`phone_number`"));
    assert!(diags[1].help.as_ref().unwrap().contains("`first_name`"));
    assert!(
        diags.iter().all(|d| d.line == Some(1)),
        "warnings point at the call"
    );
    // Both ignored and renamed: ignored wins.
    let sql = c.model("people").unwrap().sql().unwrap();
    assert!(!sql.contains("status AS"), "{sql}");
}

#[test]
fn warn_error_turns_warnings_into_failures() {
    let p = TestProject::new();
    p.model(
        "people",
        "{{ nexus.customer_io_identify(ignore_traits=['nope']) }}",
    );
    let mut opts = p.options();
    opts.warn_error = true;
    let c = cio_sql::pipeline::compile(&opts).unwrap();
    assert!(!c.succeeded());
}

#[test]
fn bad_arguments_are_clear() {
    let errs = identify_errors("ignore_traits='phone_number'");
    assert_eq!(errs[0].code, "CIO104");
    assert_eq!(
        errs[0].message,
        "`ignore_traits` must be a list of column names, got the string 'phone_number'"
    );
    let errs = identify_errors("rename_traits=['a']");
    assert_eq!(errs[0].code, "CIO104");
    let errs = identify_errors("user_id_colum='email'");
    assert_eq!(errs[0].code, "CIO104");
    assert!(
        errs[0].help.as_ref().unwrap().contains("user_id_column"),
        "{:?}",
        errs[0].help
    );
}

#[test]
fn records_its_sync_type() {
    let p = TestProject::new();
    p.model("people", "{{ nexus.customer_io_identify() }}");
    let c = p.compile();
    let m = c.model("people").unwrap();
    assert_eq!(crate::support::cio_sync(&m.config), Some("identify"));
}

#[test]
fn error_messages() {
    let cases = [
        ("collision", "rename_traits={'first_name': 'last_name'}"),
        ("unknown_dedupe", "dedupe_column='emial'"),
        ("unknown_argument", "dedupe='email'"),
        ("ignore_not_a_list", "ignore_traits='phone_number'"),
    ];
    snapshots(|| {
        for (name, args) in cases {
            insta::assert_snapshot!(
                format!("identify_error_{name}"),
                render_all(&identify_errors(args))
            );
        }
        let p = TestProject::new();
        p.model(
            "people",
            "{{ nexus.customer_io_identify(ignore_traits=['phone_numbr']) }}",
        );
        insta::assert_snapshot!(
            "identify_warning_unknown_ignore",
            render_all(&p.errors("people"))
        );
    });
}
