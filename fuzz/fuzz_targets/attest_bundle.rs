//! Fuzz the Sigstore bundle verification entry point: never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_attest::sigstore::{ArtifactInput, BundleVerifier, SignerPolicy};

static VERIFIER: OnceLock<Option<BundleVerifier>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some(verifier) = VERIFIER.get_or_init(|| BundleVerifier::public_good().ok()) else {
        return;
    };
    let policy = SignerPolicy::Identity {
        identity: "a@example.com".into(),
        issuer: "https://accounts.example.com".into(),
    };
    let _ = verifier.verify(data, ArtifactInput::Bytes(b"artifact"), &policy);
});
