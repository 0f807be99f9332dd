//! Meta (Facebook) Conversions API: the `meta_capi` destination.
//!
//! One sync type, `events`: one row per server event, keyed by `event_id`.
//! The exporter sends rows as the `data` array of a `POST
//! /{PIXEL_ID}/events` request body; this module names the columns of each
//! part of a server event (the layout every consumer reads) and the
//! values Meta accepts.
//!
//! Sources (Meta's developer documentation):
//! - Server Event Parameters,
//!   <https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event>
//! - Customer Information Parameters,
//!   <https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters>
//! - Parameters index (which keys are hashed),
//!   <https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters>

/// Server-event fields, in the order of the table layout: `event_name`,
/// `event_time` (Unix seconds, UTC), `event_id` (the row key and Meta's
/// de-duplication key), `action_source`, `event_source_url` (needed when
/// `action_source` is `website`), `opt_out`.
pub const SERVER_EVENT_FIELDS: &[&str] = &[
    "event_name",
    "event_time",
    "event_id",
    "action_source",
    "event_source_url",
    "opt_out",
];

/// `user_data` fields Meta requires hashed: the lower-case hex SHA-256 of
/// the normalised value (`external_id`: hashing recommended; cio-sql
/// hashes it, like the others).
pub const USER_DATA_HASHED: &[&str] = &[
    "em",
    "ph",
    "fn",
    "ln",
    "ge",
    "db",
    "ct",
    "st",
    "zp",
    "country",
    "external_id",
];

/// `user_data` fields Meta requires in clear ("Do not hash").
pub const USER_DATA_CLEAR: &[&str] = &["client_ip_address", "client_user_agent", "fbc", "fbp"];

/// `custom_data` fields with a meaning of their own; every column not named
/// in the groups above is a `custom_data` property too.
pub const CUSTOM_DATA_FIELDS: &[&str] = &["value", "currency"];

/// The `action_source` values Meta accepts (Server Event Parameters; Meta's
/// business SDK `serverside/action_source.py`).
pub const ACTION_SOURCES: &[&str] = &[
    "email",
    "website",
    "app",
    "phone_call",
    "chat",
    "physical_store",
    "system_generated",
    "business_messaging",
    "other",
];

/// Events per request: "You can send up to 1,000 events in data" (Using
/// the API, <https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api>).
pub const MAX_EVENTS_PER_REQUEST: usize = 1000;

/// How old an event may be when it is sent: "If any event_time in data is
/// greater than 7 days in the past, we return an error for the entire
/// request and process no events" (Server Event Parameters).
pub const MAX_EVENT_AGE_SECONDS: u64 = 7 * 24 * 60 * 60;

/// ISO 3166-1 alpha-2 country codes, lower-case: the `country` values Meta
/// accepts ("two-letter country codes in ISO 3166-1 alpha-2 format").
pub const ISO_COUNTRIES: &[&str] = &[
    "ad", "ae", "af", "ag", "ai", "al", "am", "ao", "aq", "ar", "as", "at", "au", "aw", "ax", "az",
    "ba", "bb", "bd", "be", "bf", "bg", "bh", "bi", "bj", "bl", "bm", "bn", "bo", "bq", "br", "bs",
    "bt", "bv", "bw", "by", "bz", "ca", "cc", "cd", "cf", "cg", "ch", "ci", "ck", "cl", "cm", "cn",
    "co", "cr", "cu", "cv", "cw", "cx", "cy", "cz", "de", "dj", "dk", "dm", "do", "dz", "ec", "ee",
    "eg", "eh", "er", "es", "et", "fi", "fj", "fk", "fm", "fo", "fr", "ga", "gb", "gd", "ge", "gf",
    "gg", "gh", "gi", "gl", "gm", "gn", "gp", "gq", "gr", "gs", "gt", "gu", "gw", "gy", "hk", "hm",
    "hn", "hr", "ht", "hu", "id", "ie", "il", "im", "in", "io", "iq", "ir", "is", "it", "je", "jm",
    "jo", "jp", "ke", "kg", "kh", "ki", "km", "kn", "kp", "kr", "kw", "ky", "kz", "la", "lb", "lc",
    "li", "lk", "lr", "ls", "lt", "lu", "lv", "ly", "ma", "mc", "md", "me", "mf", "mg", "mh", "mk",
    "ml", "mm", "mn", "mo", "mp", "mq", "mr", "ms", "mt", "mu", "mv", "mw", "mx", "my", "mz", "na",
    "nc", "ne", "nf", "ng", "ni", "nl", "no", "np", "nr", "nu", "nz", "om", "pa", "pe", "pf", "pg",
    "ph", "pk", "pl", "pm", "pn", "pr", "ps", "pt", "pw", "py", "qa", "re", "ro", "rs", "ru", "rw",
    "sa", "sb", "sc", "sd", "se", "sg", "sh", "si", "sj", "sk", "sl", "sm", "sn", "so", "sr", "ss",
    "st", "sv", "sx", "sy", "sz", "tc", "td", "tf", "tg", "th", "tj", "tk", "tl", "tm", "tn", "to",
    "tr", "tt", "tv", "tw", "tz", "ua", "ug", "um", "us", "uy", "uz", "va", "vc", "ve", "vg", "vi",
    "vn", "vu", "wf", "ws", "ye", "yt", "za", "zm", "zw",
];

