//! What a built table is (which destination's table, read from the model's
//! `cio_destination` and `cio_sync`), the formats it can be written as, and
//! one row encoded as one item of a format: a CSV record, a JSON line, a
//! Customer.io v2 batch operation, a Meta Conversions API event or a
//! MoEngage bulk import element.

use crate::analysis::tracking::DELETED;
use crate::destinations::meta_capi::{SERVER_EVENT_FIELDS, USER_DATA_CLEAR, USER_DATA_HASHED};
use crate::destinations::{DEFAULT_DESTINATION, SyncType};
use serde_json::{Map, Value, json};

/// A file format of `cio-sql export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Customer.io's Track API v2 `/api/v2/batch` body.
    Customerio,
    /// Meta Conversions API `/events` request body.
    MetaCapi,
    /// MoEngage's Bulk Import body.
    Moengage,
}

impl Format {
    /// Every format, as `--format` spells it.
    pub const ALL: [Format; 5] = [
        Format::Csv,
        Format::Jsonl,
        Format::Customerio,
        Format::MetaCapi,
        Format::Moengage,
    ];

    /// Its name, as `--format` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Customerio => "customerio",
            Format::MetaCapi => "meta_capi",
            Format::Moengage => "moengage",
        }
    }

    /// The extension of its files.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            _ => "json",
        }
    }
}

/// A Customer.io sync type, as far as the v2 batch body differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CioSync {
    /// People.
    Identify,
    /// Events.
    Track,
    /// Objects.
    Group,
    /// Relationships of people and objects.
    Relationship,
}

/// Which destination's table a built relation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// No sync type: a plain table.
    Plain,
    /// A Customer.io sync table.
    Customerio(CioSync),
    /// `meta_capi.events`.
    MetaEvents,
    /// `moengage.users`.
    MoengageUsers,
    /// `moengage.events`.
    MoengageEvents,
    /// Another destination's table (`destination.sync`): written as csv or
    /// jsonl only.
    Other(String),
}

impl Layout {
    /// The layout of a model whose config sets `cio_destination` (default
    /// `customerio`) and `cio_sync` (none: a plain table).
    pub fn of(destination: Option<&str>, sync: Option<&str>) -> Layout {
        let Some(sync) = sync else {
            return Layout::Plain;
        };
        let destination = destination.unwrap_or(DEFAULT_DESTINATION);
        // The registry's lookup (names in any case, Customer.io's aliases);
        // a model naming no known sync type does not compile, so the
        // fallback only names what it read.
        let Ok(t) = SyncType::find(destination, sync) else {
            return Layout::Other(format!("{}.{}", destination.trim(), sync.trim()));
        };
        match t {
            SyncType::IDENTIFY => Layout::Customerio(CioSync::Identify),
            SyncType::TRACK => Layout::Customerio(CioSync::Track),
            SyncType::GROUP => Layout::Customerio(CioSync::Group),
            SyncType::RELATIONSHIP => Layout::Customerio(CioSync::Relationship),
            _ => match (t.destination().name, t.spec().name) {
                ("meta_capi", "events") => Layout::MetaEvents,
                ("moengage", "users") => Layout::MoengageUsers,
                ("moengage", "events") => Layout::MoengageEvents,
                _ => Layout::Other(t.to_string()),
            },
        }
    }

    /// The format written when `--format` is not given.
    pub fn default_format(&self) -> Format {
        match self {
            Layout::Customerio(_) => Format::Customerio,
            Layout::MetaEvents => Format::MetaCapi,
            Layout::MoengageUsers | Layout::MoengageEvents => Format::Moengage,
            Layout::Plain | Layout::Other(_) => Format::Jsonl,
        }
    }

    /// Whether its rows can be written as `format`.
    pub fn fits(&self, format: Format) -> bool {
        match format {
            Format::Csv | Format::Jsonl => true,
            Format::Customerio => matches!(self, Layout::Customerio(_)),
            Format::MetaCapi => *self == Layout::MetaEvents,
            Format::Moengage => matches!(self, Layout::MoengageUsers | Layout::MoengageEvents),
        }
    }

