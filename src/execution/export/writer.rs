//! The files of an export: items streamed into temporary files of the
//! output folder, a new file whenever the next item would break the
//! format's limits, every file renamed into place at the end.

use super::{ExportRequest, ExportedFile, Format};
use crate::diagnostics::{Diagnostic, codes};
use crate::files::{TempFile, TempPath};
use serde_json::Value;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// How much one file may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Items per file.
    pub max_items: usize,
    /// Bytes per file, envelope included.
    pub max_bytes: Option<usize>,
    /// Bytes per item (serialised JSON).
    pub max_item_bytes: Option<usize>,
}

/// Why writing stopped.
#[derive(Debug)]
pub enum WriteError {
    /// One item is over a limit: its size, the limit, which limit.
    TooLarge(usize, usize, &'static str),
    /// A file could not be written or renamed into place.
    Failed(Diagnostic),
}

impl WriteError {
    /// The diagnostic, naming the row (`row`) an item came from.
    pub fn diagnostic(self, req: &ExportRequest, row: &str) -> Diagnostic {
        match self {
            WriteError::Failed(d) => d,
            WriteError::TooLarge(bytes, limit, what) => Diagnostic::error(
                codes::EXPORT_ITEM_TOO_LARGE,
                format!(
                    "{}: {row} makes an item of {bytes} bytes, over the {limit}-byte limit of {what}",
                    req.model
                ),
            )
            .for_model(&req.model)
            .with_help("make the row smaller (fewer or shorter attributes) in the model and build it again"),
        }
    }
}

/// A file being written.
struct Open {
    out: BufWriter<File>,
    temp: TempPath,
    path: PathBuf,
    items: u64,
    bytes: usize,
}

/// The files of one export.
pub struct Writer {
    format: Format,
    limits: Limits,
    dir: PathBuf,
    model: String,
    columns: Vec<String>,
    current: Option<Open>,
    done: Vec<(TempPath, ExportedFile)>,
    record: Vec<u8>,
}

fn io_error(path: &Path, e: &std::io::Error) -> WriteError {
    WriteError::Failed(
        Diagnostic::error(
            codes::WRITE_FAILED,
            format!("cannot write {}: {e}", path.display()),
        )
        .at_file(path)
        .with_help("check that the folder is writable and the disk is not full"),
    )
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl Writer {
    /// A writer of `format` files named `<model>-00001.<ext>`, … in `dir`;
    /// `columns` are the CSV header.
    pub fn new(
        format: Format,
        limits: Limits,
        dir: &Path,
        model: &str,
        columns: &[String],
    ) -> Writer {
        Writer {
            format,
            limits,
            dir: dir.to_path_buf(),
            model: model.to_string(),
            columns: columns.to_vec(),
            current: None,
            done: Vec::new(),
            record: Vec::new(),
        }
    }

    /// Files finished so far.
    pub fn finished(&self) -> usize {
        self.done.len()
    }

    /// (What opens a file, what separates items, what closes it.)
    fn envelope(&self) -> (&'static str, &'static str, &'static str) {
        match self.format {
            Format::Csv | Format::Jsonl => ("", "", ""),
            Format::Customerio => ("{\"batch\":[", ",", "]}"),
            Format::MetaCapi => ("{\"data\":[", ",", "]}"),
            Format::Moengage => ("{\"type\":\"transition\",\"elements\":[", ",", "]}"),
        }
    }

    /// The bytes of `value` as one item.
    fn encode(&mut self, value: &Value) -> Vec<u8> {
        match self.format {
            Format::Csv => {
                self.record.clear();
                let mut w = csv::Writer::from_writer(&mut self.record);
                let _ = w.write_record(self.columns.iter().map(|c| cell(value.get(c))));
                drop(w);
                self.record.clone()
            }
            Format::Jsonl => {
                let mut line = serde_json::to_vec(value).unwrap_or_default();
                line.push(b'\n');
                line
            }
            _ => serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    fn header(&self) -> Vec<u8> {
        match self.format {
            Format::Csv => {
                let mut out = Vec::new();
                let mut w = csv::Writer::from_writer(&mut out);
                let _ = w.write_record(&self.columns);
                drop(w);
                out
            }
            _ => self.envelope().0.as_bytes().to_vec(),
        }
    }

    fn open(&mut self) -> Result<(), WriteError> {
        let path = self.dir.join(format!(
            "{}-{:05}.{}",
            self.model,
            self.done.len() + 1,
            self.format.extension()
        ));
        let (file, temp) = TempFile::new_in(&self.dir)
            .map_err(|e| io_error(&path, &e))?
            .into_parts();
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let header = self.header();
        out.write_all(&header).map_err(|e| io_error(&path, &e))?;
        self.current = Some(Open {
            out,
            temp,
            path,
            items: 0,
            bytes: header.len(),
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), WriteError> {
        let Some(mut open) = self.current.take() else {
            return Ok(());
        };
        let suffix = self.envelope().2;
        open.out
            .write_all(suffix.as_bytes())
            .and_then(|()| open.out.flush())
            .map_err(|e| io_error(&open.path, &e))?;
        drop(open.out);
        self.done.push((
            open.temp,
            ExportedFile {
                path: open.path,
                items: open.items,
                bytes: (open.bytes + suffix.len()) as u64,
            },
        ));
        Ok(())
    }

    /// Adds one item, in a new file when the current one is full.
    pub fn push(&mut self, value: &Value) -> Result<(), WriteError> {
        let item = self.encode(value);
        if let Some(limit) = self.limits.max_item_bytes
            && item.len() > limit
        {
            return Err(WriteError::TooLarge(item.len(), limit, "one operation"));
        }
        let (prefix, sep, suffix) = self.envelope();
        if let Some(open) = &self.current {
            let full = open.items as usize >= self.limits.max_items
                || self
                    .limits
                    .max_bytes
                    .is_some_and(|max| open.bytes + sep.len() + item.len() + suffix.len() > max);
            if full {
                self.close()?;
            }
        }
        if self.current.is_none() {
            if let Some(max) = self.limits.max_bytes
                && prefix.len() + item.len() + suffix.len() > max
            {
                return Err(WriteError::TooLarge(
                    prefix.len() + item.len() + suffix.len(),
                    max,
                    "one file",
                ));
            }
            self.open()?;
        }
        let Some(open) = self.current.as_mut() else {
            return Ok(());
        };
        let sep = if open.items > 0 { sep } else { "" };
        open.out
            .write_all(sep.as_bytes())
            .and_then(|()| open.out.write_all(&item))
            .map_err(|e| io_error(&open.path, &e))?;
        open.items += 1;
        open.bytes += sep.len() + item.len();
        Ok(())
    }

    /// Closes the last file and renames every file into place; a file of
    /// the same name that appeared meanwhile stops it (nothing replaced).
    pub fn finish(mut self) -> Result<Vec<ExportedFile>, WriteError> {
        self.close()?;
        if let Some((_, f)) = self.done.iter().find(|(_, f)| f.path.exists()) {
            return Err(WriteError::Failed(super::in_the_way(&f.path)));
        }
        let mut files = Vec::new();
        for (temp, file) in self.done {
            temp.persist(&file.path)
                .map_err(|e| io_error(&file.path, &e))?;
            files.push(file);
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_by_bytes_and_items_and_renames_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_items: 3,
            max_bytes: Some(60),
            max_item_bytes: Some(30),
        };
        let mut w = Writer::new(Format::Customerio, limits, dir.path(), "m", &[]);
        for i in 0..5 {
            w.push(&json!({"i": i})).unwrap();
        }
        // Nothing is in place before the end.
        assert_eq!(
            std::fs::read_dir(dir.path())
                .unwrap()
                .filter(|e| e
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("m-"))
                .count(),
            0
        );
        let files = w.finish().unwrap();
        assert_eq!(files.len(), 2);
        let first = std::fs::read_to_string(dir.path().join("m-00001.json")).unwrap();
        assert_eq!(first, r#"{"batch":[{"i":0},{"i":1},{"i":2}]}"#);
        assert_eq!(files[0].bytes as usize, first.len());
        assert_eq!(files[1].items, 2);

        let mut w = Writer::new(Format::Customerio, limits, dir.path(), "big", &[]);
        let err = w.push(&json!({"text": "x".repeat(40)})).unwrap_err();
        assert!(matches!(err, WriteError::TooLarge(_, 30, _)), "{err:?}");
    }

    #[test]
    fn csv_has_a_header_in_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_items: 1,
            max_bytes: None,
            max_item_bytes: None,
        };
        let cols = vec!["a".to_string(), "b".to_string()];
        let mut w = Writer::new(Format::Csv, limits, dir.path(), "m", &cols);
        w.push(&json!({"a": 1, "b": "x,y"})).unwrap();
        w.push(&json!({"a": null, "b": {"k": 1}})).unwrap();
        w.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("m-00001.csv")).unwrap(),
            "a,b\n1,\"x,y\"\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("m-00002.csv")).unwrap(),
            "a,b\n,\"{\"\"k\"\":1}\"\n"
        );
    }
}
