//! RPM's package database in its SQLite form (`rpmdb.sqlite`, the default
//! since RPM 4.16: Fedora 33+, RHEL 9 and derivatives, Amazon Linux 2023).
//!
//! The database is opened from memory (`sqlite3_deserialize`, read-only), so
//! an image's copy is never written to disk. Its `Packages` table holds one
//! header blob per package; the blob is parsed here, not by librpm:
//!
//! ```text
//! offset 0   be32 il      number of index entries (at most 0xffff)
//! offset 4   be32 dl      length of the data store (at most 256 MiB)
//! offset 8   il x 16-byte index entries, each:
//!              be32 tag     (1000 NAME, 1001 VERSION, 1002 RELEASE,
//!                            1003 EPOCH, 1011 VENDOR, 1014 LICENSE,
//!                            1022 ARCH, 1044 SOURCERPM; 62/63 are regions)
//!              be32 type    (4 INT32, 6 STRING, 7 BIN, 8 STRING_ARRAY,
//!                            9 I18NSTRING; others unused here)
//!              be32 offset  into the data store
//!              be32 count   number of values
//! offset 8 + 16*il  the data store, dl bytes: strings NUL-terminated,
//!                   integers big-endian
//! ```
//!
//! Every offset and length is checked against the blob, so a corrupt header
//! is an error naming the row, never a panic. `gpg-pubkey` rows are imported
//! signing keys, not packages, and are skipped. The older BerkeleyDB
//! (`Packages`) and NDB (`Packages.db`) formats are recognised by their magic
//! and reported as unsupported.

use palisade_inventory::{Distro, Inventory, SourcePackage};

use crate::common::{Collector, Limits, Pkg, component};
use crate::error::{CatalogError, Position, Result};
use crate::os::{distro_qualifier, ecosystem_for};

/// Header tag NAME.
pub const TAG_NAME: u32 = 1000;
/// Header tag VERSION.
pub const TAG_VERSION: u32 = 1001;
/// Header tag RELEASE.
pub const TAG_RELEASE: u32 = 1002;
/// Header tag EPOCH.
pub const TAG_EPOCH: u32 = 1003;
/// Header tag VENDOR.
pub const TAG_VENDOR: u32 = 1011;
/// Header tag LICENSE.
pub const TAG_LICENSE: u32 = 1014;
/// Header tag ARCH.
pub const TAG_ARCH: u32 = 1022;
/// Header tag SOURCERPM.
pub const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// The fields of one header that an inventory needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpmHeader {
    /// NAME.
    pub name: Option<String>,
    /// VERSION.
    pub version: Option<String>,
    /// RELEASE.
    pub release: Option<String>,
    /// EPOCH.
    pub epoch: Option<u32>,
    /// ARCH.
    pub arch: Option<String>,
    /// LICENSE.
    pub license: Option<String>,
    /// SOURCERPM (`name-version-release.src.rpm`).
    pub source_rpm: Option<String>,
    /// VENDOR.
    pub vendor: Option<String>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses one header blob. The error is a reason; the caller adds the row.
pub fn parse_header(blob: &[u8]) -> std::result::Result<RpmHeader, String> {
    let il = be32(blob, 0).ok_or("the blob is shorter than its 8-byte preamble")? as usize;
    let dl = be32(blob, 4).ok_or("the blob is shorter than its 8-byte preamble")? as usize;
    if il == 0 || il > 0xffff {
        return Err(format!("index entry count {il} is out of range"));
    }
    if dl > 0x0fff_ffff {
        return Err(format!("data length {dl} exceeds 256 MiB"));
    }
    let data_start = 8 + il * 16;
    let data = blob.get(data_start..data_start + dl).ok_or_else(|| {
        format!(
            "the blob has {} bytes, the header declares {}",
            blob.len(),
            data_start + dl
        )
    })?;
    let mut h = RpmHeader::default();
    for i in 0..il {
        let e = 8 + i * 16;
        let (Some(tag), Some(ty), Some(off), Some(count)) = (
            be32(blob, e),
            be32(blob, e + 4),
            be32(blob, e + 8),
            be32(blob, e + 12),
        ) else {
            return Err(format!("index entry {i} is truncated"));
        };
        let off = off as usize;
        if off >= dl && !(off == dl && count == 0) {
            return Err(format!(
                "index entry {i} (tag {tag}) points past the data store"
            ));
        }
        let string = || -> std::result::Result<String, String> {
            if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
                return Err(format!("tag {tag} has type {ty}, not a string"));
            }
            let rest = data.get(off..).unwrap_or_default();
            let end = rest
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| format!("tag {tag}'s string is not terminated"))?;
            Ok(String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).into_owned())
        };
        match tag {
            TAG_NAME => h.name = Some(string()?),
            TAG_VERSION => h.version = Some(string()?),
            TAG_RELEASE => h.release = Some(string()?),
            TAG_ARCH => h.arch = Some(string()?),
            TAG_LICENSE => h.license = Some(string()?),
            TAG_SOURCERPM => h.source_rpm = Some(string()?),
            TAG_VENDOR => h.vendor = Some(string()?),
            TAG_EPOCH => {
                if ty != TYPE_INT32 || count < 1 {
                    return Err(format!(
                        "EPOCH has type {ty} and count {count}, not one INT32"
                    ));
                }
                h.epoch = Some(be32(data, off).ok_or("EPOCH points past the data store")?);
            }
            _ => {}
        }
    }
    Ok(h)
}

