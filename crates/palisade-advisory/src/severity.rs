//! Severity: CVSS vectors scored to a base score and rating, with the
//! database's own rating as a fallback.
//!
//! The design decision: the score is always *computed* from the vector (with
//! the RustSec `cvss` crate, which implements the v2, v3.0, v3.1 and v4.0
//! specifications) rather than trusted from a side field, so that every
//! finding's score can be reproduced from its vector. When an advisory has
//! several vectors the newest CVSS version wins (v4.0, then v3.1/v3.0, then
//! v2), entry-level `affected[].severity` before record-level `severity`.
//! Without a usable vector, the database-specific rating (GitHub's
//! `LOW`/`MODERATE`/`HIGH`/`CRITICAL`) or an `Ubuntu` priority gives the
//! rating, with no score.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::osv::{Advisory, Affected, SeverityEntry};

/// A qualitative rating, ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// The vector scores 0.0.
    None,
    /// 0.1 to 3.9.
    Low,
    /// 4.0 to 6.9.
    Medium,
    /// 7.0 to 8.9 (7.0 to 10.0 for CVSS v2, which has no critical).
    High,
    /// 9.0 to 10.0.
    Critical,
}

impl Rating {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::None => "none",
            Rating::Low => "low",
            Rating::Medium => "medium",
            Rating::High => "high",
            Rating::Critical => "critical",
        }
    }

    /// Reads a database's rating word (`MODERATE` is medium; Ubuntu's
    /// `negligible` is low).
    pub fn from_word(s: &str) -> Option<Rating> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "none" => Rating::None,
            "low" | "negligible" => Rating::Low,
            "medium" | "moderate" => Rating::Medium,
            "high" | "important" => Rating::High,
            "critical" => Rating::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Rating {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rating::from_word(s).ok_or_else(|| {
            format!("unknown severity {s:?} (expected none, low, medium, high or critical)")
        })
    }
}

/// Where a severity came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeveritySource {
    /// A CVSS v4.0 vector.
    CvssV4,
    /// A CVSS v3.0 or v3.1 vector.
    CvssV3,
    /// A CVSS v2 vector.
    CvssV2,
    /// The database's own rating (`database_specific.severity`).
    Database,
    /// An `Ubuntu` priority in `severity[]`.
    Ubuntu,
}

/// The severity of an advisory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    /// The rating.
    pub rating: Rating,
    /// The CVSS base score, when computed from a vector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The vector or rating word it was computed from.
    pub vector: String,
    /// What kind of input it was.
    pub source: SeveritySource,
}

/// Scores one CVSS vector: the base score and the rating, or why not.
pub fn score_vector(vector: &str) -> Result<(f64, Rating), String> {
    let vector = vector.trim();
    check_base_metrics(vector)?;
    let cvss = cvss::Cvss::from_str(vector).map_err(|e| e.to_string())?;
    let score = cvss.score();
    let rating = match cvss.severity() {
        cvss::Severity::None => Rating::None,
        cvss::Severity::Low => Rating::Low,
        cvss::Severity::Medium => Rating::Medium,
        cvss::Severity::High => Rating::High,
        cvss::Severity::Critical => Rating::Critical,
    };
    Ok((score, rating))
}

/// The `cvss` crate fills missing base metrics with defaults; a vector
/// without every base metric has no defined score, so it is refused here.
fn check_base_metrics(vector: &str) -> Result<(), String> {
    let required: &[&str] = if vector.starts_with("CVSS:4.0/") {
        &[
            "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
        ]
    } else if vector.starts_with("CVSS:3.") {
        &["AV", "AC", "PR", "UI", "S", "C", "I", "A"]
    } else {
        &["AV", "AC", "Au", "C", "I", "A"]
    };
    let present: Vec<&str> = vector
        .split('/')
        .filter_map(|part| part.split_once(':').map(|(k, _)| k))
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|m| !present.contains(m))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "vector lacks base metric(s) {}",
            missing.join(", ")
        ))
    }
}

