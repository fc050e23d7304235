//! OSV records: tolerant parsing with limits, and the normalised
//! [`Advisory`] the store keeps.
//!
//! The design decision: an OSV record is read in two steps. First the raw
//! bytes are checked against a size and a nesting-depth limit *before* any
//! parsing, so that a hostile record costs nothing. Then a tolerant serde
//! model (unknown fields ignored, `null` lists read as empty, versions written
//! as numbers read as strings) is filled through `serde_path_to_error`, so
//! that a wrong type is reported with its JSON path (`affected[2].ranges`).
//! The result is checked field by field (lengths, counts, timestamps) and
//! turned into an [`Advisory`], a plain struct with no serde tricks that the
//! store writes and reads back.
//!
//! An `affected[]` entry whose ecosystem is unknown is dropped with a
//! [`RecordWarning`] naming its path, and the rest of the record is kept: one
//! ecosystem Palisade does not know must not hide the others. A record left
//! with no usable `affected[]` entry although it had some is rejected.

use std::fmt;
use std::str::FromStr;

use palisade_versions::range::{AffectedRanges, OsvAffected, OsvEvent, OsvPackage, OsvRange};
use palisade_versions::{Ecosystem, EcosystemSpec};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

/// The largest record accepted, in bytes.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;
/// The deepest JSON nesting accepted (real records nest about six levels).
pub const MAX_DEPTH: usize = 64;
/// The longest `id`, alias or related id.
pub const MAX_ID_LEN: usize = 256;
/// The longest package name.
pub const MAX_NAME_LEN: usize = 1024;
/// The longest `summary`.
pub const MAX_SUMMARY_LEN: usize = 64 * 1024;
/// The longest `details`.
pub const MAX_DETAILS_LEN: usize = 4 * 1024 * 1024;
/// The longest reference URL or severity score string.
pub const MAX_URL_LEN: usize = 16 * 1024;
/// The most aliases, related ids or references.
pub const MAX_LIST_LEN: usize = 10_000;
/// The most `affected[]` entries.
pub const MAX_AFFECTED: usize = 100_000;

/// Why one record was rejected: the JSON path and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct RecordError {
    /// Where in the record (`$` for the whole document, `affected[1].package`).
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

impl RecordError {
    fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        RecordError {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Something in an accepted record that Palisade could not use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordWarning {
    /// Where in the record.
    pub path: String,
    /// What was dropped or cannot be evaluated, and why.
    pub reason: String,
}

impl fmt::Display for RecordWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// A normalised OSV record, as the store keeps it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The OSV `id`.
    pub id: String,
    /// `modified`, RFC 3339 as written.
    pub modified: String,
    /// `published`, when given.
    pub published: Option<String>,
    /// `withdrawn`, when given: a withdrawn advisory never matches.
    pub withdrawn: Option<String>,
    /// `aliases`, sorted and without duplicates.
    pub aliases: Vec<String>,
    /// `related`, sorted and without duplicates.
    pub related: Vec<String>,
    /// `upstream`, sorted and without duplicates.
    pub upstream: Vec<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `details`.
    pub details: Option<String>,
    /// Record-level `severity[]`.
    pub severity: Vec<SeverityEntry>,
    /// `database_specific.severity` (GitHub's `LOW`, `MODERATE`...), when a string.
    pub database_severity: Option<String>,
    /// The `affected[]` entries with a known ecosystem.
    pub affected: Vec<Affected>,
    /// `references[]`.
    pub references: Vec<Reference>,
    /// `schema_version`, when given.
    pub schema_version: Option<String>,
}

/// One `severity[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityEntry {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`...
    pub kind: String,
    /// The vector or rating.
    pub score: String,
}

/// One `references[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `FIX`...
    pub kind: String,
    /// The URL.
    pub url: String,
}

/// One `affected[]` entry with a known ecosystem.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// Its index in the record's `affected[]`, for paths in messages.
    pub index: usize,
    /// The ecosystem string as written (`Debian:12`).
    pub ecosystem: String,
    /// The package name as written.
    pub name: String,
    /// `package.purl`, when given.
    pub purl: Option<String>,
    /// `ranges[]`.
    pub ranges: Vec<Range>,
    /// `versions[]`.
    pub versions: Vec<String>,
    /// Entry-level `severity[]`.
    pub severity: Vec<SeverityEntry>,
    /// `database_specific.severity` of the entry, when a string.
    pub database_severity: Option<String>,
}

