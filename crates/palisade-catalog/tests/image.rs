//! Container images end to end: `docker save` archives and OCI layouts
//! (directory and tar) built in the test, with whiteouts, a symlinked
//! `os-release`, a hostile path, and damaged variants.

// Helpers below are test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use palisade_catalog::{CatalogError, CatalogOptions, Inventory, catalog_path};

fn run(path: &Path) -> Result<Inventory, CatalogError> {
    let mut calls = 0u32;
    let r = catalog_path(path, &CatalogOptions::default(), &mut |_| calls += 1);
    assert!(calls > 0, "progress was never reported");
    r
}

fn purls(inv: &Inventory) -> Vec<String> {
    inv.components
        .iter()
        .filter_map(|c| c.purl.clone())
        .collect()
}

fn check_common(inv: &Inventory) {
    assert_eq!(
        purls(inv),
        [
            "pkg:cargo/itoa@1.0.11",
            "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12",
            "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u6?arch=amd64&distro=debian-12",
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc",
        ],
        "the whited-out lockfiles must be gone: {:#?}",
        inv.warnings
    );
    let layers = layers();
    let id = |i: usize| Some(sha256(&layers[i]));
    let by = |n: &str| inv.components.iter().find(|c| c.name == n).unwrap();
    assert_eq!(by("libc6").layer, id(0));
    assert_eq!(by("bash").layer, id(0));
    assert_eq!(by("curl").layer, id(1));
    assert_eq!(by("itoa").layer, id(2));
    assert_eq!(
        by("itoa").locations.iter().collect::<Vec<_>>(),
        ["/srv/Cargo.lock"]
    );
    assert_eq!(
        by("libc6").source_package.as_ref().map(|s| s.name.as_str()),
        Some("glibc")
    );
    let distro = inv.metadata.distro.as_ref().unwrap();
    assert_eq!(
        (distro.id.as_str(), distro.version_id.as_deref()),
        ("debian", Some("12"))
    );
    assert!(inv.dependencies[&by("curl").bom_ref].contains(&by("libc6").bom_ref));
    assert!(
        inv.warnings
            .iter()
            .any(|w| w.contains("\"../../escape/Cargo.lock\" has a `..` component")),
        "{:#?}",
        inv.warnings
    );
}

#[test]
fn docker_save_archive() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("app.tar");
    std::fs::write(&p, docker_save()).unwrap();
    let inv = run(&p).unwrap();
    check_common(&inv);
    let subject = inv.metadata.subject.as_ref().unwrap();
    assert_eq!(subject.name, "example/app:1.0");
    assert_eq!(subject.version.as_deref(), Some("1.0"));
    assert!(
        subject
            .purl
            .as_deref()
            .unwrap()
            .starts_with("pkg:oci/app@sha256%3A")
    );
    // Nothing was written next to the archive.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn oci_layout_directory_and_tar() {
    let dir = tempfile::tempdir().unwrap();
    let (files, manifest_digest) = oci_layout();
    for (p, d) in &files {
        let full = dir.path().join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, d).unwrap();
    }
    let inv = run(dir.path()).unwrap();
    check_common(&inv);
    let subject = inv.metadata.subject.as_ref().unwrap();
    assert_eq!(subject.digests["sha256"], manifest_digest[7..]);

    let (t, _) = oci_tar();
    let p = dir.path().join("image.tar");
    std::fs::write(&p, t).unwrap();
    let inv2 = run(&p).unwrap();
    assert_eq!(purls(&inv), purls(&inv2));
}

#[test]
fn truncated_archive_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let full = docker_save();
    // Cut inside the first header, inside a layer, and inside manifest.json.
    for cut in [100usize, 1500, full.len() / 3, full.len() - 2100] {
        let p = dir.path().join(format!("cut{cut}.tar"));
        std::fs::write(&p, &full[..cut]).unwrap();
        let err = run_no_progress(&p).unwrap_err().to_string();
        assert!(err.contains(&format!("cut{cut}.tar")), "{err}");
    }
}

fn run_no_progress(path: &Path) -> Result<Inventory, CatalogError> {
    catalog_path(path, &CatalogOptions::default(), &mut |_| {})
}

#[test]
fn corrupted_layer_fails_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = oci_layout();
    for (p, d) in &files {
        let full = dir.path().join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        let mut d = d.clone();
        // Flip one byte in the last layer's gzip trailer region (its CRC),
        // leaving the tar readable.
        if p.starts_with("blobs/") && d.starts_with(&[0x1f, 0x8b]) && d.len() < 200 {
            let n = d.len();
            d[n - 6] ^= 0xff;
        }
        std::fs::write(full, d).unwrap();
    }
    let err = run_no_progress(dir.path()).unwrap_err().to_string();
    assert!(err.contains("blobs/sha256/"), "{err}");
}

#[test]
fn decompression_bombs_stop_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("app.tar");
    std::fs::write(&p, docker_save()).unwrap();
    let mut opts = CatalogOptions::default();
    opts.limits.max_layer_bytes = 2048;
    let err = catalog_path(&p, &opts, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("beyond the limit of 2048 bytes"), "{err}");
}
