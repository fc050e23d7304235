//! Debian package versions (`[epoch:]upstream_version[-debian_revision]`), as
//! dpkg reads and orders them. Used for Debian, Ubuntu, Echo and Docker
//! Hardened Images.
//!
//! The design decision: reproduce dpkg's own code rather than a description
//! of it. Parsing follows `parseversion()` in `lib/dpkg/parsehelp.c`: blanks
//! around the string are dropped, the epoch is what precedes the *first*
//! colon and is read as `strtol` would (a `+` sign is accepted, a negative or
//! out-of-range epoch is an error), the revision is what follows the *last*
//! hyphen. Comparison is `verrevcmp()` from `lib/dpkg/version.c`, applied to
//! the original bytes: non-digit runs compare character by character with
//! `~` before the end of the string, the end before letters, letters before
//! everything else; digit runs compare as numbers of any length.
//!
//! dpkg reports some defects as warnings (`version number does not start
//! with digit`, `invalid character in version number`) and turns them into
//! errors when it reads package control data outside its lax mode; the
//! archive therefore never holds such versions, and this parser rejects them
//! with dpkg's own message. Non-ASCII bytes fall under that rule too, which
//! also avoids dpkg's platform-dependent ordering of them (the sign of
//! `char` differs between architectures).
//!
//! `Eq` and `Hash` follow the order: `1.0` equals `0:1.0`, `1.0-0` and
//! `1.00`, because dpkg cannot tell them apart.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::digits::{cmp_decimal, digit_run, hash_decimal, strip_zeros};

/// The largest epoch dpkg accepts (`INT_MAX`).
const MAX_EPOCH: u64 = i32::MAX as u64;

/// A Debian version.
#[derive(Clone, Debug)]
pub struct DpkgVersion {
    /// The input exactly as given, for display.
    original: Box<str>,
    epoch: u32,
    /// Byte range of the upstream version within `original`.
    upstream: (usize, usize),
    /// Byte range of the revision within `original`; empty when absent, which
    /// dpkg treats exactly like a revision of `0`.
    revision: (usize, usize),
}

impl DpkgVersion {
    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version.
    pub fn upstream(&self) -> &str {
        self.original
            .get(self.upstream.0..self.upstream.1)
            .unwrap_or_default()
    }

    /// The Debian revision (empty when absent).
    pub fn revision(&self) -> &str {
        self.original
            .get(self.revision.0..self.revision.1)
            .unwrap_or_default()
    }
}

/// dpkg's `order()`: the weight of one byte of a non-digit run, where `None`
/// is the end of the string.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp()`: compares two upstream versions or two revisions.
pub(crate) fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Compare the non-digit prefixes character by character.
        loop {
            let ac = a.get(i).copied();
            let bc = b.get(j).copied();
            let a_more = ac.is_some_and(|c| !c.is_ascii_digit());
            let b_more = bc.is_some_and(|c| !c.is_ascii_digit());
            if !a_more && !b_more {
                break;
            }
            let (ao, bo) = (order(ac), order(bc));
            if ao != bo {
                return ao.cmp(&bo);
            }
            // Equal weights on both sides mean both sides hold a non-digit
            // here (a digit or the end weighs 0, a non-digit never does).
            i += 1;
            j += 1;
        }
        // Compare the digit runs as numbers.
        let an = digit_run(a.get(i..).unwrap_or_default());
        let bn = digit_run(b.get(j..).unwrap_or_default());
        let ord = cmp_decimal(
            a.get(i..i + an).unwrap_or_default(),
            b.get(j..j + bn).unwrap_or_default(),
        );
        if ord != Ordering::Equal {
            return ord;
        }
        i += an;
        j += bn;
    }
    Ordering::Equal
}

