//! Seeds: CSV files under the seed paths, planned as SQL statements.
//!
//! A seed named like a catalog relation is loaded into that relation, typed
//! from the catalog (columns in catalog order; catalog columns the CSV lacks
//! are NULL). Any other seed goes to the target schema with types inferred
//! from its values. Loading is atomic: rows go into a scratch table first and
//! replace the real table in one `CREATE OR REPLACE TABLE … AS SELECT`.
//!
//! Every seed is read and planned on its own: a file that cannot be read, is
//! not valid CSV or holds a value its column type cannot take gives a
//! [`Diagnostic`] with the file and line, and the other seeds go on
//! ([`crate::execute::load_seeds`] makes it a failed node). Nothing here
//! indexes or slices user text in a way that can panic; a property test
//! (`tests/hardening_seeds.rs`) feeds the reader and planner arbitrary CSV.

use crate::catalog::{Catalog, Column, RelationName};
use crate::diagnostics::Diagnostic;
use crate::project::{Project, Quoting, Target};
use crate::render::{Relation, sql};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Rows per `INSERT` statement at most.
pub const INSERT_BATCH: usize = 500;

/// Bytes of row values per `INSERT` statement at most (a statement holds at
/// least one row). Snowflake asks for statements under 1 MB ("Limits on
/// Query Text Size", <https://docs.snowflake.com/en/user-guide/query-size-limits>).
pub const INSERT_BYTES: usize = 512 * 1024;

/// How every scratch table's name starts; then come a hash of the seed's
/// relation and a number of the load (see [`scratch_family`]).
pub const SCRATCH_PREFIX: &str = "CIO_SQL_SEED_LOAD_";

/// A `.csv` file found under a seed path.
#[derive(Debug, Clone)]
pub struct SeedFile {
    /// Table name: the file stem.
    pub name: String,
    /// Path relative to the project root.
    pub path: String,
    /// Where to read it.
    pub file: PathBuf,
}

/// A CSV file read from disk.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Table name: the file stem.
    pub name: String,
    /// Path relative to the project root.
    pub path: String,
    /// Header names.
    pub header: Vec<String>,
    /// Rows; an empty cell is `None` (NULL).
    pub rows: Vec<Vec<Option<String>>>,
    /// The 1-based line of the file each row starts on.
    pub lines: Vec<usize>,
}

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

/// Every `.csv` under the project's seed paths, sorted by path. A folder or
/// link that cannot be read is an error entry; the others are still found.
pub fn find_seeds(project: &Project) -> Vec<Result<SeedFile, Diagnostic>> {
    let relative = |path: &Path| {
        path.strip_prefix(&project.root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let mut found = Vec::new();
    for dir in &project.config.seed_paths {
        let base = project.root.join(dir);
        if !base.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let rel = relative(e.path().unwrap_or(&base));
                    let why = e
                        .io_error()
                        .map_or_else(|| "a link loop".to_string(), ToString::to_string);
                    found.push(Err(Diagnostic::error(
                        "CIO030",
                        format!("cannot read {rel} in the seed folder {dir}: {why}"),
                    )
                    .at_file(&rel)
                    .with_help("make it readable, or move it out of the seed folder")));
                    continue;
                }
            };
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("csv") {
                continue;
            }
            let rel = relative(path);
            let is_file = if entry.path_is_symlink() {
                match std::fs::metadata(path) {
                    Ok(meta) => meta.is_file(),
                    Err(e) => {
                        found.push(Err(Diagnostic::error(
                            "CIO030",
                            format!("{rel} is a link to a file that cannot be read: {e}"),
                        )
                        .at_file(&rel)
                        .with_help("fix or remove the link")));
                        continue;
                    }
                }
            } else {
                entry.file_type().is_file()
            };
            if !is_file {
                continue;
            }
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push(Ok(SeedFile {
                name,
                path: rel,
                file: path.to_path_buf(),
            }));
        }
    }
    found
}

/// Reads and parses one seed file.
pub fn read_seed(file: &SeedFile) -> Result<Seed, Diagnostic> {
    let bytes = std::fs::read(&file.file).map_err(|e| {
        Diagnostic::error("CIO030", format!("cannot read {}: {e}", file.path))
            .at_file(&file.path)
            .with_help("check that the file exists and is readable")
    })?;
    parse_seed(&file.name, &file.path, &bytes)
}

/// Sets `d`'s file and 1-based line (no snippet).
fn at(mut d: Diagnostic, path: &str, line: usize) -> Diagnostic {
    d = d.at_file(path);
    d.line = Some(line);
    d
}

