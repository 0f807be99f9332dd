//! Output columns, lineage and contract checks on realistic Snowflake SQL.
//!
//! Snapshots live in the top-level `snapshots/` folder.

use cio_sql::analysis::{
    AnalysisError, ColumnInfo, Naming, NoRelations, OutputColumn, RelationColumns, SourceColumn,
    SyncType, Transform, check_contract, output_columns,
};

/// A catalog of fully qualified relations; a partial name as written in SQL
/// matches by suffix, case-insensitively.
struct Catalog(Vec<(&'static str, Vec<ColumnInfo>)>);

impl RelationColumns for Catalog {
    fn columns(&self, name: &[String]) -> Option<Vec<ColumnInfo>> {
        let wanted: Vec<String> = name.iter().map(|p| p.to_uppercase()).collect();
        self.0.iter().find_map(|(full, cols)| {
            let parts: Vec<String> = full.split('.').map(str::to_uppercase).collect();
            (parts.len() >= wanted.len() && parts[parts.len() - wanted.len()..] == wanted[..])
                .then(|| cols.clone())
        })
    }
}

fn col(name: &str, ty: &str) -> ColumnInfo {
    ColumnInfo::new(name, Some(ty))
}

fn catalog() -> Catalog {
    Catalog(vec![
        (
            "ANALYTICS.NEXUS.NEXUS_ENTITIES",
            vec![
                col("ENTITY_ID", "VARCHAR"),
                col("ENTITY_TYPE", "VARCHAR"),
                col("USER_ID", "VARCHAR"),
                col("EMAIL", "VARCHAR"),
                col("FIRST_NAME", "VARCHAR"),
                col("PROPERTIES", "VARIANT"),
                col("TAGS", "ARRAY"),
                col("CREATED_AT", "TIMESTAMP_NTZ"),
                col("_UPDATED_AT", "VARCHAR"),
            ],
        ),
        (
            "ANALYTICS.NEXUS.HIGH_LEVEL_CUSTOMER_JOURNEY",
            vec![
                col("ENTITY_ID", "VARCHAR"),
                col("STATE_VALUE", "VARCHAR"),
                col("IS_CURRENT", "BOOLEAN"),
                col("ENTERED_AT", "TIMESTAMP_NTZ"),
            ],
        ),
        (
            "ANALYTICS.NEXUS.EVENTS",
            vec![
                col("EVENT_ID", "VARCHAR"),
                col("ENTITY_ID", "VARCHAR"),
                col("EVENT_NAME", "VARCHAR"),
                col("OCCURRED_AT", "TIMESTAMP_NTZ"),
                col("AMOUNT", "NUMBER(38,2)"),
            ],
        ),
        (
            "ANALYTICS.CRM.COMPANIES",
            vec![
                col("COMPANY_ID", "NUMBER(38,0)"),
                col("NAME", "VARCHAR"),
                col("DOMAIN", "VARCHAR"),
                col("createdAt", "VARCHAR"),
            ],
        ),
    ])
}

/// One line per column: name, quoting, naming, type, transform, lineage,
/// position. Easier to review than YAML for most cases.
fn render(cols: &[OutputColumn]) -> String {
    let mut out = String::new();
    for c in cols {
        let transform = match &c.transform {
            Transform::Copied => "copied".to_string(),
            Transform::Renamed => "renamed".to_string(),
            Transform::Wrapped { function } => format!("wrapped({function})"),
            Transform::Computed => "computed".to_string(),
            Transform::Windowed { function } => format!("windowed({function})"),
            Transform::Aggregated { function } => format!("aggregated({function})"),
            Transform::Constant => "constant".to_string(),
            Transform::Unknown { reason } => format!("unknown: {reason}"),
        };
        let lineage: Vec<String> = c
            .lineage
            .iter()
            .map(|s| format!("{}.{}", s.relation, s.column))
            .collect();
        let naming = match c.naming {
            Naming::Alias => "alias",
            Naming::Column => "column",
            Naming::Star => "star",
            Naming::Generated => "generated",
        };
        let span = c
            .span
            .map(|(l, k)| format!("@{l}:{k}"))
            .unwrap_or_else(|| "@-".to_string());
        out.push_str(&format!(
            "{}{} [{naming}] {} {transform} <- [{}] {span}\n",
            c.name,
            if c.quoted { " (quoted)" } else { "" },
            c.data_type.as_deref().unwrap_or("?"),
            lineage.join(", "),
        ));
    }
    out
}

fn analyze(sql: &str) -> Vec<OutputColumn> {
    match output_columns(sql, &catalog()) {
        Ok(cols) => cols,
        Err(e) => panic!("analysis failed: {e}\n{sql}"),
    }
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn by_name<'a>(cols: &'a [OutputColumn], name: &str) -> &'a OutputColumn {
    cols.iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {cols:#?}"))
}

fn src(relation: &str, column: &str) -> SourceColumn {
    SourceColumn {
        relation: relation.to_string(),
        column: column.to_string(),
    }
}

const PERSONS: &str = r#"WITH persons AS (
SELECT
    user_id AS "userId",
    TO_TIMESTAMP_NTZ(_updated_at) AS "timestamp",
    email AS "email",
    first_name AS "first_name"
FROM ANALYTICS.NEXUS.nexus_entities
WHERE entity_type = 'person' AND user_id IS NOT NULL
QUALIFY LOWER(TRIM(email)) IS NULL OR ROW_NUMBER() OVER (PARTITION BY LOWER(TRIM(email)) ORDER BY _updated_at DESC NULLS LAST, entity_id) = 1
)
SELECT p.*, j.state_value AS "journey_state" FROM persons p JOIN ANALYTICS.NEXUS.high_level_customer_journey j ON j.entity_id = p."userId" WHERE j.is_current
"#;

#[test]
fn persons_model_with_cte_star_and_join() {
    let cols = analyze(PERSONS);
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "userId",
            "timestamp",
            "email",
            "first_name",
            "journey_state"
        ]
    );
    let user_id = by_name(&cols, "userId");
    assert!(user_id.quoted);
    assert_eq!(user_id.transform, Transform::Renamed);
    assert_eq!(
        user_id.lineage,
        [src("ANALYTICS.NEXUS.nexus_entities", "USER_ID")]
    );
    assert_eq!(user_id.data_type.as_deref(), Some("VARCHAR"));
    // The span points at the alias inside the CTE.
    assert_eq!(user_id.span, Some((3, 16)));
    let ts = by_name(&cols, "timestamp");
    assert_eq!(
        ts.transform,
        Transform::Wrapped {
            function: "TO_TIMESTAMP_NTZ".to_string()
        }
    );
    assert_eq!(ts.data_type.as_deref(), Some("TIMESTAMP_NTZ"));
    let journey = by_name(&cols, "journey_state");
    assert_eq!(
        journey.lineage,
        [src(
            "ANALYTICS.NEXUS.high_level_customer_journey",
            "STATE_VALUE"
        )]
    );
    insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_yaml_snapshot!("analysis_persons_model", cols);
    });
    assert!(check_contract(SyncType::IDENTIFY, &cols).is_empty());
}

