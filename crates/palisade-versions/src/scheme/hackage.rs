//! Hackage and GHC versions: Haskell's `Data.Version` branches as Cabal
//! parses them.
//!
//! The design decision: a version is a non-empty list of non-negative
//! integers separated by dots, compared lexicographically as lists, so a
//! longer version with an equal prefix is greater (`1.0 < 1.0.0`, unlike
//! SemVer-like schemes that pad with zeros). Parsing follows Cabal's
//! `versionDigitParser` (`Distribution.Types.Version`): a number has no
//! leading zero (other than `0` itself) and at most nine digits, which keeps
//! every number in a `u32`. The deprecated `Data.Version` tags (`1.0-foo`)
//! are not accepted, as Cabal no longer accepts them.

use std::fmt;

/// A Hackage or GHC version.
#[derive(Clone, Debug)]
pub struct HackageVersion {
    /// The input exactly as given.
    original: Box<str>,
    numbers: Box<[u32]>,
}

impl HackageVersion {
    /// The numbers of the version.
    pub fn numbers(&self) -> &[u32] {
        &self.numbers
    }
}

impl PartialEq for HackageVersion {
    fn eq(&self, other: &Self) -> bool {
        self.numbers == other.numbers
    }
}

impl Eq for HackageVersion {}

impl std::hash::Hash for HackageVersion {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.numbers.hash(state);
    }
}

impl Ord for HackageVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Slices order lexicographically, a proper prefix first: exactly
        // `Data.Version`'s `compare` on `versionBranch`.
        self.numbers.cmp(&other.numbers)
    }
}

impl PartialOrd for HackageVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for HackageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Parses a Hackage version (`1.2.0.3`).
pub fn parse(input: &str) -> Result<HackageVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    let mut numbers = Vec::new();
    for (i, part) in input.split('.').enumerate() {
        if part.is_empty() {
            return Err(format!(
                "number {} is empty (a version is numbers separated by single dots)",
                i + 1
            ));
        }
        if let Some(bad) = part.chars().find(|c| !c.is_ascii_digit()) {
            return Err(format!(
                "unexpected {bad:?} (Hackage versions are dot-separated numbers)"
            ));
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(format!("number {part:?} has a leading zero"));
        }
        if part.len() > 9 {
            return Err(format!(
                "number {part:?} has more than the 9 digits Cabal allows"
            ));
        }
        let n = part
            .parse::<u32>()
            .map_err(|e| format!("number {part:?}: {e}"))?;
        numbers.push(n);
    }
    Ok(HackageVersion {
        original: input.into(),
        numbers: numbers.into_boxed_slice(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn longer_is_greater_with_equal_prefix() {
        assert_table(
            &[
                "1.0 < 1.0.0",
                "1 < 1.0",
                "0.9.9 < 0.10",
                "2.0.0.1 > 2.0.0",
                "0.20110417 < 1",
                "6.20180626 > 6.2018062",
                "1.2.3 = 1.2.3",
            ],
            parse,
        );
        let v = parse("1.2.3").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.numbers(), &[1, 2, 3]);
        assert_eq!(v.to_string(), "1.2.3");
    }

    #[test]
    fn rejects_what_cabal_rejects() {
        for input in [
            "",
            "1.",
            ".1",
            "1..2",
            "01.2",
            "1.02",
            "1.0-tag",
            "v1.0",
            "1234567890",
            "1.2 ",
        ] {
            assert!(parse(input).is_err(), "{input:?} should be rejected");
        }
        assert!(parse("0").is_ok());
        assert!(parse("123456789").is_ok());
    }
}
