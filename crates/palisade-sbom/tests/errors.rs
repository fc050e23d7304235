//! Bad input: truncated and malformed documents must give an error that names
//! the file and a position (line and column, and for JSON the path), never a
//! panic; limits must hold.

use std::path::{Path, PathBuf};

use palisade_sbom::{Limits, ReadOptions, SbomError};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap_or_default()
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

fn err(bytes: &[u8], name: &str) -> String {
    match palisade_sbom::read(bytes, name) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn truncated_json_names_file_line_column_and_path() {
    let doc = fixture("small.cdx.json");
    let cut = doc.get(..doc.len() / 2).unwrap_or_default();
    let e = err(cut, "half.cdx.json");
    assert!(e.starts_with("half.cdx.json: line "), "{e}");
    assert!(e.contains("column") && e.contains("(at $"), "{e}");
}

#[test]
fn wrong_types_name_the_json_path() {
    let doc =
        br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a"},{"name":7}]}"#;
    let e = err(doc, "bad.json");
    assert!(e.contains("$.components[1].name"), "{e}");
    assert!(e.contains("invalid type"), "{e}");
    let doc = br#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"a","checksums":{"x":1}}]}"#;
    let e = err(doc, "bad.spdx.json");
    assert!(e.contains("$.packages[0].checksums"), "{e}");
}

#[test]
fn malformed_xml_names_the_line() {
    let doc = b"<?xml version=\"1.0\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\">\n<components>\n<component type=\"library\"><name>a</nome></component>\n</components></bom>";
    let e = err(doc, "bad.xml");
    assert!(e.starts_with("bad.xml: line 4"), "{e}");
}

#[test]
fn tag_value_errors_name_the_line() {
    let doc = fixture("small.spdx");
    let text = String::from_utf8_lossy(&doc).replace("PackageName: mystery", "PackageName mystery");
    let e = err(text.as_bytes(), "bad.spdx");
    assert!(e.starts_with("bad.spdx: line "), "{e}");
    assert!(e.contains("expected `Tag: value`"), "{e}");
}

#[test]
fn unsupported_and_unknown_inputs_are_refused_clearly() {
    assert!(err(b"", "empty").contains("empty"));
    assert!(err(b"[1,2]", "array").contains("JSON array"));
    let e = err(br#"{"spdxVersion":"SPDX-3.0","packages":[]}"#, "three.json");
    assert!(e.contains("unsupported SPDX 3.0"), "{e}");
    let e = err(
        br#"{"bomFormat":"CycloneDX","specVersion":"2.0"}"#,
        "future.json",
    );
    assert!(e.contains("unsupported cyclonedx-json 2.0"), "{e}");
}

#[test]
fn limits_hold() {
    let tight = ReadOptions {
        limits: Limits {
            max_components: 2,
            ..Limits::default()
        },
    };
    let r = palisade_sbom::read_with(&fixture("small.cdx.json"), "small", &tight);
    assert!(matches!(r, Err(SbomError::Limit { .. })), "{r:?}");
    let tiny = ReadOptions {
        limits: Limits {
            max_bytes: 10,
            ..Limits::default()
        },
    };
    let r = palisade_sbom::read_with(&fixture("small.spdx"), "small", &tiny);
    assert!(matches!(r, Err(SbomError::Limit { .. })), "{r:?}");
    // Component nesting in JSON beyond the depth limit.
    let mut deep = String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":["#);
    for _ in 0..40 {
        deep.push_str(r#"{"name":"x","components":["#);
    }
    for _ in 0..40 {
        deep.push_str("]}");
    }
    deep.push_str("]}");
    let shallow = ReadOptions {
        limits: Limits {
            max_depth: 16,
            ..Limits::default()
        },
    };
    let r = palisade_sbom::read_with(deep.as_bytes(), "deep", &shallow);
    assert!(matches!(r, Err(SbomError::Limit { .. })), "{r:?}");
    // Pathological nesting in a member Palisade does not read is skipped
    // without recursion (no stack overflow), and in one it reads, serde_json's
    // recursion limit refuses it with a position.
    let skipped = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(palisade_sbom::read(skipped.as_bytes(), "skipped").is_ok());
    let read = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{}"#,
        r#"{"name":"x","components":["#.repeat(10_000)
    );
    let e = palisade_sbom::read(read.as_bytes(), "nested")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.starts_with("nested: line 1, column"), "{e}");
}

/// Every prefix of real documents (at many cut points) is refused with a
/// positioned error or read; none panics.
#[test]
fn truncating_real_documents_never_panics() {
    let Some(root) = corpus() else { return };
    let files = [
        "sbom/cyclonedx/laravel-7.12.0/bom.1.4.json",
        "sbom/cyclonedx/laravel-7.12.0/bom.1.4.xml",
        "sbom/spdx/software/example6/spdx2.2/example6-lib.spdx",
        "sbom/spdx/software/example9/spdx2.2/appbomination.spdx.json",
    ];
    for rel in files {
        let Ok(bytes) = std::fs::read(root.join(rel)) else {
            continue;
        };
        let step = (bytes.len() / 97).max(1);
        let mut cut = 1;
        while cut < bytes.len() {
            let part = bytes.get(..cut).unwrap_or_default();
            if let Err(e) = palisade_sbom::read(part, rel) {
                let msg = e.to_string();
                assert!(msg.starts_with(rel), "{msg}");
            }
            cut += step;
        }
    }
}
