//! Destinations: the tools sync tables feed, each with the sync types it
//! reads and, for every sync type, its fields (the columns it reads by
//! name: what each is for, whether every row needs it, how its name is
//! matched), the columns that identify a row, what the other columns
//! become, and the destination's limits.
//!
//! One table per destination, and every consumer reads it: the contract
//! checks of a compile (`analysis::contract`), the setup `sync-query`
//! prints (`reports::sync_query`), and, as they come, data tests, change
//! tracking and exports. A new destination is one more [`Destination`]
//! here plus its macros in `templates/`.
//!
//! A leaf module: it depends on no stage.

pub mod bluecore;
pub mod customerio;
pub mod event_fields;
pub mod meta_capi;
pub mod moengage;
pub mod names;
pub mod rudderstack;

/// A tool sync tables feed.
#[derive(Debug)]
pub struct Destination {
    /// Its short name (`customerio`).
    pub name: &'static str,
    /// Its name for people (`Customer.io`).
    pub title: &'static str,
    /// The sync types it reads, in the order of a first sync.
    pub sync_types: &'static [SyncTypeSpec],
    /// The longest column (attribute) name it accepts, in bytes.
    pub max_name_bytes: Option<usize>,
    /// Attribute names it keeps for itself, with why.
    pub reserved: &'static [Reserved],
    /// What it accepts in a row's values: the limits and roles the
    /// generated contract data tests check (`compile::data_tests`).
    pub data_rules: DataRules,
    /// Whether it reads the warehouse itself (a reverse ETL: Customer.io,
    /// RudderStack); the others get their rows through `cio-sql export`.
    pub reads_warehouse: bool,
}

/// The rules a destination sets on the values of a row, checked by the
/// contract data tests. Sizes are in bytes of UTF-8 text. A rule the
/// destination does not have is `None` (or an empty list): no test.
#[derive(Debug)]
pub struct DataRules {
    /// Fields holding an id (a person's, an object's).
    pub id_fields: &'static [&'static str],
    /// The longest id.
    pub max_id_bytes: Option<usize>,
    /// The longest attribute value (people, objects, relationships).
    pub max_value_bytes: Option<usize>,
    /// What the destination accepts of events, when it reads any.
    pub events: Option<EventRules>,
    /// The largest call (one row, names and values).
    pub max_call_bytes: Option<usize>,
    /// Who rows name, when other sync types' rows must name a person the
    /// people sync has.
    pub people: Option<PeopleRule>,
    /// The field holding the time of the call: never NULL, never ahead.
    pub timestamp_field: Option<&'static str>,
}

/// What a destination accepts of events.
#[derive(Debug)]
pub struct EventRules {
    /// The field holding an event's name: a sync type reading it sends
    /// events, whose other columns are the event's data.
    pub name_field: &'static str,
    /// The longest event name.
    pub max_name_bytes: Option<usize>,
    /// The most event data (every property of one event).
    pub max_data_bytes: Option<usize>,
}

/// The field naming a person, and the sync type that creates people: rows
/// of other sync types that name a person must name one the people sync
/// has.
#[derive(Debug)]
pub struct PeopleRule {
    /// The field naming a person (`userId`).
    pub person_field: &'static str,
    /// The sync type creating people (`identify`).
    pub people_sync: &'static str,
}

/// An attribute name a destination gives a meaning of its own.
#[derive(Debug)]
pub struct Reserved {
    /// The name, as the destination spells it.
    pub name: &'static str,
    /// Whether a sync may set it (`email`): then only this exact spelling
    /// is the reserved attribute, and another case of it is a different
    /// attribute. When not, the name (in any case) cannot be an attribute.
    pub settable: bool,
    /// The sync types whose attributes it concerns.
    pub sync_types: &'static [&'static str],
    /// Why it matters, and what to do.
    pub help: &'static str,
    /// The destination's page the rule comes from: title and address.
    pub source: &'static str,
}

