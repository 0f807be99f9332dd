//! `cio-sql export MODEL`: a model's built relation read from the
//! warehouse in pages and written into files of one format: `csv`,
//! `jsonl`, or a destination's request body (Customer.io's v2 batch, Meta's
//! Conversions API events, MoEngage's bulk import), split so that every
//! file keeps the destination's limits.
//!
//! Memory does not grow with the table: rows are read [`PAGE_ROWS`] at a
//! time (`LIMIT … OFFSET …` ordered by the tracked key and content hash,
//! else by every column, so pages neither overlap nor miss a row), and each file is
//! streamed into a temporary file of the output folder. The files are
//! renamed into place only when the whole export succeeded, so a failed
//! export leaves nothing behind, and an export never replaces a file: a
//! file of its name already there stops it before it reads a row.

pub mod layout;
mod writer;

use crate::analysis::tracking::{CHANGED_AT, HASH, KEY};
use crate::diagnostics::{Diagnostic, codes};
use crate::execution::connect::warehouse_diagnostic;
use crate::execution::run::relation_state;
use crate::sql::{RelationName, quote};
use crate::warehouse::Warehouse;
pub use layout::{Format, Layout};
use layout::{Item, Row};
use serde::Serialize;
use std::path::{Path, PathBuf};
use writer::{Limits, Writer};

/// Rows read per query.
pub const PAGE_ROWS: usize = 5_000;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The model's name: the files are `<model>-00001.<ext>`, ….
    pub model: String,
    /// The relation it builds.
    pub relation: RelationName,
    /// The relation as SQL (quoted as the project quotes it).
    pub relation_sql: String,
    /// Which destination's table it is.
    pub layout: Layout,
    /// `--format`; `None` for the layout's own.
    pub format: Option<Format>,
    /// `--since`: only rows changed at or after this Unix time.
    pub since: Option<i64>,
    /// `--out`.
    pub out_dir: PathBuf,
    /// The profile target (for warehouse errors).
    pub target: String,
}

/// One file written.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedFile {
    /// Its path.
    pub path: PathBuf,
    /// Items in it (rows, operations, events, elements).
    pub items: u64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The model.
    pub model: String,
    /// The format written.
    pub format: &'static str,
    /// Rows read.
    pub rows: u64,
    /// Rows read and not written: tombstones the format has no delete for.
    pub skipped: u64,
    /// The files, in order.
    pub files: Vec<ExportedFile>,
}

