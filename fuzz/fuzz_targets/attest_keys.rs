//! Fuzz the key readers (PEM, DER SPKI, securesystemslib JSON): never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_attest::{PrivateKey, PublicKey};

fuzz_target!(|data: &[u8]| {
    let _ = PublicKey::from_bytes(data, None);
    let _ = PublicKey::from_spki_der(data, None);
    let _ = PrivateKey::from_bytes(data, None);
});