/// Points `d` at `line` of `text`, with the line as its snippet when the
/// diagnostic can find it (a file whose lines end in a lone `\r` gets the
/// line number alone).
fn at_text_line(d: Diagnostic, path: &str, text: &str, line: usize) -> Diagnostic {
    let d = d.at_line(path, text, line, None);
    if d.line == Some(line) {
        d
    } else {
        Diagnostic {
            source_line: None,
            span: None,
            column: None,
            ..at(d, path, line)
        }
    }
}

/// Parses the bytes of the seed `name` at `path` (relative to the project).
/// A UTF-8 byte order mark is dropped; lines may end in `\n` or `\r\n`.
pub fn parse_seed(name: &str, path: &str, bytes: &[u8]) -> Result<Seed, Diagnostic> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.valid_up_to();
            let before = bytes.get(..valid).unwrap_or_default();
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let lossy = String::from_utf8_lossy(bytes);
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
                .chars()
                .count()
                + 1;
            return Err(Diagnostic::error(
                "CIO030",
                format!(
                    "the file is not valid UTF-8 (line {line}, byte {} of the file)",
                    valid + 1
                ),
            )
            .at_line(path, &lossy, line, Some(column))
            .with_help(
                "save the file as UTF-8 (a spreadsheet's \"CSV UTF-8\"; iconv -f LATIN1 -t UTF-8)",
            ));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    // Where a record starts. csv counts lines wrong after a `\r\n` (it
    // puts the next record at the `\n`), so lines are counted here from
    // the byte offsets, past the line breaks a position may point at.
    let bytes = text.as_bytes();
    let start_of = |p: &csv::Position| {
        let mut at = usize::try_from(p.byte())
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        while bytes.get(at).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            at += 1;
        }
        at
    };
    let line_at = |at: usize| line_breaks(&bytes[..at]) + 1;
    let bad = |e: csv::Error| {
        let line = e.position().map(|p| line_at(start_of(p)));
        let d = Diagnostic::error("CIO030", format!("invalid CSV: {e}"))
            .with_help("quote fields that contain commas, quotes or line breaks (\"a, b\"; a quote inside is written twice)");
        match line {
            Some(l) => at_text_line(d, path, text, l),
            None => d.at_file(path),
        }
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty() && text.trim().is_empty()) {
        return Err(
            at(Diagnostic::error("CIO030", "the file is empty"), path, 1).with_help(
                "the first line names the columns (id,name,…), one row per line after it",
            ),
        );
    }
    if let Some(i) = header.iter().position(String::is_empty) {
        return Err(Diagnostic::error(
            "CIO030",
            format!("column {} of the header has no name", i + 1),
        )
        .at_line(path, text, 1, None)
        .with_help(
            "name every column on the first line (a trailing comma makes a column without a name)",
        ));
    }
    for (j, h) in header.iter().enumerate() {
        if let Some(i) = header[..j].iter().position(|o| o.eq_ignore_ascii_case(h)) {
            return Err(Diagnostic::error(
                "CIO030",
                format!(
                    "column `{h}` is named twice in the header (columns {} and {})",
                    i + 1,
                    j + 1
                ),
            )
            .at_line(path, text, 1, None)
            .with_help("give every column its own name (names are compared ignoring case)"));
        }
    }
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    // Counted on from the previous record, so reading stays linear.
    let (mut counted_to, mut line) = (0usize, 1usize);
    for record in reader.records() {
        let record = record.map_err(bad)?;
        let start = record.position().map_or(counted_to, start_of);
        if start > counted_to {
            line += line_breaks(&bytes[counted_to..start]);
            counted_to = start;
        }
        if record.len() != header.len() {
            let d = Diagnostic::error(
                "CIO030",
                format!(
                    "line {line} has {} field{}, but the header names {} column{}",
                    record.len(),
                    if record.len() == 1 { "" } else { "s" },
                    header.len(),
                    if header.len() == 1 { "" } else { "s" },
                ),
            );
            return Err(at_text_line(d, path, text, line).with_help(if record.iter().any(|f| f.contains('\n')) {
                "a field of this row runs over several lines: check for a quote (\") that is never closed"
            } else {
                "give every row as many fields as the header has columns; quote a field that contains a comma (\"a, b\")"
            }));
        }
        rows.push(
            record
                .iter()
                .map(|v| (!v.is_empty()).then(|| v.to_string()))
                .collect(),
        );
        lines.push(line);
    }
    Ok(Seed {
        name: name.to_string(),
        path: path.to_string(),
        header,
        rows,
        lines,
    })
}

