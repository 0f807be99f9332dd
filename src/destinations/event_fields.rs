//! Fields a destination needs on some events only: Bluecore's Purchase
//! needs its `total`, its Search its `search_term`. Kept apart from
//! [`super::Destination`] so that an entry without such a rule needs no
//! change; the `event_fields` contract data test (`compile::data_tests`)
//! reads it, since an event's name is a value the rows hold.

/// Events named `event` need every one of `fields`.
#[derive(Debug)]
pub struct EventFields {
    /// The event name, as the destination spells it.
    pub event: &'static str,
    /// The fields every such event needs (not NULL).
    pub fields: &'static [&'static str],
}

/// The per-event field rules of destination `name`.
pub fn rules(destination: &str) -> &'static [EventFields] {
    match destination {
        // "Events API", <https://help.bluecore.com/help/events-api>: "total
        // (required for Purchase events)"; `search_term` on Search. An
        // omitted order_id gets a random one, so it is not required.
        "bluecore" => &[
            EventFields {
                event: "purchase",
                fields: &["total"],
            },
            EventFields {
                event: "search",
                fields: &["search_term"],
            },
        ],
        _ => &[],
    }
}
