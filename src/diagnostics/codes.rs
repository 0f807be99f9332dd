//! The registry of diagnostic codes: one definition per code, with its
//! meaning, its kind (which gives its severity and, for an error, whether it
//! is a usage or configuration error or a runtime one), and nothing else
//! anywhere: every diagnostic is made from one of these constants.
//!
//! README.md's code table is this registry, row for row (a test in
//! `tests/it/code_table.rs` compares them); the exit code of a command that
//! an error stops is decided from its kind, in `cli::ExitStatus`.
//!
//! To add a code: one line in the `codes!` list below, one row in the
//! README's table.

use super::Severity;
use serde::{Serialize, Serializer};
use std::fmt;

/// What kind of problem a code reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A usage or configuration error: fixed by changing the command or the
    /// project. A command it stops exits 2.
    Usage,
    /// An error with a runtime cause (the disk, the terminal, another
    /// cio-sql process, the warehouse). A command it stops exits 1.
    Runtime,
    /// A warning: the work goes on (an error with `--warn-error`).
    Warning,
}

impl Kind {
    /// How the README's code table names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Usage => "error",
            Kind::Runtime => "runtime error",
            Kind::Warning => "warning",
        }
    }
}

/// The definition of one code.
#[derive(Debug)]
pub struct CodeInfo {
    /// The code, `CIO101`.
    pub id: &'static str,
    /// What kind of problem it reports.
    pub kind: Kind,
    /// What it means, in one line (the README's text).
    pub meaning: &'static str,
}

/// A diagnostic code of the registry.
#[derive(Clone, Copy)]
pub struct Code(&'static CodeInfo);

impl Code {
    /// The code, `CIO101`.
    pub fn id(self) -> &'static str {
        self.0.id
    }

    /// What kind of problem it reports.
    pub fn kind(self) -> Kind {
        self.0.kind
    }

    /// What it means, in one line.
    pub fn meaning(self) -> &'static str {
        self.0.meaning
    }

    /// The severity of its diagnostics (before `--warn-error`).
    pub fn severity(self) -> Severity {
        match self.0.kind {
            Kind::Warning => Severity::Warning,
            Kind::Usage | Kind::Runtime => Severity::Error,
        }
    }

    /// The code with the id `id`, if the registry has one.
    pub fn lookup(id: &str) -> Option<Code> {
        ALL.iter().copied().find(|c| c.id() == id)
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Code) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for Code {}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.0.id == *other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.0.id
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.id, f)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.id)
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.id)
    }
}

