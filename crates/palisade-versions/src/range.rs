//! OSV range evaluation: `affected[].ranges` and `affected[].versions`.
//!
//! The design decision: an OSV range is *compiled* once into a set of
//! versions, [`VersionSet`] (sorted, disjoint intervals plus exact included
//! and excluded points), and every later question is a binary search over
//! pre-parsed versions, with no allocation. The purl `vers:` syntax
//! ([`crate::vers`]) compiles into the same [`VersionSet`], so the advisory
//! matcher has one representation whichever notation a record used.
//!
//! Compilation follows the OSV schema's "Evaluation" section exactly:
//!
//! * Events may come in any order; they are sorted by the range's version
//!   order, with `introduced: "0"` before every version. The pseudocode then
//!   lets the *last* event (in sorted order) whose condition holds decide:
//!   `introduced` holds when `v >= introduced`, `fixed` when `v >= fixed`,
//!   `last_affected` when `v > last_affected`. Instead of replaying that walk
//!   per query, we evaluate it once on every region between and at the event
//!   versions, which gives the same answer for every version.
//! * Events at equal versions (ties the spec leaves open) are ordered
//!   `introduced`, then `last_affected`, then `fixed`, so that
//!   `introduced: X, fixed: X` is empty whatever order the record wrote them
//!   in; the result never depends on the order of events in the record.
//! * `limit` events: a version is only considered when it is below at least
//!   one limit, which is the same as being below the greatest limit; a limit
//!   containing `*` is infinity. The cut is folded into the intervals.
//! * `SEMVER` ranges use SemVer 2.0 precedence whatever the ecosystem's
//!   scheme is. Where the ecosystem's own order agrees with SemVer on every
//!   SemVer string (SemVer itself, npm, Go), the bounds are parsed with the
//!   ecosystem's scheme so that a package version parsed once for its
//!   ecosystem compares directly; Go bounds get the `v` prefix Go requires
//!   (OSV writes Go versions without it). Elsewhere (PyPI, Pub...) the bounds
//!   are SemVer values and a query is re-read as SemVer.
//! * `ECOSYSTEM` ranges use the ecosystem's scheme. An ecosystem without an
//!   order (OSS-Fuzz) cannot evaluate them: [`VersionError::Unordered`].
//! * `GIT` ranges are kept, with their repository and events, and reported
//!   as [`RangeStatus::Git`]: they cannot be evaluated against a package
//!   version, and saying "not affected" for them would be a silent guess.
//! * `versions` are exact matches under the ecosystem's equality (so `1.0`
//!   matches `1.0.0` in PyPI). Listed strings that the ecosystem cannot parse
//!   are kept aside and still match a query string byte for byte.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{Ecosystem, MAX_VERSION_LEN, Scheme, Version, VersionError};

/// The most ranges one `affected[]` entry may hold.
pub const MAX_RANGES: usize = 1_024;
/// The most events one range may hold.
pub const MAX_EVENTS: usize = 4_096;
/// The most explicit versions one `affected[]` entry may list.
pub const MAX_LISTED_VERSIONS: usize = 100_000;

// ---------------------------------------------------------------------------
// Serde types: the JSON as OSV writes it, read tolerantly.
// ---------------------------------------------------------------------------

/// An OSV `affected[]` entry, reduced to what range evaluation needs. Unknown
/// fields (`ecosystem_specific`, `database_specific`, `severity`...) are
/// ignored; missing lists are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvAffected {
    /// The package; only its ecosystem matters here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<OsvPackage>,
    /// The affected ranges.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ranges: Vec<OsvRange>,
    /// Explicitly listed affected versions.
    #[serde(default, deserialize_with = "string_list")]
    pub versions: Vec<String>,
}

/// `affected[].package`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvPackage {
    /// The OSV ecosystem string, possibly with a release suffix (`Debian:12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
    /// The package name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The package URL, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// `affected[].ranges[]`. The type is kept as written so that an unknown
/// type is reported with the range's index instead of failing the whole
/// document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvRange {
    /// `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The repository of a `GIT` range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The events, in whatever order the record wrote them.
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<OsvEvent>,
}

/// One event. The spec allows exactly one of the four fields per event;
/// that rule is checked when compiling, with the event's index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvEvent {
    /// The version that introduced the vulnerability (`"0"`: before all).
    #[serde(
        default,
        deserialize_with = "opt_version_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub introduced: Option<String>,
    /// The version that fixed it.
    #[serde(
        default,
        deserialize_with = "opt_version_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub fixed: Option<String>,
    /// The last version known to be affected.
    #[serde(
        default,
        deserialize_with = "opt_version_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_affected: Option<String>,
    /// An upper limit on the range (`*`: none).
    #[serde(
        default,
        deserialize_with = "opt_version_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<String>,
}

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

fn opt_version_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<StringOrNumber>::deserialize(d)?.map(StringOrNumber::into_string))
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Option::<Vec<StringOrNumber>>::deserialize(d)?.unwrap_or_default();
    Ok(list.into_iter().map(StringOrNumber::into_string).collect())
}

// ---------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------

