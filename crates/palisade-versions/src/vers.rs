//! The purl `vers:` version range syntax (purl-spec VERSION-RANGE-SPEC).
//!
//! `vers:<scheme>/<constraint>|<constraint>|...`, each constraint being a
//! version with an optional comparator (`=` implied, `!=`, `<`, `<=`, `>`,
//! `>=`), or a lone `*`. CycloneDX writes affected ranges this way.
//!
//! The design decision: a `vers` is parsed, sorted and validated by the
//! spec's rules, then compiled into the same [`VersionSet`] that OSV ranges
//! compile to (intervals from the alternating `>`/`>=` and `<`/`<=` bounds,
//! `=` versions as included points, `!=` versions as excluded points), so
//! one matcher serves both notations. Parsing follows the spec's procedure:
//! spaces and tabs are removed, the URI scheme and versioning scheme must be
//! lowercase, leading, trailing and repeated pipes are ignored, `%`-escapes
//! are decoded, constraints are sorted by the scheme's version order, a
//! version may appear only once (irrespective of comparator, and "once" by
//! the scheme's equality, so `1.0` and `1.0.0` collide in PyPI), and the
//! comparators must alternate as the spec requires. Violations are errors
//! naming the constraints involved; nothing is silently simplified.
//!
//! Containment is the spec's check, which on a valid range is exactly
//! membership of the compiled set. One case the spec's procedure leaves
//! degenerate: a range made only of `!=` constraints (`vers:gem/!=2.2.1`,
//! the translation of RubyGems' `!= 2.2.1`). Read literally, the procedure
//! finds no interval and answers "not in range" for every version; we follow
//! the meaning of the native requirement (and univers, for a single `!=`):
//! every version except the excluded ones.

use std::fmt;

use crate::range::{Bound, Interval, SetMatch, VersionSet, parse_bound};
use crate::{Ecosystem, Scheme, Version, VersionError};

/// The longest `vers` string accepted.
pub const MAX_VERS_LEN: usize = 65_536;
/// The most constraints one `vers` may hold.
pub const MAX_CONSTRAINTS: usize = 4_096;

/// `vers` versioning schemes we know, with the OSV ecosystem whose version
/// order each one uses. Purl types first, then common aliases.
const SCHEMES: &[(&str, Ecosystem)] = &[
    ("npm", Ecosystem::Npm),
    ("pypi", Ecosystem::PyPI),
    ("maven", Ecosystem::Maven),
    ("nuget", Ecosystem::NuGet),
    ("gem", Ecosystem::RubyGems),
    ("deb", Ecosystem::Debian),
    ("rpm", Ecosystem::RedHat),
    ("apk", Ecosystem::Alpine),
    ("alpine", Ecosystem::Alpine),
    ("golang", Ecosystem::Go),
    ("cargo", Ecosystem::CratesIo),
    ("composer", Ecosystem::Packagist),
    ("hex", Ecosystem::Hex),
    ("pub", Ecosystem::Pub),
    ("cran", Ecosystem::Cran),
    ("hackage", Ecosystem::Hackage),
    ("conan", Ecosystem::ConanCenter),
    ("opam", Ecosystem::Opam),
    ("swift", Ecosystem::SwiftUrl),
    ("bitnami", Ecosystem::Bitnami),
    ("semver", Ecosystem::CratesIo),
    // Aliases seen in the wild (univers and OSV names).
    ("rubygems", Ecosystem::RubyGems),
    ("debian", Ecosystem::Debian),
    ("ubuntu", Ecosystem::Ubuntu),
    ("go", Ecosystem::Go),
    ("packagist", Ecosystem::Packagist),
    ("alpm", Ecosystem::RedHat),
];

/// The `vers` scheme names we accept, for error messages and docs.
pub fn known_schemes() -> impl Iterator<Item = &'static str> {
    SCHEMES
        .iter()
        .map(|(n, _)| *n)
        .chain(["all", "none"])
        .filter(|n| *n != "alpm")
}