/// Country names (letters only, lower-case) and common non-ISO codes that
/// map to an ISO code; any other value that is not an ISO code is not sent.
pub const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("unitedstates", "us"),
    ("unitedstatesofamerica", "us"),
    ("usa", "us"),
    ("america", "us"),
    ("unitedkingdom", "gb"),
    ("greatbritain", "gb"),
    ("britain", "gb"),
    ("uk", "gb"),
    ("england", "gb"),
    ("scotland", "gb"),
    ("wales", "gb"),
    ("northernireland", "gb"),
    ("canada", "ca"),
    ("mexico", "mx"),
    ("germany", "de"),
    ("deutschland", "de"),
    ("france", "fr"),
    ("spain", "es"),
    ("italy", "it"),
    ("italia", "it"),
    ("netherlands", "nl"),
    ("thenetherlands", "nl"),
    ("holland", "nl"),
    ("belgium", "be"),
    ("switzerland", "ch"),
    ("austria", "at"),
    ("ireland", "ie"),
    ("portugal", "pt"),
    ("sweden", "se"),
    ("norway", "no"),
    ("denmark", "dk"),
    ("finland", "fi"),
    ("poland", "pl"),
    ("greece", "gr"),
    ("brazil", "br"),
    ("brasil", "br"),
    ("argentina", "ar"),
    ("chile", "cl"),
    ("colombia", "co"),
    ("peru", "pe"),
    ("australia", "au"),
    ("newzealand", "nz"),
    ("japan", "jp"),
    ("china", "cn"),
    ("india", "in"),
    ("southkorea", "kr"),
    ("korea", "kr"),
    ("singapore", "sg"),
    ("hongkong", "hk"),
    ("israel", "il"),
    ("unitedarabemirates", "ae"),
    ("uae", "ae"),
    ("saudiarabia", "sa"),
    ("southafrica", "za"),
    ("nigeria", "ng"),
    ("egypt", "eg"),
    ("turkey", "tr"),
    ("philippines", "ph"),
    ("indonesia", "id"),
    ("thailand", "th"),
    ("vietnam", "vn"),
    ("malaysia", "my"),
];

