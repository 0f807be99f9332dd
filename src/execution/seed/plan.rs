//! Planning a seed: the statements that load one CSV file into its
//! relation (scratch table, batched `INSERT`s, one atomic
//! `CREATE OR REPLACE TABLE … AS SELECT`), typed from the catalog or
//! inferred from the values, and the names they use checked.

use super::values::{ddl_type, infer_type, literal};
use super::{INSERT_BATCH, INSERT_BYTES, SCRATCH_PREFIX, Seed, at};
use crate::catalog::Catalog;
use crate::diagnostics::Diagnostic;
use crate::project::Target;
use crate::render::Relation;
use crate::sql;
use crate::sql::{Column, Quoting, RelationName};
use sha2::{Digest, Sha256};

/// What one statement of a [`SeedPlan`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedStep {
    /// `CREATE SCHEMA IF NOT EXISTS` for the table's schema.
    CreateSchema,
    /// Lists the scratch tables earlier loads of the seed left (a killed
    /// or disconnected run), to drop them: a query, see
    /// [`SeedPlan::leftover_drops`].
    DropLeftover,
    /// Creates the (empty) scratch table.
    CreateScratch,
    /// Inserts the rows of CSV lines `first_line..=last_line`.
    Insert {
        /// First CSV line of the batch.
        first_line: usize,
        /// Last CSV line of the batch.
        last_line: usize,
    },
    /// Replaces the real table with the scratch table's rows, atomically.
    Replace,
    /// Drops the scratch table.
    DropScratch,
}

/// What loading one seed will run.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    /// Seed name.
    pub name: String,
    /// CSV path.
    pub path: String,
    /// Where the rows land.
    pub relation: RelationName,
    /// The scratch table the rows go to first: named for this load alone.
    pub scratch: RelationName,
    /// How the scratch tables of every load of this seed are named:
    /// [`SCRATCH_PREFIX`], a hash of the relation, `_`.
    pub scratch_family: String,
    /// The table's columns and their SQL types, in order.
    pub columns: Vec<(String, String)>,
    /// Statements, in order.
    pub statements: Vec<String>,
    /// What each statement does (one per statement).
    pub steps: Vec<SeedStep>,
    /// Rows loaded.
    pub rows: usize,
    /// How names are quoted (for the statements made while loading).
    pub quoting: Quoting,
}

/// What became of the scratch table after a failed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// It was dropped.
    Dropped,
    /// Dropping it failed, with this error.
    DropFailed(String),
    /// The connection was lost, so no drop was tried.
    NotTried,
}

/// Where the seed `name` is loaded: its catalog relation, else a table of
/// the target schema.
pub fn seed_relation(name: &str, catalog: &dyn Catalog, target: &Target) -> RelationName {
    catalog
        .find(name, &target.database, &target.schema)
        .unwrap_or_else(|| RelationName::new(&target.database, &target.schema, name))
}

/// The start of the name of every scratch table of a seed loaded into
/// `relation`: [`SCRATCH_PREFIX`], 16 hex digits of a SHA-256 of the
/// relation's name, `_`. A plain upper-case identifier that no model or
/// seed gets by accident, and the same for every load of one relation, so a
/// load can find what an interrupted load of the same seed left behind.
pub fn scratch_family(relation: &RelationName) -> String {
    let digest = Sha256::digest(relation.key().as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02X}")).collect();
    format!("{SCRATCH_PREFIX}{hex}_")
}

/// A scratch table for one load into `relation`: in the same schema, named
/// [`scratch_family`] and 8 hex digits of its own. Each load has its own,
/// so a statement that a killed run left running in the warehouse (one can
/// go on after its client is gone: `ABORT_DETACHED_QUERY`,
/// <https://docs.snowflake.com/en/sql-reference/parameters#abort-detached-query>)
/// cannot add rows to it.
pub fn scratch_relation(relation: &RelationName) -> RelationName {
    static LOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{}/{}/{n}/{now}", relation.key(), std::process::id());
    let digest = Sha256::digest(seed.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02X}")).collect();
    RelationName::new(
        &relation.database,
        &relation.schema,
        format!("{}{hex}", scratch_family(relation)),
    )
}

