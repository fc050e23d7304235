//! Fuzz the DSSE envelope parser and verifier: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_attest::dsse::Envelope;
use palisade_attest::keys::{GenerateAlgorithm, PrivateKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::from_json(data)
        && let Ok(key) = PrivateKey::generate(GenerateAlgorithm::Ed25519)
    {
        let _ = env.verify(&[key.public().clone()], 1);
        let _ = palisade_attest::attestation::verify_envelope(&env, &[key.public().clone()], &Default::default());
    }
});