/// One `ranges[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT`, as written.
    pub kind: String,
    /// The repository of a `GIT` range.
    pub repo: Option<String>,
    /// The events, as written.
    pub events: Vec<Event>,
}

/// One event; exactly one field is set in a valid record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `introduced`.
    pub introduced: Option<String>,
    /// `fixed`.
    pub fixed: Option<String>,
    /// `last_affected`.
    pub last_affected: Option<String>,
    /// `limit`.
    pub limit: Option<String>,
}

impl Advisory {
    /// Whether the record is withdrawn.
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.is_some()
    }

    /// The `modified` time, parsed.
    pub fn modified_time(&self) -> Option<time::OffsetDateTime> {
        parse_time(&self.modified)
    }

    /// Whether `other` shares this advisory's id or any alias with it.
    pub fn is_alias_of(&self, other: &Advisory) -> bool {
        let mine = std::iter::once(&self.id).chain(&self.aliases);
        let theirs: Vec<&String> = std::iter::once(&other.id).chain(&other.aliases).collect();
        mine.into_iter().any(|a| theirs.contains(&a))
    }
}

impl Affected {
    /// The ecosystem and its release, parsed.
    pub fn ecosystem_spec(&self) -> Option<EcosystemSpec> {
        EcosystemSpec::from_str(&self.ecosystem).ok()
    }

    /// The entry in the form the range evaluator reads.
    pub fn to_osv(&self) -> OsvAffected {
        OsvAffected {
            package: Some(OsvPackage {
                ecosystem: Some(self.ecosystem.clone()),
                name: Some(self.name.clone()),
                purl: self.purl.clone(),
            }),
            ranges: self
                .ranges
                .iter()
                .map(|r| OsvRange {
                    kind: r.kind.clone(),
                    repo: r.repo.clone(),
                    events: r
                        .events
                        .iter()
                        .map(|e| OsvEvent {
                            introduced: e.introduced.clone(),
                            fixed: e.fixed.clone(),
                            last_affected: e.last_affected.clone(),
                            limit: e.limit.clone(),
                        })
                        .collect(),
                })
                .collect(),
            versions: self.versions.clone(),
        }
    }

    /// Compiles the entry's ranges and versions with the shared evaluator.
    pub fn compile(&self) -> Result<AffectedRanges, String> {
        let spec = EcosystemSpec::from_str(&self.ecosystem).map_err(|e| e.to_string())?;
        AffectedRanges::compile(spec.ecosystem, &self.to_osv()).map_err(|e| e.to_string())
    }
}

/// Parses an RFC 3339 time as OSV writes it.
pub fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

// ---------------------------------------------------------------------------
// Pre-parse limits.
// ---------------------------------------------------------------------------

/// Checks size and nesting depth without parsing. The error names the byte
/// offset where the limit was crossed.
pub fn check_limits(bytes: &[u8]) -> Result<(), RecordError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(RecordError::new(
            "$",
            format!(
                "record is {} bytes; at most {MAX_RECORD_BYTES} are accepted",
                bytes.len()
            ),
        ));
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(RecordError::new(
                        "$",
                        format!(
                            "JSON nested deeper than {MAX_DEPTH} levels (at byte offset {offset})"
                        ),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The tolerant serde model.
// ---------------------------------------------------------------------------

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A version written as a JSON string or, by some producers, as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    S(String),
    N(serde_json::Number),
}

impl StringOrNumber {
    fn into_string(self) -> String {
        match self {
            StringOrNumber::S(s) => s,
            StringOrNumber::N(n) => n.to_string(),
        }
    }
}

fn opt_version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<StringOrNumber>::deserialize(d)?.map(StringOrNumber::into_string))
}

fn version_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Option::<Vec<StringOrNumber>>::deserialize(d)?.unwrap_or_default();
    Ok(list.into_iter().map(StringOrNumber::into_string).collect())
}

#[derive(Deserialize)]
struct RawRecord {
    #[serde(default)]
    schema_version: Option<String>,
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    aliases: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    related: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    upstream: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "null_as_default")]
    affected: Vec<RawAffected>,
    #[serde(default, deserialize_with = "null_as_default")]
    references: Vec<RawReference>,
    #[serde(default)]
    database_specific: Option<RawDatabaseSpecific>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    url: String,
}