/// Why a range could not be compiled. Every variant names the range (its
/// index in `ranges[]`) and, where it applies, the event and field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// The input is not the expected JSON.
    #[error("invalid OSV JSON: {0}")]
    Json(String),
    /// The entry names no ecosystem and none was given.
    #[error("the affected entry has no package.ecosystem and no ecosystem was given")]
    NoEcosystem,
    /// `package.ecosystem` is not an OSV ecosystem.
    #[error("package.ecosystem: {0}")]
    Ecosystem(VersionError),
    /// The range type is not `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[error(
        "ranges[{range}].type: unknown range type {found:?} (expected SEMVER, ECOSYSTEM or GIT)"
    )]
    UnknownType {
        /// Index of the range.
        range: usize,
        /// The type as written.
        found: String,
    },
    /// The range has no events at all.
    #[error("ranges[{range}].events: a range needs at least one event")]
    NoEvents {
        /// Index of the range.
        range: usize,
    },
    /// The range has events but no `introduced` one, which the spec requires.
    #[error("ranges[{range}].events: no \"introduced\" event (the OSV schema requires one)")]
    NoIntroduced {
        /// Index of the range.
        range: usize,
    },
    /// An event has zero or several of the four fields.
    #[error("ranges[{range}].events[{event}]: {reason}")]
    EventShape {
        /// Index of the range.
        range: usize,
        /// Index of the event.
        event: usize,
        /// What is wrong.
        reason: String,
    },
    /// An event's version cannot be used.
    #[error("ranges[{range}].events[{event}].{field}: {source}")]
    EventVersion {
        /// Index of the range.
        range: usize,
        /// Index of the event.
        event: usize,
        /// `introduced`, `fixed`, `last_affected` or `limit`.
        field: &'static str,
        /// The version error.
        source: VersionError,
    },
    /// The ecosystem has no order, so the range cannot be evaluated.
    #[error("ranges[{range}]: {source}")]
    Unordered {
        /// Index of the range.
        range: usize,
        /// Always [`VersionError::Unordered`].
        source: VersionError,
    },
    /// A size limit was exceeded.
    #[error("{what}: {found} exceeds the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: String,
        /// Its size.
        found: usize,
        /// The limit.
        limit: usize,
    },
}

// ---------------------------------------------------------------------------
// Intervals and version sets: the compiled representation shared with vers.
// ---------------------------------------------------------------------------

/// One end of an [`Interval`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Bound<V = Version> {
    /// No bound: below (or above) every version.
    Unbounded,
    /// The bound version is inside the interval.
    Inclusive(V),
    /// The bound version is outside the interval.
    Exclusive(V),
}

impl<V> Bound<V> {
    /// The bound's version, if it has one.
    pub fn version(&self) -> Option<&V> {
        match self {
            Bound::Unbounded => None,
            Bound::Inclusive(v) | Bound::Exclusive(v) => Some(v),
        }
    }
}

/// A non-empty interval of versions. Intervals in a [`VersionSet`] are
/// sorted and disjoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Interval<V = Version> {
    /// The lower end.
    pub lower: Bound<V>,
    /// The upper end.
    pub upper: Bound<V>,
}

impl<V: Ord> Interval<V> {
    /// The interval of every version.
    pub fn all() -> Interval<V> {
        Interval {
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
        }
    }

    /// Whether `v` is at or above the lower end.
    #[inline]
    pub fn admits_from_below(&self, v: &V) -> bool {
        match &self.lower {
            Bound::Unbounded => true,
            Bound::Inclusive(l) => v >= l,
            Bound::Exclusive(l) => v > l,
        }
    }

    /// Whether `v` is at or below the upper end.
    #[inline]
    pub fn admits_from_above(&self, v: &V) -> bool {
        match &self.upper {
            Bound::Unbounded => true,
            Bound::Inclusive(u) => v <= u,
            Bound::Exclusive(u) => v < u,
        }
    }

    /// Whether `v` is inside the interval.
    #[inline]
    pub fn contains(&self, v: &V) -> bool {
        self.admits_from_below(v) && self.admits_from_above(v)
    }
}

impl<V: fmt::Display> fmt::Display for Interval<V> {
    /// Mathematical notation: `[1.0, 2.0)`, `(-inf, 3)`, `[4.1, +inf)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.lower {
            Bound::Unbounded => f.write_str("(-inf")?,
            Bound::Inclusive(v) => write!(f, "[{v}")?,
            Bound::Exclusive(v) => write!(f, "({v}")?,
        }
        f.write_str(", ")?;
        match &self.upper {
            Bound::Unbounded => f.write_str("+inf)"),
            Bound::Inclusive(v) => write!(f, "{v}]"),
            Bound::Exclusive(v) => write!(f, "{v})"),
        }
    }
}

/// Why a version is in a [`VersionSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetMatch<'a, V = Version> {
    /// It lies in this interval.
    Interval(&'a Interval<V>),
    /// It equals this listed version.
    Exact(&'a V),
}

/// A set of versions of one scheme: sorted disjoint intervals, plus exact
/// versions included, minus exact versions excluded (exclusions win). OSV
/// ranges and `vers:` ranges both compile to this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionSet<V = Version> {
    intervals: Vec<Interval<V>>,
    included: Vec<V>,
    excluded: Vec<V>,
}

impl<V> Default for VersionSet<V> {
    fn default() -> Self {
        VersionSet {
            intervals: Vec::new(),
            included: Vec::new(),
            excluded: Vec::new(),
        }
    }
}

impl<V: Ord> VersionSet<V> {
    /// Builds a set. Intervals may come in any order and overlap; they are
    /// merged. Empty intervals are dropped.
    pub fn new(intervals: Vec<Interval<V>>, included: Vec<V>, excluded: Vec<V>) -> Self {
        let mut included = included;
        included.sort();
        included.dedup();
        let mut excluded = excluded;
        excluded.sort();
        excluded.dedup();
        VersionSet {
            intervals: normalise_intervals(intervals),
            included,
            excluded,
        }
    }

    /// The set of every version.
    pub fn all() -> Self {
        VersionSet {
            intervals: vec![Interval::all()],
            included: Vec::new(),
            excluded: Vec::new(),
        }
    }

    /// The empty set.
    pub fn empty() -> Self {
        VersionSet::default()
    }

    /// The sorted, disjoint intervals.
    pub fn intervals(&self) -> &[Interval<V>] {
        &self.intervals
    }

    /// The exact versions included outside the intervals.
    pub fn included(&self) -> &[V] {
        &self.included
    }

    /// The exact versions excluded (they win over intervals and inclusions).
    pub fn excluded(&self) -> &[V] {
        &self.excluded
    }

