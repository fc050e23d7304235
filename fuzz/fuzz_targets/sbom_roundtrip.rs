//! Whatever reads successfully must write in every format, and reading the
//! written document must succeed and give the same components.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(inv) = palisade_sbom::read(data, "fuzz") else { return };
    for format in palisade_sbom::Format::ALL {
        let written = match palisade_sbom::write(&inv, *format, &palisade_sbom::WriteOptions::default()) {
            Ok(w) => w,
            Err(e) => panic!("cannot write {format}: {e}"),
        };
        let again = match palisade_sbom::read(&written, "written") {
            Ok(i) => i,
            Err(e) => panic!("cannot read back {format}: {e}"),
        };
        let names = |i: &palisade_sbom::Inventory| i.components.iter().map(|c| (c.bom_ref.clone(), c.purl.clone())).collect::<Vec<_>>();
        assert_eq!(names(&inv), names(&again), "{format}");
    }
});
