//! CVSS base scores from vectors (v2, v3.0, v3.1, v4.0).
//!
//! The design decision: there is one CVSS implementation in the workspace,
//! [`palisade_advisory::severity::score_vector`] (the RustSec `cvss` crate
//! behind a check that every base metric is present). This module reuses it
//! and adds what prioritisation needs around it: the CVSS version as a
//! value, and vectors written without their `CVSS:3.1/` prefix, as
//! CycloneDX `ratings[]` (with a separate `method`), Trivy (`V3Vector`) and
//! the NVD's v2 data write them.

use std::fmt;

use palisade_advisory::Rating;
use serde::{Deserialize, Serialize};

/// The longest vector accepted (real vectors are under 200 bytes; v4 with
/// every supplemental metric is about 300).
pub const MAX_VECTOR_LEN: usize = 1024;

/// A CVSS version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CvssVersion {
    /// CVSS v2 (no prefix; `AV:N/AC:L/Au:N/...`).
    #[serde(rename = "2.0")]
    V2,
    /// CVSS v3.0.
    #[serde(rename = "3.0")]
    V3_0,
    /// CVSS v3.1.
    #[serde(rename = "3.1")]
    V3_1,
    /// CVSS v4.0.
    #[serde(rename = "4.0")]
    V4_0,
}

impl CvssVersion {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V3_0 => "3.0",
            CvssVersion::V3_1 => "3.1",
            CvssVersion::V4_0 => "4.0",
        }
    }

    /// Reads a version as scanners and SBOMs name it: `3.1`, `CVSSv31`,
    /// `CVSSv3` (taken as 3.0), `CVSSv2`, `CVSSv4`, `V3`... (case-insensitive).
    pub fn from_method(method: &str) -> Option<CvssVersion> {
        let m = method.trim().to_ascii_lowercase();
        let m = m.strip_prefix("cvss").unwrap_or(&m);
        let m = m.trim_start_matches([':', '_', ' ', 'v']);
        Some(match m {
            "2" | "2.0" | "20" => CvssVersion::V2,
            "3" | "3.0" | "30" => CvssVersion::V3_0,
            "3.1" | "31" => CvssVersion::V3_1,
            "4" | "4.0" | "40" => CvssVersion::V4_0,
            _ => return None,
        })
    }

    /// The prefix a vector of this version carries (empty for v2).
    fn prefix(self) -> &'static str {
        match self {
            CvssVersion::V2 => "",
            CvssVersion::V3_0 => "CVSS:3.0/",
            CvssVersion::V3_1 => "CVSS:3.1/",
            CvssVersion::V4_0 => "CVSS:4.0/",
        }
    }
}

impl fmt::Display for CvssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scored vector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    /// The version.
    pub version: CvssVersion,
    /// The base score, 0.0 to 10.0 with one decimal.
    pub base_score: f64,
    /// The qualitative rating of the base score.
    pub rating: Rating,
    /// The vector, with its version prefix (as scored).
    pub vector: String,
}

/// Why a vector has no score.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CvssError {
    /// Longer than [`MAX_VECTOR_LEN`].
    #[error("CVSS vector is {len} bytes long; at most {MAX_VECTOR_LEN} are accepted")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Not a vector of any known version, or invalid for its version.
    #[error("invalid CVSS vector {vector:?}: {reason}")]
    Invalid {
        /// The vector, cut to 200 characters.
        vector: String,
        /// What is wrong.
        reason: String,
    },
    /// The vector's own prefix contradicts the version it was given with.
    #[error("CVSS vector {vector:?} is not a CVSS {expected} vector")]
    VersionMismatch {
        /// The vector, cut to 200 characters.
        vector: String,
        /// The version it was declared as.
        expected: CvssVersion,
    },
}

fn cut(s: &str) -> String {
    s.chars().take(200).collect()
}

/// The version a vector declares by its prefix, or v2 for an unprefixed
/// vector with v2's `Au` metric.
pub fn version_of(vector: &str) -> Option<CvssVersion> {
    let v = vector.trim();
    if v.starts_with("CVSS:4.0/") {
        Some(CvssVersion::V4_0)
    } else if v.starts_with("CVSS:3.1/") {
        Some(CvssVersion::V3_1)
    } else if v.starts_with("CVSS:3.0/") {
        Some(CvssVersion::V3_0)
    } else if v.split('/').any(|m| m.starts_with("Au:")) {
        Some(CvssVersion::V2)
    } else {
        None
    }
}

