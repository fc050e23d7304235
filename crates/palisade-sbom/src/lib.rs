//! Read CycloneDX and SPDX documents into an [`Inventory`], and write
//! CycloneDX and SPDX from one.
//!
//! # Reading
//! [`read`] takes the bytes of a document and a name for messages, detects the
//! format by content (JSON `bomFormat` / `spdxVersion`, the CycloneDX XML
//! namespace, a tag-value `SPDXVersion:` line; never the file extension) and
//! returns the normalised inventory. Supported: CycloneDX 1.0 to 1.7 in JSON
//! and XML, SPDX 2.2 and 2.3 in JSON and tag-value. SPDX 3.0 and SPDX RDF are
//! recognised and refused with [`SbomError::Unsupported`].
//!
//! # Writing
//! [`write`] produces CycloneDX 1.6 or 1.7 JSON, or SPDX 2.3 JSON. Output is
//! deterministic: components are sorted, maps are ordered, and the serial
//! number (CycloneDX) or document namespace (SPDX) is derived from the content
//! unless [`WriteOptions`] says otherwise, so that equal inventories give
//! byte-identical documents that can be signed and compared.
//!
//! # Design
//! Parsing is pure: bytes in, inventory out, no I/O. Every parser is bounded
//! by [`Limits`] (input size, component and edge counts, nesting depth) and
//! reports bad input as an [`SbomError`] naming the source and the position
//! (line and column, and for JSON the path of the bad value).

mod common;
pub mod cyclonedx;
mod detect;
mod error;
mod intoto;
mod purl;
mod purl_bridge;
pub mod spdx;

use std::fmt;
use std::str::FromStr;

pub use common::Limits;
pub use detect::{Detected, detect};
pub use error::SbomError;
pub use palisade_inventory::Inventory;

/// How to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Size, count and depth limits.
    pub limits: Limits,
}

/// Reads an SBOM of any supported format, detected by content.
///
/// `source_name` (a file name, `<stdin>`...) is used only in error messages.
pub fn read(bytes: &[u8], source_name: &str) -> Result<Inventory, SbomError> {
    read_with(bytes, source_name, &ReadOptions::default())
}

/// [`read`] with explicit options.
pub fn read_with(
    bytes: &[u8],
    source_name: &str,
    options: &ReadOptions,
) -> Result<Inventory, SbomError> {
    let limits = &options.limits;
    if bytes.len() > limits.max_bytes {
        return Err(SbomError::limit(
            source_name,
            format!("the document size ({} bytes)", bytes.len()),
            format!("{} bytes", limits.max_bytes),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match detect(bytes, source_name)? {
        Detected::CycloneDxJson => cyclonedx::json::read(bytes, source_name, limits),
        Detected::CycloneDxXml => cyclonedx::xml::read(bytes, source_name, limits),
        Detected::SpdxJson => spdx::json::read(bytes, source_name, limits),
        Detected::SpdxTagValue => spdx::tagvalue::read(bytes, source_name, limits),
        Detected::InToto => {
            let predicate = intoto::predicate(bytes, source_name)?;
            read_predicate(&predicate, source_name, limits)
        }
    }
}

/// Reads the SBOM that is an attestation's predicate (one level: a predicate
/// that is itself an attestation is refused).
pub(crate) fn read_predicate(
    predicate: &[u8],
    source_name: &str,
    limits: &Limits,
) -> Result<Inventory, SbomError> {
    match detect(predicate, source_name)? {
        Detected::CycloneDxJson => cyclonedx::json::read(predicate, source_name, limits),
        Detected::SpdxJson => spdx::json::read(predicate, source_name, limits),
        other => Err(SbomError::UnknownFormat {
            source_name: source_name.to_owned(),
            reason: format!("an attestation whose predicate is {other:?}, not a JSON SBOM"),
        }),
    }
}

/// A format [`write`] can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// CycloneDX 1.6, JSON.
    CycloneDxJson16,
    /// CycloneDX 1.7, JSON.
    CycloneDxJson17,
    /// SPDX 2.3, JSON.
    SpdxJson23,
}

impl Format {
    /// Every writable format.
    pub const ALL: &'static [Format] = &[
        Format::CycloneDxJson16,
        Format::CycloneDxJson17,
        Format::SpdxJson23,
    ];

    /// The canonical name, as accepted by [`Format::from_str`].
    pub fn as_str(self) -> &'static str {
        match self {
            Format::CycloneDxJson16 => "cyclonedx-1.6-json",
            Format::CycloneDxJson17 => "cyclonedx-1.7-json",
            Format::SpdxJson23 => "spdx-2.3-json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = SbomError;

    /// Accepts `cyclonedx-json` (the newest, 1.7), `cyclonedx-1.6-json`,
    /// `cyclonedx-1.7-json`, `spdx-json` and `spdx-2.3-json`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "cyclonedx-json" | "cyclonedx-1.7-json" | "cyclonedx" => Format::CycloneDxJson17,
            "cyclonedx-1.6-json" => Format::CycloneDxJson16,
            "spdx-json" | "spdx-2.3-json" | "spdx" => Format::SpdxJson23,
            other => {
                return Err(SbomError::Write {
                    format: other.to_owned(),
                    reason: "unknown output format; expected cyclonedx-json, cyclonedx-1.6-json, cyclonedx-1.7-json or spdx-json".to_owned(),
                });
            }
        })
    }
}

