//! Canonical JSON and bounded JSON parsing.
//!
//! Two canonical forms meet in this crate. The old in-toto metadata (links
//! and layouts with a `signed`/`signatures` wrapper) and securesystemslib key
//! ids use the OLPC canonical JSON dialect, which we delegate to the
//! `olpc-cjson` crate rather than re-implementing its escaping rules. Every
//! parser in this crate also goes through [`parse_bounded`], so that a hostile
//! document is refused on its size before serde looks at it (serde_json
//! itself refuses nesting deeper than 128 levels).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// The largest JSON document any parser in this crate accepts (16 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Parses JSON of at most `MAX_DOCUMENT_BYTES`, naming `what` in errors.
pub fn parse_bounded<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, Error> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::TooLarge {
            what,
            size: bytes.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| Error::Json {
        what,
        reason: e.to_string(),
    })
}

/// Serialises `value` as OLPC canonical JSON (the securesystemslib form).
pub fn canonical_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, olpc_cjson::CanonicalFormatter::new());
    value.serialize(&mut ser).map_err(|e| Error::Json {
        what: "canonical JSON",
        reason: e.to_string(),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_and_drops_whitespace() {
        let v = serde_json::json!({"b": 1, "a": [true, null, "x\"y"]});
        let out = canonical_bytes(&v).unwrap_or_default();
        assert_eq!(out, br#"{"a":[true,null,"x\"y"],"b":1}"#.to_vec());
    }

    #[test]
    fn oversized_document_is_refused() {
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        let r: Result<serde_json::Value, _> = parse_bounded(&big, "test");
        assert!(matches!(r, Err(Error::TooLarge { .. })));
    }

    #[test]
    fn deep_nesting_is_refused_without_panic() {
        let deep = "[".repeat(100_000);
        let r: Result<serde_json::Value, _> = parse_bounded(deep.as_bytes(), "test");
        assert!(matches!(r, Err(Error::Json { .. })));
    }
}