macro_rules! codes {
    ($($name:ident = $id:literal, $kind:ident, $meaning:literal;)*) => {
        $(
            #[doc = concat!("`", $id, "`: ", $meaning)]
            pub const $name: Code = Code(&CodeInfo {
                id: $id,
                kind: Kind::$kind,
                meaning: $meaning,
            });
        )*

        /// Every code, in the README's order (by number).
        pub const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    PROJECT_FILE = "CIO001", Usage, "Project file missing or invalid";
    UNREADABLE_FILE = "CIO002", Usage, "A project file cannot be read (missing, a directory, not UTF-8, a link loop, a link to nothing)";
    CATALOG_FILE = "CIO003", Usage, "Catalog file invalid";
    DUPLICATE_MODEL = "CIO004", Usage, "Two models with one name";
    PROFILE = "CIO005", Usage, "profiles.yml invalid, or profile/target/env var missing";
    SOURCES_FILE = "CIO006", Usage, "Sources file invalid";
    RESERVED_MACRO = "CIO007", Usage, "A project macro has a reserved name (`ref`, `var`, `config`, `env_var`, `this`, …)";
    MATERIALIZATION = "CIO009", Usage, "Unsupported materialization";
    SELECTION = "CIO010", Usage, "`--select`/`--exclude` names no model";
    REF_CYCLE = "CIO011", Usage, "Models form a `ref()` cycle";
    DYNAMIC_RELATION = "CIO012", Usage, "`config()` sets alias/schema/database dynamically, unlike what `ref()` saw";
    REF_TO_DISABLED = "CIO013", Usage, "`ref()` to a disabled model";
    BAD_NAME = "CIO014", Usage, "A database, schema, table or seed column name cio-sql cannot create: not one Snowflake holds, or not a plain identifier while `quoting:` is off for it (see [Names in generated SQL](#names-in-generated-sql))";
    SAME_RELATION = "CIO015", Usage, "Two models build one relation";
    UNKNOWN_DESTINATION = "CIO016", Usage, "`cio_destination` names no destination cio-sql knows";
    NOT_A_DESTINATION_SYNC = "CIO017", Usage, "`cio_sync` names no sync type of the model's `cio_destination`";
    WRITE_FAILED = "CIO020", Runtime, "Cannot write to the target folder (or a file stands where a folder must be)";
    REVIEW_DIR = "CIO021", Usage, "`review --dir` is outside the project or overlaps a folder of your files";
    TARGET_BUSY = "CIO022", Runtime, "Another process is writing the target folder (compile lock held for 10 s)";
    STDOUT_FAILED = "CIO023", Runtime, "Cannot write to stdout (output incomplete)";
    SEED_CSV = "CIO030", Usage, "Seed CSV invalid";
    SEED_COLUMN = "CIO031", Usage, "Seed column not in the catalog relation";
    SEED_VALUE = "CIO032", Usage, "Seed value does not fit its column type";
    SEED_TYPE = "CIO033", Usage, "A seed's catalog column has a type a seed cannot create";
    SEEDS_CLASH = "CIO034", Usage, "Two seed files load one relation";
    SCRATCH_NAME = "CIO035", Usage, "A model or catalog relation is named like a seed's scratch tables";
    SEED_MODEL_NAME = "CIO040", Usage, "A seed and a model have one name (`ref()` could not tell them apart)";
    SEED_MODEL_RELATION = "CIO041", Usage, "A seed and a model build one relation";
    SEED_CONFIG = "CIO042", Usage, "A seed's `delimiter` or `column_types` config is invalid";
    SELECTOR = "CIO043", Usage, "A selector method cio-sql does not know, or a bad value for one (`resource_type:`, `state:`, `config.`)";
    NOTHING_SELECTED = "CIO044", Warning, "A selection criterion matches no node (dbt's \"Nothing to do\")";
    STATE = "CIO045", Usage, "`state:` without `--state DIR`, or `--state` names a folder without a readable manifest.json";
    PROPERTIES = "CIO046", Usage, "A properties (`.yml`) file or docs block is invalid, or `doc()` names no docs block";
    PACKAGE_MISSING = "CIO047", Usage, "A macro of a package that is not installed under `dbt_packages/` (or `packages.yml` is invalid)";
    INCREMENTAL_CONFIG = "CIO048", Usage, "An incremental model's `unique_key`, `incremental_strategy`, `on_schema_change` or `full_refresh` is invalid (`merge` without `unique_key`, an unknown strategy or mode)";
    INCREMENTAL_SYNC = "CIO049", Usage, "An incremental model is also a change-tracked sync model (`cio_sync`)";
    SCHEMA_CHANGED = "CIO050", Runtime, "An incremental model with `on_schema_change='fail'`: the new rows' columns differ from the table's";
    DYNAMIC_EPHEMERAL = "CIO051", Usage, "`materialized='ephemeral'` set where it cannot be read before rendering (not a literal in `config(...)` or the project file)";
    UNKNOWN_CONTRACT_TEST = "CIO060", Usage, "`cio_tests` names no contract data test";
    BAD_TEST_CONFIG = "CIO061", Usage, "`cio_tests` is not a mapping of contract data tests to `off`, `warn` or `error`";
    SINGULAR_TEST = "CIO062", Usage, "A singular test is empty, has a severity other than `warn`/`error`, or shares its name with another";
    TEST_SELECTOR = "CIO063", Usage, "`--select`/`--exclude` has a `test_type:` that is not `contract`, `singular` or `generic`";
    GENERIC_TEST = "CIO064", Usage, "A `.yml` test is unknown, names a column its node does not have, or has bad arguments";
    PACKAGE_TEST = "CIO065", Warning, "A `.yml` test of a package (`dbt_utils.…`) or a custom generic test (`{% test %}`) is not run: not supported yet";
    TEST_THRESHOLD = "CIO066", Usage, "A test's `error_if`, `warn_if`, `fail_calc`, `limit`, `store_failures` or `store_failures_as` is malformed";
    JINJA_SYNTAX = "CIO100", Usage, "Jinja syntax error";
    RENDER = "CIO101", Usage, "Other rendering error";
    UNDEFINED = "CIO102", Usage, "Undefined variable";
    UNKNOWN_MACRO = "CIO103", Usage, "Unknown macro, function or method";
    BAD_ARGUMENT = "CIO104", Usage, "Wrong or unknown macro argument, or an argument of the wrong shape";
    RAISED = "CIO105", Usage, "`exceptions.raise_compiler_error`";
    WARNED = "CIO106", Warning, "`exceptions.warn`";
    VAR_UNDEFINED = "CIO107", Usage, "`var()` not defined";
    ENV_VAR_UNSET = "CIO108", Usage, "`env_var()` not set";
    NOT_IN_CATALOG = "CIO110", Usage, "Relation missing from the catalog";
    REF_NOT_FOUND = "CIO111", Usage, "`ref()` names no model or catalog relation";
    SOURCE_NOT_DECLARED = "CIO112", Usage, "`source()` not declared";
    COLUMN_COLLISION = "CIO120", Usage, "Two output columns with one name (after renames)";
    NOT_A_COLUMN = "CIO121", Usage, "A column argument names no column";
    UNMATCHED_KEY = "CIO130", Warning, "Ignore/rename key matches no column";
    IGNORED_AND_RENAMED = "CIO131", Warning, "Column both ignored and renamed";
    OBJECT_TYPE_MISSING = "CIO140", Usage, "`object_type_id` is missing";
    OBJECT_TYPE_NOT_NUMBER = "CIO141", Usage, "`object_type_id` is not a whole number";
    PEOPLE_MODEL = "CIO142", Usage, "`people_model` names no model of the project";
    UNKNOWN_ATTRIBUTE = "CIO143", Usage, "`derived_attributes` names an unknown attribute";
    ATTRIBUTE_CLASH = "CIO144", Usage, "Two relationship attributes have one name (case-insensitively)";
    NO_SUCH_MODEL = "CIO145", Usage, "`sync-query MODEL` / `lineage MODEL`: no such model";
    BAD_SYNC_TYPE = "CIO146", Usage, "`cio_sync` is not a Customer.io sync type";
    NOT_A_SYNC_MODEL = "CIO147", Usage, "`sync-query MODEL`: the model has no sync type, or is disabled";
    SQL_PARSE = "CIO150", Usage, "Compiled SQL does not parse (Snowflake dialect)";
    NO_SQL = "CIO151", Usage, "Model renders to no SQL";
    NOT_ONE_SELECT = "CIO152", Usage, "Model is not a single SELECT";
    COLUMNS_UNRESOLVED = "CIO160", Warning, "The model's output columns cannot be worked out from its SQL; contract checks skipped";
    TOO_DEEP = "CIO161", Warning, "The compiled SQL nests deeper than the SQL parser goes (1,000 levels: about 330 nested subqueries): it is written unchecked, its columns unknown, contract checks skipped";
    UNKNOWN_COLUMN = "CIO162", Warning, "A column reference of the select list names no column of any relation in scope";
    QUOTED_ONLY_COLUMN = "CIO163", Warning, "An unquoted column reference matches only a column created quoted with lower-case letters";
    META_HASH_UNVERIFIED = "CIO164", Warning, "Meta CAPI: a hashed user_data column passed through from a table cio-sql cannot see into (hashed or not is checked by the sha256_hex data test)";
    NO_SYNC_KEY = "CIO170", Usage, "Change-tracked sync model: no usable key (set `cio_key`)";
    TRACKING_COLUMNS_UNKNOWN = "CIO171", Usage, "Change-tracked sync model: its output columns cannot be worked out";
    TRACKING_NAME_TAKEN = "CIO172", Usage, "Change-tracked sync model: a column named like a bookkeeping column (`__cio_sql_…`)";
    BAD_DELETE_SHARE = "CIO173", Usage, "`cio_max_delete_share` is not a number from 0 to 1";
    BAD_OVERLAP = "CIO174", Usage, "`cio_sync_overlap_seconds` is not a whole number of seconds";
    MISSING_REQUIRED = "CIO201", Usage, "Sync model: a required Customer.io column is missing";
    REQUIRED_CASE = "CIO202", Usage, "Sync model: a required column matched exactly (`event`, `objectTypeId`) has another case";
    DUPLICATE_COLUMN = "CIO203", Usage, "Sync model: two output columns with one name, or feeding one field";
    NAME_TOO_LONG = "CIO204", Usage, "Sync model: a column name over 150 bytes";
    TOO_MANY_ATTRIBUTES = "CIO205", Usage, "Sync model: more than 300 attributes (identify, group, relationship)";
    UNQUOTED_ATTRIBUTE = "CIO206", Warning, "Sync model: an unquoted attribute alias";
    RESERVED_CASE = "CIO207", Warning, "Sync model: a reserved attribute name in another case, which is a different attribute";
    RESERVED_ATTRIBUTE = "CIO208", Warning, "Sync model: a reserved attribute name";
    CREATED_AT_TYPE = "CIO209", Warning, "Sync model: `created_at` that is not a timestamp";
    UNALIASED = "CIO210", Warning, "Sync model: an expression without an alias";
    OPTIONAL_CASE = "CIO211", Warning, "Sync model: an optional special column with the wrong case";
    UNQUOTED_RESERVED = "CIO212", Usage, "Sync model: an unquoted attribute whose upper-cased name is a reserved attribute in another case (EMAIL for email)";
    DESTINATION_NAME = "CIO213", Usage, "Sync model: an attribute name the destination does not accept (MoEngage's `moe_` prefix)";
    ATTRIBUTE_CHARACTERS = "CIO214", Usage, "Sync model: an attribute name with a character the destination does not accept (a Bluecore customer attribute with an upper-case letter, a space or a dash)";
    META_UNKNOWN_FIELD = "CIO221", Usage, "`nexus.meta_hash`: not a Meta user_data field that is hashed (em, ph, fn, ln, ge, db, ct, st, zp, country, external_id)";
    META_BAD_HINT = "CIO222", Usage, "`nexus.meta_hash`: a `country`, `calling_code` or `date_format` argument that is wrong or does not apply to the field";
    META_EVENT_NAMES = "CIO223", Usage, "`nexus.meta_capi_events`: `event_names` missing, empty or not a mapping of nexus event names to Meta event names";
    META_ACTION_SOURCE = "CIO224", Usage, "Meta CAPI: an `action_source` that is missing or not one of Meta's (email, website, app, phone_call, chat, physical_store, system_generated, business_messaging, other)";
    META_NO_USER_DATA = "CIO225", Usage, "`nexus.meta_capi_events`: no user_data field (no column to hash, none sent in clear)";
    META_WEBSITE_FIELDS = "CIO226", Usage, "Meta CAPI: website events without `event_source_url` or `client_user_agent`, which Meta requires for them";
    META_UNHASHED = "CIO227", Usage, "Meta CAPI: a hashed user_data column (em, ph, fn, …) that is not the SHA-256 of a normalised value (use nexus.meta_hash)";
    NO_CONNECTION = "CIO300", Runtime, "The target cannot connect (not `type: snowflake`, missing account/user/credentials)";
    UNREACHABLE = "CIO301", Runtime, "Snowflake unreachable";
    AUTHENTICATION = "CIO302", Runtime, "Snowflake authentication failed";
    SQL_REJECTED = "CIO303", Runtime, "Snowflake rejected a statement";
    TIMED_OUT = "CIO304", Runtime, "A time limit ran out: connect, login, a stalled reply or the statement timeout (the message names the phase and the setting)";
    TRANSIENT = "CIO305", Runtime, "Transient failures persisted after retries";
    PROTOCOL = "CIO306", Runtime, "Unexpected reply from the server";
    PROFILE_UNKNOWN_FIELD = "CIO307", Warning, "profiles.yml: an output field neither cio-sql nor dbt-snowflake knows (ignored; did you mean …)";
    UNSUPPORTED_AUTH = "CIO308", Usage, "profiles.yml: an `authenticator` cio-sql does not support yet (browser SSO, OAuth, MFA, Okta, …)";
    RUN_LOCKED = "CIO310", Runtime, "Another run holds the project/target lock";
    EXPORT_NOT_BUILT = "CIO311", Usage, "`cio-sql export`: the model's relation does not exist in the warehouse (build it first)";
    EXPORT_FORMAT_UNFIT = "CIO312", Usage, "`cio-sql export`: the model's table cannot be written in the asked format";
    EXPORT_SINCE_UNTRACKED = "CIO313", Usage, "`cio-sql export --since` on a table without change tracking";
    EXPORT_FILE_IN_THE_WAY = "CIO314", Usage, "`cio-sql export`: a file of the export's name is already in the output folder";
    EXPORT_ITEM_TOO_LARGE = "CIO315", Runtime, "`cio-sql export`: one row's operation is over the format's size limit";
    EXPORT_BAD_ROW = "CIO316", Runtime, "`cio-sql export`: a row cannot be written in the format (a required value is NULL, a time is not a time)";
    NOTHING_TO_INTROSPECT = "CIO320", Usage, "`cio-sql catalog` has nothing to introspect";
    MISSING_RELATION = "CIO321", Warning, "A catalog relation is missing from the warehouse";
    MASS_DELETE = "CIO330", Runtime, "A build would delete more than `cio_max_delete_share` of a sync table's rows (pass `--allow-mass-delete`)";
    TRACKING_STATE = "CIO331", Runtime, "Change tracking could not read the sync table's current state";
    TEST_FAILED = "CIO340", Runtime, "A data test found failing rows (severity error)";
    TEST_WARNED = "CIO341", Warning, "A data test found failing rows (severity warn)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_sorted() {
        let ids: Vec<&str> = ALL.iter().map(|c| c.id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted, no repeat");
        for c in ALL {
            assert!(
                c.id().len() == 6
                    && c.id().starts_with("CIO")
                    && c.id()[3..].bytes().all(|b| b.is_ascii_digit()),
                "{c}"
            );
            assert!(!c.meaning().is_empty() && !c.meaning().contains('|'), "{c}");
            assert_eq!(Code::lookup(c.id()), Some(*c));
        }
        assert_eq!(Code::lookup("CIO999"), None);
        assert_eq!(REF_NOT_FOUND, "CIO111");
        assert_eq!(serde_json::to_string(&REF_NOT_FOUND).unwrap(), "\"CIO111\"");
        assert_eq!(MISSING_RELATION.severity(), Severity::Warning);
        assert_eq!(WRITE_FAILED.kind(), Kind::Runtime);
    }
}
