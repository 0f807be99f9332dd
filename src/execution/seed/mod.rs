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
//! ([`load::load_seeds`] makes it a failed node). Nothing here
//! indexes or slices user text in a way that can panic; a property test
//! (`tests/it/hardening_seeds.rs`) feeds the reader and planner arbitrary CSV.

pub mod load;
pub mod plan;
#[cfg(test)]
mod tests;
mod values;

pub use load::{SeedsLoaded, load_seeds};
pub use plan::{
    Cleanup, SeedPlan, SeedStep, plan_seed, scratch_family, scratch_relation, seed_relation,
};

use crate::diagnostics::Diagnostic;
use crate::project::Project;
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
                        crate::diagnostics::codes::SEED_CSV,
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
                            crate::diagnostics::codes::SEED_CSV,
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
        Diagnostic::error(
            crate::diagnostics::codes::SEED_CSV,
            format!("cannot read {}: {e}", file.path),
        )
        .at_file(&file.path)
        .with_help("check that the file exists and is readable")
    })?;
    parse_seed(&file.name, &file.path, &bytes)
}

/// Sets `d`'s file and 1-based line (no snippet).
pub(super) fn at(mut d: Diagnostic, path: &str, line: usize) -> Diagnostic {
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
                crate::diagnostics::codes::SEED_CSV,
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
        let d = Diagnostic::error(crate::diagnostics::codes::SEED_CSV, format!("invalid CSV: {e}"))
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
        return Err(at(
            Diagnostic::error(crate::diagnostics::codes::SEED_CSV, "the file is empty"),
            path,
            1,
        )
        .with_help("the first line names the columns (id,name,…), one row per line after it"));
    }
    if let Some(i) = header.iter().position(String::is_empty) {
        return Err(Diagnostic::error(
            crate::diagnostics::codes::SEED_CSV,
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
                crate::diagnostics::codes::SEED_CSV,
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
                crate::diagnostics::codes::SEED_CSV,
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
