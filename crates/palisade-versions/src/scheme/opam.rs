//! opam package versions.
//!
//! The design decision: opam orders versions with `OpamVersionCompare`,
//! which is Debian's `verrevcmp` applied to the whole string (opam has no
//! epoch and no revision): non-digit runs compare character by character
//! with `~` before the end of the string, the end before letters, letters
//! before other characters, and digit runs compare as numbers. This module
//! reuses the dpkg implementation of that function. Validity follows opam's
//! lexer for version strings: ASCII letters, digits and `_ + . ~ -`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::dpkg::{hash_verrev, verrevcmp};

/// An opam version.
#[derive(Clone, Debug)]
pub struct OpamVersion(Box<str>);

impl Ord for OpamVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        verrevcmp(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl PartialOrd for OpamVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for OpamVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for OpamVersion {}

impl Hash for OpamVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_verrev(self.0.as_bytes(), state);
    }
}

impl fmt::Display for OpamVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an opam version.
pub fn parse(input: &str) -> Result<OpamVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if let Some(bad) = input
        .chars()
        .find(|&c| !c.is_ascii_alphanumeric() && !"_+.~-".contains(c))
    {
        return Err(format!(
            "unexpected {bad:?} (opam versions use ASCII letters, digits and _ + . ~ -)"
        ));
    }
    Ok(OpamVersion(input.into()))
}

#[cfg(test)]
mod tests {
    use super::super::fixture_test::assert_table;
    use super::*;

    #[test]
    fn opam_manual_examples() {
        // The opam manual's example order:
        // ~~ < ~ < ~beta2 < ~beta10 < 0.1 < 1.0~beta < 1.0 < 1.0-test < 1.0.1
        // < 1.0.10 < dev < trunk.
        let order = [
            "~~", "~", "~beta2", "~beta10", "0.1", "1.0~beta", "1.0", "1.0-test", "1.0.1",
            "1.0.10", "dev", "trunk",
        ];
        let lines: Vec<String> = order
            .windows(2)
            .filter_map(|w| match w {
                [a, b] => Some(format!("{a} < {b}")),
                _ => None,
            })
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_table(&lines, parse);
        assert_table(&["1.0 = 1.00", "v1.2 > v1.1", "4.14.0 > 4.9.1"], parse);
    }

    #[test]
    fn rejects_characters_outside_the_lexer() {
        assert!(parse("").is_err());
        assert!(parse("1.0 beta").is_err());
        assert!(parse("1.0:1").is_err());
        assert!(parse("1.0_beta+git~1-x").is_ok());
    }
}