/// Plans the statements that load `seed`.
pub fn plan_seed(
    seed: &Seed,
    catalog: &dyn Catalog,
    target: &Target,
    quoting: Quoting,
) -> Result<SeedPlan, Diagnostic> {
    let declared = catalog_relation(catalog, &seed.name, target);
    let (relation, columns): (RelationName, Vec<(String, String)>) = match &declared {
        Some((rel, cols)) if !cols.is_empty() => {
            for h in &seed.header {
                if !cols.iter().any(|c| c.name.eq_ignore_ascii_case(h)) {
                    let hint =
                        crate::suggest::did_you_mean(h, cols.iter().map(|c| c.name.as_str()));
                    return Err(at(
                        Diagnostic::error(
                            "CIO031",
                            format!("column `{h}` is not a column of {rel} in the catalog"),
                        ),
                        &seed.path,
                        1,
                    )
                    .with_help(format!(
                        "{hint} Rename the CSV column, or add it to the catalog entry of {}",
                        rel.identifier
                    )));
                }
            }
            let mut typed = Vec::with_capacity(cols.len());
            for c in cols {
                let values = column_values(seed, &c.name);
                let ty = if c.data_type.is_empty() {
                    infer_type(&values)
                } else if DDL_TYPES.contains(&c.data_type.as_str()) {
                    c.data_type.clone()
                } else {
                    return Err(at(
                        Diagnostic::error(
                            "CIO033",
                            format!(
                                "column `{}` of {rel} has the type `{}` in the catalog, which a seed cannot create",
                                c.name, c.data_type
                            ),
                        ),
                        &seed.path,
                        1,
                    )
                    .with_help(format!(
                        "give the column one of the types {} in the catalog, or leave its data_type empty to infer it from the values",
                        DDL_TYPES.join(", ")
                    )));
                };
                typed.push((
                    c.name.clone(),
                    ddl_type(&ty, &values, c.data_type.is_empty()),
                ));
            }
            (rel.clone(), typed)
        }
        _ => {
            let rel = declared.as_ref().map_or_else(
                || RelationName::new(&target.database, &target.schema, &seed.name),
                |(rel, _)| rel.clone(),
            );
            let typed = seed
                .header
                .iter()
                .map(|h| {
                    let values = column_values(seed, h);
                    (h.clone(), ddl_type(&infer_type(&values), &values, true))
                })
                .collect();
            (rel, typed)
        }
    };
    let table = Relation {
        name: relation.clone(),
        quoting,
    }
    .render_sql();
    let scratch_name = scratch_relation(&relation);
    let column_names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
    check_seed(
        &seed.path,
        &relation,
        &scratch_name.identifier,
        declared.is_some(),
        &column_names,
        quoting,
    )?;
    let scratch = Relation {
        name: scratch_name.clone(),
        quoting,
    }
    .render_sql();
    let schema = Relation {
        name: relation.clone(),
        quoting,
    }
    .schema_sql();
    let scratch_family = scratch_family(&relation);
    let mut statements = vec![
        format!("CREATE SCHEMA IF NOT EXISTS {schema}"),
        format!("SHOW TERSE TABLES LIKE '{scratch_family}%' IN SCHEMA {schema}"),
        format!(
            "CREATE OR REPLACE TABLE {scratch} (\n{}\n)",
            columns
                .iter()
                .map(|(n, t)| format!("    {} {t}", sql::identifier(n)))
                .collect::<Vec<_>>()
                .join(",\n")
        ),
    ];
    let mut steps = vec![
        SeedStep::CreateSchema,
        SeedStep::DropLeftover,
        SeedStep::CreateScratch,
    ];
    // CSV column index for every table column (None: absent, NULL).
    let positions: Vec<Option<usize>> = columns
        .iter()
        .map(|(n, _)| seed.header.iter().position(|h| h.eq_ignore_ascii_case(n)))
        .collect();
    let column_list = columns
        .iter()
        .map(|(n, _)| sql::identifier(n))
        .collect::<Vec<_>>()
        .join(", ");
    let mut values: Vec<String> = Vec::new();
    let mut bytes = 0;
    let mut first_line = 0;
    let mut last_line = 0;
    let mut flush = |values: &mut Vec<String>, first_line: usize, last_line: usize| {
        statements.push(format!(
            "INSERT INTO {scratch} ({column_list}) VALUES\n{}",
            values.join(",\n")
        ));
        steps.push(SeedStep::Insert {
            first_line,
            last_line,
        });
        values.clear();
    };
    for (i, row) in seed.rows.iter().enumerate() {
        let line = seed.lines.get(i).copied().unwrap_or(i + 2);
        let mut cells = Vec::with_capacity(columns.len());
        for ((name, ty), pos) in columns.iter().zip(&positions) {
            let raw = pos.and_then(|p| row.get(p)).and_then(Option::as_deref);
            cells.push(literal(raw, ty).map_err(|why| {
                at(
                    Diagnostic::error("CIO032", format!("line {line}, column `{name}`: {why}")),
                    &seed.path,
                    line,
                )
                .with_help(format!(
                    "fix the value, or change the column's type in the catalog (now {ty})"
                ))
            })?);
        }
        let tuple = format!("    ({})", cells.join(", "));
        if !values.is_empty()
            && (values.len() == INSERT_BATCH || bytes + tuple.len() > INSERT_BYTES)
        {
            flush(&mut values, first_line, last_line);
        }
        if values.is_empty() {
            first_line = line;
            bytes = 0;
        }
        bytes += tuple.len() + 2;
        last_line = line;
        values.push(tuple);
    }
    if !values.is_empty() {
        flush(&mut values, first_line, last_line);
    }
    statements.push(format!(
        "CREATE OR REPLACE TABLE {table} AS SELECT * FROM {scratch}"
    ));
    statements.push(format!("DROP TABLE IF EXISTS {scratch}"));
    steps.push(SeedStep::Replace);
    steps.push(SeedStep::DropScratch);
    Ok(SeedPlan {
        name: seed.name.clone(),
        path: seed.path.clone(),
        relation,
        scratch: scratch_name,
        scratch_family,
        columns,
        statements,
        steps,
        rows: seed.rows.len(),
        quoting,
    })
}

