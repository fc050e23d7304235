//! Reading bundles from disk: a directory, a `.tar.gz`, or a single `.rego` file.
//!
//! Design: this is the crate's only file-system edge, kept thin so that the
//! server can reuse it and everything else stays pure. Walking is
//! deterministic (sorted), hidden entries (names starting with `.`) are
//! skipped, symbolic links are refused rather than followed (a bundle must
//! not reach outside itself), and every limit of [`crate::bundle::limits`]
//! applies while reading, so a gzip bomb or a huge tree stops early with an
//! error instead of exhausting memory.

use std::io::Read;
use std::path::Path;

use crate::bundle::{Bundle, limits};
use crate::error::{PolicyError, Result};

fn io_err(path: &Path, source: std::io::Error) -> PolicyError {
    PolicyError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads a bundle from a directory, a `.tar.gz`/`.tgz` file, or one `.rego` file.
pub fn load(path: &Path) -> Result<Bundle> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| io_err(path, e))?;
    if meta.is_dir() {
        return load_dir(path);
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
        return read_tar_gz(file);
    }
    if name.ends_with(".rego") {
        let bytes = read_limited(path)?;
        return Bundle::from_files([(name, bytes)]);
    }
    Err(PolicyError::Bundle(format!(
        "{} is neither a directory, a .tar.gz bundle nor a .rego file",
        path.display()
    )))
}

fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut bytes = Vec::new();
    file.take(limits::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    if bytes.len() > limits::MAX_FILE_BYTES {
        return Err(PolicyError::Limit(format!(
            "{} is larger than {} bytes",
            path.display(),
            limits::MAX_FILE_BYTES
        )));
    }
    Ok(bytes)
}

/// Reads every non-hidden regular file under `root`.
pub fn load_dir(root: &Path) -> Result<Bundle> {
    let mut bundle = Bundle::new();
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, prefix, depth)) = stack.pop() {
        if depth > limits::MAX_PATH_DEPTH {
            return Err(PolicyError::Limit(format!(
                "{} is nested too deeply",
                dir.display()
            )));
        }
        let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(&dir)
            .map_err(|e| io_err(&dir, e))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| io_err(&dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(PolicyError::Bundle(format!(
                    "{}: file names must be UTF-8",
                    entry.path().display()
                )));
            };
            if name.starts_with('.') {
                continue;
            }
            let rel = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            let kind = entry.file_type().map_err(|e| io_err(&entry.path(), e))?;
            if kind.is_symlink() {
                return Err(PolicyError::Bundle(format!(
                    "{rel} is a symbolic link; bundles may not contain links"
                )));
            } else if kind.is_dir() {
                stack.push((entry.path(), rel, depth + 1));
            } else if kind.is_file() {
                bundle.insert(&rel, read_limited(&entry.path())?)?;
            }
        }
    }
    Ok(bundle)
}

/// Reads a gzip-compressed tar stream; directories are implied, links and
/// devices are refused, and hidden entries are skipped as in [`load_dir`].
pub fn read_tar_gz(reader: impl Read) -> Result<Bundle> {
    let limited = flate2::read::GzDecoder::new(reader).take(limits::MAX_TOTAL_BYTES as u64 * 2);
    let mut archive = tar::Archive::new(limited);
    let mut bundle = Bundle::new();
    let entries = archive
        .entries()
        .map_err(|e| PolicyError::Bundle(format!("not a tar.gz: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| PolicyError::Bundle(format!("corrupt tar.gz: {e}")))?;
        let raw = entry
            .path()
            .map_err(|e| PolicyError::Bundle(format!("bad path in tar.gz: {e}")))?;
        let Some(path) = raw.to_str().map(|p| p.trim_start_matches("./").to_string()) else {
            return Err(PolicyError::Bundle("a tar.gz path is not UTF-8".into()));
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(PolicyError::Bundle(format!(
                "{path} in the tar.gz is not a regular file"
            )));
        }
        if path
            .split('/')
            .any(|c| c.starts_with('.') && c != "." && c != "..")
        {
            continue;
        }
        if entry.size() > limits::MAX_FILE_BYTES as u64 {
            return Err(PolicyError::Limit(format!(
                "{path} is larger than {} bytes",
                limits::MAX_FILE_BYTES
            )));
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(limits::MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| PolicyError::Bundle(format!("{path}: {e}")))?;
        bundle.insert(&path, bytes)?;
    }
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_and_tarball_give_the_same_digest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("p/q")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join("p/q/a.rego"), "package p.q\n").unwrap();
        std::fs::write(dir.path().join("p/data.json"), "{}").unwrap();
        std::fs::write(dir.path().join(".git/config"), "x").unwrap();
        let from_dir = load(dir.path()).unwrap();
        assert_eq!(
            from_dir.files().keys().collect::<Vec<_>>(),
            vec!["p/data.json", "p/q/a.rego"]
        );

        let mut tar_bytes = Vec::new();
        {
            let gz = flate2::write::GzEncoder::new(&mut tar_bytes, flate2::Compression::default());
            let mut t = tar::Builder::new(gz);
            t.append_dir_all(".", dir.path()).unwrap();
            t.into_inner().unwrap().finish().unwrap();
        }
        let from_tar = read_tar_gz(tar_bytes.as_slice()).unwrap();
        assert_eq!(from_dir.digest().unwrap(), from_tar.digest().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("x.rego")).unwrap();
        assert!(
            load(dir.path())
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
    }

    #[test]
    fn garbage_is_not_a_bundle() {
        assert!(read_tar_gz(&b"not gzip"[..]).is_err());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.txt");
        std::fs::write(&f, "x").unwrap();
        assert!(load(&f).is_err());
    }
}
