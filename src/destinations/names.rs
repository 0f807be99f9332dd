//! Rules on attribute names a destination sets beyond their length: a
//! prefix it keeps for itself (MoEngage's `moe_`), a character set (Bluecore).
//! Kept apart from [`super::Destination`] so that an entry without such a
//! rule needs no change; `analysis::contract` reports a broken rule as
//! CIO213.

/// One rule on the names of a destination's attribute columns.
#[derive(Debug)]
pub struct NameRule {
    /// What a name must not do.
    pub check: NameCheck,
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
}

impl NameCheck {
    /// Whether `name` breaks the rule.
    pub fn broken_by(self, name: &str) -> bool {
        match self {
            NameCheck::NoPrefix(prefix) => name
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix)),
        }
    }
}

/// The name rules of destination `name`.
pub fn rules(destination: &str) -> &'static [NameRule] {
    match destination {
        "moengage" => &[NameRule {
            check: NameCheck::NoPrefix("moe_"),
            help: "MoEngage keeps names starting with moe_ for its own attributes and events; rename the column",
            source: "Tracking events, <https://moengage.com/docs/developer-guide/ios-sdk/data-tracking/basic/tracking-events>",
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
}
