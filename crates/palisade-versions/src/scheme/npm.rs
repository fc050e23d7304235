//! npm versions, read and ordered as node-semver does in loose mode.
//!
//! The design decision: follow node-semver's `LOOSE` regular expression
//! exactly, since that is what npm applies to versions it did not write
//! itself, rather than strict SemVer. Loose mode accepts, beyond SemVer:
//!
//! - surrounding whitespace, and any run of `v`, `=` and whitespace before the
//!   numbers (`v1.2.3`, `=1.2.3`, `= v1.2.3`);
//! - leading zeros in numbers (`01.2.3` is `1.2.3`), also in numeric
//!   prerelease identifiers (`1.2.3-01` equals `1.2.3-1`);
//! - a prerelease without its hyphen (`1.2.3beta` is `1.2.3-beta`), and, since
//!   the regular expression then backtracks into the patch number,
//!   `1.2.34.5` is `1.2.3-4.5` (node-semver 7.8 gives exactly this).
//!
//! Like node-semver it requires all three numbers and rejects a core number
//! above `Number.MAX_SAFE_INTEGER`. The order is SemVer's (build metadata
//! ignored, as `semver.compare` does). One deliberate difference: node-semver
//! compares numeric prerelease identifiers above 2^53 as lossy doubles; they
//! are compared exactly here.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::semver::{Ident, check_build, cmp_prerelease, parse_prerelease};

/// JavaScript's `Number.MAX_SAFE_INTEGER`, node-semver's limit for a core
/// number.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// An npm version.
#[derive(Clone, Debug)]
pub struct NpmVersion {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Box<[Ident]>,
    original: Box<str>,
}

impl NpmVersion {
    /// Whether the version has a prerelease part.
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

impl PartialEq for NpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NpmVersion {}

impl Hash for NpmVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.major.hash(state);
        self.minor.hash(state);
        self.patch.hash(state);
        self.pre.hash(state);
    }
}

impl Ord for NpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then_with(|| self.minor.cmp(&other.minor))
            .then_with(|| self.patch.cmp(&other.patch))
            .then_with(|| cmp_prerelease(&self.pre, &other.pre))
    }
}

impl PartialOrd for NpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for NpmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Reads one core number: ASCII digits, at most `MAX_SAFE_INTEGER`.
fn core_number(digits: &str, name: &str) -> Result<u64, String> {
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    match significant.parse::<u64>() {
        Ok(n) if n <= MAX_SAFE_INTEGER => Ok(n),
        _ => Err(format!(
            "{name} version {digits} is above JavaScript's MAX_SAFE_INTEGER"
        )),
    }
}

/// Splits a leading run of ASCII digits from the rest.
fn leading_digits(s: &str) -> (&str, &str) {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    s.split_at(end)
}

/// Parses an npm version as node-semver's loose mode does.
pub fn parse(input: &str) -> Result<NpmVersion, String> {
    let s = input
        .trim()
        .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace());
    let (major, s) = leading_digits(s);
    if major.is_empty() {
        return Err("expected the major version number".to_owned());
    }
    let s = s
        .strip_prefix('.')
        .ok_or("expected '.' after the major version (npm needs major.minor.patch)")?;
    let (minor, s) = leading_digits(s);
    if minor.is_empty() {
        return Err("expected the minor version number".to_owned());
    }
    let s = s
        .strip_prefix('.')
        .ok_or("expected '.' after the minor version (npm needs major.minor.patch)")?;
    let (patch_digits, tail) = leading_digits(s);
    if patch_digits.is_empty() {
        return Err("expected the patch version number".to_owned());
    }
    // The regular expression backtracks into the patch number when what
    // follows does not match otherwise: `1.2.34.5` reads as `1.2.3-4.5`. The
    // longest patch that works is the one the regex finds.
    let mut reason = String::new();
    for split in (1..=patch_digits.len()).rev() {
        let (patch, moved) = patch_digits.split_at(split);
        // Only a backtracked split needs a new string.
        let rest: Cow<'_, str> = if moved.is_empty() {
            Cow::Borrowed(tail)
        } else {
            Cow::Owned(format!("{moved}{tail}"))
        };
        match suffix(&rest) {
            Ok(pre) => {
                return Ok(NpmVersion {
                    major: core_number(major, "major")?,
                    minor: core_number(minor, "minor")?,
                    patch: core_number(patch, "patch")?,
                    pre,
                    original: input.into(),
                });
            }
            Err(e) if split == patch_digits.len() => reason = e,
            Err(_) => {}
        }
    }
    Err(reason)
}

