//! The model store and compile cache: `target/compile_cache.bin`.
//!
//! **The store.** Every compiled model's bulky output, its compiled SQL
//! (lz4) and packed output columns, is appended to one file as soon as the
//! model is compiled, and read back from it where needed (writing
//! `target/compiled/`, the manifest, `run`). Memory then holds only a small
//! summary per model, so a compile's memory does not grow with the size of
//! its SQL: a 10,000-model project's outputs are some 50 MB.
//!
//! **The cache.** Rendering and analysing a model is a pure function of its
//! inputs: its own source, folder configuration and path; the project's
//! macros, the built-in templates, variables, project file and target; the
//! catalog; and what it can see of the models it `ref()`s.
//! [`crate::compile::keys`] hashes those (SHA-256) into one
//! key per model, the keys of its static `ref()`s included, so a change
//! upstream reaches every model downstream. Each record of the store is
//! written under its model's key; when a compile that writes `target/`
//! ends, the store becomes `target/compile_cache.bin`. The next compile
//! reads that file's index, and a model whose key is in it is not
//! rendered, parsed or analysed again: its record is copied into the new
//! store. This is dbt's partial parsing, for the whole compile.
//!
//! Only clean results are reused: a model compiled without any error
//! or `log()` line, that read no environment variable, and whose upstream
//! models are clean too. Its warnings are kept in its record and replayed
//! exactly (same text, same place) when it is reused; `--warn-error` is
//! part of every key, so with it the model is compiled again and fails. A `ref()` its source does not name literally (one
//! a macro makes) is recorded with the key of the model it names, and the
//! record is reused only while that key is unchanged. Other records are
//! written with an empty key and never match. Checks that involve several models (refs to
//! disabled models, cycles, selection) run on every compile.
//! `--no-cache` neither reads nor writes the file.
//!
//! The file is a header (magic, format, the project fingerprint) and one
//! record per model: key, length, CRC-32, then the record. A record whose
//! CRC does not match is not reused. A file from another
//! version or project state, or one that does not decode, is ignored,
//! never an error: the cache can only make a compile faster.

pub mod compact;
pub mod packed;

pub use packed::PackedColumns;

use crate::analysis::OutputColumn;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::project::{ModelConfig, Project};
use crate::sql::RelationName;
use crate::store::compact::CompactText;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The cache file, under the project's target folder.
pub const CACHE_FILE: &str = "compile_cache.bin";

/// Bumped whenever what is stored, or how, changes.
pub const FORMAT: u32 = 5;
const MAGIC: &[u8; 8] = b"cio-sqlC";
const HEADER_LEN: u64 = 8 + 4 + 32;
/// Before each record: its key, length and CRC-32.
const RECORD_HEAD: u64 = 32 + 4 + 4;
/// The key of records that must never be reused.
const NO_KEY: Key = [0; 32];

/// A SHA-256 digest: the key a record is stored under (see
/// [`crate::compile::keys`]).
pub type Key = [u8; 32];

/// What a record holds besides the SQL and the columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Where the model is built.
    pub relation: (String, String, String),
    /// The final configuration, as a JSON object.
    pub config: String,
    /// Models it refs.
    pub depends_on: Vec<String>,
    /// Catalog relations it reads.
    pub relations: Vec<String>,
    /// Why its output columns are not known.
    pub columns_unresolved: Option<String>,
    /// It is disabled.
    pub disabled: bool,
    /// Models it ref()s that its source does not name literally (a macro
    /// made the call), with their keys when it was compiled: the record is
    /// reused only while they have the same keys.
    pub dynamic_refs: Vec<(String, Key)>,
    /// The warnings its compile gave, replayed exactly when it is reused.
    pub warnings: Vec<CachedWarning>,
}

/// A warning as the cache keeps it: every field of the [`Diagnostic`],
/// the code by its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedWarning {
    code: String,
    message: String,
    model: Option<String>,
    file: Option<PathBuf>,
    line: Option<usize>,
    column: Option<usize>,
    source_line: Option<String>,
    span: Option<(usize, usize)>,
    help: Option<String>,
    notes: Vec<String>,
}

