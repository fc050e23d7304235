//! Snapshots of what the readers make of the handwritten fixtures and of
//! every document the writers emit for them, so that any change to the
//! mapping or the output bytes is reviewed (`cargo insta review`).

use std::path::Path;

use palisade_sbom::{Format, WriteOptions};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap_or_default()
}

fn options() -> WriteOptions {
    // A fixed tool version keeps the snapshots stable across releases.
    WriteOptions {
        tool_version: "0.0.0-test".to_owned(),
        ..WriteOptions::default()
    }
}

#[test]
fn cyclonedx_fixture() {
    let inv = match palisade_sbom::read(&fixture("small.cdx.json"), "small.cdx.json") {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    insta::assert_json_snapshot!("cdx_inventory", inv);
    for &format in Format::ALL {
        let out = palisade_sbom::write(&inv, format, &options()).unwrap_or_default();
        insta::assert_snapshot!(format!("cdx_as_{format}"), String::from_utf8_lossy(&out));
    }
}

#[test]
fn spdx_fixture() {
    let inv = match palisade_sbom::read(&fixture("small.spdx"), "small.spdx") {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    insta::assert_json_snapshot!("spdx_inventory", inv);
    for &format in Format::ALL {
        let out = palisade_sbom::write(&inv, format, &options()).unwrap_or_default();
        insta::assert_snapshot!(format!("spdx_as_{format}"), String::from_utf8_lossy(&out));
    }
}