/// One kind of sync table a destination reads.
#[derive(Debug)]
pub struct SyncTypeSpec {
    /// Its name, as `cio_sync` writes it (`identify`).
    pub name: &'static str,
    /// Other names `cio_sync` accepts for it.
    pub aliases: &'static [&'static str],
    /// What to choose in the destination, with what it syncs.
    pub label: &'static str,
    /// The columns the destination reads by name.
    pub fields: &'static [Field],
    /// The columns that identify a row: each part is the first present of
    /// its names (a track row, an event, has no key of its own).
    pub key: &'static [&'static [&'static str]],
    /// What the destination makes of the other columns.
    pub attributes: &'static str,
    /// The most attribute columns one row may carry, when limited by count.
    pub max_attributes: Option<usize>,
    /// How the destination learns that a row's key left the table, when
    /// change tracking keeps tombstones.
    pub deletes: Option<Deletes>,
}

/// How a destination is told that a key left a change-tracked table.
#[derive(Debug)]
pub enum Deletes {
    /// A second sync sends an event for each tombstone (Customer.io's
    /// semantic delete events).
    Event {
        /// The `event` value.
        event: &'static str,
        /// (column of the delete sync, column of the sync table it comes
        /// from).
        columns: &'static [(&'static str, &'static str)],
    },
    /// The tombstone itself is sent, with `value` in its `field` (the
    /// `action` of RudderStack's group calls, `delete`): the sync reads the
    /// tombstones with the rows that changed.
    Action {
        /// The field naming what to do with the row.
        field: &'static str,
        /// Its value on a tombstone.
        value: &'static str,
    },
}

/// A column a sync type reads by name.
#[derive(Debug)]
pub struct Field {
    /// The column name.
    pub name: &'static str,
    /// What it is for, in a few words.
    pub description: &'static str,
    /// Whether every row needs it.
    pub presence: Presence,
    /// How its name is matched.
    pub case: CaseRule,
    /// What its values must be.
    pub value: ValueRule,
}

/// What a field's values must be, checked by the contract data tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRule {
    /// Anything.
    Any,
    /// The lower-case hex SHA-256 of the normalised value (64 characters
    /// `0-9a-f`), made in SQL before the row leaves the warehouse.
    Sha256Hex,
    /// One of these values, exactly.
    OneOf(&'static [&'static str]),
    /// A whole number (in a number or in text).
    WholeNumber,
    /// A time in whole Unix seconds (UTC): a whole number, not negative.
    UnixSeconds,
}

/// Whether every row needs a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Every row has it.
    Required,
    /// Every row has at least one of the fields of this group (named by
    /// the group, e.g. `person` for `userId` and `anonymousId`).
    OneOf(&'static str),
    /// Read when present.
    Optional,
}

/// How a destination matches a field's column name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseRule {
    /// Exactly as spelled: a column with another case is not the field
    /// (and is sent as an attribute).
    Exact,
    /// In any case.
    AnyCase,
}

impl SyncTypeSpec {
    /// The field named exactly `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field `name` matches ignoring case.
    pub fn field_ignoring_case(&self, name: &str) -> Option<&'static Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The fields every row needs, as groups each satisfied by any one of
    /// its names: the required fields one by one, then each `OneOf` group.
    pub fn required_groups(&self) -> Vec<Vec<&'static str>> {
        let mut groups: Vec<Vec<&'static str>> = self
            .fields
            .iter()
            .filter(|f| f.presence == Presence::Required)
            .map(|f| vec![f.name])
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        for f in self.fields {
            if let Presence::OneOf(group) = f.presence
                && !seen.contains(&group)
            {
                seen.push(group);
                groups.push(
                    self.fields
                        .iter()
                        .filter(|g| g.presence == Presence::OneOf(group))
                        .map(|g| g.name)
                        .collect(),
                );
            }
        }
        groups
    }
}

impl Destination {
    /// Its sync type names, as `cio_sync` writes them.
    pub fn sync_type_names(&self) -> Vec<&'static str> {
        self.sync_types.iter().map(|s| s.name).collect()
    }
}