impl CachedWarning {
    /// The cached form of the warning `d`.
    pub fn new(d: &Diagnostic) -> Self {
        CachedWarning {
            code: d.code.id().to_string(),
            message: d.message.clone(),
            model: d.model.clone(),
            file: d.file.clone(),
            line: d.line,
            column: d.column,
            source_line: d.source_line.clone(),
            span: d.span.as_ref().map(|r| (r.start, r.end)),
            help: d.help.clone(),
            notes: d.notes.clone(),
        }
    }

    /// The warning again; `None` for a code the registry no longer has.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        let mut d = Diagnostic::warning(
            crate::diagnostics::Code::lookup(&self.code)?,
            self.message.clone(),
        );
        d.model = self.model.clone();
        d.file = self.file.clone();
        d.line = self.line;
        d.column = self.column;
        d.source_line = self.source_line.clone();
        d.span = self.span.map(|(a, b)| a..b);
        d.help = self.help.clone();
        d.notes = self.notes.clone();
        Some(d)
    }
}

impl Summary {
    /// The configuration, parsed. `None` when it does not parse (a damaged
    /// file).
    pub fn model_config(&self) -> Option<ModelConfig> {
        Some(ModelConfig {
            values: serde_json::from_str(&self.config).ok()?,
        })
    }

    /// The relation.
    pub fn relation_name(&self) -> RelationName {
        let (d, s, i) = &self.relation;
        RelationName::new(d, s, i)
    }
}

/// One model's record: its summary, SQL and output columns.
#[derive(Debug)]
pub struct Record {
    /// The small part.
    pub summary: Summary,
    /// The compiled SQL.
    pub sql: CompactText,
    /// The output columns.
    pub columns: PackedColumns,
}

impl Record {
    /// The record's bytes: three length-prefixed parts.
    fn encode(&self) -> Vec<u8> {
        let summary = postcard::to_allocvec(&self.summary).expect("encoding into memory");
        let sql = postcard::to_allocvec(&self.sql).expect("encoding into memory");
        let columns = postcard::to_allocvec(&self.columns).expect("encoding into memory");
        let mut out = Vec::with_capacity(12 + summary.len() + sql.len() + columns.len());
        for part in [&summary, &sql, &columns] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// Splits a record's bytes into its three parts.
    fn parts(mut bytes: &[u8]) -> Option<[&[u8]; 3]> {
        let mut part = || {
            let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
            let out = bytes.get(4..4 + len)?;
            bytes = &bytes[4 + len..];
            Some(out)
        };
        Some([part()?, part()?, part()?])
    }
}

/// Where a model's record is in the [`Store`].
#[derive(Clone)]
pub struct Stored {
    store: Arc<Store>,
    offset: u64,
    len: u32,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stored({}+{})", self.offset, self.len)
    }
}

impl Stored {
    /// Part `index` of the record, when it reads back with its CRC.
    fn part(&self, index: usize) -> Option<Vec<u8>> {
        let body = self.body().ok()?;
        Some(Record::parts(&body)?[index].to_vec())
    }

    /// The record's bytes, read back and checked against its CRC.
    fn body(&self) -> std::io::Result<Vec<u8>> {
        let head = self
            .offset
            .checked_sub(4)
            .ok_or(std::io::ErrorKind::InvalidData)?;
        let mut bytes = self.store.read(head, self.len + 4)?;
        if crc32fast::hash(&bytes[4..]).to_le_bytes() != bytes[..4] {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
        bytes.drain(..4);
        Ok(bytes)
    }

    /// The compiled SQL. `None` only if the store cannot be read back
    /// intact (a disk failure, or the file changed under the compile).
    pub fn sql(&self) -> Option<String> {
        postcard::from_bytes::<CompactText>(&self.part(1)?)
            .ok()?
            .text()
    }

    /// The output columns (none if the store cannot be read back).
    pub fn columns(&self) -> Vec<OutputColumn> {
        self.packed_columns()
            .map(|c| c.unpack())
            .unwrap_or_default()
    }

    /// The output columns, packed.
    pub fn packed_columns(&self) -> Option<PackedColumns> {
        postcard::from_bytes::<PackedColumns>(&self.part(2)?).ok()
    }
}

/// The append-only file of model records. Appends and reads address the
/// file by offset, so workers append in parallel without a lock.
pub struct Store {
    file: File,
    end: AtomicU64,
    /// Set when the store is to become the cache file.
    path: std::sync::Mutex<Option<crate::files::TempPath>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({} bytes)", self.end.load(Ordering::Relaxed))
    }
}

