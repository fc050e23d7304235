//! Alpine package versions (apk-tools), also used by Wolfi, Chainguard,
//! MinimOS, Alpaquita, BellSoft Hardened Containers and CleanStart.
//!
//! A well-formed apk version is
//! `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`, with the
//! suffixes ordered `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn <
//! _git < _hg < _p`.
//!
//! The design decision: OSV's reference comparison for these ecosystems is
//! osv-scalibr's `semantic/version-alpine.go`, which splits a version into
//! those parts with the same regular expressions apk documents and compares
//! part by part; its fixture (`alpine-versions.txt`, which includes
//! apk-tools' own `tests/version.data`) pins down how malformed versions
//! that `apk version -t` still accepts are ordered. This module reproduces
//! that model:
//!
//! - the numbers are the leading `((\d+)\.?)*` match; the first compares as
//!   a number, later ones compare as numbers unless either starts with `0`,
//!   in which case they compare as strings (apk's rule that `1.01 < 1.1`);
//!   a missing number counts as `0`;
//! - then the optional single lower-case letter (none sorts first);
//! - then every `_suffix{number}` found, compared by suffix weight and then
//!   number, a missing suffix weighing as "no suffix" (between `_rc` and
//!   `_cvs`);
//! - `~hash` is skipped and never compared;
//! - then `-r#` (a missing revision is `-r0`);
//! - then a version with nothing left over sorts after one with leftovers.
//!
//! What is left after the revision, or text that is none of the above,
//! makes the version *invalid* in osv-scalibr's sense. osv-scalibr compares
//! two invalid versions as plain strings *instead of* part by part, which is
//! not transitive (an invalid version could be equal to a valid one that is
//! equal to another invalid one it is not equal to), and a sort needs a total
//! order. Here the part-by-part comparison always comes first; among versions
//! equal so far, valid ones sort before invalid ones, and invalid ones in
//! byte order of the whole string. Two further deliberate differences from
//! osv-scalibr, both to keep the order total and faithful to apk: a missing
//! number is `0` at its own position (osv-scalibr compares it as the first
//! number, which makes `1.00` equal to `1` but `1.00` greater than `1.0`),
//! and a missing suffix weighs as "no suffix" (osv-scalibr gives it the
//! weight of `_cvs`, so `1.2_cvs` equalled `1.2`).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::digits::{cmp_decimal, digit_run, hash_decimal, strip_zeros};

/// The recognised suffixes, in the order the regular expression tries them,
/// with their weights. Weight 4 is "no suffix".
const SUFFIXES: [(&[u8], u8); 9] = [
    (b"alpha", 0),
    (b"beta", 1),
    (b"pre", 2),
    (b"rc", 3),
    (b"cvs", 5),
    (b"svn", 6),
    (b"git", 7),
    (b"hg", 8),
    (b"p", 9),
];

/// The weight standing for "no suffix here".
const NO_SUFFIX: u8 = 4;

type Span = (u32, u32);

/// An apk version.
#[derive(Clone, Debug)]
pub struct ApkVersion {
    /// The input exactly as given.
    original: Box<str>,
    /// The leading numbers, as byte ranges of `original`.
    numbers: Box<[Span]>,
    letter: Option<u8>,
    /// Each suffix found: its weight and the byte range of its number.
    suffixes: Box<[(u8, Span)]>,
    /// The byte range of the `-r` number (empty when absent: `-r0`).
    revision: Span,
    /// Whether anything was left over after the revision.
    has_remainder: bool,
    /// Whether the text after the suffixes was neither a hash, a revision
    /// nor the end.
    invalid: bool,
}

impl ApkVersion {
    fn bytes(&self, span: Span) -> &[u8] {
        self.original
            .as_bytes()
            .get(span.0 as usize..span.1 as usize)
            .unwrap_or_default()
    }

    /// Whether osv-scalibr would call this version invalid (text it cannot
    /// place); such versions are still ordered, see the module comment.
    pub fn is_well_formed(&self) -> bool {
        !self.invalid && !self.has_remainder
    }

