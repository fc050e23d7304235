//! Where OSV records come from: a JSON file (one record, or an array of
//! records), a directory tree of JSON files, or a zip archive (osv.dev's
//! per-ecosystem `all.zip` export holds one `ID.json` per record).
//!
//! The design decision: a source is flattened into a stream of
//! [`SourceItem`]s, each the bytes of one record and its *origin* (the file
//! path, the zip entry, or the array index), so that the import names where a
//! rejected record came from and never holds more than one record's bytes
//! beyond the one being parsed. Every read is bounded: a zip entry's declared
//! size is checked before reading and the read itself is capped, so a lying
//! header cannot exhaust memory.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::value::RawValue;

use crate::osv::MAX_RECORD_BYTES;

/// The largest JSON array file accepted (it is parsed as a whole).
pub const MAX_ARRAY_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The most entries a zip archive may have.
pub const MAX_ZIP_ENTRIES: usize = 5_000_000;

/// Why a source could not be read at all (as opposed to one bad record).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The zip archive is damaged.
    #[error("cannot read zip archive {path}: {reason}")]
    Zip {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A limit was crossed.
    #[error("{path}: {reason}")]
    Limit {
        /// The file.
        path: PathBuf,
        /// Which limit.
        reason: String,
    },
}

/// The bytes of one record and where they came from, or why they could not
/// be read.
#[derive(Debug)]
pub struct SourceItem {
    /// The file, `archive.zip!entry.json`, or `file.json[3]`.
    pub origin: String,
    /// The record's bytes, or why it could not be read (too large...).
    pub bytes: Result<Vec<u8>, String>,
}

/// An opened source.
#[derive(Debug)]
pub enum Source {
    /// One JSON file.
    File(PathBuf),
    /// A directory tree: every `*.json` file under it, in path order.
    Dir {
        /// The root.
        root: PathBuf,
        /// The files found.
        files: Vec<PathBuf>,
    },
    /// A zip archive.
    Zip(PathBuf),
}