/// `database_specific` is free-form: only a string `severity` is read, and
/// anything else is skipped whatever its type.
#[derive(Deserialize)]
struct RawDatabaseSpecific {
    #[serde(default)]
    severity: Option<serde_json::Value>,
}

impl RawDatabaseSpecific {
    fn severity(self) -> Option<String> {
        match self.severity {
            Some(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 64 => Some(s),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "null_as_default")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "null_as_default")]
    ranges: Vec<RawRange>,
    #[serde(default, deserialize_with = "version_list")]
    versions: Vec<String>,
    #[serde(default)]
    database_specific: Option<RawDatabaseSpecific>,
    #[serde(default)]
    #[allow(dead_code)]
    ecosystem_specific: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default, deserialize_with = "opt_version")]
    introduced: Option<String>,
    #[serde(default, deserialize_with = "opt_version")]
    fixed: Option<String>,
    #[serde(default, deserialize_with = "opt_version")]
    last_affected: Option<String>,
    #[serde(default, deserialize_with = "opt_version")]
    limit: Option<String>,
}

/// A record read successfully, with what could not be used in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The normalised record.
    pub advisory: Advisory,
    /// Entries dropped or ranges that cannot be evaluated, with their paths.
    pub warnings: Vec<RecordWarning>,
}

/// Parses one OSV record from JSON bytes, enforcing every limit.
pub fn parse_record(bytes: &[u8]) -> Result<Parsed, RecordError> {
    check_limits(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw: RawRecord = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { "$".to_owned() } else { path };
        RecordError::new(path, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| RecordError::new("$", format!("trailing data after the record: {e}")))?;
    normalise(raw)
}

fn check_len(path: &str, value: &str, limit: usize) -> Result<(), RecordError> {
    if value.len() > limit {
        return Err(RecordError::new(
            path,
            format!(
                "string is {} bytes; at most {limit} are accepted",
                value.len()
            ),
        ));
    }
    Ok(())
}

fn check_count(path: &str, count: usize, limit: usize) -> Result<(), RecordError> {
    if count > limit {
        return Err(RecordError::new(
            path,
            format!("{count} entries; at most {limit} are accepted"),
        ));
    }
    Ok(())
}

fn id_list(path: &str, mut list: Vec<String>) -> Result<Vec<String>, RecordError> {
    check_count(path, list.len(), MAX_LIST_LEN)?;
    for (i, s) in list.iter().enumerate() {
        check_len(&format!("{path}[{i}]"), s, MAX_ID_LEN)?;
    }
    list.retain(|s| !s.trim().is_empty());
    list.sort();
    list.dedup();
    Ok(list)
}

fn severities(path: &str, raw: Vec<RawSeverity>) -> Result<Vec<SeverityEntry>, RecordError> {
    check_count(path, raw.len(), 64)?;
    raw.into_iter()
        .enumerate()
        .map(|(i, s)| {
            check_len(&format!("{path}[{i}].type"), &s.kind, 64)?;
            check_len(&format!("{path}[{i}].score"), &s.score, MAX_URL_LEN)?;
            Ok(SeverityEntry {
                kind: s.kind,
                score: s.score,
            })
        })
        .collect()
}

fn normalise(raw: RawRecord) -> Result<Parsed, RecordError> {
    let id = raw.id.trim().to_owned();
    if id.is_empty() {
        return Err(RecordError::new("id", "empty id"));
    }
    check_len("id", &id, MAX_ID_LEN)?;
    if id.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(RecordError::new(
            "id",
            "an id may not contain control characters or slashes",
        ));
    }
    let modified = raw
        .modified
        .ok_or_else(|| RecordError::new("modified", "missing (the OSV schema requires it)"))?;
    if parse_time(&modified).is_none() {
        return Err(RecordError::new(
            "modified",
            format!(
                "{:?} is not an RFC 3339 time",
                modified.chars().take(64).collect::<String>()
            ),
        ));
    }
    for (path, value) in [("published", &raw.published), ("withdrawn", &raw.withdrawn)] {
        if let Some(v) = value {
            check_len(path, v, 64)?;
            if parse_time(v).is_none() {
                return Err(RecordError::new(
                    path,
                    format!("{v:?} is not an RFC 3339 time"),
                ));
            }
        }
    }
    if let Some(s) = &raw.summary {
        check_len("summary", s, MAX_SUMMARY_LEN)?;
    }
    if let Some(s) = &raw.details {
        check_len("details", s, MAX_DETAILS_LEN)?;
    }
    if let Some(s) = &raw.schema_version {
        check_len("schema_version", s, 64)?;
    }
    let aliases = id_list("aliases", raw.aliases)?;
    let related = id_list("related", raw.related)?;
    let upstream = id_list("upstream", raw.upstream)?;
    let severity = severities("severity", raw.severity)?;
    check_count("references", raw.references.len(), MAX_LIST_LEN)?;
    let mut references = Vec::with_capacity(raw.references.len());
    for (i, r) in raw.references.into_iter().enumerate() {
        check_len(&format!("references[{i}].url"), &r.url, MAX_URL_LEN)?;
        let kind = r.kind.unwrap_or_default();
        check_len(&format!("references[{i}].type"), &kind, 64)?;
        references.push(Reference { kind, url: r.url });
    }

    check_count("affected", raw.affected.len(), MAX_AFFECTED)?;
    let had_affected = !raw.affected.is_empty();
    let mut warnings = Vec::new();
    let mut affected = Vec::with_capacity(raw.affected.len());
    let mut first_drop: Option<RecordError> = None;
    for (i, a) in raw.affected.into_iter().enumerate() {
        match normalise_affected(i, a) {
            Ok((entry, mut w)) => {
                affected.push(entry);
                warnings.append(&mut w);
            }
            Err(Drop::Reject(e)) => return Err(e),
            Err(Drop::Unmatchable(e)) => warnings.push(RecordWarning {
                path: e.path,
                reason: e.reason,
            }),
            Err(Drop::Skip(e)) => {
                warnings.push(RecordWarning {
                    path: e.path.clone(),
                    reason: format!("entry dropped: {}", e.reason),
                });
                first_drop.get_or_insert(e);
            }
        }
    }
    if had_affected
        && affected.is_empty()
        && let Some(e) = first_drop
    {
        return Err(RecordError::new(
            e.path,
            format!("no usable affected[] entry: {}", e.reason),
        ));
    }

    Ok(Parsed {
        advisory: Advisory {
            id,
            modified,
            published: raw.published,
            withdrawn: raw.withdrawn,
            aliases,
            related,
            upstream,
            summary: raw.summary,
            details: raw.details,
            severity,
            database_severity: raw
                .database_specific
                .and_then(RawDatabaseSpecific::severity),
            affected,
            references,
            schema_version: raw.schema_version,
        },
        warnings,
    })
}

