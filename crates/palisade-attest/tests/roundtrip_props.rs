//! Property tests: round trips of envelopes, statements and keys, and
//! hostile inputs that must be refused without a panic.

use palisade_attest::dsse::{Envelope, decode_base64, encode_base64, pae};
use palisade_attest::keys::{GenerateAlgorithm, PrivateKey};
use palisade_attest::statement::{DigestRef, ResourceDescriptor, Statement};
use palisade_attest::{AttestationPolicy, PublicKey, verify_attestation};
use proptest::prelude::*;
use std::sync::OnceLock;

fn key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| match PrivateKey::generate(GenerateAlgorithm::Ed25519) {
        Ok(k) => k,
        Err(e) => unreachable!("key generation failed: {e}"),
    })
}

proptest! {
    #[test]
    fn envelope_round_trips_and_verifies(payload in proptest::collection::vec(any::<u8>(), 0..512), ptype in "[a-z/+.]{1,40}") {
        let env = Envelope::sign(&ptype, &payload, &[key()]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let json = env.to_json().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = Envelope::from_json(json.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &env);
        prop_assert_eq!(back.decoded_payload().ok(), Some(payload.clone()));
        let v = back.verify(&[key().public().clone()], 1).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(v.verified);
        // PAE is injective on the length prefixes.
        let p = pae(&ptype, &payload);
        let header = format!("DSSEv1 {} {} {} ", ptype.len(), ptype, payload.len());
        prop_assert!(p.starts_with(header.as_bytes()));
    }

    #[test]
    fn base64_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        prop_assert_eq!(decode_base64(&encode_base64(&bytes), "t").ok(), Some(bytes));
    }

    #[test]
    fn statement_round_trips(names in proptest::collection::vec("[a-zA-Z0-9._/-]{0,20}", 1..5), data in any::<Vec<u8>>()) {
        let subjects: Vec<ResourceDescriptor> = names.iter().map(|n| ResourceDescriptor::with_digest(n, &DigestRef::sha256_of(&data))).collect();
        let st = Statement::new(subjects, "https://example.com/p/v1", serde_json::json!({"k": names}));
        let json = st.to_json().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = Statement::from_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, st);
    }

    #[test]
    fn hostile_json_is_refused_without_panic(s in ".{0,200}") {
        let _ = Envelope::from_json(s.as_bytes());
        let _ = Statement::from_json(s.as_bytes());
        let _ = PublicKey::from_bytes(s.as_bytes(), None);
        let _ = PrivateKey::from_bytes(s.as_bytes(), None);
        let _ = verify_attestation(s.as_bytes(), &[key().public().clone()], &AttestationPolicy::default());
        let _ = palisade_attest::layout::Signed::from_json(s.as_bytes());
    }
}

#[test]
fn huge_and_malformed_envelopes_are_clear_errors() {
    let keys = [key().public().clone()];
    // Over the size limit.
    let huge = format!(
        "{{\"payload\":\"{}\",\"payloadType\":\"t\",\"signatures\":[]}}",
        "A".repeat(17 * 1024 * 1024)
    );
    assert!(matches!(
        verify_attestation(huge.as_bytes(), &keys, &AttestationPolicy::default()),
        Err(palisade_attest::Error::TooLarge { .. })
    ));
    // Too many signatures.
    let sigs = vec![serde_json::json!({"keyid": "k", "sig": "AAAA"}); 1000];
    let many =
        serde_json::json!({"payload": "", "payloadType": "t", "signatures": sigs}).to_string();
    assert!(verify_attestation(many.as_bytes(), &keys, &AttestationPolicy::default()).is_err());
    // Malformed base64 payload.
    let bad = r#"{"payload":"!!!","payloadType":"t","signatures":[{"keyid":"","sig":"AAAA"}]}"#;
    assert!(matches!(
        verify_attestation(bad.as_bytes(), &keys, &AttestationPolicy::default()),
        Err(palisade_attest::Error::Base64 { .. })
    ));
    // A wrong key type for the scheme, and an RSA key that is too small.
    let ed = key().public().spki_der().to_vec();
    assert!(
        PublicKey::from_spki_der(&ed, Some(palisade_attest::Scheme::EcdsaSha2Nistp256)).is_err()
    );
}
