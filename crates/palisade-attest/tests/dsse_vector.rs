//! The DSSE specification's test vector (transcribed in the corpus) verifies,
//! its PAE is byte-exact, and it fails when tampered.

mod common;

use palisade_attest::PublicKey;
use palisade_attest::dsse::{Envelope, pae};

#[test]
fn dsse_spec_vector_verifies() {
    let Some(dir) = common::corpus("extra/attestation/dsse") else {
        return;
    };
    let doc: serde_json::Value =
        serde_json::from_slice(&common::read(&dir.join("dsse-spec-test-vector.json")))
            .unwrap_or_default();
    let pem = doc
        .pointer("/key/public_key_pem")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let key = PublicKey::from_pem(pem.as_bytes(), None);
    assert!(key.is_ok(), "{key:?}");
    let Ok(key) = key else { return };
    let env = serde_json::to_vec(doc.get("envelope").unwrap_or(&serde_json::Value::Null))
        .unwrap_or_default();
    let env = Envelope::from_json(&env);
    assert!(env.is_ok(), "{env:?}");
    let Ok(env) = env else { return };
    let payload = env.decoded_payload().unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(&pae(&env.payload_type, &payload)),
        doc.get("pae").and_then(|v| v.as_str()).unwrap_or("missing")
    );
    let v = env.verify(std::slice::from_ref(&key), 1);
    assert!(v.as_ref().is_ok_and(|v| v.verified), "{v:?}");
    let mut bad = env.clone();
    bad.payload_type.push('x');
    assert!(
        bad.verify(std::slice::from_ref(&key), 1)
            .is_ok_and(|v| !v.verified)
    );
    let mut bad = env;
    bad.payload = "aGVsbG8gd29ybGQh".into();
    assert!(bad.verify(&[key], 1).is_ok_and(|v| !v.verified));
}
