//! Customer.io reverse-ETL contract checks on a model's output columns.
//!
//! Customer.io reads each row of a sync table as one call (`identify`,
//! `track`, `group` for objects, or a person–object relationship). Some
//! columns have fixed, case-sensitive names (`userId`, `event`, ...); every
//! other column becomes an attribute (a trait, or an event property for
//! `track`) under its exact stored name. Snowflake upper-cases unquoted
//! identifiers, so `email AS userId` arrives as `USERID`: names must be
//! written with double quotes.
//!
//! The columns each sync type reads (its fields: which every row needs,
//! how their names are matched), its attribute limit and the reserved
//! names come from Customer.io's table in [`crate::destinations`]; every
//! other column is an attribute.
//!
//! Rules:
//!
//! | Code   | Severity | Rule |
//! |--------|----------|------|
//! | CIO201 | error    | A required column is missing (no column has its name, even ignoring case). |
//! | CIO202 | error    | A required field matched exactly (`event`, `objectTypeId`) is present only in another case; `userId`, `anonymousId`, `groupId` are matched in any case. |
//! | CIO203 | error    | Two output columns have one stored name, or feed one field. |
//! | CIO204 | error    | A column name is longer than 150 bytes. |
//! | CIO205 | error    | More attribute columns than the sync type allows (300; none for track). |
//! | CIO206 | warning  | An attribute's name was not quoted, so Snowflake stores it upper-cased. |
//! | CIO212 | error    | ... and the upper-cased name is a settable reserved attribute in another case (`EMAIL`). |
//! | CIO207 | warning  | A quoted attribute is a settable reserved attribute in another case (`"Email"`). |
//! | CIO208 | warning  | An attribute uses a name Customer.io reserves for the sync type (`id`, `object_id`, …). |
//! | CIO209 | warning  | `created_at` has a known type that is neither a timestamp, a date nor a number. |
//! | CIO210 | warning  | An unaliased expression: Snowflake generates the column name from the expression text. |
//! | CIO211 | warning  | An optional special column (e.g. `timestamp`) is present only with the wrong case, so it is sent as an ordinary attribute. |
//!
//! Each rule's Customer.io page is cited in README.md ("Contract checks")
//! and, for the reserved names, in [`crate::destinations::Reserved::source`].
//!
//! Attribute rules (CIO205–CIO209) do not apply to special columns, nor to
//! columns that match a special name ignoring case (CIO202/CIO211 cover
//! those). CIO206 and CIO207 do not apply to generated names (CIO210).

use crate::diagnostics::{Code, codes};
use serde::Serialize;

use crate::destinations::names::NameCheck;
use crate::destinations::{CaseRule, Presence, Reserved, SyncTypeSpec};

use super::columns::{Naming, OutputColumn};

pub use crate::destinations::{SyncType, UnknownSyncType};

/// Does the column `column` feed the field `field` of `sync`: its name
/// exactly, or in another case for a field matched in any case?
fn names_field(sync: &SyncTypeSpec, field: &str, column: &str) -> bool {
    column == field
        || (column.eq_ignore_ascii_case(field)
            && sync
                .field(field)
                .is_some_and(|f| f.case == CaseRule::AnyCase))
}

/// Is `name` a field of `sync`: exactly, or in another case for a field
/// matched in any case?
fn is_field(sync: &SyncTypeSpec, name: &str) -> bool {
    sync.field(name).is_some()
        || sync
            .field_ignoring_case(name)
            .is_some_and(|f| f.case == CaseRule::AnyCase)
}

/// How serious a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The sync will fail or send wrong data.
    Error,
    /// Probably unintended.
    Warning,
}

/// One contract violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable rule code, `CIO2xx` (see the module docs).
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// The output column concerned, if the rule is about one column.
    pub column: Option<String>,
}

fn finding(
    code: Code,
    severity: Severity,
    message: String,
    help: String,
    column: Option<&str>,
) -> Finding {
    Finding {
        code,
        severity,
        message,
        help,
        column: column.map(str::to_string),
    }
}

