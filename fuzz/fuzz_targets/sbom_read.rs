//! Any bytes through format detection and whichever reader it picks: the
//! reader may refuse the input, but must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_sbom::read(data, "fuzz");
});