#[test]
fn several_ctes_with_nested_references() {
    let sql = r#"
WITH base AS (
    SELECT entity_id, user_id, LOWER(TRIM(email)) AS email_norm, created_at
    FROM analytics.nexus.nexus_entities
),
with_journey AS (
    SELECT b.*, j.state_value
    FROM base b
    LEFT JOIN analytics.nexus.high_level_customer_journey j USING (entity_id)
),
final AS (
    SELECT user_id AS "userId", email_norm AS "email", state_value AS "journey_state",
           created_at AS "created_at"
    FROM with_journey
)
SELECT * FROM final
"#;
    let cols = analyze(sql);
    assert_eq!(
        by_name(&cols, "email").transform,
        Transform::Wrapped {
            function: "LOWER".to_string()
        }
    );
    assert_eq!(
        by_name(&cols, "journey_state").transform,
        Transform::Renamed
    );
    // "created_at" (quoted, lower case) is a different name from CREATED_AT.
    assert_eq!(by_name(&cols, "created_at").transform, Transform::Renamed);
    assert!(cols.iter().all(|c| c.naming == Naming::Star));
    snap!("analysis_several_ctes", render(&cols));
}

#[test]
fn subquery_in_from_and_column_alias_list() {
    let sql = r#"
SELECT s.uid AS "userId", s.n AS "event_count", x.a AS "a"
FROM (
    SELECT e.entity_id AS uid, COUNT(*) AS n
    FROM analytics.nexus.events e
    GROUP BY 1
) s
CROSS JOIN (SELECT 1, 'two') AS x(a, b)
"#;
    let cols = analyze(sql);
    assert_eq!(
        by_name(&cols, "event_count").transform,
        Transform::Aggregated {
            function: "COUNT".to_string()
        }
    );
    assert!(by_name(&cols, "event_count").lineage.is_empty());
    assert_eq!(by_name(&cols, "a").transform, Transform::Constant);
    snap!("analysis_subquery_in_from", render(&cols));
}