/// What to do with a bad `affected[]` entry.
enum Drop {
    /// The whole record is hostile (a limit is crossed).
    Reject(RecordError),
    /// Only this entry is unusable (unknown ecosystem, no name).
    Skip(RecordError),
    /// The entry is valid OSV but names no package: kept out of matching
    /// with a warning, and never a reason to reject the record.
    Unmatchable(RecordError),
}

fn normalise_affected(i: usize, a: RawAffected) -> Result<(Affected, Vec<RecordWarning>), Drop> {
    let base = format!("affected[{i}]");
    let Some(package) = a.package else {
        return Err(Drop::Unmatchable(RecordError::new(
            format!("{base}.package"),
            "no package (such entries, for example CVE records with only GIT ranges, cannot be matched to a component)",
        )));
    };
    let Some(eco) = package.ecosystem else {
        return Err(Drop::Skip(RecordError::new(
            format!("{base}.package.ecosystem"),
            "missing",
        )));
    };
    check_len(&format!("{base}.package.ecosystem"), &eco, 256).map_err(Drop::Reject)?;
    if let Err(e) = EcosystemSpec::from_str(&eco) {
        return Err(Drop::Skip(RecordError::new(
            format!("{base}.package.ecosystem"),
            e.to_string(),
        )));
    }
    let Some(name) = package.name.filter(|n| !n.trim().is_empty()) else {
        return Err(Drop::Skip(RecordError::new(
            format!("{base}.package.name"),
            "missing or empty",
        )));
    };
    check_len(&format!("{base}.package.name"), &name, MAX_NAME_LEN).map_err(Drop::Reject)?;
    if let Some(p) = &package.purl {
        check_len(&format!("{base}.package.purl"), p, MAX_URL_LEN).map_err(Drop::Reject)?;
    }
    check_count(
        &format!("{base}.ranges"),
        a.ranges.len(),
        palisade_versions::range::MAX_RANGES,
    )
    .map_err(Drop::Reject)?;
    check_count(
        &format!("{base}.versions"),
        a.versions.len(),
        palisade_versions::range::MAX_LISTED_VERSIONS,
    )
    .map_err(Drop::Reject)?;
    let mut ranges = Vec::with_capacity(a.ranges.len());
    for (r, range) in a.ranges.into_iter().enumerate() {
        let rpath = format!("{base}.ranges[{r}]");
        check_len(&format!("{rpath}.type"), &range.kind, 64).map_err(Drop::Reject)?;
        if let Some(repo) = &range.repo {
            check_len(&format!("{rpath}.repo"), repo, MAX_URL_LEN).map_err(Drop::Reject)?;
        }
        check_count(
            &format!("{rpath}.events"),
            range.events.len(),
            palisade_versions::range::MAX_EVENTS,
        )
        .map_err(Drop::Reject)?;
        let mut events = Vec::with_capacity(range.events.len());
        for (e, ev) in range.events.into_iter().enumerate() {
            for (field, value) in [
                ("introduced", &ev.introduced),
                ("fixed", &ev.fixed),
                ("last_affected", &ev.last_affected),
                ("limit", &ev.limit),
            ] {
                if let Some(v) = value {
                    check_len(&format!("{rpath}.events[{e}].{field}"), v, MAX_URL_LEN)
                        .map_err(Drop::Reject)?;
                }
            }
            events.push(Event {
                introduced: ev.introduced,
                fixed: ev.fixed,
                last_affected: ev.last_affected,
                limit: ev.limit,
            });
        }
        ranges.push(Range {
            kind: range.kind,
            repo: range.repo,
            events,
        });
    }
    for (v, s) in a.versions.iter().enumerate() {
        check_len(&format!("{base}.versions[{v}]"), s, MAX_URL_LEN).map_err(Drop::Reject)?;
    }
    let severity = severities(&format!("{base}.severity"), a.severity).map_err(Drop::Reject)?;
    let entry = Affected {
        index: i,
        ecosystem: eco,
        name,
        purl: package.purl,
        ranges,
        versions: a.versions,
        severity,
        database_severity: a.database_specific.and_then(RawDatabaseSpecific::severity),
    };
    let mut warnings = Vec::new();
    match entry.compile() {
        Ok(compiled) => {
            for (r, status) in compiled.unevaluable() {
                warnings.push(RecordWarning {
                    path: format!("{base}.ranges[{r}]"),
                    reason: format!("not evaluated against package versions: {status:?}"),
                });
            }
            for (v, s, reason) in compiled.unparsed_versions() {
                warnings.push(RecordWarning {
                    path: format!("{base}.versions[{v}]"),
                    reason: format!("{s:?} does not parse ({reason}); it matches only verbatim"),
                });
            }
        }
        Err(reason) => warnings.push(RecordWarning {
            path: base,
            reason: format!("ranges cannot be evaluated, the entry will not match: {reason}"),
        }),
    }
    Ok((entry, warnings))
}