/// The ecosystem whose order a `vers` scheme uses, if the scheme is known.
pub fn ecosystem_for_scheme(name: &str) -> Option<Ecosystem> {
    // Arch's alpm is close to, but not exactly, rpmvercmp: not offered.
    if name == "alpm" {
        return None;
    }
    SCHEMES.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// A constraint comparator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparator {
    /// `=` (written as a bare version).
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl Comparator {
    /// The comparator as written in a `vers` (empty for `=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Eq => "",
            Comparator::Ne => "!=",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }

    fn is_lesser(self) -> bool {
        matches!(self, Comparator::Lt | Comparator::Le)
    }

    fn is_greater(self) -> bool {
        matches!(self, Comparator::Gt | Comparator::Ge)
    }
}

/// One parsed constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    /// The comparator.
    pub comparator: Comparator,
    /// The version, parsed by the range's scheme.
    pub version: Version,
    /// The version as written (after `%`-decoding).
    pub raw: String,
    /// The constraint's position in the input (0-based, empty ones skipped).
    pub position: usize,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.comparator.as_str())?;
        for c in self.raw.chars() {
            // The spec asks for separator and comparator characters, and the
            // escape character itself, to be percent-encoded.
            if matches!(c, '>' | '<' | '=' | '!' | '*' | '|' | '%' | ':' | '/') {
                write!(f, "%{:02X}", c as u32)?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Why a `vers` string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersError {
    /// Longer than [`MAX_VERS_LEN`].
    #[error("vers range longer than {MAX_VERS_LEN} bytes")]
    TooLong,
    /// More than [`MAX_CONSTRAINTS`] constraints.
    #[error("vers range has more than {MAX_CONSTRAINTS} constraints")]
    TooManyConstraints,
    /// A character that is not printable ASCII.
    #[error("vers range contains a character that is not printable ASCII at byte {0}")]
    NotAscii(usize),
    /// Not `vers:`.
    #[error("not a vers range: expected it to start with \"vers:\", found {0:?}")]
    NotVers(String),
    /// The versioning scheme is missing.
    #[error("vers range has no \"/\" after its versioning scheme")]
    NoSlash,
    /// The versioning scheme is not lowercase.
    #[error("vers versioning scheme {0:?} must be lowercase")]
    SchemeCase(String),
    /// The versioning scheme is unknown.
    #[error("unknown vers versioning scheme {name:?} (known: {known})")]
    UnknownScheme {
        /// The scheme as written.
        name: String,
        /// The known ones, comma-separated.
        known: String,
    },
    /// The scheme orders nothing (an unordered ecosystem).
    #[error("vers scheme {0:?}: {1}")]
    Unordered(String, VersionError),
    /// No constraints after the slash.
    #[error("vers range has no constraints")]
    Empty,
    /// `*` not alone.
    #[error("\"*\" must be the only constraint of a vers range")]
    Star,
    /// `all` and `none` take only `*`.
    #[error("vers scheme {0:?} only takes the constraint \"*\"")]
    StarOnly(String),
    /// A constraint without a version.
    #[error("constraint {index} ({text:?}) has no version")]
    EmptyVersion {
        /// Position of the constraint.
        index: usize,
        /// The constraint as written.
        text: String,
    },
    /// A bad `%` escape.
    #[error("constraint {index} ({text:?}) has an invalid %-escape")]
    BadEscape {
        /// Position of the constraint.
        index: usize,
        /// The constraint as written.
        text: String,
    },
    /// A version the scheme cannot parse.
    #[error("constraint {index} ({text:?}): {source}")]
    Version {
        /// Position of the constraint.
        index: usize,
        /// The constraint as written.
        text: String,
        /// Why the version is invalid.
        source: VersionError,
    },
    /// The same version twice.
    #[error(
        "constraints {first:?} and {second:?} name the same version; a vers range may name each version only once"
    )]
    Duplicate {
        /// The earlier constraint.
        first: String,
        /// The later one.
        second: String,
    },
    /// Two contiguous constraints whose comparators the spec forbids.
    #[error("invalid vers range: {first:?} cannot be followed by {second:?} ({rule})")]
    Sequence {
        /// The first constraint (in version order).
        first: String,
        /// The next one.
        second: String,
        /// The rule broken.
        rule: &'static str,
    },
}

/// What a `vers` range covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersRange {
    scheme: String,
    ecosystem: Option<Ecosystem>,
    star: bool,
    constraints: Vec<Constraint>,
    set: VersionSet,
}

