//! FreeBSD ports and packages: `PORTVERSION[_PORTREVISION][,PORTEPOCH]`,
//! ordered as pkg's `pkg_version_cmp()` (`libpkg/pkg_version.c`).
//!
//! The design decision: reproduce pkg's component reader `get_component()`
//! and precompute its output, so that comparing walks two short arrays. The
//! epoch (after the last `,`) decides first, then the port version, then the
//! revision (after the last `_`). The port version is a series of
//! components, each a (number, letter, patch level) triple:
//!
//! - characters other than `[a-zA-Z0-9.+*]` separate components, and runs of
//!   separators collapse (`10..1` is `10.1`);
//! - a missing component is `0` (`10 = 10.0`); a missing number in a
//!   component that starts with a letter is -1 (`10.a < 10`); `*` is the
//!   smallest component;
//! - letters sort `(none) < a < b < ... < z`, only the first letter counts
//!   and case is ignored (`1.d2 = 1.dev2`); `pl`, `alpha`, `beta`, `pre` and
//!   `rc` at the start of a component weigh as `(below a)`, `a`, `b`, `p`
//!   and `r`, and after a number they start a new component (`10alpha` is
//!   `10.alpha`, so `10alpha < 10`... and `10 < 10a`);
//! - `+` separates groups that are compared group by group, each padded with
//!   zero components.
//!
//! Numbers saturate at 2^63-1 as pkg's `strtoll` does. pkg would also read a
//! package name before the last `-`; OSV gives bare versions, so a `-` is
//! rejected, as are a non-numeric revision or epoch, which the ports
//! framework does not allow.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// One `get_component()` result: number, letter and patch level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Component {
    n: i64,
    a: i32,
    pl: i64,
}

const ZERO: Component = Component { n: 0, a: 0, pl: 0 };

/// The special stage names and the letter values they take.
const STAGES: [(&[u8], i32); 5] = [
    (b"pl", 0),
    (b"alpha", 1),
    (b"beta", 2),
    (b"pre", 16),
    (b"rc", 18),
];

/// A FreeBSD package version.
#[derive(Clone, Debug)]
pub struct FreeBsdVersion {
    /// The input exactly as given.
    original: Box<str>,
    epoch: u64,
    revision: u64,
    /// The `+`-separated groups of components, each without trailing zero
    /// components, and without trailing empty groups: the form in which
    /// equal versions are identical.
    groups: Box<[Box<[Component]>]>,
}

impl FreeBsdVersion {
    /// The port epoch (after `,`; 0 when absent).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The port revision (after `_`; 0 when absent).
    pub fn revision(&self) -> u64 {
        self.revision
    }
}

impl Ord for FreeBsdVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| {
                let groups = self.groups.len().max(other.groups.len());
                for g in 0..groups {
                    let a = self.groups.get(g).map_or(&[][..], |c| &c[..]);
                    let b = other.groups.get(g).map_or(&[][..], |c| &c[..]);
                    for i in 0..a.len().max(b.len()) {
                        let ca = a.get(i).copied().unwrap_or(ZERO);
                        let cb = b.get(i).copied().unwrap_or(ZERO);
                        let ord = ca.cmp(&cb);
                        if ord != Ordering::Equal {
                            return ord;
                        }
                    }
                }
                Ordering::Equal
            })
            .then_with(|| self.revision.cmp(&other.revision))
    }
}

impl PartialOrd for FreeBsdVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for FreeBsdVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FreeBsdVersion {}

impl Hash for FreeBsdVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
        self.groups.hash(state);
        self.revision.hash(state);
    }
}

impl fmt::Display for FreeBsdVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// `strtoll` on the digits at the start of `bytes`: the value (saturated at
/// `i64::MAX`) and the number of digits read.
fn read_number(bytes: &[u8]) -> (i64, usize) {
    let len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = bytes
        .iter()
        .take(len)
        .try_fold(0i64, |acc, &d| {
            acc.checked_mul(10)?.checked_add(i64::from(d - b'0'))
        })
        .unwrap_or(i64::MAX);
    (value, len)
}

/// pkg's `get_component()`: reads one component at `v[pos..]` and returns it
/// with the position after it and any trailing separators.
fn get_component(v: &[u8], mut pos: usize) -> (Component, usize) {
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    let mut c = ZERO;
    let mut has_stage = false;

    if at(pos).is_ascii_digit() {
        let (n, len) = read_number(v.get(pos..).unwrap_or_default());
        c.n = n;
        pos += len;
    } else if at(pos) == b'*' {
        c.n = -2;
        pos += 1;
        while pos < v.len() && at(pos) != b'+' {
            pos += 1;
        }
    } else {
        c.n = -1;
        has_stage = true;
    }

    let mut has_patch_level;
    if at(pos).is_ascii_alphabetic() {
        let mut letter = i32::from(at(pos).to_ascii_lowercase());
        has_patch_level = true;
        if at(pos + 1).is_ascii_alphabetic() {
            let rest = v.get(pos..).unwrap_or_default();
            for (name, value) in STAGES {
                let matches = rest.len() >= name.len()
                    && rest
                        .get(..name.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(name))
                    && !at(pos + name.len()).is_ascii_alphabetic();
                if matches {
                    if has_stage {
                        c.a = value;
                        pos += name.len();
                    } else {
                        // A dot is inserted: the stage starts the next
                        // component.
                        c.a = 0;
                        has_patch_level = false;
                    }
                    letter = 0;
                    break;
                }
            }
        }
        if letter != 0 {
            c.a = letter - i32::from(b'a') + 1;
            pos += 1;
            while at(pos).is_ascii_alphabetic() {
                pos += 1;
            }
        }
    } else {
        c.a = 0;
        has_patch_level = false;
    }

    if has_patch_level {
        if at(pos).is_ascii_digit() {
            let (pl, len) = read_number(v.get(pos..).unwrap_or_default());
            c.pl = pl;
            pos += len;
        } else {
            c.pl = -1;
        }
    } else {
        c.pl = 0;
    }

    while pos < v.len() {
        let b = at(pos);
        if b.is_ascii_digit() || b.is_ascii_alphabetic() || b == b'+' || b == b'*' {
            break;
        }
        pos += 1;
    }
    (c, pos)
}

