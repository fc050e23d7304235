//! Packagist (Composer) versions, ordered as PHP's `version_compare()`.
//!
//! The design decision: Composer compares versions by handing them to PHP's
//! `version_compare()` (composer/semver's `Constraint::versionCompare`), and
//! OSV's reference implementations do the same after dropping a leading `v`
//! (Composer's `VersionParser` accepts `v1.2.3` and `V1.2.3` for `1.2.3`).
//! Composer's full normalisation (padding to four numbers, renaming
//! stability flags) is *not* applied before comparing: OSV data holds the
//! versions as published, `version_compare` never sees padded forms in OSV's
//! tooling, and padding would change answers (`version_compare` says
//! `1.0.0 > 1.0`, which the OSV fixture from php-src's tests checks).
//!
//! `version_compare()` (php-src `ext/standard/versioning.c`) first
//! canonicalises each string: `-`, `_` and `+` become `.`, a `.` is put
//! between a digit and a non-digit, other non-alphanumeric characters become
//! `.` (runs of dots collapse), and the very first character is kept as it
//! is. The dot-separated parts are then compared left to right: numbers as
//! numbers; words by their *special form*, found by prefix in the list
//! `dev` (0), `alpha`/`a` (1), `beta`/`b` (2), `RC`/`rc` (3), `#` (4),
//! `pl`/`p` (5), any other word being -1; a number against a word is `#`
//! (4) against the word's form. When one side runs out, the longer side wins
//! if its next part is a number; otherwise its remaining parts are compared
//! with `#`, so `1.0-dev < 1.0 < 1.0pl1` and `1.0 < 1.0.0`.
//!
//! Three deliberate differences keep the order exact and total where PHP is
//! not: numbers of any length compare exactly (PHP's `strtol` saturates at
//! 2^63-1, so it cannot order 30-digit numbers); a version that ends in a
//! separator (`1.0-`, canonically `1.0.`) sorts before every version it is a
//! prefix of, and equals itself (by the C code, PHP's loop stops at the empty
//! last part and answers -1 in both directions for `1.0.` against `1.0.dev`,
//! so it has no consistent answer to follow); and a string
//! that starts with `#`, which PHP leaves uncanonicalised, is rejected. The
//! parts are precomputed as (form, number) keys, so comparing allocates
//! nothing.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::digits::{cmp_decimal, hash_decimal};

/// The form of a numeric part: `#` in `version_compare`'s list.
const NUMBER_FORM: i8 = 4;
/// The form of a part that is empty because the version ended in a
/// separator: below everything.
const TRAILING_FORM: i8 = -2;

/// One part of a canonicalised version.
#[derive(Clone, Copy, Debug)]
struct Part {
    /// The special-form weight (`NUMBER_FORM` for numbers).
    form: i8,
    /// For numbers, the byte range of the digits within `canonical`.
    digits: (u16, u16),
}

/// A Packagist version.
#[derive(Clone, Debug)]
pub struct ComposerVersion {
    /// The input exactly as given.
    original: Box<str>,
    /// The canonicalised string the parts point into.
    canonical: Box<[u8]>,
    parts: Box<[Part]>,
}

impl ComposerVersion {
    fn digits(&self, part: &Part) -> &[u8] {
        self.canonical
            .get(usize::from(part.digits.0)..usize::from(part.digits.1))
            .unwrap_or_default()
    }

    /// Whether this is a Composer branch version (`dev-main`), which Composer
    /// itself never orders against release versions in constraints.
    pub fn is_dev_branch(&self) -> bool {
        self.original.starts_with("dev-")
    }
}

/// `version_compare`'s special-form weight of a word.
fn special_form(word: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| word.starts_with(name))
        .map_or(-1, |&(_, form)| form)
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.parts.len().max(other.parts.len());
        for i in 0..len {
            let ord = match (self.parts.get(i), other.parts.get(i)) {
                (Some(a), Some(b)) => {
                    let by_form = a.form.cmp(&b.form);
                    if by_form == Ordering::Equal && a.form == NUMBER_FORM {
                        cmp_decimal(self.digits(a), other.digits(b))
                    } else {
                        by_form
                    }
                }
                // The shorter side is padded with `#`, which a number beats
                // and which no word equals (words never have form 4 here).
                (Some(a), None) => {
                    if a.form == NUMBER_FORM {
                        Ordering::Greater
                    } else {
                        a.form.cmp(&NUMBER_FORM)
                    }
                }
                (None, Some(b)) => {
                    if b.form == NUMBER_FORM {
                        Ordering::Less
                    } else {
                        NUMBER_FORM.cmp(&b.form)
                    }
                }
                (None, None) => Ordering::Equal,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ComposerVersion {}

impl Hash for ComposerVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Padding never equals a real part, so equal versions have the same
        // number of parts with the same keys.
        state.write_usize(self.parts.len());
        for part in self.parts.iter() {
            state.write_i8(part.form);
            if part.form == NUMBER_FORM {
                hash_decimal(self.digits(part), state);
            }
        }
    }
}