impl Summary {
    /// Bytes written, every file together.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

/// The limits of each format's files. Sources in README, "cio-sql export".
fn limits(format: Format) -> Limits {
    match format {
        // No vendor limit: files of a size a spreadsheet or loader takes.
        Format::Csv | Format::Jsonl => Limits {
            max_items: 100_000,
            max_bytes: None,
            max_item_bytes: None,
        },
        // "Your batch request must be smaller than 500kb. Each of the
        // requests within the batch must also be 32kb or smaller."
        // (Customer.io, Track API v2 batch.)
        Format::Customerio => Limits {
            max_items: usize::MAX,
            max_bytes: Some(500_000 - 1),
            max_item_bytes: Some(32 * 1024),
        },
        // "A maximum of 1,000 events" per request (Meta, Conversions API).
        Format::MetaCapi => Limits {
            max_items: crate::destinations::meta_capi::MAX_EVENTS_PER_REQUEST,
            max_bytes: None,
            max_item_bytes: None,
        },
        // "A maximum of 100 kB in a single API call" (MoEngage, Bulk
        // Import), read as 100,000 bytes.
        Format::Moengage => Limits {
            max_items: usize::MAX,
            max_bytes: Some(100_000),
            max_item_bytes: None,
        },
    }
}

/// Whether `file_name` is one an export of `model` in a format of
/// extension `ext` may write: `<model>-<5 digits>.<ext>`.
fn is_export_file(model: &str, ext: &str, file_name: &str) -> bool {
    let Some(rest) = file_name
        .strip_prefix(model)
        .and_then(|r| r.strip_prefix('-'))
    else {
        return false;
    };
    let Some((digits, rest_ext)) = rest.split_once('.') else {
        return false;
    };
    digits.len() == 5 && digits.bytes().all(|b| b.is_ascii_digit()) && rest_ext == ext
}

/// The first file an export of `model` as `format` could write that is
/// already in `dir`.
fn file_in_the_way(dir: &Path, model: &str, format: Format) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| is_export_file(model, format.extension(), &e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    found.sort();
    found.into_iter().next()
}

fn in_the_way(path: &Path) -> Diagnostic {
    Diagnostic::error(
        codes::EXPORT_FILE_IN_THE_WAY,
        format!(
            "{} is in the way: cio-sql export never replaces a file",
            path.display()
        ),
    )
    .at_file(path)
    .with_help("move or remove it (an earlier export's files, say), or export into another folder with --out")
}

/// The format to write, or why the layout cannot be written as asked.
fn chosen_format(req: &ExportRequest) -> Result<Format, Diagnostic> {
    let format = req.format.unwrap_or_else(|| req.layout.default_format());
    if req.layout.fits(format) {
        return Ok(format);
    }
    let fit: Vec<&str> = Format::ALL
        .into_iter()
        .filter(|f| req.layout.fits(*f))
        .map(Format::name)
        .collect();
    Err(Diagnostic::error(
        codes::EXPORT_FORMAT_UNFIT,
        format!(
            "{} is {}, which cannot be written as {}",
            req.model,
            req.layout.describe(),
            format.name()
        ),
    )
    .for_model(&req.model)
    .with_help(format!("use --format {}", fit.join(" or --format "))))
}

/// The query of one page of `columns`. A change-tracked table is ordered
/// by its key and content hash: rows equal in both are equal in every
/// column, so the order of ties cannot move a different row across a page
/// boundary. Another table is ordered by every column, for the same reason.
fn page_sql(req: &ExportRequest, columns: &[String], tracked: bool, offset: usize) -> String {
    let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let order: Vec<String> = if tracked {
        vec![quote(KEY), quote(HASH)]
    } else {
        (1..=columns.len()).map(|i| i.to_string()).collect()
    };
    let filter = match req.since {
        Some(since) => format!("\nWHERE {} >= TO_TIMESTAMP_NTZ({since})", quote(CHANGED_AT)),
        None => String::new(),
    };
    format!(
        "SELECT {}\nFROM {}{filter}\nORDER BY {}\nLIMIT {PAGE_ROWS} OFFSET {offset}",
        list.join(", "),
        req.relation_sql,
        order.join(", ")
    )
}

/// A name for `row` in a message: its ids, else its tracked key, else its
/// number.
fn row_name(row: &Row, number: u64) -> String {
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let ids: Vec<String> = [
        "userId",
        "anonymousId",
        "groupId",
        "event_id",
        "customer_id",
    ]
    .iter()
    .filter_map(|name| {
        row.get(*name)
            .filter(|v| !v.is_null())
            .map(|v| format!("{name} {}", text(v)))
    })
    .collect();
    if !ids.is_empty() {
        return format!("the row of {}", ids.join(", "));
    }
    match row.get(KEY).filter(|v| !v.is_null()) {
        Some(key) => format!("the row of key {}", text(key)),
        None => format!("row {number}"),
    }
}

/// Whether a column of type `data_type` holds JSON text.
fn is_semi_structured(data_type: &str) -> bool {
    let t = data_type.to_ascii_uppercase();
    t.starts_with("VARIANT") || t.starts_with("OBJECT") || t.starts_with("ARRAY") || t == "JSON"
}

/// What a column's values need before they are written.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Nothing.
    Plain,
    /// VARIANT, OBJECT, ARRAY: the JSON text parsed.
    Json,
    /// A timestamp or date: as the format sends dates.
    Time,
}

impl Kind {
    fn value(self, format: Format, v: serde_json::Value) -> serde_json::Value {
        match (self, v) {
            (Kind::Json, serde_json::Value::String(s)) => {
                serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))
            }
            (Kind::Time, v) if !v.is_null() => layout::date_value(format, v),
            (_, v) => v,
        }
    }
}