/// Every destination cio-sql knows. Customer.io stays first: the default,
/// and [`SyncType`]'s Customer.io constants point at it.
pub const DESTINATIONS: &[&Destination] = &[
    &customerio::CUSTOMER_IO,
    &rudderstack::RUDDERSTACK,
    &moengage::MOENGAGE,
    &meta_capi::META_CAPI,
    &bluecore::BLUECORE,
];

/// The destination a model names when it sets no `cio_destination`.
pub const DEFAULT_DESTINATION: &str = "customerio";

/// The destination named `name` (ignoring case and surrounding spaces).
pub fn destination(name: &str) -> Option<&'static Destination> {
    let wanted = name.trim();
    DESTINATIONS
        .iter()
        .copied()
        .find(|d| d.name.eq_ignore_ascii_case(wanted))
}

/// Every destination's name.
pub fn destination_names() -> Vec<&'static str> {
    DESTINATIONS.iter().map(|d| d.name).collect()
}

/// One sync type of one destination: a small handle on its registry entry,
/// what every consumer (contract checks, data tests, change tracking,
/// `sync-query`, `lineage`, `plan`) passes around.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SyncType {
    /// Position of the destination in [`DESTINATIONS`].
    destination: u8,
    /// Position of the sync type in its destination's `sync_types`.
    index: u8,
}

/// Why a `cio_destination`/`cio_sync` pair names no sync type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncLookupError {
    /// No destination has this name.
    #[error("unknown destination `{0}`")]
    UnknownDestination(String),
    /// The destination has no sync type of this name.
    #[error("{destination} has no sync type `{value}`")]
    UnknownSyncType {
        /// The destination's name.
        destination: &'static str,
        /// The `cio_sync` value.
        value: String,
    },
}

impl SyncType {
    /// Customer.io's Identify: people and their attributes.
    pub const IDENTIFY: SyncType = SyncType::customerio(0);
    /// Customer.io's Group: objects and their attributes.
    pub const GROUP: SyncType = SyncType::customerio(1);
    /// Customer.io's relationships between people and objects.
    pub const RELATIONSHIP: SyncType = SyncType::customerio(2);
    /// Customer.io's Track: events performed by people.
    pub const TRACK: SyncType = SyncType::customerio(3);

    const fn customerio(index: u8) -> SyncType {
        SyncType {
            destination: 0,
            index,
        }
    }

    /// Every sync type of every destination, destination by destination,
    /// each in its first-sync order.
    pub fn all() -> impl Iterator<Item = SyncType> {
        DESTINATIONS.iter().enumerate().flat_map(|(d, dest)| {
            (0..dest.sync_types.len()).map(move |i| SyncType {
                destination: d as u8,
                index: i as u8,
            })
        })
    }

    /// The sync type `sync` of destination `destination`.
    pub fn find(destination: &str, sync: &str) -> Result<SyncType, SyncLookupError> {
        let d = DESTINATIONS
            .iter()
            .position(|d| d.name.eq_ignore_ascii_case(destination.trim()))
            .ok_or_else(|| SyncLookupError::UnknownDestination(destination.to_string()))?;
        let dest = DESTINATIONS[d];
        let wanted = sync.trim().to_ascii_lowercase();
        let index = dest
            .sync_types
            .iter()
            .position(|s| s.name == wanted || s.aliases.contains(&wanted.as_str()))
            .ok_or_else(|| SyncLookupError::UnknownSyncType {
                destination: dest.name,
                value: sync.to_string(),
            })?;
        Ok(SyncType {
            destination: d as u8,
            index: index as u8,
        })
    }

    /// Its destination.
    pub fn destination(self) -> &'static Destination {
        DESTINATIONS[self.destination as usize]
    }

    /// Its entry in its destination's registry.
    pub fn spec(self) -> &'static SyncTypeSpec {
        &self.destination().sync_types[self.index as usize]
    }

    /// Its name, as `cio_sync` writes it.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Whether it is one of Customer.io's.
    pub fn is_customerio(self) -> bool {
        self.destination == 0
    }

    /// Position in its destination's first-sync order (Customer.io: people,
    /// objects, relationships, then events, which only need the people).
    pub fn rank(self) -> usize {
        self.index as usize
    }

    /// The sync type to choose in the destination, with what it syncs.
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// What the destination makes of the columns that are not its fields.
    pub fn attributes_role(self) -> &'static str {
        self.spec().attributes
    }
}