impl Source {
    /// Opens `path`: a directory, a zip archive (by its magic bytes), or a
    /// JSON file.
    pub fn open(path: &Path) -> Result<Source, SourceError> {
        let io = |source| SourceError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files, 0)?;
            files.sort();
            return Ok(Source::Dir {
                root: path.to_owned(),
                files,
            });
        }
        let mut magic = [0u8; 4];
        let mut f = File::open(path).map_err(io)?;
        let n = f.read(&mut magic).map_err(io)?;
        if n == 4 && &magic == b"PK\x03\x04" {
            return Ok(Source::Zip(path.to_owned()));
        }
        Ok(Source::File(path.to_owned()))
    }

    /// How many items the source will yield, when known up front.
    pub fn len_hint(&self) -> Option<u64> {
        match self {
            Source::File(_) => None,
            Source::Dir { files, .. } => Some(files.len() as u64),
            Source::Zip(path) => File::open(path)
                .ok()
                .and_then(|f| zip::ZipArchive::new(BufReader::new(f)).ok())
                .map(|z| z.len() as u64),
        }
    }

    /// A label for reports.
    pub fn label(&self) -> String {
        match self {
            Source::File(p) | Source::Zip(p) => p.display().to_string(),
            Source::Dir { root, .. } => root.display().to_string(),
        }
    }

    /// Calls `f` with every record of the source, in a stable order.
    pub fn for_each(&self, mut f: impl FnMut(SourceItem)) -> Result<(), SourceError> {
        match self {
            Source::File(path) => read_json_file(path, &mut f),
            Source::Dir { files, .. } => {
                for path in files {
                    read_json_file(path, &mut f)?;
                }
                Ok(())
            }
            Source::Zip(path) => read_zip(path, &mut f),
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), SourceError> {
    if depth > 32 {
        return Err(SourceError::Limit {
            path: dir.to_owned(),
            reason: "directory tree deeper than 32 levels".to_owned(),
        });
    }
    let io = |source| SourceError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            walk(&path, out, depth + 1)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_capped(r: impl Read, limit: usize) -> std::io::Result<Result<Vec<u8>, String>> {
    let mut buf = Vec::new();
    r.take(limit as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > limit {
        return Ok(Err(format!(
            "record is larger than {limit} bytes; not read further"
        )));
    }
    Ok(Ok(buf))
}

fn first_non_space(bytes: &[u8]) -> Option<u8> {
    bytes
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
}

fn read_json_file(path: &Path, f: &mut impl FnMut(SourceItem)) -> Result<(), SourceError> {
    let io = |source| SourceError::Io {
        path: path.to_owned(),
        source,
    };
    let origin = path.display().to_string();
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_RECORD_BYTES as u64 {
        // Only an array file may be this large.
        let mut head = [0u8; 64];
        let n = File::open(path)
            .and_then(|mut h| h.read(&mut head))
            .map_err(io)?;
        if first_non_space(head.get(..n).unwrap_or_default()) != Some(b'[') {
            f(SourceItem {
                origin,
                bytes: Err(format!(
                    "file is {len} bytes; a single record may be at most {MAX_RECORD_BYTES}"
                )),
            });
            return Ok(());
        }
        if len > MAX_ARRAY_FILE_BYTES {
            return Err(SourceError::Limit {
                path: path.to_owned(),
                reason: format!("array file is {len} bytes; at most {MAX_ARRAY_FILE_BYTES}"),
            });
        }
    }
    let bytes = std::fs::read(path).map_err(io)?;
    if first_non_space(&bytes) == Some(b'[') {
        return split_array(&origin, &bytes, f);
    }
    f(SourceItem {
        origin,
        bytes: Ok(bytes),
    });
    Ok(())
}

/// Splits a JSON array of records without parsing the records themselves.
fn split_array(
    origin: &str,
    bytes: &[u8],
    f: &mut impl FnMut(SourceItem),
) -> Result<(), SourceError> {
    // serde_json's own recursion limit bounds the nesting here; each record
    // is checked against the record limits when it is parsed.
    match serde_json::from_slice::<Vec<&RawValue>>(bytes) {
        Ok(items) => {
            for (i, raw) in items.into_iter().enumerate() {
                f(SourceItem {
                    origin: format!("{origin}[{i}]"),
                    bytes: Ok(raw.get().as_bytes().to_vec()),
                });
            }
        }
        Err(e) => f(SourceItem {
            origin: origin.to_owned(),
            bytes: Err(format!("not a JSON array of records: {e}")),
        }),
    }
    Ok(())
}

fn read_zip(path: &Path, f: &mut impl FnMut(SourceItem)) -> Result<(), SourceError> {
    let zerr = |e: zip::result::ZipError| SourceError::Zip {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let file = File::open(path).map_err(|source| SourceError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(zerr)?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(SourceError::Limit {
            path: path.to_owned(),
            reason: format!(
                "{} entries; at most {MAX_ZIP_ENTRIES} are accepted",
                archive.len()
            ),
        });
    }
    // Entries in name order, so that imports are deterministic.
    let mut names: Vec<(String, usize)> = (0..archive.len())
        .filter_map(|i| {
            archive
                .name_for_index(i)
                .and_then(Result::ok)
                .map(|n| (n.into_owned(), i))
        })
        .filter(|(n, _)| n.ends_with(".json"))
        .collect();
    names.sort();
    for (name, i) in names {
        let origin = format!("{}!{name}", path.display());
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                f(SourceItem {
                    origin,
                    bytes: Err(format!("cannot open entry: {e}")),
                });
                continue;
            }
        };
        if entry.size() > MAX_RECORD_BYTES as u64 {
            f(SourceItem {
                origin,
                bytes: Err(format!(
                    "entry is {} bytes; at most {MAX_RECORD_BYTES} are accepted",
                    entry.size()
                )),
            });
            continue;
        }
        let bytes = read_capped(&mut entry, MAX_RECORD_BYTES)
            .unwrap_or_else(|e| Err(format!("cannot decompress entry: {e}")));
        f(SourceItem { origin, bytes });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_arrays_dirs_and_zips() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        std::fs::write(&a, br#"[{"id":"A"}, {"id":"B"}]"#).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/c.json"), br#"{"id":"C"}"#).unwrap();
        std::fs::write(dir.path().join("sub/readme.txt"), b"x").unwrap();
        let mut seen = Vec::new();
        let src = Source::open(dir.path()).unwrap();
        assert_eq!(src.len_hint(), Some(2));
        src.for_each(|i| seen.push((i.origin, i.bytes.unwrap())))
            .unwrap();
        assert_eq!(seen.len(), 3);
        assert!(seen[0].0.ends_with("a.json[0]"));
        assert_eq!(seen[1].1, br#"{"id":"B"}"#);

        let z = dir.path().join("all.zip");
        let mut w = zip::ZipWriter::new(File::create(&z).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        w.start_file("B.json", opts).unwrap();
        w.write_all(br#"{"id":"B"}"#).unwrap();
        w.start_file("A.json", opts).unwrap();
        w.write_all(br#"{"id":"A"}"#).unwrap();
        w.finish().unwrap();
        let src = Source::open(&z).unwrap();
        assert!(matches!(src, Source::Zip(_)));
        let mut seen = Vec::new();
        src.for_each(|i| seen.push(i.origin)).unwrap();
        assert!(seen[0].ends_with("all.zip!A.json"), "{seen:?}");
    }

    #[test]
    fn missing_and_damaged_sources_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Source::open(&dir.path().join("nope")).is_err());
        let z = dir.path().join("bad.zip");
        std::fs::write(&z, b"PK\x03\x04garbage").unwrap();
        let src = Source::open(&z).unwrap();
        assert!(matches!(src.for_each(|_| {}), Err(SourceError::Zip { .. })));
        let j = dir.path().join("bad.json");
        std::fs::write(&j, b"[1, 2").unwrap();
        let mut seen = Vec::new();
        Source::open(&j)
            .unwrap()
            .for_each(|i| seen.push(i))
            .unwrap();
        assert!(
            seen[0]
                .bytes
                .as_ref()
                .unwrap_err()
                .contains("not a JSON array")
        );
    }
}