/// The ecosystem of an entry, when known (a convenience for callers holding
/// only the string).
pub fn ecosystem_of(s: &str) -> Option<Ecosystem> {
    Ecosystem::from_str(s).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
      "id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-01-02T03:04:05Z",
      "aliases": ["CVE-2024-1", "CVE-2024-1", "PYSEC-2024-9"],
      "summary": "s", "database_specific": {"severity": "MODERATE", "other": [1, {"x": 2}]},
      "affected": [
        {"package": {"ecosystem": "PyPI", "name": "Foo_Bar"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": 1.5}]}],
         "versions": null},
        {"package": {"ecosystem": "NotAnEcosystem", "name": "x"}}
      ],
      "unknown_field": {"deep": [1, 2, 3]}
    }"#;

    #[test]
    fn tolerant_and_normalised() {
        let p = parse_record(GOOD.as_bytes()).unwrap();
        let a = &p.advisory;
        assert_eq!(a.id, "GHSA-aaaa-bbbb-cccc");
        assert_eq!(a.aliases, vec!["CVE-2024-1", "PYSEC-2024-9"]);
        assert_eq!(a.database_severity.as_deref(), Some("MODERATE"));
        assert_eq!(a.affected.len(), 1);
        assert_eq!(
            a.affected.first().unwrap().ranges[0].events[1]
                .fixed
                .as_deref(),
            Some("1.5")
        );
        assert!(
            p.warnings
                .iter()
                .any(|w| w.path == "affected[1].package.ecosystem"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn wrong_types_name_the_path() {
        let bad = r#"{"id": "X-1", "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": "a"},
                          "ranges": [{"type": "SEMVER", "events": "nope"}]}]}"#;
        let e = parse_record(bad.as_bytes()).unwrap_err();
        assert_eq!(e.path, "affected[0].ranges[0].events");
        let bad = r#"{"id": 5, "modified": "2024-01-01T00:00:00Z"}"#;
        assert_eq!(parse_record(bad.as_bytes()).unwrap_err().path, "id");
        let bad = r#"{"id": "X", "modified": "yesterday"}"#;
        assert_eq!(parse_record(bad.as_bytes()).unwrap_err().path, "modified");
        let bad = r#"{"id": "X"}"#;
        assert_eq!(parse_record(bad.as_bytes()).unwrap_err().path, "modified");
        let bad = r#"{"id": "X", "modified": "2024-01-01T00:00:00Z"} trailing"#;
        assert_eq!(parse_record(bad.as_bytes()).unwrap_err().path, "$");
    }

    #[test]
    fn hostile_input_is_rejected_before_parsing() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = parse_record(deep.as_bytes()).unwrap_err();
        assert!(e.reason.contains("nested deeper"), "{e}");
        // Brackets inside strings do not count.
        let s = format!(
            r#"{{"id": "X", "modified": "2024-01-01T00:00:00Z", "summary": "{}"}}"#,
            "[".repeat(500)
        );
        assert!(parse_record(s.as_bytes()).is_ok());
        let huge = format!(
            r#"{{"id": "X", "modified": "2024-01-01T00:00:00Z", "summary": "{}"}}"#,
            "a".repeat(MAX_SUMMARY_LEN + 1)
        );
        assert_eq!(parse_record(huge.as_bytes()).unwrap_err().path, "summary");
        let big = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(parse_record(&big).unwrap_err().reason.contains("bytes"));
    }

    #[test]
    fn only_unknown_ecosystems_rejects_the_record() {
        let bad = r#"{"id": "X", "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "Nope", "name": "a"}}]}"#;
        let e = parse_record(bad.as_bytes()).unwrap_err();
        assert_eq!(e.path, "affected[0].package.ecosystem");
        assert!(e.reason.contains("unknown ecosystem"), "{e}");
        // An entry without a package (GIT ranges only) is kept out of
        // matching with a warning; the record is accepted.
        let git_only = r#"{"id": "CVE-1", "modified": "2024-01-01T00:00:00Z",
            "affected": [{"ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]}]}]}"#;
        let p = parse_record(git_only.as_bytes()).unwrap();
        assert!(p.advisory.affected.is_empty());
        assert_eq!(p.warnings[0].path, "affected[0].package");
        // No affected at all is fine (a CVE record that only aliases).
        let ok = r#"{"id": "X", "modified": "2024-01-01T00:00:00Z", "affected": []}"#;
        assert!(parse_record(ok.as_bytes()).is_ok());
    }

    #[test]
    fn aliases_relation_is_symmetric() {
        let a = Advisory {
            id: "GHSA-1".into(),
            aliases: vec!["CVE-1".into()],
            ..Default::default()
        };
        let b = Advisory {
            id: "PYSEC-1".into(),
            aliases: vec!["CVE-1".into()],
            ..Default::default()
        };
        let c = Advisory {
            id: "CVE-1".into(),
            ..Default::default()
        };
        let d = Advisory {
            id: "OTHER".into(),
            ..Default::default()
        };
        assert!(a.is_alias_of(&b) && b.is_alias_of(&a));
        assert!(a.is_alias_of(&c) && c.is_alias_of(&a));
        assert!(!a.is_alias_of(&d));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_record(&bytes);
        }
    }
}