/// `name-version-release.src.rpm` -> (name, version-release).
pub fn split_source_rpm(s: &str) -> Option<(String, String)> {
    let base = s
        .strip_suffix(".src.rpm")
        .or_else(|| s.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some((name.to_owned(), format!("{version}-{release}")))
}

/// Recognises the RPM database formats Palisade does not read.
fn reject_other_formats(file: &str, bytes: &[u8]) -> Result<()> {
    if bytes.starts_with(b"SQLite format 3\0") {
        return Ok(());
    }
    let bdb = be32(bytes, 12).is_some_and(|m| m == 0x0006_1561 || m == 0x6115_0600);
    if bdb {
        return Err(CatalogError::Unsupported {
            file: file.to_owned(),
            format: "RPM BerkeleyDB database".into(),
            reason: "only the SQLite rpmdb (RPM 4.16 and later) is read; run `rpmdb --rebuilddb` with a newer RPM or generate the SBOM inside the system".into(),
        });
    }
    if bytes.starts_with(b"RpmP") {
        return Err(CatalogError::Unsupported {
            file: file.to_owned(),
            format: "RPM NDB database".into(),
            reason: "only the SQLite rpmdb is read".into(),
        });
    }
    Err(CatalogError::malformed(
        file,
        Position::Offset(0),
        "not an SQLite database (no `SQLite format 3` header)",
    ))
}

/// Reads all headers of an `rpmdb.sqlite` image held in memory.
pub fn read_headers(
    file: &str,
    bytes: &[u8],
) -> Result<Vec<(i64, std::result::Result<RpmHeader, String>)>> {
    reject_other_formats(file, bytes)?;
    let sql_err =
        |e: rusqlite::Error| CatalogError::malformed(file, Position::File, format!("SQLite: {e}"));
    let mut conn = rusqlite::Connection::open_in_memory().map_err(sql_err)?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, bytes, bytes.len(), true)
        .map_err(sql_err)?;
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(sql_err)?;
    let rows = stmt
        .query_map([], |row| {
            let hnum: i64 = row.get(0)?;
            let blob: Vec<u8> = row.get(1)?;
            Ok((hnum, parse_header(&blob)))
        })
        .map_err(sql_err)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r.map_err(sql_err)?);
    }
    Ok(out)
}

