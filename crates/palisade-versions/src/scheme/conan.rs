//! ConanCenter versions, ordered by Conan 2's `Version` model
//! (`conans/model/version.py`).
//!
//! The design decision: reproduce Conan 2's model. A version is
//! `main[-pre][+build]`: the build follows the *last* `+`, the prerelease the
//! *first* `-` of what remains, and each of the three parts is a list of
//! dot-separated items, an item being a number when it is all digits and a
//! string otherwise. Trailing zero items do not count (`1.0 == 1`). Versions
//! compare by their main items; when those are equal a prerelease sorts
//! first (`1.0-rc1 < 1.0`), two prereleases compare by their items, and then
//! builds compare (a version without a build sorts before one with a build;
//! Conan itself cannot compare those two).
//!
//! Conan compares a number item with a string item by their text
//! (`str(1) < "a"`), which is not transitive once strings start with digits
//! (`9 < 10`, `10 < "1w"`, yet `"1w" < 9`), and a sort needs a total order.
//! Items are therefore ordered by a key that agrees with Conan whenever
//! Conan is consistent: strings starting below `0` in byte order (and the
//! empty string), then numbers and digit-led strings by their leading number
//! and then the rest (`1 < 1w < 2 < 10`), then strings starting above `9`
//! (letters), bytewise. Only digit-led strings compared with numbers of a
//! different digit count are ordered differently from Conan's text order
//! (Conan puts `10` before `1w`; here `1w` comes first).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::digits::{cmp_decimal, digit_run, hash_decimal, strip_zeros};

type Span = (u16, u16);

/// A ConanCenter version.
#[derive(Clone, Debug)]
pub struct ConanVersion {
    /// The input exactly as given.
    original: Box<str>,
    /// The main items, without trailing zeros.
    main: Box<[Span]>,
    /// The prerelease items, if a `-` introduced them.
    pre: Option<Box<[Span]>>,
    /// The build items, if a `+` introduced them.
    build: Option<Box<[Span]>>,
}

impl ConanVersion {
    fn item(&self, span: Span) -> &[u8] {
        self.original
            .as_bytes()
            .get(usize::from(span.0)..usize::from(span.1))
            .unwrap_or_default()
    }

    fn cmp_items(&self, a: &[Span], other: &Self, b: &[Span]) -> Ordering {
        for (&x, &y) in a.iter().zip(b.iter()) {
            let ord = cmp_item(self.item(x), other.item(y));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.len().cmp(&b.len())
    }

    /// Whether the version has a prerelease part.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }
}

/// The class of an item in the total order: strings below `0` (and the
/// empty string), numbers and digit-led strings, other strings.
fn class(item: &[u8]) -> u8 {
    match item.first() {
        None => 0,
        Some(b) if b.is_ascii_digit() => 1,
        Some(&b) if b < b'0' => 0,
        Some(_) => 2,
    }
}

fn cmp_item(a: &[u8], b: &[u8]) -> Ordering {
    let (ca, cb) = (class(a), class(b));
    if ca != cb {
        return ca.cmp(&cb);
    }
    if ca != 1 {
        return a.cmp(b);
    }
    let (da, db) = (digit_run(a), digit_run(b));
    let (num_a, rest_a) = a.split_at(da.min(a.len()));
    let (num_b, rest_b) = b.split_at(db.min(b.len()));
    cmp_decimal(num_a, num_b)
        .then_with(|| rest_a.cmp(rest_b))
        .then_with(|| {
            // Two strings (not numbers) with equal values are still
            // different strings: `01a` is not `1a`.
            if rest_a.is_empty() {
                Ordering::Equal
            } else {
                num_a.cmp(num_b)
            }
        })
}

fn hash_item<H: Hasher>(item: &[u8], state: &mut H) {
    let c = class(item);
    state.write_u8(c);
    if c == 1 {
        let d = digit_run(item);
        let (num, rest) = item.split_at(d.min(item.len()));
        hash_decimal(num, state);
        state.write_usize(rest.len());
        state.write(rest);
        if !rest.is_empty() {
            state.write(num);
        }
    } else {
        state.write_usize(item.len());
        state.write(item);
    }
}

impl Ord for ConanVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_items(&self.main, other, &other.main)
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => self.cmp_items(a, other, b),
            })
            .then_with(|| match (&self.build, &other.build) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => self.cmp_items(a, other, b),
            })
    }
}