    /// Whether nothing at all is in the set.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty() && self.included.is_empty()
    }

    /// Whether `v` is in the set. Allocation-free: two binary searches.
    #[inline]
    pub fn contains(&self, v: &V) -> bool {
        self.find(v).is_some()
    }

    /// Why `v` is in the set, or `None`.
    pub fn find(&self, v: &V) -> Option<SetMatch<'_, V>> {
        if !self.excluded.is_empty() && self.excluded.binary_search(v).is_ok() {
            return None;
        }
        if let Ok(i) = self.included.binary_search(v) {
            return self.included.get(i).map(SetMatch::Exact);
        }
        // Intervals are sorted and disjoint, so "the lower end admits v" holds
        // for a prefix of them; only the last of that prefix can contain v.
        let n = self.intervals.partition_point(|iv| iv.admits_from_below(v));
        let candidate = self.intervals.get(n.checked_sub(1)?)?;
        candidate
            .admits_from_above(v)
            .then_some(SetMatch::Interval(candidate))
    }
}

/// Compares two lower bounds: which one starts lower.
fn cmp_lower<V: Ord>(a: &Bound<V>, b: &Bound<V>) -> Ordering {
    match (a, b) {
        (Bound::Unbounded, Bound::Unbounded) => Ordering::Equal,
        (Bound::Unbounded, _) => Ordering::Less,
        (_, Bound::Unbounded) => Ordering::Greater,
        (Bound::Inclusive(x), Bound::Inclusive(y)) | (Bound::Exclusive(x), Bound::Exclusive(y)) => {
            x.cmp(y)
        }
        (Bound::Inclusive(x), Bound::Exclusive(y)) => x.cmp(y).then(Ordering::Less),
        (Bound::Exclusive(x), Bound::Inclusive(y)) => x.cmp(y).then(Ordering::Greater),
    }
}

/// Compares two upper bounds: which one ends higher.
fn cmp_upper<V: Ord>(a: &Bound<V>, b: &Bound<V>) -> Ordering {
    match (a, b) {
        (Bound::Unbounded, Bound::Unbounded) => Ordering::Equal,
        (Bound::Unbounded, _) => Ordering::Greater,
        (_, Bound::Unbounded) => Ordering::Less,
        (Bound::Inclusive(x), Bound::Inclusive(y)) | (Bound::Exclusive(x), Bound::Exclusive(y)) => {
            x.cmp(y)
        }
        (Bound::Inclusive(x), Bound::Exclusive(y)) => x.cmp(y).then(Ordering::Greater),
        (Bound::Exclusive(x), Bound::Inclusive(y)) => x.cmp(y).then(Ordering::Less),
    }
}

/// Whether an interval ending at `upper` touches or overlaps one starting at
/// `lower`, so that the two merge into one.
fn touches<V: Ord>(upper: &Bound<V>, lower: &Bound<V>) -> bool {
    match (upper, lower) {
        (Bound::Unbounded, _) | (_, Bound::Unbounded) => true,
        (Bound::Inclusive(u), Bound::Inclusive(l))
        | (Bound::Inclusive(u), Bound::Exclusive(l))
        | (Bound::Exclusive(u), Bound::Inclusive(l)) => l <= u,
        // `..u)` and `(u..` leave `u` itself out.
        (Bound::Exclusive(u), Bound::Exclusive(l)) => l < u,
    }
}

fn is_empty_interval<V: Ord>(iv: &Interval<V>) -> bool {
    match (&iv.lower, &iv.upper) {
        (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
        (Bound::Inclusive(l), Bound::Inclusive(u)) => l > u,
        (Bound::Inclusive(l), Bound::Exclusive(u))
        | (Bound::Exclusive(l), Bound::Inclusive(u))
        | (Bound::Exclusive(l), Bound::Exclusive(u)) => l >= u,
    }
}

/// Sorts intervals, drops empty ones and merges the ones that touch.
fn normalise_intervals<V: Ord>(mut intervals: Vec<Interval<V>>) -> Vec<Interval<V>> {
    intervals.retain(|iv| !is_empty_interval(iv));
    intervals.sort_by(|a, b| cmp_lower(&a.lower, &b.lower));
    let mut out: Vec<Interval<V>> = Vec::with_capacity(intervals.len());
    for iv in intervals {
        match out.last_mut() {
            Some(last) if touches(&last.upper, &iv.lower) => {
                if cmp_upper(&iv.upper, &last.upper) == Ordering::Greater {
                    last.upper = iv.upper;
                }
            }
            _ => out.push(iv),
        }
    }
    out
}

/// Cuts every interval at `limit` (exclusive): the OSV `limit` rule.
fn cap_intervals<V: Ord + Clone>(intervals: Vec<Interval<V>>, limit: &V) -> Vec<Interval<V>> {
    let mut out = Vec::with_capacity(intervals.len());
    for mut iv in intervals {
        let starts_below = match &iv.lower {
            Bound::Unbounded => true,
            Bound::Inclusive(l) | Bound::Exclusive(l) => l < limit,
        };
        if !starts_below {
            continue;
        }
        let ends_below = match &iv.upper {
            Bound::Unbounded => false,
            Bound::Inclusive(u) => u < limit,
            Bound::Exclusive(u) => u <= limit,
        };
        if !ends_below {
            iv.upper = Bound::Exclusive(limit.clone());
        }
        out.push(iv);
    }
    out
}

// ---------------------------------------------------------------------------
// Compiled OSV ranges.
// ---------------------------------------------------------------------------

/// The type of an OSV range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum RangeType {
    /// `SEMVER`: SemVer 2.0 precedence.
    #[serde(rename = "SEMVER")]
    SemVer,
    /// `ECOSYSTEM`: the ecosystem's own order.
    #[serde(rename = "ECOSYSTEM")]
    Ecosystem,
    /// `GIT`: commit hashes in a repository's history.
    #[serde(rename = "GIT")]
    Git,
}

impl RangeType {
    /// Parses the `type` field (exact, as the schema spells it; ASCII case
    /// is ignored because some producers lower-case it).
    pub fn from_osv(s: &str) -> Option<RangeType> {
        if s.eq_ignore_ascii_case("SEMVER") {
            Some(RangeType::SemVer)
        } else if s.eq_ignore_ascii_case("ECOSYSTEM") {
            Some(RangeType::Ecosystem)
        } else if s.eq_ignore_ascii_case("GIT") {
            Some(RangeType::Git)
        } else {
            None
        }
    }

