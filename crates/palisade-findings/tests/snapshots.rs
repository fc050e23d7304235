//! The normalised JSON of one fixture per format, and of all of them merged
//! (insta snapshots). The fixtures are written for these tests after each
//! tool's published output format.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use palisade_findings::{Format, Import, ImportOptions, import, merge};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn read(name: &str, format: Format) -> Import {
    let i = import(&fixture(name), name, None, &ImportOptions::default()).unwrap();
    assert_eq!(i.format, format, "{name} detected as {}", i.format);
    // Naming the format gives the same result as detecting it.
    let named = import(
        &fixture(name),
        name,
        Some(format),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(named, i);
    i
}

#[test]
fn sarif_semgrep() {
    insta::assert_json_snapshot!("sarif_semgrep", read("semgrep.sarif", Format::Sarif));
}

#[test]
fn trivy_image() {
    insta::assert_json_snapshot!("trivy_image", read("trivy.json", Format::Trivy));
}

#[test]
fn grype_image() {
    insta::assert_json_snapshot!("grype_image", read("grype.json", Format::Grype));
}

#[test]
fn osv_scanner_lockfile() {
    insta::assert_json_snapshot!(
        "osv_scanner_lockfile",
        read("osv-scanner.json", Format::OsvScanner)
    );
}

#[test]
fn zap_site() {
    insta::assert_json_snapshot!("zap_site", read("zap.json", Format::Zap));
}

#[test]
fn falco_events() {
    insta::assert_json_snapshot!("falco_events", read("falco.jsonl", Format::Falco));
}

#[test]
fn all_fixtures_merged() {
    let names = [
        ("semgrep.sarif", Format::Sarif),
        ("trivy.json", Format::Trivy),
        ("grype.json", Format::Grype),
        ("osv-scanner.json", Format::OsvScanner),
        ("zap.json", Format::Zap),
        ("falco.jsonl", Format::Falco),
    ];
    let raw: Vec<_> = names
        .iter()
        .flat_map(|(n, f)| read(n, *f).findings)
        .collect();
    let merged = merge(raw);
    insta::assert_json_snapshot!("all_fixtures_merged", merged);
}
