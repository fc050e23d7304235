//! The advisory store: one snapshot file of normalised records plus the
//! prebuilt index, replaced atomically on every import.
//!
//! The design decision: a scan needs the records of a few thousand packages
//! out of hundreds of thousands of advisories, so opening the store reads
//! only a compact binary *index* (ids with record offsets, package keys with
//! the entries filed under them, aliases) and records are read on demand
//! with positioned reads. Opening therefore costs about the index's size,
//! not the store's, and memory holds only the index and what a scan touches.
//!
//! File layout (`<dir>/store.v1`; integers little-endian):
//!
//! ```text
//! magic "PALISADE-OSV\0\0\0\x01" (16 bytes)
//! u64 meta length,    meta JSON        (StoreMeta: counts, import history)
//! u64 index length,   index            (binary, below)
//! records                              (one compact JSON Advisory each)
//! ```
//!
//! Index: `u32 n`, then per record sorted by id: `str id, u64 offset,
//! u32 length, u8 flags (1 = withdrawn)`; `u32 k`, then per package key
//! sorted: `str ecosystem, str name, u32 m`, then per entry `u32 record,
//! u32 affected index, str release` (empty = none); `u32 a`, then per alias
//! sorted: `str alias, u32 record`. A `str` is `u32 length` + UTF-8 bytes.
//! Withdrawn records are not filed under package keys.
//!
//! Writes go to a temporary file in the same directory, are flushed to disk,
//! and are renamed over the old snapshot, so an interrupted import leaves the
//! previous store intact. Import is idempotent: upsert by id, and a record
//! replaces the stored one only when its `modified` time is newer.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use palisade_versions::Ecosystem;
use serde::{Deserialize, Serialize};

use crate::matcher::{Matcher, PackageKey};
use crate::osv::{self, Advisory, RecordWarning};
use crate::source::{Source, SourceError, SourceItem};

/// The snapshot's file name inside the store directory.
pub const STORE_FILE: &str = "store.v1";
const MAGIC: &[u8; 16] = b"PALISADE-OSV\0\0\0\x01";
/// The largest meta section or index accepted when opening.
const MAX_SECTION: u64 = 4 * 1024 * 1024 * 1024;
/// How many past imports the meta keeps.
const HISTORY: usize = 50;

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O error on the store's files.
    #[error("advisory store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The snapshot is damaged or of an unknown format.
    #[error("advisory store {path} is damaged: {reason}; re-import or run `palisade db sync`")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// What the store knows about itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreMeta {
    /// When the snapshot was written (RFC 3339).
    pub written_at: String,
    /// How many records it holds.
    pub advisories: usize,
    /// How many of them are withdrawn.
    pub withdrawn: usize,
    /// Records per ecosystem (by the ecosystem names of their entries,
    /// without release).
    pub by_ecosystem: BTreeMap<String, usize>,
    /// The newest `modified` time of any record.
    pub newest_modified: Option<String>,
    /// The most recent imports, newest last.
    pub imports: Vec<ImportSummary>,
}

/// One past import.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// When it ran (RFC 3339).
    pub at: String,
    /// What was imported.
    pub sources: Vec<String>,
    /// Its counts.
    pub counts: ImportCounts,
}

/// Counts of an import.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Records whose id was not in the store.
    pub new: usize,
    /// Records that replaced an older version.
    pub updated: usize,
    /// Records identical in `modified` to the stored version.
    pub unchanged: usize,
    /// Records older than the stored version (kept the stored one).
    pub older: usize,
    /// Imported (new or updated) records that are withdrawn.
    pub withdrawn: usize,
    /// Records rejected.
    pub rejected: usize,
}

/// A rejected record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Where it came from (file, `archive.zip!entry`, `file.json[3]`).
    pub origin: String,
    /// The JSON path in the record (`$` for the whole).
    pub path: String,
    /// Why.
    pub reason: String,
}

/// A warning about an accepted record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportWarning {
    /// Where it came from.
    pub origin: String,
    /// The record id.
    pub id: String,
    /// The warning.
    pub warning: RecordWarning,
}