    /// The name as the schema spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeType::SemVer => "SEMVER",
            RangeType::Ecosystem => "ECOSYSTEM",
            RangeType::Git => "GIT",
        }
    }
}

impl fmt::Display for RangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a compiled range can answer for a package version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeStatus {
    /// The range is evaluated against package versions.
    Evaluable,
    /// A `GIT` range: commits, which only the repository's history orders.
    Git {
        /// The repository, as the record gave it.
        repo: Option<String>,
    },
    /// An `ECOSYSTEM` range of an ecosystem without a version order.
    Unordered(Ecosystem),
}

/// A compiled range of an `affected[]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledRange {
    index: usize,
    kind: RangeType,
    status: RangeStatus,
    /// The scheme whose order the bounds were parsed with.
    scheme: Scheme,
    set: VersionSet,
    /// `fixed` events, sorted by version, with the string as written.
    fixed: Vec<(Version, String)>,
    /// `last_affected` events, sorted by version, as written.
    last_affected: Vec<(Version, String)>,
    /// The range as the record wrote it (for reporting, and GIT ranges).
    source: OsvRange,
}

/// Which kind of event, in the tie order used at equal versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum EventKind {
    Introduced,
    LastAffected,
    Fixed,
}

/// Whether an ecosystem's scheme orders every SemVer 2.0 string exactly as
/// SemVer precedence does, so that SEMVER bounds may use it.
fn semver_compatible(scheme: Scheme) -> bool {
    matches!(scheme, Scheme::SemVer | Scheme::Npm | Scheme::Go)
}

/// Parses a bound of a range of `kind` in `ecosystem`, with the scheme the
/// range compares by.
pub(crate) fn parse_bound(
    ecosystem: Ecosystem,
    scheme: Scheme,
    input: &str,
) -> Result<Version, VersionError> {
    let invalid = |reason: String| VersionError::Invalid {
        ecosystem,
        version: input.chars().take(MAX_VERSION_LEN).collect(),
        reason,
    };
    match Version::parse_scheme(scheme, input) {
        Ok(v) => Ok(v),
        Err(reason) => {
            // Go versions carry a `v` prefix; OSV and purl write them without.
            if scheme == Scheme::Go
                && !input.starts_with('v')
                && let Ok(v) = Version::parse_scheme(scheme, &format!("v{input}"))
            {
                return Ok(v);
            }
            Err(invalid(reason))
        }
    }
}

impl CompiledRange {
    /// Compiles range number `index` of an entry of `ecosystem`.
    ///
    /// A `GIT` range compiles to status [`RangeStatus::Git`]. An `ECOSYSTEM`
    /// range of an unordered ecosystem is [`RangeError::Unordered`]; use
    /// [`AffectedRanges::compile`] to keep such a range with a status instead.
    pub fn compile(
        ecosystem: Ecosystem,
        index: usize,
        range: &OsvRange,
    ) -> Result<CompiledRange, RangeError> {
        let kind = RangeType::from_osv(&range.kind).ok_or_else(|| RangeError::UnknownType {
            range: index,
            found: range.kind.chars().take(64).collect(),
        })?;
        if range.events.len() > MAX_EVENTS {
            return Err(RangeError::TooLarge {
                what: format!("ranges[{index}].events"),
                found: range.events.len(),
                limit: MAX_EVENTS,
            });
        }
        if range.events.is_empty() {
            return Err(RangeError::NoEvents { range: index });
        }
        // Shape first, for every type: exactly one field per event.
        let mut has_introduced = false;
        for (e, event) in range.events.iter().enumerate() {
            let fields = event_fields(event);
            let count = fields.iter().filter(|(_, v)| v.is_some()).count();
            if count != 1 {
                let reason = if count == 0 {
                    "an event needs one of introduced, fixed, last_affected or limit".to_owned()
                } else {
                    let names: Vec<&str> = fields
                        .iter()
                        .filter(|(_, v)| v.is_some())
                        .map(|(n, _)| *n)
                        .collect();
                    format!(
                        "an event may hold only one field, found {}",
                        names.join(", ")
                    )
                };
                return Err(RangeError::EventShape {
                    range: index,
                    event: e,
                    reason,
                });
            }
            has_introduced |= event.introduced.is_some();
        }
        if !has_introduced {
            return Err(RangeError::NoIntroduced { range: index });
        }

        let scheme = match kind {
            RangeType::Git => {
                return Ok(CompiledRange {
                    index,
                    kind,
                    status: RangeStatus::Git {
                        repo: range.repo.clone(),
                    },
                    scheme: ecosystem.scheme(),
                    set: VersionSet::empty(),
                    fixed: Vec::new(),
                    last_affected: Vec::new(),
                    source: range.clone(),
                });
            }
            RangeType::SemVer if semver_compatible(ecosystem.scheme()) => ecosystem.scheme(),
            RangeType::SemVer => Scheme::SemVer,
            RangeType::Ecosystem if ecosystem.scheme() == Scheme::Opaque => {
                return Err(RangeError::Unordered {
                    range: index,
                    source: VersionError::Unordered(ecosystem),
                });
            }
            RangeType::Ecosystem => ecosystem.scheme(),
        };

        let mut events: Vec<(Option<Version>, EventKind)> = Vec::with_capacity(range.events.len());
        let mut fixed = Vec::new();
        let mut last_affected = Vec::new();
        // `None`: no limit event, or a `*` limit, so no cut.
        let mut limit: Option<Version> = None;
        let mut unlimited = false;
        let mut any_limit = false;
        for (e, event) in range.events.iter().enumerate() {
            let err = |field: &'static str, source: VersionError| RangeError::EventVersion {
                range: index,
                event: e,
                field,
                source,
            };
            if let Some(s) = &event.introduced {
                if s == "0" {
                    events.push((None, EventKind::Introduced));
                } else {
                    let v = parse_bound(ecosystem, scheme, s).map_err(|x| err("introduced", x))?;
                    events.push((Some(v), EventKind::Introduced));
                }
            } else if let Some(s) = &event.fixed {
                let v = parse_bound(ecosystem, scheme, s).map_err(|x| err("fixed", x))?;
                fixed.push((v.clone(), s.clone()));
                events.push((Some(v), EventKind::Fixed));
            } else if let Some(s) = &event.last_affected {
                let v = parse_bound(ecosystem, scheme, s).map_err(|x| err("last_affected", x))?;
                last_affected.push((v.clone(), s.clone()));
                events.push((Some(v), EventKind::LastAffected));
            } else if let Some(s) = &event.limit {
                any_limit = true;
                if s.contains('*') {
                    unlimited = true;
                } else {
                    let v = parse_bound(ecosystem, scheme, s).map_err(|x| err("limit", x))?;
                    if limit.as_ref().is_none_or(|l| &v > l) {
                        limit = Some(v);
                    }
                }
            }
        }
        fixed.sort_by(|a, b| a.0.cmp(&b.0));
        last_affected.sort_by(|a, b| a.0.cmp(&b.0));

