//! NuGet versions, read as `NuGetVersion.TryParse` does and ordered as
//! `VersionComparer.Default` does (NuGet.Versioning).
//!
//! The design decision: mirror NuGet's own two steps. `ParseSections` splits
//! the trimmed input at the first `-` or `+` (the numbers), then at the first
//! `+` after that (release labels before it, metadata after); the numbers are
//! a `System.Version` of one to four parts (a lone number gets `.0`), missing
//! parts being zero, so `1.0 == 1.0.0.0`. Release labels are dot-separated
//! `[0-9A-Za-z-]` parts without leading zeros on all-digit parts; a label
//! that `Int32.TryParse` reads (which includes a sign, as in `-1`) is a
//! number and sorts before text labels, text labels compare ordinally
//! ignoring case (`BETA == beta`), and a shorter label list that is a prefix
//! sorts first. Metadata is validated but never ordered, so `Eq` and `Hash`
//! ignore it as NuGet's default comparer does.
//!
//! One leniency: a number above `Int32.MaxValue` is accepted and compared
//! exactly (NuGet rejects it), because the osv-scalibr fixture expects these
//! to order numerically; every version NuGet accepts orders exactly as NuGet
//! orders it.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::semver::Num;

/// One release label part. The variant order is NuGet's: numbers first.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Label {
    /// A part `Int32.TryParse` reads.
    Int(i32),
    /// Any other part, upper-cased so that byte order is `OrdinalIgnoreCase`.
    Text(Box<str>),
}

/// A NuGet version.
#[derive(Clone, Debug)]
pub struct NuGetVersion {
    /// Major, minor, patch and revision.
    numbers: [Num; 4],
    labels: Box<[Label]>,
    original: Box<str>,
}

impl NuGetVersion {
    /// Whether the version has release labels.
    pub fn is_prerelease(&self) -> bool {
        !self.labels.is_empty()
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}

impl Hash for NuGetVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.numbers.hash(state);
        self.labels.hash(state);
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.labels.is_empty(), other.labels.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.labels.cmp(&other.labels),
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for NuGetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// NuGet's `IsValidPart`: non-empty, `[0-9A-Za-z-]`, and (unless leading zeros
/// are allowed) no all-digit part starting with `0` other than `0` itself.
fn is_valid_part(part: &str, leading_zeros: bool) -> bool {
    let all_digits = part.bytes().all(|b| b.is_ascii_digit());
    !part.is_empty()
        && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && (leading_zeros || !(all_digits && part.len() > 1 && part.starts_with('0')))
}

/// .NET's `Int32.TryParse` on a label part: an optional sign and ASCII digits.
fn int32(part: &str) -> Option<i32> {
    let digits = part.strip_prefix(['-', '+']).unwrap_or(part);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse::<i32>().ok()
}

/// Whitespace as .NET's `NumberStyles.AllowLeadingWhite` understands it.
fn is_dotnet_space(c: char) -> bool {
    matches!(c, '\u{9}'..='\u{d}' | ' ')
}

/// One `System.Version` component: `int.TryParse` with `NumberStyles.Integer`,
/// so surrounding whitespace is allowed. (A sign is allowed too, but never
/// reaches here: `ParseSections` has already cut the input at `-` and `+`.)
fn component(part: &str) -> Result<Num, String> {
    let digits = part.trim_matches(is_dotnet_space);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("version part {part:?} is not a number"));
    }
    Ok(Num::from_digits(digits))
}