impl SeedPlan {
    /// The statements that drop the scratch tables named in `tables` (the
    /// `name` column of the [`SeedStep::DropLeftover`] query) that belong
    /// to this seed; nothing else is ever dropped.
    pub fn leftover_drops<'a>(&self, tables: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        tables
            .into_iter()
            .filter(|t| {
                t.strip_prefix(self.scratch_family.as_str())
                    .is_some_and(|n| {
                        !n.is_empty()
                            && n.bytes()
                                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                    })
            })
            .map(|t| {
                let name = RelationName::new(&self.relation.database, &self.relation.schema, t);
                format!(
                    "DROP TABLE IF EXISTS {}",
                    Relation {
                        name,
                        quoting: self.quoting
                    }
                    .render_sql()
                )
            })
            .collect()
    }

    /// What statement `i` (0-based) does, in words.
    pub fn describe(&self, i: usize) -> String {
        let schema = format!("{}.{}", self.relation.database, self.relation.schema);
        match self.steps.get(i) {
            Some(SeedStep::CreateSchema) => format!("create the schema {schema} if it is missing"),
            Some(SeedStep::DropLeftover) => format!(
                "drop the scratch tables {schema}.{}… that earlier loads left",
                self.scratch_family
            ),
            Some(SeedStep::CreateScratch) => format!("create the scratch table {}", self.scratch),
            Some(SeedStep::Insert {
                first_line,
                last_line,
            }) => format!("insert CSV lines {first_line}–{last_line} into the scratch table"),
            Some(SeedStep::Replace) => format!(
                "replace {} with the rows of the scratch table",
                self.relation
            ),
            Some(SeedStep::DropScratch) => "drop the scratch table".to_string(),
            None => format!("statement {}", i + 1),
        }
    }

    /// The truth about a load whose statement `failed` (0-based) went wrong:
    /// what had run, what may have changed, and what became of the scratch
    /// table. `outcome_unknown` says the failed statement may have run (the
    /// connection was lost, or it timed out) rather than being rejected.
    pub fn failure_report(
        &self,
        failed: usize,
        outcome_unknown: bool,
        cleanup: &Cleanup,
    ) -> String {
        let n = self.steps.len();
        let step = |s: SeedStep| self.steps.iter().position(|x| *x == s).unwrap_or(n);
        let mut text = format!(
            "Statement {} of {n} ({}) failed",
            failed + 1,
            self.describe(failed)
        );
        if outcome_unknown {
            text.push_str(" with no answer, so it may or may not have run");
        }
        text.push_str(". ");
        if failed == 0 {
            text.push_str("No statement of this seed had run before it. ");
        } else {
            let ran: Vec<String> = (0..failed).map(|i| self.describe(i)).collect();
            text.push_str(&format!(
                "Statement{} 1{} had run: {}. ",
                if failed == 1 { "" } else { "s" },
                if failed == 1 {
                    String::new()
                } else {
                    format!("–{failed}")
                },
                ran.join("; ")
            ));
        }
        let replace = step(SeedStep::Replace);
        if failed < replace || (failed == replace && !outcome_unknown) {
            text.push_str(&format!("{} was not changed", self.relation));
        } else if failed == replace {
            text.push_str(&format!(
                "{} holds either its old rows or the new ones (the replace is one atomic statement)",
                self.relation
            ));
        } else {
            text.push_str(&format!(
                "{} was loaded ({} rows)",
                self.relation, self.rows
            ));
        }
        if failed == step(SeedStep::DropLeftover) {
            text.push_str(&format!(
                "; scratch tables {}.{}.{}… of earlier loads may remain: the next load drops them",
                self.relation.database, self.relation.schema, self.scratch_family
            ));
        } else if failed > step(SeedStep::DropLeftover) {
            text.push_str(&match cleanup {
                Cleanup::Dropped => format!("; the scratch table {} was dropped", self.scratch),
                Cleanup::DropFailed(why) => format!(
                    "; the scratch table {} may be left behind (dropping it failed: {why}); the next load of this seed drops it",
                    self.scratch
                ),
                Cleanup::NotTried => format!(
                    "; the scratch table {} may be left behind (the connection was lost); the next load of this seed drops it",
                    self.scratch
                ),
            });
        }
        text.push('.');
        text
    }
}