/// Checks a model's output columns against the contract of `sync` (its
/// destination's registry entry). Findings come in rule order (CIO201 first), and in column order
/// within a rule.
pub fn check_contract(sync: SyncType, cols: &[OutputColumn]) -> Vec<Finding> {
    let spec = sync.spec();
    let dest = sync.destination();
    let title = dest.title;
    let mut out = Vec::new();
    required_columns(sync, cols, &mut out);
    duplicates(sync, cols, &mut out);
    for c in cols {
        if let Some(max) = dest.max_name_bytes
            && c.name.len() > max
        {
            out.push(finding(
                codes::NAME_TOO_LONG,
                Severity::Error,
                format!(
                    "column name is {} bytes long; {title} accepts at most {max}",
                    c.name.len()
                ),
                "shorten the alias".to_string(),
                Some(&c.name),
            ));
        }
    }
    let attributes: Vec<&OutputColumn> = cols
        .iter()
        .filter(|c| spec.field_ignoring_case(&c.name).is_none())
        .collect();
    if let Some(max) = spec.max_attributes
        && attributes.len() > max
    {
        out.push(finding(
            codes::TOO_MANY_ATTRIBUTES,
            Severity::Error,
            format!(
                "{} attribute columns; {title} accepts at most {max} per {sync} call",
                attributes.len()
            ),
            "drop columns, or pack some into one OBJECT_CONSTRUCT(...) column".to_string(),
            None,
        ));
    }
    let reserved: Vec<&Reserved> = dest
        .reserved
        .iter()
        .filter(|r| r.sync_types.contains(&spec.name))
        .collect();
    // A settable reserved attribute (`email`) this name reaches in another
    // case: Customer.io attribute names are case-sensitive, so it is a
    // different attribute.
    let miscased = |name: &str| {
        reserved
            .iter()
            .copied()
            .find(|r| r.settable && r.name != name && r.name.eq_ignore_ascii_case(name))
    };
    // An event's name field is a value, not a name: the rules are on the
    // attribute columns.
    for rule in crate::destinations::names::rules(dest.name) {
        if !rule.applies_to(spec.name) {
            continue;
        }
        let code = match rule.check {
            NameCheck::NoPrefix(_) => codes::DESTINATION_NAME,
            NameCheck::LowerNoSpaceOrDash => codes::ATTRIBUTE_CHARACTERS,
        };
        // Snowflake upper-cases an unquoted alias: a lower-case-only rule
        // is broken by it too.
        let upper_cased = |c: &OutputColumn| {
            matches!(rule.check, NameCheck::LowerNoSpaceOrDash)
                && !c.quoted
                && c.naming != Naming::Generated
        };
        for c in attributes
            .iter()
            .filter(|c| rule.check.broken_by(&c.name) || upper_cased(c))
        {
            out.push(finding(
                code,
                Severity::Error,
                format!("attribute `{}` is a name {title} does not accept", c.name),
                format!("{} ({})", rule.help, rule.source),
                Some(&c.name),
            ));
        }
    }
    for c in &attributes {
        if c.naming != Naming::Generated && !c.quoted {
            let suggestion = c.name.to_lowercase();
            let help = if c.naming == Naming::Star {
                format!(
                    "select the column explicitly with a quoted alias, e.g. {} AS \"{suggestion}\"",
                    c.name
                )
            } else {
                format!("write AS \"{suggestion}\" (with the double quotes)")
            };
            match miscased(&c.name) {
                Some(r) => out.push(finding(
                    codes::UNQUOTED_RESERVED,
                    Severity::Error,
                    format!(
                        "attribute `{}` is not quoted, so {title} receives `{}`, not its reserved attribute `{}` ({})",
                        c.name, c.name, r.name, r.help
                    ),
                    help,
                    Some(&c.name),
                )),
                None => out.push(finding(
                    codes::UNQUOTED_ATTRIBUTE,
                    Severity::Warning,
                    format!(
                        "attribute `{}` is not quoted, so {title} receives it upper-cased",
                        c.name
                    ),
                    help,
                    Some(&c.name),
                )),
            }
        }
    }
    for c in &attributes {
        if c.naming != Naming::Generated
            && c.quoted
            && let Some(r) = miscased(&c.name)
        {
            out.push(finding(
                codes::RESERVED_CASE,
                Severity::Warning,
                format!(
                    "attribute `{}` is not {title}'s reserved `{}` ({}): attribute names are case-sensitive, so it is a different attribute",
                    c.name, r.name, r.help
                ),
                format!("write AS \"{}\" to set the reserved attribute, or choose a name that is not one", r.name),
                Some(&c.name),
            ));
        }
    }
    for c in &attributes {
        if let Some(r) = reserved
            .iter()
            .find(|r| !r.settable && r.name.eq_ignore_ascii_case(&c.name))
        {
            out.push(finding(
                codes::RESERVED_ATTRIBUTE,
                Severity::Warning,
                format!("attribute `{}` uses a name {title} reserves", c.name),
                r.help.to_string(),
                Some(&c.name),
            ));
        }
    }
    // `created_at` is Unix seconds where the destination reserves it.
    let created_at = dest.reserved.iter().any(|r| r.name == "created_at");
    for c in attributes.iter().filter(|_| created_at) {
        if c.name.eq_ignore_ascii_case("created_at")
            && let Some(ty) = &c.data_type
            && !is_time_or_number(ty)
        {
            out.push(finding(
                codes::CREATED_AT_TYPE,
                Severity::Warning,
                format!(
                    "`{}` has type {ty}; {title} expects a timestamp (Unix seconds)",
                    c.name
                ),
                "convert it, e.g. DATE_PART(epoch_second, TO_TIMESTAMP_NTZ(...)), or rename the attribute".to_string(),
                Some(&c.name),
            ));
        }
    }
    for c in cols {
        if c.naming == Naming::Generated {
            out.push(finding(
                codes::UNALIASED,
                Severity::Warning,
                format!(
                    "expression `{}` has no alias, so Snowflake generates its column name",
                    c.name
                ),
                "add an alias: <expression> AS \"attribute_name\"".to_string(),
                Some(&c.name),
            ));
        }
    }
    for c in cols {
        if is_field(spec, &c.name) {
            continue;
        }
        if let Some(field) = spec.field_ignoring_case(&c.name) {
            if field.presence != Presence::Optional {
                continue; // reported as CIO202
            }
            let special = field.name;
            out.push(finding(
                codes::OPTIONAL_CASE,
                Severity::Warning,
                format!(
                    "column `{}` is meant to be `{special}`, but the case differs, so it is sent as an attribute",
                    c.name
                ),
                format!("write AS \"{special}\" (with the double quotes)"),
                Some(&c.name),
            ));
        }
    }
    out
}