/// Hashes a string so that any two strings `verrevcmp` calls equal hash
/// alike: it sees a sequence of (non-digit run, number) pairs, where a
/// number's leading zeros and an empty digit run (zero) do not matter.
pub(crate) fn hash_verrev<H: Hasher>(s: &[u8], state: &mut H) {
    let mut i = 0;
    while i < s.len() {
        let rest = s.get(i..).unwrap_or_default();
        let text = rest
            .iter()
            .position(u8::is_ascii_digit)
            .unwrap_or(rest.len());
        let digits = digit_run(rest.get(text..).unwrap_or_default());
        let text_bytes = rest.get(..text).unwrap_or_default();
        let digit_bytes = rest.get(text..text + digits).unwrap_or_default();
        // A leading all-zero number with no text equals the empty string.
        let zero_pair = text == 0 && digit_bytes.iter().all(|&d| d == b'0');
        if !zero_pair {
            state.write_usize(text_bytes.len());
            state.write(text_bytes);
            hash_decimal(digit_bytes, state);
        }
        i += text + digits;
    }
    state.write_u8(0xff);
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream().as_bytes(), other.upstream().as_bytes()))
            .then_with(|| verrevcmp(self.revision().as_bytes(), other.revision().as_bytes()))
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DpkgVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DpkgVersion {}

impl Hash for DpkgVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
        hash_verrev(self.upstream().as_bytes(), state);
        hash_verrev(self.revision().as_bytes(), state);
    }
}

impl fmt::Display for DpkgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// dpkg's `c_isblank`.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Reads the epoch as `strtol(…, 10)` would, requiring it to end exactly at
/// the colon, and applies dpkg's checks in dpkg's order.
fn parse_epoch(text: &str) -> Result<u32, String> {
    let bytes = text.as_bytes();
    let (negative, body) = match bytes.first() {
        Some(b'+') => (false, bytes.get(1..).unwrap_or_default()),
        Some(b'-') => (true, bytes.get(1..).unwrap_or_default()),
        _ => (false, bytes),
    };
    let digits = digit_run(body);
    if digits == 0 {
        // strtol reads nothing at all.
        return Err("epoch in version is empty".to_owned());
    }
    if digits != body.len() {
        // strtol stops before the colon.
        return Err("epoch in version is not number".to_owned());
    }
    let significant = strip_zeros(body);
    if negative && !significant.is_empty() {
        return Err("epoch in version is negative".to_owned());
    }
    let value = if significant.len() > 10 {
        None
    } else {
        significant
            .iter()
            .try_fold(0u64, |acc, &d| Some(acc * 10 + u64::from(d - b'0')))
    };
    match value {
        Some(v) if v <= MAX_EPOCH => {
            u32::try_from(v).map_err(|_| "epoch in version is too big".to_owned())
        }
        _ => Err("epoch in version is too big".to_owned()),
    }
}