impl VersRange {
    /// Parses and validates a `vers` string.
    pub fn parse(input: &str) -> Result<VersRange, VersError> {
        if input.len() > MAX_VERS_LEN {
            return Err(VersError::TooLong);
        }
        let mut s = String::with_capacity(input.len());
        for (i, c) in input.char_indices() {
            match c {
                ' ' | '\t' => {}
                '!'..='~' => s.push(c),
                _ => return Err(VersError::NotAscii(i)),
            }
        }
        let (uri, spec) = s
            .split_once(':')
            .ok_or_else(|| VersError::NotVers(s.chars().take(16).collect()))?;
        if uri != "vers" {
            return Err(VersError::NotVers(uri.chars().take(16).collect()));
        }
        let (scheme, constraints) = spec.split_once('/').ok_or(VersError::NoSlash)?;
        if scheme.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(VersError::SchemeCase(scheme.to_owned()));
        }
        let special = matches!(scheme, "all" | "none");
        let ecosystem = if special {
            None
        } else {
            let eco = ecosystem_for_scheme(scheme).ok_or_else(|| VersError::UnknownScheme {
                name: scheme.chars().take(64).collect(),
                known: known_schemes().collect::<Vec<_>>().join(", "),
            })?;
            if eco.scheme() == Scheme::Opaque {
                return Err(VersError::Unordered(
                    scheme.to_owned(),
                    VersionError::Unordered(eco),
                ));
            }
            Some(eco)
        };
        if constraints.is_empty() {
            return Err(VersError::Empty);
        }
        if constraints == "*" {
            let set = if scheme == "none" {
                VersionSet::empty()
            } else {
                VersionSet::all()
            };
            return Ok(VersRange {
                scheme: scheme.to_owned(),
                ecosystem,
                star: true,
                constraints: Vec::new(),
                set,
            });
        }
        if special {
            return Err(VersError::StarOnly(scheme.to_owned()));
        }
        let Some(eco) = ecosystem else {
            return Err(VersError::StarOnly(scheme.to_owned()));
        };
        if constraints.contains('*') {
            return Err(VersError::Star);
        }
        let mut parsed = Vec::new();
        for (index, text) in constraints.split('|').filter(|c| !c.is_empty()).enumerate() {
            if parsed.len() >= MAX_CONSTRAINTS {
                return Err(VersError::TooManyConstraints);
            }
            parsed.push(parse_constraint(eco, index, text)?);
        }
        if parsed.is_empty() {
            return Err(VersError::Empty);
        }
        // Sort by version (stable, so the report of a duplicate names the
        // constraints in input order).
        parsed.sort_by(|a, b| a.version.cmp(&b.version));
        for pair in parsed.windows(2) {
            if let [a, b] = pair
                && a.version == b.version
            {
                return Err(VersError::Duplicate {
                    first: a.to_string(),
                    second: b.to_string(),
                });
            }
        }
        validate_sequence(&parsed)?;
        let set = compile(&parsed);
        Ok(VersRange {
            scheme: scheme.to_owned(),
            ecosystem,
            star: false,
            constraints: parsed,
            set,
        })
    }

    /// The versioning scheme as written (`npm`, `pypi`, `all`...).
    pub fn scheme_name(&self) -> &str {
        &self.scheme
    }

    /// The ecosystem whose version order applies; `None` for `all`/`none`.
    pub fn ecosystem(&self) -> Option<Ecosystem> {
        self.ecosystem
    }

    /// The constraints, sorted by version; empty for `*`.
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// The compiled set.
    pub fn set(&self) -> &VersionSet {
        &self.set
    }

    /// Whether `v` is in the range. For `vers:all/*` and `vers:none/*` any
    /// version answers; otherwise `v` must be of the scheme's version type
    /// (a version of another scheme is never inside). Allocation-free.
    pub fn contains(&self, v: &Version) -> bool {
        if self.star {
            return self.scheme != "none";
        }
        match self.ecosystem {
            Some(e) if v.scheme() == e.scheme() => self.set.contains(v),
            _ => false,
        }
    }

    /// Why `v` is in the range: the interval or the `=` version.
    pub fn find(&self, v: &Version) -> Option<SetMatch<'_>> {
        if self.star {
            return None;
        }
        match self.ecosystem {
            Some(e) if v.scheme() == e.scheme() => self.set.find(v),
            _ => None,
        }
    }

    /// Parses `input` by this range's scheme (Go versions with or without
    /// their `v`) and checks it.
    pub fn contains_str(&self, input: &str) -> Result<bool, VersionError> {
        if self.star {
            return Ok(self.scheme != "none");
        }
        match self.ecosystem {
            Some(e) => Ok(self.set.contains(&parse_bound(e, e.scheme(), input)?)),
            None => Ok(false),
        }
    }
}