/// The result of an import.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The counts.
    pub counts: ImportCounts,
    /// Every rejected record, with its origin, path and reason.
    pub rejected: Vec<Rejection>,
    /// Warnings about accepted records.
    pub warnings: Vec<ImportWarning>,
    /// How many records the store holds afterwards.
    pub total: usize,
}

#[derive(Clone, Debug)]
struct RecordSlot {
    id: String,
    offset: u64,
    len: u32,
    withdrawn: bool,
}

#[derive(Clone, Debug)]
struct KeyEntry {
    record: u32,
    affected: u32,
    release: Option<String>,
}

/// The opened store.
#[derive(Debug)]
pub struct AdvisoryStore {
    dir: PathBuf,
    file: Option<Mutex<File>>,
    records_start: u64,
    meta: StoreMeta,
    records: Vec<RecordSlot>,
    keys: BTreeMap<(Ecosystem, String), Vec<KeyEntry>>,
    aliases: Vec<(String, u32)>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl AdvisoryStore {
    /// Opens the store in `dir` (created if missing); an absent snapshot is
    /// an empty store.
    pub fn open(dir: &Path) -> Result<AdvisoryStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join(STORE_FILE);
        let mut store = AdvisoryStore {
            dir: dir.to_owned(),
            file: None,
            records_start: 0,
            meta: StoreMeta::default(),
            records: Vec::new(),
            keys: BTreeMap::new(),
            aliases: Vec::new(),
        };
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(store),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            path: path.clone(),
            reason,
        };
        let file_len = file.metadata().map_err(io_err(&path))?.len();
        let mut magic = [0u8; 16];
        file.read_exact(&mut magic)
            .map_err(|_| corrupt("too short for a header".into()))?;
        if &magic != MAGIC {
            return Err(corrupt(
                "unknown header (not a Palisade store, or another format version)".into(),
            ));
        }
        let meta_bytes = read_section(&mut file, file_len, &path)?;
        store.meta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| corrupt(format!("meta section: {e}")))?;
        let index = read_section(&mut file, file_len, &path)?;
        store.records_start = 16 + 8 + meta_bytes.len() as u64 + 8 + index.len() as u64;
        let records_len = file_len - store.records_start;
        decode_index(&index, records_len, &mut store).map_err(corrupt)?;
        store.file = Some(Mutex::new(file));
        Ok(store)
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the store knows about itself.
    pub fn meta(&self) -> &StoreMeta {
        &self.meta
    }

    /// How many records are stored (withdrawn ones included).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Every stored id, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.records.iter().map(|r| r.id.as_str())
    }

    /// How many package keys are indexed.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    fn read_record(&self, slot: &RecordSlot) -> Result<Advisory, StoreError> {
        let path = self.dir.join(STORE_FILE);
        let Some(file) = &self.file else {
            return Err(StoreError::Corrupt {
                path,
                reason: "no snapshot is open".into(),
            });
        };
        let mut buf = vec![0u8; slot.len as usize];
        {
            let mut f = file.lock().map_err(|_| StoreError::Corrupt {
                path: path.clone(),
                reason: "a reader panicked while holding the file".into(),
            })?;
            f.seek(SeekFrom::Start(self.records_start + slot.offset))
                .map_err(io_err(&path))?;
            f.read_exact(&mut buf).map_err(io_err(&path))?;
        }
        serde_json::from_slice(&buf).map_err(|e| StoreError::Corrupt {
            path,
            reason: format!("record {}: {e}", slot.id),
        })
    }

    /// The record with this id, or the record one of whose aliases it is
    /// (the first such by id), if any.
    pub fn get(&self, id: &str) -> Result<Option<Advisory>, StoreError> {
        if let Ok(i) = self.records.binary_search_by(|r| r.id.as_str().cmp(id)) {
            return self.records.get(i).map(|s| self.read_record(s)).transpose();
        }
        let i = self.aliases.partition_point(|(a, _)| a.as_str() < id);
        match self.aliases.get(i) {
            Some((a, r)) if a == id => self
                .records
                .get(*r as usize)
                .map(|s| self.read_record(s))
                .transpose(),
            _ => Ok(None),
        }
    }

    /// Every record, in id order.
    pub fn iter(&self) -> impl Iterator<Item = Result<Advisory, StoreError>> + '_ {
        self.records.iter().map(|s| self.read_record(s))
    }

    /// The package keys an advisory touches (the reverse index): what the
    /// server re-matches when the advisory changes.
    pub fn package_keys(&self, id: &str) -> Result<Vec<PackageKey>, StoreError> {
        Ok(match self.get(id)? {
            Some(a) => a
                .affected
                .iter()
                .filter_map(PackageKey::of)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            None => Vec::new(),
        })
    }

    /// The (advisory id, `affected[]` index) pairs filed under a package
    /// key. A key without a release matches entries of every release; a key
    /// with one matches entries of that release and entries without one.
    pub fn entries_for(&self, key: &PackageKey) -> Vec<(&str, usize)> {
        self.keys
            .get(&(key.ecosystem, key.name.clone()))
            .into_iter()
            .flatten()
            .filter(|e| match (&e.release, &key.release) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
            .filter_map(|e| {
                self.records
                    .get(e.record as usize)
                    .map(|r| (r.id.as_str(), e.affected as usize))
            })
            .collect()
    }

    /// A matcher over every non-withdrawn record.
    pub fn matcher(&self) -> Result<Matcher, StoreError> {
        let mut all = Vec::with_capacity(self.records.len());
        for (i, slot) in self.records.iter().enumerate() {
            if !slot.withdrawn {
                all.push(i);
            }
        }
        self.matcher_of(all)
    }

    /// A matcher over only the records filed under the given (ecosystem,
    /// normalised name) keys: what a scan of those packages needs.
    pub fn matcher_for<'a>(
        &self,
        keys: impl IntoIterator<Item = (Ecosystem, &'a str)>,
    ) -> Result<Matcher, StoreError> {
        let mut wanted = BTreeSet::new();
        for (eco, name) in keys {
            if let Some(entries) = self.keys.get(&(eco, name.to_owned())) {
                wanted.extend(entries.iter().map(|e| e.record as usize));
            }
        }
        self.matcher_of(wanted.into_iter().collect())
    }

    fn matcher_of(&self, mut records: Vec<usize>) -> Result<Matcher, StoreError> {
        // Read in file order.
        records.sort_by_key(|i| self.records.get(*i).map(|s| s.offset));
        let mut advisories = Vec::with_capacity(records.len());
        for i in records {
            if let Some(slot) = self.records.get(i) {
                advisories.push(self.read_record(slot)?);
            }
        }
        advisories.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Matcher::new(advisories))
    }

    /// Imports sources. Every record is parsed and checked; bad records are
    /// rejected with their origin and JSON path and the rest go on. The new
    /// snapshot replaces the old one atomically when every source was read;
    /// if a source cannot be read at all, nothing is written.
    pub fn import(
        &mut self,
        sources: &[Source],
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, StoreError> {
        let mut records: BTreeMap<String, Advisory> = BTreeMap::new();
        for a in self.iter() {
            let a = a?;
            records.insert(a.id.clone(), a);
        }
        let mut report = ImportReport::default();
        let mut done = 0u64;
        let mut seen_new: HashSet<String> = HashSet::new();
        for source in sources {
            source.for_each(|item| {
                done += 1;
                progress(done);
                apply(item, &mut records, &mut report, &mut seen_new);
            })?;
        }
        report.total = records.len();
        let mut meta = self.meta.clone();
        meta.imports.push(ImportSummary {
            at: now_rfc3339(),
            sources: sources.iter().map(Source::label).collect(),
            counts: report.counts,
        });
        let excess = meta.imports.len().saturating_sub(HISTORY);
        meta.imports.drain(..excess);
        write_snapshot(&self.dir, records.values(), meta)?;
        *self = AdvisoryStore::open(&self.dir)?;
        Ok(report)
    }
}

