//! Bluecore: customers and events. Bluecore reads no warehouse: the rows
//! reach it through its Events API (one call per event) or its CSV file
//! imports; cio-sql builds the tables in those shapes.
//!
//! Sources (see also the project's research, `notes/research/destinations.md` §3):
//! - "Events API", <https://help.bluecore.com/help/events-api>: one
//!   endpoint, `POST https://api.bluecore.app/api/track/mobile/v1`, a body
//!   `{"event": …, "properties": {"distinct_id", "token", …}}`; a
//!   `distinct_id` on every call (an email, or an id an `identify` event
//!   links to one); a `customer` object with at least `email` on Purchase,
//!   Identify, Unsubscribe and Opt-in; "All customer attributes must be
//!   lowercase" with `_` for spaces and dashes; the standard events
//!   [`STANDARD_EVENTS`]; `search_term` on Search; `order_id` and `total`
//!   on Purchase ("total (required for Purchase events)");
//! - "Data Import Overview", <http://help.bluecore.com/en/articles/9621424>:
//!   CSV imports (UTF-8, a header row, timestamps in Unix seconds among
//!   others, UTC).
//!
//! Bluecore publishes no rate limit, batch endpoint or size limit for the
//! Events API: the entry sets none.

use super::{
    CaseRule, DataRules, Destination, EventRules, Field, Presence, SyncTypeSpec, ValueRule,
};

/// Bluecore's standard commerce events ("Events API"); any other `event`
/// is a custom event.
pub const STANDARD_EVENTS: &[&str] = &[
    "viewed_product",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "wishlist",
    "purchase",
];

const fn optional(name: &'static str, description: &'static str) -> Field {
    Field {
        name,
        description,
        presence: Presence::Optional,
        case: CaseRule::Exact,
        value: ValueRule::Any,
    }
}

const fn required(name: &'static str, description: &'static str) -> Field {
    Field {
        name,
        description,
        presence: Presence::Required,
        case: CaseRule::Exact,
        value: ValueRule::Any,
    }
}

/// Bluecore's Events API and CSV imports.
pub const BLUECORE: Destination = Destination {
    name: "bluecore",
    title: "Bluecore",
    sync_types: &[
        SyncTypeSpec {
            name: "customers",
            aliases: &[],
            label: "Bluecore customers (Events API customer object, Customer CSV import)",
            fields: &[required("email", "the customer (Bluecore's distinct_id)")],
            key: &[&["email"]],
            attributes: "attributes of the customer (lower-case names, `_` for spaces and dashes)",
            max_attributes: None,
            deletes: None,
        },
        SyncTypeSpec {
            name: "events",
            aliases: &[],
            label: "Bluecore events (Events API, one call per event)",
            fields: &[
                required(
                    "event",
                    "the event name: a standard one (purchase, …) or custom",
                ),
                required(
                    "distinct_id",
                    "the customer: an email or an id linked to one",
                ),
                required("event_id", "the row key, with distinct_id (not sent)"),
                Field {
                    name: "event_time",
                    description: "when it happened, Unix seconds",
                    presence: Presence::Optional,
                    case: CaseRule::Exact,
                    value: ValueRule::UnixSeconds,
                },
                optional("email", "the customer's email (the customer object)"),
                optional("order_id", "the order (Purchase)"),
                optional("total", "the order total (Purchase)"),
                optional("search_term", "what was searched (Search)"),
                optional("product_ids", "the products' ids (commerce events)"),
            ],
            key: &[&["event_id"], &["distinct_id"]],
            attributes: "properties of the event",
            max_attributes: None,
            deletes: None,
        },
    ],
    max_name_bytes: None,
    reserved: &[],
    reads_warehouse: false,
    data_rules: DataRules {
        id_fields: &[],
        max_id_bytes: None,
        max_value_bytes: None,
        events: Some(EventRules {
            name_field: "event",
            max_name_bytes: None,
            max_data_bytes: None,
        }),
        max_call_bytes: None,
        people: None,
        timestamp_field: None,
    },
};