/// Exports `req` through `wh`; `progress` is told the rows read and files
/// finished after every page.
pub fn export(
    wh: &dyn Warehouse,
    req: &ExportRequest,
    progress: &dyn Fn(u64, usize),
) -> Result<Summary, Diagnostic> {
    let format = chosen_format(req)?;
    let failed = |e: &crate::warehouse::WarehouseError| {
        warehouse_diagnostic(e, &req.target).for_model(&req.model)
    };
    let state = relation_state(wh, &req.relation).map_err(|e| failed(&e))?;
    if !state.exists {
        return Err(Diagnostic::error(
            codes::EXPORT_NOT_BUILT,
            format!(
                "{} has not been built: {} does not exist",
                req.model, req.relation_sql
            ),
        )
        .for_model(&req.model)
        .with_help(format!("build it first: cio-sql build -s {}", req.model)));
    }
    let tracked = state.tracked();
    if req.since.is_some() && !tracked {
        return Err(Diagnostic::error(
            codes::EXPORT_SINCE_UNTRACKED,
            format!(
                "{} is not change-tracked, so there is no change time to compare --since with",
                req.relation_sql
            ),
        )
        .for_model(&req.model)
        .with_help("export every row (leave out --since), or build the model as a change-tracked table (materialized='table', without cio_change_tracking=false)"));
    }
    if let Some(path) = file_in_the_way(&req.out_dir, &req.model, format) {
        return Err(in_the_way(&path));
    }
    crate::files::ensure_dir(&req.out_dir)?;

    // Plain formats drop the key and hash; the others need the tombstone flag.
    let plain = matches!(format, Format::Csv | Format::Jsonl);
    let columns: Vec<String> = state
        .columns
        .iter()
        .map(|c| c.name.clone())
        .filter(|c| !(plain && (c.eq_ignore_ascii_case(KEY) || c.eq_ignore_ascii_case(HASH))))
        .collect();
    let kinds: Vec<Kind> = state
        .columns
        .iter()
        .filter(|c| columns.contains(&c.name))
        .map(|c| {
            if is_semi_structured(&c.data_type) {
                Kind::Json
            } else if crate::sql::is_timestamp_type(&crate::sql::normalize_type(&c.data_type)) {
                Kind::Time
            } else {
                Kind::Plain
            }
        })
        .collect();

    let mut writer = Writer::new(format, limits(format), &req.out_dir, &req.model, &columns);
    let mut summary = Summary {
        model: req.model.clone(),
        format: format.name(),
        rows: 0,
        skipped: 0,
        files: Vec::new(),
    };
    let layout = &req.layout;
    let mut offset = 0;
    loop {
        let page = wh
            .query(&page_sql(req, &columns, tracked, offset))
            .map_err(|e| failed(&e))?;
        let count = page.rows.len();
        for values in page.rows {
            summary.rows += 1;
            let row: Row = columns
                .iter()
                .zip(kinds.iter())
                .zip(values)
                .map(|((c, kind), v)| (c.clone(), kind.value(format, v)))
                .collect();
            let item = match (format, layout) {
                (Format::Csv | Format::Jsonl, _) => {
                    Ok(Item::Write(serde_json::Value::Object(row.clone())))
                }
                (Format::Customerio, Layout::Customerio(sync)) => layout::customerio(*sync, &row),
                (Format::MetaCapi, _) => layout::meta_event(&row),
                (Format::Moengage, _) => layout::moengage(*layout == Layout::MoengageEvents, &row),
                _ => Err(layout::RowError("the format does not fit".into())),
            };
            let name = || row_name(&row, summary.rows);
            match item {
                Ok(Item::Skip) => summary.skipped += 1,
                Ok(Item::Write(value)) => writer
                    .push(&value)
                    .map_err(|e| e.diagnostic(req, &name()))?,
                Err(e) => {
                    return Err(Diagnostic::error(
                        codes::EXPORT_BAD_ROW,
                        format!(
                            "{}: {} cannot be written as {}: {}",
                            req.model,
                            name(),
                            format.name(),
                            e.0
                        ),
                    )
                    .for_model(&req.model)
                    .with_help(
                        "fix the row in the model and build it again, or export it as jsonl",
                    ));
                }
            }
        }
        progress(summary.rows, writer.finished());
        if count < PAGE_ROWS {
            break;
        }
        offset += count;
    }
    summary.files = writer.finish().map_err(|e| e.diagnostic(req, ""))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_file_names() {
        assert!(is_export_file("m", "json", "m-00001.json"));
        assert!(is_export_file("m", "csv", "m-12345.csv"));
        assert!(!is_export_file("m", "json", "m-12345.csv"));
        assert!(!is_export_file("m", "json", "m-1.json"));
        assert!(!is_export_file("m", "json", "mm-00001.json"));
        assert!(!is_export_file("m", "json", "m-00001.json.bak"));
    }

    #[test]
    fn pages_order_by_the_key_and_hash_or_every_column() {
        let req = ExportRequest {
            model: "m".into(),
            relation: RelationName::new("D", "S", "M"),
            relation_sql: "D.S.M".into(),
            layout: Layout::Plain,
            format: None,
            since: Some(1_700_000_000),
            out_dir: PathBuf::from("out"),
            target: "dev".into(),
        };
        let cols = vec!["a".to_string(), KEY.to_string(), "b".to_string()];
        assert_eq!(
            page_sql(&req, &cols, true, 5000),
            "SELECT \"a\", \"__cio_sql_key\", \"b\"\nFROM D.S.M\nWHERE \"__cio_sql_changed_at\" >= TO_TIMESTAMP_NTZ(1700000000)\nORDER BY \"__cio_sql_key\", \"__cio_sql_hash\"\nLIMIT 5000 OFFSET 5000"
        );
        assert!(page_sql(&req, &cols, false, 0).contains("ORDER BY 1, 2, 3\nLIMIT 5000 OFFSET 0"));
    }
}