fn apply(
    item: SourceItem,
    records: &mut BTreeMap<String, Advisory>,
    report: &mut ImportReport,
    seen_new: &mut HashSet<String>,
) {
    let bytes = match item.bytes {
        Ok(b) => b,
        Err(reason) => {
            report.counts.rejected += 1;
            report.rejected.push(Rejection {
                origin: item.origin,
                path: "$".into(),
                reason,
            });
            return;
        }
    };
    let parsed = match osv::parse_record(&bytes) {
        Ok(p) => p,
        Err(e) => {
            report.counts.rejected += 1;
            report.rejected.push(Rejection {
                origin: item.origin,
                path: e.path,
                reason: e.reason,
            });
            return;
        }
    };
    let adv = parsed.advisory;
    for w in parsed.warnings {
        report.warnings.push(ImportWarning {
            origin: item.origin.clone(),
            id: adv.id.clone(),
            warning: w,
        });
    }
    let withdrawn = adv.is_withdrawn();
    match records.get(&adv.id) {
        None => {
            report.counts.new += 1;
            report.counts.withdrawn += usize::from(withdrawn);
            seen_new.insert(adv.id.clone());
            records.insert(adv.id.clone(), adv);
        }
        Some(old) => {
            let (new_t, old_t) = (adv.modified_time(), old.modified_time());
            match new_t.cmp(&old_t) {
                std::cmp::Ordering::Greater => {
                    // A record new to the store seen twice in one import stays "new".
                    if !seen_new.contains(&adv.id) {
                        report.counts.updated += 1;
                    }
                    report.counts.withdrawn += usize::from(withdrawn);
                    records.insert(adv.id.clone(), adv);
                }
                std::cmp::Ordering::Equal => report.counts.unchanged += 1,
                std::cmp::Ordering::Less => report.counts.older += 1,
            }
        }
    }
}