/// Parses a Debian version with dpkg's rules; the error is dpkg's message.
pub fn parse(input: &str) -> Result<DpkgVersion, String> {
    let bytes = input.as_bytes();
    let start = bytes.iter().position(|&b| !is_blank(b));
    let Some(start) = start else {
        return Err("version string is empty".to_owned());
    };
    let end = bytes
        .iter()
        .rposition(|&b| !is_blank(b))
        .map_or(start, |e| e + 1);
    let text = input.get(start..end).unwrap_or_default();
    if text.bytes().any(is_blank) {
        return Err("version string has embedded spaces".to_owned());
    }

    let (epoch, version_start) = match text.find(':') {
        Some(colon) => {
            let epoch = parse_epoch(text.get(..colon).unwrap_or_default())?;
            if colon + 1 == text.len() {
                return Err("nothing after colon in version number".to_owned());
            }
            (epoch, colon + 1)
        }
        None => (0, 0),
    };
    let rest = text.get(version_start..).unwrap_or_default();
    let (upstream_len, revision_start) = match rest.rfind('-') {
        Some(hyphen) => {
            if hyphen + 1 == rest.len() {
                return Err("revision number is empty".to_owned());
            }
            (hyphen, Some(hyphen + 1))
        }
        None => (rest.len(), None),
    };
    let upstream = rest.get(..upstream_len).unwrap_or_default();
    let revision = revision_start
        .and_then(|r| rest.get(r..))
        .unwrap_or_default();

    match upstream.bytes().next() {
        None => return Err("version number is empty".to_owned()),
        Some(first) if !first.is_ascii_digit() => {
            return Err("version number does not start with digit".to_owned());
        }
        Some(_) => {}
    }
    if let Some(bad) = upstream
        .chars()
        .find(|&c| !c.is_ascii_alphanumeric() && !".-+~:".contains(c))
    {
        return Err(format!("invalid character {bad:?} in version number"));
    }
    if let Some(bad) = revision
        .chars()
        .find(|&c| !c.is_ascii_alphanumeric() && !".+~".contains(c))
    {
        return Err(format!("invalid character {bad:?} in revision number"));
    }

    let upstream_at = start + version_start;
    let revision_range = match revision_start {
        Some(r) => (upstream_at + r, upstream_at + rest.len()),
        None => (upstream_at + rest.len(), upstream_at + rest.len()),
    };
    Ok(DpkgVersion {
        original: input.into(),
        epoch,
        upstream: (upstream_at, upstream_at + upstream_len),
        revision: revision_range,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn answers_recorded_from_dpkg() {
        // Pseudo-random versions compared with `dpkg --compare-versions`
        // (dpkg 1.21.22); 1,500 such pairs agreed during development, these
        // are kept as a regression table.
        assert_table(
            &[
                "2~..Z2-7a+ < 62~7Z2",
                "2Z7b~Z < 6539a-9",
                "86+-94+19 > 0a4",
                "0:8936.98-0 = 00:8936.98-0",
                "0:4a+172 < 9b",
                "3:41.92 > 267-2b78",
                "138~0aa < 713+-a~85.",
                "7a12b95 < 1:03-3",
                "321 < 3:7a4141-3+5~8",
                "9+.36Z600-6863~ < 465",
                "41831947-5+ > 60+621a",
                "6a~ab6~ = 6a~ab6~",
                "197-6~ < 2:670989.-0~46",
                "54~32 < 593753.9",
                "164-8+ < 3:8780a~",
                "4a669a-~86 < 3:77.~95b",
                "2:44+647~a6-66 > 70",
                "8938~Z7 < 287535-4",
                "3:45526~+8+ > 340bZ~74+-7+~0",
                "2:9010344 < 3:85",
                "2:9.8+5104Z-8662 > 161Z-6",
                "31.0.8-141 < 77~",
                "1:8~-99~ > 0b.-5~",
                "1:36-55 > 8b5.2",
                "84a70b~6-703 > 5a",
                "24 > 1+9211+2-68~~",
                "3:6~9a2-8355 > 0a7+1+1b2-3",
                "1:57+46~-1 > 6+aZ03bba-1672",
                "3:48Z6 > 08803ZZ-8712a",
                "1a1-7.8~ = 1a1-7.8~",
                "0:8936.98-0 = 00:8936.98-0",
                "0584a8 = 00584a8",
                "0973166-294+ = 00973166-294+",
                "2+123~1-1613 = 2+123~1-1613",
            ],
            parse,
        );
    }

    #[test]
    fn splits_epoch_upstream_and_revision() {
        let v = parse("1:2.30-4ubuntu1~20.04").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.epoch(), 1);
        assert_eq!(v.upstream(), "2.30");
        assert_eq!(v.revision(), "4ubuntu1~20.04");
        assert_eq!(v.to_string(), "1:2.30-4ubuntu1~20.04");

        // The revision follows the last hyphen; upstream keeps the others.
        let v = parse("1.2-3-4").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.upstream(), "1.2-3");
        assert_eq!(v.revision(), "4");

        // Colons after the first belong to the upstream version.
        let v = parse("2:1.0:5-1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.epoch(), 2);
        assert_eq!(v.upstream(), "1.0:5");

        // Surrounding blanks are dropped, as dpkg does, but displayed.
        let v = parse(" 1.0-1\t").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.upstream(), "1.0");
        assert_eq!(v.revision(), "1");
    }

    #[test]
    fn debian_policy_examples() {
        // Debian Policy 5.6.12 and dpkg's own test suite
        // (lib/dpkg/t/t-version.c).
        assert_table(
            &[
                "1.0~rc1 < 1.0",
                "1.0~~ < 1.0~~a",
                "1.0~~a < 1.0~",
                "1.0~ < 1.0",
                "1.0 < 1.0a",
                "1.0a < 1.0+",
                "1.0+ < 1.0.1",
                "1.0-1 < 1.0-1+b1",
                "1.0 = 1.0-0",
                "1.0 = 0:1.0",
                "1.0 = 1.00",
                "0:1.0 < 1:0.1",
                "1.2.3 < 1.2.3a",
                "1.2.3a < 1.2.3+",
                "2.30-4 > 2.30-3ubuntu9",
                "1.0.0+dfsg-1 > 1.0.0-1",
                "7.6p2-4 > 7.6-0",
                "1.0.3-3 > 1.0-1",
                "1.3 > 1.2.2-2",
                "1.3 > 1.2.2",
                "0-pre = 0-pre",
                "0-pre < 0-pree",
                "1.1.6r2-2 > 1.1.6r-1",
                "2.6b2-1 > 2.6b-2",
                "98.1p5-1 < 98.1-pre2-b6-2",
                "0.4a6-2 > 0.4-1",
                "1:3.0.5-2 < 1:3.0.5.1",
                "10.3 < 1:0.4",
                "1:1.25-4 < 1:1.25-8",
                "0:1.18.36 = 1.18.36",
                "1.18.36 > 1.18.35",
                "0:1.18.36 > 1.18.35",
                "9:1.18.36:5.4-20 < 10:0.5.1-22",
                "9:1.18.36:5.4-20 < 9:1.18.36:5.5-1",
                "9:1.18.36:5.4-20 < 9:1.18.37:4.3-22",
                "1.18.36-0.17.35-18 > 1.18.36-19",
                "1:1.2.13-3 < 1:1.2.13-3.1",
                "2.0.7pre1-4 < 2.0.7r-1",
                "0:0-0-0 > 0-0",
            ],
            parse,
        );
    }

    #[test]
    fn rejects_what_dpkg_rejects() {
        for (input, reason) in [
            ("", "version string is empty"),
            ("   ", "version string is empty"),
            ("1.0 1", "version string has embedded spaces"),
            (":1.0", "epoch in version is empty"),
            ("a:1.0", "epoch in version is empty"),
            ("1a:1.0", "epoch in version is not number"),
            ("-1:1.0", "epoch in version is negative"),
            ("99999999999:1.0", "epoch in version is too big"),
            ("1:", "nothing after colon in version number"),
            ("1.0-", "revision number is empty"),
            ("1:-1", "version number is empty"),
            ("-1", "version number is empty"),
            ("a1.0", "version number does not start with digit"),
            ("1.0_1", "invalid character '_' in version number"),
            ("1.0-1:2", "epoch in version is not number"),
            ("1.0-1_2", "invalid character '_' in revision number"),
            ("1.0é", "invalid character 'é' in version number"),
            (
                "1.2.3-not-a-debian:version!@#$",
                "epoch in version is not number",
            ),
        ] {
            assert_eq!(parse(input).err().as_deref(), Some(reason), "{input:?}");
        }
    }

    #[test]
    fn accepts_strtol_epochs() {
        // strtol accepts a plus sign and leading zeros; "-0" is zero.
        for (input, epoch) in [("+1:1.0", 1), ("007:1.0", 7), ("-0:1.0", 0)] {
            let v = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(v.epoch(), epoch, "{input}");
        }
        assert!(parse("2147483647:1").is_ok());
        assert_eq!(
            parse("2147483648:1").err().as_deref(),
            Some("epoch in version is too big")
        );
    }

    #[test]
    fn verrevcmp_orders_tilde_end_letters_other() {
        assert_eq!(verrevcmp(b"~", b""), Ordering::Less);
        assert_eq!(verrevcmp(b"", b"a"), Ordering::Less);
        assert_eq!(verrevcmp(b"a", b"+"), Ordering::Less);
        assert_eq!(verrevcmp(b"Z", b"a"), Ordering::Less);
        assert_eq!(verrevcmp(b"", b"0"), Ordering::Equal);
        assert_eq!(verrevcmp(b"a", b"a0"), Ordering::Equal);
        assert_eq!(verrevcmp(b"1.01", b"1.1"), Ordering::Equal);
    }
}