impl fmt::Display for VersRange {
    /// The canonical form: sorted constraints, no spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vers:{}/", self.scheme)?;
        if self.star {
            return f.write_str("*");
        }
        for (i, c) in self.constraints.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for VersRange {
    type Err = VersError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersRange::parse(s)
    }
}

fn parse_constraint(eco: Ecosystem, index: usize, text: &str) -> Result<Constraint, VersError> {
    let (comparator, rest) = if let Some(r) = text.strip_prefix(">=") {
        (Comparator::Ge, r)
    } else if let Some(r) = text.strip_prefix("<=") {
        (Comparator::Le, r)
    } else if let Some(r) = text.strip_prefix("!=") {
        (Comparator::Ne, r)
    } else if let Some(r) = text.strip_prefix('<') {
        (Comparator::Lt, r)
    } else if let Some(r) = text.strip_prefix('>') {
        (Comparator::Gt, r)
    } else if let Some(r) = text.strip_prefix('=') {
        // Not in the spec's parsing steps, but "=" is one of its comparators
        // and producers write it.
        (Comparator::Eq, r)
    } else {
        (Comparator::Eq, text)
    };
    if rest.is_empty() {
        return Err(VersError::EmptyVersion {
            index,
            text: text.to_owned(),
        });
    }
    let raw = if rest.contains('%') {
        percent_decode(rest).ok_or_else(|| VersError::BadEscape {
            index,
            text: text.to_owned(),
        })?
    } else {
        rest.to_owned()
    };
    let version = parse_bound(eco, eco.scheme(), &raw).map_err(|source| VersError::Version {
        index,
        text: text.to_owned(),
        source,
    })?;
    Ok(Constraint {
        comparator,
        version,
        raw,
        position: index,
    })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; `None` on a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The spec's rules on contiguous constraints (sorted, unique versions).
fn validate_sequence(cs: &[Constraint]) -> Result<(), VersError> {
    // Ignoring "!=": an "=" may only be followed by "=", ">" or ">=".
    let no_ne: Vec<&Constraint> = cs
        .iter()
        .filter(|c| c.comparator != Comparator::Ne)
        .collect();
    for pair in no_ne.windows(2) {
        if let [a, b] = pair
            && a.comparator == Comparator::Eq
            && b.comparator.is_lesser()
        {
            return Err(VersError::Sequence {
                first: a.to_string(),
                second: b.to_string(),
                rule: "an \"=\" version must not be followed by \"<\" or \"<=\"",
            });
        }
    }
    // Ignoring "=" and "!=": lesser and greater comparators alternate.
    let bounds: Vec<&&Constraint> = no_ne
        .iter()
        .filter(|c| c.comparator != Comparator::Eq)
        .collect();
    for pair in bounds.windows(2) {
        if let [a, b] = pair {
            if a.comparator.is_lesser() && !b.comparator.is_greater() {
                return Err(VersError::Sequence {
                    first: a.to_string(),
                    second: b.to_string(),
                    rule: "\"<\" and \"<=\" must be followed by \">\" or \">=\"",
                });
            }
            if a.comparator.is_greater() && !b.comparator.is_lesser() {
                return Err(VersError::Sequence {
                    first: a.to_string(),
                    second: b.to_string(),
                    rule: "\">\" and \">=\" must be followed by \"<\" or \"<=\"",
                });
            }
        }
    }
    Ok(())
}

/// Compiles validated constraints into a set.
fn compile(cs: &[Constraint]) -> VersionSet {
    let included: Vec<Version> = cs
        .iter()
        .filter(|c| c.comparator == Comparator::Eq)
        .map(|c| c.version.clone())
        .collect();
    let excluded: Vec<Version> = cs
        .iter()
        .filter(|c| c.comparator == Comparator::Ne)
        .map(|c| c.version.clone())
        .collect();
    let bounds: Vec<&Constraint> = cs
        .iter()
        .filter(|c| !matches!(c.comparator, Comparator::Eq | Comparator::Ne))
        .collect();
    let mut intervals = Vec::new();
    if bounds.is_empty() && included.is_empty() {
        // Only "!=" constraints: every version but those (see the module
        // documentation).
        intervals.push(Interval::all());
    }
    let mut lower: Option<Bound> = None;
    for (i, c) in bounds.iter().enumerate() {
        let v = c.version.clone();
        match c.comparator {
            Comparator::Gt => lower = Some(Bound::Exclusive(v)),
            Comparator::Ge => lower = Some(Bound::Inclusive(v)),
            Comparator::Lt | Comparator::Le => {
                let upper = if c.comparator == Comparator::Lt {
                    Bound::Exclusive(v)
                } else {
                    Bound::Inclusive(v)
                };
                // A leading "<" opens at minus infinity; validation makes
                // every later one follow a ">"/">=".
                let lo = match lower.take() {
                    Some(l) => l,
                    None if i == 0 => Bound::Unbounded,
                    None => continue,
                };
                intervals.push(Interval { lower: lo, upper });
            }
            Comparator::Eq | Comparator::Ne => {}
        }
    }
    if let Some(l) = lower {
        intervals.push(Interval {
            lower: l,
            upper: Bound::Unbounded,
        });
    }
    VersionSet::new(intervals, included, excluded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_are_named() {
        let e = |s: &str| VersRange::parse(s).err().map(|e| e.to_string());
        assert!(e("npm/1.0").is_some_and(|m| m.contains("expected it to start with \"vers:\"")));
        assert!(e("vers:npm").is_some_and(|m| m.contains("no \"/\"")));
        assert!(e("vers:NPM/1.0").is_some_and(|m| m.contains("lowercase")));
        assert!(e("vers:nosuch/1.0").is_some_and(|m| m.contains("unknown vers versioning scheme")));
        assert!(e("vers:npm/").is_some_and(|m| m.contains("no constraints")));
        assert!(e("vers:npm/||").is_some_and(|m| m.contains("no constraints")));
        assert!(e("vers:npm/*|>=1.0.0").is_some_and(|m| m.contains("only constraint")));
        assert!(e("vers:all/1.0").is_some_and(|m| m.contains("only takes")));
        assert!(e("vers:npm/>=").is_some_and(|m| m.contains("has no version")));
        assert!(e("vers:npm/1.0%zz").is_some_and(|m| m.contains("%-escape")));
        assert!(e("vers:npm/1.0\u{e9}").is_some_and(|m| m.contains("printable ASCII")));
    }

    #[test]
    fn star_schemes() {
        let all = VersRange::parse("vers:all/*");
        assert!(
            all.as_ref()
                .is_ok_and(|r| r.star && r.ecosystem().is_none())
        );
        let none = VersRange::parse("vers:none/*");
        assert!(none.as_ref().is_ok_and(|r| r.set().is_empty()));
        assert!(VersRange::parse("vers:all/*").is_ok_and(|r| r.to_string() == "vers:all/*"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("1.0%2B1"), Some("1.0+1".to_owned()));
        assert_eq!(percent_decode("%3e"), Some(">".to_owned()));
        assert_eq!(percent_decode("1%"), None);
        assert_eq!(percent_decode("1%4"), None);
    }

    #[test]
    fn scheme_table() {
        assert_eq!(ecosystem_for_scheme("pypi"), Some(Ecosystem::PyPI));
        assert_eq!(ecosystem_for_scheme("golang"), Some(Ecosystem::Go));
        assert_eq!(ecosystem_for_scheme("deb"), Some(Ecosystem::Debian));
        assert_eq!(ecosystem_for_scheme("alpm"), None);
        assert!(known_schemes().any(|s| s == "all"));
    }
}