/// Parses a NuGet version.
pub fn parse(input: &str) -> Result<NuGetVersion, String> {
    let value = input.trim();
    if value.is_empty() {
        return Err("empty version".to_owned());
    }
    // `ParseSections`: the numbers end at the first '-' or '+'; the labels at
    // the first '+' after that.
    let (numbers, labels, metadata) = match value.find(['-', '+']) {
        None => (value, None, None),
        Some(i) => {
            let (numbers, rest) = value.split_at(i);
            if let Some(metadata) = rest.strip_prefix('+') {
                (numbers, None, Some(metadata))
            } else {
                let rest = rest.get(1..).unwrap_or("");
                match rest.split_once('+') {
                    Some((labels, metadata)) => (numbers, Some(labels), Some(metadata)),
                    None => (numbers, Some(rest), None),
                }
            }
        }
    };
    if numbers.is_empty() {
        return Err("no version number before the release label or metadata".to_owned());
    }
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.len() > 4 {
        return Err(format!(
            "{} numeric parts; NuGet allows at most four",
            parts.len()
        ));
    }
    let mut nums = [Num::Small(0), Num::Small(0), Num::Small(0), Num::Small(0)];
    for (slot, part) in nums.iter_mut().zip(&parts) {
        *slot = component(part)?;
    }
    let labels: Box<[Label]> = match labels {
        None => Box::default(),
        Some(labels) => labels
            .split('.')
            .map(|part| {
                if !is_valid_part(part, false) {
                    return Err(format!(
                        "release label {part:?} is empty, has characters other than [0-9A-Za-z-] or a leading zero"
                    ));
                }
                Ok(match int32(part) {
                    Some(n) => Label::Int(n),
                    None => Label::Text(part.to_ascii_uppercase().into()),
                })
            })
            .collect::<Result<_, String>>()?,
    };
    if let Some(metadata) = metadata
        && !metadata.split('.').all(|part| is_valid_part(part, true))
    {
        return Err(format!(
            "metadata {metadata:?} has an empty part or characters other than [0-9A-Za-z-]"
        ));
    }
    Ok(NuGetVersion {
        numbers: nums,
        labels,
        original: input.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::fixture_test::assert_table;

    #[test]
    fn nuget_versioning_comparer_examples() {
        // NuGet.Client's VersionComparer test pairs, then label edge cases
        // worked out from `CompareRelease` (`-1` is an Int32, a label beyond
        // Int32 is text, `ALPHA-1` is longer text than `ALPHA`).
        assert_table(
            &[
                "1.0.0 = 1.0.0",
                "1.0.0-BETA = 1.0.0-beta",
                "1.0.0-BETA+AA = 1.0.0-beta+aa",
                "1.0.0-BETA.X.y.5.77.0+AA = 1.0.0-beta.x.y.5.77.0+aa",
                "1.0.0 = 1.0.0+beta",
                "1.0 = 1.0.0.0",
                "1 = 1.0.0.0",
                "1.0+test = 1.0.0.0",
                "1.0.0.1-1.2.A = 1.0.0.1-1.2.a+A",
                "1.0.01 = 1.0.1.0",
                "1.0.0-beta2 > 1.0.0-BETA",
                "1.0.0+AA > 1.0.0-beta+aa",
                "1.0.0-BETA < 1.0.0-beta.1+AA",
                "1.0.0-BETA.X.y.5.79.0+AA < 1.0.0-beta.x.y.5.790.0+abc",
                "1.0.0.1-alpha < 1.0.0.1-pre",
                "1.0.0-pre < 1.0.0.1-alpha",
                "1.0.0-2 < 1.0.0-10",
                "1.0.0-10 < 1.0.0-a",
                "1.0.0-alpha-1 > 1.0.0-alpha.1",
                "1.0.0--1 < 1.0.0-0",
                "1.0.0-2147483648 > 1.0.0-2147483647",
                "1.0.0-2147483648 < 1.0.0-a",
            ],
            parse,
        );
    }

    #[test]
    fn accepts_what_nuget_accepts() {
        for good in [
            " 1.0.0 ",
            "1.0.0.0",
            "1.0.0-beta.0",
            "1.0.0-beta+0012",
            "1.0.0+a-b",
            "1. 2",
        ] {
            assert!(parse(good).is_ok(), "{good:?} should be accepted");
        }
        assert_eq!(parse("1. 2").unwrap(), parse("1.2").unwrap());
    }

    #[test]
    fn rejects_what_nuget_rejects() {
        for bad in [
            "",
            "1.0.0.0.0",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-beta+",
            "1.0.0-beta.01",
            "1.0.0-beta..1",
            "1.0.0-beta_1",
            "1..0",
            "a.b",
            "-1.0",
            "+1.0",
            "-beta",
            "1.0.0+a..b",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn display_keeps_the_input() {
        assert_eq!(parse("1.0.0-Beta+X").unwrap().to_string(), "1.0.0-Beta+X");
        assert!(parse("1.0.0-Beta+X").unwrap().is_prerelease());
    }
    #[test]
    fn ordering_laws_hold_on_generated_inputs() {
        // NuGet: reflexive, antisymmetric, transitive, and equal values hash
        // alike, on every combination of these parts (random strings would
        // mostly be rejected).
        let cores: &[&str] = &["1", "1.0", "1.0.0", "1.0.0.0", "1.0.0.1", "1.2.3", "2.0"];
        let pres: &[&str] = &[
            "",
            "-0",
            "-1",
            "-a",
            "-A",
            "-a.1",
            "--1",
            "-rc.1",
            "-2147483648",
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