impl Store {
    /// A new store for `fingerprint`. With `dir`, a temporary file there
    /// that [`Store::persist`] can turn into the cache file; else an
    /// anonymous temporary file.
    pub fn create(dir: Option<&Path>, fingerprint: &Key) -> std::io::Result<Store> {
        let (file, path) = match dir {
            Some(dir) => {
                let (file, path) = crate::files::TempFile::new_in(dir)?.into_parts();
                (file, Some(path))
            }
            None => (tempfile::tempfile()?, None),
        };
        let mut header = Vec::with_capacity(HEADER_LEN as usize);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT.to_le_bytes());
        header.extend_from_slice(fingerprint);
        write_at(&file, &header, 0)?;
        Ok(Store {
            file,
            end: AtomicU64::new(HEADER_LEN),
            path: std::sync::Mutex::new(path),
        })
    }

    /// Appends `record` under `key` (`None`: never reused).
    pub fn append(self: &Arc<Self>, key: Option<&Key>, record: &Record) -> std::io::Result<Stored> {
        self.append_bytes(key, &record.encode())
    }

    fn append_bytes(self: &Arc<Self>, key: Option<&Key>, body: &[u8]) -> std::io::Result<Stored> {
        let len = u32::try_from(body.len()).map_err(std::io::Error::other)?;
        let mut bytes = Vec::with_capacity(RECORD_HEAD as usize + body.len());
        bytes.extend_from_slice(key.unwrap_or(&NO_KEY));
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        bytes.extend_from_slice(body);
        let at = self.end.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        write_at(&self.file, &bytes, at)?;
        Ok(Stored {
            store: Arc::clone(self),
            offset: at + RECORD_HEAD,
            len,
        })
    }

    /// Appends a copy of the record at `from` (in any store) under `key`.
    pub fn copy(self: &Arc<Self>, key: &Key, from: &Stored) -> std::io::Result<Stored> {
        self.append_bytes(Some(key), &from.body()?)
    }

    /// True when `stored` is a record of this store.
    pub fn holds(self: &Arc<Self>, stored: &Stored) -> bool {
        Arc::ptr_eq(self, &stored.store)
    }

    fn read(&self, offset: u64, len: u32) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; len as usize];
        read_at(&self.file, &mut buf, offset)?;
        Ok(buf)
    }

    /// Makes the store the cache file at `to` (atomically replacing it).
    /// The records stay readable.
    pub fn persist(&self, to: &Path) -> std::io::Result<()> {
        let mut path = self
            .path
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        match path.take() {
            Some(p) => p.persist(to),
            None => Err(std::io::Error::other(
                "the store is not in the target folder",
            )),
        }
    }
}

/// The index of a previous compile's cache file, whose records reused
/// models keep reading from.
#[derive(Debug, Default)]
pub struct CompileCache {
    store: Option<Arc<Store>>,
    /// Key → (offset, length, CRC-32) of the record.
    index: HashMap<Key, (u64, u32, u32)>,
}

impl CompileCache {
    /// Reads the index of `path` when the file was written for
    /// `fingerprint`; an empty cache otherwise.
    pub fn open(path: &Path, fingerprint: &Key) -> CompileCache {
        Self::try_open(path, fingerprint).unwrap_or_default()
    }

