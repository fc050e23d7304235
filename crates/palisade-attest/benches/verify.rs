//! Verification throughput: DSSE envelopes (Ed25519, ECDSA P-256) and a
//! Sigstore bundle from the corpus (skipped visibly when it is absent).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_attest::attestation::{AttestationPolicy, sign_statement, verify_envelope};
use palisade_attest::keys::{GenerateAlgorithm, PrivateKey};
use palisade_attest::sigstore::{ArtifactInput, BundleVerifier, SignerPolicy};
use palisade_attest::statement::{DigestRef, ResourceDescriptor, Statement, predicate_types};

fn dsse(c: &mut Criterion) {
    for (name, alg) in [
        ("ed25519", GenerateAlgorithm::Ed25519),
        ("ecdsa-p256", GenerateAlgorithm::EcdsaP256),
    ] {
        let key = PrivateKey::generate(alg).expect("key");
        let st = Statement::new(
            vec![ResourceDescriptor::with_digest(
                "app",
                &DigestRef::sha256_of(b"artifact"),
            )],
            predicate_types::SLSA_PROVENANCE_V1,
            serde_json::json!({"buildDefinition": {"buildType": "x"}, "runDetails": {"builder": {"id": "y"}}}),
        );
        let env = sign_statement(&st, &[&key]).expect("sign");
        let json = env.to_json().expect("json");
        let keys = vec![key.public().clone()];
        let policy = AttestationPolicy {
            threshold: 1,
            expected_subject: Some(DigestRef::sha256_of(b"artifact")),
            expected_predicate_type: Some(predicate_types::SLSA_PROVENANCE_V1.into()),
            required_approvals: None,
        };
        c.bench_function(&format!("dsse_verify_{name}"), |b| {
            b.iter(|| {
                let v = palisade_attest::verify_attestation(json.as_bytes(), &keys, &policy)
                    .expect("verify");
                assert!(v.verified);
            })
        });
        let _ = verify_envelope;
    }
}

fn bundle(c: &mut Criterion) {
    let base = std::env::var("PALISADE_CORPUS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus").to_string()
    });
    let dir = std::path::Path::new(&base).join("sigstore/bundle-verify");
    let (Ok(bundle), Ok(artifact), Ok(root)) = (
        std::fs::read(dir.join("happy-path-v0.3/bundle.sigstore.json")),
        std::fs::read(dir.join("a.txt")),
        std::fs::read(dir.join("../trust/public-good-trusted_root.json")),
    ) else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        return;
    };
    let verifier = BundleVerifier::new(&root).expect("root");
    let policy = SignerPolicy::Identity {
        identity: "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main".into(),
        issuer: "https://token.actions.githubusercontent.com".into(),
    };
    c.bench_function("sigstore_bundle_verify_v03", |b| {
        b.iter(|| {
            let v = verifier.verify(&bundle, ArtifactInput::Bytes(&artifact), &policy);
            assert!(v.verified);
        })
    });
}

criterion_group!(benches, dsse, bundle);
criterion_main!(benches);
