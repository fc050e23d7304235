//! The CISA KEV catalogue and EPSS files: the real KEV catalogue and the
//! EPSS format samples of the corpus, and our own EPSS fixture
//! (`fixtures/epss_scores-2025-03-14.csv`, in FIRST's exact format; its
//! scores are illustrative, not FIRST's published values).
//!
//! The corpus is found through `PALISADE_CORPUS` (default: the shared
//! corpus beside the repository); without it those tests print `SKIPPED`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;

use palisade_risk::epss::{self, EpssError};
use palisade_risk::kev::{self, RansomwareUse};
use time::macros::date;

fn corpus_file(rel: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        });
    let path = dir.join(rel);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("SKIPPED: {} not found", path.display());
        None
    }
}

#[test]
fn kev_catalogue_count_equals_its_declared_count() {
    let Some(path) = corpus_file("kev/known_exploited_vulnerabilities.json") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let declared = raw["count"].as_u64().unwrap() as usize;
    let catalog = kev::parse_catalog(&bytes).unwrap();
    eprintln!(
        "KEV {} ({}): {} entries, declared {declared}",
        catalog.catalog_version,
        catalog.date_released,
        catalog.len()
    );
    assert_eq!(catalog.len(), declared);
    assert_eq!(catalog.count, declared);
    assert!(catalog.warnings.is_empty(), "{:?}", catalog.warnings);
    assert_eq!(
        catalog.title,
        "CISA Catalog of Known Exploited Vulnerabilities"
    );
    // Every entry is indexed, under its own id, and has its dates (a few
    // real entries have a due date before their date added: kept as written).
    let mut due_before_added = Vec::new();
    for e in &catalog.vulnerabilities {
        assert_eq!(catalog.get(&e.cve_id).map(|x| &x.cve_id), Some(&e.cve_id));
        if e.due_date.is_some_and(|d| d < e.date_added) {
            due_before_added.push(e.cve_id.as_str());
        }
    }
    eprintln!("entries due before they were added: {due_before_added:?}");
    let with_due = catalog
        .vulnerabilities
        .iter()
        .filter(|e| e.due_date.is_some())
        .count();
    let raw_with_due = raw["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["dueDate"].as_str().is_some_and(|d| !d.trim().is_empty()))
        .count();
    assert_eq!(with_due, raw_with_due);
    let log4shell = catalog.get("CVE-2021-44228").unwrap();
    assert_eq!(log4shell.vendor_project, "Apache");
    assert_eq!(log4shell.date_added, date!(2021 - 12 - 10));
    assert_eq!(
        log4shell.known_ransomware_campaign_use,
        RansomwareUse::Known
    );
    let known = catalog
        .vulnerabilities
        .iter()
        .filter(|e| e.known_ransomware_campaign_use == RansomwareUse::Known)
        .count();
    let raw_known = raw["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["knownRansomwareCampaignUse"] == "Known")
        .count();
    assert_eq!(known, raw_known);
}

#[test]
fn epss_format_samples_of_the_corpus() {
    let base = "extra/epss/vunnel-epss-format-samples/tests/unit/providers/epss/test-fixtures";
    let Some(example) = corpus_file(&format!("{base}/example-1.csv")) else {
        return;
    };
    let d = epss::parse_csv(&std::fs::read(example).unwrap()).unwrap();
    assert_eq!(d.len(), 5);
    assert_eq!(d.model_version.as_deref(), Some("v2023.03.01"));
    assert_eq!(d.score_date.as_deref(), Some("2025-02-20T00:00:00+0000"));
    let s = d.get("CVE-1999-0005").unwrap();
    assert_eq!((s.epss, s.percentile), (0.91963, 0.99214));

    if let Some(p) = corpus_file(&format!("{base}/missing-date.csv")) {
        let d = epss::parse_csv(&std::fs::read(p).unwrap()).unwrap();
        assert_eq!((d.len(), d.score_date.as_deref()), (5, None));
        assert_eq!(d.model_version.as_deref(), Some("v2023.03.01"));
    }
    if let Some(p) = corpus_file(&format!("{base}/invalid-header.csv")) {
        let e = epss::parse_csv(&std::fs::read(p).unwrap()).unwrap_err();
        assert!(matches!(e, EpssError::BadHeader { line: 2, .. }), "{e}");
    }
}

#[test]
fn epss_fixture_plain_and_gzipped() {
    let text = include_bytes!("fixtures/epss_scores-2025-03-14.csv");
    let d = epss::parse_csv(text).unwrap();
    assert_eq!(d.len(), 8);
    assert_eq!(d.model_version.as_deref(), Some("v2025.03.14"));
    assert_eq!(d.get("cve-2021-44228").unwrap().epss, 0.94358);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(text).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(epss::parse_csv(&gz).unwrap(), d);
    // A truncated download is an error, not a shorter list.
    let e = epss::parse_csv(&gz[..gz.len() / 2]).unwrap_err();
    assert!(matches!(e, EpssError::Gzip(_)), "{e}");
}
