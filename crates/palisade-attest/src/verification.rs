//! The typed outcome of every verification in this crate.
//!
//! Design: a verification is a list of named checks, each passed, failed or
//! skipped, with a reason and the element it is about (which signature, which
//! certificate, which step). The overall verdict is derived, never stored
//! separately from the checks: it is `true` only when at least one check
//! passed and none failed. The type is plain serde data so that the policy
//! engine and the server can record it and reason over it.

use serde::{Deserialize, Serialize};

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// The check ran and passed.
    Passed,
    /// The check ran and failed, or could not be performed.
    Failed,
    /// The check was not requested (for example no expected subject was given).
    Skipped,
}

/// One check and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// A stable name (`signature`, `threshold`, `subject-digest`, `predicate-type`, ...).
    pub name: String,
    /// The outcome.
    pub status: CheckStatus,
    /// What the check was about (`signature 0 (keyid abc…)`, `step package`), if specific.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A full sentence explaining the outcome.
    pub reason: String,
}

impl Check {
    /// A passed check.
    pub fn pass(name: &str, target: Option<String>, reason: impl Into<String>) -> Self {
        Check {
            name: name.to_string(),
            status: CheckStatus::Passed,
            target,
            reason: reason.into(),
        }
    }

    /// A failed check.
    pub fn fail(name: &str, target: Option<String>, reason: impl Into<String>) -> Self {
        Check {
            name: name.to_string(),
            status: CheckStatus::Failed,
            target,
            reason: reason.into(),
        }
    }

    /// A skipped check.
    pub fn skip(name: &str, target: Option<String>, reason: impl Into<String>) -> Self {
        Check {
            name: name.to_string(),
            status: CheckStatus::Skipped,
            target,
            reason: reason.into(),
        }
    }
}

/// Who signed: a key, or a certificate identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The key id (securesystemslib form) of a verifying key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
    /// The key's algorithm and scheme, e.g. `ecdsa-sha2-nistp256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// The certificate's subject alternative name (Sigstore keyless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_identity: Option<String>,
    /// The certificate's OIDC issuer (Sigstore keyless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_issuer: Option<String>,
}

/// A subject of a statement: a name and its digests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRef {
    /// The subject's name.
    pub name: String,
    /// Algorithm to lowercase hex digest.
    pub digest: std::collections::BTreeMap<String, String>,
}

/// The outcome of one verification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// What was verified: `dsse-attestation`, `sigstore-bundle`, `in-toto-layout`, `slsa-provenance`.
    pub kind: String,
    /// Whether every check passed (derived from `checks`).
    pub verified: bool,
    /// The signers whose signatures verified.
    pub signers: Vec<Signer>,
    /// The statement's predicate type, when a statement was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// The statement's subjects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectRef>,
    /// The verified statement, only when its signature verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<serde_json::Value>,
    /// A verified signing time (RFC 3339), when the evidence carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// Every check, in the order it ran.
    pub checks: Vec<Check>,
}

impl Verification {
    /// An empty verification of `kind`: not verified until a check passes.
    pub fn new(kind: &str) -> Self {
        Verification {
            kind: kind.to_string(),
            verified: false,
            signers: Vec::new(),
            predicate_type: None,
            subjects: Vec::new(),
            statement: None,
            signed_at: None,
            checks: Vec::new(),
        }
    }

    /// Records a check and recomputes the verdict.
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
        self.recompute();
    }

    /// Recomputes `verified` from the checks.
    pub fn recompute(&mut self) {
        self.verified = self.checks.iter().any(|c| c.status == CheckStatus::Passed)
            && self.checks.iter().all(|c| c.status != CheckStatus::Failed);
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_verifies_by_default() {
        let mut v = Verification::new("x");
        assert!(!v.verified);
        v.push(Check::skip("a", None, "not asked"));
        assert!(!v.verified);
        v.push(Check::pass("b", None, "ok"));
        assert!(v.verified);
        v.push(Check::fail("c", None, "bad"));
        assert!(!v.verified);
        assert_eq!(v.failures().count(), 1);
    }
}