/// CIO201 and CIO202.
fn required_columns(sync: SyncType, cols: &[OutputColumn], out: &mut Vec<Finding>) {
    let spec = sync.spec();
    for group in spec.required_groups() {
        if group
            .iter()
            .any(|name| cols.iter().any(|c| names_field(spec, name, &c.name)))
        {
            continue;
        }
        let near: Vec<(&str, &OutputColumn)> = group
            .iter()
            .filter_map(|name| {
                cols.iter()
                    .find(|c| c.name.eq_ignore_ascii_case(name))
                    .map(|c| (*name, c))
            })
            .collect();
        if near.is_empty() {
            let names: Vec<String> = group.iter().map(|n| format!("\"{n}\"")).collect();
            let (message, help) = if group.len() == 1 {
                (
                    format!("{sync} syncs need a `{}` column", group[0]),
                    format!("add a column: <expression> AS {}", names[0]),
                )
            } else {
                (
                    format!(
                        "{sync} syncs need one of the columns {}",
                        group
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    format!("add a column: <expression> AS {}", names.join(" or AS ")),
                )
            };
            out.push(finding(
                codes::MISSING_REQUIRED,
                Severity::Error,
                message,
                help,
                None,
            ));
            continue;
        }
        for (name, col) in near {
            let how = if col.quoted {
                "is quoted with a different case"
            } else {
                "was written without double quotes, so Snowflake upper-cased it"
            };
            out.push(finding(
                codes::REQUIRED_CASE,
                Severity::Error,
                format!("column `{}` is meant to be `{name}` but {how}", col.name),
                format!(
                    "write AS \"{name}\" (with the double quotes); {} names are case-sensitive",
                    sync.destination().title
                ),
                Some(&col.name),
            ));
        }
    }
}

/// CIO203: output columns with one stored name (Snowflake cannot create
/// the table), or feeding one field of `sync` (a field matched in any case,
/// `"userId"` and `USERID`). Attributes differing only in case are distinct
/// attributes in Customer.io (attribute names are case-sensitive).
fn duplicates(sync_type: SyncType, cols: &[OutputColumn], out: &mut Vec<Finding>) {
    let sync = sync_type.spec();
    // In order of first appearance: one pass, so a model with hundreds of
    // columns costs no more than a linear scan.
    let mut groups: indexmap::IndexMap<&str, Vec<&OutputColumn>> = indexmap::IndexMap::new();
    for c in cols {
        let key = sync
            .field_ignoring_case(&c.name)
            .filter(|f| names_field(sync, f.name, &c.name))
            .map_or(c.name.as_str(), |f| f.name);
        groups.entry(key).or_default().push(c);
    }
    for same in groups.values() {
        if let [c, _, ..] = same.as_slice() {
            let listed: Vec<String> = same.iter().map(|o| format!("`{}`", o.name)).collect();
            out.push(finding(
                codes::DUPLICATE_COLUMN,
                Severity::Error,
                format!(
                    "{} output columns are one column for {}: {}",
                    same.len(),
                    sync_type.destination().title,
                    listed.join(", ")
                ),
                "rename or drop all but one".to_string(),
                Some(&c.name),
            ));
        }
    }
}

/// Is a Snowflake type a timestamp, date or number?
fn is_time_or_number(ty: &str) -> bool {
    let t = ty.to_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    base.starts_with("TIMESTAMP")
        || base.starts_with("DATETIME")
        || base == "DATE"
        || matches!(
            base,
            "NUMBER"
                | "NUMERIC"
                | "DECIMAL"
                | "INT"
                | "INTEGER"
                | "BIGINT"
                | "SMALLINT"
                | "TINYINT"
                | "BYTEINT"
                | "FLOAT"
                | "FLOAT4"
                | "FLOAT8"
                | "DOUBLE"
                | "DOUBLE PRECISION"
                | "REAL"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::columns::Transform;

    /// A quoted, aliased column.
    fn q(name: &str) -> OutputColumn {
        OutputColumn {
            name: name.to_string(),
            quoted: true,
            naming: Naming::Alias,
            data_type: None,
            lineage: vec![],
            transform: Transform::Constant,
            span: None,
        }
    }

    /// An unquoted, aliased column as Snowflake stores it.
    fn u(name: &str) -> OutputColumn {
        OutputColumn {
            name: name.to_uppercase(),
            quoted: false,
            ..q(name)
        }
    }

    fn typed(mut c: OutputColumn, ty: &str) -> OutputColumn {
        c.data_type = Some(ty.to_string());
        c
    }

    fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code.id()).collect()
    }

    fn has(findings: &[Finding], code: &str) -> bool {
        findings.iter().any(|f| f.code == code)
    }

    #[test]
    fn sync_type_parses_names_ignoring_case_and_object_alias() {
        assert_eq!("identify".parse::<SyncType>(), Ok(SyncType::IDENTIFY));
        assert_eq!("track".parse::<SyncType>(), Ok(SyncType::TRACK));
        assert_eq!("group".parse::<SyncType>(), Ok(SyncType::GROUP));
        assert_eq!("object".parse::<SyncType>(), Ok(SyncType::GROUP));
        assert_eq!(
            "relationship".parse::<SyncType>(),
            Ok(SyncType::RELATIONSHIP)
        );
        assert_eq!(" Identify ".parse::<SyncType>(), Ok(SyncType::IDENTIFY));
        let err = "people".parse::<SyncType>().unwrap_err();
        assert!(err.to_string().contains("unknown sync type `people`"));
    }

    #[test]
    fn sync_type_serde_is_lower_case_with_object_alias() {
        assert_eq!(
            serde_json::to_string(&SyncType::GROUP).unwrap(),
            "\"group\""
        );
        assert_eq!(
            serde_json::from_str::<SyncType>("\"object\"").unwrap(),
            SyncType::GROUP
        );
        assert_eq!(
            serde_json::from_str::<SyncType>("\"relationship\"").unwrap(),
            SyncType::RELATIONSHIP
        );
        assert!(serde_json::from_str::<SyncType>("\"person\"").is_err());
        assert_eq!(SyncType::TRACK.to_string(), "track");
    }

    #[test]
    fn clean_identify_has_no_findings() {
        let cols = vec![
            q("userId"),
            q("email"),
            typed(q("created_at"), "TIMESTAMP_NTZ"),
        ];
        assert_eq!(check_contract(SyncType::IDENTIFY, &cols), vec![]);
    }

    #[test]
    fn cio201_missing_required_column() {
        let f = check_contract(SyncType::IDENTIFY, &[q("email")]);
        assert_eq!(codes(&f), vec!["CIO201"]);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].message.contains("`userId`, `anonymousId`"),
            "{}",
            f[0].message
        );
        assert!(f[0].help.contains("AS \"userId\" or AS \"anonymousId\""));
        // anonymousId alone satisfies identify.
        assert!(!has(
            &check_contract(SyncType::IDENTIFY, &[q("anonymousId")]),
            "CIO201"
        ));

        let track = check_contract(SyncType::TRACK, &[q("userId")]);
        assert_eq!(codes(&track), vec!["CIO201"]);
        assert!(track[0].message.contains("`event`"));
        assert!(!has(
            &check_contract(SyncType::TRACK, &[q("userId"), q("event")]),
            "CIO201"
        ));

        let group = check_contract(SyncType::GROUP, &[q("groupId")]);
        assert_eq!(codes(&group), vec!["CIO201"]);
        assert!(group[0].message.contains("`objectTypeId`"));
        assert!(!has(
            &check_contract(SyncType::GROUP, &[q("groupId"), q("objectTypeId")]),
            "CIO201"
        ));

        let rel = check_contract(SyncType::RELATIONSHIP, &[q("groupId"), q("objectTypeId")]);
        assert_eq!(codes(&rel), vec!["CIO201"]);
        assert!(rel[0].message.contains("`userId`"));
        let ok = [
            q("groupId"),
            q("objectTypeId"),
            q("userId"),
            q("relationshipAttributes"),
        ];
        assert_eq!(check_contract(SyncType::RELATIONSHIP, &ok), vec![]);
    }

    #[test]
    fn cio202_required_column_unquoted() {
        // `event_name AS event` is stored EVENT: Customer.io matches
        // `event` exactly.
        let f = check_contract(SyncType::TRACK, &[q("userId"), u("event")]);
        assert_eq!(codes(&f), vec!["CIO202"]);
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].column.as_deref(), Some("EVENT"));
        assert!(f[0].help.contains("AS \"event\""), "{}", f[0].help);
        assert!(f[0].message.contains("without double quotes"));
        // Quoted with the wrong case.
        let f = check_contract(SyncType::GROUP, &[q("groupId"), q("ObjectTypeId")]);
        assert_eq!(codes(&f), vec!["CIO202"]);
        assert!(f[0].message.contains("different case"));
        // Identifiers are recognised in any case ("Queries for each sync
        // type"): `email AS userId`, stored USERID, is the userId.
        assert_eq!(check_contract(SyncType::IDENTIFY, &[u("userId")]), vec![]);
        assert_eq!(check_contract(SyncType::IDENTIFY, &[q("UserID")]), vec![]);
        assert_eq!(
            check_contract(SyncType::GROUP, &[u("groupId"), q("objectTypeId")]),
            vec![]
        );
    }

    #[test]
    fn cio203_duplicate_names_ignoring_case() {
        // One stored name twice: Snowflake cannot create the table.
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), u("email"), u("email")]);
        assert!(has(&f, "CIO203"), "{f:?}");
        assert!(
            f[0].message.contains("`EMAIL`, `EMAIL`"),
            "{}",
            f[0].message
        );
        // Two columns feeding one field matched in any case.
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), u("userId")]);
        assert_eq!(codes(&f), vec!["CIO203"]);
        // Attributes differing in case are two attributes: no finding.
        assert!(!has(
            &check_contract(SyncType::IDENTIFY, &[q("userId"), q("name"), q("Name")]),
            "CIO203"
        ));
    }

    #[test]
    fn cio204_name_longer_than_150_bytes() {
        let long = "a".repeat(151);
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), q(&long)]);
        assert_eq!(codes(&f), vec!["CIO204"]);
        assert!(f[0].message.contains("151 bytes"));
        // 150 bytes exactly is fine; multi-byte characters count as bytes.
        assert!(!has(
            &check_contract(SyncType::IDENTIFY, &[q("userId"), q(&"a".repeat(150))]),
            "CIO204"
        ));
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), q(&"é".repeat(76))]);
        assert!(has(&f, "CIO204"));
    }

    #[test]
    fn cio205_more_than_300_attributes() {
        let mut cols = vec![q("userId"), q("timestamp")];
        cols.extend((0..300).map(|i| q(&format!("attr_{i}"))));
        assert!(!has(&check_contract(SyncType::IDENTIFY, &cols), "CIO205"));
        cols.push(q("one_too_many"));
        let f = check_contract(SyncType::IDENTIFY, &cols);
        assert_eq!(codes(&f), vec!["CIO205"]);
        assert!(f[0].message.starts_with("301 attribute columns"));
        assert_eq!(f[0].column, None);
    }

    #[test]
    fn cio206_unquoted_attribute() {
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), u("first_name")]);
        assert_eq!(codes(&f), vec!["CIO206"]);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].help.contains("AS \"first_name\""));
        let star = OutputColumn {
            naming: Naming::Star,
            ..u("email")
        };
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), star]);
        assert!(f[0].help.contains("EMAIL AS \"email\""), "{}", f[0].help);
        assert_eq!(
            check_contract(SyncType::IDENTIFY, &[q("userId"), q("first_name")]),
            vec![]
        );
    }

    #[test]
    fn cio207_reserved_attribute_in_another_case() {
        let f = check_contract(
            SyncType::IDENTIFY,
            &[q("userId"), q("Email"), q("Timezone")],
        );
        assert_eq!(codes(&f), vec!["CIO207", "CIO207"]);
        assert!(f[0].help.contains("\"email\""), "{}", f[0].help);
        // Other mixed-case names are fine: attribute names are case-sensitive.
        assert_eq!(
            check_contract(
                SyncType::IDENTIFY,
                &[q("userId"), q("firstName"), q("plan_2024")]
            ),
            vec![]
        );
        // Reserved people attributes concern identify only.
        assert_eq!(
            check_contract(SyncType::TRACK, &[q("userId"), q("event"), q("Email")]),
            vec![]
        );
        // Unquoted, the upper-cased name misses the reserved one: an error.
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), u("email"), u("plan")]);
        assert_eq!(codes(&f), vec!["CIO212", "CIO206"]);
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn cio208_reserved_names_per_sync_type() {
        let f = check_contract(
            SyncType::GROUP,
            &[
                q("groupId"),
                q("objectTypeId"),
                q("relationship"),
                q("object_id"),
                q("id"),
            ],
        );
        assert_eq!(codes(&f), vec!["CIO208", "CIO208"]);
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), q("id"), q("object_id")]);
        assert_eq!(codes(&f), vec!["CIO208"]);
    }

    #[test]
    fn cio205_counts_attributes_except_for_track() {
        let mut cols = vec![q("userId"), q("event")];
        cols.extend((0..301).map(|i| q(&format!("p{i}"))));
        assert_eq!(check_contract(SyncType::TRACK, &cols), vec![]);
        cols.remove(1);
        cols.push(q("e"));
        assert_eq!(
            codes(&check_contract(SyncType::IDENTIFY, &cols)),
            vec!["CIO205"]
        );
    }

    #[test]
    fn cio208_reserved_attribute_names() {
        for name in ["id", "cio_id", "_created_in_customerio_at"] {
            let f = check_contract(SyncType::IDENTIFY, &[q("userId"), q(name)]);
            assert_eq!(codes(&f), vec!["CIO208"], "{name}");
            assert_eq!(f[0].column.as_deref(), Some(name));
        }
        // Unquoted ID is reserved too (and also unquoted).
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), u("id")]);
        assert_eq!(codes(&f), vec!["CIO206", "CIO208"]);
        assert_eq!(
            check_contract(SyncType::IDENTIFY, &[q("userId"), q("idea")]),
            vec![]
        );
    }

    #[test]
    fn cio209_created_at_with_a_non_time_type() {
        let f = check_contract(
            SyncType::IDENTIFY,
            &[q("userId"), typed(q("created_at"), "VARCHAR")],
        );
        assert_eq!(codes(&f), vec!["CIO209"]);
        assert!(f[0].message.contains("VARCHAR"));
        for ok in [
            "TIMESTAMP_NTZ",
            "TIMESTAMP_LTZ(9)",
            "NUMBER(38,0)",
            "DATE",
            "FLOAT",
        ] {
            let cols = [q("userId"), typed(q("created_at"), ok)];
            assert_eq!(check_contract(SyncType::IDENTIFY, &cols), vec![], "{ok}");
        }
        // Unknown type: no finding.
        assert_eq!(
            check_contract(SyncType::IDENTIFY, &[q("userId"), q("created_at")]),
            vec![]
        );
    }

    #[test]
    fn cio210_generated_name() {
        let generated = OutputColumn {
            naming: Naming::Generated,
            ..u("LOWER(EMAIL)")
        };
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), generated]);
        assert_eq!(codes(&f), vec!["CIO210"]);
        assert!(f[0].help.contains("AS \"attribute_name\""));
        assert!(!has(
            &check_contract(SyncType::IDENTIFY, &[q("userId"), q("email")]),
            "CIO210"
        ));
    }

    #[test]
    fn cio211_optional_special_column_with_wrong_case() {
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), u("timestamp")]);
        assert_eq!(codes(&f), vec!["CIO211"]);
        assert!(f[0].help.contains("AS \"timestamp\""));
        let f = check_contract(
            SyncType::RELATIONSHIP,
            &[
                q("groupId"),
                q("objectTypeId"),
                q("userId"),
                q("RelationshipAttributes"),
            ],
        );
        assert_eq!(codes(&f), vec!["CIO211"]);
        assert_eq!(
            check_contract(SyncType::IDENTIFY, &[q("userId"), q("timestamp")]),
            vec![]
        );
    }

    #[test]
    fn special_columns_differ_by_sync() {
        // `event` is special in track, an ordinary attribute in identify.
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), q("event")]);
        assert_eq!(f, vec![]);
        // objectTypeId in identify is an ordinary attribute.
        let f = check_contract(SyncType::IDENTIFY, &[q("userId"), q("objectTypeId")]);
        assert_eq!(f, vec![]);
    }

    #[test]
    fn time_or_number_types() {
        assert!(is_time_or_number("timestamp_ntz"));
        assert!(is_time_or_number("NUMBER(38, 0)"));
        assert!(is_time_or_number("DOUBLE PRECISION"));
        assert!(!is_time_or_number("VARCHAR(256)"));
        assert!(!is_time_or_number("VARIANT"));
        assert!(!is_time_or_number("DATEISH"));
    }
}
