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

pub mod customerio;
pub mod meta_capi;

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
    pub max_name_bytes: usize,
    /// Attribute names it keeps for itself, with why.
    pub reserved: &'static [Reserved],
    /// What it accepts in a row's values: the limits and roles the
    /// generated contract data tests check (`compile::data_tests`).
    pub data_rules: DataRules,
}

/// The rules a destination sets on the values of a row, checked by the
/// contract data tests. Sizes are in bytes of UTF-8 text.
#[derive(Debug)]
pub struct DataRules {
    /// Fields holding an id (a person's, an object's).
    pub id_fields: &'static [&'static str],
    /// The longest id.
    pub max_id_bytes: usize,
    /// The longest attribute value (people, objects, relationships).
    pub max_value_bytes: usize,
    /// The field holding an event's name: a sync type reading it sends
    /// events, whose other columns are the event's data.
    pub event_name_field: &'static str,
    /// The longest event name.
    pub max_event_name_bytes: usize,
    /// The most event data (every property of one event).
    pub max_event_data_bytes: usize,
    /// The largest call (one row, names and values).
    pub max_call_bytes: usize,
    /// Fields whose value must be a whole number.
    pub whole_number_fields: &'static [&'static str],
    /// The field naming a person, and the sync type that creates people:
    /// rows of other sync types that name a person must name one the
    /// people sync has.
    pub person_field: &'static str,
    /// The sync type creating people.
    pub people_sync: &'static str,
    /// The field holding the time of the call: never NULL, never ahead.
    pub timestamp_field: &'static str,
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

/// Every destination cio-sql knows.
pub const DESTINATIONS: &[&Destination] = &[&customerio::CUSTOMER_IO];