impl PartialOrd for ConanVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ConanVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ConanVersion {}

impl Hash for ConanVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for part in [Some(&self.main), self.pre.as_ref(), self.build.as_ref()] {
            match part {
                None => state.write_u8(0),
                Some(items) => {
                    state.write_u8(1);
                    state.write_usize(items.len());
                    for &span in items.iter() {
                        hash_item(self.item(span), state);
                    }
                }
            }
        }
    }
}

impl fmt::Display for ConanVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Splits `text` (at byte `offset` of the input) on dots into item spans,
/// dropping trailing zero numbers as Conan's `_nonzero_items` does.
fn items(input: &str, start: usize, end: usize) -> Box<[Span]> {
    let text = input.get(start..end).unwrap_or_default();
    let mut spans = Vec::new();
    let mut at = start;
    for piece in text.split('.') {
        let s = u16::try_from(at).unwrap_or(u16::MAX);
        let e = u16::try_from(at + piece.len()).unwrap_or(u16::MAX);
        spans.push((s, e));
        at += piece.len() + 1;
    }
    let is_zero = |span: &Span| {
        let item = input
            .as_bytes()
            .get(usize::from(span.0)..usize::from(span.1))
            .unwrap_or_default();
        !item.is_empty() && item.iter().all(u8::is_ascii_digit) && strip_zeros(item).is_empty()
    };
    while spans.last().is_some_and(is_zero) {
        spans.pop();
    }
    spans.into_boxed_slice()
}

/// Parses a Conan version. Conan accepts any string; only the empty string
/// and whitespace or control characters are rejected.
pub fn parse(input: &str) -> Result<ConanVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if input.len() > usize::from(u16::MAX) {
        return Err("too long".to_owned());
    }
    if let Some(bad) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("contains {bad:?}"));
    }
    let (rest_end, build) = match input.rfind('+') {
        Some(p) => (p, Some(items(input, p + 1, input.len()))),
        None => (input.len(), None),
    };
    let head = input.get(..rest_end).unwrap_or_default();
    let (main_end, pre) = match head.find('-') {
        Some(p) => (p, Some(items(input, p + 1, rest_end))),
        None => (rest_end, None),
    };
    Ok(ConanVersion {
        original: input.into(),
        main: items(input, 0, main_end),
        pre,
        build,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn conan_model_examples() {
        // Conan 2's rules as the module comment states them.
        assert_table(
            &[
                "1 = 1.0",
                "1.0 = 1.0.0",
                "1.0.0 < 1.0.1",
                "1.2 < 1.10",
                "1.0-pre < 1.0",
                "1.0-alpha < 1.0-beta",
                "1.0-alpha.2 < 1.0-alpha.10",
                "1.0-rc1 > 0.9",
                "1.0+b1 > 1.0",
                "1.0+b1 < 1.0+b2",
                "1.0-rc1+b2 > 1.0-rc1+b1",
                "1.0-rc1+b1 < 1.0",
                "1.a < 1.b",
                "1.1 < 1.a",
                "1.0.0-alpha.1 < 1.0.0-alpha.beta",
                "1.1.1 < 1.1.1w",
                "1.1.1w < 1.1.2",
                "1.1.1v < 1.1.1w",
                "3.1-beta-2 > 3.1-beta-1",
                "01.2 = 1.2",
            ],
            parse,
        );
    }

    #[test]
    fn splits_pre_and_build() {
        let v = parse("1.2.3-rc.1+build.5").unwrap_or_else(|e| panic!("{e}"));
        assert!(v.is_prerelease());
        assert_eq!(v.main.len(), 3);
        assert_eq!(v.pre.as_ref().map(|p| p.len()), Some(2));
        assert_eq!(v.build.as_ref().map(|b| b.len()), Some(2));
        assert_eq!(v.to_string(), "1.2.3-rc.1+build.5");
        // Digit-led strings are not numbers: `01a` differs from `1a`.
        assert_ne!(
            parse("1.01a").unwrap_or_else(|e| panic!("{e}")),
            parse("1.1a").unwrap_or_else(|e| panic!("{e}"))
        );
    }

    #[test]
    fn rejects_empty_and_blank() {
        assert!(parse("").is_err());
        assert!(parse("1.0 rc").is_err());
        assert!(parse("cci.20230101").is_ok());
    }
}