    /// What it is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Layout::Plain => "a table without cio_sync".into(),
            Layout::Customerio(s) => format!("a Customer.io {s:?} sync table").to_lowercase(),
            Layout::MetaEvents => "a meta_capi events table".into(),
            Layout::MoengageUsers => "a moengage users table".into(),
            Layout::MoengageEvents => "a moengage events table".into(),
            Layout::Other(name) => format!("a {name} table"),
        }
    }
}

/// One row of the table: its columns (bookkeeping ones included) and
/// values, with VARIANT text parsed into JSON.
pub type Row = Map<String, Value>;

/// Why a row cannot be written: the message, naming the field.
#[derive(Debug, PartialEq)]
pub struct RowError(pub String);

/// What one row becomes in a format.
#[derive(Debug, PartialEq)]
pub enum Item {
    /// One item of the file.
    Write(Value),
    /// Nothing: a tombstone the format has no delete for.
    Skip,
}

fn get<'a>(row: &'a Row, name: &str) -> Option<&'a Value> {
    row.get(name)
        .or_else(|| {
            row.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

fn is_field(name: &str, fields: &[&str]) -> bool {
    fields.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Whether `row` is a tombstone of a change-tracked table.
pub fn deleted(row: &Row) -> bool {
    matches!(get(row, DELETED), Some(Value::Bool(true)))
}

/// An id as Customer.io and MoEngage take it: a string.
fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn required<'a>(row: &'a Row, name: &str, what: &str) -> Result<&'a Value, RowError> {
    get(row, name).ok_or_else(|| RowError(format!("{name} is NULL or missing ({what})")))
}

/// A time as Unix seconds: a whole number, or a timestamp the warehouse
/// rendered as text (`2024-01-02 03:04:05.123`, with an offset for TZ and
/// LTZ; without one it is UTC).
pub fn unix_seconds(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return Some(n);
            }
            let s = s.replace('T', " ");
            for f in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f %:z"] {
                if let Ok(t) = chrono::DateTime::parse_from_str(&s, f) {
                    return Some(t.timestamp());
                }
            }
            let s = s.trim_end_matches('Z');
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })
                .map(|t| t.and_utc().timestamp())
        }
        _ => None,
    }
}