#[test]
fn joins_resolve_unqualified_references() {
    let sql = r#"
SELECT
    user_id,                -- only in nexus_entities
    state_value,            -- only in the journey
    entity_id,              -- in both: ambiguous
    e.entity_id AS "id_e",
    nonexistent_col         -- in neither
FROM analytics.nexus.nexus_entities e
JOIN analytics.nexus.high_level_customer_journey j ON j.entity_id = e.entity_id
"#;
    let cols = analyze(sql);
    assert_eq!(by_name(&cols, "USER_ID").transform, Transform::Copied);
    assert_eq!(
        by_name(&cols, "STATE_VALUE").lineage,
        [src(
            "analytics.nexus.high_level_customer_journey",
            "STATE_VALUE"
        )]
    );
    match &by_name(&cols, "ENTITY_ID").transform {
        Transform::Unknown { reason } => assert!(reason.contains("ambiguous"), "{reason}"),
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert!(matches!(
        by_name(&cols, "NONEXISTENT_COL").transform,
        Transform::Unknown { .. }
    ));
    snap!("analysis_joins_unqualified", render(&cols));
}

#[test]
fn unknown_relations_still_give_lineage_by_name() {
    let sql = r#"
SELECT r.customer_id AS "userId", plan, "Mixed Case" AS "mixed"
FROM raw.stripe.customers r
"#;
    let cols = output_columns(sql, &NoRelations).unwrap();
    assert_eq!(
        cols[0].lineage,
        [src("raw.stripe.customers", "CUSTOMER_ID")]
    );
    assert_eq!(cols[1].lineage, [src("raw.stripe.customers", "PLAN")]);
    assert_eq!(cols[1].transform, Transform::Copied);
    assert_eq!(cols[2].lineage, [src("raw.stripe.customers", "Mixed Case")]);
    assert_eq!(cols[2].data_type, None);
    // Two unknown relations: an unqualified name could be in either.
    let two = output_columns(
        "SELECT plan FROM raw.a JOIN raw.b ON a.id = b.id",
        &NoRelations,
    )
    .unwrap();
    match &two[0].transform {
        Transform::Unknown { reason } => assert!(reason.contains("raw.a, raw.b"), "{reason}"),
        other => panic!("expected Unknown, got {other:?}"),
    }
    // A known relation that has the column wins over an unknown one.
    let mixed = analyze(
        "SELECT state_value FROM raw.unknown u JOIN analytics.nexus.high_level_customer_journey j ON u.id = j.entity_id",
    );
    assert_eq!(mixed[0].transform, Transform::Copied);
    assert_eq!(mixed[0].data_type.as_deref(), Some("VARCHAR"));
}

#[test]
fn star_over_unknown_relation() {
    // In the final output: an error naming the relation.
    let err = output_columns("SELECT * FROM raw.stripe.customers", &NoRelations).unwrap_err();
    assert_eq!(
        err,
        AnalysisError::UnresolvedStar {
            relation: "raw.stripe.customers".to_string()
        }
    );
    assert_eq!(
        err.to_string(),
        "cannot expand `*`: the columns of raw.stripe.customers are not known"
    );
    // Inside a CTE it is fine as long as the output names its columns; the
    // lineage goes through the `*` by name.
    let sql = r#"
WITH c AS (SELECT *, 1 AS one FROM raw.stripe.customers)
SELECT c.customer_id AS "userId", one AS "one" FROM c
"#;
    let cols = output_columns(sql, &NoRelations).unwrap();
    assert_eq!(
        cols[0].lineage,
        [src("raw.stripe.customers", "CUSTOMER_ID")]
    );
    assert_eq!(cols[0].transform, Transform::Renamed);
    assert_eq!(cols[1].transform, Transform::Constant);
    // ... but selecting `*` from that CTE needs the expansion.
    let err = output_columns(
        "WITH c AS (SELECT * FROM raw.x) SELECT * FROM c",
        &NoRelations,
    )
    .unwrap_err();
    assert_eq!(
        err,
        AnalysisError::UnresolvedStar {
            relation: "raw.x".to_string()
        }
    );
    // `alias.*` of an unknown relation next to a known one.
    let err = output_columns(
        "SELECT e.user_id, r.* FROM analytics.nexus.nexus_entities e JOIN raw.x r ON r.id = e.entity_id",
        &catalog(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AnalysisError::UnresolvedStar {
            relation: "raw.x".to_string()
        }
    );
}

#[test]
fn union_takes_names_from_first_branch_and_lineage_from_all() {
    let sql = r#"
SELECT user_id AS "userId", email AS "email", 'nexus' AS "source"
FROM analytics.nexus.nexus_entities
UNION ALL
SELECT entity_id, NULL, 'events' AS src
FROM analytics.nexus.events
UNION
SELECT company_id::varchar, domain, 'crm' FROM analytics.crm.companies
"#;
    let cols = analyze(sql);
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["userId", "email", "source"]);
    assert_eq!(cols[0].lineage.len(), 3);
    assert_eq!(
        cols[0].transform,
        Transform::Wrapped {
            function: "CAST".to_string()
        }
    );
    assert_eq!(cols[2].transform, Transform::Constant);
    assert_eq!(cols[2].data_type.as_deref(), Some("VARCHAR"));
    snap!("analysis_union", render(&cols));
    // A NULL branch takes the other branch's type, whichever side it is on.
    let nulls = analyze(
        "SELECT NULL AS \"email\" UNION ALL SELECT email FROM analytics.nexus.nexus_entities",
    );
    assert_eq!(nulls[0].data_type.as_deref(), Some("VARCHAR"));
    assert_eq!(nulls[0].transform, Transform::Copied);
    let err = output_columns("SELECT 1, 2 UNION SELECT 1", &NoRelations).unwrap_err();
    assert_eq!(
        err,
        AnalysisError::ColumnCountMismatch { left: 2, right: 1 }
    );
}

#[test]
fn alias_quoting_and_names() {
    let sql = r#"
SELECT
    user_id AS userId,
    user_id AS "userId",
    email,
    "EMAIL" AS "Email",
    e.first_name,
    LOWER(email),
    email::varchar
FROM analytics.nexus.nexus_entities e
"#;
    let cols = analyze(sql);
    let names: Vec<(&str, bool, Naming)> = cols
        .iter()
        .map(|c| (c.name.as_str(), c.quoted, c.naming))
        .collect();
    assert_eq!(
        names,
        [
            ("USERID", false, Naming::Alias),
            ("userId", true, Naming::Alias),
            ("EMAIL", false, Naming::Column),
            ("Email", true, Naming::Alias),
            ("FIRST_NAME", false, Naming::Column),
            ("LOWER(EMAIL)", false, Naming::Generated),
            ("EMAIL::VARCHAR", false, Naming::Generated),
        ]
    );
    assert_eq!(cols[2].transform, Transform::Copied);
    assert_eq!(cols[3].transform, Transform::Renamed);
    snap!("analysis_alias_quoting", render(&cols));
}

#[test]
fn functions_aggregates_windows_and_literals() {
    let sql = r#"
SELECT
    e.entity_id AS "userId",
    TO_TIMESTAMP_NTZ(e._updated_at) AS "updated",
    LOWER(TRIM(e.email)) AS "email",
    COALESCE(e.first_name, '') AS "first_name",
    COALESCE(e.first_name, e.email) AS "display_name",
    e.created_at::date AS "signup_date",
    CAST(e.entity_id AS NUMBER(38,0)) AS "numeric_id",
    TRY_CAST(e.entity_id AS INT) AS "maybe_int",
    e.properties:plan::varchar AS "plan",
    e.properties:address.city AS "city",
    OBJECT_CONSTRUCT('first', e.first_name, 'email', e.email) AS "profile",
    ARRAY_AGG(DISTINCT ev.event_name) WITHIN GROUP (ORDER BY ev.event_name) AS "event_names",
    COUNT(*) AS "event_count",
    MAX(ev.occurred_at) AS "last_seen",
    SUM(ev.amount) AS "revenue",
    LOWER(MAX(ev.event_name)) AS "last_event_lower",
    'person' AS "kind",
    42 AS "answer",
    1.5e3 AS "float_literal",
    TRUE AS "flag",
    NULL AS "nothing",
    CURRENT_TIMESTAMP() AS "synced_at",
    DATE '2024-01-01' AS "epoch",
    CASE WHEN e.user_id IS NULL THEN 'anon' ELSE 'known' END AS "status",
    CASE e.entity_type WHEN 'person' THEN e.email END AS "person_email",
    e.first_name || ' <' || e.email || '>' AS "label",
    DATEADD(day, 30, e.created_at) AS "trial_end",
    DATEDIFF(day, e.created_at, MAX(ev.occurred_at)) AS "active_days",
    IFF(e.user_id IS NULL, 0, 1) AS "has_user",
    e.created_at > '2024-01-01' AS "is_recent",
    e.email IN ('a@b.c') AS "is_test"
FROM analytics.nexus.nexus_entities e
LEFT JOIN analytics.nexus.events ev ON ev.entity_id = e.entity_id
GROUP BY ALL
"#;
    let cols = analyze(sql);
    let t = |n: &str| by_name(&cols, n).transform.clone();
    let w = |f: &str| Transform::Wrapped {
        function: f.to_string(),
    };
    let agg = |f: &str| Transform::Aggregated {
        function: f.to_string(),
    };
    assert_eq!(t("updated"), w("TO_TIMESTAMP_NTZ"));
    assert_eq!(t("email"), w("LOWER"));
    assert_eq!(t("first_name"), w("COALESCE"));
    assert_eq!(t("display_name"), Transform::Computed);
    assert_eq!(t("signup_date"), w("CAST"));
    assert_eq!(t("maybe_int"), w("TRY_CAST"));
    assert_eq!(t("plan"), w("CAST"));
    assert_eq!(t("city"), w("GET_PATH"));
    assert_eq!(t("profile"), Transform::Computed);
    assert_eq!(
        by_name(&cols, "profile").lineage,
        [
            src("analytics.nexus.nexus_entities", "FIRST_NAME"),
            src("analytics.nexus.nexus_entities", "EMAIL")
        ]
    );
    assert_eq!(t("event_names"), agg("ARRAY_AGG"));
    assert_eq!(t("event_count"), agg("COUNT"));
    assert_eq!(t("last_event_lower"), agg("MAX"));
    for constant in [
        "kind",
        "answer",
        "float_literal",
        "flag",
        "nothing",
        "synced_at",
        "epoch",
    ] {
        assert_eq!(t(constant), Transform::Constant, "{constant}");
        assert!(by_name(&cols, constant).lineage.is_empty(), "{constant}");
    }
    assert_eq!(t("status"), Transform::Computed);
    assert_eq!(t("trial_end"), w("DATEADD"));
    assert_eq!(
        by_name(&cols, "trial_end").data_type.as_deref(),
        Some("TIMESTAMP_NTZ")
    );
    assert_eq!(t("active_days"), agg("MAX"));
    let ty = |n: &str| by_name(&cols, n).data_type.clone();
    assert_eq!(ty("updated").as_deref(), Some("TIMESTAMP_NTZ"));
    assert_eq!(ty("signup_date").as_deref(), Some("DATE"));
    assert_eq!(ty("numeric_id").as_deref(), Some("NUMBER(38,0)"));
    assert_eq!(ty("last_seen").as_deref(), Some("TIMESTAMP_NTZ"));
    assert_eq!(ty("revenue"), None);
    assert_eq!(ty("profile").as_deref(), Some("OBJECT"));
    assert_eq!(ty("status").as_deref(), Some("VARCHAR"));
    assert_eq!(ty("person_email").as_deref(), Some("VARCHAR"));
    assert_eq!(ty("nothing"), None);
    assert_eq!(ty("has_user").as_deref(), Some("NUMBER"));
    assert_eq!(ty("is_recent").as_deref(), Some("BOOLEAN"));
    snap!("analysis_functions", render(&cols));
}

#[test]
fn window_functions_and_filters_do_not_change_columns() {
    let sql = r#"
SELECT
    entity_id AS "userId",
    ROW_NUMBER() OVER (PARTITION BY entity_id ORDER BY occurred_at DESC) AS "rn",
    SUM(amount) OVER (PARTITION BY entity_id) AS "lifetime_value",
    LAG(event_name) OVER (PARTITION BY entity_id ORDER BY occurred_at) AS "previous_event",
    FIRST_VALUE(event_name) IGNORE NULLS OVER (PARTITION BY entity_id ORDER BY occurred_at) AS "first_event"
FROM analytics.nexus.events
WHERE amount > 0
QUALIFY ROW_NUMBER() OVER (PARTITION BY entity_id ORDER BY occurred_at DESC) = 1
"#;
    let cols = analyze(sql);
    assert_eq!(cols.len(), 5);
    assert_eq!(
        cols[1].transform,
        Transform::Windowed {
            function: "ROW_NUMBER".to_string()
        }
    );
    assert_eq!(cols[1].data_type.as_deref(), Some("NUMBER"));
    assert_eq!(
        cols[1].lineage,
        [
            src("analytics.nexus.events", "ENTITY_ID"),
            src("analytics.nexus.events", "OCCURRED_AT")
        ]
    );
    assert_eq!(cols[3].data_type.as_deref(), Some("VARCHAR"));
    snap!("analysis_window_functions", render(&cols));
}

#[test]
fn star_options_exclude_rename_replace_ilike() {
    let sql = r#"
SELECT
    * EXCLUDE (properties, tags, _updated_at) RENAME (user_id AS "userId", email AS "email"),
    j.* ILIKE '%value'
FROM analytics.nexus.nexus_entities
JOIN analytics.nexus.high_level_customer_journey j ON j.entity_id = nexus_entities.entity_id
"#;
    let err = output_columns(sql, &catalog());
    // `*` over a join includes the journey's columns too.
    let cols = err.unwrap();
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ENTITY_ID",
            "ENTITY_TYPE",
            "userId",
            "email",
            "FIRST_NAME",
            "CREATED_AT",
            "ENTITY_ID",
            "STATE_VALUE",
            "IS_CURRENT",
            "ENTERED_AT",
            "STATE_VALUE",
        ]
    );
    assert_eq!(cols[2].transform, Transform::Renamed);
    assert_eq!(cols[2].naming, Naming::Alias);
    let replaced = analyze(
        "SELECT * REPLACE (LOWER(email) AS email) FROM analytics.nexus.high_level_customer_journey, (SELECT email FROM analytics.nexus.nexus_entities)",
    );
    let email = by_name(&replaced, "EMAIL");
    assert_eq!(
        email.transform,
        Transform::Wrapped {
            function: "LOWER".to_string()
        }
    );
    snap!("analysis_star_options", render(&cols));
}

