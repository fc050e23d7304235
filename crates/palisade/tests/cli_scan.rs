//! `palisade db import` then `palisade scan` of an SBOM, a lockfile and a
//! directory: the same findings whatever the input, JSON and SARIF output,
//! `--fail-on` exit codes, and clear errors.

#![cfg(all(feature = "advisory", feature = "sbom", feature = "catalog"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADVISORY, LOCKFILE, palisade_in as palisade};

use std::process::Output;

const SBOM: &str = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "components": [{"type": "library", "bom-ref": "l", "name": "lodash", "version": "4.17.15", "purl": "pkg:npm/lodash@4.17.15"}]}"#;

fn ids(out: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn scans_sboms_lockfiles_and_directories_alike() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("advisory.json"), ADVISORY).unwrap();
    let out = palisade(
        data.path(),
        &[
            "db",
            "import",
            work.path().join("advisory.json").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let project = work.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("package-lock.json"), LOCKFILE).unwrap();
    std::fs::write(work.path().join("bom.json"), SBOM).unwrap();

    for target in [
        work.path().join("bom.json"),
        project.join("package-lock.json"),
        project.clone(),
    ] {
        let out = palisade(
            data.path(),
            &["--format", "json", "scan", target.to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{}: {}",
            target.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(ids(&out), ["PAL-TEST-0001"], "{}", target.display());
    }
    // --fail-on: exit 1 when a finding is at or above it.
    let out = palisade(
        data.path(),
        &["scan", "--fail-on", "high", project.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Something that is neither an SBOM nor inventoriable: a clear error, exit 2.
    std::fs::write(work.path().join("notes.txt"), "hello").unwrap();
    let out = palisade(
        data.path(),
        &["scan", work.path().join("notes.txt").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.txt"), "{err}");
}