/// Scores a vector that carries its version (`CVSS:3.1/...`, `CVSS:4.0/...`,
/// or a v2 vector, which has no prefix).
pub fn score(vector: &str) -> Result<CvssScore, CvssError> {
    let vector = vector.trim();
    if vector.len() > MAX_VECTOR_LEN {
        return Err(CvssError::TooLong { len: vector.len() });
    }
    let version = version_of(vector).ok_or_else(|| CvssError::Invalid {
        vector: cut(vector),
        reason: "no CVSS version prefix (CVSS:3.0/, CVSS:3.1/, CVSS:4.0/) and not a v2 vector"
            .to_owned(),
    })?;
    let (base_score, rating) =
        palisade_advisory::severity::score_vector(vector).map_err(|reason| CvssError::Invalid {
            vector: cut(vector),
            reason,
        })?;
    Ok(CvssScore {
        version,
        base_score,
        rating,
        vector: vector.to_owned(),
    })
}

/// Scores a vector declared as `version`, adding the version prefix when the
/// vector lacks it (CycloneDX `ratings[].vector` with `method: CVSSv31`;
/// Trivy's `V3Vector` is usually prefixed, the NVD's v2 vectors never are).
pub fn score_as(vector: &str, version: CvssVersion) -> Result<CvssScore, CvssError> {
    let trimmed = vector.trim();
    if trimmed.len() > MAX_VECTOR_LEN {
        return Err(CvssError::TooLong { len: trimmed.len() });
    }
    let full = if trimmed.starts_with("CVSS:") || version == CvssVersion::V2 {
        trimmed.to_owned()
    } else {
        // Some producers write `(AV:N/...)` (the NVD's old v2 style).
        let inner = trimmed.trim_start_matches('(').trim_end_matches(')');
        format!("{}{inner}", version.prefix())
    };
    let full = if version == CvssVersion::V2 {
        full.trim_start_matches('(')
            .trim_end_matches(')')
            .to_owned()
    } else {
        full
    };
    let scored = score(&full)?;
    // A v3 method with a v3.1 vector (CycloneDX's `CVSSv3` covers both) is
    // fine; other disagreements are not.
    let compatible = scored.version == version
        || matches!(
            (scored.version, version),
            (CvssVersion::V3_1, CvssVersion::V3_0) | (CvssVersion::V3_0, CvssVersion::V3_1)
        );
    if !compatible {
        return Err(CvssError::VersionMismatch {
            vector: cut(trimmed),
            expected: version,
        });
    }
    Ok(scored)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scores_every_version() {
        let s = score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H").unwrap();
        assert_eq!(
            (s.version, s.base_score, s.rating),
            (CvssVersion::V3_1, 10.0, Rating::Critical)
        );
        let s = score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N").unwrap();
        assert_eq!((s.version, s.base_score), (CvssVersion::V3_0, 6.5));
        let s = score("AV:N/AC:M/Au:N/C:C/I:C/A:C").unwrap();
        assert_eq!(
            (s.version, s.base_score, s.rating),
            (CvssVersion::V2, 9.3, Rating::High)
        );
        let s = score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!((s.version, s.base_score), (CvssVersion::V4_0, 9.3));
    }

    #[test]
    fn unprefixed_vectors_with_a_method() {
        let v = "AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N";
        assert!(score(v).is_err());
        let s = score_as(v, CvssVersion::from_method("CVSSv31").unwrap()).unwrap();
        assert_eq!((s.version, s.base_score), (CvssVersion::V3_1, 7.5));
        assert_eq!(s.vector, format!("CVSS:3.1/{v}"));
        let s = score_as("(AV:N/AC:L/Au:N/C:P/I:P/A:P)", CvssVersion::V2).unwrap();
        assert_eq!(s.base_score, 7.5);
        let s = score_as(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
            CvssVersion::V3_0,
        );
        assert_eq!(s.unwrap().version, CvssVersion::V3_1);
        assert!(matches!(
            score_as(
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
                CvssVersion::V4_0
            ),
            Err(CvssError::VersionMismatch { .. })
        ));
    }

    #[test]
    fn methods_and_refusals() {
        assert_eq!(CvssVersion::from_method("CVSSv3"), Some(CvssVersion::V3_0));
        assert_eq!(CvssVersion::from_method("CVSSv4"), Some(CvssVersion::V4_0));
        assert_eq!(CvssVersion::from_method("cvss_v2"), Some(CvssVersion::V2));
        assert_eq!(CvssVersion::from_method("3.1"), Some(CvssVersion::V3_1));
        assert_eq!(CvssVersion::from_method("OWASP"), None);
        assert!(score("CVSS:3.1/AV:N").is_err());
        assert!(matches!(
            score(&"A".repeat(MAX_VECTOR_LEN + 1)),
            Err(CvssError::TooLong { .. })
        ));
        assert!(score("").is_err());
    }
}
