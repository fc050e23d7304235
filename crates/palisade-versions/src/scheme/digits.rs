//! Helpers shared by the schemes that compare runs of decimal digits of any
//! length (dpkg, RPM, apk, RubyGems, Composer, Hackage, CRAN...).
//!
//! The design decision: a number is never converted to a machine integer.
//! Real versions carry 30-digit numbers (dates with times, hashes read as
//! digits), and the reference tools compare them exactly, so a run of digits
//! is compared as a string: leading zeros dropped, then the longer run is the
//! larger number, then byte order decides. This needs no allocation and
//! cannot overflow.

use std::cmp::Ordering;
use std::hash::Hasher;

/// `digits` without its leading zeros (`"007"` gives `"7"`, `"000"` gives
/// `""`, which stands for zero).
pub(crate) fn strip_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(digits.len());
    digits.get(start..).unwrap_or_default()
}

/// Compares two runs of ASCII digits as the numbers they spell. An empty run
/// counts as zero.
pub(crate) fn cmp_decimal(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_zeros(a);
    let b = strip_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Feeds a run of digits to a hasher so that runs spelling the same number
/// hash alike, with a terminator so that adjacent fields cannot run together.
pub(crate) fn hash_decimal<H: Hasher>(digits: &[u8], state: &mut H) {
    let significant = strip_zeros(digits);
    state.write_usize(significant.len());
    state.write(significant);
}

/// The length of the run of ASCII digits at the start of `bytes`.
pub(crate) fn digit_run(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_numbers_of_any_length() {
        assert_eq!(cmp_decimal(b"9", b"10"), Ordering::Less);
        assert_eq!(cmp_decimal(b"010", b"10"), Ordering::Equal);
        assert_eq!(cmp_decimal(b"", b"000"), Ordering::Equal);
        assert_eq!(
            cmp_decimal(
                b"999999999999999999999999999991",
                b"999999999999999999999999999999"
            ),
            Ordering::Less
        );
        assert_eq!(cmp_decimal(b"2", b"1"), Ordering::Greater);
    }

    #[test]
    fn strips_leading_zeros() {
        assert_eq!(strip_zeros(b"007"), b"7");
        assert_eq!(strip_zeros(b"000"), b"");
        assert_eq!(digit_run(b"123abc"), 3);
        assert_eq!(digit_run(b"abc"), 0);
        assert_eq!(digit_run(b"42"), 2);
    }
}