        let mut intervals = intervals_from_events(events);
        if any_limit
            && !unlimited
            && let Some(l) = &limit
        {
            intervals = cap_intervals(intervals, l);
        }
        Ok(CompiledRange {
            index,
            kind,
            status: RangeStatus::Evaluable,
            scheme,
            set: VersionSet::new(intervals, Vec::new(), Vec::new()),
            fixed,
            last_affected,
            source: range.clone(),
        })
    }

    /// The range's index in the record's `ranges[]`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The range type.
    pub fn kind(&self) -> RangeType {
        self.kind
    }

    /// Whether this range is evaluated against package versions.
    pub fn status(&self) -> &RangeStatus {
        &self.status
    }

    /// The scheme the bounds were parsed with (for a `SEMVER` range of a
    /// non-SemVer ecosystem, [`Scheme::SemVer`]).
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The affected versions as a set (empty for a range that cannot be
    /// evaluated).
    pub fn set(&self) -> &VersionSet {
        &self.set
    }

    /// The `fixed` events, sorted by version, as the record wrote them.
    pub fn fixed(&self) -> impl Iterator<Item = &str> {
        self.fixed.iter().map(|(_, s)| s.as_str())
    }

    /// The `last_affected` events, sorted by version, as written.
    pub fn last_affected(&self) -> impl Iterator<Item = &str> {
        self.last_affected.iter().map(|(_, s)| s.as_str())
    }

    /// The range as the record wrote it.
    pub fn source(&self) -> &OsvRange {
        &self.source
    }

    /// The interval containing `v`, if any. `v` must be of this range's
    /// scheme ([`CompiledRange::scheme`]); a version of another scheme is
    /// never inside.
    #[inline]
    pub fn find(&self, v: &Version) -> Option<&Interval> {
        if self.status != RangeStatus::Evaluable || v.scheme() != self.scheme {
            return None;
        }
        match self.set.find(v) {
            Some(SetMatch::Interval(iv)) => Some(iv),
            _ => None,
        }
    }

    /// The smallest `fixed` version above `v`: the upgrade that leaves this
    /// range.
    pub fn fix_for(&self, v: &Version) -> Option<&str> {
        if v.scheme() != self.scheme {
            return None;
        }
        let i = self.fixed.partition_point(|(f, _)| f <= v);
        self.fixed.get(i).map(|(_, s)| s.as_str())
    }
}

fn event_fields(e: &OsvEvent) -> [(&'static str, Option<&String>); 4] {
    [
        ("introduced", e.introduced.as_ref()),
        ("fixed", e.fixed.as_ref()),
        ("last_affected", e.last_affected.as_ref()),
        ("limit", e.limit.as_ref()),
    ]
}

/// Turns events (version `None` = `introduced: "0"`) into the intervals where
/// the OSV pseudocode answers "vulnerable".
///
/// Sorted by version (ties: introduced, last_affected, fixed), the answer for
/// a version `v` is the value of the last event whose condition holds at `v`.
/// Between two consecutive event versions every event at or below the lower
/// one holds, so the answer there is the last event of that group; at an
/// event version itself, `introduced` and `fixed` hold but `last_affected`
/// does not. The answer is thus constant on each open region and each point,
/// and we list the regions where it is true.
fn intervals_from_events<V: Ord + Clone>(
    mut events: Vec<(Option<V>, EventKind)>,
) -> Vec<Interval<V>> {
    events.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => a.1.cmp(&b.1),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y).then(a.1.cmp(&b.1)),
    });
    // The answer below every event version.
    let mut region = events.iter().any(|(v, _)| v.is_none());
    let mut intervals: Vec<Interval<V>> = Vec::new();
    // The lower bound of the interval being built, while the answer is true.
    let mut open: Option<Bound<V>> = region.then_some(Bound::Unbounded);
    let mut i = 0;
    let versioned: Vec<&(Option<V>, EventKind)> =
        events.iter().filter(|(v, _)| v.is_some()).collect();
    while i < versioned.len() {
        let Some((Some(x), _)) = versioned.get(i).copied() else {
            break;
        };
        let mut j = i;
        let mut at_point = region;
        let mut after = region;
        while let Some((Some(y), k)) = versioned.get(j).copied() {
            if y != x {
                break;
            }
            let value = *k == EventKind::Introduced;
            if *k != EventKind::LastAffected {
                at_point = value;
            }
            after = value;
            j += 1;
        }
        // Region before x had value `region`; then the point x; then after.
        match (region, at_point) {
            (true, false) => {
                if let Some(lower) = open.take() {
                    intervals.push(Interval {
                        lower,
                        upper: Bound::Exclusive(x.clone()),
                    });
                }
            }
            (false, true) => open = Some(Bound::Inclusive(x.clone())),
            _ => {}
        }
        match (at_point, after) {
            (true, false) => {
                if let Some(lower) = open.take() {
                    intervals.push(Interval {
                        lower,
                        upper: Bound::Inclusive(x.clone()),
                    });
                }
            }
            (false, true) => open = Some(Bound::Exclusive(x.clone())),
            _ => {}
        }
        region = after;
        i = j;
    }
    if let Some(lower) = open {
        intervals.push(Interval {
            lower,
            upper: Bound::Unbounded,
        });
    }
    intervals
}