#[test]
fn star_over_using_join_is_rejected() {
    let err = output_columns(
        "SELECT * FROM analytics.nexus.events JOIN analytics.nexus.nexus_entities USING (entity_id)",
        &catalog(),
    )
    .unwrap_err();
    assert!(matches!(err, AnalysisError::Unsupported { .. }), "{err:?}");
    // Qualified stars are fine, and USING columns resolve to the left side.
    let cols = analyze(
        "SELECT entity_id, e.* FROM analytics.nexus.events JOIN analytics.nexus.nexus_entities e USING (entity_id)",
    );
    assert_eq!(
        cols[0].lineage,
        [src("analytics.nexus.events", "ENTITY_ID")]
    );
    assert_eq!(cols.len(), 10);
}

#[test]
fn lateral_column_alias_and_correlated_subquery() {
    let sql = r#"
SELECT
    LOWER(email) AS email_l,
    SPLIT_PART(email_l, '@', 2) AS "domain",
    (SELECT MAX(ev.occurred_at) FROM analytics.nexus.events ev WHERE ev.entity_id = e.entity_id) AS "last_event_at",
    EXISTS (SELECT 1 FROM analytics.nexus.events ev WHERE ev.entity_id = e.entity_id) AS "has_events"
FROM analytics.nexus.nexus_entities e
"#;
    let cols = analyze(sql);
    assert_eq!(
        cols[1].lineage,
        [src("analytics.nexus.nexus_entities", "EMAIL")]
    );
    assert_eq!(
        cols[1].transform,
        Transform::Wrapped {
            function: "SPLIT_PART".to_string()
        }
    );
    assert_eq!(
        cols[2].transform,
        Transform::Aggregated {
            function: "MAX".to_string()
        }
    );
    assert_eq!(cols[2].data_type.as_deref(), Some("TIMESTAMP_NTZ"));
    assert_eq!(cols[3].transform, Transform::Computed);
    assert_eq!(cols[3].data_type.as_deref(), Some("BOOLEAN"));
    snap!("analysis_lateral_alias_subquery", render(&cols));
}

