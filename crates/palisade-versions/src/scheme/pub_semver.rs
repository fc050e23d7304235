//! Dart Pub versions, ordered as the `pub_semver` package's
//! `Version.compareTo` does.
//!
//! The design decision: Pub is SemVer with one notable difference, that build
//! metadata *orders*: after the prerelease comparison, a version without build
//! sorts before one with build, and builds compare part by part. Parts of a
//! prerelease or build are split at dots and each becomes a Dart `int` when
//! `int.tryParse` accepts it (so `01` is the number 1, `-1` is minus one and
//! `0x1f` is 31; a value beyond 64 bits stays a string), numbers sort before
//! strings, strings compare by code unit, and a missing part sorts first.
//!
//! The core is read more leniently than `Version.parse` does, because the
//! osv-scalibr fixture for Pub includes such inputs: a leading `v`, fewer than
//! three numbers (padded with zeros), more than three (compared as further
//! numbers) and numbers of any size. On every version `pub_semver` accepts,
//! the order is exactly its order.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::semver::{Num, is_digits, is_identifier};

/// One prerelease or build part, as `pub_semver` keeps it. The variant order
/// is Pub's: numbers before strings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Part {
    /// A part Dart's `int.tryParse` reads.
    Int(i64),
    /// Any other part.
    Str(Box<str>),
}

/// Dart's `int.tryParse` on a part made of `[0-9A-Za-z-]`: an optional sign,
/// then decimal digits or `0x` and hexadecimal digits, within 64 bits.
fn dart_int(part: &str) -> Option<i64> {
    let (negative, body) = match part.strip_prefix('-') {
        Some(body) => (true, body),
        None => (false, part),
    };
    let (radix, digits) = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => (16, hex),
        None => (10, body),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    // Parse the magnitude wide so that -2^63 is representable.
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

fn parts(s: &str, what: &str) -> Result<Box<[Part]>, String> {
    s.split('.')
        .map(|part| {
            if !is_identifier(part) {
                Err(format!(
                    "{what} part {part:?} is empty or has characters other than [0-9A-Za-z-]"
                ))
            } else {
                Ok(match dart_int(part) {
                    Some(n) => Part::Int(n),
                    None => Part::Str(part.into()),
                })
            }
        })
        .collect()
}

/// A Pub version.
#[derive(Clone, Debug)]
pub struct PubVersion {
    major: Num,
    minor: Num,
    patch: Num,
    /// Core numbers after the third, trailing zeros removed.
    extra: Box<[Num]>,
    pre: Box<[Part]>,
    build: Box<[Part]>,
    original: Box<str>,
}

impl PartialEq for PubVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PubVersion {}

impl Hash for PubVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.major.hash(state);
        self.minor.hash(state);
        self.patch.hash(state);
        self.extra.hash(state);
        self.pre.hash(state);
        self.build.hash(state);
    }
}

impl Ord for PubVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then_with(|| self.minor.cmp(&other.minor))
            .then_with(|| self.patch.cmp(&other.patch))
            .then_with(|| self.extra.cmp(&other.extra))
            // A prerelease sorts before the release.
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // `_compareLists`: part by part, a missing part first; that is
                // the lexicographic order of the lists.
                _ => self.pre.cmp(&other.pre),
            })
            // No build sorts before any build, which the lexicographic order
            // of the lists also gives.
            .then_with(|| self.build.cmp(&other.build))
    }
}

impl PartialOrd for PubVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PubVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Parses a Pub version.
pub fn parse(input: &str) -> Result<PubVersion, String> {
    if input.is_empty() {
        return Err("empty version".to_owned());
    }
    let body = input.strip_prefix('v').unwrap_or(input);
    let (rest, build) = match body.split_once('+') {
        Some((rest, build)) => (rest, parts(build, "build")?),
        None => (body, Box::default()),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, parts(pre, "prerelease")?),
        None => (rest, Box::default()),
    };
    let mut numbers = Vec::with_capacity(3);
    for part in core.split('.') {
        if !is_digits(part) {
            return Err(format!(
                "version part {part:?} is not a number (a prerelease must follow a '-')"
            ));
        }
        numbers.push(Num::from_digits(part));
    }
    while numbers.len() > 3 && numbers.last().is_some_and(Num::is_zero) {
        numbers.pop();
    }
    let mut numbers = numbers.into_iter();
    let major = numbers.next().unwrap_or(Num::Small(0));
    let minor = numbers.next().unwrap_or(Num::Small(0));
    let patch = numbers.next().unwrap_or(Num::Small(0));
    Ok(PubVersion {
        major,
        minor,
        patch,
        extra: numbers.collect(),
        pre,
        build,
        original: input.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::fixture_test::assert_table;

    #[test]
    fn pub_semver_documented_order() {
        // pub_semver's version_test.dart "comparison" list, in order.
        let sorted = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0-rc.1+build.1",
            "1.0.0",
            "1.0.0+0.3.7",
            "1.3.7+build",
            "1.3.7+build.2.b8f12d7",
            "1.3.7+build.11.e0f985a",
            "2.0.0",
            "2.1.0",
            "2.2.0",
            "2.11.0",
            "2.11.1",
        ];
        for pair in sorted.windows(2) {
            if let [a, b] = pair {
                assert!(parse(a).unwrap() < parse(b).unwrap(), "{a} < {b}");
            }
        }
    }

    #[test]
    fn parts_read_as_dart_ints() {
        assert_table(
            &[
                "1.0.0-01 = 1.0.0-1",
                "1.0.0-0x10 = 1.0.0-16",
                "1.0.0--1 < 1.0.0-0",
                "1.0.0-9223372036854775807 < 1.0.0-9223372036854775808",
                "1.0.0-9223372036854775808 < 1.0.0-a",
                "1.0.0-99999999999999999999 < 1.0.0-a",
                "1.0.0+1 < 1.0.0+01a",
                "1.0.0 < 1.0.0+0",
                "1.0.0-a < 1.0.0-a+b",
                "1.0.0-a+b < 1.0.0-a.0",
            ],
            parse,
        );
        assert_eq!(dart_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(dart_int("0x"), None);
        assert_eq!(dart_int("1a"), None);
    }

    #[test]
    fn rejects_malformed_versions() {
        for bad in [
            "",
            "v",
            "1.2.x",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.3beta",
            "1..2",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(parse("1.2.3+b").unwrap().to_string(), "1.2.3+b");
    }
    #[test]
    fn ordering_laws_hold_on_generated_inputs() {
        // Pub: reflexive, antisymmetric, transitive, and equal values hash
        // alike, on every combination of these parts (random strings would
        // mostly be rejected).
        let cores: &[&str] = &["1.0.0", "v1.2.3", "1.2.3", "1", "1.2.3.4", "2.0.0"];
        let pres: &[&str] = &["", "-0", "-1", "-a", "-a.1", "-0x1", "--1", "-rc.1", "-A"];
        let builds: &[&str] = &["", "+b", "+1", "+1.a", "+a.1"];
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
