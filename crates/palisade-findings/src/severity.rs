//! Severities from what tools write: CVSS vectors (scored with
//! `palisade-advisory`, so every score can be reproduced), printed scores,
//! and each tool's own words.

use palisade_advisory::severity::score_vector;

use crate::model::{Rating, Severity};

/// The CVSS v3/v4 qualitative rating of a base score.
pub fn rating_of_score(score: f64) -> Rating {
    if score >= 9.0 {
        Rating::Critical
    } else if score >= 7.0 {
        Rating::High
    } else if score >= 4.0 {
        Rating::Medium
    } else if score > 0.0 {
        Rating::Low
    } else {
        Rating::None
    }
}

/// Builds a severity. `label_rating` is what the tool's word means on the
/// common scale; when absent, the rating follows the score. A complete CVSS
/// `vector` is scored and wins over a printed `score`.
pub(crate) fn build(
    label: Option<String>,
    label_rating: Option<Rating>,
    vector: Option<String>,
    score: Option<f64>,
) -> Option<Severity> {
    let vector = vector
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let computed = vector.as_deref().and_then(|v| score_vector(v).ok());
    let score = computed
        .map(|(s, _)| s)
        .or(score.filter(|s| s.is_finite() && (0.0..=10.0).contains(s)));
    let rating = label_rating
        .or(computed.map(|(_, r)| r))
        .or(score.map(rating_of_score));
    let s = Severity {
        rating,
        score,
        vector,
        label: label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()),
    };
    (!s.is_empty()).then_some(s)
}

/// A generic severity word (`HIGH`, `Moderate`, `Informational`...).
pub(crate) fn rating_of_word(word: &str) -> Option<Rating> {
    let w = word.trim().to_ascii_lowercase();
    Rating::from_word(&w).or(match w.as_str() {
        "informational" | "info" | "information" | "negligible" | "unimportant" => {
            Some(Rating::None)
        }
        "severe" | "urgent" | "emergency" | "alert" => Some(Rating::Critical),
        "error" => Some(Rating::High),
        "warning" | "warn" => Some(Rating::Medium),
        "notice" | "note" | "minor" => Some(Rating::Low),
        "debug" => Some(Rating::None),
        _ => None,
    })
}

/// Chooses the best of several CVSS vectors: the newest version first
/// (4.0, then 3.x, then 2), complete ones only.
pub(crate) fn best_vector<'a>(vectors: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let rank = |v: &str| {
        if v.starts_with("CVSS:4.") {
            0
        } else if v.starts_with("CVSS:3.") {
            1
        } else {
            2
        }
    };
    vectors
        .into_iter()
        .map(str::trim)
        .filter(|v| score_vector(v).is_ok())
        .min_by_key(|v| rank(v))
        .map(str::to_owned)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn vector_is_scored_and_label_kept() {
        let s = build(
            Some("LOW".into()),
            Some(Rating::Low),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            Some(1.0),
        )
        .unwrap();
        assert_eq!(s.score, Some(9.8));
        assert_eq!(s.rating, Some(Rating::Low));
        let s = build(None, None, Some("garbage".into()), Some(5.5)).unwrap();
        assert_eq!((s.score, s.rating), (Some(5.5), Some(Rating::Medium)));
        assert!(build(None, None, None, Some(f64::NAN)).is_none());
        assert!(build(Some(" ".into()), None, None, None).is_none());
    }

    #[test]
    fn words_and_best_vector() {
        assert_eq!(rating_of_word("Moderate"), Some(Rating::Medium));
        assert_eq!(rating_of_word("Informational"), Some(Rating::None));
        assert_eq!(rating_of_word("whatever"), None);
        let v = best_vector([
            "AV:N/AC:L/Au:N/C:P/I:N/A:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
            "CVSS:3.1/AV:N",
        ]);
        assert_eq!(
            v.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N")
        );
    }
}
