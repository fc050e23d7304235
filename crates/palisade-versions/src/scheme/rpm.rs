//! RPM versions (`[epoch:]version[-release]`), ordered as `rpmvercmp()` does.
//! Used for Red Hat, AlmaLinux, Rocky Linux, SUSE, openSUSE, Azure Linux,
//! Photon OS, Mageia, openEuler and TuxCare.
//!
//! The design decision: split the string as rpm's `parseEVR()` does (the
//! epoch is a run of leading digits ended by a colon, the release follows the
//! *last* hyphen) and compare each part with rpm's `rpmvercmp()` algorithm
//! from `rpmio/rpmvercmp.c`, working on the original bytes without
//! allocating: separators (anything but ASCII letters, digits, `~` and `^`)
//! are skipped, `~` sorts before everything including the end of the string,
//! `^` sorts after the end of the string but before anything else, digit runs
//! compare as numbers of any length and beat letter runs, letter runs compare
//! bytewise, and when one side runs out the side with something left wins.
//!
//! One rule follows OSV rather than rpm: rpm's `rpmverCmp()` ignores the
//! release when either side lacks one, which would make `1.0` equal to
//! `1.0-5`, so that `Eq` would not be transitive. OSV's reference
//! implementation (osv-scalibr, whose fixture this crate is tested against)
//! instead sorts a missing release before any release, even an empty one
//! (`1 < 1-`). That is what is done here; real OSV records always carry full
//! `version-release` strings, where both rules agree.
//!
//! A colon not preceded only by digits is not an epoch separator
//! (`1.m+e2:1` is all version), as in rpm.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::digits::{cmp_decimal, hash_decimal};

/// An RPM version.
#[derive(Clone, Debug)]
pub struct RpmVersion {
    /// The input exactly as given, for display.
    original: Box<str>,
    /// Byte range of the epoch digits; empty when there is no epoch, which
    /// means epoch 0.
    epoch: (usize, usize),
    /// Byte range of the version.
    version: (usize, usize),
    /// Byte range of the release, if a hyphen introduced one.
    release: Option<(usize, usize)>,
}

impl RpmVersion {
    fn part(&self, range: (usize, usize)) -> &[u8] {
        self.original
            .as_bytes()
            .get(range.0..range.1)
            .unwrap_or_default()
    }

    /// The epoch digits as written (empty when absent, meaning 0).
    pub fn epoch(&self) -> &str {
        self.original
            .get(self.epoch.0..self.epoch.1)
            .unwrap_or_default()
    }

    /// The version part.
    pub fn version(&self) -> &str {
        self.original
            .get(self.version.0..self.version.1)
            .unwrap_or_default()
    }

    /// The release part, if any.
    pub fn release(&self) -> Option<&str> {
        self.release
            .and_then(|(start, end)| self.original.get(start..end))
    }
}

/// Bytes `rpmvercmp` skips between segments.
fn is_separator(b: u8) -> bool {
    !b.is_ascii_alphanumeric() && b != b'~' && b != b'^'
}

/// The length of the run at the start of `bytes` of digits (`numeric`) or
/// ASCII letters.
fn segment_len(bytes: &[u8], numeric: bool) -> usize {
    bytes
        .iter()
        .position(|b| {
            if numeric {
                !b.is_ascii_digit()
            } else {
                !b.is_ascii_alphabetic()
            }
        })
        .unwrap_or(bytes.len())
}

/// rpm's `rpmvercmp()` on two version or release strings.
pub(crate) fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    // Skip the common prefix up to its last byte that is not a letter or a
    // digit (a separator, `~` or `^`): segments never span such a byte, so
    // the walk below reaches that position on both sides in the same state,
    // having found every segment before it equal. Versions compared in
    // practice share long prefixes (`4.18.0-372.9.1.el8`), so this is the
    // hot path of sorting and range checks.
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let start = a
        .get(..common)
        .and_then(|prefix| prefix.iter().rposition(|c| !c.is_ascii_alphanumeric()))
        .map_or(0, |p| p + 1);
    let (mut i, mut j) = (start, start);
    loop {
        while a.get(i).is_some_and(|&c| is_separator(c)) {
            i += 1;
        }
        while b.get(j).is_some_and(|&c| is_separator(c)) {
            j += 1;
        }
        let (ac, bc) = (a.get(i).copied(), b.get(j).copied());

        // A tilde sorts before everything, even the end of the string.
        if ac == Some(b'~') || bc == Some(b'~') {
            if ac != Some(b'~') {
                return Ordering::Greater;
            }
            if bc != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // A caret sorts after the end of the string, before anything else.
        if ac == Some(b'^') || bc == Some(b'^') {
            if ac.is_none() {
                return Ordering::Less;
            }
            if bc.is_none() {
                return Ordering::Greater;
            }
            if ac != Some(b'^') {
                return Ordering::Greater;
            }
            if bc != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(first), Some(_)) = (ac, bc) else {
            break;
        };

        // Take a segment of the same kind from both sides.
        let numeric = first.is_ascii_digit();
        let rest_a = a.get(i..).unwrap_or_default();
        let rest_b = b.get(j..).unwrap_or_default();
        let la = segment_len(rest_a, numeric);
        let lb = segment_len(rest_b, numeric);
        if lb == 0 {
            // Numbers are newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let sa = rest_a.get(..la).unwrap_or_default();
        let sb = rest_b.get(..lb).unwrap_or_default();
        let ord = if numeric {
            cmp_decimal(sa, sb)
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        i += la;
        j += lb;
    }
    // One side has run out: whichever has something left is newer.
    (a.len() - i.min(a.len())).cmp(&(b.len() - j.min(b.len())))
}

/// Hashes a string so that strings `rpmvercmp` calls equal hash alike: only
/// the sequence of `~`, `^`, numbers and letter runs matters.
pub(crate) fn hash_rpm<H: Hasher>(s: &[u8], state: &mut H) {
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if is_separator(c) {
            i += 1;
            continue;
        }
        let rest = s.get(i..).unwrap_or_default();
        match c {
            b'~' | b'^' => {
                state.write_u8(c);
                i += 1;
            }
            _ => {
                let numeric = c.is_ascii_digit();
                let len = segment_len(rest, numeric);
                let seg = rest.get(..len).unwrap_or_default();
                if numeric {
                    state.write_u8(b'0');
                    hash_decimal(seg, state);
                } else {
                    state.write_u8(b'a');
                    state.write_usize(seg.len());
                    state.write(seg);
                }
                i += len.max(1);
            }
        }
    }
    state.write_u8(0xff);
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // The epoch holds only digits; an empty one is 0, which is what
        // comparing it as a number gives.
        cmp_decimal(self.part(self.epoch), other.part(other.epoch))
            .then_with(|| rpmvercmp(self.part(self.version), other.part(other.version)))
            .then_with(|| match (self.release, other.release) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => rpmvercmp(self.part(a), other.part(b)),
            })
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

impl Hash for RpmVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_decimal(self.part(self.epoch), state);
        hash_rpm(self.part(self.version), state);
        match self.release {
            None => state.write_u8(0),
            Some(r) => {
                state.write_u8(1);
                hash_rpm(self.part(r), state);
            }
        }
    }
}

