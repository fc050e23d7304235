//! Any bytes through format detection and every scanner adapter: parsing
//! may refuse the input, but must never panic; an accepted document must
//! merge, serialise, and diff against itself without panicking, and
//! re-importing the same bytes must give the same fingerprints.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_findings::{Format, ImportOptions, diff, import, merge};

fuzz_target!(|data: &[u8]| {
    let options = ImportOptions {
        max_bytes: 1 << 20,
        max_depth: 32,
    };
    let _ = palisade_findings::detect(data);
    let formats = std::iter::once(None).chain(Format::ALL.iter().copied().map(Some));
    for format in formats {
        let Ok(imported) = import(data, "fuzz", format, &options) else {
            continue;
        };
        assert_eq!(imported.findings.len(), imported.stats.imported);
        let merged = merge(imported.findings.clone());
        assert!(merged.findings.len() <= merged.raw);
        let _ = serde_json::to_vec(&merged).expect("findings serialise");
        let again = import(data, "fuzz", format, &options).expect("same bytes, same result");
        assert_eq!(again, imported);
        let d = diff(&merged.findings, &imported, "2024-01-01T00:00:00Z");
        assert!(d.resolved.is_empty() && d.new.is_empty());
    }
});
