//! Semantic Versioning 2.0.0, as crates.io, Hex, GitHub Actions, SwiftURL,
//! Bitnami, Julia and VSCode records use it.
//!
//! The design decision: one lenient reading serves all these ecosystems,
//! because their OSV data is not uniformly strict SemVer (Bitnami writes
//! `2023.03.13` with leading zeros and `0` alone; GitHub Actions tags are often
//! `v4`), while the *order* is SemVer's everywhere: numeric core, then a
//! release sorts after its prereleases, prerelease identifiers compare
//! numerically when all digits and by ASCII otherwise, numeric before
//! alphanumeric, and a longer identifier list wins a tie. Build metadata never
//! orders. The leniencies, all of which the osv-scalibr fixture relies on:
//!
//! - an optional leading `v`;
//! - one to three core numbers, missing ones read as `0` (`1.2` is `1.2.0`);
//!   more than three are kept as further numeric parts (`1.1.3.4` sorts after
//!   `1.1.3`, and `1.1.3.0` equals `1.1.3`) rather than rejected;
//! - leading zeros in numbers, compared by value;
//! - numbers of any size (compared exactly, not through a machine integer).
//!
//! Anything else (no leading number, an empty identifier, characters outside
//! `[0-9A-Za-z-]`, a prerelease not introduced by `-`) is rejected with the
//! reason, never guessed. The building blocks ([`Num`], [`Ident`], the
//! prerelease comparison) are shared with the npm, Go and Pub schemes, which
//! differ in what they accept, not in how they order.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A non-negative integer of any size, normalised (no leading zeros) so that
/// the derived `Eq` and `Hash` agree with the numeric order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Num {
    /// A value that fits in 64 bits.
    Small(u64),
    /// The decimal digits of a larger value, without leading zeros.
    Big(Box<str>),
}

impl Num {
    /// Reads a non-empty string of ASCII digits. Callers have checked that it
    /// is only digits.
    pub(crate) fn from_digits(digits: &str) -> Num {
        match digits.parse::<u64>() {
            Ok(n) => Num::Small(n),
            Err(_) => {
                let trimmed = digits.trim_start_matches('0');
                match trimmed.parse::<u64>() {
                    Ok(n) => Num::Small(n),
                    Err(_) => Num::Big(trimmed.into()),
                }
            }
        }
    }

    /// Whether this is zero.
    pub(crate) fn is_zero(&self) -> bool {
        matches!(self, Num::Small(0))
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Num::Small(a), Num::Small(b)) => a.cmp(b),
            (Num::Small(_), Num::Big(_)) => Ordering::Less,
            (Num::Big(_), Num::Small(_)) => Ordering::Greater,
            (Num::Big(a), Num::Big(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        }
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One dot-separated prerelease identifier. The variant order is SemVer's:
/// numeric identifiers sort before alphanumeric ones.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ident {
    /// All digits, compared by value.
    Num(Num),
    /// Anything else, compared by ASCII bytes (case-sensitive).
    Alpha(Box<str>),
}

/// Whether `s` is non-empty and all ASCII digits.
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is a valid SemVer identifier: non-empty, `[0-9A-Za-z-]` only.
pub(crate) fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses dot-separated prerelease identifiers. `leading_zeros` says whether
/// a numeric identifier may start with `0` (strict SemVer forbids `01`).
pub(crate) fn parse_prerelease(s: &str, leading_zeros: bool) -> Result<Box<[Ident]>, String> {
    s.split('.')
        .map(|id| {
            if id.is_empty() {
                Err("empty prerelease identifier".to_owned())
            } else if !is_identifier(id) {
                Err(format!(
                    "prerelease identifier {id:?} has characters other than [0-9A-Za-z-]"
                ))
            } else if is_digits(id) {
                if !leading_zeros && id.len() > 1 && id.starts_with('0') {
                    Err(format!(
                        "numeric prerelease identifier {id:?} has a leading zero"
                    ))
                } else {
                    Ok(Ident::Num(Num::from_digits(id)))
                }
            } else {
                Ok(Ident::Alpha(id.into()))
            }
        })
        .collect()
}

/// Checks dot-separated build metadata identifiers (never compared).
pub(crate) fn check_build(s: &str) -> Result<(), String> {
    for id in s.split('.') {
        if !is_identifier(id) {
            return Err(format!(
                "build metadata identifier {id:?} is empty or has characters other than [0-9A-Za-z-]"
            ));
        }
    }
    Ok(())
}

/// SemVer precedence of two prerelease lists, an empty list being a release
/// (which sorts after every prerelease of the same core).
pub(crate) fn cmp_prerelease(a: &[Ident], b: &[Ident]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

/// A SemVer version. Equality ignores build metadata, the `v` prefix, leading
/// zeros and trailing zero core parts beyond the third.
#[derive(Clone, Debug)]
pub struct SemVersion {
    major: Num,
    minor: Num,
    patch: Num,
    /// Core numbers after the third, trailing zeros removed.
    extra: Box<[Num]>,
    pre: Box<[Ident]>,
    original: Box<str>,
}

impl SemVersion {
    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether the version has a prerelease part.
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

impl PartialEq for SemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVersion {}

impl Hash for SemVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.major.hash(state);
        self.minor.hash(state);
        self.patch.hash(state);
        self.extra.hash(state);
        self.pre.hash(state);
    }
}

impl Ord for SemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then_with(|| self.minor.cmp(&other.minor))
            .then_with(|| self.patch.cmp(&other.patch))
            // Trailing zeros are trimmed, so the lexicographic order of the
            // extra parts is the zero-padded numeric order.
            .then_with(|| self.extra.cmp(&other.extra))
            .then_with(|| cmp_prerelease(&self.pre, &other.pre))
    }
}