    fn cmp_numbers(&self, other: &Self) -> Ordering {
        let len = self.numbers.len().max(other.numbers.len());
        for i in 0..len {
            let a = self.numbers.get(i).map_or(&b"0"[..], |&s| self.bytes(s));
            let b = other.numbers.get(i).map_or(&b"0"[..], |&s| other.bytes(s));
            let leading_zero = a.first() == Some(&b'0') || b.first() == Some(&b'0');
            let ord = if i > 0 && leading_zero {
                a.cmp(b)
            } else {
                cmp_decimal(a, b)
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }

    fn cmp_suffixes(&self, other: &Self) -> Ordering {
        let len = self.suffixes.len().max(other.suffixes.len());
        for i in 0..len {
            let (wa, na) = self
                .suffixes
                .get(i)
                .map_or((NO_SUFFIX, &b""[..]), |&(w, s)| (w, self.bytes(s)));
            let (wb, nb) = other
                .suffixes
                .get(i)
                .map_or((NO_SUFFIX, &b""[..]), |&(w, s)| (w, other.bytes(s)));
            let ord = wa.cmp(&wb).then_with(|| cmp_decimal(na, nb));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_numbers(other)
            .then_with(|| self.letter.cmp(&other.letter))
            .then_with(|| self.cmp_suffixes(other))
            .then_with(|| cmp_decimal(self.bytes(self.revision), other.bytes(other.revision)))
            // Nothing left over sorts after leftovers.
            .then_with(|| other.has_remainder.cmp(&self.has_remainder))
            .then_with(|| self.invalid.cmp(&other.invalid))
            .then_with(|| {
                if self.invalid {
                    self.original.as_bytes().cmp(other.original.as_bytes())
                } else {
                    Ordering::Equal
                }
            })
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

impl Hash for ApkVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Trailing numbers spelled exactly "0" equal missing ones, and so
        // does a first number of zero when nothing follows it.
        let mut count = self.numbers.len();
        while count > 1
            && self
                .numbers
                .get(count - 1)
                .is_some_and(|&s| self.bytes(s) == b"0")
        {
            count -= 1;
        }
        if count == 1
            && self
                .numbers
                .first()
                .is_some_and(|&s| strip_zeros(self.bytes(s)).is_empty())
        {
            count = 0;
        }
        state.write_usize(count);
        for (i, &span) in self.numbers.iter().take(count).enumerate() {
            let digits = self.bytes(span);
            if i == 0 || digits.first() != Some(&b'0') {
                hash_decimal(digits, state);
            } else {
                state.write_u8(b'0');
                state.write_usize(digits.len());
                state.write(digits);
            }
        }
        self.letter.hash(state);
        state.write_usize(self.suffixes.len());
        for &(weight, span) in self.suffixes.iter() {
            state.write_u8(weight);
            hash_decimal(self.bytes(span), state);
        }
        hash_decimal(self.bytes(self.revision), state);
        self.has_remainder.hash(state);
        self.invalid.hash(state);
        if self.invalid {
            self.original.hash(state);
        }
    }
}

impl fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// The suffix name matched at `bytes` (which starts just after a `_`), as
/// the alternation `alpha|beta|pre|rc|cvs|svn|git|hg|p` matches it.
fn match_suffix(bytes: &[u8]) -> Option<(usize, u8)> {
    SUFFIXES
        .iter()
        .find(|(name, _)| bytes.starts_with(name))
        .map(|&(name, weight)| (name.len(), weight))
}

fn span(start: usize, end: usize) -> Span {
    // Inputs are far shorter than 4 GiB (the caller limits them), so the
    // conversion cannot saturate in practice; saturating keeps it total.
    (
        u32::try_from(start).unwrap_or(u32::MAX),
        u32::try_from(end).unwrap_or(u32::MAX),
    )
}

/// Parses an apk version. Only the empty string and strings with whitespace
/// or control characters are rejected; everything else is ordered as the
/// module comment describes.
pub fn parse(input: &str) -> Result<ApkVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if let Some(bad) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "contains {bad:?}; apk versions hold no whitespace or control characters"
        ));
    }
    let bytes = input.as_bytes();
    let at = |i: usize| bytes.get(i).copied();

    // Numbers: `((\d+)\.?)*` from the start.
    let mut numbers = Vec::new();
    let mut pos = 0;
    loop {
        let run = digit_run(bytes.get(pos..).unwrap_or_default());
        if run == 0 {
            break;
        }
        numbers.push(span(pos, pos + run));
        pos += run;
        if at(pos) == Some(b'.') {
            pos += 1;
        } else {
            break;
        }
    }

    // An optional lower-case letter.
    let letter = at(pos).filter(u8::is_ascii_lowercase);
    if letter.is_some() {
        pos += 1;
    }

    // Every `_(suffix)(\d*)` in the rest, left to right without overlap; the
    // text is consumed only while the matches follow each other from `pos`.
    let mut suffixes = Vec::new();
    let mut scan = pos;
    while scan < bytes.len() {
        let matched = (at(scan) == Some(b'_'))
            .then(|| match_suffix(bytes.get(scan + 1..).unwrap_or_default()))
            .flatten();
        let Some((name_len, weight)) = matched else {
            scan += 1;
            continue;
        };
        let number_start = scan + 1 + name_len;
        let number_len = digit_run(bytes.get(number_start..).unwrap_or_default());
        let end = number_start + number_len;
        suffixes.push((weight, span(number_start, end)));
        if scan == pos {
            pos = end;
        }
        scan = end;
    }

    // An optional `~hash` of lower-case hexadecimal digits.
    if at(pos) == Some(b'~') {
        let hex = bytes
            .get(pos + 1..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        if hex > 0 {
            pos += 1 + hex;
        }
    }

    // The `-r#` revision, or the end; anything else is invalid.
    let mut revision = span(pos, pos);
    let mut invalid = false;
    if pos < bytes.len() {
        if at(pos) == Some(b'-') && at(pos + 1) == Some(b'r') {
            let start = pos + 2;
            let run = digit_run(bytes.get(start..).unwrap_or_default());
            revision = span(start, start + run);
            pos = start + run;
        } else {
            invalid = true;
        }
    }

    Ok(ApkVersion {
        original: input.into(),
        numbers: numbers.into_boxed_slice(),
        letter,
        suffixes: suffixes.into_boxed_slice(),
        revision,
        has_remainder: pos < bytes.len(),
        invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn apk_documented_order() {
        assert_table(
            &[
                "1.0_alpha < 1.0_beta",
                "1.0_beta < 1.0_pre",
                "1.0_pre < 1.0_rc",
                "1.0_rc < 1.0",
                "1.0 < 1.0_cvs",
                "1.0_cvs < 1.0_svn",
                "1.0_svn < 1.0_git",
                "1.0_git < 1.0_hg",
                "1.0_hg < 1.0_p",
                "1.0_rc1 < 1.0_rc2",
                "1.0_rc9 < 1.0_rc10",
                "1.0 < 1.0a",
                "1.0a < 1.0b",
                "1.0z < 1.1",
                "1.0-r0 = 1.0",
                "1.0-r1 < 1.0-r2",
                "1.0-r9 < 1.0-r10",
                "1.0_p1-r5 < 1.0_p2",
                "1.01 < 1.1",
                "1.0 = 1",
                "1.0.0 = 1",
                "1.0~abc123-r1 = 1.0-r1",
                "2.36.1-r1 > 2.36.0-r9",
                "3.0.10-r0 > 3.0.9-r5",
                "1.2_cvs > 1.2",
            ],
            parse,
        );
    }

    #[test]
    fn splits_parts() {
        let v = parse("1.2.3b_rc2_p1~0a1b-r7").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.numbers.len(), 3);
        assert_eq!(v.letter, Some(b'b'));
        assert_eq!(v.suffixes.len(), 2);
        assert_eq!(v.bytes(v.revision), b"7");
        assert!(v.is_well_formed());
        assert_eq!(v.to_string(), "1.2.3b_rc2_p1~0a1b-r7");

        let v = parse("1.2_blah").unwrap_or_else(|e| panic!("{e}"));
        assert!(!v.is_well_formed());
    }

    #[test]
    fn invalid_versions_still_order_totally() {
        // Two invalid versions equal part by part fall back to byte order.
        assert_table(&[".1 < .2", "0..8 > 0...8", "1.2_blah < 1.2"], parse);
    }

    #[test]
    fn rejects_empty_and_blank() {
        assert!(parse("").is_err());
        assert!(parse("1.0 -r1").is_err());
        assert!(parse("1.0\n").is_err());
    }
}
