//! Versions of ecosystems that define no order (OSS-Fuzz, whose affected
//! ranges are git commits and whose `versions` lists hold tags and commit
//! hashes).
//!
//! The design decision: keep the string exactly and give it only equality.
//! `Ord` must still be total so that versions can be sorted and used as map
//! keys; it is byte order of the string, which carries no meaning about
//! which release is newer. The range evaluator refuses to evaluate ranges
//! over these versions (`VersionError::Unordered`) so that this order is
//! never mistaken for the ecosystem's; only exact matches against listed
//! versions are meaningful.

use std::fmt;

/// A version with no defined order: the exact string.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpaqueVersion(Box<str>);

impl OpaqueVersion {
    /// The version string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OpaqueVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Accepts any non-empty string without control characters; equality is
/// exact (case and whitespace included).
pub fn parse(input: &str) -> Result<OpaqueVersion, String> {
    if input.is_empty() {
        return Err("version is empty".to_owned());
    }
    if let Some(bad) = input.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {bad:?}"));
    }
    Ok(OpaqueVersion(input.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_exact() {
        let a = parse("v1.0").unwrap_or_else(|e| panic!("{e}"));
        let b = parse("v1.0").unwrap_or_else(|e| panic!("{e}"));
        let c = parse("1.0").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.as_str(), "v1.0");
        assert_eq!(a.to_string(), "v1.0");
        // The order is total (byte order) but means nothing: "10" < "9".
        let ten = parse("10").unwrap_or_else(|e| panic!("{e}"));
        let nine = parse("9").unwrap_or_else(|e| panic!("{e}"));
        assert!(ten < nine);
    }

    #[test]
    fn rejects_empty_and_control() {
        assert!(parse("").is_err());
        assert!(parse("1.0\n").is_err());
        assert!(parse("6cbc1d9b5e6e0c4f4d1d0b1a2b3c4d5e6f7a8b9c").is_ok());
    }
}