fn read_section(file: &mut File, file_len: u64, path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(|_| StoreError::Corrupt {
        path: path.to_owned(),
        reason: "truncated section header".into(),
    })?;
    let len = u64::from_le_bytes(len);
    if len > MAX_SECTION || len > file_len {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            reason: format!("section length {len} exceeds the file"),
        });
    }
    let mut buf = vec![0u8; len as usize];
    file.read_exact(&mut buf).map_err(|_| StoreError::Corrupt {
        path: path.to_owned(),
        reason: "truncated section".into(),
    })?;
    Ok(buf)
}

// ---------------------------------------------------------------------------
// The binary index.
// ---------------------------------------------------------------------------

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, u32::try_from(s.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).ok_or("index overflow")?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| format!("index truncated at byte {}", self.pos))?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, String> {
        self.take(1)?
            .first()
            .copied()
            .ok_or_else(|| "index truncated".to_owned())
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| "index truncated")?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| "index truncated")?;
        Ok(u64::from_le_bytes(b))
    }

    fn str(&mut self) -> Result<&'a str, String> {
        let n = self.u32()? as usize;
        let pos = self.pos;
        std::str::from_utf8(self.take(n)?).map_err(|_| format!("invalid UTF-8 at byte {pos}"))
    }

    /// A count, checked against the bytes left (each item takes at least `min` bytes).
    fn count(&mut self, min: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.buf.len().saturating_sub(self.pos) {
            return Err(format!("count {n} at byte {} exceeds the index", self.pos));
        }
        Ok(n)
    }
}