    fn try_open(path: &Path, fingerprint: &Key) -> Option<CompileCache> {
        let mut file = File::open(path).ok()?;
        let size = file.metadata().ok()?.len();
        let mut input = std::io::BufReader::with_capacity(1 << 16, &mut file);
        let mut header = [0u8; HEADER_LEN as usize];
        input.read_exact(&mut header).ok()?;
        if &header[..8] != MAGIC
            || header[8..12] != FORMAT.to_le_bytes()
            || &header[12..] != fingerprint
        {
            return None;
        }
        let mut index = HashMap::new();
        let mut at = HEADER_LEN;
        while at < size {
            let mut head = [0u8; RECORD_HEAD as usize];
            input.read_exact(&mut head).ok()?;
            let key: Key = head[..32].try_into().ok()?;
            let len = u32::from_le_bytes(head[32..36].try_into().ok()?);
            let crc = u32::from_le_bytes(head[36..].try_into().ok()?);
            let end = at + RECORD_HEAD + u64::from(len);
            if end > size {
                return None;
            }
            if key != NO_KEY {
                index.insert(key, (at + RECORD_HEAD, len, crc));
            }
            input.seek_relative(i64::from(len)).ok()?;
            at = end;
        }
        drop(input);
        file.seek(SeekFrom::Start(0)).ok()?;
        Some(CompileCache {
            store: Some(Arc::new(Store {
                file,
                end: AtomicU64::new(size),
                path: std::sync::Mutex::new(None),
            })),
            index,
        })
    }

    /// The record of `key`, where it is in the file, with its summary and
    /// columns. `None` when there is none or it does not decode.
    pub fn reuse(&self, key: &Key) -> Option<(Summary, Stored, PackedColumns)> {
        let &(offset, len, crc) = self.index.get(key)?;
        let store = self.store.as_ref()?;
        let bytes = store.read(offset, len).ok()?;
        if crc32fast::hash(&bytes) != crc {
            return None;
        }
        // The SQL stays in the file until it is read.
        let [summary, _, columns] = Record::parts(&bytes)?;
        let summary = postcard::from_bytes(summary).ok()?;
        let columns = postcard::from_bytes(columns).ok()?;
        let stored = Stored {
            store: Arc::clone(store),
            offset,
            len,
        };
        Some((summary, stored, columns))
    }

