//! Alpine's apk database, `/lib/apk/db/installed` (also Wolfi and
//! Chainguard images).
//!
//! Each package is a block of `X:value` lines, blocks separated by blank
//! lines. The fields read are `P` (name), `V` (version), `A` (arch), `o`
//! (origin, the source package), `L` (licence), `m` (maintainer), `C` (the
//! `Q1`-prefixed base64 SHA-1 of the package's control data), `D`
//! (dependencies) and `p` (what the package provides). Dependency tokens are
//! names or provided names (`so:libc.musl-x86_64.so.1`, `cmd:sh`) with an
//! optional version constraint; `!`-prefixed tokens are conflicts and are
//! not edges. File lists (`F`, `R`, `a`, `Z`) are skipped.

use std::collections::HashMap;

use base64::Engine;
use palisade_inventory::{Distro, Inventory, SourcePackage};

use crate::common::{Collector, Limits, Pkg, component, utf8};
use crate::error::{CatalogError, Result};
use crate::os::{distro_qualifier, ecosystem_for};

#[derive(Default)]
struct Block {
    line: usize,
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    origin: Option<String>,
    license: Option<String>,
    maintainer: Option<String>,
    checksum: Option<String>,
    depends: Vec<String>,
    provides: Vec<String>,
}

/// Strips a version constraint from a dependency or provides token.
fn token_name(t: &str) -> &str {
    let end = t.find(['=', '<', '>', '~']).unwrap_or(t.len());
    t.get(..end).unwrap_or(t)
}

/// Parses an apk `installed` database.
pub fn parse(
    file: &str,
    bytes: &[u8],
    distro: Option<&Distro>,
    limits: &Limits,
) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let mut blocks: Vec<Block> = Vec::new();
    let mut cur: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            if let Some(b) = cur.take() {
                blocks.push(b);
            }
            continue;
        }
        let b = cur.get_or_insert_with(|| Block {
            line: i + 1,
            ..Block::default()
        });
        let mut chars = line.chars();
        let key = chars.next();
        if chars.next() != Some(':') {
            return Err(CatalogError::at_line(
                file,
                i + 1,
                format!("{line:?} is not an `X:value` line"),
            ));
        }
        let value = line.get(2..).unwrap_or_default().to_owned();
        match key {
            Some('P') => b.name = Some(value),
            Some('V') => b.version = Some(value),
            Some('A') => b.arch = Some(value),
            Some('o') => b.origin = Some(value),
            Some('L') => b.license = Some(value),
            Some('m') => b.maintainer = Some(value),
            Some('C') => b.checksum = Some(value),
            Some('D') => b.depends = value.split_whitespace().map(str::to_owned).collect(),
            Some('p') => b.provides = value.split_whitespace().map(str::to_owned).collect(),
            _ => {}
        }
    }
    if let Some(b) = cur {
        blocks.push(b);
    }
    limits.check_components(file, blocks.len())?;
    let namespace = distro
        .map(|d| d.id.to_ascii_lowercase())
        .unwrap_or_else(|| "alpine".into());
    let distro_q = distro.map(distro_qualifier).unwrap_or_default();
    let ecosystem = distro.and_then(ecosystem_for);
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut provided: HashMap<String, Vec<String>> = HashMap::new();
    let mut refs = Vec::new();
    for b in &blocks {
        let (Some(name), Some(version)) = (&b.name, &b.version) else {
            return Err(CatalogError::at_line(
                file,
                b.line,
                "a package block lacks P: (name) or V: (version)",
            ));
        };
        let mut quals = Vec::new();
        if let Some(a) = &b.arch {
            quals.push(("arch", a.as_str()));
        }
        if let Some(o) = &b.origin {
            quals.push(("upstream", o.as_str()));
        }
        if !distro_q.is_empty() {
            quals.push(("distro", distro_q.as_str()));
        }
        let mut comp = component(
            &Pkg {
                ty: "apk",
                namespace: Some(&namespace),
                name,
                version: Some(version),
                qualifiers: quals,
                ecosystem,
                display_name: Some(name.clone()),
            },
            file,
            &mut warnings,
        );
        comp.source_package = Some(SourcePackage {
            name: b.origin.clone().unwrap_or_else(|| name.clone()),
            version: None,
        });
        comp.license = b.license.clone();
        comp.supplier = b.maintainer.clone();
        if let Some(sha1) = b
            .checksum
            .as_deref()
            .and_then(|c| c.strip_prefix("Q1"))
            .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        {
            comp.properties
                .insert("apk:control-sha1".into(), hex::encode(sha1));
        }
        let r = c.add(comp);
        provided.entry(name.clone()).or_default().push(r.clone());
        for p in &b.provides {
            provided
                .entry(token_name(p).to_owned())
                .or_default()
                .push(r.clone());
        }
        refs.push(r);
    }
    for (b, from) in blocks.iter().zip(&refs) {
        for d in &b.depends {
            if d.starts_with('!') {
                continue;
            }
            match provided.get(token_name(d)) {
                Some(targets) => {
                    for t in targets.iter().take(1) {
                        c.edge(from, t);
                    }
                }
                None => warnings.push(format!(
                    "{file}: line {}: dependency {d:?} of {} is provided by no installed package",
                    b.line,
                    b.name.as_deref().unwrap_or_default()
                )),
            }
        }
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const INSTALLED: &str = "C:Q1SJbtDp1vb6sAv4n7MZnEPsXsl6w=
P:musl
V:1.2.5-r0
A:x86_64
S:411862
I:667648
T:the musl c library (libc) implementation
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1

C:Q1aBcdEf0123456789abcdefghijk=
P:busybox
V:1.36.1-r29
A:x86_64
L:GPL-2.0-only
o:busybox
D:so:libc.musl-x86_64.so.1 !busybox-extras
p:cmd:busybox=1.36.1-r29 cmd:sh=1.36.1-r29
";

    #[test]
    fn packages_origins_and_provided_edges() {
        let distro = Distro {
            id: "alpine".into(),
            version_id: Some("3.20.1".into()),
            codename: None,
        };
        let inv = parse(
            "lib/apk/db/installed",
            INSTALLED.as_bytes(),
            Some(&distro),
            &Limits::default(),
        )
        .unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.1&upstream=busybox",
                "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.1&upstream=musl"
            ]
        );
        assert!(inv.dependencies[&inv.components[0].bom_ref].contains(&inv.components[1].bom_ref));
        assert_eq!(inv.components[1].license.as_deref(), Some("MIT"));
        assert_eq!(
            inv.components[1].ecosystem,
            Some(palisade_versions::Ecosystem::Alpine)
        );
        assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    }

    #[test]
    fn bad_lines_and_missing_fields() {
        let e = parse("installed", b"P:a\nnonsense\n", None, &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("installed: line 2: \"nonsense\" is not an `X:value` line")
        );
        let e = parse("installed", b"P:a\n\nV:1\n", None, &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("installed: line 1: a package block lacks P: (name) or V: (version)")
        );
    }
}