/// The types a seed creates its columns with: the normalised catalog types
/// (see [`crate::sql::normalize_type`]). Any other catalog type is
/// refused rather than written into DDL.
const DDL_TYPES: &[&str] = &[
    "VARCHAR",
    "NUMBER",
    "FLOAT",
    "BOOLEAN",
    "DATE",
    "TIME",
    "TIMESTAMP",
    "TIMESTAMP_NTZ",
    "TIMESTAMP_LTZ",
    "TIMESTAMP_TZ",
    "BINARY",
    "VARIANT",
    "OBJECT",
    "ARRAY",
    "GEOGRAPHY",
    "GEOMETRY",
];

fn catalog_relation(
    catalog: &dyn Catalog,
    name: &str,
    target: &Target,
) -> Option<(RelationName, Vec<Column>)> {
    let relation = catalog.find(name, &target.database, &target.schema)?;
    catalog
        .columns(&relation)
        .map(|cols| (relation.clone(), cols.to_vec()))
}

fn column_values<'a>(seed: &'a Seed, name: &str) -> Vec<&'a str> {
    match seed
        .header
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name))
    {
        Some(p) => seed
            .rows
            .iter()
            .filter_map(|r| r.get(p).and_then(|v| v.as_deref()))
            .collect(),
        None => Vec::new(),
    }
}

