//! Signed in-toto attestations: a Statement inside a DSSE envelope.
//!
//! Design: verification never stops at the first problem. It checks, in
//! order, the envelope signatures and threshold, the payload type, the
//! statement's shape, the expected subject digest and the expected predicate
//! type, and records each as a [`Check`]. The statement is returned only
//! when the signatures verified, so a consumer cannot read unauthenticated
//! content from a result by mistake.

use crate::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use crate::keys::{PrivateKey, PublicKey};
use crate::statement::{CodeReview, DigestRef, Statement, predicate_types};
use crate::verification::{Check, CheckStatus, Verification};
use crate::{Error, cjson};

/// What an attestation must satisfy besides its signatures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttestationPolicy {
    /// How many distinct trusted keys must have signed (at least 1).
    pub threshold: usize,
    /// A digest one of the statement's subjects must carry.
    pub expected_subject: Option<DigestRef>,
    /// The predicate type the statement must have.
    pub expected_predicate_type: Option<String>,
    /// For a code-review predicate: how many approvers other than the author
    /// are required (1 is the two-person rule). `None` checks nothing.
    pub required_approvals: Option<usize>,
}

/// Signs `statement` into a DSSE envelope with every key.
pub fn sign_statement(statement: &Statement, keys: &[&PrivateKey]) -> Result<Envelope, Error> {
    statement.validate()?;
    Envelope::sign(INTOTO_PAYLOAD_TYPE, &statement.to_json()?, keys)
}

/// Verifies a signed attestation (DSSE envelope JSON) against trusted keys.
pub fn verify_attestation(
    envelope_json: &[u8],
    keys: &[PublicKey],
    policy: &AttestationPolicy,
) -> Result<Verification, Error> {
    let envelope = Envelope::from_json(envelope_json)?;
    verify_envelope(&envelope, keys, policy)
}