    /// How many reusable records the file holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the file holds no reusable record.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// Where the cache of `project` lives.
pub fn path(project: &Project) -> PathBuf {
    project.target_dir().join(CACHE_FILE)
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn write_at(file: &File, mut bytes: &[u8], mut at: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !bytes.is_empty() {
        let n = file.seek_write(bytes, at)?;
        bytes = &bytes[n..];
        at += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        at += n as u64;
    }
    Ok(())
}

/// The store of the models compiled anew, created on first use: a compile
/// that reuses every model writes no store and keeps the cache file as it is.
pub struct LazyStore {
    /// The target folder, when the store is to become the cache file.
    dir: Option<PathBuf>,
    fingerprint: Key,
    cell: OnceLock<Result<Arc<Store>, String>>,
}

impl LazyStore {
    /// A store to be created in `dir` (the target folder, when it is to
    /// become the cache file; else a temporary file) under `fingerprint`.
    pub fn new(dir: Option<PathBuf>, fingerprint: Key) -> Self {
        LazyStore {
            dir,
            fingerprint,
            cell: OnceLock::new(),
        }
    }

    /// The store, created on the first call.
    pub fn get(&self) -> Result<&Arc<Store>, Diagnostic> {
        self.cell
            .get_or_init(|| {
                Store::create(self.dir.as_deref(), &self.fingerprint)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| {
                Diagnostic::error(codes::WRITE_FAILED, format!("cannot create the model store: {e}"))
                    .with_help("check that the target folder (or the temporary folder) is writable and the disk is not full")
            })
    }

    /// The store, if a model was compiled anew.
    pub fn created(&self) -> Option<&Arc<Store>> {
        self.cell.get().and_then(|r| r.as_ref().ok())
    }
}

/// The error of a failed write to the model store.
pub fn store_error(e: &std::io::Error) -> Diagnostic {
    Diagnostic::error(
        codes::WRITE_FAILED,
        format!("cannot write the model store: {e}"),
    )
    .with_help("check that the target folder is writable and the disk is not full")
}

/// Turns the store of this compile into the cache file `path`: the records
/// of the reused models (each `(key, stored)` of `reusable` the store does
/// not hold yet) are copied in first.
pub fn persist_cache<'a>(
    store: &Arc<Store>,
    reusable: impl IntoIterator<Item = (&'a Key, &'a Stored)>,
    path: &Path,
) -> Result<(), Diagnostic> {
    for (key, stored) in reusable {
        if !store.holds(stored) {
            store.copy(key, stored).map_err(|e| store_error(&e))?;
        }
    }
    store.persist(path).map_err(|e| {
        Diagnostic::error(
            codes::WRITE_FAILED,
            format!("cannot write {}: {e}", path.display()),
        )
        .with_help("check that the target folder is writable and the disk is not full")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sql: &str) -> Record {
        Record {
            summary: Summary {
                relation: ("DB".into(), "S".into(), "m".into()),
                config: "{\"materialized\":\"table\"}".into(),
                depends_on: vec!["up".into()],
                relations: vec!["DB.S.T".into()],
                columns_unresolved: None,
                disabled: false,
                dynamic_refs: vec![("up".into(), [3; 32])],
                warnings: vec![CachedWarning::new(
                    &Diagnostic::warning(codes::UNMATCHED_KEY, "a warning")
                        .with_help("its help")
                        .with_note("its note"),
                )],
            },
            sql: CompactText::new(sql),
            columns: PackedColumns::default(),
        }
    }

    #[test]
    fn records_round_trip_through_a_cache_file() {
        let dir = tempfile::tempdir().unwrap();
        let fp = [7u8; 32];
        let store = Arc::new(Store::create(Some(dir.path()), &fp).unwrap());
        let a = store.append(Some(&[1; 32]), &record("select 1")).unwrap();
        let b = store.append(None, &record("select 2")).unwrap();
        assert_eq!(a.sql().unwrap(), "select 1");
        assert_eq!(b.sql().unwrap(), "select 2");
        let path = dir.path().join(CACHE_FILE);
        store.persist(&path).unwrap();
        assert_eq!(a.sql().unwrap(), "select 1", "readable after persisting");

        let cache = CompileCache::open(&path, &fp);
        assert_eq!(cache.len(), 1, "records without a key are not indexed");
        let (summary, stored, _) = cache.reuse(&[1; 32]).unwrap();
        assert_eq!(summary, record("").summary);
        assert_eq!(stored.sql().unwrap(), "select 1");
        assert!(cache.reuse(&[2; 32]).is_none());
        let next = Arc::new(Store::create(None, &fp).unwrap());
        let copied = next.copy(&[1; 32], &stored).unwrap();
        assert!(next.holds(&copied) && !next.holds(&stored));
        assert_eq!(copied.sql().unwrap(), "select 1");

        // Another fingerprint, or a damaged file: an empty cache.
        assert!(CompileCache::open(&path, &[8; 32]).is_empty());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        assert!(CompileCache::open(&path, &fp).is_empty());
        std::fs::write(&path, b"not a cache").unwrap();
        assert!(CompileCache::open(&path, &fp).is_empty());
    }

    #[test]
    fn a_record_that_does_not_decode_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let fp = [7u8; 32];
        let path = dir.path().join(CACHE_FILE);
        let store = Arc::new(Store::create(Some(dir.path()), &fp).unwrap());
        store
            .append_bytes(Some(&[1; 32]), b"\x03\0\0\0abc")
            .unwrap();
        // A record whose bytes changed after it was written.
        let flipped = store.append(Some(&[2; 32]), &record("select 2")).unwrap();
        let mut byte = [0u8];
        read_at(&store.file, &mut byte, flipped.offset + 20).unwrap();
        write_at(&store.file, &[byte[0] ^ 1], flipped.offset + 20).unwrap();
        assert_eq!(flipped.sql(), None, "reads check the CRC too");
        store.persist(&path).unwrap();
        let cache = CompileCache::open(&path, &fp);
        assert_eq!(cache.len(), 2);
        assert!(cache.reuse(&[1; 32]).is_none());
        assert!(cache.reuse(&[2; 32]).is_none());
    }
}
