//! Fuzz the in-toto statement and provenance readers: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_attest::provenance::ProvenanceFacts;
use palisade_attest::statement::Statement;

fuzz_target!(|data: &[u8]| {
    if let Ok(st) = Statement::from_json(data) {
        let _ = ProvenanceFacts::from_statement(&st);
        let _ = st.to_json();
    }
});
