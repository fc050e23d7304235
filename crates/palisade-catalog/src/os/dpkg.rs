//! Debian's dpkg database: `/var/lib/dpkg/status`, and the per-package files
//! in `/var/lib/dpkg/status.d/` that distroless images ship instead.
//!
//! Both are deb822 paragraphs (`Field: value`, continuation lines indented,
//! paragraphs separated by blank lines). A package is included when its
//! `Status` says its files are on disk (`installed`, `unpacked`,
//! `half-configured`, `triggers-awaited`, `triggers-pending`); removed
//! packages whose configuration remains (`config-files`) and `not-installed`
//! entries are counted in one warning. `status.d` files carry no `Status`
//! and every paragraph is installed.
//!
//! `Source: name (version)` gives the source package (the version only when
//! it differs from the binary's). Edges come from `Depends` and
//! `Pre-Depends`: for each alternative group the first installed
//! alternative (by name or by `Provides`) is the edge; architecture
//! qualifiers (`:any`, `:amd64`) are dropped.

use std::collections::{BTreeMap, HashMap};

use palisade_inventory::{Distro, Inventory, SourcePackage};

use crate::common::{Collector, Limits, Pkg, component, utf8};
use crate::error::{CatalogError, Result};
use crate::os::{distro_qualifier, ecosystem_for};

/// One deb822 paragraph: its first line and its fields.
#[derive(Debug, Default)]
pub struct Paragraph {
    /// 1-based line of the paragraph's first field.
    pub line: usize,
    /// Field name -> value (continuation lines joined with `\n`).
    pub fields: BTreeMap<String, String>,
}

/// Splits deb822 text into paragraphs.
pub fn paragraphs(file: &str, text: &str) -> Result<Vec<Paragraph>> {
    let mut out = Vec::new();
    let mut cur: Option<Paragraph> = None;
    let mut last_key: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if let Some(p) = cur.take() {
                out.push(p);
            }
            last_key = None;
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            let (Some(p), Some(k)) = (cur.as_mut(), last_key.as_ref()) else {
                return Err(CatalogError::at_line(
                    file,
                    i + 1,
                    "a continuation line precedes any field",
                ));
            };
            if let Some(v) = p.fields.get_mut(k) {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(CatalogError::at_line(
                file,
                i + 1,
                format!("{line:?} is not a `Field: value` line"),
            ));
        };
        let p = cur.get_or_insert_with(|| Paragraph {
            line: i + 1,
            ..Paragraph::default()
        });
        p.fields.insert(k.trim().to_owned(), v.trim().to_owned());
        last_key = Some(k.trim().to_owned());
    }
    if let Some(p) = cur {
        out.push(p);
    }
    Ok(out)
}

/// `name (version)` or `name`.
pub(crate) fn name_paren_version(s: &str) -> (String, Option<String>) {
    match s.split_once('(') {
        Some((n, rest)) => (
            n.trim().to_owned(),
            Some(rest.trim_end().trim_end_matches(')').trim().to_owned()),
        ),
        None => (s.trim().to_owned(), None),
    }
}

