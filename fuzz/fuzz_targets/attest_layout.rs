//! Fuzz the in-toto layout and link readers and the rule engine: never a panic.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use palisade_attest::keys::{GenerateAlgorithm, PrivateKey};
use palisade_attest::layout::{NoInspections, Signed, fnmatch, verify_layout};

fuzz_target!(|data: &[u8]| {
    let _ = Signed::from_json(data);
    if let Ok(key) = PrivateKey::generate(GenerateAlgorithm::Ed25519) {
        let links = BTreeMap::from([("step.00000000.link".to_string(), data.to_vec())]);
        let _ = verify_layout(data, &[key.public().clone()], &links, palisade_attest::time::OffsetDateTime::UNIX_EPOCH, &mut NoInspections);
    }
    let text = String::from_utf8_lossy(data);
    if let Some((p, n)) = text.split_once('\n') {
        let _ = fnmatch(p, n);
    }
});
