//! RudderStack's Customer.io destination, fed by RudderStack's reverse ETL:
//! object and relationship tables whose rows RudderStack sends to
//! Customer.io as `group` calls.
//!
//! Sources (see also the project's research,
//! `notes/schemas/rudderstack_cio_table.md`):
//! - rudderlabs/rudder-transformer, `src/v0/destinations/customerio/data/customerIoGroup.json`
//!   and `v2/util.ts` (`buildObject`), <https://github.com/rudderlabs/rudder-transformer>:
//!   `groupId` becomes the object's `object_id`; `traits.objectTypeId` its
//!   `object_type_id` (a string, default `"1"`); `traits.action` one of
//!   `identify`, `delete`, `add_relationships`, `delete_relationships`
//!   (anything else silently becomes `identify`); `userId` the one person a
//!   row relates to the object; every other trait an attribute;
//! - the same code's limits: at most 32 KB per operation (`v2/config.ts`,
//!   `MAX_OBJECT_SIZE_BYTES`), batches of at most 1,000 items;
//! - "How to Use the JSON Data Mapper",
//!   <https://www.rudderstack.com/docs/data-pipelines/reverse-etl/developer-guides/json-data-mapping/>:
//!   RudderStack maps a table's columns in its UI, with a unique row key and,
//!   for incremental syncs, a cursor column;
//! - Customer.io's Track API limits, <https://docs.customer.io/api/track/>,
//!   which the objects reach unchanged: ids and attribute names of at most
//!   150 bytes, attribute values of at most 1000 bytes, at most 300
//!   attributes per object.
//!
//! RudderStack never sends relationship attributes, so a relationship row
//! carries none; that its Customer.io destination accepts `group` calls from
//! a warehouse source is read from its code, not promised by its docs (see
//! README, "RudderStack").

use super::{
    CaseRule, DataRules, Deletes, Destination, Field, Presence, Reserved, SyncTypeSpec, ValueRule,
};

/// The rudder-transformer repository, where the group mapping lives.
const TRANSFORMER: &str = "rudder-transformer, customerIoGroup.json, <https://github.com/rudderlabs/rudder-transformer/blob/develop/src/v0/destinations/customerio/data/customerIoGroup.json>";

const GROUP_ID: Field = Field {
    name: "groupId",
    description: "the object's id (Customer.io object_id)",
    presence: Presence::Required,
    case: CaseRule::Exact,
    value: ValueRule::Any,
};
const OBJECT_TYPE_ID: Field = Field {
    name: "objectTypeId",
    description: "the object type (Customer.io object_type_id)",
    presence: Presence::Required,
    case: CaseRule::Exact,
    value: ValueRule::WholeNumber,
};

/// The `action` values of an object row.
pub const OBJECT_ACTIONS: &[&str] = &["identify", "delete"];
/// The `action` values of a relationship row.
pub const RELATIONSHIP_ACTIONS: &[&str] = &["add_relationships", "delete_relationships"];

/// RudderStack's reverse ETL into its Customer.io destination.
pub const RUDDERSTACK: Destination = Destination {
    name: "rudderstack",
    title: "RudderStack",
    sync_types: &[
        SyncTypeSpec {
            name: "objects",
            aliases: &[],
            label: "RudderStack reverse ETL to Customer.io: group calls (objects)",
            fields: &[
                GROUP_ID,
                OBJECT_TYPE_ID,
                Field {
                    name: "action",
                    description: "identify (create or update the object) or delete",
                    presence: Presence::Required,
                    case: CaseRule::Exact,
                    value: ValueRule::OneOf(OBJECT_ACTIONS),
                },
            ],
            key: &[&["objectTypeId"], &["groupId"]],
            attributes: "attributes of the object",
            max_attributes: Some(300),
            deletes: Some(Deletes::Action {
                field: "action",
                value: "delete",
            }),
        },
        SyncTypeSpec {
            name: "relationships",
            aliases: &[],
            label: "RudderStack reverse ETL to Customer.io: group calls with userId (relationships)",
            fields: &[
                GROUP_ID,
                OBJECT_TYPE_ID,
                Field {
                    name: "userId",
                    description: "the person related to the object",
                    presence: Presence::Required,
                    case: CaseRule::Exact,
                    value: ValueRule::Any,
                },
                Field {
                    name: "action",
                    description: "add_relationships or delete_relationships",
                    presence: Presence::Required,
                    case: CaseRule::Exact,
                    value: ValueRule::OneOf(RELATIONSHIP_ACTIONS),
                },
            ],
            key: &[&["objectTypeId"], &["groupId"], &["userId"]],
            attributes: "attributes of the object (RudderStack sends no relationship attributes)",
            max_attributes: Some(300),
            deletes: Some(Deletes::Action {
                field: "action",
                value: "delete_relationships",
            }),
        },
    ],
    max_name_bytes: Some(150),
    reserved: &[
        Reserved {
            name: "email",
            settable: false,
            sync_types: &["objects", "relationships"],
            help: "RudderStack reads `email` to find the person of a relationship, and it would also land on the object; rename this attribute",
            source: TRANSFORMER,
        },
        Reserved {
            name: "object_type_id",
            settable: false,
            sync_types: &["objects", "relationships"],
            help: "RudderStack reads only \"objectTypeId\" for the object type: `object_type_id` would become an attribute; rename it",
            source: TRANSFORMER,
        },
        Reserved {
            name: "object_id",
            settable: false,
            sync_types: &["objects", "relationships"],
            help: "`object_id` identifies the object in Customer.io; send the identifier as \"groupId\" and rename this attribute",
            source: "Objects, <https://docs.customer.io/journeys/objects-create>",
        },
    ],
    reads_warehouse: true,
    data_rules: DataRules {
        id_fields: &["groupId", "userId"],
        max_id_bytes: Some(150),
        max_value_bytes: Some(1000),
        events: None,
        max_call_bytes: Some(32 * 1024),
        people: None,
        timestamp_field: None,
    },
};