fn decode_index(buf: &[u8], records_len: u64, store: &mut AdvisoryStore) -> Result<(), String> {
    let mut r = Reader { buf, pos: 0 };
    let n = r.count(17)?;
    store.records.reserve(n);
    for _ in 0..n {
        let id = r.str()?.to_owned();
        let offset = r.u64()?;
        let len = r.u32()?;
        let withdrawn = r.u8()? & 1 == 1;
        if offset.saturating_add(u64::from(len)) > records_len {
            return Err(format!("record {id} lies beyond the end of the file"));
        }
        if store.records.last().is_some_and(|l| l.id >= id) {
            return Err(format!("record ids are not sorted at {id}"));
        }
        store.records.push(RecordSlot {
            id,
            offset,
            len,
            withdrawn,
        });
    }
    let k = r.count(12)?;
    for _ in 0..k {
        let eco = r.str()?;
        let eco =
            Ecosystem::from_osv_name(eco).ok_or_else(|| format!("unknown ecosystem {eco:?}"))?;
        let name = r.str()?.to_owned();
        let m = r.count(12)?;
        let mut entries = Vec::with_capacity(m);
        for _ in 0..m {
            let record = r.u32()?;
            if record as usize >= n {
                return Err(format!("entry points at record {record} of {n}"));
            }
            let affected = r.u32()?;
            let release = r.str()?;
            entries.push(KeyEntry {
                record,
                affected,
                release: (!release.is_empty()).then(|| release.to_owned()),
            });
        }
        store.keys.insert((eco, name), entries);
    }
    let a = r.count(8)?;
    store.aliases.reserve(a);
    for _ in 0..a {
        let alias = r.str()?.to_owned();
        let record = r.u32()?;
        if record as usize >= n {
            return Err(format!("alias points at record {record} of {n}"));
        }
        store.aliases.push((alias, record));
    }
    if r.pos != buf.len() {
        return Err(format!(
            "{} unexpected bytes after the index",
            buf.len() - r.pos
        ));
    }
    Ok(())
}

/// An index entry being written: record, `affected[]` index, release.
type EntryRow = (u32, u32, String);

