//! Root.io versions: upstream versions of Alpine, Debian, Ubuntu, PyPI and
//! npm packages that Root re-released with its own patch number.
//!
//! Root writes the patch number as a suffix whose form depends on the base
//! ecosystem (OSV's `Root:Alpine:3.18`, `Root:Debian:12`, `Root:PyPI`...):
//!
//! - Alpine: `<version>-r<N>` (`2.38.1-r10071`),
//! - PyPI: `<version>+root.io.<N>` (`2.31.0+root.io.1`),
//! - npm: `<version>-root.io.<N>` (`7.5.2-root.io.1`),
//! - others (Debian, Ubuntu): `<version>.root.io.<N>`
//!   (`2.2.27-3ubuntu2.4.root.io.1`).
//!
//! The design decision: follow osv.dev's `Root` ecosystem helper, which
//! splits off the suffix and orders by the upstream version and then the
//! Root patch number, so that a Root release sorts after the upstream
//! version it patches and before the next upstream version. osv.dev orders
//! the upstream part by a crude tuple of `.`/`-`-separated pieces (which
//! raises an error when a number meets a word); here it is ordered with
//! Debian's `verrevcmp` (digit runs as numbers, `~` first), a general
//! version order that agrees with every base ecosystem on the release
//! versions Root patches. The base ecosystem cannot be known here (the
//! ecosystem's release suffix is not part of the version), so prerelease
//! spellings that sort differently in the base ecosystem (`1.0rc1` in PyPI,
//! `1.0_rc1` in Alpine, `1.0-beta` in npm, all below `1.0` there) sort after
//! `1.0`; Root publishes patched releases, not prereleases. A version without
//! a Root suffix (the unpatched upstream) sorts before the same upstream
//! version with one.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::digits::{cmp_decimal, hash_decimal};
use super::dpkg::{hash_verrev, verrevcmp};

/// A Root.io version.
#[derive(Clone, Debug)]
pub struct RootVersion {
    /// The input exactly as given.
    original: Box<str>,
    /// Where the upstream version ends within `original`.
    upstream_end: usize,
    /// The byte range of the Root patch number, if there is a Root suffix.
    patch: Option<(usize, usize)>,
}

impl RootVersion {
    /// The upstream version, without the Root suffix.
    pub fn upstream(&self) -> &str {
        self.original.get(..self.upstream_end).unwrap_or_default()
    }

    /// The Root patch number as written, if the version has a Root suffix.
    pub fn root_patch(&self) -> Option<&str> {
        self.patch.and_then(|(s, e)| self.original.get(s..e))
    }
}

impl Ord for RootVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        verrevcmp(self.upstream().as_bytes(), other.upstream().as_bytes()).then_with(|| {
            match (self.root_patch(), other.root_patch()) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => cmp_decimal(a.as_bytes(), b.as_bytes()),
            }
        })
    }
}

impl PartialOrd for RootVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RootVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RootVersion {}

impl Hash for RootVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_verrev(self.upstream().as_bytes(), state);
        match self.root_patch() {
            None => state.write_u8(0),
            Some(p) => {
                state.write_u8(1);
                hash_decimal(p.as_bytes(), state);
            }
        }
    }
}

impl fmt::Display for RootVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Splits `input` into upstream end and patch range when it ends in
/// `<marker><digits>` with a non-empty upstream before the marker.
fn split_suffix(input: &str, marker: &str) -> Option<(usize, (usize, usize))> {
    let digits = input.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let digits_start = input.len() - digits;
    let head = input.get(..digits_start)?;
    let upstream = head.strip_suffix(marker)?;
    (!upstream.is_empty()).then_some((upstream.len(), (digits_start, input.len())))
}

/// Parses a Root.io version, with or without a Root suffix.
pub fn parse(input: &str) -> Result<RootVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if let Some(bad) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("contains {bad:?}"));
    }
    // The suffix forms in osv.dev's order, then npm's.
    let split = ["-r", "+root.io.", ".root.io.", "-root.io."]
        .iter()
        .find_map(|marker| split_suffix(input, marker));
    let (upstream_end, patch) = match split {
        Some((end, patch)) => (end, Some(patch)),
        None => (input.len(), None),
    };
    Ok(RootVersion {
        original: input.into(),
        upstream_end,
        patch,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn splits_each_suffix_form() {
        for (input, upstream, patch) in [
            ("2.38.1-r10071", "2.38.1", Some("10071")),
            ("2.31.0+root.io.1", "2.31.0", Some("1")),
            ("7.5.2-root.io.1", "7.5.2", Some("1")),
            (
                "8:6.9.11.60+dfsg-1.6+deb12u3.root.io.1",
                "8:6.9.11.60+dfsg-1.6+deb12u3",
                Some("1"),
            ),
            (
                "2.2.27-3ubuntu2.4.root.io.12",
                "2.2.27-3ubuntu2.4",
                Some("12"),
            ),
            ("1.2.3", "1.2.3", None),
            ("1.2.3-root.io.x", "1.2.3-root.io.x", None),
        ] {
            let v = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(v.upstream(), upstream, "{input}");
            assert_eq!(v.root_patch(), patch, "{input}");
            assert_eq!(v.to_string(), input);
        }
    }

    #[test]
    fn root_release_sits_between_upstream_versions() {
        assert_table(
            &[
                "2.38.1-r4 < 2.38.1-r10071",
                "2.38.1-r10071 < 2.38.2-r0",
                "2.31.0 < 2.31.0+root.io.1",
                "2.31.0+root.io.1 < 2.31.0+root.io.2",
                "2.31.0+root.io.9 < 2.31.0+root.io.10",
                "2.31.0+root.io.1 < 2.31.1",
                "7.5.2 < 7.5.2-root.io.1",
                "7.5.2-root.io.1 < 7.5.3",
                "2.2.27-3ubuntu2.4 < 2.2.27-3ubuntu2.4.root.io.1",
                "2.2.27-3ubuntu2.4.root.io.1 < 2.2.27-3ubuntu2.5",
                "8:6.9.11.60+dfsg-1.6+deb12u3 < 8:6.9.11.60+dfsg-1.6+deb12u3.root.io.1",
                "1.2.10 > 1.2.9",
                "1.0~rc1 < 1.0",
            ],
            parse,
        );
    }

    #[test]
    fn rejects_empty_and_blank() {
        assert!(parse("").is_err());
        assert!(parse("1.0 -r1").is_err());
    }
}
