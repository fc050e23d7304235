//! HMAC-SHA256 signatures of webhook bodies.
//!
//! A signed request carries two headers:
//!
//! - `X-Palisade-Timestamp: <unix seconds>`
//! - `X-Palisade-Signature: sha256=<lower-case hex>`
//!
//! where the hex is `HMAC-SHA256(secret, timestamp + "." + body)` over the
//! exact bytes of the body. A receiver recomputes it, compares in constant
//! time, and rejects timestamps too far from its clock (replays). During a
//! key rotation the header may hold several comma-separated signatures;
//! one that verifies is enough.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Palisade-Signature";
/// The timestamp header (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "X-Palisade-Timestamp";
/// How far a timestamp may be from the receiver's clock, by default.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Why a signature did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The timestamp header is not a number.
    #[error("the timestamp {0:?} is not Unix seconds")]
    BadTimestamp(String),
    /// The timestamp is outside the tolerance.
    #[error("the timestamp is {skew} s away from now (tolerance {tolerance} s)")]
    Stale {
        /// Seconds between the timestamp and now.
        skew: i64,
        /// The tolerance.
        tolerance: i64,
    },
    /// No `sha256=<hex>` signature in the header.
    #[error("no sha256=<hex> signature in the header")]
    Malformed,
    /// No signature matches.
    #[error("the signature does not match")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it;
    // an empty key stands in should that ever change.
    let mut m = match <HmacSha256 as KeyInit>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => HmacSha256::new(&Default::default()),
    };
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The signature header's value for `body` sent at `timestamp` (Unix
/// seconds): `sha256=<hex>`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("sha256={}", hex::encode(tag))
}

/// Verifies a request: the timestamp header within `tolerance_secs` of
/// `now_secs`, and one of the signatures in the signature header over
/// `timestamp + "." + body` (compared in constant time).
pub fn verify(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let ts_text = timestamp_header.trim();
    let ts: i64 = ts_text
        .parse()
        .map_err(|_| VerifyError::BadTimestamp(ts_text.to_owned()))?;
    let skew = now_secs.saturating_sub(ts).saturating_abs();
    if skew > tolerance_secs {
        return Err(VerifyError::Stale {
            skew,
            tolerance: tolerance_secs,
        });
    }
    let mut any = false;
    for part in signature_header.split(',') {
        let Some(hex_sig) = part.trim().strip_prefix("sha256=") else {
            continue;
        };
        let Ok(bytes) = hex::decode(hex_sig) else {
            continue;
        };
        any = true;
        if mac(secret, ts_text, body).verify_slice(&bytes).is_ok() {
            return Ok(());
        }
    }
    if any {
        Err(VerifyError::Mismatch)
    } else {
        Err(VerifyError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2, through the same construction.
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sign_and_verify() {
        let body = br#"{"kind":"finding.new"}"#;
        let sig = sign(b"k3y", 1_700_000_000, body);
        assert!(sig.starts_with("sha256="));
        assert_eq!(sig.len(), 7 + 64);
        assert_eq!(
            verify(b"k3y", "1700000000", &sig, body, 1_700_000_100, 300),
            Ok(())
        );
        // Rotation: several signatures, one good.
        let both = format!("sha256={}, {sig}", "00".repeat(32));
        assert_eq!(
            verify(b"k3y", "1700000000", &both, body, 1_700_000_000, 300),
            Ok(())
        );
        assert_eq!(
            verify(b"other", "1700000000", &sig, body, 1_700_000_000, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"k3y", "1700000001", &sig, body, 1_700_000_000, 300),
            Err(VerifyError::Mismatch),
            "the timestamp is signed"
        );
        assert_eq!(
            verify(b"k3y", "1700000000", &sig, b"{}", 1_700_000_000, 300),
            Err(VerifyError::Mismatch)
        );
        assert!(matches!(
            verify(b"k3y", "1700000000", &sig, body, 1_700_001_000, 300),
            Err(VerifyError::Stale { .. })
        ));
        assert_eq!(
            verify(b"k3y", "x", &sig, body, 0, 300),
            Err(VerifyError::BadTimestamp("x".into()))
        );
        assert_eq!(
            verify(b"k3y", "1700000000", "md5=ab", body, 1_700_000_000, 300),
            Err(VerifyError::Malformed)
        );
    }
}
