//! Downloads of osv.dev's per-ecosystem exports (`<base>/<ecosystem>/all.zip`),
//! conditional and resumable.
//!
//! The design decision: a download is a file, `<ecosystem>.zip.part`, that
//! only becomes `<ecosystem>.zip` by an atomic rename once complete, with the
//! validators (`ETag`, `Last-Modified`) kept in `state.json` beside it. So:
//!
//! - a complete export is re-requested with `If-None-Match` /
//!   `If-Modified-Since`, and a `304 Not Modified` costs one round trip;
//! - an interrupted download is resumed with `Range: bytes=<n>-` and
//!   `If-Range: <validator>`: a `206` appends, a `200` (the export changed
//!   meanwhile) starts over, a `416` discards the partial file;
//! - nothing half-downloaded is ever imported.
//!
//! The HTTP client is `ureq` (blocking, rustls; no OpenSSL). There is no
//! content decoding, so byte ranges always refer to the file itself.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// osv.dev's public export bucket.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// The largest export accepted (the biggest osv.dev exports are a few hundred MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 8 * 1024 * 1024 * 1024;
const STATE_FILE: &str = "state.json";

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// A network or protocol error.
    #[error("downloading {url}: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with an unexpected status.
    #[error("downloading {url}: the server answered {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// A local file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The download is not a zip archive or is too large.
    #[error("downloading {url}: {reason}")]
    Invalid {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// What is known about one ecosystem's export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportState {
    /// The URL last fetched.
    pub url: String,
    /// The complete file's `ETag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The complete file's `Last-Modified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The complete file's size.
    #[serde(default)]
    pub bytes: u64,
    /// When it was last downloaded or confirmed unchanged (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
    /// When its content last changed here (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloaded_at: Option<String>,
    /// The validator of a partial download, for `If-Range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_validator: Option<String>,
}

/// `state.json`: per ecosystem.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// Ecosystem name -> state.
    pub exports: BTreeMap<String, ExportState>,
}