/// Splits a port version into its `+`-separated groups of components, as
/// `pkg_version_cmp()` walks them.
fn components(v: &[u8]) -> Vec<Box<[Component]>> {
    let mut groups = Vec::new();
    let mut current = Vec::new();
    let mut pos = 0;
    while pos < v.len() {
        if v.get(pos) == Some(&b'+') {
            groups.push(std::mem::take(&mut current));
            pos += 1;
            continue;
        }
        let (c, next) = get_component(v, pos);
        current.push(c);
        // get_component always consumes at least one byte here: a
        // separator is skipped by its trailing loop, anything else is read.
        pos = next.max(pos + 1);
    }
    groups.push(current);
    let mut groups: Vec<Box<[Component]>> = groups
        .into_iter()
        .map(|mut g| {
            while g.last() == Some(&ZERO) {
                g.pop();
            }
            g.into_boxed_slice()
        })
        .collect();
    while groups.last().is_some_and(|g| g.is_empty()) {
        groups.pop();
    }
    groups
}

fn parse_number(text: &str, what: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the {what} {text:?} is not a number"));
    }
    // strtoul saturates; so do we.
    Ok(text
        .bytes()
        .try_fold(0u64, |acc, d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .unwrap_or(u64::MAX))
}

/// Parses a FreeBSD package version (`1.2.3_4,1`).
pub fn parse(input: &str) -> Result<FreeBsdVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if let Some(bad) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("contains {bad:?}"));
    }
    if input.contains('-') {
        return Err(
            "contains '-', which separates a package name from its version; give the version only"
                .to_owned(),
        );
    }
    // As split_version(): the revision follows the last '_', the epoch the
    // last ',' after it (or anywhere, without a revision).
    let (mut version, mut revision) = (input, 0);
    let underscore = input.rfind('_');
    let comma_search_from = underscore.map_or(0, |u| u + 1);
    let comma = input
        .get(comma_search_from..)
        .and_then(|s| s.rfind(','))
        .map(|c| c + comma_search_from);
    let mut epoch = 0;
    if let Some(c) = comma {
        epoch = parse_number(input.get(c + 1..).unwrap_or_default(), "epoch")?;
    }
    if let Some(u) = underscore {
        let end = comma.unwrap_or(input.len());
        revision = parse_number(input.get(u + 1..end).unwrap_or_default(), "revision")?;
        version = input.get(..u).unwrap_or_default();
    } else if let Some(c) = comma {
        version = input.get(..c).unwrap_or_default();
    }
    if version.is_empty() {
        return Err("the port version is empty".to_owned());
    }
    if version.contains(',') {
        return Err("a ',' (epoch) must come after the '_' revision".to_owned());
    }
    Ok(FreeBsdVersion {
        original: input.into(),
        epoch,
        revision,
        groups: components(version.as_bytes()).into_boxed_slice(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn pkg_version_documented_rules() {
        // The rules and examples in the comment of libpkg/pkg_version.c, and
        // pkg's tests/frontend/version.sh.
        assert_table(
            &[
                "1.0:2003.09.16 = 1.0.2003.09.16",
                "1.0.1:2003.09.16 < 1.0:2003.09.16",
                "10..1 = 10.1",
                "10a1b2 = 10a1.b2",
                "10 = 10.0",
                "10 = 10.0.0",
                "10 < 10a",
                "10a < 10b",
                "a < 0",
                "10.a < 10",
                "10alpha < 10",
                "10alpha = 10.a",
                "pl11 < alpha3",
                "alpha3 < 0.1beta2",
                "0.1beta2 = 0.1.b2",
                "0.1.b2 < 0.1",
                "1.d2 = 1.dev2",
                "1.dev2 = 1.Development2",
                "2.* < 2pl1",
                "2pl1 < 2alpha3",
                "2alpha3 < 2.9f7",
                "2.9f7 < 3.*",
                "1.0 < 1.0_1",
                "1.0_1 < 1.0_2",
                "1.0_9 < 1.0_10",
                "2.0 < 1.0,1",
                "1.0_5 < 1.0_1,1",
                "1.0,1 = 1.0_0,1",
                "5.0+1 > 5.0",
                "5.0+1 < 5.0.1",
                "1.0+2 = 1.0.0+2",
                "1.0+ = 1.0",
                "1.0.p1 = 1.0.P1",
                "3.2.1 > 3.2",
                "20240101 > 20231231",
            ],
            parse,
        );
    }

    #[test]
    fn splits_revision_and_epoch() {
        let v = parse("1.2.3_4,1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.revision(), 4);
        assert_eq!(v.epoch(), 1);
        assert_eq!(v.to_string(), "1.2.3_4,1");
        let v = parse("1.2,3").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((v.revision(), v.epoch()), (0, 3));
    }

    #[test]
    fn rejects_malformed() {
        for input in [
            "", "pkg-1.0", "1.0_a", "1.0,x", "_1", ",1", "1.0 1", "1.0,1_2",
        ] {
            assert!(parse(input).is_err(), "{input:?} should be rejected");
        }
    }
}