/// A listed version of `affected[].versions`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Listed {
    version: Version,
    /// Its index in the record's list.
    index: usize,
}

/// A compiled `affected[]` entry: its ranges and listed versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffectedRanges {
    ecosystem: Ecosystem,
    ranges: Vec<CompiledRange>,
    /// Ranges that cannot be evaluated, by index, with why.
    unevaluable: Vec<(usize, RangeStatus)>,
    /// Listed versions that parsed, sorted by version.
    listed: Vec<Listed>,
    /// Listed strings that did not parse, with their index and reason.
    unparsed: Vec<(usize, String, String)>,
}

/// Why a version is affected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AffectedBy<'a> {
    /// It lies in an interval of a range.
    Range {
        /// The range's index in `ranges[]`.
        range: usize,
        /// The interval.
        interval: &'a Interval,
        /// The smallest `fixed` version above it in that range, if any.
        fixed: Option<&'a str>,
    },
    /// It equals a version listed in `versions[]`.
    Listed {
        /// The index in `versions[]`.
        index: usize,
    },
}

/// The full answer for one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation<'a> {
    /// Why the version is affected; `None` when no evaluable range and no
    /// listed version matches.
    pub affected_by: Option<AffectedBy<'a>>,
    /// Ranges that could not be evaluated (GIT, unordered), by index. When
    /// `affected_by` is `None` and this is not empty, "not affected" only
    /// holds for what could be evaluated.
    pub unevaluable: &'a [(usize, RangeStatus)],
}

impl AffectedRanges {
    /// Compiles an entry; the ecosystem comes from `package.ecosystem`.
    pub fn from_osv(entry: &OsvAffected) -> Result<AffectedRanges, RangeError> {
        let name = entry
            .package
            .as_ref()
            .and_then(|p| p.ecosystem.as_deref())
            .ok_or(RangeError::NoEcosystem)?;
        let eco = name.parse::<Ecosystem>().map_err(RangeError::Ecosystem)?;
        AffectedRanges::compile(eco, entry)
    }

