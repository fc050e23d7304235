//! Go module versions (and Kubernetes, which OSV orders the same way), as
//! `golang.org/x/mod/semver` reads and compares them.
//!
//! The design decision: accept exactly what `semver.IsValid` accepts, except
//! that the leading `v` is optional, because OSV Go records write `1.2.3` for
//! the module version `v1.2.3`. So `v1` and `v1.2` are the shorthands for
//! `v1.0.0` and `v1.2.0` (allowed only without prerelease or build), numbers
//! and numeric prerelease identifiers may not have leading zeros, and build
//! metadata (notably `+incompatible`) is accepted and ignored by the order, as
//! `semver.Compare` ignores it. Pseudo-versions (`v0.0.0-20220906165146-f3363e06e74c`,
//! `v1.2.4-0.20191109021931-daa7c04131f5`) need no special case: they are
//! SemVer prereleases and order as such, which is how Go designed them.
//! Numbers have no size limit, as in Go, which compares them as digit strings.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::semver::{Ident, Num, check_build, cmp_prerelease, parse_prerelease};

/// A Go module version.
#[derive(Clone, Debug)]
pub struct GoVersion {
    major: Num,
    minor: Num,
    patch: Num,
    pre: Box<[Ident]>,
    incompatible: bool,
    original: Box<str>,
}

impl GoVersion {
    /// Whether the version has a prerelease part (pseudo-versions do).
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// Whether the build metadata is `+incompatible` (a v2+ module without a
    /// `go.mod`).
    pub fn is_incompatible(&self) -> bool {
        self.incompatible
    }
}

impl PartialEq for GoVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GoVersion {}

impl Hash for GoVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.major.hash(state);
        self.minor.hash(state);
        self.patch.hash(state);
        self.pre.hash(state);
    }
}

impl Ord for GoVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then_with(|| self.minor.cmp(&other.minor))
            .then_with(|| self.patch.cmp(&other.patch))
            .then_with(|| cmp_prerelease(&self.pre, &other.pre))
    }
}

impl PartialOrd for GoVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Reads one number as x/mod/semver's `parseInt`: digits, no leading zero.
fn number<'a>(s: &'a str, name: &str) -> Result<(Num, &'a str), String> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, rest) = s.split_at(end);
    if digits.is_empty() {
        return Err(format!("expected the {name} version number"));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(format!("{name} version {digits} has a leading zero"));
    }
    Ok((Num::from_digits(digits), rest))
}