/// US states, the District of Columbia and the inhabited territories:
/// (name, letters only and lower-case; two-letter USPS code). Meta wants
/// `st` as "the 2-character ANSI abbreviation code in lowercase".
pub const US_STATES: &[(&str, &str)] = &[
    ("alabama", "al"),
    ("alaska", "ak"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("newhampshire", "nh"),
    ("newjersey", "nj"),
    ("newmexico", "nm"),
    ("newyork", "ny"),
    ("northcarolina", "nc"),
    ("northdakota", "nd"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("rhodeisland", "ri"),
    ("southcarolina", "sc"),
    ("southdakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("washington", "wa"),
    ("westvirginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
    ("districtofcolumbia", "dc"),
    ("puertorico", "pr"),
    ("guam", "gu"),
    ("usvirginislands", "vi"),
    ("americansamoa", "as"),
    ("northernmarianaislands", "mp"),
];

use super::{
    CaseRule, DataRules, Destination, EventRules, Field, Presence, SyncTypeSpec, ValueRule,
};

const fn field(
    name: &'static str,
    description: &'static str,
    presence: Presence,
    value: ValueRule,
) -> Field {
    Field {
        name,
        description,
        presence,
        case: CaseRule::Exact,
        value,
    }
}

const fn hashed(name: &'static str, description: &'static str) -> Field {
    field(name, description, Presence::Optional, ValueRule::Sha256Hex)
}

const fn clear(name: &'static str, description: &'static str) -> Field {
    field(name, description, Presence::Optional, ValueRule::Any)
}

/// The columns of a `meta_capi.events` table, in the layout's order.
const EVENT_FIELDS: &[Field] = &[
    field(
        "event_name",
        "the event: a standard event (Purchase, Lead, …) or a custom one",
        Presence::Required,
        ValueRule::Any,
    ),
    field(
        "event_time",
        "when it happened, in Unix seconds (UTC); at most 7 days old when sent",
        Presence::Required,
        ValueRule::UnixSeconds,
    ),
    field(
        "event_id",
        "the event's id: the row key, and with event_name Meta's de-duplication key",
        Presence::Required,
        ValueRule::Any,
    ),
    field(
        "action_source",
        "where the conversion happened (one of Meta's action sources)",
        Presence::Required,
        ValueRule::OneOf(ACTION_SOURCES),
    ),
    clear(
        "event_source_url",
        "the page of a website event (required when action_source is website)",
    ),
    clear(
        "opt_out",
        "true: use the event for attribution only, not for delivery optimisation",
    ),
    hashed("em", "e-mail, hashed"),
    hashed("ph", "phone number with country code, hashed"),
    hashed("fn", "first name, hashed"),
    hashed("ln", "last name, hashed"),
    hashed("ge", "gender (f or m), hashed"),
    hashed("db", "date of birth (YYYYMMDD), hashed"),
    hashed("ct", "city, hashed"),
    hashed("st", "state (two-letter code in the US), hashed"),
    hashed("zp", "zip or postal code, hashed"),
    hashed("country", "ISO 3166-1 alpha-2 country code, hashed"),
    hashed("external_id", "the advertiser's id of the person, hashed"),
    clear("client_ip_address", "the browser's IP address, in clear"),
    clear(
        "client_user_agent",
        "the browser's user agent, in clear (required for website events)",
    ),
    clear("fbc", "the click id cookie (_fbc), in clear"),
    clear("fbp", "the browser id cookie (_fbp), in clear"),
    clear("value", "custom_data.value: the event's monetary value"),
    clear("currency", "custom_data.currency: ISO 4217 code of value"),
];

/// The Meta Conversions API entry of the destination registry.
pub const META_CAPI: Destination = Destination {
    name: "meta_capi",
    title: "Meta Conversions API",
    sync_types: &[SyncTypeSpec {
        name: "events",
        aliases: &[],
        label: "Meta Conversions API events (the data of POST /{PIXEL_ID}/events)",
        fields: EVENT_FIELDS,
        key: &[&["event_id"]],
        attributes: "custom_data properties",
        max_attributes: None,
        deletes: None,
    }],
    max_name_bytes: None,
    reserved: &[],
    reads_warehouse: false,
    data_rules: DataRules {
        id_fields: &[],
        max_id_bytes: None,
        max_value_bytes: None,
        events: Some(EventRules {
            name_field: "event_name",
            max_name_bytes: None,
            max_data_bytes: None,
        }),
        max_call_bytes: None,
        people: None,
        timestamp_field: None,
    },
};

/// Whether `name` is a column with a meaning of its own (a server-event
/// or `user_data` field); every other column is a `custom_data` property.
pub fn is_event_field(name: &str) -> bool {
    SERVER_EVENT_FIELDS.contains(&name)
        || USER_DATA_HASHED.contains(&name)
        || USER_DATA_CLEAR.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_well_formed() {
        assert_eq!(ISO_COUNTRIES.len(), 249, "ISO 3166-1 has 249 alpha-2 codes");
        let mut sorted = ISO_COUNTRIES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ISO_COUNTRIES.len(), "no duplicate code");
        for (name, code) in COUNTRY_NAMES {
            assert!(ISO_COUNTRIES.contains(code), "{name} -> {code}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase()), "{name}");
            assert!(!ISO_COUNTRIES.contains(name), "{name} is a code itself");
        }
        for (name, code) in US_STATES {
            assert!(name.chars().all(|c| c.is_ascii_lowercase()), "{name}");
            assert_eq!(code.len(), 2, "{code}");
        }
        assert_eq!(US_STATES.len(), 56, "50 states, DC and 5 territories");
    }

    #[test]
    fn the_entry_lists_every_name_group_in_order() {
        let fields: Vec<&str> = META_CAPI.sync_types[0]
            .fields
            .iter()
            .map(|f| f.name)
            .collect();
        let groups: Vec<&str> = SERVER_EVENT_FIELDS
            .iter()
            .chain(USER_DATA_HASHED)
            .chain(USER_DATA_CLEAR)
            .chain(CUSTOM_DATA_FIELDS)
            .copied()
            .collect();
        assert_eq!(fields, groups);
        for f in META_CAPI.sync_types[0].fields {
            assert_eq!(
                f.value == ValueRule::Sha256Hex,
                USER_DATA_HASHED.contains(&f.name),
                "{}",
                f.name
            );
        }
        assert!(is_event_field("em") && is_event_field("fbp") && !is_event_field("value"));
    }
}
