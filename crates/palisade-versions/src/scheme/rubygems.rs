//! RubyGems versions, as `Gem::Version` (rubygems `lib/rubygems/version.rb`)
//! reads and orders them.
//!
//! The design decision: reproduce `Gem::Version` step by step.
//!
//! - Validity is its `ANCHORED_VERSION_PATTERN`,
//!   `\A\s*([0-9]+(?>\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z`,
//!   checked by hand: a version starts with a digit, so `1beta` is rejected
//!   exactly as `Gem::Version.new("1beta")` raises "Malformed version number
//!   string". A blank string is version `0`, as in RubyGems.
//! - Every `-` reads as `.pre.` (`1.0-rc1` is `1.0.pre.rc1`).
//! - The segments are the runs of digits and of ASCII letters
//!   (`1.0.a10` is `1, 0, "a", 10`); a letter makes the version a
//!   prerelease.
//! - Comparison uses the *canonical* segments: trailing zeros are dropped
//!   from the numeric part before the first letter segment and from the part
//!   from there on (so `1.0.a` equals `1.a`, and `1.0` equals `1`). Missing
//!   segments count as `0`; a letter segment sorts before a number; numbers
//!   compare as numbers of any length, letter segments bytewise.
//!
//! `Eq` and `Hash` use the canonical segments too, as `Gem::Version#hash`
//! does, so `1.0 == 1` here as `Gem::Version.new("1.0") == Gem::Version.new("1")`
//! is true in Ruby.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::digits::{cmp_decimal, hash_decimal, strip_zeros};

/// One segment of a version: a number or a run of letters (both as byte
/// ranges of the trimmed input), or the `pre` that a `-` stands for.
#[derive(Clone, Copy, Debug)]
enum Segment {
    Number(u32, u32),
    Letters(u32, u32),
    Pre,
}

/// A RubyGems version.
#[derive(Clone, Debug)]
pub struct GemVersion {
    /// The input exactly as given.
    original: Box<str>,
    /// The canonical segments (trailing zeros of both parts dropped).
    canonical: Box<[Segment]>,
    prerelease: bool,
}

impl GemVersion {
    /// Whether the version is a prerelease (contains a letter), as
    /// `Gem::Version#prerelease?`.
    pub fn is_prerelease(&self) -> bool {
        self.prerelease
    }