/// Verifies a parsed envelope; see [`verify_attestation`].
pub fn verify_envelope(
    envelope: &Envelope,
    keys: &[PublicKey],
    policy: &AttestationPolicy,
) -> Result<Verification, Error> {
    let mut v = envelope.verify(keys, policy.threshold)?;
    v.kind = "dsse-attestation".into();
    let signatures_ok = !v.checks.iter().any(|c| c.status == CheckStatus::Failed);
    if envelope.payload_type == INTOTO_PAYLOAD_TYPE {
        v.push(Check::pass(
            "payload-type",
            None,
            format!("The payload type is {INTOTO_PAYLOAD_TYPE}."),
        ));
    } else {
        v.push(Check::fail(
            "payload-type",
            None,
            format!(
                "The payload type is {:?}, not {INTOTO_PAYLOAD_TYPE}.",
                envelope.payload_type
            ),
        ));
    }
    let payload = envelope.decoded_payload()?;
    let statement = match Statement::from_json(&payload) {
        Ok(s) => {
            v.push(Check::pass(
                "statement",
                None,
                format!("The payload is a valid {} statement.", s.type_),
            ));
            s
        }
        Err(e) => {
            v.push(Check::fail("statement", None, format!("{e}.")));
            return Ok(v);
        }
    };
    match &policy.expected_subject {
        None => v.push(Check::skip(
            "subject-digest",
            None,
            "No expected subject digest was given.",
        )),
        Some(d) => match statement.subject.iter().find(|s| s.matches(d)) {
            Some(s) => v.push(Check::pass(
                "subject-digest",
                Some(s.name.clone()),
                format!("Subject {:?} has digest {d}.", s.name),
            )),
            None => v.push(Check::fail(
                "subject-digest",
                None,
                format!(
                    "No subject of the statement has digest {d} (subjects: {}).",
                    statement
                        .subject
                        .iter()
                        .map(|s| format!("{:?}", s.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        },
    }
    match &policy.expected_predicate_type {
        None => v.push(Check::skip(
            "predicate-type",
            None,
            "No expected predicate type was given.",
        )),
        Some(t) if *t == statement.predicate_type => v.push(Check::pass(
            "predicate-type",
            None,
            format!("The predicate type is {t}."),
        )),
        Some(t) => v.push(Check::fail(
            "predicate-type",
            None,
            format!(
                "The predicate type is {}, expected {t}.",
                statement.predicate_type
            ),
        )),
    }
    if let Some(required) = policy.required_approvals {
        v.push(check_approvals(&statement, required));
    }
    v.predicate_type = Some(statement.predicate_type.clone());
    v.subjects = statement.subject_refs();
    if signatures_ok {
        v.statement = serde_json::from_slice(&payload).ok();
    }
    Ok(v)
}

/// The two-person rule over a code-review statement.
fn check_approvals(statement: &Statement, required: usize) -> Check {
    let required = required.max(1);
    if statement.predicate_type != predicate_types::CODE_REVIEW_V1 {
        return Check::fail(
            "approvals",
            None,
            format!(
                "Approvals were required, but the predicate is {}, not a code review ({}).",
                statement.predicate_type,
                predicate_types::CODE_REVIEW_V1
            ),
        );
    }
    match serde_json::from_value::<CodeReview>(statement.predicate.clone()) {
        Err(e) => Check::fail(
            "approvals",
            None,
            format!("The code-review predicate is malformed: {e}."),
        ),
        Ok(review) => {
            let approvers = review.independent_approvers();
            let target = Some(format!("{}@{}", review.repository, review.revision));
            let reason = format!(
                "{} approver(s) other than the author {:?} ({}); {required} required.",
                approvers.len(),
                review.author,
                approvers.join(", ")
            );
            if approvers.len() >= required {
                Check::pass("approvals", target, reason)
            } else {
                Check::fail("approvals", target, reason)
            }
        }
    }
}

/// Reads a statement from JSON with this crate's limits.
pub fn parse_statement(bytes: &[u8]) -> Result<Statement, Error> {
    let _: serde_json::Value = cjson::parse_bounded(bytes, "in-toto statement")?;
    Statement::from_json(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::Approval;

    #[test]
    fn two_person_rule_on_a_signed_code_review() -> Result<(), Error> {
        let key = PrivateKey::generate(GenerateAlgorithm::Ed25519)?;
        let review = |approvers: &[&str]| CodeReview {
            repository: "https://git.example/org/app".into(),
            revision: "b".repeat(40),
            change: Some("https://git.example/org/app/pull/7".into()),
            author: "alice".into(),
            approvals: approvers
                .iter()
                .map(|a| Approval {
                    approver: a.to_string(),
                    approved_at: None,
                })
                .collect(),
        };
        let policy = AttestationPolicy {
            threshold: 1,
            required_approvals: Some(1),
            ..Default::default()
        };
        for (approvers, ok) in [
            (&["bob"][..], true),
            (&["alice"][..], false),
            (&[][..], false),
        ] {
            let st = Statement::new(
                vec![ResourceDescriptor::with_digest(
                    "src",
                    &DigestRef::sha256_of(b"s"),
                )],
                predicate_types::CODE_REVIEW_V1,
                serde_json::to_value(review(approvers)).unwrap_or_default(),
            );
            let env = sign_statement(&st, &[&key])?;
            let v = verify_envelope(&env, &[key.public().clone()], &policy)?;
            assert_eq!(v.verified, ok, "{approvers:?}: {:?}", v.checks);
        }
        Ok(())
    }
    use crate::keys::GenerateAlgorithm;
    use crate::statement::ResourceDescriptor;

    fn signed(key: &PrivateKey, artifact: &[u8]) -> Result<Envelope, Error> {
        let st = Statement::new(
            vec![ResourceDescriptor::with_digest(
                "a",
                &DigestRef::sha256_of(artifact),
            )],
            predicate_types::TEST_RESULT_V01,
            serde_json::json!({"result": "PASSED"}),
        );
        sign_statement(&st, &[key])
    }

    #[test]
    fn each_check_fails_on_its_own_tamper() -> Result<(), Error> {
        let key = PrivateKey::generate(GenerateAlgorithm::EcdsaP256)?;
        let keys = vec![key.public().clone()];
        let env = signed(&key, b"artifact")?;
        let policy = AttestationPolicy {
            threshold: 1,
            expected_subject: Some(DigestRef::sha256_of(b"artifact")),
            expected_predicate_type: Some(predicate_types::TEST_RESULT_V01.into()),
            required_approvals: None,
        };
        let v = verify_envelope(&env, &keys, &policy)?;
        assert!(v.verified, "{:?}", v.checks);
        assert!(v.statement.is_some());

        let wrong_subject = AttestationPolicy {
            expected_subject: Some(DigestRef::sha256_of(b"other")),
            ..policy.clone()
        };
        let v = verify_envelope(&env, &keys, &wrong_subject)?;
        assert_eq!(
            v.failures().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["subject-digest"]
        );

        let wrong_type = AttestationPolicy {
            expected_predicate_type: Some(predicate_types::SLSA_PROVENANCE_V1.into()),
            ..policy.clone()
        };
        let v = verify_envelope(&env, &keys, &wrong_type)?;
        assert_eq!(
            v.failures().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["predicate-type"]
        );

        let approvals = AttestationPolicy {
            required_approvals: Some(1),
            ..policy.clone()
        };
        let v = verify_envelope(&env, &keys, &approvals)?;
        assert_eq!(
            v.failures().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["approvals"]
        );

        let other = PrivateKey::generate(GenerateAlgorithm::EcdsaP256)?;
        let v = verify_envelope(&env, &[other.public().clone()], &policy)?;
        assert!(!v.verified);
        assert!(
            v.statement.is_none(),
            "unauthenticated content must not be returned"
        );
        Ok(())
    }
}
