//! CRAN and Bioconductor versions: R's `package_version`.
//!
//! The design decision: follow R's `numeric_version` machinery with the
//! `package_version` rules. A version is at least two non-negative integers
//! separated by `.` or `-` (R's `valid_package_version` regular expression,
//! `([[:digit:]]+[.-]){1,}[[:digit:]]+`); the separators carry no meaning
//! (`1.2-3` equals `1.2.3`), numbers compare as numbers (`0.01` equals
//! `0.1`), and versions compare as integer lists, a longer one with an equal
//! prefix being greater (`1.0 < 1.0.0`), as R's `compareVersion` and the
//! `numeric_version` comparison operators do. Numbers of any length are
//! compared exactly (R would turn a number beyond its integer range into
//! `NA`).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::digits::{cmp_decimal, hash_decimal};

/// A CRAN or Bioconductor version.
#[derive(Clone, Debug)]
pub struct CranVersion {
    /// The input exactly as given.
    original: Box<str>,
    /// Byte ranges of the numbers within `original`.
    numbers: Box<[(u16, u16)]>,
}

impl CranVersion {
    fn number(&self, span: (u16, u16)) -> &[u8] {
        self.original
            .as_bytes()
            .get(usize::from(span.0)..usize::from(span.1))
            .unwrap_or_default()
    }
}

impl Ord for CranVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (&a, &b) in self.numbers.iter().zip(other.numbers.iter()) {
            let ord = cmp_decimal(self.number(a), other.number(b));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        self.numbers.len().cmp(&other.numbers.len())
    }
}

impl PartialOrd for CranVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for CranVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for CranVersion {}

impl Hash for CranVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.numbers.len());
        for &span in self.numbers.iter() {
            hash_decimal(self.number(span), state);
        }
    }
}

impl fmt::Display for CranVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Parses an R package version (`1.2-3`, `0.1.0.0`).
pub fn parse(input: &str) -> Result<CranVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if input.len() > usize::from(u16::MAX) {
        return Err("too long".to_owned());
    }
    let mut numbers = Vec::new();
    let mut start = 0usize;
    for (i, part) in input.split(['.', '-']).enumerate() {
        if part.is_empty() {
            return Err(format!(
                "number {} is empty (R versions are numbers separated by single '.' or '-')",
                i + 1
            ));
        }
        if let Some(bad) = part.chars().find(|c| !c.is_ascii_digit()) {
            return Err(format!(
                "unexpected {bad:?} (R versions are numbers separated by '.' or '-')"
            ));
        }
        let end = start + part.len();
        numbers.push((
            u16::try_from(start).unwrap_or(u16::MAX),
            u16::try_from(end).unwrap_or(u16::MAX),
        ));
        start = end + 1;
    }
    if numbers.len() < 2 {
        return Err("R package versions need at least two numbers (as in 1.0)".to_owned());
    }
    Ok(CranVersion {
        original: input.into(),
        numbers: numbers.into_boxed_slice(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn r_package_version_examples() {
        // From R's ?package_version and compareVersion documentation.
        assert_table(
            &[
                "1.2-3 = 1.2.3",
                "1.2-3 < 1.2-4",
                "1.3.2 > 1.3",
                "1.0 < 1.0.0",
                "0.01 = 0.1",
                "1.9.0 < 1.10.0",
                "2.0-0 > 1.99-99",
                "1.8.8 < 1.8.10",
            ],
            parse,
        );
    }

    #[test]
    fn rejects_invalid_specifications() {
        for input in [
            "", "1", "1.", "1..2", "1.2a", "v1.2", "1.2 ", "-1.2", "1.2_3",
        ] {
            assert!(parse(input).is_err(), "{input:?} should be rejected");
        }
    }
}
