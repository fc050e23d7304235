//! Rust binaries built with `cargo auditable`.
//!
//! The dependency tree is embedded as zlib-compressed JSON in a section named
//! `.dep-v0` (ELF and PE; `__DATA,.dep-v0` in Mach-O). The JSON is
//! `{"packages": [{"name", "version", "source", "kind", "dependencies":
//! [indices], "root"}]}`, where `source` is `crates.io`, `git`, `local`,
//! `registry` or another string, `kind` is `runtime` (default) or `build`,
//! and `dependencies` index into the same array. Decompression stops at
//! 8 MiB (the limit `rust-audit-info` uses), so a compression bomb costs
//! nothing. Build-time dependencies are not in the running binary: scope
//! excluded.

use std::io::Read;

use object::{Object, ObjectSection};
use palisade_inventory::{ComponentKind, Inventory, Scope};
use palisade_versions::Ecosystem;
use serde::Deserialize;

use crate::common::{Collector, Pkg, component};
use crate::error::{CatalogError, Position, Result};

/// Largest decompressed dependency list accepted.
pub const MAX_JSON: u64 = 8 << 20;

#[derive(Deserialize)]
struct Audit {
    packages: Vec<AuditPackage>,
}

#[derive(Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

/// Decompresses and parses the section contents.
pub fn parse_section(file: &str, compressed: &[u8]) -> Result<Inventory> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| {
            CatalogError::malformed(
                file,
                Position::Section(".dep-v0".into()),
                format!("zlib: {e}"),
            )
        })?;
    if json.len() as u64 > MAX_JSON {
        return Err(CatalogError::Limit {
            file: file.to_owned(),
            what: "decompressed .dep-v0 section".into(),
            limit: format!("{MAX_JSON} bytes"),
        });
    }
    let audit: Audit = serde_json::from_slice(&json).map_err(|e| {
        CatalogError::malformed(
            file,
            Position::Section(".dep-v0".into()),
            format!("JSON: {e}"),
        )
    })?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut refs = Vec::with_capacity(audit.packages.len());
    for p in &audit.packages {
        let mut comp = component(
            &Pkg {
                ty: "cargo",
                name: &p.name,
                version: Some(&p.version),
                ecosystem: Some(Ecosystem::CratesIo),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        if let Some(s) = &p.source {
            comp.properties.insert("cargo:source".into(), s.clone());
        }
        if p.kind.as_deref() == Some("build") {
            comp.scope = Some(Scope::Excluded);
        }
        if p.root {
            comp.kind = ComponentKind::Application;
        }
        refs.push(c.add(comp));
    }
    for (i, p) in audit.packages.iter().enumerate() {
        for d in &p.dependencies {
            match (refs.get(i), refs.get(*d)) {
                (Some(from), Some(to)) => c.edge(from, to),
                _ => {
                    return Err(CatalogError::malformed(
                        file,
                        Position::JsonPath(format!(".dep-v0 $.packages[{i}].dependencies")),
                        format!("index {d} is out of range ({} packages)", refs.len()),
                    ));
                }
            }
        }
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

/// Reads the `cargo auditable` section of a parsed executable, if any.
pub fn scan(file: &str, obj: &object::File<'_>) -> Result<Option<Inventory>> {
    let Some(section) = obj.section_by_name(".dep-v0") else {
        return Ok(None);
    };
    let data = section.data().map_err(|e| {
        CatalogError::malformed(
            file,
            Position::Section(".dep-v0".into()),
            format!("section unreadable: {e}"),
        )
    })?;
    parse_section(file, data).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(s: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(s).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn section_json_becomes_components_with_edges() {
        let json = br#"{"packages":[
            {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
            {"name":"serde","version":"1.0.200","source":"crates.io"},
            {"name":"cc","version":"1.0.90","source":"crates.io","kind":"build"}]}"#;
        let inv = parse_section("bin/app", &zlib(json)).unwrap();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:cargo/app@0.1.0",
                "pkg:cargo/cc@1.0.90",
                "pkg:cargo/serde@1.0.200"
            ]
        );
        assert_eq!(inv.components[1].scope, Some(Scope::Excluded));
        assert_eq!(inv.dependencies["pkg:cargo/app@0.1.0"].len(), 2);
    }

    #[test]
    fn bad_indices_and_bombs_are_errors() {
        let json = br#"{"packages":[{"name":"a","version":"1.0.0","dependencies":[5]}]}"#;
        let e = parse_section("b", &zlib(json)).unwrap_err().to_string();
        assert!(e.contains("index 5 is out of range"), "{e}");
        let bomb = zlib(&vec![b' '; (MAX_JSON + 10) as usize]);
        let e = parse_section("b", &bomb).unwrap_err().to_string();
        assert!(e.contains("exceeds the limit"), "{e}");
        let e = parse_section("b", b"not zlib").unwrap_err().to_string();
        assert!(e.starts_with("b: section .dep-v0: zlib"), "{e}");
    }
}
