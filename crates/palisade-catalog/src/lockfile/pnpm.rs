//! `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x.
//!
//! The three generations differ in how a package is keyed: v5 writes
//! `/name/1.0.0_peer@2.0.0`, v6 `/name@1.0.0(peer@2.0.0)`, and v9
//! `name@1.0.0(peer@2.0.0)`, with per-package metadata under `packages` and
//! the resolved graph (peer variants included) under `snapshots`. Each key is
//! reduced to name and version (peer suffixes removed; they select a variant
//! of the same package, so variants merge into one component). Explicit
//! `name`/`version` fields, written for tarball and git packages, take
//! precedence. Edges come from each package's `dependencies` and
//! `optionalDependencies`, whose values are either a version (resolved
//! against the same key scheme) or, for aliases, a full key.
//!
//! Scope: v5 and v6 mark `dev: true`; v9 no longer does, so packages reachable
//! only from the importers' `devDependencies` are marked dev by walking the
//! graph from the importers.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use palisade_inventory::{Inventory, Scope};
use palisade_versions::Ecosystem;
use serde_yaml_ng::Value;

use crate::common::{Collector, Limits, Pkg, component, utf8, yaml};
use crate::error::{CatalogError, Position, Result};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Gen {
    V5,
    V6,
    V9,
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_mapping().and_then(|m| m.get(key))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn str_map(v: Option<&Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(m) = v.and_then(Value::as_mapping) {
        for (k, v) in m {
            // v9 importers write `{specifier, version}`; packages write the version.
            let val = get(v, "version").and_then(scalar).or_else(|| scalar(v));
            if let (Some(k), Some(val)) = (scalar(k), val) {
                out.push((k, val));
            }
        }
    }
    out
}

/// Removes peer-dependency suffixes: `(peer@1)` in v6/v9, `_peer@1` in v5.
fn strip_peers(key: &str, generation: Gen) -> &str {
    let cut = match generation {
        Gen::V5 => key.find('_'),
        _ => key.find('('),
    };
    match cut {
        Some(i) => key.get(..i).unwrap_or(key),
        None => key,
    }
}

/// Name and version from a package key.
fn split_key(key: &str, generation: Gen) -> Option<(String, String)> {
    let k = strip_peers(key.trim_start_matches('/'), generation);
    match generation {
        Gen::V5 => {
            let i = k.rfind('/')?;
            Some((k.get(..i)?.to_owned(), k.get(i + 1..)?.to_owned()))
        }
        _ => super::yarn::split_descriptor(k).map(|(n, v)| (n.to_owned(), v.to_owned())),
    }
}

/// The key a dependency `name: value` refers to.
fn dep_key(name: &str, value: &str, generation: Gen) -> String {
    let looks_like_key = value.starts_with('/')
        || super::yarn::split_descriptor(strip_peers(value, generation)).is_some_and(|(n, _)| {
            !n.is_empty() && !value.starts_with(|c: char| c.is_ascii_digit())
        });
    match generation {
        Gen::V5 if looks_like_key => value.to_owned(),
        Gen::V5 => format!("/{name}/{value}"),
        Gen::V6 if looks_like_key => value.to_owned(),
        Gen::V6 => format!("/{name}@{value}"),
        Gen::V9 if looks_like_key => value.to_owned(),
        Gen::V9 => format!("{name}@{value}"),
    }
}

/// Parses a `pnpm-lock.yaml`.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let doc: Value = yaml(file, text, limits)?;
    let version = get(&doc, "lockfileVersion")
        .and_then(scalar)
        .ok_or_else(|| {
            CatalogError::malformed(
                file,
                Position::Record("lockfileVersion".into()),
                "missing lockfileVersion",
            )
        })?;
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let generation = match major {
        5 => Gen::V5,
        6..=8 => Gen::V6,
        9 => Gen::V9,
        _ => {
            return Err(CatalogError::Unsupported {
                file: file.to_owned(),
                format: format!("pnpm lockfileVersion {version}"),
                reason: "versions 5, 6 and 9 are supported".into(),
            });
        }
    };
    let packages = get(&doc, "packages").and_then(Value::as_mapping);
    let snapshots = get(&doc, "snapshots").and_then(Value::as_mapping);
    // The graph's nodes: v9 snapshots (peer variants), else the packages.
    let nodes = match (generation, snapshots) {
        (Gen::V9, Some(s)) => Some(s),
        _ => packages,
    };
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut refs: HashMap<String, String> = HashMap::new();
    let mut dev_flag: HashMap<String, bool> = HashMap::new();
    let mut count = 0usize;
    for (k, node) in nodes.into_iter().flatten() {
        let Some(key) = scalar(k) else { continue };
        count += 1;
        limits.check_components(file, count)?;
        // v9 metadata lives under packages, keyed without peers.
        let meta = match generation {
            Gen::V9 => packages
                .and_then(|p| p.get(strip_peers(&key, generation)))
                .unwrap_or(node),
            _ => node,
        };
        let (mut name, mut version) = split_key(&key, generation).ok_or_else(|| {
            CatalogError::malformed(
                file,
                Position::Record(format!("packages.{key}")),
                "the key names no package and version",
            )
        })?;
        if let Some(n) = get(meta, "name").and_then(scalar) {
            name = n;
        }
        if let Some(v) = get(meta, "version").and_then(scalar) {
            version = v;
        }
        if version.starts_with("link:") || version.starts_with("file:") {
            warnings.push(format!(
                "{file}: packages.{key}: local package {version:?} not inventoried"
            ));
            continue;
        }
        let (ns, n) = match name.strip_prefix('@').and_then(|_| name.split_once('/')) {
            Some((s, n)) => (Some(s), n),
            None => (None, name.as_str()),
        };
        let mut comp = component(
            &Pkg {
                ty: "npm",
                namespace: ns,
                name: n,
                version: Some(&version),
                ecosystem: Some(Ecosystem::Npm),
                display_name: Some(name.clone()),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        if let Some(res) = get(meta, "resolution") {
            super::npm::add_integrity(&mut comp, get(res, "integrity").and_then(Value::as_str));
            if let Some(t) = get(res, "tarball").and_then(Value::as_str) {
                comp.properties.insert("pnpm:tarball".into(), t.to_owned());
            }
            if let Some(repo) = get(res, "repo").and_then(Value::as_str) {
                comp.properties
                    .insert("palisade:vcs".into(), repo.to_owned());
            }
        }
        let dev = get(node, "dev").and_then(Value::as_bool);
        let optional = get(node, "optional")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if dev == Some(true) {
            comp.properties.insert("npm:dev".into(), "true".into());
        }
        if dev == Some(true) || optional {
            comp.scope = Some(Scope::Optional);
        }
        if let Some(d) = dev {
            dev_flag.insert(key.clone(), d);
        }
        let r = c.add(comp);
        refs.insert(key, r);
    }
    let mut graph: HashMap<String, Vec<String>> = HashMap::new();
    for (k, node) in nodes.into_iter().flatten() {
        let Some(key) = scalar(k) else { continue };
        let Some(from) = refs.get(&key).cloned() else {
            continue;
        };
        let deps = str_map(get(node, "dependencies"));
        let opt = str_map(get(node, "optionalDependencies"));
        for (name, value) in deps.iter().chain(&opt) {
            if value.starts_with("link:") {
                continue;
            }
            let target = dep_key(name, value, generation);
            match refs.get(&target) {
                Some(to) => {
                    c.edge(&from, to);
                    graph.entry(key.clone()).or_default().push(target);
                }
                None if opt.iter().any(|(n, _)| n == name) => {}
                None => warnings.push(format!(
                    "{file}: packages.{key}: dependency {name}@{value} has no entry"
                )),
            }
        }
    }
    if generation == Gen::V9 {
        mark_dev_v9(&doc, &refs, &graph, &mut c);
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

/// Marks packages reachable only from `devDependencies` of the importers.
fn mark_dev_v9(
    doc: &Value,
    refs: &HashMap<String, String>,
    graph: &HashMap<String, Vec<String>>,
    c: &mut Collector,
) {
    let mut prod_roots = Vec::new();
    let mut dev_roots = Vec::new();
    for (_, importer) in get(doc, "importers")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
    {
        for section in ["dependencies", "optionalDependencies"] {
            for (n, v) in str_map(get(importer, section)) {
                prod_roots.push(dep_key(&n, &v, Gen::V9));
            }
        }
        for (n, v) in str_map(get(importer, "devDependencies")) {
            dev_roots.push(dep_key(&n, &v, Gen::V9));
        }
    }
    let reach = |roots: Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<String> = roots.into();
        while let Some(k) = queue.pop_front() {
            if seen.insert(k.clone()) {
                for next in graph.get(&k).into_iter().flatten() {
                    queue.push_back(next.clone());
                }
            }
        }
        seen
    };
    let prod = reach(prod_roots);
    let dev = reach(dev_roots);
    let mut dev_refs: BTreeMap<&String, bool> = BTreeMap::new();
    for (key, r) in refs {
        let only_dev = dev.contains(key) && !prod.contains(key);
        let e = dev_refs.entry(r).or_insert(true);
        *e = *e && only_dev;
    }
    for (r, only_dev) in dev_refs {
        if only_dev && let Some(comp) = c.get_mut(r) {
            comp.scope = Some(Scope::Optional);
            comp.properties.insert("npm:dev".into(), "true".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purls(inv: &Inventory) -> Vec<&str> {
        inv.components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect()
    }

    #[test]
    fn v9_snapshots_peers_and_dev_reachability() {
        let lock = r#"lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      react-dom:
        specifier: ^18
        version: 18.2.0(react@18.2.0)
    devDependencies:
      '@types/react':
        specifier: ^18
        version: 18.2.1
packages:
  react-dom@18.2.0:
    resolution: {integrity: sha512-AAAA}
  react@18.2.0:
    resolution: {integrity: sha512-AAAA}
  '@types/react@18.2.1':
    resolution: {integrity: sha512-AAAA}
snapshots:
  react-dom@18.2.0(react@18.2.0):
    dependencies:
      react: 18.2.0
  react@18.2.0: {}
  '@types/react@18.2.1': {}
"#;
        let inv = parse("pnpm-lock.yaml", lock.as_bytes(), &Limits::default()).unwrap_or_default();
        assert_eq!(
            purls(&inv),
            [
                "pkg:npm/%40types/react@18.2.1",
                "pkg:npm/react-dom@18.2.0",
                "pkg:npm/react@18.2.0"
            ]
        );
        assert!(inv.dependencies["pkg:npm/react-dom@18.2.0"].contains("pkg:npm/react@18.2.0"));
        let types = inv.components.iter().find(|c| c.name == "@types/react");
        assert_eq!(types.and_then(|c| c.scope), Some(Scope::Optional));
        let react = inv.components.iter().find(|c| c.name == "react");
        assert_eq!(react.and_then(|c| c.scope), None);
    }

    #[test]
    fn v6_and_v5_keys() {
        let v6 = "lockfileVersion: '6.0'\npackages:\n  /@scope/a@1.0.0(b@2.0.0):\n    dev: true\n    dependencies:\n      b: 2.0.0\n  /b@2.0.0:\n    dev: false\n";
        let inv = parse("pnpm-lock.yaml", v6.as_bytes(), &Limits::default()).unwrap_or_default();
        assert_eq!(purls(&inv), ["pkg:npm/%40scope/a@1.0.0", "pkg:npm/b@2.0.0"]);
        assert!(inv.dependencies["pkg:npm/%40scope/a@1.0.0"].contains("pkg:npm/b@2.0.0"));
        let v5 = "lockfileVersion: 5.4\npackages:\n  /a/1.0.0_b@2.0.0:\n    dependencies:\n      b: 2.0.0\n  /b/2.0.0:\n    dev: false\n";
        let inv = parse("pnpm-lock.yaml", v5.as_bytes(), &Limits::default()).unwrap_or_default();
        assert_eq!(purls(&inv), ["pkg:npm/a@1.0.0", "pkg:npm/b@2.0.0"]);
        assert!(inv.dependencies["pkg:npm/a@1.0.0"].contains("pkg:npm/b@2.0.0"));
    }

    #[test]
    fn yaml_errors_carry_line_and_column() {
        let e = parse(
            "pnpm-lock.yaml",
            b"lockfileVersion: '9.0'\npackages:\n  a: [\n",
            &Limits::default(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.starts_with("pnpm-lock.yaml: line "), "{e}");
    }
}