impl PartialOrd for SemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SemVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Parses a SemVer version, with the leniencies the module header lists.
pub fn parse(input: &str) -> Result<SemVersion, String> {
    if input.is_empty() {
        return Err("empty version".to_owned());
    }
    let body = input.strip_prefix('v').unwrap_or(input);
    let (rest, build) = match body.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (body, None),
    };
    if let Some(build) = build {
        check_build(build)?;
    }
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    // The first three numbers go to fixed fields; only a fourth or later
    // one needs the heap.
    let mut core_parts = [Num::Small(0), Num::Small(0), Num::Small(0)];
    let mut extra = Vec::new();
    for (i, part) in core.split('.').enumerate() {
        if !is_digits(part) {
            return Err(if part.is_empty() {
                "empty numeric part in the version core".to_owned()
            } else {
                format!(
                    "version core part {part:?} is not a number (a prerelease must follow a '-')"
                )
            });
        }
        match core_parts.get_mut(i) {
            Some(slot) => *slot = Num::from_digits(part),
            None => extra.push(Num::from_digits(part)),
        }
    }
    while extra.last().is_some_and(Num::is_zero) {
        extra.pop();
    }
    let [major, minor, patch] = core_parts;
    let extra: Box<[Num]> = extra.into();
    let pre = match pre {
        Some(pre) => parse_prerelease(pre, true)?,
        None => Box::default(),
    };
    Ok(SemVersion {
        major,
        minor,
        patch,
        extra,
        pre,
        original: input.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::fixture_test::{assert_table, osv_versions};

    #[test]
    fn every_version_in_real_osv_records_parses() {
        let Some(versions) = osv_versions("osv/crates.io") else {
            return;
        };
        let rejected: Vec<String> = versions
            .iter()
            .filter_map(|(v, file)| parse(v).err().map(|e| format!("{v:?} in {file}: {e}")))
            .collect();
        eprintln!(
            "crates.io: {} versions, {} rejected",
            versions.len(),
            rejected.len()
        );
        assert!(rejected.is_empty(), "{}", rejected.join("\n"));
    }

    #[test]
    fn bitnami_records_parse_but_for_one_version_without_numbers() {
        let Some(versions) = osv_versions("extra/osv/bitnami") else {
            return;
        };
        let rejected: std::collections::BTreeSet<&str> = versions
            .iter()
            .filter(|(v, _)| parse(v).is_err())
            .map(|(v, _)| v.as_str())
            .collect();
        eprintln!(
            "Bitnami: {} versions, rejected {rejected:?}",
            versions.len()
        );
        // The mastodon record's `introduced: "nightly.2026-03-10.0"` has no
        // version number at all; guessing one would be wrong.
        assert_eq!(
            rejected.into_iter().collect::<Vec<_>>(),
            ["nightly.2026-03-10.0"]
        );
    }

    #[test]
    fn semver_spec_examples() {
        // The precedence chain of semver.org item 11, and its build example.
        assert_table(
            &[
                "1.0.0 < 2.0.0",
                "2.0.0 < 2.1.0",
                "2.1.0 < 2.1.1",
                "1.0.0-alpha < 1.0.0-alpha.1",
                "1.0.0-alpha.1 < 1.0.0-alpha.beta",
                "1.0.0-alpha.beta < 1.0.0-beta",
                "1.0.0-beta < 1.0.0-beta.2",
                "1.0.0-beta.2 < 1.0.0-beta.11",
                "1.0.0-beta.11 < 1.0.0-rc.1",
                "1.0.0-rc.1 < 1.0.0",
                "1.0.0-alpha+001 = 1.0.0-alpha",
                "1.0.0+20130313144700 = 1.0.0",
                "1.0.0-beta+exp.sha.5114f85 = 1.0.0-beta",
            ],
            parse,
        );
    }

    #[test]
    fn lenient_forms_seen_in_osv_data() {
        assert_table(
            &[
                // crates.io's "before every prerelease" sentinel.
                "0.0.0-0 < 0.0.0-alpha",
                "0.0.0-0 < 0.0.0",
                // Bitnami date versions with leading zeros, and bare `0`.
                "2023.03.13 = 2023.3.13",
                "2023.03.13 > 2023.02.17",
                "0 = 0.0.0",
                // GitHub Actions major tags.
                "v4 = 4.0.0",
                "v4 < 4.0.1",
                "4.1 = 4.1.0",
                // More than three parts.
                "1.1.3.4 > 1.1.3",
                "1.1.3.0 = 1.1.3",
                "1.1.3.4 < 1.1.4",
                "1.1.3.0.1 > 1.1.3.0",
                // Numbers beyond 64 bits.
                "18446744073709551616.0.0 > 18446744073709551615.0.0",
                "018446744073709551616.0.0 = 18446744073709551616.0.0",
                "1.0.0-18446744073709551616 > 1.0.0-18446744073709551615",
                "1.0.0-99999999999999999999 < 1.0.0-a",
            ],
            parse,
        );
    }

    #[test]
    fn rejects_what_is_not_semver() {
        for bad in [
            "",
            "v",
            "a.b.c",
            "1..2",
            "1.2.3.",
            "nightly.2026-03-10.0",
            "1.2.3rc1",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3-a_b",
            "1.2.3+",
            "1.2.3+a..b",
            " 1.2.3",
            "1.2.3 ",
            "-1.2.3",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn display_keeps_the_input() {
        let v = parse("v1.02.3-Beta+build.7").unwrap();
        assert_eq!(v.to_string(), "v1.02.3-Beta+build.7");
        assert!(v.is_prerelease());
    }

    #[test]
    fn error_reasons_are_precise() {
        assert_eq!(
            parse("1.2.3-a..b").unwrap_err(),
            "empty prerelease identifier"
        );
        assert!(parse("1.x.3").unwrap_err().contains("\"x\""));
    }
    #[test]
    fn ordering_laws_hold_on_generated_inputs() {
        // SemVer: reflexive, antisymmetric, transitive, and equal values hash
        // alike, on every combination of these parts (random strings would
        // mostly be rejected).
        let cores: &[&str] = &["0", "1", "1.0", "1.2.3", "v1.2.3", "01.2.3", "1.2.3.4", "2"];
        let pres: &[&str] = &[
            "", "-0", "-1", "-a", "-a.1", "-1.a", "-rc.1", "--", "-A", "-01",
        ];
        let builds: &[&str] = &["", "+b", "+1"];
        let mut seeds = Vec::new();
        for core in cores {
            for pre in pres {
                for build in builds {
                    seeds.push(format!("{core}{pre}{build}"));
                }
            }
        }
        let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
        let n = crate::scheme::order_test::check_total_order(b"0", 1, 0, &seeds, parse);
        assert!(
            n > seeds.len() / 2,
            "only {n} of {} inputs parsed",
            seeds.len()
        );
    }
}