/// How the document's unique identifier (CycloneDX `serialNumber`, SPDX
/// `documentNamespace`) is chosen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SerialNumber {
    /// A UUID derived from the SHA-256 of the content, so equal inventories
    /// give equal documents (the default).
    #[default]
    Derived,
    /// A random UUID (from the operating system's hasher keys and the clock).
    Random,
    /// This exact value (`urn:uuid:...` for CycloneDX; a URI for SPDX).
    Fixed(String),
}

/// How to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// Serial number / namespace policy.
    pub serial_number: SerialNumber,
    /// The creation time written into the document (RFC 3339). `None` uses
    /// the inventory's own timestamp, and with none there either: for
    /// CycloneDX the timestamp is omitted, for SPDX (where it is required)
    /// `1970-01-01T00:00:00Z` is written so the output stays deterministic.
    pub timestamp: Option<String>,
    /// The tool added to the document's tools (Palisade and its version).
    pub tool_name: String,
    /// The tool's version.
    pub tool_version: String,
    /// Indent the JSON (two spaces) instead of writing it on one line.
    pub pretty: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            serial_number: SerialNumber::Derived,
            timestamp: None,
            tool_name: "palisade".to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            pretty: true,
        }
    }
}

/// Writes an inventory in `format`.
pub fn write(
    inventory: &Inventory,
    format: Format,
    options: &WriteOptions,
) -> Result<Vec<u8>, SbomError> {
    match format {
        Format::CycloneDxJson16 => {
            cyclonedx::write::write(inventory, cyclonedx::write::Version::V1_6, options)
        }
        Format::CycloneDxJson17 => {
            cyclonedx::write::write(inventory, cyclonedx::write::Version::V1_7, options)
        }
        Format::SpdxJson23 => spdx::write::write(inventory, options),
    }
}

/// Turns a `serde_json` error into an [`SbomError`] with line, column and,
/// by parsing once more with path tracking, the JSON path of the bad value.
pub(crate) fn json_error<'de, T: serde::Deserialize<'de>>(
    bytes: &'de [u8],
    source_name: &str,
    err: serde_json::Error,
) -> SbomError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let p = e.path().to_string();
            if p == "." || p.is_empty() {
                "$".to_owned()
            } else {
                format!("$.{p}")
            }
        }
        Ok(_) => "$".to_owned(),
    };
    let full = err.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full.get(..i).unwrap_or(&full).to_owned(),
        None => full,
    };
    SbomError::Syntax {
        source_name: source_name.to_owned(),
        position: format!("line {}, column {} (at {path})", err.line(), err.column()),
        message,
    }
}

/// A deterministic UUID (version 8, RFC 9562 "custom") from a SHA-256 digest.
pub(crate) fn uuid_from_digest(digest: &[u8]) -> String {
    let mut b = [0u8; 16];
    for (dst, src) in b.iter_mut().zip(digest.iter()) {
        *dst = *src;
    }
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// A random UUID (version 4) without a dependency on a random-number crate:
/// the standard library seeds each `RandomState` from the operating system.
pub(crate) fn random_uuid() -> String {
    use sha2::{Digest, Sha256};
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(now);
    let a = hasher.finish();
    let b = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let digest = Sha256::new()
        .chain_update(a.to_le_bytes())
        .chain_update(b.to_le_bytes())
        .finalize();
    let mut u = uuid_from_digest(&digest).into_bytes();
    // Version 4 instead of 8.
    if let Some(v) = u.get_mut(14) {
        *v = b'4';
    }
    String::from_utf8(u).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name() {
        assert_eq!(
            "cyclonedx-json".parse::<Format>().ok(),
            Some(Format::CycloneDxJson17)
        );
        assert_eq!(
            "cyclonedx-1.6-json".parse::<Format>().ok(),
            Some(Format::CycloneDxJson16)
        );
        assert_eq!("spdx-json".parse::<Format>().ok(), Some(Format::SpdxJson23));
        assert!("xml".parse::<Format>().is_err());
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().ok(), Some(*f));
        }
    }

    #[test]
    fn uuids_have_version_and_variant() {
        let u = uuid_from_digest(&[0xff; 32]);
        assert_eq!(u, "ffffffff-ffff-8fff-bfff-ffffffffffff");
        let r = random_uuid();
        assert_eq!(r.len(), 36);
        assert_eq!(r.as_bytes().get(14), Some(&b'4'));
        assert_ne!(r, random_uuid());
    }
}