/// Parses a dpkg `status` file or one `status.d` entry.
pub fn parse(
    file: &str,
    bytes: &[u8],
    distro: Option<&Distro>,
    limits: &Limits,
) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let paras = paragraphs(file, text)?;
    limits.check_components(file, paras.len())?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let namespace = distro
        .map(|d| d.id.to_ascii_lowercase())
        .unwrap_or_else(|| "debian".into());
    let distro_q = distro.map(distro_qualifier).unwrap_or_default();
    let ecosystem = distro.and_then(ecosystem_for);
    let mut skipped = 0usize;
    let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
    let mut deps: Vec<(String, String, usize)> = Vec::new();
    for p in &paras {
        let f = &p.fields;
        let Some(name) = f.get("Package") else {
            return Err(CatalogError::at_line(
                file,
                p.line,
                "a paragraph has no Package field",
            ));
        };
        if let Some(status) = f.get("Status") {
            let state = status.split_whitespace().nth(2).unwrap_or_default();
            if !matches!(
                state,
                "installed"
                    | "unpacked"
                    | "half-configured"
                    | "triggers-awaited"
                    | "triggers-pending"
            ) {
                skipped += 1;
                continue;
            }
        }
        let Some(version) = f.get("Version") else {
            return Err(CatalogError::at_line(
                file,
                p.line,
                format!("package {name} has no Version"),
            ));
        };
        let arch = f
            .get("Architecture")
            .map(String::as_str)
            .unwrap_or_default();
        let source = f.get("Source").map(|s| name_paren_version(s));
        let upstream = source.as_ref().map(|(n, v)| match v {
            Some(v) if v != version => format!("{n}@{v}"),
            _ => n.clone(),
        });
        let mut quals = vec![("arch", arch)];
        if let Some(u) = upstream.as_deref() {
            quals.push(("upstream", u));
        }
        if !distro_q.is_empty() {
            quals.push(("distro", distro_q.as_str()));
        }
        let mut comp = component(
            &Pkg {
                ty: "deb",
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
        comp.source_package = Some(match source {
            Some((n, v)) => SourcePackage {
                name: n,
                version: v.filter(|v| v != version),
            },
            None => SourcePackage {
                name: name.clone(),
                version: None,
            },
        });
        if let Some(m) = f.get("Maintainer") {
            comp.supplier = Some(m.clone());
        }
        if !arch.is_empty() {
            comp.properties
                .insert("dpkg:architecture".into(), arch.to_owned());
        }
        let r = c.add(comp);
        by_name.entry(name.clone()).or_default().push(r.clone());
        if let Some(provides) = f.get("Provides") {
            for prov in provides.split(',') {
                let (pn, _) = name_paren_version(prov);
                let pn = pn.split(':').next().unwrap_or_default().to_owned();
                by_name.entry(pn).or_default().push(r.clone());
            }
        }
        for field in ["Pre-Depends", "Depends"] {
            if let Some(d) = f.get(field) {
                deps.push((r.clone(), d.clone(), p.line));
            }
        }
    }
    for (from, list, _line) in deps {
        for group in list.split(',') {
            let target = group.split('|').find_map(|alt| {
                let (n, _) = name_paren_version(alt);
                let n = n.split(':').next().unwrap_or_default();
                by_name.get(n)
            });
            if let Some(targets) = target {
                for t in targets {
                    c.edge(&from, t);
                }
            }
        }
    }
    if skipped > 0 {
        warnings.push(format!(
            "{file}: {skipped} entries are not installed (removed, config-files only or not-installed) and were not inventoried"
        ));
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const STATUS: &str = "Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u7
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Description: GNU C Library: Shared libraries
 Contains the standard libraries.

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b7
Source: bash (5.2.15-2)
Pre-Depends: libc6 (>= 2.36), libtinfo6 (>= 6)
Depends: base-files (>= 2.1.12), debianutils (>= 5.6-0.1)

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
";

    #[test]
    fn status_fields_sources_distro_and_edges() {
        let distro = Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: None,
        };
        let inv = parse(
            "var/lib/dpkg/status",
            STATUS.as_bytes(),
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
                "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
                "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc"
            ]
        );
        let bash = &inv.components[0];
        assert_eq!(
            bash.source_package,
            Some(SourcePackage {
                name: "bash".into(),
                version: Some("5.2.15-2".into())
            })
        );
        assert_eq!(bash.ecosystem, Some(palisade_versions::Ecosystem::Debian));
        assert!(inv.dependencies[&bash.bom_ref].contains(&inv.components[1].bom_ref));
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("1 entries are not installed"))
        );
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let e = parse(
            "status",
            b"Package: a\nVersion: 1\ngarbage\n",
            None,
            &Limits::default(),
        )
        .err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("status: line 3: \"garbage\" is not a `Field: value` line")
        );
    }
}