impl fmt::Display for RpmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Parses an RPM `[epoch:]version[-release]` string.
pub fn parse(input: &str) -> Result<RpmVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if let Some(bad) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "contains {bad:?}; RPM versions hold no whitespace or control characters"
        ));
    }
    let bytes = input.as_bytes();
    let leading_digits = bytes
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(bytes.len());
    let (epoch, version_start) = if bytes.get(leading_digits) == Some(&b':') {
        ((0, leading_digits), leading_digits + 1)
    } else {
        ((0, 0), 0)
    };
    let rest = input.get(version_start..).unwrap_or_default();
    let (version_end, release) = match rest.rfind('-') {
        Some(h) => (
            version_start + h,
            Some((version_start + h + 1, input.len())),
        ),
        None => (input.len(), None),
    };
    if version_end == version_start {
        return Err("the version part (between epoch and release) is empty".to_owned());
    }
    Ok(RpmVersion {
        original: input.into(),
        epoch,
        version: (version_start, version_end),
        release,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn splits_epoch_version_release() {
        let v = parse("2:1.8.0-11.el9_2.1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.epoch(), "2");
        assert_eq!(v.version(), "1.8.0");
        assert_eq!(v.release(), Some("11.el9_2.1"));
        assert_eq!(v.to_string(), "2:1.8.0-11.el9_2.1");

        // The release follows the last hyphen.
        let v = parse("1.0-rc1-3").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.version(), "1.0-rc1");
        assert_eq!(v.release(), Some("3"));

        // A colon after non-digits is part of the version.
        let v = parse("a:1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.epoch(), "");
        assert_eq!(v.version(), "a:1");
    }

    #[test]
    fn rpm_test_suite_examples() {
        // From rpm's tests/rpmvercmp.at.
        assert_table(
            &[
                "1.0 = 1.0",
                "1.0 < 2.0",
                "2.0.1 > 2.0",
                "2.0.1a > 2.0.1",
                "5.5p1 < 5.5p10",
                "10xyz < 10.1xyz",
                "xyz10 < xyz10.1",
                "xyz.4 < 8",
                "6.0.rc1 > 6.0",
                "10b2 > 10a1",
                "1.0aa > 1.0a",
                "10.0001 = 10.1",
                "4.999.9 < 5.0",
                "20101121 < 20101122",
                "2_0 = 2.0",
                "a+ = a_",
                "1.0~rc1 < 1.0",
                "1.0~rc1~git123 < 1.0~rc1",
                "1.0^ > 1.0",
                "1.0^git1 < 1.01",
                "1.0^20160101 < 1.0.1",
                "1.0~rc1^git1 > 1.0~rc1",
                "1.0^git1~pre < 1.0^git1",
                "0:3.10.0-229.el7 < 0:3.10.0-229.1.2.ael7b",
            ],
            parse,
        );
    }

    #[test]
    fn missing_release_sorts_first() {
        assert_table(&["1 < 1-0", "1 < 1-", "1- = 1-", "1-1. = 1-1"], parse);
    }

    #[test]
    fn rejects_empty_parts() {
        assert!(parse("").is_err());
        assert!(parse("1:").is_err());
        assert!(parse("-1").is_err());
        assert!(parse("1:-1").is_err());
        assert!(parse("1.0 -1").is_err());
    }

    #[test]
    fn common_prefix_skip_keeps_segment_boundaries() {
        // Pairs whose common prefix ends inside a segment, at a separator,
        // at `~` or `^`: the skip must resume at the segment start.
        assert_table(
            &[
                "100 > 1.0",
                "1.10 > 1.9",
                "1.010 = 1.10",
                "1.0a > 1.0",
                "1.0~rc1 < 1.0",
                "1.0~rc1 < 1.0~rc2",
                "1.0^a > 1.0",
                "1.0^ < 1.0.1",
                "1..2 = 1.2",
                "1.0-1.el8 < 1.0-1.el8_6",
                "4.18.0-372.9.1.el8 < 4.18.0-372.19.1.el8",
                "abc < abd",
                "a1 < a10",
            ],
            parse,
        );
    }
}
