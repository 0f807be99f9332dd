//! Seeds as the project sees them: every CSV file under the seed paths,
//! read and typed here, before anything compiles, so that `ref()` resolves
//! to a seed and its columns are known offline.
//!
//! The reader ([`parse_seed`]) and the typing of values ([`values`]) are the
//! ones `cio-sql seed` loads with (see `crate::execution::seed`); a compile
//! reads at most [`PREFIX_BYTES`] of each file ([`ProjectSeed`]), so a large
//! seed does not slow every compile down.

pub(crate) mod values;

use super::{ModelConfig, ProjectConfig};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

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
pub fn find_seeds(root: &Path, seed_paths: &[String]) -> Vec<Result<SeedFile, Diagnostic>> {
    let relative = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let mut found = Vec::new();
    for dir in seed_paths {
        let base = root.join(dir);
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

/// Reads and parses one seed file (comma-separated).
pub fn read_seed(file: &SeedFile) -> Result<Seed, Diagnostic> {
    read_seed_with(file, b',')
}

/// Reads and parses one seed file whose fields are separated by `delimiter`.
pub fn read_seed_with(file: &SeedFile, delimiter: u8) -> Result<Seed, Diagnostic> {
    let bytes = std::fs::read(&file.file).map_err(|e| {
        Diagnostic::error(
            crate::diagnostics::codes::SEED_CSV,
            format!("cannot read {}: {e}", file.path),
        )
        .at_file(&file.path)
        .with_help("check that the file exists and is readable")
    })?;
    parse_seed_with(&file.name, &file.path, &bytes, delimiter)
}

/// Sets `d`'s file and 1-based line (no snippet).
pub(crate) fn at(mut d: Diagnostic, path: &str, line: usize) -> Diagnostic {
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
    parse_seed_with(name, path, bytes, b',')
}

/// [`parse_seed`] with fields separated by `delimiter` (dbt's `delimiter`
/// seed config).
pub fn parse_seed_with(
    name: &str,
    path: &str,
    bytes: &[u8],
    delimiter: u8,
) -> Result<Seed, Diagnostic> {
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
        .delimiter(delimiter)
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

/// How much of a seed file a compile reads to learn its columns and their
/// types: the header and the rows within the first MiB. `cio-sql seed`
/// reads the whole file; a column whose values past this point would change
/// its inferred type is typed by those values when loaded (pin it with
/// `+column_types` to have one type everywhere).
pub const PREFIX_BYTES: usize = 1024 * 1024;

/// A seed as the project knows it before anything compiles: its file, its
/// configuration from the `seeds:` tree of the project file, and its
/// columns, read from the header and typed from the values of the first
/// [`PREFIX_BYTES`] of the file.
#[derive(Debug, Clone)]
pub struct ProjectSeed {
    /// The seed name: the file stem.
    pub name: String,
    /// Path relative to the project root.
    pub path: String,
    /// Where to read it.
    pub file: PathBuf,
    /// The folders below the seed path (dbt's fqn between the project
    /// name and the seed name).
    pub folders: Vec<String>,
    /// Configuration from the project file's `seeds:` tree.
    pub config: ModelConfig,
    /// Columns and their SQL types, in header order (empty when the file
    /// cannot be read: see `problem`).
    pub columns: Vec<(String, String)>,
    /// Why the file cannot be read or typed, when it cannot.
    pub problem: Option<Diagnostic>,
    /// dbt's checksum of the file (SHA-256 of its text, trimmed), for
    /// `state:modified`; for a file over [`PREFIX_BYTES`], of its first
    /// MiB and its length.
    pub checksum: String,
}

impl ProjectSeed {
    /// `enabled` (dbt's `+enabled`): true unless configured false.
    pub fn enabled(&self) -> bool {
        self.config.enabled()
    }

    /// The field separator: dbt's `delimiter` config, `,` by default.
    pub fn delimiter(&self) -> u8 {
        match self.config.values.get("delimiter").and_then(Value::as_str) {
            Some(d) if d.len() == 1 => d.as_bytes()[0],
            _ => b',',
        }
    }

    /// `quote_columns`: false unless configured true (dbt-snowflake's default).
    pub fn quote_columns(&self) -> bool {
        self.config
            .values
            .get("quote_columns")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The `column_types` config: column (as written) → SQL type.
    pub fn column_types(&self) -> Vec<(String, String)> {
        match self.config.values.get("column_types") {
            Some(Value::Object(map)) => map
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|t| (k.clone(), t.trim().to_string())))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The type `column_types` gives `column`, compared ignoring case.
    pub fn configured_type(&self, column: &str) -> Option<String> {
        self.column_types()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(column))
            .map(|(_, t)| t)
    }
}

/// True when `ty` is a type name a seed may write into DDL as given: a
/// word (or words, `TIMESTAMP WITH TIME ZONE`), optionally with one or two
/// whole numbers in parentheses (`VARCHAR(32)`, `NUMBER(38, 2)`).
pub fn is_plain_type(ty: &str) -> bool {
    let (words, args) = match ty.split_once('(') {
        Some((w, rest)) => match rest.strip_suffix(')') {
            Some(a) => (w, Some(a)),
            None => return false,
        },
        None => (ty, None),
    };
    let words_ok = !words.trim().is_empty()
        && words
            .split_whitespace()
            .all(|w| w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        && words
            .trim()
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic());
    let args_ok = args.is_none_or(|a| {
        let parts: Vec<&str> = a.split(',').map(str::trim).collect();
        parts.len() <= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    words_ok && args_ok
}

/// The error for a `column_types` entry that is not a plain type name.
pub fn bad_column_type(path: &str, column: &str, ty: &str) -> Diagnostic {
    Diagnostic::error(
        codes::SEED_CONFIG,
        format!(
            "seed {path}: `column_types` gives column `{column}` the type `{ty}`, which is not a SQL type name"
        ),
    )
    .at_file(super::PROJECT_FILE)
    .with_help("write a type such as varchar(32), number(38, 2), date or timestamp_ntz")
}

/// Every seed of the project, in path order: read (at most
/// [`PREFIX_BYTES`] of each), configured from the `seeds:` tree and typed.
/// A seed folder that cannot be listed gives an error entry.
pub(super) fn load_seed_nodes(
    root: &Path,
    config: &ProjectConfig,
    properties: &super::properties::Properties,
) -> (Vec<ProjectSeed>, Vec<Diagnostic>) {
    use rayon::prelude::*;
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for found in find_seeds(root, &config.seed_paths) {
        match found {
            Ok(f) => files.push(f),
            Err(d) => problems.push(d),
        }
    }
    let seeds = files
        .into_par_iter()
        .map(|f| {
            let folders = seed_folders(root, config, &f.file);
            let mut seed_config = config.seed_config(&folders, &f.name);
            if let Some(p) = properties.seeds.get(&f.name.to_lowercase()) {
                seed_config.merge(&p.node_config());
            }
            let mut seed = ProjectSeed {
                name: f.name.clone(),
                path: f.path.clone(),
                file: f.file.clone(),
                folders,
                config: seed_config,
                columns: Vec::new(),
                problem: None,
                checksum: String::new(),
            };
            if seed.enabled() {
                match type_seed(&seed, &f) {
                    Ok((columns, checksum)) => {
                        seed.columns = columns;
                        seed.checksum = checksum;
                    }
                    Err(d) => seed.problem = Some(d),
                }
            }
            seed
        })
        .collect();
    (seeds, problems)
}

/// The folders between the seed path holding `file` and the file.
fn seed_folders(root: &Path, config: &ProjectConfig, file: &Path) -> Vec<String> {
    let Some(base) = config
        .seed_paths
        .iter()
        .map(|p| root.join(p))
        .find(|p| file.starts_with(p))
    else {
        return Vec::new();
    };
    file.strip_prefix(&base)
        .ok()
        .and_then(Path::parent)
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the first [`PREFIX_BYTES`] of a seed file (the whole file when it
/// is shorter, or when the prefix does not parse on its own) and types its
/// columns: `column_types` where configured, else inferred from the values.
/// Also gives the file's checksum (see [`ProjectSeed::checksum`]).
fn type_seed(
    seed: &ProjectSeed,
    file: &SeedFile,
) -> Result<(Vec<(String, String)>, String), Diagnostic> {
    let unreadable = |e: std::io::Error| {
        Diagnostic::error(codes::SEED_CSV, format!("cannot read {}: {e}", file.path))
            .at_file(&file.path)
            .with_help("check that the file exists and is readable")
    };
    if let Some(d) = seed.config.values.get("delimiter")
        && d.as_str().is_none_or(|s| s.len() != 1)
    {
        return Err(Diagnostic::error(
            codes::SEED_CONFIG,
            format!("seed {}: `delimiter` is {d}, not one character", file.path),
        )
        .at_file(super::PROJECT_FILE)
        .with_help("set +delimiter to one character, such as \";\" or \"|\", in dbt_project.yml"));
    }
    for (column, ty) in seed.column_types() {
        if !is_plain_type(&ty) {
            return Err(bad_column_type(&file.path, &column, &ty));
        }
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&file.file)
        .and_then(|f| f.take(PREFIX_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    let delimiter = seed.delimiter();
    let checksum = {
        let text = String::from_utf8_lossy(&bytes);
        let text = if bytes.len() > PREFIX_BYTES {
            let len = std::fs::metadata(&file.file).map_or(0, |m| m.len());
            format!("{text}\n{len}")
        } else {
            text.into_owned()
        };
        checksum(&text)
    };
    let parsed = if bytes.len() > PREFIX_BYTES {
        // Cut at the last line break; a record that runs past it (a quoted
        // field with line breaks) makes the prefix fail, and then the
        // whole file is read.
        let cut = bytes.iter().rposition(|&b| b == b'\n').unwrap_or(0);
        match parse_seed_with(&file.name, &file.path, &bytes[..cut], delimiter) {
            Ok(s) if cut > 0 => s,
            _ => {
                let all = std::fs::read(&file.file).map_err(unreadable)?;
                parse_seed_with(&file.name, &file.path, &all, delimiter)?
            }
        }
    } else {
        parse_seed_with(&file.name, &file.path, &bytes, delimiter)?
    };
    let columns = parsed
        .header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let ty = match seed.configured_type(h) {
                Some(t) => t,
                None => {
                    let values: Vec<&str> = parsed
                        .rows
                        .iter()
                        .filter_map(|r| r.get(i).and_then(|v| v.as_deref()))
                        .collect();
                    values::ddl_type(&values::infer_type(&values), &values, true)
                }
            };
            (h.clone(), ty)
        })
        .collect();
    Ok((columns, checksum))
}

/// dbt's file checksum: SHA-256 (hex) of the text with surrounding
/// whitespace trimmed.
pub fn checksum(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