impl SyncState {
    /// Reads `state.json` in `dir`; absent or unreadable is empty (the
    /// next sync then downloads in full).
    pub fn load(dir: &Path) -> SyncState {
        std::fs::read(dir.join(STATE_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, dir: &Path) -> Result<(), SyncError> {
        let path = dir.join(STATE_FILE);
        let io = |source| SyncError::Io {
            path: path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(self).map_err(|e| SyncError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        tmp.write_all(&json).map_err(io)?;
        tmp.persist(&path).map_err(|e| SyncError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(())
    }
}

/// What a fetch did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// The export was (re)downloaded.
    Downloaded {
        /// Its size.
        bytes: u64,
        /// How many bytes a previous interrupted download had already fetched.
        resumed_from: u64,
    },
    /// The server said the local copy is current.
    NotModified,
}

/// Downloads exports into a directory.
#[derive(Debug)]
pub struct Downloader {
    agent: ureq::Agent,
    base_url: String,
    dir: PathBuf,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Percent-encodes one URL path segment (`Red Hat` -> `Red%20Hat`).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A file name for an ecosystem's export.
fn file_stem(ecosystem: &str) -> String {
    ecosystem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Downloader {
    /// A downloader from `base_url` (no trailing slash needed) into `dir`.
    pub fn new(base_url: &str, dir: &Path) -> Downloader {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
            .build();
        Downloader {
            agent: ureq::Agent::new_with_config(config),
            base_url: base_url.trim_end_matches('/').to_owned(),
            dir: dir.to_owned(),
        }
    }

    /// The export URL of an ecosystem.
    pub fn url(&self, ecosystem: &str) -> String {
        format!("{}/{}/all.zip", self.base_url, encode_segment(ecosystem))
    }

    /// Where the complete export of an ecosystem is kept.
    pub fn zip_path(&self, ecosystem: &str) -> PathBuf {
        self.dir.join(format!("{}.zip", file_stem(ecosystem)))
    }

    fn part_path(&self, ecosystem: &str) -> PathBuf {
        self.dir.join(format!("{}.zip.part", file_stem(ecosystem)))
    }

    /// Fetches one ecosystem's export; `progress(done, total)` is called as
    /// bytes arrive.
    pub fn fetch(
        &self,
        ecosystem: &str,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<Outcome, SyncError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| SyncError::Io {
            path: self.dir.clone(),
            source,
        })?;
        match self.fetch_once(ecosystem, progress, true) {
            Err(SyncError::Status { status: 416, .. }) => {
                // The partial file is longer than the export: start over.
                let _ = std::fs::remove_file(self.part_path(ecosystem));
                self.fetch_once(ecosystem, progress, false)
            }
            other => other,
        }
    }

    fn fetch_once(
        &self,
        ecosystem: &str,
        progress: &mut dyn FnMut(u64, Option<u64>),
        allow_resume: bool,
    ) -> Result<Outcome, SyncError> {
        let url = self.url(ecosystem);
        let mut state = SyncState::load(&self.dir);
        let mut export = state.exports.get(ecosystem).cloned().unwrap_or_default();
        let zip_path = self.zip_path(ecosystem);
        let part_path = self.part_path(ecosystem);
        let part_len = std::fs::metadata(&part_path).map(|m| m.len()).unwrap_or(0);
        let http = |e: ureq::Error| SyncError::Http {
            url: url.clone(),
            reason: e.to_string(),
        };

        let mut req = self.agent.get(&url);
        let resuming =
            allow_resume && part_len > 0 && export.url == url && export.partial_validator.is_some();
        if resuming {
            req = req.header("Range", &format!("bytes={part_len}-"));
            if let Some(v) = &export.partial_validator {
                req = req.header("If-Range", v);
            }
        } else if zip_path.exists() && export.url == url {
            if let Some(etag) = &export.etag {
                req = req.header("If-None-Match", etag);
            }
            if let Some(lm) = &export.last_modified {
                req = req.header("If-Modified-Since", lm);
            }
        }
        let mut resp = req.call().map_err(http)?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header("etag");
        let last_modified = header("last-modified");
        let content_length = header("content-length").and_then(|v| v.parse::<u64>().ok());
        let (append_from, total) = match status {
            304 => {
                export.checked_at = Some(now());
                state.exports.insert(ecosystem.to_owned(), export);
                state.save(&self.dir)?;
                return Ok(Outcome::NotModified);
            }
            206 if resuming => {
                let start = header("content-range")
                    .and_then(|v| parse_content_range_start(&v))
                    .ok_or_else(|| SyncError::Invalid {
                        url: url.clone(),
                        reason: "206 without a usable Content-Range".into(),
                    })?;
                if start != part_len {
                    return Err(SyncError::Invalid {
                        url: url.clone(),
                        reason: format!(
                            "asked to resume at byte {part_len}, the server sent from {start}"
                        ),
                    });
                }
                (part_len, content_length.map(|l| l + part_len))
            }
            200 => (0, content_length),
            416 => {
                return Err(SyncError::Status { url, status });
            }
            _ => return Err(SyncError::Status { url, status }),
        };
        if total.is_some_and(|t| t > MAX_DOWNLOAD_BYTES) {
            return Err(SyncError::Invalid {
                url,
                reason: format!("export is larger than {MAX_DOWNLOAD_BYTES} bytes"),
            });
        }
        // Remember the validator first, so that an interruption can resume.
        export.url = url.clone();
        export.partial_validator = etag.clone().or_else(|| last_modified.clone());
        state.exports.insert(ecosystem.to_owned(), export.clone());
        state.save(&self.dir)?;

        let io = |source| SyncError::Io {
            path: part_path.clone(),
            source,
        };
        let mut out = if append_from > 0 {
            OpenOptions::new()
                .append(true)
                .open(&part_path)
                .map_err(io)?
        } else {
            File::create(&part_path).map_err(io)?
        };
        let mut reader = resp.body_mut().as_reader();
        let mut done = append_from;
        let mut buf = vec![0u8; 256 * 1024];
        progress(done, total);
        loop {
            let n = reader.read(&mut buf).map_err(|e| SyncError::Http {
                url: url.clone(),
                reason: format!("interrupted after {done} bytes (run sync again to resume): {e}"),
            })?;
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).unwrap_or_default();
            out.write_all(chunk).map_err(io)?;
            done += n as u64;
            if done > MAX_DOWNLOAD_BYTES {
                return Err(SyncError::Invalid {
                    url,
                    reason: format!("export is larger than {MAX_DOWNLOAD_BYTES} bytes"),
                });
            }
            progress(done, total);
        }
        out.sync_all().map_err(io)?;
        drop(out);
        if total.is_some_and(|t| t != done) {
            return Err(SyncError::Http {
                url,
                reason: format!(
                    "received {done} bytes of {}; run sync again to resume",
                    total.unwrap_or_default()
                ),
            });
        }
        let mut magic = [0u8; 4];
        let ok = File::open(&part_path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
            && &magic == b"PK\x03\x04";
        if !ok {
            let _ = std::fs::remove_file(&part_path);
            return Err(SyncError::Invalid {
                url,
                reason: "the download is not a zip archive".into(),
            });
        }
        std::fs::rename(&part_path, &zip_path).map_err(|source| SyncError::Io {
            path: zip_path.clone(),
            source,
        })?;
        let stamp = now();
        export.etag = etag;
        export.last_modified = last_modified;
        export.bytes = done;
        export.partial_validator = None;
        export.checked_at = Some(stamp.clone());
        export.downloaded_at = Some(stamp);
        state.exports.insert(ecosystem.to_owned(), export);
        state.save(&self.dir)?;
        Ok(Outcome::Downloaded {
            bytes: done,
            resumed_from: append_from,
        })
    }
}

/// `bytes 100-199/200` -> 100.
fn parse_content_range_start(v: &str) -> Option<u64> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, _) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    start.trim().parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_names() {
        let d = Downloader::new("http://h/x/", Path::new("/tmp"));
        assert_eq!(d.url("Red Hat"), "http://h/x/Red%20Hat/all.zip");
        assert_eq!(d.url("crates.io"), "http://h/x/crates.io/all.zip");
        assert_eq!(file_stem("Debian:12"), "Debian_12");
        assert_eq!(parse_content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(parse_content_range_start("items 1-2/3"), None);
    }
}
