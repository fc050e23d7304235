//! Android versions as OSV's Android ecosystem writes them.
//!
//! The design decision: Android security bulletins list affected platform
//! releases (`10`, `11`, `12`, `12L`, `13`, `14`, older ones as `8.0`,
//! `8.1`), and records for kernel and vendor components sometimes use the
//! security patch level instead (`2023-03-01`). Both are accepted, as two
//! kinds:
//!
//! - a platform release is dot-separated numbers, optionally followed by one
//!   upper-case letter naming an intermediate release (`12L`, between `12`
//!   and `13`); numbers compare as numbers with missing ones counting as 0
//!   (`12 = 12.0`), and a lettered release follows the plain one;
//! - a security patch level is a date `YYYY-MM-DD` (or `YYYY-MM`, the day
//!   counting as 0), compared chronologically.
//!
//! The two kinds do not compare meaningfully with each other; to keep the
//! order total, every platform release sorts before every patch level.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    /// Numbers without trailing zeros, and the letter suffix.
    Platform(Box<[u64]>, Option<u8>),
    /// Year, month, day.
    PatchLevel(u16, u8, u8),
}

/// An Android platform release or security patch level.
#[derive(Clone, Debug)]
pub struct AndroidVersion {
    /// The input exactly as given.
    original: Box<str>,
    kind: Kind,
}

impl AndroidVersion {
    /// Whether this is a security patch level (a date) rather than a
    /// platform release.
    pub fn is_patch_level(&self) -> bool {
        matches!(self.kind, Kind::PatchLevel(..))
    }
}

impl Ord for AndroidVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.kind, &other.kind) {
            (Kind::Platform(a, la), Kind::Platform(b, lb)) => {
                let len = a.len().max(b.len());
                for i in 0..len {
                    let x = a.get(i).copied().unwrap_or(0);
                    let y = b.get(i).copied().unwrap_or(0);
                    if x != y {
                        return x.cmp(&y);
                    }
                }
                la.cmp(lb)
            }
            (a, b) => a.cmp(b),
        }
    }
}

impl PartialOrd for AndroidVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for AndroidVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for AndroidVersion {}

impl Hash for AndroidVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Platform numbers are stored without trailing zeros, so the derived
        // hash of the kind agrees with the order.
        self.kind.hash(state);
    }
}

impl fmt::Display for AndroidVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

fn parse_patch_level(input: &str) -> Result<Kind, String> {
    let parts: Vec<&str> = input.split('-').collect();
    let field = |i: usize, len: usize, what: &str| -> Result<u16, String> {
        let text = parts.get(i).copied().unwrap_or_default();
        if text.len() != len || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "the {what} of security patch level {input:?} must be {len} digits"
            ));
        }
        text.parse::<u16>().map_err(|e| e.to_string())
    };
    if !(2..=3).contains(&parts.len()) {
        return Err("a security patch level is YYYY-MM-DD".to_owned());
    }
    let year = field(0, 4, "year")?;
    let month = field(1, 2, "month")?;
    let day = if parts.len() == 3 {
        field(2, 2, "day")?
    } else {
        0
    };
    if !(1..=12).contains(&month) || day > 31 {
        return Err(format!("{input:?} is not a valid date"));
    }
    Ok(Kind::PatchLevel(
        year,
        u8::try_from(month).unwrap_or(u8::MAX),
        u8::try_from(day).unwrap_or(u8::MAX),
    ))
}

/// Parses an Android platform release (`12L`, `8.1`) or security patch level
/// (`2023-03-01`).
pub fn parse(input: &str) -> Result<AndroidVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    let kind = if input.contains('-') {
        parse_patch_level(input)?
    } else {
        let (numbers, letter) = match input.as_bytes().last() {
            Some(&l) if l.is_ascii_uppercase() => {
                (input.get(..input.len() - 1).unwrap_or_default(), Some(l))
            }
            _ => (input, None),
        };
        let mut values = numbers
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    Err(format!(
                        "{input:?} is neither a platform release (like 12L or 8.1) nor a patch level (like 2023-03-01)"
                    ))
                } else {
                    p.parse::<u64>().map_err(|_| format!("{p:?} is too large"))
                }
            })
            .collect::<Result<Vec<u64>, String>>()?;
        while values.last() == Some(&0) {
            values.pop();
        }
        Kind::Platform(values.into_boxed_slice(), letter)
    };
    Ok(AndroidVersion {
        original: input.into(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn platform_releases() {
        assert_table(
            &[
                "8.0 < 8.1",
                "8.1 < 9",
                "9 < 10",
                "12 < 12L",
                "12L < 13",
                "12 = 12.0",
                "14 < 15",
            ],
            parse,
        );
    }

    #[test]
    fn patch_levels() {
        assert_table(
            &[
                "2023-03-01 < 2023-03-05",
                "2023-03-05 < 2023-04-01",
                "2022-12-05 < 2023-01-01",
                "2023-03 < 2023-03-01",
                "15 < 2020-01-01",
            ],
            parse,
        );
        assert!(parse("2023-03-01").is_ok_and(|v| v.is_patch_level()));
    }

    #[test]
    fn rejects_other_strings() {
        for input in [
            "",
            "android-12",
            "12.x",
            "2023-13-01",
            "23-03-01",
            "12l",
            "1..2",
        ] {
            assert!(parse(input).is_err(), "{input:?} should be rejected");
        }
    }
}