/// Parses an `rpmdb.sqlite` into an inventory.
pub fn parse(
    file: &str,
    bytes: &[u8],
    distro: Option<&Distro>,
    limits: &Limits,
) -> Result<Inventory> {
    let headers = read_headers(file, bytes)?;
    limits.check_components(file, headers.len())?;
    let namespace = distro
        .map(|d| d.id.to_ascii_lowercase())
        .unwrap_or_else(|| "redhat".into());
    let distro_q = distro.map(distro_qualifier).unwrap_or_default();
    let ecosystem = distro.and_then(ecosystem_for);
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    for (hnum, h) in headers {
        let h = h.map_err(|reason| {
            CatalogError::malformed(
                file,
                Position::Record(format!("Packages table row hnum={hnum}")),
                reason,
            )
        })?;
        let (Some(name), Some(version)) = (&h.name, &h.version) else {
            return Err(CatalogError::malformed(
                file,
                Position::Record(format!("Packages table row hnum={hnum}")),
                "the header has no NAME or VERSION",
            ));
        };
        if name == "gpg-pubkey" {
            continue;
        }
        let evr = match &h.release {
            Some(r) => format!("{version}-{r}"),
            None => version.clone(),
        };
        let epoch = h.epoch.map(|e| e.to_string());
        let mut quals = Vec::new();
        if let Some(a) = &h.arch {
            quals.push(("arch", a.as_str()));
        }
        if let Some(e) = &epoch {
            quals.push(("epoch", e.as_str()));
        }
        if let Some(s) = &h.source_rpm {
            quals.push(("upstream", s.as_str()));
        }
        if !distro_q.is_empty() {
            quals.push(("distro", distro_q.as_str()));
        }
        let mut comp = component(
            &Pkg {
                ty: "rpm",
                namespace: Some(&namespace),
                name,
                version: Some(&evr),
                qualifiers: quals,
                ecosystem,
                display_name: Some(name.clone()),
            },
            file,
            &mut warnings,
        );
        comp.license = h.license.clone();
        comp.supplier = h.vendor.clone();
        if let Some(e) = &epoch {
            comp.properties.insert("rpm:epoch".into(), e.clone());
        }
        comp.source_package = h
            .source_rpm
            .as_deref()
            .and_then(split_source_rpm)
            .map(|(n, v)| SourcePackage {
                name: n,
                version: (v != evr).then_some(v),
            });
        c.add(comp);
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

/// Builds a header blob from `(tag, type, payload)` entries; for tests and
/// fuzz seeds, and as executable documentation of the layout above.
pub fn build_header(entries: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (tag, ty, payload, count) in entries {
        if *ty == TYPE_INT32 {
            while !data.len().is_multiple_of(4) {
                data.push(0);
            }
        }
        index.extend_from_slice(&tag.to_be_bytes());
        index.extend_from_slice(&ty.to_be_bytes());
        index.extend_from_slice(&(data.len() as u32).to_be_bytes());
        index.extend_from_slice(&count.to_be_bytes());
        data.extend_from_slice(payload);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(&index);
    out.extend_from_slice(&data);
    out
}

/// A string entry for [`build_header`].
pub fn string_entry(tag: u32, s: &str) -> (u32, u32, Vec<u8>, u32) {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    (tag, TYPE_STRING, v, 1)
}

/// An INT32 entry for [`build_header`].
pub fn int_entry(tag: u32, n: u32) -> (u32, u32, Vec<u8>, u32) {
    (tag, TYPE_INT32, n.to_be_bytes().to_vec(), 1)
}

/// Builds an `rpmdb.sqlite` image from header blobs (tests and fixtures).
pub fn build_sqlite(blobs: &[Vec<u8>]) -> std::result::Result<Vec<u8>, rusqlite::Error> {
    let conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
    )?;
    for b in blobs {
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])?;
    }
    let data = conn.serialize(rusqlite::MAIN_DB)?;
    Ok(data.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openssl() -> Vec<u8> {
        build_header(&[
            string_entry(TAG_NAME, "openssl-libs"),
            string_entry(TAG_VERSION, "3.0.7"),
            string_entry(TAG_RELEASE, "27.el9"),
            int_entry(TAG_EPOCH, 1),
            string_entry(TAG_ARCH, "x86_64"),
            string_entry(TAG_LICENSE, "ASL 2.0"),
            string_entry(TAG_SOURCERPM, "openssl-3.0.7-27.el9.src.rpm"),
        ])
    }

    #[test]
    fn headers_round_trip_through_sqlite() {
        let gpg = build_header(&[
            string_entry(TAG_NAME, "gpg-pubkey"),
            string_entry(TAG_VERSION, "fd431d51"),
        ]);
        let db = build_sqlite(&[openssl(), gpg]).unwrap_or_default();
        let distro = Distro {
            id: "rhel".into(),
            version_id: Some("9.4".into()),
            codename: None,
        };
        let inv = parse(
            "var/lib/rpm/rpmdb.sqlite",
            &db,
            Some(&distro),
            &Limits::default(),
        )
        .unwrap_or_default();
        assert_eq!(inv.components.len(), 1);
        let c = &inv.components[0];
        assert_eq!(
            c.purl.as_deref(),
            Some(
                "pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1&upstream=openssl-3.0.7-27.el9.src.rpm"
            )
        );
        assert_eq!(
            c.source_package,
            Some(SourcePackage {
                name: "openssl".into(),
                version: None
            })
        );
        assert_eq!(c.license.as_deref(), Some("ASL 2.0"));
        assert_eq!(c.ecosystem, Some(palisade_versions::Ecosystem::RedHat));
    }

    #[test]
    fn corrupt_headers_are_errors_not_panics() {
        let mut h = openssl();
        h.truncate(h.len() - 3);
        assert!(parse_header(&h).is_err());
        assert!(parse_header(&[0, 0, 0, 1]).is_err());
        let mut huge = openssl();
        huge[8 + 8..8 + 12].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert!(parse_header(&huge).unwrap_err().contains("points past"));
        let db = build_sqlite(&[h]).unwrap_or_default();
        let e = parse("rpmdb.sqlite", &db, None, &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert!(
            e.unwrap_or_default()
                .starts_with("rpmdb.sqlite: Packages table row hnum=1: ")
        );
    }

    #[test]
    fn berkeley_db_is_unsupported() {
        let mut bdb = vec![0u8; 64];
        bdb[12..16].copy_from_slice(&0x0006_1561u32.to_be_bytes());
        let e = parse("var/lib/rpm/Packages", &bdb, None, &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert!(
            e.unwrap_or_default()
                .contains("RPM BerkeleyDB database is not supported")
        );
        let e = parse("x", b"garbage", None, &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("not an SQLite database"));
    }

    #[test]
    fn source_rpm_names_split() {
        assert_eq!(
            split_source_rpm("glibc-2.34-100.el9_4.2.src.rpm"),
            Some(("glibc".into(), "2.34-100.el9_4.2".into()))
        );
        assert_eq!(split_source_rpm("nonsense"), None);
    }
}
