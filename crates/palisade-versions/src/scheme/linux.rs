//! Linux kernel release versions (OSV ecosystem `Linux`, package `Kernel`).
//!
//! The design decision: kernel releases are dot-separated numbers
//! (`2.6.32`, `5.15.148`, `6.10`), optionally a release candidate
//! (`6.8-rc3`). Numbers compare as numbers with missing ones counting as 0
//! (`6.10` is `6.10.0`, the release that later gets `6.10.1`), and a release
//! candidate comes before its release (`6.8-rc3 < 6.8`), as the kernel's own
//! `KERNEL_VERSION` ordering and its stable-release practice imply. Anything
//! else (distribution suffixes such as `-generic` or `.el9`) belongs to a
//! distribution's ecosystem and is rejected with a precise reason.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A Linux kernel release.
#[derive(Clone, Debug)]
pub struct LinuxVersion {
    /// The input exactly as given.
    original: Box<str>,
    /// The numbers, without trailing zeros (so equal releases are equal).
    numbers: Box<[u64]>,
    /// The release-candidate number, if any.
    rc: Option<u64>,
}

impl LinuxVersion {
    /// Whether this is a release candidate.
    pub fn is_release_candidate(&self) -> bool {
        self.rc.is_some()
    }
}

impl Ord for LinuxVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.numbers.len().max(other.numbers.len());
        for i in 0..len {
            let a = self.numbers.get(i).copied().unwrap_or(0);
            let b = other.numbers.get(i).copied().unwrap_or(0);
            if a != b {
                return a.cmp(&b);
            }
        }
        match (self.rc, other.rc) {
            (None, None) => Ordering::Equal,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(&b),
        }
    }
}

impl PartialOrd for LinuxVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for LinuxVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for LinuxVersion {}

impl Hash for LinuxVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.numbers.hash(state);
        self.rc.hash(state);
    }
}

impl fmt::Display for LinuxVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

fn number(text: &str, what: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{what} {text:?} is not a number (kernel releases look like 6.1.76 or 6.8-rc3)"
        ));
    }
    text.parse::<u64>()
        .map_err(|_| format!("{what} {text:?} is too large"))
}

/// Parses a kernel release (`5.15.148`, `6.8-rc3`).
pub fn parse(input: &str) -> Result<LinuxVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    let (release, rc) = match input.split_once("-rc") {
        Some((release, rc)) => (release, Some(number(rc, "release candidate")?)),
        None => (input, None),
    };
    let mut numbers = release
        .split('.')
        .map(|part| number(part, "component"))
        .collect::<Result<Vec<u64>, String>>()?;
    while numbers.last() == Some(&0) {
        numbers.pop();
    }
    Ok(LinuxVersion {
        original: input.into(),
        numbers: numbers.into_boxed_slice(),
        rc,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn kernel_release_order() {
        assert_table(
            &[
                "2.6.32 < 2.6.39",
                "2.6.39 < 3.0",
                "5.15.148 < 5.15.149",
                "6.1.76 > 6.1.9",
                "6.10 = 6.10.0",
                "6.10 < 6.10.1",
                "6.8-rc3 < 6.8",
                "6.8-rc3 < 6.8-rc10",
                "6.7.12 < 6.8-rc1",
                "6.8-rc1 = 6.8.0-rc1",
            ],
            parse,
        );
        assert!(parse("6.8-rc3").is_ok_and(|v| v.is_release_candidate()));
    }

    #[test]
    fn rejects_distribution_suffixes() {
        for input in [
            "",
            "5.15.0-91-generic",
            "4.18.0-513.el8",
            "6.1.",
            "v6.1",
            "6.8-rc",
        ] {
            assert!(parse(input).is_err(), "{input:?} should be rejected");
        }
    }
}