/// Customer.io's sync types by their name (`identify`), other
/// destinations' by `destination.name` (`rudderstack.objects`): how
/// messages, `lineage --json` and `plan` name them.
impl std::fmt::Display for SyncType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_customerio() {
            f.write_str(self.name())
        } else {
            write!(f, "{}.{}", self.destination().name, self.name())
        }
    }
}

impl std::fmt::Debug for SyncType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SyncType({}.{})", self.destination().name, self.name())
    }
}

/// A sync type name that is not one of the registry's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sync type `{0}`: expected identify, track, group (or object), or relationship")]
pub struct UnknownSyncType(pub String);

impl std::str::FromStr for SyncType {
    type Err = UnknownSyncType;

    /// Reads what [`SyncType`]'s `Display` writes: a Customer.io sync type
    /// (`identify`, ignoring case and surrounding spaces), or
    /// `destination.sync_type`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (destination, sync) = s.trim().split_once('.').unwrap_or((DEFAULT_DESTINATION, s));
        SyncType::find(destination, sync).map_err(|_| UnknownSyncType(s.to_string()))
    }
}

impl serde::Serialize for SyncType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SyncType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every entry must hold for its consumers to read it.
    #[test]
    fn every_destination_is_a_consistent_entry() {
        assert_eq!(DESTINATIONS[0].name, DEFAULT_DESTINATION);
        let mut names: Vec<&str> = destination_names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            DESTINATIONS.len(),
            "two destinations share a name"
        );
        for t in SyncType::all() {
            let spec = t.spec();
            assert_eq!(t.to_string().parse::<SyncType>(), Ok(t), "{t}");
            assert_eq!(SyncType::find(t.destination().name, spec.name), Ok(t));
            for part in spec.key {
                for name in *part {
                    assert!(spec.field(name).is_some(), "{t}: key {name}");
                }
            }
            let mut fields: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
            fields.sort_unstable();
            fields.dedup();
            assert_eq!(fields.len(), spec.fields.len(), "{t}: a field twice");
            match &spec.deletes {
                Some(Deletes::Event { columns, .. }) => {
                    for (_, from) in *columns {
                        assert!(spec.field(from).is_some(), "{t}: delete column {from}");
                    }
                }
                Some(Deletes::Action { field, value }) => {
                    let f = spec.field(field).unwrap_or_else(|| panic!("{t}: {field}"));
                    assert_eq!(f.presence, Presence::Required, "{t}: {field}");
                    assert!(
                        matches!(f.value, ValueRule::OneOf(values) if values.contains(value)),
                        "{t}: {value} is not a value of {field}"
                    );
                }
                None => {}
            }
            let rules = &t.destination().data_rules;
            for id in rules.id_fields {
                assert!(
                    t.destination()
                        .sync_types
                        .iter()
                        .any(|s| s.field(id).is_some()),
                    "{t}: id field {id}"
                );
            }
            if let Some(p) = &rules.people {
                assert!(
                    t.destination()
                        .sync_types
                        .iter()
                        .any(|s| s.name == p.people_sync)
                );
            }
        }
    }

    #[test]
    fn lookups_name_what_is_wrong() {
        assert_eq!(
            SyncType::find("nowhere", "track"),
            Err(SyncLookupError::UnknownDestination("nowhere".into()))
        );
        assert_eq!(
            SyncType::find("customerio", "people"),
            Err(SyncLookupError::UnknownSyncType {
                destination: "customerio",
                value: "people".into()
            })
        );
        assert_eq!(
            SyncType::find(" CustomerIO ", " Track "),
            Ok(SyncType::TRACK)
        );
        assert_eq!(
            destination("customerio").map(|d| d.title),
            Some("Customer.io")
        );
        assert_eq!(
            format!("{:?}", SyncType::GROUP),
            "SyncType(customerio.group)"
        );
    }
}
