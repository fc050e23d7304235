//! The example configuration in docs/scanners.md loads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_scanners::{Config, TargetKind};

#[test]
fn the_documented_example_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scanners.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let len = doc[start..].find("```").expect("its end");
    let c = Config::parse(&doc[start..start + len], "docs/scanners.md")
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = c.scanners.iter().map(|s| s.name.as_str()).collect();
    for want in [
        "semgrep",
        "trivy-fs",
        "trivy-image",
        "grype",
        "osv-scanner",
        "zap-baseline",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let dir: Vec<&str> = c
        .select(TargetKind::Directory, &[])
        .unwrap()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert!(!dir.contains(&"zap-baseline"), "disabled by default");
}