/// Writes a snapshot of `records` (sorted by id) atomically into `dir`.
fn write_snapshot<'a>(
    dir: &Path,
    records: impl Iterator<Item = &'a Advisory>,
    mut meta: StoreMeta,
) -> Result<(), StoreError> {
    let mut blob = Vec::new();
    let mut slots = Vec::new();
    let mut keys: BTreeMap<(&'static str, String), Vec<EntryRow>> = BTreeMap::new();
    let mut aliases: Vec<(String, u32)> = Vec::new();
    let mut by_ecosystem: BTreeMap<String, usize> = BTreeMap::new();
    let mut newest: Option<(time::OffsetDateTime, String)> = None;
    let mut withdrawn = 0;
    for (i, a) in records.enumerate() {
        let index = u32::try_from(i).map_err(|_| StoreError::Corrupt {
            path: dir.to_owned(),
            reason: "more than 2^32 records".into(),
        })?;
        let json = serde_json::to_vec(a).map_err(|e| StoreError::Corrupt {
            path: dir.to_owned(),
            reason: format!("cannot encode {}: {e}", a.id),
        })?;
        slots.push((
            a.id.clone(),
            blob.len() as u64,
            json.len() as u32,
            a.is_withdrawn(),
        ));
        blob.extend_from_slice(&json);
        withdrawn += usize::from(a.is_withdrawn());
        if let Some(t) = a.modified_time()
            && newest.as_ref().is_none_or(|(n, _)| t > *n)
        {
            newest = Some((t, a.modified.clone()));
        }
        let mut ecos = BTreeSet::new();
        for (j, aff) in a.affected.iter().enumerate() {
            let Some(key) = PackageKey::of(aff) else {
                continue;
            };
            ecos.insert(key.ecosystem.as_str());
            if a.is_withdrawn() {
                continue;
            }
            keys.entry((key.ecosystem.as_str(), key.name))
                .or_default()
                .push((index, j as u32, key.release.unwrap_or_default()));
        }
        for e in ecos {
            *by_ecosystem.entry(e.to_owned()).or_default() += 1;
        }
        for alias in &a.aliases {
            aliases.push((alias.clone(), index));
        }
    }
    aliases.sort();
    aliases.dedup_by(|a, b| a.0 == b.0);

    let mut index = Vec::new();
    put_u32(&mut index, slots.len() as u32);
    for (id, offset, len, w) in &slots {
        put_str(&mut index, id);
        index.extend_from_slice(&offset.to_le_bytes());
        put_u32(&mut index, *len);
        index.push(u8::from(*w));
    }
    put_u32(&mut index, keys.len() as u32);
    for ((eco, name), entries) in &keys {
        put_str(&mut index, eco);
        put_str(&mut index, name);
        put_u32(&mut index, entries.len() as u32);
        for (record, affected, release) in entries {
            put_u32(&mut index, *record);
            put_u32(&mut index, *affected);
            put_str(&mut index, release);
        }
    }
    put_u32(&mut index, aliases.len() as u32);
    for (alias, record) in &aliases {
        put_str(&mut index, alias);
        put_u32(&mut index, *record);
    }

    meta.written_at = now_rfc3339();
    meta.advisories = slots.len();
    meta.withdrawn = withdrawn;
    meta.by_ecosystem = by_ecosystem;
    meta.newest_modified = newest.map(|(_, s)| s);
    let meta_json = serde_json::to_vec(&meta).map_err(|e| StoreError::Corrupt {
        path: dir.to_owned(),
        reason: format!("cannot encode meta: {e}"),
    })?;

    let final_path = dir.join(STORE_FILE);
    let tmp = tempfile::Builder::new()
        .prefix(".store.v1.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        let werr = io_err(tmp.path());
        (|| -> std::io::Result<()> {
            w.write_all(MAGIC)?;
            w.write_all(&(meta_json.len() as u64).to_le_bytes())?;
            w.write_all(&meta_json)?;
            w.write_all(&(index.len() as u64).to_le_bytes())?;
            w.write_all(&index)?;
            w.write_all(&blob)?;
            w.flush()
        })()
        .map_err(werr)?;
    }
    tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
    tmp.persist(&final_path).map_err(|e| StoreError::Io {
        path: final_path.clone(),
        source: e.error,
    })?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec(id: &str, modified: &str, extra: &str) -> String {
        format!(
            r#"{{"id":"{id}","modified":"{modified}","aliases":["CVE-{id}"],"affected":[{{"package":{{"ecosystem":"npm","name":"Pkg-{id}"}},"versions":["1.0.0"]}}]{extra}}}"#
        )
    }

    fn write_dir(dir: &Path, files: &[(&str, String)]) -> Source {
        std::fs::create_dir_all(dir).unwrap();
        for (name, body) in files {
            std::fs::write(dir.join(name), body).unwrap();
        }
        Source::open(dir).unwrap()
    }

    #[test]
    fn import_is_idempotent_and_newer_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let store_dir = tmp.path().join("store");
        let mut store = AdvisoryStore::open(&store_dir).unwrap();
        assert!(store.is_empty());
        let src = write_dir(
            &tmp.path().join("a"),
            &[
                ("A.json", rec("A", "2024-01-01T00:00:00Z", "")),
                ("B.json", rec("B", "2024-01-01T00:00:00Z", "")),
                ("bad.json", r#"{"id": 1}"#.to_owned()),
            ],
        );
        let r = store.import(&[src], &mut |_| {}).unwrap();
        assert_eq!((r.counts.new, r.counts.rejected, r.total), (2, 1, 2));
        assert_eq!(r.rejected[0].path, "id");
        assert!(r.rejected[0].origin.ends_with("bad.json"));

        // Same data again: unchanged.
        let src = Source::open(&tmp.path().join("a")).unwrap();
        let r = store.import(&[src], &mut |_| {}).unwrap();
        assert_eq!((r.counts.new, r.counts.unchanged), (0, 2));

        // A newer A (withdrawn), an older B.
        let src = write_dir(
            &tmp.path().join("b"),
            &[
                (
                    "A.json",
                    rec(
                        "A",
                        "2024-02-01T00:00:00+01:00",
                        r#","withdrawn":"2024-02-01T00:00:00Z""#,
                    ),
                ),
                ("B.json", rec("B", "2023-12-31T23:59:59Z", "")),
            ],
        );
        let r = store.import(&[src], &mut |_| {}).unwrap();
        assert_eq!(
            (r.counts.updated, r.counts.withdrawn, r.counts.older),
            (1, 1, 1)
        );
        let reopened = AdvisoryStore::open(&store_dir).unwrap();
        assert_eq!(reopened.len(), 2);
        assert!(reopened.get("A").unwrap().unwrap().is_withdrawn());
        assert_eq!(reopened.get("CVE-B").unwrap().unwrap().id, "B");
        assert_eq!(reopened.get("nope").unwrap(), None);
        assert_eq!(reopened.meta().withdrawn, 1);
        assert_eq!(reopened.meta().imports.len(), 3);
        // The withdrawn record is not filed under its package.
        assert!(
            !reopened
                .keys
                .contains_key(&(Ecosystem::Npm, "pkg-a".into()))
        );
        let keys = reopened.package_keys("B").unwrap();
        assert_eq!(keys[0].to_string(), "npm/pkg-b");
        assert_eq!(reopened.entries_for(&keys[0]), vec![("B", 0)]);
        let m = reopened.matcher_for([(Ecosystem::Npm, "pkg-b")]).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(reopened.matcher().unwrap().len(), 1);
    }

    #[test]
    fn a_failed_import_leaves_the_store_intact() {
        let tmp = tempfile::tempdir().unwrap();
        let store_dir = tmp.path().join("store");
        let mut store = AdvisoryStore::open(&store_dir).unwrap();
        let src = write_dir(
            &tmp.path().join("a"),
            &[("A.json", rec("A", "2024-01-01T00:00:00Z", ""))],
        );
        store.import(&[src], &mut |_| {}).unwrap();
        let before = std::fs::read(store_dir.join(STORE_FILE)).unwrap();
        let bad_zip = tmp.path().join("x.zip");
        std::fs::write(&bad_zip, b"PK\x03\x04 not really").unwrap();
        let good = Source::open(&tmp.path().join("a")).unwrap();
        let err = store
            .import(&[good, Source::open(&bad_zip).unwrap()], &mut |_| {})
            .unwrap_err();
        assert!(matches!(err, StoreError::Source(_)), "{err}");
        assert_eq!(std::fs::read(store_dir.join(STORE_FILE)).unwrap(), before);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&store_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(STORE_FILE)]);
    }

    #[test]
    fn damaged_snapshots_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(STORE_FILE), b"garbage").unwrap();
        let e = AdvisoryStore::open(tmp.path()).unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        let mut s = MAGIC.to_vec();
        s.extend_from_slice(&u64::MAX.to_le_bytes());
        std::fs::write(tmp.path().join(STORE_FILE), &s).unwrap();
        let e = AdvisoryStore::open(tmp.path()).unwrap_err();
        assert!(e.to_string().contains("section length"), "{e}");
    }

    use proptest::prelude::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Whatever the order records arrive in, the newest version of each
        /// id is what the store keeps.
        #[test]
        fn import_order_does_not_matter(order in Just((0..6usize).collect::<Vec<_>>()).prop_shuffle()) {
            let tmp = tempfile::tempdir().unwrap();
            let mut store = AdvisoryStore::open(&tmp.path().join("s")).unwrap();
            let mut files = Vec::new();
            for i in order {
                let id = if i % 2 == 0 { "A" } else { "B" };
                let day = i + 1;
                files.push((format!("{i}.json"), rec(id, &format!("2024-01-0{day}T00:00:00Z"), "")));
            }
            let mut sources = Vec::new();
            for (n, (name, body)) in files.iter().enumerate() {
                let d = tmp.path().join(format!("src{n}"));
                sources.push(write_dir(&d, &[(name.as_str(), body.clone())]));
            }
            store.import(&sources, &mut |_| {}).unwrap();
            prop_assert_eq!(store.get("A").unwrap().unwrap().modified, "2024-01-05T00:00:00Z");
            prop_assert_eq!(store.get("B").unwrap().unwrap().modified, "2024-01-06T00:00:00Z");
        }
    }
}
