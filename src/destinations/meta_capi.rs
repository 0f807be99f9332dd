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
}
