//! Customer.io's reverse ETL: its four sync types and the columns each reads.
//!
//! Each row of a sync table is one call: `identify` (a person and its
//! traits), `track` (an event and its properties), `group` (an object and
//! its attributes) or a `group` call with a `userId` (a relationship
//! between a person and an object). Sources (see also
//! `notes/research/customerio.md` of the project's research):
//! - "Queries for each sync type",
//!   <https://docs.customer.io/integrations/data-in/connections/reverse-etl/sync-queries/>:
//!   each row becomes one call, its columns the traits or properties;
//! - the Pipelines API (<https://docs.customer.io/integrations/api/cdp/>)
//!   and "Group" (<https://docs.customer.io/integrations/data-in/source-spec/group-spec.md>):
//!   a group call carries `groupId`, `traits.objectTypeId` and, optionally,
//!   `userId` or `anonymousId`: "Sending a userId associates the user with
//!   the group", so in a Group sync those are identifiers, not attributes;
//! - the Track API's limits (<https://docs.customer.io/api/track/>):
//!   attribute names of at most 150 bytes, at most 300 attributes per
//!   person or Identify call and per object or relationship; ids of at most
//!   150 bytes, attribute values of at most 1000 bytes, event names of at
//!   most 100 bytes; event data is limited by size (100,000 bytes), not by a
//!   count of properties;
//! - the Pipelines API's payload limits
//!   (<https://docs.customer.io/integrations/api/cdp/>, "Rate and payload
//!   limits"): "A request is limited to 32KB";
//! - "Queries for each sync type" again: "Customer.io recognizes identifiers
//!   like userId and groupId in any case", so `userId`, `anonymousId` and
//!   `groupId` are matched in any case ([`CaseRule::AnyCase`]);
//! - the reserved attribute names, each with its page ([`Reserved::source`]).

use super::{
    CaseRule, DataRules, Deletes, Destination, EventRules, Field, PeopleRule, Presence, Reserved,
    SyncTypeSpec, ValueRule,
};

const USER_ID: Field = Field {
    name: "userId",
    description: "the person; every row needs userId or anonymousId",
    presence: Presence::OneOf("person"),
    case: CaseRule::AnyCase,
    value: ValueRule::Any,
};
const ANONYMOUS_ID: Field = Field {
    name: "anonymousId",
    description: "the person when there is no userId",
    presence: Presence::OneOf("person"),
    case: CaseRule::AnyCase,
    value: ValueRule::Any,
};
const TIMESTAMP: Field = Field {
    name: "timestamp",
    description: "the time of the call",
    presence: Presence::Optional,
    case: CaseRule::Exact,
    value: ValueRule::Any,
};
const GROUP_ID: Field = Field {
    name: "groupId",
    description: "the object's id",
    presence: Presence::Required,
    case: CaseRule::AnyCase,
    value: ValueRule::Any,
};
const OBJECT_TYPE_ID: Field = Field {
    name: "objectTypeId",
    description: "the object type",
    presence: Presence::Required,
    case: CaseRule::Exact,
    value: ValueRule::WholeNumber,
};

/// "Reserved attributes", the people attributes with a meaning of their own.
const RESERVED_PAGE: &str =
    "Reserved attributes, <https://docs.customer.io/messaging/people/reserved-attributes/>";
/// "Manage customer attributes": `created_at`, `_created_in_customerio_at`,
/// and attribute names being case-sensitive.
const ATTRIBUTES_PAGE: &str =
    "Manage customer attributes, <https://docs.customer.io/journeys/attributes>";
/// The Track API reference: `unsubscribed`, and the limits.
const TRACK_API: &str = "Track API, <https://docs.customer.io/api/track/>";
/// "Objects": the object and relationship attributes Customer.io reserves.
const OBJECTS_PAGE: &str = "Objects, <https://docs.customer.io/journeys/objects-create>";

