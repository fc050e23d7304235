//! Go buildinfo and cargo-auditable readers on arbitrary executables and
//! section contents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_catalog::Limits;
use palisade_catalog::binary::{auditable, scan};

fuzz_target!(|data: &[u8]| {
    let _ = scan("fuzz", data, &Limits::default());
    let _ = auditable::parse_section("fuzz", data);
});
