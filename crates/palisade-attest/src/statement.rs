//! in-toto Statements (v1, and reading v0.1) and the predicate types Palisade
//! knows.
//!
//! Design: the statement layer is typed (subjects by digest, predicate type),
//! the predicate stays a `serde_json::Value` so that unknown fields survive a
//! round trip, as the in-toto parsing rules require ("consumers MUST ignore
//! unrecognized fields"). Typed predicates that Palisade produces or checks
//! (SLSA provenance, VSA, code review) live in [`crate::provenance`] and
//! here, and convert to and from that value. Digests are normalised to
//! lowercase hex and checked for their algorithm's length, so a subject
//! cannot be matched by a truncated or oddly cased digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::verification::SubjectRef;
use crate::{Error, cjson};

/// The Statement v1 type URI.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The Statement v0.1 type URI (read only).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// Predicate type URIs.
pub mod predicate_types {
    /// SLSA Provenance v1.
    pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
    /// SLSA Provenance v0.2 (read).
    pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";
    /// SLSA Verification Summary v1.
    pub const SLSA_VSA_V1: &str = "https://slsa.dev/verification_summary/v1";
    /// SPDX 2 documents.
    pub const SPDX: &str = "https://spdx.dev/Document";
    /// SPDX 3 documents.
    pub const SPDX_V3: &str = "https://spdx.dev/Document/v3";
    /// CycloneDX BOMs.
    pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";
    /// in-toto vulnerability scan results v0.2.
    pub const VULNS_V02: &str = "https://in-toto.io/attestation/vulns/v0.2";
    /// cosign's vulnerability scan predicate.
    pub const COSIGN_VULN_V1: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
    /// in-toto test results v0.1.
    pub const TEST_RESULT_V01: &str = "https://in-toto.io/attestation/test-result/v0.1";
    /// Palisade's code-review predicate: the approvers of a source revision.
    pub const CODE_REVIEW_V1: &str = "https://palisade.dev/attestation/code-review/v1";
    /// in-toto 0.9 link migration predicate.
    pub const LINK_V03: &str = "https://in-toto.io/attestation/link/v0.3";

    /// Short names accepted on the command line, with their URIs.
    pub const SHORT_NAMES: [(&str, &str); 10] = [
        ("slsaprovenance", SLSA_PROVENANCE_V1),
        ("slsaprovenance02", SLSA_PROVENANCE_V02),
        ("vsa", SLSA_VSA_V1),
        ("spdx", SPDX),
        ("spdx3", SPDX_V3),
        ("cyclonedx", CYCLONEDX),
        ("vuln", VULNS_V02),
        ("test-result", TEST_RESULT_V01),
        ("code-review", CODE_REVIEW_V1),
        ("link", LINK_V03),
    ];

    /// Resolves a short name to its URI; anything else is taken as a URI.
    pub fn resolve(name: &str) -> &str {
        SHORT_NAMES
            .iter()
            .find(|(short, _)| *short == name)
            .map(|(_, uri)| *uri)
            .unwrap_or(name)
    }
}

/// The expected hex length of a digest algorithm, for those we can check.
fn digest_hex_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "sha256" | "sha3_256" | "sha512_256" => Some(64),
        "sha224" | "sha512_224" | "sha3_224" => Some(56),
        "sha384" | "sha3_384" => Some(96),
        "sha512" | "sha3_512" => Some(128),
        "sha1" | "gitCommit" => Some(40),
        _ => None,
    }
}

/// A digest written `ALG:HEX` (as on the command line and in OCI).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DigestRef {
    /// The algorithm, lowercase (`sha256`).
    pub algorithm: String,
    /// Lowercase hex.
    pub hex: String,
}

impl DigestRef {
    /// Parses `sha256:<hex>`, `sha384:<hex>` or `sha512:<hex>`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let (alg, hex) = s.split_once(':').ok_or_else(|| Error::Digest(s.into()))?;
        let alg = alg.to_ascii_lowercase();
        let want = match alg.as_str() {
            "sha256" | "sha384" | "sha512" => digest_hex_len(&alg),
            _ => None,
        }
        .ok_or_else(|| Error::Digest(s.into()))?;
        if hex.len() != want || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Digest(s.into()));
        }
        Ok(DigestRef {
            algorithm: alg,
            hex: hex.to_ascii_lowercase(),
        })
    }

    /// The SHA-256 of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        DigestRef {
            algorithm: "sha256".into(),
            hex: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }
}

impl std::fmt::Display for DigestRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

/// An in-toto ResourceDescriptor (v1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    /// A name, e.g. a file path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// A URI locating the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Algorithm to hex digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// Inline content, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Where to download the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_location: Option<String>,
    /// The resource's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ResourceDescriptor {
    /// A descriptor with a name and one digest.
    pub fn with_digest(name: &str, digest: &DigestRef) -> Self {
        let mut map = BTreeMap::new();
        map.insert(digest.algorithm.clone(), digest.hex.clone());
        ResourceDescriptor {
            name: name.to_string(),
            digest: map,
            ..Default::default()
        }
    }

    /// Whether this descriptor's digest for `digest.algorithm` equals it.
    pub fn matches(&self, digest: &DigestRef) -> bool {
        self.digest
            .get(&digest.algorithm)
            .is_some_and(|h| h.eq_ignore_ascii_case(&digest.hex))
    }
}