impl fmt::Display for ComposerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// PHP's `php_canonicalize_version()`.
fn canonicalize(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 2);
    let Some((&first, rest)) = v.split_first() else {
        return out;
    };
    out.push(first);
    let mut lp = first;
    let is_dig = |c: u8| c.is_ascii_digit();
    let is_ndig = |c: u8| !c.is_ascii_digit() && c != b'.';
    for &p in rest {
        let lq = out.last().copied().unwrap_or(0);
        if matches!(p, b'-' | b'_' | b'+') {
            if lq != b'.' {
                out.push(b'.');
            }
        } else if (is_ndig(lp) && is_dig(p)) || (is_dig(lp) && is_ndig(p)) {
            if lq != b'.' {
                out.push(b'.');
            }
            out.push(p);
        } else if !p.is_ascii_alphanumeric() {
            if lq != b'.' {
                out.push(b'.');
            }
        } else {
            out.push(p);
        }
        lp = p;
    }
    out
}

/// Parses a Packagist version. Everything PHP's `version_compare` accepts is
/// accepted, except the empty string, whitespace and control characters, and
/// a leading `#`.
pub fn parse(input: &str) -> Result<ComposerVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if let Some(bad) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "contains {bad:?}; Composer versions hold no whitespace or control characters"
        ));
    }
    let bytes = input.as_bytes();
    // Composer's `v` prefix (either case) before a number.
    let body = match bytes {
        [b'v' | b'V', next, ..] if next.is_ascii_digit() => bytes.get(1..).unwrap_or_default(),
        _ => bytes,
    };
    if body.first() == Some(&b'#') {
        return Err("starts with '#', which version_compare leaves unparsed".to_owned());
    }
    let canonical = canonicalize(body);
    if canonical.len() > usize::from(u16::MAX) {
        return Err("too long".to_owned());
    }

    let mut parts = Vec::new();
    let mut pieces = canonical.split(|&b| b == b'.').enumerate().peekable();
    let mut offset = 0usize;
    while let Some((i, piece)) = pieces.next() {
        let is_last = pieces.peek().is_none();
        let start = offset;
        offset += piece.len() + 1;
        let part = if piece.is_empty() {
            if is_last && i > 0 {
                // The version ended in a separator.
                Part {
                    form: TRAILING_FORM,
                    digits: (0, 0),
                }
            } else {
                // A leading separator: an empty word, which is no special
                // form.
                Part {
                    form: -1,
                    digits: (0, 0),
                }
            }
        } else if piece.first().is_some_and(u8::is_ascii_digit) {
            let end = start + piece.len();
            Part {
                form: NUMBER_FORM,
                digits: (
                    u16::try_from(start).unwrap_or(u16::MAX),
                    u16::try_from(end).unwrap_or(u16::MAX),
                ),
            }
        } else {
            Part {
                form: special_form(piece),
                digits: (0, 0),
            }
        };
        parts.push(part);
    }

    Ok(ComposerVersion {
        original: input.into(),
        canonical: canonical.into_boxed_slice(),
        parts: parts.into_boxed_slice(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn canonicalises_like_php() {
        let c = |s: &str| String::from_utf8(canonicalize(s.as_bytes())).unwrap_or_default();
        assert_eq!(c("1.0.0rc2"), "1.0.0.rc.2");
        assert_eq!(c("4.3.2RC1"), "4.3.2.RC.1");
        assert_eq!(c("1.25.0-beta2.1"), "1.25.0.beta.2.1");
        assert_eq!(c("1_0+1"), "1.0.1");
        assert_eq!(c("1.2(message)"), "1.2.(message.");
        assert_eq!(c("-1"), "-.1");
    }

    #[test]
    fn php_and_composer_examples() {
        assert_table(
            &[
                "1.2(message) = 1.2(message)",
                "1.0-dev < 1.0-alpha1",
                "1.0-alpha1 = 1.0a1",
                "1.0-beta1 = 1.0b1",
                "1.0-patch1 = 1.0pl1",
                "1.0-p1 = 1.0pl1",
                "1.0-RC1 = 1.0-rc1",
                "1.0-BETA1 < 1.0-dev",
                "1.0-stable < 1.0-dev",
                "1.0.0 > 1.0",
                "1.0.0-alpha > 1.0",
                "1.0.0-alpha < 1.0.0",
                "1.0.0.0 > 1.0.0",
                "dev-master < 0.1",
                "v2.0.0 = 2.0.0",
                "v2.0.0 = V2.0.0",
                "1.0- < 1.0",
                "1.0- = 1.0-",
                "1.0- < 1.0-dev",
                "10.0.0-BETA4 < 10.0.0",
                "5.0.0-BETA2 < 5.0.0-RC1",
                "0.9.346 < 0.93",
                "1.22 < 1.22.01",
                "v6.0.0+ea2 < v6.1.0-rc1",
                // Lines PHP generated (osv-scalibr's
                // packagist-versions-generated.txt).
                "v6.13.6.6 < v6.13.7-beta1+EZP-30823.preview",
                "v4.0.0-rc.2 < v4.0.0-rc.2.1",
                "4.0.0-BETA15 < 4.0.0",
                "4.0.1 < 4.0.2beta1",
                "v5.2.28 < v6.0.0rc1",
                "2.0.0-RC < 2.0.0-RC2",
            ],
            parse,
        );
    }

    #[test]
    fn rejects_what_cannot_be_ordered() {
        assert!(parse("").is_err());
        assert!(parse("#1").is_err());
        assert!(parse("1.0 beta").is_err());
        assert!(parse("dev-main").is_ok_and(|v| v.is_dev_branch()));
    }
}
