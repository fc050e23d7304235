//! Any bytes straight into the SPDX tag-value reader, bypassing detection, with small
//! limits so that the size and depth checks are exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = palisade_sbom::Limits {
        max_bytes: 1 << 20,
        max_components: 10_000,
        max_edges: 100_000,
        max_depth: 32,
    };
    let _ = palisade_sbom::spdx::tagvalue::read(data, "fuzz", &limits);
});