/// Line breaks in `bytes`: `\n`, `\r\n`, or a `\r` alone (as csv reads them).
fn line_breaks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
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
    crate::names::check_seed(
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
/// (see [`crate::catalog::normalize_type`]). Any other catalog type is
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

fn is_int(v: &str) -> bool {
    let v = v.trim();
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn is_number(v: &str) -> bool {
    v.trim().parse::<f64>().is_ok_and(f64::is_finite) && !v.trim().is_empty()
}

fn bool_value(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// `YYYY-MM-DD`, on bytes so that no slice of user text can fall inside a
/// multi-byte character.
fn is_date_bytes(b: &[u8]) -> bool {
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn is_date(v: &str) -> bool {
    is_date_bytes(v.trim().as_bytes())
}

/// `YYYY-MM-DD HH:MM:SS` (or `T` between), then optional fractions of a
/// second and a `Z`: what an undeclared seed column must hold to be inferred a
/// timestamp.
fn is_timestamp(v: &str) -> bool {
    let b = v.trim().as_bytes();
    let time = |t: &[u8]| {
        t.len() == 8
            && t.iter().enumerate().all(|(i, c)| {
                if i == 2 || i == 5 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    let fraction = |f: &[u8]| {
        let f = f.strip_suffix(b"Z").unwrap_or(f);
        f.is_empty() || (f.len() >= 2 && f[0] == b'.' && f[1..].iter().all(u8::is_ascii_digit))
    };
    b.len() >= 19
        && is_date_bytes(&b[..10])
        && matches!(b[10], b' ' | b'T')
        && time(&b[11..19])
        && fraction(&b[19..])
}

/// A type for an undeclared seed column, from its values.
fn infer_type(values: &[&str]) -> String {
    let t = if values.is_empty() {
        "VARCHAR"
    } else if values.iter().all(|v| is_int(v)) || values.iter().all(|v| is_number(v)) {
        "NUMBER"
    } else if values
        .iter()
        .all(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false"))
    {
        "BOOLEAN"
    } else if values.iter().all(|v| is_timestamp(v)) {
        "TIMESTAMP_NTZ"
    } else if values.iter().all(|v| is_date(v)) {
        "DATE"
    } else {
        "VARCHAR"
    };
    t.to_string()
}

/// The DDL type for a normalised type. NUMBER gets the scale its values
/// need (at most 12) within Snowflake's 38 digits. An `inferred` column
/// whose values have an exponent, or more than 38 digits before the point,
/// is FLOAT instead.
fn ddl_type(normalised: &str, values: &[&str], inferred: bool) -> String {
    match normalised {
        "NUMBER" => {
            let mut scale = 0;
            let mut whole = 0;
            let mut exponent = false;
            for v in values.iter().filter(|v| is_number(v)) {
                let v = v.trim().trim_start_matches(['-', '+']);
                exponent |= v.contains(['e', 'E']);
                let (int, frac) = v.split_once('.').unwrap_or((v, ""));
                scale = scale.max(frac.len());
                whole = whole.max(int.trim_start_matches('0').len());
            }
            if inferred && (exponent || whole > 38) {
                return "FLOAT".to_string();
            }
            format!(
                "NUMBER(38, {})",
                scale.min(12).min(38usize.saturating_sub(whole))
            )
        }
        other => other.to_string(),
    }
}

/// Digits before the decimal point of a number written without exponent.
fn whole_digits(v: &str) -> usize {
    let v = v.trim().trim_start_matches(['-', '+']);
    if v.contains(['e', 'E']) {
        return 0;
    }
    v.split('.')
        .next()
        .unwrap_or("")
        .trim_start_matches('0')
        .len()
}

/// A SQL literal for a CSV cell of type `ty`.
fn literal(raw: Option<&str>, ty: &str) -> Result<String, String> {
    let Some(value) = raw else {
        return Ok("NULL".into());
    };
    let base = ty.split('(').next().unwrap_or(ty);
    match base {
        "NUMBER" | "FLOAT" => {
            if base == "NUMBER" && whole_digits(value) > 38 {
                Err(format!(
                    "`{value}` has more than 38 digits before the decimal point, more than a NUMBER holds"
                ))
            } else if is_number(value) {
                Ok(value.trim().to_string())
            } else {
                Err(format!("`{value}` is not a number"))
            }
        }
        "BOOLEAN" => bool_value(value)
            .map(|b| {
                if b {
                    "TRUE".to_string()
                } else {
                    "FALSE".to_string()
                }
            })
            .ok_or_else(|| format!("`{value}` is not a boolean (true/false)")),
        "TIMESTAMP_NTZ" | "TIMESTAMP_LTZ" | "TIMESTAMP_TZ" | "TIMESTAMP" | "DATE" | "TIME" => Ok(
            format!("CAST({} AS {base})", sql::string_literal(value.trim())),
        ),
        "VARIANT" | "OBJECT" | "ARRAY" | "GEOGRAPHY" | "GEOMETRY" | "BINARY" => {
            Err(format!("seeds cannot load {base} columns yet"))
        }
        _ => Ok(sql::string_literal(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::OfflineCatalog;

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
}