fn from_entries(entries: &[SeverityEntry]) -> Option<Severity> {
    let rank = |kind: &str| match kind {
        "CVSS_V4" => Some((0, SeveritySource::CvssV4)),
        "CVSS_V3" => Some((1, SeveritySource::CvssV3)),
        "CVSS_V2" => Some((2, SeveritySource::CvssV2)),
        _ => None,
    };
    let mut best: Option<(u8, Severity)> = None;
    for e in entries {
        let Some((r, source)) = rank(&e.kind) else {
            continue;
        };
        let Ok((score, rating)) = score_vector(&e.score) else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| r < *b) {
            best = Some((
                r,
                Severity {
                    rating,
                    score: Some(score),
                    vector: e.score.clone(),
                    source,
                },
            ));
        }
    }
    if let Some((_, s)) = best {
        return Some(s);
    }
    entries.iter().find_map(|e| {
        (e.kind.eq_ignore_ascii_case("Ubuntu"))
            .then(|| Rating::from_word(&e.score))
            .flatten()
            .map(|rating| Severity {
                rating,
                score: None,
                vector: e.score.clone(),
                source: SeveritySource::Ubuntu,
            })
    })
}

fn from_word(word: Option<&str>) -> Option<Severity> {
    let word = word?;
    Rating::from_word(word).map(|rating| Severity {
        rating,
        score: None,
        vector: word.to_owned(),
        source: SeveritySource::Database,
    })
}

/// The severity of `advisory` for one of its `affected[]` entries (or the
/// record as a whole when `affected` is `None`).
pub fn assess(advisory: &Advisory, affected: Option<&Affected>) -> Option<Severity> {
    affected
        .and_then(|a| from_entries(&a.severity))
        .or_else(|| from_entries(&advisory.severity))
        .or_else(|| affected.and_then(|a| from_word(a.database_severity.as_deref())))
        .or_else(|| from_word(advisory.database_severity.as_deref()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scores_each_cvss_version() {
        // Published scores: NVD for CVE-2021-44228 (v3.1 10.0, v2 9.3), and
        // the FIRST v4.0 calculator for the v4 vector (9.3).
        let (s, r) = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H").unwrap();
        assert_eq!((s, r), (10.0, Rating::Critical));
        let (s, r) = score_vector("AV:N/AC:M/Au:N/C:C/I:C/A:C").unwrap();
        assert_eq!((s, r), (9.3, Rating::High));
        let (s, r) =
            score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                .unwrap();
        assert_eq!((s, r), (9.3, Rating::Critical));
        let (s, r) = score_vector("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N").unwrap();
        assert_eq!((s, r), (5.3, Rating::Medium));
        assert!(score_vector("CVSS:3.1/AV:N").is_err());
        assert!(score_vector("nonsense").is_err());
    }

    #[test]
    fn newest_vector_wins_then_fallbacks() {
        let mut a = Advisory {
            severity: vec![
                SeverityEntry {
                    kind: "CVSS_V3".into(),
                    score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N".into(),
                },
                SeverityEntry {
                    kind: "CVSS_V4".into(),
                    score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into(),
                },
            ],
            database_severity: Some("LOW".into()),
            ..Default::default()
        };
        let s = assess(&a, None).unwrap();
        assert_eq!(s.source, SeveritySource::CvssV4);
        assert_eq!(s.rating, Rating::Critical);
        a.severity.clear();
        let s = assess(&a, None).unwrap();
        assert_eq!(
            (s.source, s.rating, s.score),
            (SeveritySource::Database, Rating::Low, None)
        );
        a.database_severity = Some("MODERATE".into());
        assert_eq!(assess(&a, None).unwrap().rating, Rating::Medium);
        a.database_severity = None;
        assert_eq!(assess(&a, None), None);
        let entry = Affected {
            severity: vec![SeverityEntry {
                kind: "Ubuntu".into(),
                score: "negligible".into(),
            }],
            ..Default::default()
        };
        let s = assess(&a, Some(&entry)).unwrap();
        assert_eq!((s.source, s.rating), (SeveritySource::Ubuntu, Rating::Low));
    }

    #[test]
    fn ratings_order_and_parse() {
        assert!(Rating::Critical > Rating::High && Rating::Low > Rating::None);
        assert_eq!("Moderate".parse::<Rating>().unwrap(), Rating::Medium);
        assert!("severe".parse::<Rating>().is_err());
    }
}
