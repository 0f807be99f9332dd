//! Rules on attribute names a destination sets beyond their length: a
//! prefix it keeps for itself (MoEngage's `moe_`), a character set (Bluecore).
//! Kept apart from [`super::Destination`] so that an entry without such a
//! rule needs no change; `analysis::contract` reports a broken prefix rule
//! as CIO213 and a broken character-set rule as CIO214.

/// One rule on the names of a destination's attribute columns.
#[derive(Debug)]
pub struct NameRule {
    /// What a name must not do.
    pub check: NameCheck,
    /// The sync types whose attribute columns it concerns; empty: all.
    pub sync_types: &'static [&'static str],
    /// Why, and what to do.
    pub help: &'static str,
    /// The destination's page the rule comes from: title and address.
    pub source: &'static str,
}

/// What a name is checked for.
#[derive(Debug, Clone, Copy)]
pub enum NameCheck {
    /// It must not start with this prefix, in any case.
    NoPrefix(&'static str),
    /// It must hold no upper-case letter, space or dash.
    LowerNoSpaceOrDash,
}

impl NameCheck {
    /// Whether `name` breaks the rule.
    pub fn broken_by(self, name: &str) -> bool {
        match self {
            NameCheck::NoPrefix(prefix) => name
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix)),
            NameCheck::LowerNoSpaceOrDash => name
                .chars()
                .any(|c| c.is_uppercase() || c.is_whitespace() || c == '-'),
        }
    }
}

impl NameRule {
    /// Whether the rule concerns the attribute columns of sync type `sync`.
    pub fn applies_to(&self, sync: &str) -> bool {
        self.sync_types.is_empty() || self.sync_types.contains(&sync)
    }
}

/// The name rules of destination `name`.
pub fn rules(destination: &str) -> &'static [NameRule] {
    match destination {
        "moengage" => &[NameRule {
            check: NameCheck::NoPrefix("moe_"),
            sync_types: &[],
            help: "MoEngage keeps names starting with moe_ for its own attributes and events; rename the column",
            source: "Tracking events, <https://moengage.com/docs/developer-guide/ios-sdk/data-tracking/basic/tracking-events>",
        }],
        "bluecore" => &[NameRule {
            check: NameCheck::LowerNoSpaceOrDash,
            sync_types: &["customers"],
            help: "Bluecore customer attributes must be lower-case, with `_` for spaces and dashes; rename the column (rename_traits={'Old Name': 'old_name'}) or alias it in lower case",
            source: "Events API, <https://help.bluecore.com/help/events-api>",
        }],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_matched_in_any_case() {
        let check = rules("moengage")[0].check;
        assert!(check.broken_by("moe_plan") && check.broken_by("MOE_plan"));
        assert!(!check.broken_by("moe") && !check.broken_by("plan_moe_"));
        assert!(rules("customerio").is_empty());
    }

    #[test]
    fn bluecore_customer_attributes_are_lower_case_without_space_or_dash() {
        let rule = &rules("bluecore")[0];
        for bad in ["Plan", "first name", "loyalty-tier", "ÉTAT"] {
            assert!(rule.check.broken_by(bad), "{bad}");
        }
        for good in ["plan", "first_name", "tier2", "état"] {
            assert!(!rule.check.broken_by(good), "{good}");
        }
        assert!(rule.applies_to("customers") && !rule.applies_to("events"));
        assert!(rules("moengage")[0].applies_to("events"));
    }
}