    fn text(&self, start: u32, end: u32) -> &[u8] {
        self.original
            .as_bytes()
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// A segment as a comparable value: `Ok(digits)` for a number, `Err(letters)`
    /// for a letter run.
    fn value(&self, segment: Option<&Segment>) -> Result<&[u8], &[u8]> {
        match segment {
            None => Ok(b"0"),
            Some(&Segment::Number(s, e)) => Ok(self.text(s, e)),
            Some(&Segment::Letters(s, e)) => Err(self.text(s, e)),
            Some(Segment::Pre) => Err(b"pre"),
        }
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.canonical.len().max(other.canonical.len());
        for i in 0..len {
            let ord = match (
                self.value(self.canonical.get(i)),
                other.value(other.canonical.get(i)),
            ) {
                (Ok(a), Ok(b)) => cmp_decimal(a, b),
                (Err(a), Err(b)) => a.cmp(b),
                (Err(_), Ok(_)) => Ordering::Less,
                (Ok(_), Err(_)) => Ordering::Greater,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

impl Hash for GemVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Canonical segments never end in a zero, so equal versions have
        // equal segment lists.
        state.write_usize(self.canonical.len());
        for segment in self.canonical.iter() {
            match self.value(Some(segment)) {
                Ok(digits) => {
                    state.write_u8(0);
                    hash_decimal(digits, state);
                }
                Err(letters) => {
                    state.write_u8(1);
                    state.write_usize(letters.len());
                    state.write(letters);
                }
            }
        }
    }
}

impl fmt::Display for GemVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Ruby's `\s`.
fn is_ruby_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Checks `[0-9]+(?>\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`
/// against the whole of `v`, explaining the first violation.
fn check_pattern(v: &[u8]) -> Result<(), String> {
    let run = |from: usize, ok: fn(u8) -> bool| {
        v.get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| ok(b))
            .count()
    };
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    let alnum_hyphen = |b: u8| b.is_ascii_alphanumeric() || b == b'-';

    let mut pos = run(0, |b| b.is_ascii_digit());
    if pos == 0 {
        return Err("must start with a digit".to_owned());
    }
    while v.get(pos) == Some(&b'.') {
        let n = run(pos + 1, alnum);
        if n == 0 {
            return Err(format!(
                "a dot at byte {pos} must be followed by digits or ASCII letters"
            ));
        }
        pos += 1 + n;
    }
    if v.get(pos) == Some(&b'-') {
        let n = run(pos + 1, alnum_hyphen);
        if n == 0 {
            return Err(format!(
                "the hyphen at byte {pos} must be followed by digits, letters or hyphens"
            ));
        }
        pos += 1 + n;
        while v.get(pos) == Some(&b'.') {
            let n = run(pos + 1, alnum_hyphen);
            if n == 0 {
                return Err(format!(
                    "a dot at byte {pos} must be followed by digits, letters or hyphens"
                ));
            }
            pos += 1 + n;
        }
    }
    match v.get(pos) {
        None => Ok(()),
        Some(&b) => Err(format!(
            "unexpected {:?} at byte {pos} (RubyGems versions are dot-separated digits and ASCII letters, with an optional -prerelease)",
            char::from(b)
        )),
    }
}

/// Parses a RubyGems version; the error explains why `Gem::Version` would
/// call it malformed.
pub fn parse(input: &str) -> Result<GemVersion, String> {
    let bytes = input.as_bytes();
    let start = bytes
        .iter()
        .position(|&b| !is_ruby_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_ruby_space(b))
        .map_or(start, |e| e + 1);
    let trimmed = bytes.get(start..end).unwrap_or_default();
    if !trimmed.is_empty() {
        check_pattern(trimmed).map_err(|e| format!("malformed RubyGems version: {e}"))?;
    }

    // Segments, with each hyphen standing for a `pre` segment.
    let mut segments = Vec::new();
    let mut i = start;
    while i < end {
        let Some(&b) = bytes.get(i) else { break };
        if b == b'-' {
            segments.push(Segment::Pre);
            i += 1;
        } else if b.is_ascii_digit() || b.is_ascii_alphabetic() {
            let digit = b.is_ascii_digit();
            let len = bytes
                .get(i..end)
                .unwrap_or_default()
                .iter()
                .take_while(|c| {
                    if digit {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    }
                })
                .count();
            let (s, e) = (
                u32::try_from(i).unwrap_or(u32::MAX),
                u32::try_from(i + len).unwrap_or(u32::MAX),
            );
            segments.push(if digit {
                Segment::Number(s, e)
            } else {
                Segment::Letters(s, e)
            });
            i += len;
        } else {
            i += 1;
        }
    }
    let prerelease = segments.iter().any(|s| !matches!(s, Segment::Number(..)));

    // Canonical segments: drop trailing zeros from the numeric part and from
    // the part that starts at the first letter segment.
    let is_zero = |s: &Segment| match *s {
        Segment::Number(a, b) => {
            strip_zeros(bytes.get(a as usize..b as usize).unwrap_or_default()).is_empty()
        }
        _ => false,
    };
    let split = segments
        .iter()
        .position(|s| !matches!(s, Segment::Number(..)))
        .unwrap_or(segments.len());
    let numeric = segments.get(..split).unwrap_or_default();
    let numeric_len = numeric.len() - numeric.iter().rev().take_while(|s| is_zero(s)).count();
    let rest = segments.get(split..).unwrap_or_default();
    let rest_len = rest.len() - rest.iter().rev().take_while(|s| is_zero(s)).count();
    let canonical: Box<[Segment]> = numeric
        .iter()
        .take(numeric_len)
        .chain(rest.iter().take(rest_len))
        .copied()
        .collect();

    Ok(GemVersion {
        original: input.into(),
        canonical,
        prerelease,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn rubygems_test_suite_examples() {
        // From rubygems' test/rubygems/test_gem_version.rb.
        assert_table(
            &[
                "1.0 = 1.0.0",
                "1.0 > 1.0.a",
                "1.8.2 > 0.0.0",
                "1.8.2 > 1.8.2.a",
                "1.8.2.b > 1.8.2.a",
                "1.8.2.a < 1.8.2",
                "1.8.2.a10 > 1.8.2.a9",
                "0.beta.1 = 0.0.beta.1",
                "0.0.beta < 0.0.beta.1",
                "0.0.beta < 0.beta.1",
                "5.a < 5.0.0.rc2",
                "5.x > 5.0.0.rc2",
                "1.0.0-1 < 1.0.0",
                "1.0.0-1 = 1.0.0.pre.1",
                "1.0.0-rc1 = 1.0.0.pre.rc1",
                "1.0.0-rc1 < 1.0.0.rc1",
                "1.2.0.a = 1.2.a",
                "1.a = 1.0.a",
                "1.0.b1 = 1.0.b.1",
                "1.0.a.2 > 0.9",
            ],
            parse,
        );
    }

    #[test]
    fn blank_is_zero_and_whitespace_is_trimmed() {
        assert_table(&["0 < 1"], parse);
        let blank = parse("").unwrap_or_else(|e| panic!("{e}"));
        let zero = parse("0").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(blank, zero);
        let spaced = parse("  1.2.3\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spaced, parse("1.2.3").unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(spaced.to_string(), "  1.2.3\n");
    }

    #[test]
    fn prerelease_means_a_letter() {
        let p = |s: &str| parse(s).map(|v| v.is_prerelease()).unwrap_or(false);
        assert!(p("1.0.a"));
        assert!(p("1.0-1"));
        assert!(!p("1.0.0"));
    }

    #[test]
    fn rejects_malformed_versions() {
        // test_gem_version.rb's invalid versions, plus letters glued to the
        // first number.
        for input in [
            "junk",
            "1.0\n2.0",
            "1..2",
            "1.2 3.4",
            "1.",
            "1beta",
            "1.0-",
            "v1.0",
            "1.0+build",
            "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
        ] {
            assert!(parse(input).is_err(), "{input:?} should be malformed");
        }
        assert!(parse("1.0--").is_ok());
        assert!(parse("1.0-a-b.c-d").is_ok());
    }
}
