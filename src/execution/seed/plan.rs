//! Planning a seed: the statements that load one CSV file into its
//! relation (scratch table, batched `INSERT`s, one atomic
//! `CREATE OR REPLACE TABLE … AS SELECT`), typed from the catalog or
//! inferred from the values, and the names they use checked.

use super::{INSERT_BATCH, INSERT_BYTES, SCRATCH_PREFIX, Seed, at};
use crate::catalog::Catalog;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::Target;
use crate::project::seeds::values::{ddl_type, infer_type, literal};
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

/// What the project's configuration says of one seed's load (dbt's seed
/// configs): where it goes, the `column_types` it pins, `quote_columns`.
#[derive(Debug, Clone, Default)]
pub struct SeedSettings {
    /// The relation to load (as the compile resolved it, see
    /// [`crate::render::seed_relation`]); `None`: [`seed_relation`].
    pub relation: Option<RelationName>,
    /// `column_types`: column → SQL type, for columns the catalog does not type.
    pub column_types: Vec<(String, String)>,
    /// `quote_columns`: write every column name quoted, exactly as spelled.
    pub quote_columns: bool,
}

/// Plans the statements that load `seed` (no seed config).
pub fn plan_seed(
    seed: &Seed,
    catalog: &dyn Catalog,
    target: &Target,
    quoting: Quoting,
) -> Result<SeedPlan, Diagnostic> {
    plan_seed_with(seed, catalog, target, quoting, &SeedSettings::default())
}

/// Plans the statements that load `seed` with its seed `settings`.
pub fn plan_seed_with(
    seed: &Seed,
    catalog: &dyn Catalog,
    target: &Target,
    quoting: Quoting,
    settings: &SeedSettings,
) -> Result<SeedPlan, Diagnostic> {
    let declared = match &settings.relation {
        Some(rel) => catalog
            .columns(rel)
            .map(|cols| (rel.clone(), cols.to_vec()))
            .or_else(|| {
                catalog
                    .relations()
                    .into_iter()
                    .any(|r| r.key() == rel.key())
                    .then(|| (rel.clone(), Vec::new()))
            }),
        None => catalog_relation(catalog, &seed.name, target),
    };
    let column_name = |n: &str| {
        if settings.quote_columns {
            sql::quote(n)
        } else {
            sql::identifier(n)
        }
    };
    let (relation, columns): (RelationName, Vec<(String, String)>) = match &declared {
        Some((rel, cols)) if !cols.is_empty() => {
            for h in &seed.header {
                if !cols.iter().any(|c| c.name.eq_ignore_ascii_case(h)) {
                    let hint =
                        crate::suggest::did_you_mean(h, cols.iter().map(|c| c.name.as_str()));
                    return Err(at(
                        Diagnostic::error(
                            codes::SEED_COLUMN,
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
                            codes::SEED_TYPE,
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
                || {
                    settings.relation.clone().unwrap_or_else(|| {
                        RelationName::new(&target.database, &target.schema, &seed.name)
                    })
                },
                |(rel, _)| rel.clone(),
            );
            let mut typed = Vec::with_capacity(seed.header.len());
            for h in &seed.header {
                let configured = settings
                    .column_types
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(h));
                let ty = match configured {
                    Some((_, ty)) if crate::project::seeds::is_plain_type(ty) => ty.clone(),
                    Some((_, ty)) => {
                        return Err(crate::project::seeds::bad_column_type(&seed.path, h, ty));
                    }
                    None => {
                        let values = column_values(seed, h);
                        ddl_type(&infer_type(&values), &values, true)
                    }
                };
                typed.push((h.clone(), ty));
            }
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
                .map(|(n, t)| format!("    {} {t}", column_name(n)))
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
        .map(|(n, _)| column_name(n))
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
    // The literal form of each column's values, from its type as
    // normalised (a `column_types` entry may say `integer` or `text`).
    let literal_types: Vec<String> = columns
        .iter()
        .map(|(_, ty)| sql::normalize_type(ty))
        .collect();
    for (i, row) in seed.rows.iter().enumerate() {
        let line = seed.lines.get(i).copied().unwrap_or(i + 2);
        let mut cells = Vec::with_capacity(columns.len());
        for (((name, ty), pos), lit) in columns.iter().zip(&positions).zip(&literal_types) {
            let raw = pos.and_then(|p| row.get(p)).and_then(Option::as_deref);
            cells.push(literal(raw, lit).map_err(|why| {
                at(
                    Diagnostic::error(
                        codes::SEED_VALUE,
                        format!("line {line}, column `{name}`: {why}"),
                    ),
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
pub(super) fn check_seed(
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
            codes::BAD_NAME,
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
                codes::BAD_NAME,
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
