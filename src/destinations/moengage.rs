//! MoEngage: users, events and aliases. MoEngage reads no warehouse: the
//! tables are exported in its Data API's shapes (`cio-sql export`).
//!
//! Sources (see also the project's research, `notes/research/destinations.md` §2):
//! - "Track User", <https://moengage.com/docs/api/user/track-user>: a user
//!   is `customer_id` and its attributes;
//! - "Create Event", <https://moengage.com/docs/api/event/track-event>: an
//!   event is `customer_id`, `action` (its name), `current_time` (epoch
//!   seconds), an optional `platform`, and its `attributes`; "MoEngage does
//!   not accept any future dated events";
//! - "Merge Users", <https://www.moengage.com/docs/api/user/merge-users>:
//!   `merged_user` merges into `retained_user`;
//! - "Data Tracking Policies",
//!   <https://help.moengage.com/hc/en-us/articles/360037314991-Data-Tracking-Policies>:
//!   event and attribute names of at most 200 characters, attribute values
//!   of at most 512 (longer ones are truncated). The registry counts bytes,
//!   the stricter reading;
//! - the `moe_` prefix is MoEngage's own ("You cannot use moe_ as a prefix
//!   when naming events", <https://moengage.com/docs/developer-guide/ios-sdk/data-tracking/basic/tracking-events>),
//!   checked by `analysis::contract` through [`super::names`].

use super::{
    CaseRule, DataRules, Destination, EventRules, Field, PeopleRule, Presence, SyncTypeSpec,
    ValueRule,
};

const CUSTOMER_ID: Field = Field {
    name: "customer_id",
    description: "the user (MoEngage's customer_id)",
    presence: Presence::Required,
    case: CaseRule::Exact,
    value: ValueRule::Any,
};

/// MoEngage's Data API.
pub const MOENGAGE: Destination = Destination {
    name: "moengage",
    title: "MoEngage",
    sync_types: &[
        SyncTypeSpec {
            name: "users",
            aliases: &[],
            label: "MoEngage users (Track User, Bulk Import users)",
            fields: &[CUSTOMER_ID],
            key: &[&["customer_id"]],
            attributes: "attributes of the user",
            max_attributes: None,
            deletes: None,
        },
        SyncTypeSpec {
            name: "aliases",
            aliases: &[],
            label: "MoEngage aliases (Merge Users)",
            fields: &[
                Field {
                    name: "merged_user",
                    description: "the user merged away",
                    presence: Presence::Required,
                    case: CaseRule::Exact,
                    value: ValueRule::Any,
                },
                Field {
                    name: "retained_user",
                    description: "the user it merges into",
                    presence: Presence::Required,
                    case: CaseRule::Exact,
                    value: ValueRule::Any,
                },
            ],
            key: &[&["merged_user"]],
            attributes: "nothing: MoEngage reads only the two users",
            max_attributes: Some(0),
            deletes: None,
        },
        SyncTypeSpec {
            name: "events",
            aliases: &[],
            label: "MoEngage events (Create Event, Bulk Import events)",
            fields: &[
                CUSTOMER_ID,
                Field {
                    name: "event_id",
                    description: "the row key (not sent)",
                    presence: Presence::Required,
                    case: CaseRule::Exact,
                    value: ValueRule::Any,
                },
                Field {
                    name: "action",
                    description: "the event name",
                    presence: Presence::Required,
                    case: CaseRule::Exact,
                    value: ValueRule::Any,
                },
                Field {
                    name: "event_time",
                    description: "when it happened, Unix seconds (current_time)",
                    presence: Presence::Optional,
                    case: CaseRule::Exact,
                    value: ValueRule::UnixSeconds,
                },
                Field {
                    name: "platform",
                    description: "the platform of the event",
                    presence: Presence::Optional,
                    case: CaseRule::Exact,
                    value: ValueRule::Any,
                },
            ],
            key: &[&["event_id"], &["customer_id"]],
            attributes: "attributes of the event",
            max_attributes: None,
            deletes: None,
        },
    ],
    max_name_bytes: Some(200),
    reserved: &[],
    reads_warehouse: false,
    data_rules: DataRules {
        id_fields: &[],
        max_id_bytes: None,
        max_value_bytes: Some(512),
        events: Some(EventRules {
            name_field: "action",
            max_name_bytes: Some(200),
            max_data_bytes: None,
        }),
        max_call_bytes: None,
        people: Some(PeopleRule {
            person_field: "customer_id",
            people_sync: "users",
        }),
        timestamp_field: None,
    },
};