    /// Parses and compiles JSON: a whole `affected[]` entry (an object with
    /// `ranges`, `versions` or `package`) or a single range object (with
    /// `type` or `events`), evaluated in `ecosystem`.
    pub fn from_json(ecosystem: Ecosystem, json: &str) -> Result<AffectedRanges, RangeError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| RangeError::Json(e.to_string()))?;
        let is_range = value
            .as_object()
            .is_some_and(|o| o.contains_key("events") || o.contains_key("type"));
        let entry = if is_range {
            let range: OsvRange =
                serde_json::from_value(value).map_err(|e| RangeError::Json(e.to_string()))?;
            OsvAffected {
                package: None,
                ranges: vec![range],
                versions: Vec::new(),
            }
        } else {
            serde_json::from_value(value).map_err(|e| RangeError::Json(e.to_string()))?
        };
        AffectedRanges::compile(ecosystem, &entry)
    }

    /// Compiles an entry in `ecosystem` (`package.ecosystem` is not read).
    ///
    /// `GIT` ranges, and `ECOSYSTEM` ranges of an unordered ecosystem, are
    /// kept with a [`RangeStatus`] saying why they are not evaluated, so that
    /// the `versions` list still answers. Every other problem is an error.
    pub fn compile(
        ecosystem: Ecosystem,
        entry: &OsvAffected,
    ) -> Result<AffectedRanges, RangeError> {
        if entry.ranges.len() > MAX_RANGES {
            return Err(RangeError::TooLarge {
                what: "ranges".to_owned(),
                found: entry.ranges.len(),
                limit: MAX_RANGES,
            });
        }
        if entry.versions.len() > MAX_LISTED_VERSIONS {
            return Err(RangeError::TooLarge {
                what: "versions".to_owned(),
                found: entry.versions.len(),
                limit: MAX_LISTED_VERSIONS,
            });
        }
        let mut ranges = Vec::with_capacity(entry.ranges.len());
        let mut unevaluable = Vec::new();
        for (i, r) in entry.ranges.iter().enumerate() {
            match CompiledRange::compile(ecosystem, i, r) {
                Ok(c) => {
                    if c.status != RangeStatus::Evaluable {
                        unevaluable.push((i, c.status.clone()));
                    }
                    ranges.push(c);
                }
                Err(RangeError::Unordered { range, .. }) => {
                    let status = RangeStatus::Unordered(ecosystem);
                    unevaluable.push((range, status.clone()));
                    ranges.push(CompiledRange {
                        index: range,
                        kind: RangeType::Ecosystem,
                        status,
                        scheme: ecosystem.scheme(),
                        set: VersionSet::empty(),
                        fixed: Vec::new(),
                        last_affected: Vec::new(),
                        source: r.clone(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let mut listed = Vec::with_capacity(entry.versions.len());
        let mut unparsed = Vec::new();
        for (index, s) in entry.versions.iter().enumerate() {
            match Version::parse(ecosystem, s) {
                Ok(version) => listed.push(Listed { version, index }),
                Err(e) => unparsed.push((index, s.clone(), e.to_string())),
            }
        }
        listed.sort_by(|a, b| a.version.cmp(&b.version).then(a.index.cmp(&b.index)));
        Ok(AffectedRanges {
            ecosystem,
            ranges,
            unevaluable,
            listed,
            unparsed,
        })
    }

    /// The ecosystem the entry was compiled for.
    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// The compiled ranges, in record order (GIT ranges included).
    pub fn ranges(&self) -> &[CompiledRange] {
        &self.ranges
    }

    /// Ranges that are not evaluated against package versions, and why.
    pub fn unevaluable(&self) -> &[(usize, RangeStatus)] {
        &self.unevaluable
    }

    /// Listed versions the ecosystem could not parse: (index, string,
    /// reason). They still match a query string exactly
    /// ([`AffectedRanges::is_affected_str`]).
    pub fn unparsed_versions(&self) -> &[(usize, String, String)] {
        &self.unparsed
    }

    /// Every `fixed` version of the evaluable ranges, as written, in range
    /// order and then version order.
    pub fn fixed_versions(&self) -> Vec<&str> {
        self.ranges
            .iter()
            .filter(|r| r.status == RangeStatus::Evaluable)
            .flat_map(|r| r.fixed())
            .collect()
    }

    /// Whether `v`, parsed for this entry's ecosystem, is affected: inside an
    /// evaluable range or equal to a listed version.
    ///
    /// Allocation-free, except for a `SEMVER` range in an ecosystem whose
    /// order is not SemVer's (PyPI, Pub...), where `v` is re-read as SemVer.
    pub fn is_affected(&self, v: &Version) -> bool {
        if self.find_listed(v).is_some() {
            return true;
        }
        self.ranges.iter().any(|r| range_contains(r, v))
    }

    /// Parses `input` for this entry's ecosystem and evaluates it. A string
    /// that does not parse is affected only if listed verbatim.
    pub fn is_affected_str(&self, input: &str) -> Result<bool, VersionError> {
        if self.unparsed.iter().any(|(_, s, _)| s == input) {
            return Ok(true);
        }
        let v = Version::parse(self.ecosystem, input)?;
        Ok(self.is_affected(&v))
    }

    /// The full answer for `v`: what matched, and which ranges were not
    /// evaluated.
    pub fn evaluate(&self, v: &Version) -> Evaluation<'_> {
        let affected_by = self
            .find_listed(v)
            .map(|index| AffectedBy::Listed { index })
            .or_else(|| {
                self.ranges.iter().find_map(|r| {
                    let converted;
                    let q = if v.scheme() == r.scheme {
                        v
                    } else if r.kind == RangeType::SemVer {
                        converted = semver_view(v)?;
                        &converted
                    } else {
                        return None;
                    };
                    r.find(q).map(|interval| AffectedBy::Range {
                        range: r.index,
                        interval,
                        fixed: r.fix_for(q),
                    })
                })
            });
        Evaluation {
            affected_by,
            unevaluable: &self.unevaluable,
        }
    }

    fn find_listed(&self, v: &Version) -> Option<usize> {
        let i = self.listed.partition_point(|l| &l.version < v);
        self.listed
            .get(i)
            .filter(|l| &l.version == v)
            .map(|l| l.index)
    }
}

/// `v` read as a SemVer 2.0 version, for a SEMVER range of an ecosystem
/// whose own order differs.
fn semver_view(v: &Version) -> Option<Version> {
    Version::parse_scheme(Scheme::SemVer, &v.to_string()).ok()
}

fn range_contains(r: &CompiledRange, v: &Version) -> bool {
    if r.status != RangeStatus::Evaluable {
        return false;
    }
    if v.scheme() == r.scheme {
        return r.set.contains(v);
    }
    if r.kind == RangeType::SemVer {
        return semver_view(v).is_some_and(|s| r.set.contains(&s));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserialises_tolerantly() {
        let json = r#"{"package":{"ecosystem":"PyPI","name":"x"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":1.5}],
            "database_specific":{"a":1}}],"versions":null,"ecosystem_specific":{}}"#;
        let a: OsvAffected = serde_json::from_str(json).unwrap_or_default();
        assert_eq!(a.ranges.len(), 1);
        assert_eq!(a.ranges[0].events[1].fixed.as_deref(), Some("1.5"));
        assert!(a.versions.is_empty());
    }

    #[test]
    fn shape_errors_name_the_event() {
        let r = OsvRange {
            kind: "ECOSYSTEM".into(),
            repo: None,
            events: vec![
                OsvEvent {
                    introduced: Some("0".into()),
                    ..Default::default()
                },
                OsvEvent {
                    introduced: Some("1".into()),
                    fixed: Some("2".into()),
                    ..Default::default()
                },
            ],
        };
        let err = CompiledRange::compile(Ecosystem::PyPI, 3, &r).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(
                "ranges[3].events[1]: an event may hold only one field, found introduced, fixed"
                    .to_owned()
            )
        );
    }

    #[test]
    fn unknown_type_and_missing_introduced() {
        let r = OsvRange {
            kind: "SEMVERX".into(),
            repo: None,
            events: vec![],
        };
        assert!(matches!(
            CompiledRange::compile(Ecosystem::Npm, 0, &r),
            Err(RangeError::UnknownType { range: 0, .. })
        ));
        let r = OsvRange {
            kind: "SEMVER".into(),
            repo: None,
            events: vec![OsvEvent {
                fixed: Some("1.0.0".into()),
                ..Default::default()
            }],
        };
        assert_eq!(
            CompiledRange::compile(Ecosystem::Npm, 2, &r),
            Err(RangeError::NoIntroduced { range: 2 })
        );
    }

    #[test]
    fn git_ranges_are_kept_not_evaluated() {
        let json = r#"{"ranges":[{"type":"GIT","repo":"https://example.invalid/r",
            "events":[{"introduced":"abc"},{"fixed":"def"}]}],"versions":[]}"#;
        let a = AffectedRanges::from_json(Ecosystem::OssFuzz, json);
        assert!(a.is_ok(), "{a:?}");
        let Ok(a) = a else { return };
        assert_eq!(a.unevaluable().len(), 1);
        assert!(matches!(a.unevaluable()[0].1, RangeStatus::Git { .. }));
        assert_eq!(a.ranges()[0].kind(), RangeType::Git);
    }

    #[test]
    fn unordered_ecosystem_range_is_typed() {
        let r = OsvRange {
            kind: "ECOSYSTEM".into(),
            repo: None,
            events: vec![OsvEvent {
                introduced: Some("0".into()),
                ..Default::default()
            }],
        };
        assert_eq!(
            CompiledRange::compile(Ecosystem::OssFuzz, 1, &r),
            Err(RangeError::Unordered {
                range: 1,
                source: VersionError::Unordered(Ecosystem::OssFuzz)
            })
        );
        let entry = OsvAffected {
            package: None,
            ranges: vec![r],
            versions: vec![],
        };
        let a = AffectedRanges::compile(Ecosystem::OssFuzz, &entry);
        assert!(matches!(
            a.as_ref().map(|a| a.unevaluable().to_vec()),
            Ok(v) if v == vec![(0, RangeStatus::Unordered(Ecosystem::OssFuzz))]
        ));
    }

    use EventKind::{Fixed as F, Introduced as I, LastAffected as L};

    /// The OSV pseudocode, literally: sort, then walk the events.
    fn spec_walk(v: u32, events: &[(Option<u32>, EventKind)]) -> bool {
        let mut sorted = events.to_vec();
        sorted.sort_by(|a, b| match (a.0, b.0) {
            (None, None) => a.1.cmp(&b.1),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(&y).then(a.1.cmp(&b.1)),
        });
        let mut vulnerable = false;
        for (ev, kind) in sorted {
            let ev = ev.unwrap_or(0);
            match kind {
                I if v >= ev => vulnerable = true,
                F if v >= ev => vulnerable = false,
                L if v > ev => vulnerable = false,
                _ => {}
            }
        }
        vulnerable
    }

    fn set_of(events: Vec<(Option<u32>, EventKind)>) -> VersionSet<u32> {
        VersionSet::new(intervals_from_events(events), vec![], vec![])
    }

    #[test]
    fn basic_event_shapes() {
        // introduced 0, fixed 5: everything below 5.
        let s = set_of(vec![(None, I), (Some(5), F)]);
        assert!(s.contains(&0) && s.contains(&4) && !s.contains(&5));
        assert_eq!(s.intervals().len(), 1);
        // last_affected 5 includes 5.
        let s = set_of(vec![(Some(2), I), (Some(5), L)]);
        assert!(!s.contains(&1) && s.contains(&2) && s.contains(&5) && !s.contains(&6));
        // Two ranges in one, written out of order.
        let s = set_of(vec![
            (Some(12), F),
            (Some(10), I),
            (Some(3), F),
            (Some(1), I),
        ]);
        let inside: Vec<u32> = (0..15).filter(|v| s.contains(v)).collect();
        assert_eq!(inside, vec![1, 2, 10, 11]);
        // introduced and fixed at the same version: empty, in either order.
        assert!(set_of(vec![(Some(3), F), (Some(3), I)]).is_empty());
        // Only introduced: open-ended.
        let s = set_of(vec![(Some(7), I)]);
        assert!(s.contains(&7) && s.contains(&u32::MAX) && !s.contains(&6));
    }

    #[test]
    fn limit_caps_intervals() {
        let ivs = intervals_from_events(vec![(Some(1), I), (Some(4), F), (Some(6), I)]);
        let capped = VersionSet::new(cap_intervals(ivs, &8), vec![], vec![]);
        let inside: Vec<u32> = (0..12).filter(|v| capped.contains(v)).collect();
        assert_eq!(inside, vec![1, 2, 3, 6, 7]);
    }

    #[test]
    fn set_points_and_exclusions() {
        let s = VersionSet::new(
            vec![Interval {
                lower: Bound::Inclusive(10u32),
                upper: Bound::Exclusive(20),
            }],
            vec![3, 3, 1],
            vec![15],
        );
        assert_eq!(s.included(), &[1, 3]);
        assert!(matches!(s.find(&3), Some(SetMatch::Exact(3))));
        assert!(matches!(s.find(&12), Some(SetMatch::Interval(_))));
        assert!(!s.contains(&15) && !s.contains(&20) && !s.contains(&2));
    }

    #[test]
    fn interval_normalisation_merges_touching() {
        let iv = |l: Bound<u32>, u: Bound<u32>| Interval { lower: l, upper: u };
        let merged = normalise_intervals(vec![
            iv(Bound::Inclusive(2), Bound::Exclusive(3)),
            iv(Bound::Inclusive(1), Bound::Exclusive(2)),
        ]);
        assert_eq!(merged, vec![iv(Bound::Inclusive(1), Bound::Exclusive(3))]);
        let apart = normalise_intervals(vec![
            iv(Bound::Inclusive(1), Bound::Exclusive(2)),
            iv(Bound::Exclusive(2), Bound::Exclusive(3)),
        ]);
        assert_eq!(apart.len(), 2, "the point 2 stays out");
        let empty = normalise_intervals(vec![iv(Bound::Exclusive(2), Bound::Exclusive(2))]);
        assert!(empty.is_empty());
        let nested = normalise_intervals(vec![
            iv(Bound::Unbounded, Bound::Inclusive(9)),
            iv(Bound::Inclusive(3), Bound::Exclusive(4)),
        ]);
        assert_eq!(nested, vec![iv(Bound::Unbounded, Bound::Inclusive(9))]);
        assert_eq!(format!("{}", nested[0]), "(-inf, 9]");
    }

    fn arb_event() -> impl proptest::strategy::Strategy<Value = (Option<u32>, EventKind)> {
        use proptest::prelude::*;
        (
            prop_oneof![1 => Just(None), 9 => (1u32..12).prop_map(Some)],
            prop_oneof![Just(I), Just(F), Just(L)],
        )
            .prop_map(|(v, k)| {
                if k == I {
                    (v, k)
                } else {
                    (Some(v.unwrap_or(1)), k)
                }
            })
    }

    proptest::proptest! {
        /// The compiled intervals agree with the spec's walk on every version,
        /// and do not depend on the order of events in the record.
        #[test]
        fn compiled_events_match_the_spec_walk(
            events in proptest::collection::vec(arb_event(), 1..8),
            seed in 0usize..1000,
        ) {
            let set = set_of(events.clone());
            let mut shuffled = events.clone();
            let n = shuffled.len();
            shuffled.rotate_left(seed % n);
            shuffled.reverse();
            let set2 = set_of(shuffled);
            proptest::prop_assert_eq!(&set, &set2);
            for v in 0..14u32 {
                proptest::prop_assert_eq!(set.contains(&v), spec_walk(v, &events), "v = {}", v);
            }
        }
    }
}