/// An in-toto Statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    /// The statement type URI.
    #[serde(rename = "_type")]
    pub type_: String,
    /// The subjects.
    pub subject: Vec<ResourceDescriptor>,
    /// The predicate type URI.
    pub predicate_type: String,
    /// The predicate (absent means empty).
    #[serde(default)]
    pub predicate: serde_json::Value,
}

impl Statement {
    /// A v1 statement.
    pub fn new(
        subject: Vec<ResourceDescriptor>,
        predicate_type: &str,
        predicate: serde_json::Value,
    ) -> Self {
        Statement {
            type_: STATEMENT_V1.to_string(),
            subject,
            predicate_type: predicate_type.to_string(),
            predicate,
        }
    }

    /// Parses and validates a statement (v1 or v0.1).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let st: Statement = cjson::parse_bounded(bytes, "in-toto statement")?;
        st.validate()?;
        Ok(st)
    }

    /// Checks the rules of the Statement specification: a known `_type`, at
    /// least one subject, every subject with a digest whose values are hex of
    /// the right length, and a non-empty predicate type.
    pub fn validate(&self) -> Result<(), Error> {
        let what = "in-toto statement";
        if self.type_ != STATEMENT_V1 && self.type_ != STATEMENT_V01 {
            return Err(Error::format(
                what,
                format!(
                    "_type {:?} is not {STATEMENT_V1} or {STATEMENT_V01}",
                    self.type_
                ),
            ));
        }
        if self.subject.is_empty() {
            return Err(Error::format(what, "it has no subject"));
        }
        for (i, s) in self.subject.iter().enumerate() {
            if s.digest.is_empty() {
                return Err(Error::format(what, format!("subject {i} has no digest")));
            }
            for (alg, value) in &s.digest {
                let hexish = value.bytes().all(|b| b.is_ascii_hexdigit());
                let len_ok = digest_hex_len(alg).is_none_or(|n| n == value.len());
                if digest_hex_len(alg).is_some() && !(hexish && len_ok) {
                    return Err(Error::format(
                        what,
                        format!("subject {i} has a malformed {alg} digest {value:?}"),
                    ));
                }
            }
        }
        if self.predicate_type.is_empty() {
            return Err(Error::format(what, "predicateType is empty"));
        }
        Ok(())
    }

    /// Serialises deterministically (compact, fields in declaration order).
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(self).map_err(|e| Error::Json {
            what: "in-toto statement",
            reason: e.to_string(),
        })
    }

    /// The subjects as plain data for a verification result.
    pub fn subject_refs(&self) -> Vec<SubjectRef> {
        self.subject
            .iter()
            .map(|s| SubjectRef {
                name: s.name.clone(),
                digest: s.digest.clone(),
            })
            .collect()
    }
}

/// One approval in a code review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// The approver's identity (account name or e-mail address).
    pub approver: String,
    /// When the approval was given (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
}

/// The code-review predicate: who approved which source revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeReview {
    /// The source repository URI.
    pub repository: String,
    /// The reviewed revision (a commit id).
    pub revision: String,
    /// The change request (pull/merge request URL or id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// The author of the change.
    pub author: String,
    /// The approvals.
    pub approvals: Vec<Approval>,
}

impl CodeReview {
    /// The distinct approvers other than the author, sorted.
    pub fn independent_approvers(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .approvals
            .iter()
            .map(|a| a.approver.clone())
            .filter(|a| !a.eq_ignore_ascii_case(&self.author))
            .collect();
        out.sort();
        out.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        out
    }

    /// Whether the two-person rule holds: at least `required` approvers who
    /// are not the author (one, for the classic rule).
    pub fn satisfies_two_person_rule(&self, required: usize) -> bool {
        self.independent_approvers().len() >= required.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ref_parsing_is_strict() {
        assert!(DigestRef::parse(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(DigestRef::parse(&format!("SHA256:{}", "A".repeat(64))).is_ok());
        assert!(DigestRef::parse(&format!("sha256:{}", "a".repeat(63))).is_err());
        assert!(DigestRef::parse(&format!("md5:{}", "a".repeat(32))).is_err());
        assert!(DigestRef::parse("nocolon").is_err());
        assert!(DigestRef::parse(&format!("sha256:{}", "g".repeat(64))).is_err());
    }

    #[test]
    fn statement_validation() {
        let d = DigestRef::sha256_of(b"x");
        let ok = Statement::new(
            vec![ResourceDescriptor::with_digest("x", &d)],
            predicate_types::SLSA_PROVENANCE_V1,
            serde_json::json!({}),
        );
        assert!(ok.validate().is_ok());
        let mut bad = ok.clone();
        bad.subject.clear();
        assert!(bad.validate().is_err());
        let mut bad = ok.clone();
        bad.type_ = "https://example.com/other".into();
        assert!(bad.validate().is_err());
        let mut bad = ok;
        bad.subject[0].digest.insert("sha256".into(), "abc".into());
        assert!(bad.validate().is_err());
    }

    #[test]
    fn two_person_rule_ignores_self_approval() {
        let review = CodeReview {
            repository: "https://git.example/r".into(),
            revision: "a".repeat(40),
            change: None,
            author: "alice".into(),
            approvals: vec![
                Approval {
                    approver: "alice".into(),
                    approved_at: None,
                },
                Approval {
                    approver: "Bob".into(),
                    approved_at: None,
                },
                Approval {
                    approver: "bob".into(),
                    approved_at: None,
                },
            ],
        };
        assert_eq!(review.independent_approvers(), vec!["Bob".to_string()]);
        assert!(review.satisfies_two_person_rule(1));
        assert!(!review.satisfies_two_person_rule(2));
    }
}