/// Matches what follows the patch number against node-semver's
/// `(?:-?(IDENT(?:\.IDENT)*))?(?:\+BUILD)?$` (loose identifiers), returning
/// the prerelease identifiers. The optional hyphen is taken when it can be:
/// otherwise it belongs to the first identifier (`1.2.3-` has the
/// prerelease `-`).
fn suffix(rest: &str) -> Result<Box<[Ident]>, String> {
    let (pre, build) = match rest.split_once('+') {
        Some((pre, build)) => (pre, Some(build)),
        None => (rest, None),
    };
    if let Some(build) = build {
        check_build(build)?;
    }
    if pre.is_empty() {
        return Ok(Box::default());
    }
    if let Some(after_hyphen) = pre.strip_prefix('-')
        && let Ok(idents) = parse_prerelease(after_hyphen, true)
    {
        return Ok(idents);
    }
    parse_prerelease(pre, true).map_err(|e| {
        if pre.starts_with('.') {
            format!("{pre:?} after the patch number: npm allows only three numeric parts ({e})")
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::fixture_test::{assert_table, osv_versions};

    #[test]
    fn every_version_in_real_osv_records_parses() {
        let Some(versions) = osv_versions("osv/npm") else {
            return;
        };
        let rejected: Vec<String> = versions
            .iter()
            .filter_map(|(v, file)| parse(v).err().map(|e| format!("{v:?} in {file}: {e}")))
            .collect();
        eprintln!(
            "npm: {} versions, {} rejected",
            versions.len(),
            rejected.len()
        );
        assert!(rejected.is_empty(), "{}", rejected.join("\n"));
    }

    #[test]
    fn node_semver_loose_forms() {
        assert_table(
            &[
                "v1.2.3 = 1.2.3",
                "=1.2.3 = 1.2.3",
                "v=1.2.3 = 1.2.3",
                "01.02.03 = 1.2.3",
                "1.2.3-01 = 1.2.3-1",
                "1.2.3beta = 1.2.3-beta",
                "1.2.34.5 = 1.2.3-4.5",
                "1.2.10.1 = 1.2.1-0.1",
                "1.2.30beta.1 = 1.2.30-beta.1",
                "1.2.3-+b = 1.2.3--",
                "1.2.3-beta+build = 1.2.3-beta",
                "1.2.3-- = 1.2.3--",
                "1.2.3- = 1.2.3--",
                "1.2.3-.x = 1.2.3--.x",
                "1.2.3-0 < 1.2.3-alpha",
                "1.2.3-alpha.9 < 1.2.3-alpha.10",
                "1.2.3-alpha.a < 1.2.3-alpha.b",
                "1.2.3-Alpha < 1.2.3-alpha",
                "9007199254740991.0.0 > 9007199254740990.0.0",
            ],
            parse,
        );
    }

    #[test]
    fn node_semver_test_fixtures() {
        // From node-semver's test/fixtures/comparisons.js (loose entries
        // included).
        assert_table(
            &[
                "0.0.0 > 0.0.0-foo",
                "0.0.1 > 0.0.0",
                "1.0.0 > 0.9.9",
                "0.10.0 > 0.9.0",
                "0.99.0 > 0.10.0",
                "2.0.0 > 1.2.3",
                "v0.0.0 > 0.0.0-foo",
                "1.2.3 > 1.2.3-asdf",
                "1.2.3 > 1.2.3-4",
                "1.2.3 > 1.2.3-4-foo",
                "1.2.3-5-foo > 1.2.3-5",
                "1.2.3-5 > 1.2.3-4",
                "1.2.3-5-foo > 1.2.3-5-Foo",
                "3.0.0 > 2.7.2+asdf",
                "1.2.3-a.10 > 1.2.3-a.5",
                "1.2.3-a.b > 1.2.3-a.5",
                "1.2.3-a.b > 1.2.3-a",
                "1.2.3-a.b.c.10.d.5 > 1.2.3-a.b.c.5.d.100",
                "1.2.3-r2 > 1.2.3-r100",
                "1.2.3-r100 > 1.2.3-R2",
            ],
            parse,
        );
    }

    #[test]
    fn rejects_what_node_semver_rejects() {
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "1.2.3.4.beta",
            "1.2.3.beta",
            "1.2.3.X",
            "1.2.3.-foo",
            "1.2.3..beta",
            "1.2.3-a.",
            "1.2.3+b+c",
            "x.2.3",
            "1.2.3-a..b",
            "1.2.3+",
            "1.2.3.beta",
            "1.2.3.X",
            "1.2.3.-foo",
            "9007199254740992.0.0",
            "1.2.3.beta",
            "1.2.3.X",
            "1.2.3.-foo",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn display_keeps_the_input() {
        assert_eq!(parse(" =v1.2.3beta ").unwrap().to_string(), " =v1.2.3beta ");
        assert!(parse("1.2.3beta").unwrap().is_prerelease());
        // Whitespace between the prefix characters, which a table line
        // cannot express.
        assert_eq!(parse("= v1.2.3").unwrap(), parse("1.2.3").unwrap());
        assert_eq!(parse("\t1.2.3\n").unwrap(), parse("1.2.3").unwrap());
    }
    #[test]
    fn ordering_laws_hold_on_generated_inputs() {
        // npm: reflexive, antisymmetric, transitive, and equal values hash
        // alike, on every combination of these parts (random strings would
        // mostly be rejected).
        let cores: &[&str] = &["1.0.0", "v1.2.3", "=1.2.3", "01.2.3", "1.2.34", "2.0.0"];
        let pres: &[&str] = &[
            "", "-0", "-1", "a", "-a", "-a.1", "-1.a", "-rc.1", "--", "-A", "-01",
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