/// Customer.io, the first destination.
pub const CUSTOMER_IO: Destination = Destination {
    name: "customerio",
    title: "Customer.io",
    // People, objects, relationships, then events (which only need the
    // people to exist): the order of a first sync.
    sync_types: &[
        SyncTypeSpec {
            name: "identify",
            aliases: &[],
            label: "Identify (people)",
            fields: &[USER_ID, ANONYMOUS_ID, TIMESTAMP],
            key: &[&["userId", "anonymousId"]],
            attributes: "traits of the person",
            max_attributes: Some(300),
            deletes: Some(Deletes::Event {
                event: "User Deleted",
                columns: &[("userId", "userId")],
            }),
        },
        SyncTypeSpec {
            name: "group",
            aliases: &["object"],
            label: "Group (objects)",
            fields: &[
                GROUP_ID,
                OBJECT_TYPE_ID,
                Field {
                    name: "userId",
                    description: "a person to associate with the object",
                    presence: Presence::Optional,
                    case: CaseRule::AnyCase,
                    value: ValueRule::Any,
                },
                Field {
                    name: "anonymousId",
                    description: "a person without a userId to associate with the object",
                    presence: Presence::Optional,
                    case: CaseRule::AnyCase,
                    value: ValueRule::Any,
                },
                TIMESTAMP,
            ],
            key: &[&["groupId"]],
            attributes: "attributes of the object",
            max_attributes: Some(300),
            // The spec's "Delete Object" requires an anonymousId; the object
            // id is the one stable value at hand.
            deletes: Some(Deletes::Event {
                event: "Object Deleted",
                columns: &[
                    ("anonymousId", "groupId"),
                    ("objectId", "groupId"),
                    ("objectTypeId", "objectTypeId"),
                ],
            }),
        },
        SyncTypeSpec {
            name: "relationship",
            aliases: &[],
            label: "Group with userId (relationships)",
            fields: &[
                GROUP_ID,
                OBJECT_TYPE_ID,
                Field {
                    name: "userId",
                    description: "the person",
                    presence: Presence::Required,
                    case: CaseRule::AnyCase,
                    value: ValueRule::Any,
                },
                TIMESTAMP,
                Field {
                    name: "relationshipAttributes",
                    description: "attributes of the relationship (a JSON object)",
                    presence: Presence::Optional,
                    case: CaseRule::Exact,
                    value: ValueRule::Any,
                },
            ],
            key: &[&["groupId"], &["userId"]],
            attributes: "attributes of the object, not of the relationship",
            max_attributes: Some(300),
            deletes: Some(Deletes::Event {
                event: "Relationship Deleted",
                columns: &[
                    ("userId", "userId"),
                    ("objectId", "groupId"),
                    ("objectTypeId", "objectTypeId"),
                ],
            }),
        },
        SyncTypeSpec {
            name: "track",
            aliases: &[],
            label: "Track (events)",
            fields: &[
                USER_ID,
                ANONYMOUS_ID,
                TIMESTAMP,
                Field {
                    name: "event",
                    description: "the event name",
                    presence: Presence::Required,
                    case: CaseRule::Exact,
                    value: ValueRule::Any,
                },
            ],
            key: &[],
            attributes: "properties of the event",
            // Event data is limited by size (100,000 bytes), not by a count
            // of properties: Track API, "Limits".
            max_attributes: None,
            // An event that happened is not undone.
            deletes: None,
        },
    ],
    max_name_bytes: Some(150),
    reserved: &[
        Reserved {
            name: "id",
            settable: false,
            sync_types: &["identify"],
            help: "`id` identifies the person in Customer.io; send the identifier as \"userId\" and rename this attribute",
            source: RESERVED_PAGE,
        },
        Reserved {
            name: "cio_id",
            settable: false,
            sync_types: &["identify"],
            help: "`cio_id` is assigned by Customer.io; rename this attribute",
            source: RESERVED_PAGE,
        },
        Reserved {
            name: "_created_in_customerio_at",
            settable: false,
            sync_types: &["identify"],
            help: "Customer.io sets `_created_in_customerio_at` itself; rename this attribute",
            source: ATTRIBUTES_PAGE,
        },
        Reserved {
            name: "email",
            settable: true,
            sync_types: &["identify"],
            help: "the person's email address",
            source: RESERVED_PAGE,
        },
        Reserved {
            name: "created_at",
            settable: true,
            sync_types: &["identify"],
            help: "when the person was created (Unix seconds)",
            source: ATTRIBUTES_PAGE,
        },
        Reserved {
            name: "unsubscribed",
            settable: true,
            sync_types: &["identify"],
            help: "the person's global unsubscribe",
            source: TRACK_API,
        },
        Reserved {
            name: "timezone",
            settable: true,
            sync_types: &["identify"],
            help: "the person's time zone, for Time Zone Match",
            source: "Send messages in users' timezones, <https://docs.customer.io/journeys/timezone-match>",
        },
        Reserved {
            name: "object_id",
            settable: false,
            sync_types: &["group", "relationship"],
            help: "`object_id` identifies the object in Customer.io; send the identifier as \"groupId\" and rename this attribute",
            source: OBJECTS_PAGE,
        },
        Reserved {
            name: "objectId",
            settable: false,
            sync_types: &["group", "relationship"],
            help: "`objectId` stands for `object_id` in some Customer.io integrations; send the identifier as \"groupId\" and rename this attribute",
            source: OBJECTS_PAGE,
        },
        Reserved {
            name: "cio_object_id",
            settable: false,
            sync_types: &["group", "relationship"],
            help: "`cio_object_id` is assigned by Customer.io; rename this attribute",
            source: OBJECTS_PAGE,
        },
        Reserved {
            name: "relationship",
            settable: false,
            sync_types: &["group", "relationship"],
            help: "Customer.io does not accept `relationship` as the name of an object attribute; rename it (relationship attributes go in \"relationshipAttributes\")",
            source: OBJECTS_PAGE,
        },
    ],
    reads_warehouse: true,
    data_rules: DataRules {
        id_fields: &["userId", "anonymousId", "groupId"],
        max_id_bytes: Some(150),
        max_value_bytes: Some(1000),
        events: Some(EventRules {
            name_field: "event",
            max_name_bytes: Some(100),
            max_data_bytes: Some(100_000),
        }),
        max_call_bytes: Some(32 * 1024),
        people: Some(PeopleRule {
            person_field: "userId",
            people_sync: "identify",
        }),
        timestamp_field: Some("timestamp"),
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destinations::SyncType;

    #[test]
    fn each_sync_type_is_its_table_entry() {
        let all: Vec<SyncType> = SyncType::all().filter(|t| t.is_customerio()).collect();
        assert_eq!(
            all,
            [
                SyncType::IDENTIFY,
                SyncType::GROUP,
                SyncType::RELATIONSHIP,
                SyncType::TRACK
            ]
        );
        for (i, t) in all.into_iter().enumerate() {
            assert_eq!(t.rank(), i);
            assert_eq!(t.to_string(), t.spec().name);
            assert_eq!(t.to_string().parse::<SyncType>(), Ok(t));
            // Every key column is a field.
            for part in t.spec().key {
                for name in *part {
                    assert!(t.spec().field(name).is_some(), "{t}: key {name}");
                }
            }
        }
        assert_eq!(CUSTOMER_IO.sync_types.len(), 4);
        assert_eq!("object".parse::<SyncType>(), Ok(SyncType::GROUP));
    }

    #[test]
    fn required_groups_follow_customer_io() {
        let groups = |t: SyncType| t.spec().required_groups();
        assert_eq!(groups(SyncType::IDENTIFY), [vec!["userId", "anonymousId"]]);
        assert_eq!(
            groups(SyncType::TRACK),
            [vec!["event"], vec!["userId", "anonymousId"]]
        );
        assert_eq!(
            groups(SyncType::GROUP),
            [vec!["groupId"], vec!["objectTypeId"]]
        );
        assert_eq!(
            groups(SyncType::RELATIONSHIP),
            [vec!["groupId"], vec!["objectTypeId"], vec!["userId"]]
        );
        // A Group sync reads userId and anonymousId: they relate a person
        // to the object, they are not attributes.
        let group = SyncType::GROUP.spec();
        assert!(group.field("userId").is_some() && group.field("anonymousId").is_some());
    }
}