/// Parses a Go module version, with or without its leading `v`.
pub fn parse(input: &str) -> Result<GoVersion, String> {
    let s = input.strip_prefix('v').unwrap_or(input);
    let (major, s) = number(s, "major")?;
    let zero = || Num::Small(0);
    let done = |minor, patch| GoVersion {
        major: major.clone(),
        minor,
        patch,
        pre: Box::default(),
        incompatible: false,
        original: input.into(),
    };
    if s.is_empty() {
        return Ok(done(zero(), zero()));
    }
    let s = s.strip_prefix('.').ok_or_else(|| {
        format!("{s:?} after the major version (a shorthand vMAJOR takes no suffix)")
    })?;
    let (minor, s) = number(s, "minor")?;
    if s.is_empty() {
        return Ok(done(minor, zero()));
    }
    let s = s.strip_prefix('.').ok_or_else(|| {
        format!("{s:?} after the minor version (a shorthand vMAJOR.MINOR takes no suffix)")
    })?;
    let (patch, s) = number(s, "patch")?;
    let (tail, build) = match s.split_once('+') {
        Some((tail, build)) => (tail, Some(build)),
        None => (s, None),
    };
    if let Some(build) = build {
        check_build(build)?;
    }
    let pre = match tail.strip_prefix('-') {
        Some(pre) => parse_prerelease(pre, false)?,
        None if tail.is_empty() => Box::default(),
        None => {
            return Err(format!(
                "{tail:?} after the patch number is neither a '-' prerelease nor '+' build metadata"
            ));
        }
    };
    Ok(GoVersion {
        major,
        minor,
        patch,
        pre,
        incompatible: build == Some("incompatible"),
        original: input.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::fixture_test::{assert_table, osv_versions};

    #[test]
    fn every_version_in_real_osv_records_parses() {
        let Some(versions) = osv_versions("osv/Go") else {
            return;
        };
        let rejected: Vec<String> = versions
            .iter()
            .filter_map(|(v, file)| parse(v).err().map(|e| format!("{v:?} in {file}: {e}")))
            .collect();
        eprintln!(
            "Go: {} versions, {} rejected",
            versions.len(),
            rejected.len()
        );
        assert!(rejected.is_empty(), "{}", rejected.join("\n"));
    }

    #[test]
    fn x_mod_semver_compare_examples() {
        // From golang.org/x/mod/semver's semver_test.go, whose list is sorted.
        assert_table(
            &[
                "v0.0.0-0 < v0.0.0-a",
                "v1.0.0-alpha < v1.0.0-alpha.1",
                "v1.0.0-alpha.1 < v1.0.0-alpha.beta",
                "v1.0.0-alpha.beta < v1.0.0-beta",
                "v1.0.0-beta < v1.0.0-beta.2",
                "v1.0.0-beta.2 < v1.0.0-beta.11",
                "v1.0.0-beta.11 < v1.0.0-rc.1",
                "v1.0.0-rc.1 < v1.0.0",
                "v1.0.0 = v1.0.0+build",
                "v1 = v1.0.0",
                "v1.2 = v1.2.0",
                "v1.2.0 < v1.2.3-456",
                "v1.2.3-456 < v1.2.3-456.789",
                "v1.2.3-456-789 > v1.2.3-456.789",
                "v1.2.3-456a < v1.2.3-pre",
                "v1.2.3-pre+meta = v1.2.3-pre",
                "v1.2.3-pre < v1.2.3",
                "v2.0.0+incompatible = v2.0.0",
                "v2.0.0+incompatible > v1.9.9",
            ],
            parse,
        );
    }

    #[test]
    fn pseudo_versions_order_as_prereleases() {
        assert_table(
            &[
                // vX.0.0-yyyymmddhhmmss-abcdefabcdef: no earlier tag.
                "0.0.0-20220906165146-f3363e06e74c < 0.0.0-20220906165147-000000000000",
                "0.0.0-20220906165146-f3363e06e74c < 0.1.0",
                // vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdefabcdef: after release vX.Y.Z.
                "1.2.0 < 1.2.1-0.20180103161547-0ef6afb2f6cd",
                "1.2.1-0.20180103161547-0ef6afb2f6cd < 1.2.1-0.20180404165556-75cca531ea76",
                "1.2.1-0.20180404165556-75cca531ea76 < 1.2.1",
                // vX.Y.Z-pre.0.yyyymmddhhmmss-abcdefabcdef: after prerelease vX.Y.Z-pre.
                "1.2.3-pre < 1.2.3-pre.0.20180103161547-0ef6afb2f6cd",
                "1.2.3-pre.0.20180103161547-0ef6afb2f6cd < 1.2.3",
                // OSV's "before every prerelease" sentinel.
                "1.22.0-0 < 1.22.0-rc.1",
                "1.21.12 < 1.22.0-0",
            ],
            parse,
        );
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "v",
            "v01.2.3",
            "v1.02.3",
            "v1.2.03",
            "v1.2.3-01",
            "v1.2-pre",
            "v1-pre",
            "v1.2+meta",
            "v1.2.3.4",
            "v1.2.3-",
            "v1.2.3+",
            "v0.0.0+",
            "v0.0.1-",
            "v1.2.3-a..b",
            "V1.2.3",
            " v1.2.3",
            "v1.2.3beta",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn incompatible_is_recognised_and_display_keeps_the_input() {
        let v = parse("v29.2.0+incompatible").unwrap();
        assert!(v.is_incompatible());
        assert_eq!(v.to_string(), "v29.2.0+incompatible");
        assert!(
            parse("0.0.0-20220906165146-f3363e06e74c")
                .unwrap()
                .is_prerelease()
        );
    }
    #[test]
    fn ordering_laws_hold_on_generated_inputs() {
        // Go: reflexive, antisymmetric, transitive, and equal values hash
        // alike, on every combination of these parts (random strings would
        // mostly be rejected).
        let cores: &[&str] = &["v1", "1.2", "1.0.0", "v1.2.3", "1.2.4", "2.0.0", "0.0.0"];
        let pres: &[&str] = &[
            "",
            "-0",
            "-1",
            "-a",
            "-a.1",
            "-1.a",
            "-rc.1",
            "--",
            "-A",
            "-0.20180103161547-0ef6afb2f6cd",
        ];
        let builds: &[&str] = &["", "+incompatible", "+1"];
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