/// Checks the names a seed loads into: the table `relation` (a catalog
/// relation when `declared`, which exists and only needs to be a name
/// Snowflake holds; else a new table named after the file), its scratch
/// table `scratch`, and its `columns` (always written by
/// [`sql::identifier`], so any name Snowflake holds will do).
fn check_seed(
    path: &str,
    relation: &RelationName,
    scratch: &str,
    declared: bool,
    columns: &[String],
    quoting: Quoting,
) -> Result<(), Diagnostic> {
    let quoted = declared || quoting.identifier;
    let table = &relation.identifier;
    let what = if declared {
        "the catalog relation"
    } else {
        "the table name (its file name)"
    };
    let bad_table = match sql::check_name(table, quoted) {
        Err(problem) => Some((problem, String::new())),
        Ok(()) => sql::check_name(scratch, quoted)
            .err()
            .map(|p| (p, format!(" as the scratch table `{scratch}`"))),
    };
    if let Some((problem, as_scratch)) = bad_table {
        return Err(Diagnostic::error(
            "CIO014",
            format!("seed {path}: {what} `{table}` cannot be used in Snowflake SQL{as_scratch}: {problem}"),
        )
        .at_file(path)
        .with_help(problem.help(
            table,
            "rename the CSV file to a plain name, such as `{plain}.csv`",
            "identifier",
        )));
    }
    for column in columns {
        if let Err(problem) = sql::check_name(column, true) {
            let mut d = Diagnostic::error(
                "CIO014",
                format!("seed {path}: the column name `{column}` in the header cannot be used in Snowflake SQL: {problem}"),
            )
            .at_file(path)
            .with_help(problem.help(
                column,
                "rename the column in the header (line 1)",
                "identifier",
            ));
            d.line = Some(1);
            return Err(d);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse_seed;
    use super::super::values::{is_date, is_timestamp};
    use super::*;
    use crate::catalog::OfflineCatalog;
    use std::path::Path;

    fn seed(name: &str, csv_text: &str) -> Seed {
        parse_seed(name, &format!("seeds/{name}.csv"), csv_text.as_bytes()).unwrap()
    }

    fn plan(s: &Seed, catalog: &dyn Catalog) -> Result<SeedPlan, Diagnostic> {
        plan_seed(
            s,
            catalog,
            &Target::default_target(None),
            Quoting::default(),
        )
    }

    #[test]
    fn declared_seeds_follow_the_catalog() {
        let catalog = OfflineCatalog::parse(
            "relations:\n  - name: people\n    schema: NEXUS\n    columns:\n      - {name: id, data_type: TEXT}\n      - {name: CamelCase, data_type: TEXT}\n      - {name: ltv, data_type: \"NUMBER(38,2)\"}\n      - {name: seen_at, data_type: TIMESTAMP_NTZ}\n      - {name: ok, data_type: BOOLEAN}\n",
            Path::new("catalog.yml"),
            "DB",
            "CIO",
        )
        .unwrap();
        let s = seed(
            "people",
            "ltv,id,seen_at,ok\n1.5,o'neil,2024-01-02 03:04:05,true\n,x,,0\n",
        );
        let plan = plan(&s, &catalog).unwrap();
        assert_eq!(plan.relation.to_string(), "DB.NEXUS.people");
        let scratch = "DB.NEXUS.CIO_SQL_SEED_LOAD_";
        assert!(plan.scratch.to_string().starts_with(scratch));
        assert_eq!(plan.statements[0], "CREATE SCHEMA IF NOT EXISTS DB.NEXUS");
        assert!(plan.statements[1].starts_with("SHOW TERSE TABLES LIKE 'CIO_SQL_SEED_LOAD_"));
        assert_eq!(
            plan.statements[2],
            format!(
                "CREATE OR REPLACE TABLE {} (\n    id VARCHAR,\n    \"CamelCase\" VARCHAR,\n    ltv NUMBER(38, 1),\n    seen_at TIMESTAMP_NTZ,\n    ok BOOLEAN\n)",
                plan.scratch
            )
        );
        assert_eq!(
            plan.statements[3],
            format!(
                "INSERT INTO {} (id, \"CamelCase\", ltv, seen_at, ok) VALUES\n    ('o''neil', NULL, 1.5, CAST('2024-01-02 03:04:05' AS TIMESTAMP_NTZ), TRUE),\n    ('x', NULL, NULL, NULL, FALSE)",
                plan.scratch
            )
        );
        assert_eq!(
            plan.statements[4],
            format!(
                "CREATE OR REPLACE TABLE DB.NEXUS.people AS SELECT * FROM {}",
                plan.scratch
            )
        );
        assert_eq!(
            plan.statements[5],
            format!("DROP TABLE IF EXISTS {}", plan.scratch)
        );
        assert_eq!(plan.steps.len(), plan.statements.len());
        assert_eq!(
            plan.steps[3],
            SeedStep::Insert {
                first_line: 2,
                last_line: 3
            }
        );
    }

    #[test]
    fn scratch_names_are_plain_per_load_and_in_their_family() {
        let codes = RelationName::new("DB", "S", "codes");
        let family = scratch_family(&codes);
        assert_eq!(
            family,
            scratch_family(&RelationName::new("db", "s", "CODES"))
        );
        assert_ne!(
            family,
            scratch_family(&RelationName::new("DB", "S", "codes2"))
        );
        assert_ne!(
            family,
            scratch_family(&RelationName::new("DB", "T", "codes"))
        );
        assert!(family.starts_with(SCRATCH_PREFIX) && family.len() == 35);
        let (a, b) = (scratch_relation(&codes), scratch_relation(&codes));
        assert_ne!(a, b, "every load has its own");
        assert_eq!((a.database.as_str(), a.schema.as_str()), ("DB", "S"));
        assert!(a.identifier.starts_with(&family) && a.identifier.len() == 43);
        assert!(sql::is_plain_identifier(&a.identifier) && !sql::is_reserved(&a.identifier));
    }

    #[test]
    fn only_this_seeds_leftovers_are_dropped() {
        let p = plan(&seed("t", "a\n1\n"), &OfflineCatalog::empty("c")).unwrap();
        let mine = format!("{}0A1B2C3D", p.scratch_family);
        let lower = mine.to_lowercase();
        let other = format!(
            "{}0A1B2C3D",
            scratch_family(&RelationName::new("ANALYTICS", "PUBLIC", "u"))
        );
        let odd = format!("{}x\"; drop table y", p.scratch_family);
        let drops = p.leftover_drops([
            mine.as_str(),
            lower.as_str(),
            other.as_str(),
            odd.as_str(),
            p.scratch_family.as_str(),
            "T",
        ]);
        assert_eq!(
            drops,
            vec![format!("DROP TABLE IF EXISTS ANALYTICS.PUBLIC.{mine}")],
            "only the upper-case names cio-sql makes"
        );
        assert_eq!(
            p.statements[1],
            format!(
                "SHOW TERSE TABLES LIKE '{}%' IN SCHEMA ANALYTICS.PUBLIC",
                p.scratch_family
            )
        );
    }

    #[test]
    fn undeclared_seeds_infer_types() {
        let catalog = OfflineCatalog::empty("catalog.yml");
        let s = seed(
            "codes",
            "code,n,flag,day,at,big,sci,crème\na,1,true,2024-01-01,2024-01-01 00:00:00,123456789012345678901234567890123456789,1e5,Crème brûlée tasting\nb,2.25,false,2024-01-02,2024-01-02T10:00:00.5Z,1,2,2024-01-02 10:00:00 is when\n",
        );
        let plan = plan(&s, &catalog).unwrap();
        let types: Vec<&str> = plan.columns.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            types,
            vec![
                "VARCHAR",
                "NUMBER(38, 2)",
                "BOOLEAN",
                "DATE",
                "TIMESTAMP_NTZ",
                "FLOAT",
                "FLOAT",
                "VARCHAR"
            ]
        );
        assert_eq!(plan.relation.to_string(), "ANALYTICS.PUBLIC.codes");
    }

    #[test]
    fn multibyte_values_are_typed_without_slicing_inside_a_character() {
        // 19+ bytes with a multi-byte character across byte 10 (issue 10, item 2).
        for value in [
            "Crème brûlée tasting",
            "2024-01-0é 00:00:00",
            "2024-01-01 00:00:0é",
            "2024-01-01é00:00:00",
            "ééééééééééééééééééééé",
            "🍮🍮🍮🍮🍮",
        ] {
            let values = [value];
            assert_eq!(infer_type(&values), "VARCHAR", "{value}");
            assert!(!is_date(value) && !is_timestamp(value));
        }
    }

    #[test]
    fn bad_values_and_columns_are_reported_with_file_and_line() {
        let catalog = OfflineCatalog::parse(
            "relations:\n  - name: t\n    columns:\n      - {name: n, data_type: NUMBER}\n      - {name: w, data_type: \"VECTOR(FLOAT, 3)\"}\n  - name: u\n    columns:\n      - {name: n, data_type: NUMBER}\n",
            Path::new("catalog.yml"),
            "DB",
            "S",
        )
        .unwrap();
        let err = plan(&seed("u", "n\n1\n\n\"\"\nabc\n"), &catalog).unwrap_err();
        assert_eq!(err.code, "CIO032");
        assert_eq!(err.file.as_deref(), Some(Path::new("seeds/u.csv")));
        assert_eq!(err.line, Some(5), "blank lines are skipped, not miscounted");
        assert!(
            err.message.contains("line 5") && err.message.contains("`abc` is not a number"),
            "{}",
            err.message
        );
        let err = plan(&seed("u", "m\n1\n"), &catalog).unwrap_err();
        assert_eq!((err.code, err.line), ("CIO031", Some(1)));
        let err = plan(&seed("t", "n\n1\n"), &catalog).unwrap_err();
        assert_eq!((err.code, err.line), ("CIO033", Some(1)));
        assert!(err.message.contains("VECTOR"), "{}", err.message);
        let huge = format!("n\n{}\n", "9".repeat(39));
        let err = plan(&seed("u", &huge), &catalog).unwrap_err();
        assert_eq!((err.code, err.line), ("CIO032", Some(2)));
    }

    #[test]
    fn a_catalog_entry_without_columns_loads_with_inferred_types() {
        let catalog = OfflineCatalog::parse(
            "relations:\n  - name: t\n    schema: RAW\n    columns: []\n",
            Path::new("catalog.yml"),
            "DB",
            "S",
        )
        .unwrap();
        let plan = plan(&seed("t", "a,b\n1,x\n"), &catalog).unwrap();
        assert_eq!(plan.relation.to_string(), "DB.RAW.t");
        assert_eq!(plan.columns[0].1, "NUMBER(38, 0)");
    }

    #[test]
    fn malformed_csv_names_the_line() {
        let cases: [(&[u8], usize, &str); 8] = [
            (
                b"a,b\n1,2\n3\n",
                3,
                "line 3 has 1 field, but the header names 2 columns",
            ),
            (b"a,b\r\n1,2\r\n3,4,5\r\n", 3, "has 3 fields"),
            (b"a,b\r1,2\r\r3\r", 4, "line 4 has 1 field"),
            (b"a,,c\n1,2,3\n", 1, "column 2 of the header has no name"),
            (b"id,ID\n1,2\n", 1, "named twice"),
            (b"a\n\xff\n", 2, "not valid UTF-8"),
            (b"", 1, "the file is empty"),
            (b"a,b\n\"x,1\n", 2, "line 2 has 1 field"),
        ];
        for (bytes, line, what) in cases {
            match parse_seed("x", "seeds/x.csv", bytes) {
                Err(err) => {
                    assert_eq!(err.code, "CIO030");
                    assert_eq!(err.file.as_deref(), Some(Path::new("seeds/x.csv")));
                    assert!(err.message.contains(what), "{what}: {}", err.message);
                    assert_eq!(err.line, Some(line), "{what}");
                    assert!(err.render(false).contains("seeds/x.csv"));
                }
                Ok(s) => panic!("{what}: parsed {s:?}"),
            }
        }
    }

    #[test]
    fn bom_and_crlf_are_read() {
        let s = seed(
            "b",
            "\u{feff}id,name\r\n1,\"a \"\"quoted\"\", multi\r\nline\"\r\n",
        );
        assert_eq!(s.header, vec!["id", "name"]);
        assert_eq!(
            s.rows,
            vec![vec![
                Some("1".to_string()),
                Some("a \"quoted\", multi\r\nline".to_string())
            ]]
        );
        assert_eq!(s.lines, vec![2]);
    }

    #[test]
    fn big_seeds_are_batched_by_rows_and_bytes() {
        let mut text = String::from("n\n");
        for i in 0..1201 {
            text.push_str(&format!("{i}\n"));
        }
        let p = plan(&seed("nums", &text), &OfflineCatalog::empty("c")).unwrap();
        let inserts: Vec<&SeedStep> = p
            .steps
            .iter()
            .filter(|s| matches!(s, SeedStep::Insert { .. }))
            .collect();
        assert_eq!(inserts.len(), 3);
        assert_eq!(
            *inserts[2],
            SeedStep::Insert {
                first_line: 1002,
                last_line: 1202
            }
        );
        assert_eq!(p.rows, 1201);

        let wide = "x".repeat(100_000);
        let mut text = String::from("v\n");
        for _ in 0..12 {
            text.push_str(&wide);
            text.push('\n');
        }
        let p = plan(&seed("wide", &text), &OfflineCatalog::empty("c")).unwrap();
        let inserts: Vec<&String> = p
            .statements
            .iter()
            .filter(|s| s.starts_with("INSERT"))
            .collect();
        assert_eq!(inserts.len(), 3, "five rows of 100 kB per statement");
        assert!(inserts.iter().all(|s| s.len() < INSERT_BYTES + 1000));
    }

    #[test]
    fn failure_reports_say_what_ran_and_what_changed() {
        let p = plan(&seed("t", "a\n1\n"), &OfflineCatalog::empty("c")).unwrap();
        let table = "ANALYTICS.PUBLIC.t";
        let scratch = p.scratch.to_string();
        // Rejected at the insert: the table is untouched, the scratch dropped.
        let text = p.failure_report(3, false, &Cleanup::Dropped);
        assert!(text.starts_with("Statement 4 of 6 (insert CSV lines 2–2 into the scratch table) failed. Statements 1–3 had run: create the schema ANALYTICS.PUBLIC if it is missing;"), "{text}");
        assert!(
            text.contains(&format!(
                "{table} was not changed; the scratch table {scratch} was dropped."
            )),
            "{text}"
        );
        // Connection lost at the insert: the scratch may be left.
        let text = p.failure_report(3, true, &Cleanup::NotTried);
        assert!(text.contains("may or may not have run"), "{text}");
        assert!(text.contains(&format!("{table} was not changed; the scratch table {scratch} may be left behind (the connection was lost); the next load of this seed drops it")), "{text}");
        // Lost at the replace: either old or new rows.
        let text = p.failure_report(4, true, &Cleanup::NotTried);
        assert!(
            text.contains("holds either its old rows or the new ones"),
            "{text}"
        );
        // The first statement: nothing had run, no scratch to speak of.
        let text = p.failure_report(0, false, &Cleanup::Dropped);
        assert!(text.contains("No statement of this seed had run"), "{text}");
        assert!(!text.contains("scratch table"), "{text}");
        // The final drop: loaded, scratch left.
        let text = p.failure_report(5, false, &Cleanup::DropFailed("boom".into()));
        assert!(
            text.contains(&format!("{table} was loaded (1 rows)")),
            "{text}"
        );
        assert!(text.contains("dropping it failed: boom"), "{text}");
    }

    #[test]
    fn seed_names() {
        let off = Quoting::default();
        let rel = |name: &str| RelationName::new("DB", "S", name);
        let scratch = |name: &str| format!("{name}__cio_seed_load");
        let check = |name: &str, declared: bool, columns: &[&str]| {
            let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            check_seed(
                "seeds/x.csv",
                &rel(name),
                &scratch(name),
                declared,
                &columns,
                off,
            )
        };
        assert!(check("people", false, &["id", "First Name"]).is_ok());
        // A catalog relation exists under its name: quoted, it is fine.
        assert!(check("my table", true, &["id"]).is_ok());
        let err = check("my table", false, &["id"]).unwrap_err();
        assert!(err.message.contains("(its file name)"), "{}", err.message);
        let long = "x".repeat(250);
        let err = check(&long, false, &["id"]).unwrap_err();
        assert!(
            err.message.contains("as the scratch table"),
            "{}",
            err.message
        );
        let err = check("people", false, &["id", "a\nb"]).unwrap_err();
        assert_eq!((err.code, err.line), ("CIO014", Some(1)));
        assert!(err.message.contains("control character"), "{}", err.message);
    }
}
