//! Any bytes as a VEX document: detection and parsing may refuse the input
//! but must never panic; an accepted document's statements must apply to
//! findings, and export in every format to documents that read back. The
//! same bytes also go through the EPSS CSV and KEV catalogue parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_risk::vex::{self, ExportOptions, VexSubject};

fuzz_target!(|data: &[u8]| {
    let _ = palisade_risk::epss::parse_csv(data);
    let _ = palisade_risk::kev::parse_catalog(data);
    let _ = vex::detect_format(data);
    let Ok(doc) = vex::parse(data) else {
        return;
    };
    let findings: Vec<VexSubject> = doc
        .statements
        .iter()
        .take(16)
        .map(|s| VexSubject {
            ids: std::iter::once(s.vulnerability.clone())
                .chain(s.aliases.iter().cloned())
                .collect(),
            purl: Some(s.subcomponent.clone().unwrap_or_else(|| s.product.clone())),
            component_ref: None,
        })
        .collect();
    let artifacts: Vec<&str> = doc.statements.iter().take(4).map(|s| s.product.as_str()).collect();
    let _ = vex::apply(&doc.statements, &findings, &artifacts);
    let options = ExportOptions::at("2025-01-01T00:00:00Z");
    for export in [vex::export_openvex, vex::export_cyclonedx, vex::export_csaf] {
        let exported = export(&doc.statements, &options).expect("valid options export");
        vex::parse(exported.json.as_bytes()).expect("an export reads back");
    }
});
