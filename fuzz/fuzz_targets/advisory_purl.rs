//! Any string as a purl: the mapping to OSV coordinates may refuse it, but
//! must never panic, and name normalisation must be idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_inventory::purl;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = purl::parse(s) {
        if let Some(eco) = p.ecosystem {
            let once = purl::normalize_name(eco, &p.name).into_owned();
            assert_eq!(purl::normalize_name(eco, &once), once);
        }
    }
});