#[test]
fn lateral_flatten_and_lambdas() {
    let sql = r#"
SELECT
    e.user_id AS "userId",
    f.value::varchar AS "tag",
    f.index AS "position",
    FILTER(e.tags, t -> t::varchar <> '') AS "non_empty_tags"
FROM analytics.nexus.nexus_entities e,
LATERAL FLATTEN(input => e.tags) f
"#;
    let cols = analyze(sql);
    assert_eq!(
        cols[1].lineage,
        [src("analytics.nexus.nexus_entities", "TAGS")]
    );
    assert_eq!(cols[1].data_type.as_deref(), Some("VARCHAR"));
    assert_eq!(cols[2].data_type.as_deref(), Some("NUMBER"));
    assert_eq!(
        cols[3].transform,
        Transform::Wrapped {
            function: "FILTER".to_string()
        }
    );
    snap!("analysis_flatten_lambda", render(&cols));
}

#[test]
fn case_insensitive_matching_for_unquoted_and_exact_for_quoted() {
    let cols = analyze(
        r#"WITH p AS (SELECT user_id AS "userId", email FROM analytics.nexus.nexus_entities)
SELECT p."userId" AS "a", p.EMAIL AS "b", p.Email AS "c", p."EMAIL" AS "d", p."email" AS "e" FROM p"#,
    );
    assert_eq!(cols[0].transform, Transform::Renamed);
    assert_eq!(cols[1].transform, Transform::Renamed);
    assert_eq!(cols[2].transform, Transform::Renamed);
    assert_eq!(cols[3].transform, Transform::Renamed);
    // The CTE stores EMAIL; a quoted lower-case reference does not match.
    match &cols[4].transform {
        Transform::Unknown { reason } => assert!(reason.contains("has no column"), "{reason}"),
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[test]
fn recursive_cte_and_values() {
    let cols = analyze(
        r#"WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
SELECT i AS "i" FROM n"#,
    );
    assert_eq!(cols[0].name, "i");
    assert_eq!(cols[0].data_type.as_deref(), Some("NUMBER"));
    let values = analyze("SELECT column1 AS \"userId\" FROM (VALUES ('a', 1), ('b', 2))");
    assert_eq!(values[0].data_type.as_deref(), Some("VARCHAR"));
    assert_eq!(values[0].transform, Transform::Constant);
}

#[test]
fn placeholders_are_unknown_not_constant() {
    let cols = output_columns(
        r#"SELECT $1 AS "a", ? AS "b", :name AS "c" FROM t"#,
        &NoRelations,
    )
    .unwrap();
    for c in &cols {
        match &c.transform {
            Transform::Unknown { reason } => assert!(reason.contains("bind parameter"), "{reason}"),
            other => panic!("{}: expected Unknown, got {other:?}", c.name),
        }
    }
}

#[test]
fn parse_errors_carry_line_and_column() {
    let err = output_columns("SELECT a\nFROM t WHERE ) x", &NoRelations).unwrap_err();
    match &err {
        AnalysisError::Parse {
            message,
            line,
            column,
        } => {
            assert!(message.contains("Line: 2"), "{message}");
            assert_eq!(*line, Some(2));
            assert!(column.is_some());
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert!(err.to_string().starts_with("SQL parse error: "));
    // At end of input sqlparser reports no position.
    assert!(matches!(
        output_columns("SELECT a FROM t WHERE (", &NoRelations).unwrap_err(),
        AnalysisError::Parse {
            line: None,
            column: None,
            ..
        }
    ));
    assert_eq!(
        output_columns("", &NoRelations).unwrap_err(),
        AnalysisError::StatementCount { found: 0 }
    );
    assert_eq!(
        output_columns("SELECT 1; SELECT 2", &NoRelations).unwrap_err(),
        AnalysisError::StatementCount { found: 2 }
    );
    assert_eq!(
        output_columns("DELETE FROM t", &NoRelations).unwrap_err(),
        AnalysisError::NotAQuery {
            found: "DELETE FROM".to_string()
        }
    );
    // A trailing semicolon is fine.
    assert_eq!(
        output_columns("SELECT 1 AS x;", &NoRelations)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn contract_on_a_sloppy_identify_model() {
    let sql = r#"
SELECT
    user_id AS userId,
    email AS "email",
    first_name,
    first_name AS "firstName",
    entity_id AS "id",
    entity_type AS "created_at",
    LOWER(email)
FROM analytics.nexus.nexus_entities
"#;
    let cols = analyze(sql);
    let findings = check_contract(SyncType::IDENTIFY, &cols);
    let text: String = findings
        .iter()
        .map(|f| {
            format!(
                "{} {:?} [{}] {}\n    help: {}\n",
                f.code,
                f.severity,
                f.column.as_deref().unwrap_or("-"),
                f.message,
                f.help
            )
        })
        .collect();
    let codes: Vec<&str> = findings.iter().map(|f| f.code.id()).collect();
    assert_eq!(
        codes,
        // `AS userId` is accepted (identifiers are recognised in any
        // case) and `"firstName"` is fine (attribute names are
        // case-sensitive, none is required to be lower case).
        ["CIO206", "CIO208", "CIO209", "CIO210"]
    );
    snap!("analysis_contract_sloppy_identify", text);
}

#[test]
fn contract_on_track_and_object_models() {
    let track = analyze(
        r#"SELECT entity_id AS "userId", event_name AS "event", occurred_at AS "timestamp", amount AS "amount"
FROM analytics.nexus.events"#,
    );
    assert!(check_contract(SyncType::TRACK, &track).is_empty());
    let object = analyze(
        r#"SELECT company_id::varchar AS "groupId", 'company' AS objectTypeId, name AS "name", "createdAt" AS "created_at"
FROM analytics.crm.companies"#,
    );
    let findings = check_contract(SyncType::GROUP, &object);
    let codes: Vec<&str> = findings.iter().map(|f| f.code.id()).collect();
    // objectTypeId written unquoted; created_at is a VARCHAR.
    assert_eq!(codes, ["CIO202", "CIO209"]);
}

/// Feeds truncated and garbled SQL through the analysis: it must return
/// (Ok or Err) without panicking.
#[test]
fn garbled_sql_never_panics() {
    let seeds = [
        PERSONS,
        "SELECT a.*, b.x, COUNT(*) OVER (PARTITION BY a.y) FROM t a JOIN u b USING (k) WHERE EXISTS (SELECT 1)",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT * EXCLUDE (n) FROM r",
        "SELECT f.value:a[0]::varchar, FILTER(x, y -> y > 1) FROM t, LATERAL FLATTEN(input => t.arr) f",
        "SELECT (SELECT (SELECT 1)) AS x FROM (SELECT * FROM (VALUES (1,2)) v(a, b)) s(c)",
    ];
    let garble = [
        "(", ")", ",", "*", "'", "\"", ".", ";", " SELECT ", " FROM ", " AS ", "::", ":",
    ];
    let resolver = catalog();
    let mut checked = 0usize;
    for seed in seeds {
        let chars: Vec<char> = seed.chars().collect();
        // Every prefix.
        for end in 0..=chars.len() {
            let s: String = chars[..end].iter().collect();
            let _ = output_columns(&s, &resolver);
            checked += 1;
        }
        // Deterministic insertions and deletions.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let pos = (state >> 33) as usize % (chars.len() + 1);
            let mut s: String = chars[..pos].iter().collect();
            if state & 1 == 0 {
                s.push_str(garble[(state >> 13) as usize % garble.len()]);
                s.extend(&chars[pos..]);
            } else {
                let skip = ((state >> 21) as usize % 8).min(chars.len() - pos);
                s.extend(&chars[pos + skip..]);
            }
            let _ = output_columns(&s, &resolver);
            checked += 1;
        }
    }
    // Deeply nested input hits the parser's recursion limit, not ours.
    let deep = format!("SELECT {}1{}", "(".repeat(1500), ")".repeat(1500));
    assert!(matches!(
        output_columns(&deep, &resolver),
        Err(AnalysisError::TooDeep { .. })
    ));
    assert!(checked > 1500);
}

/// Inputs that sqlparser turns into very deep trees (long operator chains and
/// set operations are left-deep without limit) must not overflow a 2 MiB
/// stack, the default for spawned threads and rayon workers.
#[test]
fn deep_inputs_do_not_overflow_the_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let resolver = catalog();
            let plus = format!(
                "SELECT {} AS \"total\" FROM analytics.nexus.events",
                vec!["amount"; 5000].join(" + ")
            );
            let cols = output_columns(&plus, &resolver).unwrap();
            assert_eq!(cols[0].transform, Transform::Computed);
            assert_eq!(cols[0].lineage, [src("analytics.nexus.events", "AMOUNT")]);
            assert_eq!(cols[0].data_type.as_deref(), Some("NUMBER"));

            let unaliased = format!(
                "SELECT {} FROM analytics.nexus.events",
                vec!["event_name"; 5000].join(" || ")
            );
            let cols = output_columns(&unaliased, &resolver).unwrap();
            assert_eq!(cols[0].naming, Naming::Generated);
            assert_eq!(cols[0].span, Some((1, 8)));
            assert_eq!(cols[0].data_type.as_deref(), Some("VARCHAR"));

            // Postfix casts nest without limit too: past the depth limit the
            // column is Unknown rather than a crash.
            let casts = format!(
                "SELECT event_name{} AS \"e\" FROM analytics.nexus.events",
                "::varchar".repeat(3000)
            );
            let cols = output_columns(&casts, &resolver).unwrap();
            match &cols[0].transform {
                Transform::Unknown { reason } => assert!(reason.contains("nested"), "{reason}"),
                other => panic!("expected Unknown, got {other:?}"),
            }

            let union = vec!["SELECT entity_id AS \"userId\" FROM analytics.nexus.events"; 3000]
                .join(" UNION ALL ");
            let cols = output_columns(&union, &resolver).unwrap();
            assert_eq!(cols.len(), 1);
            assert_eq!(
                cols[0].lineage,
                [src("analytics.nexus.events", "ENTITY_ID")]
            );

            // Nesting within the analysis depth limit is analysed in full;
            // deeper, up to the parser's recursion limit, the column is
            // Unknown (or the query unsupported); beyond, the parser refuses.
            let calls = |depth: usize| {
                format!(
                    "SELECT {}email{} AS \"x\" FROM analytics.nexus.nexus_entities",
                    "LOWER(".repeat(depth),
                    ")".repeat(depth)
                )
            };
            let cols = output_columns(&calls(40), &resolver).unwrap();
            assert_eq!(
                cols[0].transform,
                Transform::Wrapped {
                    function: "LOWER".to_string()
                }
            );
            let cols = output_columns(&calls(400), &resolver).unwrap();
            assert!(
                matches!(&cols[0].transform, Transform::Unknown { reason } if reason.contains("nested")),
                "{:?}",
                cols[0].transform
            );
            assert!(matches!(
                output_columns(&calls(1500), &resolver),
                Err(AnalysisError::TooDeep { .. })
            ));
            let queries = |depth: usize| {
                let mut q = "SELECT email FROM analytics.nexus.nexus_entities".to_string();
                for _ in 0..depth {
                    q = format!("SELECT * FROM ({q})");
                }
                q
            };
            let cols = output_columns(&queries(16), &resolver).unwrap();
            assert_eq!(
                cols[0].lineage,
                [src("analytics.nexus.nexus_entities", "EMAIL")]
            );
            let cols = output_columns(&queries(100), &resolver).unwrap();
            assert_eq!(
                cols[0].lineage,
                [src("analytics.nexus.nexus_entities", "EMAIL")]
            );
            assert!(matches!(
                output_columns(&queries(200), &resolver),
                Err(AnalysisError::Unsupported { .. })
            ));
            assert!(matches!(
                output_columns(&queries(500), &resolver),
                Err(AnalysisError::TooDeep { .. })
            ));
        })
        .unwrap();
    handle.join().expect("analysis overflowed or panicked");
}