/// A timestamp value as the format sends dates: Customer.io reads Unix
/// seconds as dates ("Timestamps", Customer.io: <https://docs.customer.io/journeys/timestamps/>),
/// MoEngage ISO 8601 (its Data APIs: "datetime via ISO 8601"); other
/// formats keep the warehouse's text. A value that is not a time stays.
pub fn date_value(format: Format, v: Value) -> Value {
    let Some(t) = unix_seconds(&v) else { return v };
    match format {
        Format::Customerio => json!(t),
        Format::Moengage => match chrono::DateTime::from_timestamp(t, 0) {
            Some(d) => json!(d.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            None => v,
        },
        _ => v,
    }
}

fn time_field(row: &Row, name: &str) -> Result<Option<i64>, RowError> {
    match get(row, name) {
        None => Ok(None),
        Some(v) => unix_seconds(v)
            .map(Some)
            .ok_or_else(|| RowError(format!("{name} is {v}, not Unix seconds nor a timestamp"))),
    }
}

/// The columns of `row` that are not `fields` nor bookkeeping, NULLs left
/// out.
fn others(row: &Row, fields: &[&str]) -> Map<String, Value> {
    row.iter()
        .filter(|(k, v)| {
            !v.is_null()
                && !is_field(k, fields)
                && !k
                    .to_ascii_lowercase()
                    .starts_with(crate::analysis::tracking::PREFIX)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Starts the operation on a person or object: `identify`, or `delete`
/// for a tombstone (`gone`, then returns true: nothing more to add).
fn identify_or_delete(
    op: &mut Map<String, Value>,
    kind: &str,
    identifiers: Value,
    gone: bool,
) -> bool {
    op.insert("type".into(), json!(kind));
    op.insert("identifiers".into(), identifiers);
    let action = if gone { "delete" } else { "identify" };
    op.insert("action".into(), json!(action));
    gone
}

/// Adds a person operation's `timestamp` (Unix seconds) and its
/// `attributes`: the columns that are not `fields`.
fn timed_attributes(
    op: &mut Map<String, Value>,
    row: &Row,
    fields: &[&str],
) -> Result<(), RowError> {
    if let Some(t) = time_field(row, "timestamp")? {
        op.insert("timestamp".into(), json!(t));
    }
    let attributes = others(row, fields);
    if !attributes.is_empty() {
        op.insert("attributes".into(), Value::Object(attributes));
    }
    Ok(())
}

/// A row as a Customer.io v2 batch operation.
///
/// Shapes from Customer.io's Track API v2 ("Track API", batch and entity
/// operations, <https://docs.customer.io/integrations/api/track/tag/track_v2/>):
/// identify → a person `identify` (a tombstone: `delete`); track → a person
/// `event`; group → an object `identify` (a tombstone: `delete`), with the
/// row's person as a relationship when it names one; relationship → an
/// object `add_relationships` (a tombstone: `delete_relationships`).
/// NULL attributes are left out (a NULL would remove the attribute).
pub fn customerio(sync: CioSync, row: &Row) -> Result<Item, RowError> {
    let gone = deleted(row);
    let person = |row: &Row| -> Result<Value, RowError> {
        let id = required(row, "userId", "the v2 batch API identifies a person by id")?;
        Ok(json!({ "id": id_text(id) }))
    };
    let object = |row: &Row| -> Result<Value, RowError> {
        let type_id = required(row, "objectTypeId", "an object's type")?;
        let id = required(row, "groupId", "an object's id")?;
        Ok(json!({ "object_type_id": id_text(type_id), "object_id": id_text(id) }))
    };
    let mut op = Map::new();
    match sync {
        CioSync::Identify => {
            if identify_or_delete(&mut op, "person", person(row)?, gone) {
                return Ok(Item::Write(Value::Object(op)));
            }
            timed_attributes(&mut op, row, &["userId", "anonymousId", "timestamp"])?;
        }
        CioSync::Track => {
            if gone {
                return Ok(Item::Skip);
            }
            op.insert("type".into(), json!("person"));
            op.insert("identifiers".into(), person(row)?);
            op.insert("action".into(), json!("event"));
            op.insert(
                "name".into(),
                json!(id_text(required(row, "event", "the event's name")?)),
            );
            timed_attributes(
                &mut op,
                row,
                &["userId", "anonymousId", "event", "timestamp"],
            )?;
        }
        CioSync::Group => {
            if identify_or_delete(&mut op, "object", object(row)?, gone) {
                return Ok(Item::Write(Value::Object(op)));
            }
            let fields = [
                "groupId",
                "objectTypeId",
                "userId",
                "anonymousId",
                "timestamp",
            ];
            let attributes = others(row, &fields);
            if !attributes.is_empty() {
                op.insert("attributes".into(), Value::Object(attributes));
            }
            if let Some(user) = get(row, "userId") {
                op.insert(
                    "cio_relationships".into(),
                    json!([{ "identifiers": { "id": id_text(user) } }]),
                );
            }
        }
        CioSync::Relationship => {
            op.insert("type".into(), json!("object"));
            op.insert("identifiers".into(), object(row)?);
            let mut relationship = Map::new();
            relationship.insert("identifiers".into(), person(row)?);
            if gone {
                op.insert("action".into(), json!("delete_relationships"));
            } else {
                op.insert("action".into(), json!("add_relationships"));
                let fields = [
                    "groupId",
                    "objectTypeId",
                    "userId",
                    "anonymousId",
                    "timestamp",
                    "relationshipAttributes",
                ];
                let mut attributes = others(row, &fields);
                if let Some(Value::Object(extra)) = get(row, "relationshipAttributes") {
                    for (k, v) in extra {
                        if !v.is_null() {
                            attributes.insert(k.clone(), v.clone());
                        }
                    }
                }
                if !attributes.is_empty() {
                    relationship
                        .insert("relationship_attributes".into(), Value::Object(attributes));
                }
            }
            op.insert(
                "cio_relationships".into(),
                Value::Array(vec![Value::Object(relationship)]),
            );
        }
    }
    Ok(Item::Write(Value::Object(op)))
}

/// A row of a `meta_capi.events` table as one server event of the
/// Conversions API ("Conversions API parameters",
/// <https://developers.facebook.com/docs/marketing-api/conversions-api/parameters>):
/// the server-event fields at the top, `user_data` (hashed and clear
/// fields), `custom_data` (`value`, `currency` and every other column);
/// NULLs left out. A tombstone is skipped: an event that happened is not
/// undone.
pub fn meta_event(row: &Row) -> Result<Item, RowError> {
    if deleted(row) {
        return Ok(Item::Skip);
    }
    let mut event = Map::new();
    for name in SERVER_EVENT_FIELDS {
        let Some(v) = get(row, name) else { continue };
        let v = match *name {
            "event_time" => json!(time_field(row, name)?),
            "opt_out" => match v {
                Value::Bool(_) => v.clone(),
                other => {
                    return Err(RowError(format!("opt_out is {other}, not TRUE or FALSE")));
                }
            },
            _ => json!(id_text(v)),
        };
        event.insert((*name).into(), v);
    }
    for name in ["event_name", "event_time", "event_id", "action_source"] {
        if !event.contains_key(name) {
            return Err(RowError(format!(
                "{name} is NULL or missing (every event needs it)"
            )));
        }
    }
    let mut user_data = Map::new();
    for name in USER_DATA_HASHED.iter().chain(USER_DATA_CLEAR) {
        if let Some(v) = get(row, name) {
            user_data.insert((*name).into(), json!(id_text(v)));
        }
    }
    if user_data.is_empty() {
        return Err(RowError(
            "every user_data field is NULL: Meta cannot match the event to a person".into(),
        ));
    }
    event.insert("user_data".into(), Value::Object(user_data));
    let fields: Vec<&str> = SERVER_EVENT_FIELDS
        .iter()
        .chain(USER_DATA_HASHED)
        .chain(USER_DATA_CLEAR)
        .copied()
        .collect();
    let custom_data = others(row, &fields);
    if !custom_data.is_empty() {
        event.insert("custom_data".into(), Value::Object(custom_data));
    }
    Ok(Item::Write(Value::Object(event)))
}

/// A row of a `moengage.users` or `moengage.events` table as one element
/// of a Bulk Import body ("Bulk Import",
/// <https://developers.moengage.com/hc/en-us/articles/4413174113044-Bulk-Import>;
/// the element bodies are those of "Track User" and "Create Event"): a
/// `customer` with its attributes, or an `event` with one action
/// (`action`, `attributes`, `platform`, `current_time`: `event_time` in
/// Unix seconds, UTC). NULLs are left out; a tombstone is skipped (the bulk
/// import deletes nothing).
pub fn moengage(events: bool, row: &Row) -> Result<Item, RowError> {
    if deleted(row) {
        return Ok(Item::Skip);
    }
    let customer = id_text(required(row, "customer_id", "MoEngage's id of the user")?);
    if !events {
        let attributes = others(row, &["customer_id"]);
        return Ok(Item::Write(json!({
            "type": "customer",
            "customer_id": customer,
            "attributes": Value::Object(attributes),
        })));
    }
    let mut action = Map::new();
    action.insert(
        "action".into(),
        json!(id_text(required(row, "action", "the event's name")?)),
    );
    let attributes = others(
        row,
        &[
            "customer_id",
            "event_id",
            "action",
            "event_time",
            "platform",
        ],
    );
    if !attributes.is_empty() {
        action.insert("attributes".into(), Value::Object(attributes));
    }
    if let Some(platform) = get(row, "platform") {
        action.insert("platform".into(), json!(id_text(platform)));
    }
    if let Some(t) = time_field(row, "event_time")? {
        action.insert("current_time".into(), json!(t));
    }
    Ok(Item::Write(json!({
        "type": "event",
        "customer_id": customer,
        "actions": [Value::Object(action)],
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: Value) -> Row {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn layouts_and_formats() {
        assert_eq!(Layout::of(None, None), Layout::Plain);
        assert_eq!(
            Layout::of(None, Some(" Identify ")),
            Layout::Customerio(CioSync::Identify)
        );
        assert_eq!(
            Layout::of(Some("meta_capi"), Some("events")),
            Layout::MetaEvents
        );
        assert_eq!(
            Layout::of(Some("bluecore"), Some("events")),
            Layout::Other("bluecore.events".into())
        );
        assert_eq!(Layout::MetaEvents.default_format(), Format::MetaCapi);
        assert_eq!(Layout::Plain.default_format(), Format::Jsonl);
        assert!(!Layout::MetaEvents.fits(Format::Customerio));
        assert!(Layout::Other("x.y".into()).fits(Format::Csv));
        assert!(!Layout::Other("moengage.aliases".into()).fits(Format::Moengage));
    }

    #[test]
    fn times_become_unix_seconds() {
        assert_eq!(unix_seconds(&json!(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(
            unix_seconds(&json!("2024-01-02 03:04:05.123")),
            Some(1_704_164_645)
        );
        assert_eq!(
            unix_seconds(&json!("2024-01-02 05:04:05 +02:00")),
            Some(1_704_164_645)
        );
        assert_eq!(unix_seconds(&json!("soon")), None);
        assert_eq!(unix_seconds(&json!("1970-01-02")), Some(86_400));
        assert_eq!(
            date_value(Format::Moengage, json!("1970-01-02 00:00:01")),
            json!("1970-01-02T00:00:01Z")
        );
        assert_eq!(
            date_value(Format::Customerio, json!("1970-01-02")),
            json!(86_400)
        );
        assert_eq!(
            date_value(Format::Jsonl, json!("1970-01-02")),
            json!("1970-01-02")
        );
    }

    #[test]
    fn customerio_operations() {
        let identify = row(json!({"userId": 7, "email": "a@b.c", "plan": null,
            "__cio_sql_key": "k", "__cio_sql_deleted": false}));
        assert_eq!(
            customerio(CioSync::Identify, &identify),
            Ok(Item::Write(
                json!({"type": "person", "identifiers": {"id": "7"},
                "action": "identify", "attributes": {"email": "a@b.c"}})
            ))
        );
        let tomb = row(json!({"userId": "7", "email": "a@b.c", "__cio_sql_deleted": true}));
        assert_eq!(
            customerio(CioSync::Identify, &tomb),
            Ok(Item::Write(
                json!({"type": "person", "identifiers": {"id": "7"}, "action": "delete"})
            ))
        );
        assert_eq!(customerio(CioSync::Track, &tomb), Ok(Item::Skip));
        let rel = row(json!({"userId": "7", "groupId": "acme", "objectTypeId": 1,
            "role": "admin", "__cio_sql_deleted": true}));
        assert_eq!(
            customerio(CioSync::Relationship, &rel),
            Ok(Item::Write(json!({"type": "object",
                "identifiers": {"object_type_id": "1", "object_id": "acme"},
                "action": "delete_relationships",
                "cio_relationships": [{"identifiers": {"id": "7"}}]})))
        );
        let anonymous = row(json!({"anonymousId": "a1", "email": "x"}));
        let err = customerio(CioSync::Identify, &anonymous).unwrap_err();
        assert!(err.0.contains("userId"), "{err:?}");
    }

    #[test]
    fn meta_and_moengage_items() {
        let event = row(
            json!({"event_name": "Purchase", "event_time": "2024-01-02 03:04:05",
            "event_id": "e1", "action_source": "website", "em": "ab", "fbp": null,
            "value": 1.5, "currency": "USD", "opt_out": false}),
        );
        let Ok(Item::Write(v)) = meta_event(&event) else {
            panic!()
        };
        assert_eq!(v["event_time"], json!(1_704_164_645));
        assert_eq!(v["user_data"], json!({"em": "ab"}));
        assert_eq!(v["custom_data"], json!({"value": 1.5, "currency": "USD"}));
        assert_eq!(v["opt_out"], json!(false));
        let no_user = row(
            json!({"event_name": "Lead", "event_time": 1, "event_id": "e",
            "action_source": "crm"}),
        );
        assert!(meta_event(&no_user).is_err());

        let e = row(
            json!({"customer_id": 5, "event_id": "x", "action": "Bought",
            "event_time": 1_700_000_000, "sku": "A"}),
        );
        assert_eq!(
            moengage(true, &e),
            Ok(Item::Write(json!({"type": "event", "customer_id": "5",
                "actions": [{"action": "Bought", "attributes": {"sku": "A"},
                    "current_time": 1_700_000_000}]})))
        );
        let u = row(json!({"customer_id": "5", "name": "Jo"}));
        assert_eq!(
            moengage(false, &u),
            Ok(Item::Write(
                json!({"type": "customer", "customer_id": "5", "attributes": {"name": "Jo"}})
            ))
        );
    }
}
