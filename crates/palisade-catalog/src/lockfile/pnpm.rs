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
use std::fmt;

use palisade_inventory::{Inventory, Scope};
use palisade_versions::Ecosystem;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::common::{Collector, Limits, Pkg, component, utf8, yaml};
use crate::error::{CatalogError, Position, Result};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Gen {
    V5,
    V6,
    V9,
}

// The lockfile is deserialised into these types directly: only the members
// used below are kept, everything else is skipped without building a
// `serde_yaml_ng::Value` tree (which was half of the time on large files).

/// The document.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    #[serde(default)]
    lockfile_version: Option<Scalar>,
    #[serde(default)]
    importers: Option<Ordered<Importer>>,
    #[serde(default)]
    packages: Option<Ordered<Node>>,
    #[serde(default)]
    snapshots: Option<Ordered<Node>>,
}

/// A workspace member (v9 `importers`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Importer {
    #[serde(default)]
    dependencies: Option<Ordered<DepValue>>,
    #[serde(default)]
    optional_dependencies: Option<Ordered<DepValue>>,
    #[serde(default)]
    dev_dependencies: Option<Ordered<DepValue>>,
}

/// A `packages` or `snapshots` entry.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Node {
    #[serde(default)]
    name: Option<Scalar>,
    #[serde(default)]
    version: Option<Scalar>,
    #[serde(default)]
    resolution: Option<Resolution>,
    #[serde(default)]
    dev: Option<Lenient<bool>>,
    #[serde(default)]
    optional: Option<Lenient<bool>>,
    #[serde(default)]
    dependencies: Option<Ordered<DepValue>>,
    #[serde(default)]
    optional_dependencies: Option<Ordered<DepValue>>,
}

/// `resolution: {integrity, tarball, repo, ...}`.
#[derive(Deserialize, Default)]
struct Resolution {
    #[serde(default)]
    integrity: Option<Lenient<String>>,
    #[serde(default)]
    tarball: Option<Lenient<String>>,
    #[serde(default)]
    repo: Option<Lenient<String>>,
}

/// A scalar as text: strings, and numbers as they were written
/// (`lockfileVersion: 5.4`, an unquoted version).
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Scalar)
    }
}

/// A value of the expected type, or nothing when the document has another
/// type there (the lockfile is still read, as before, rather than refused).
struct Lenient<T>(Option<T>);

impl<'de, T: de::DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // Buffering one small value is cheap; the big maps never come here.
        let v = serde_yaml_ng::Value::deserialize(d)?;
        Ok(Lenient(serde_yaml_ng::from_value(v).ok()))
    }
}

/// A dependency's value: a version or key (`1.0.0`, `1.0.0(peer@2)`,
/// `/name/1.0.0`), or an importer's `{specifier, version}`.
struct DepValue(Option<String>);

impl<'de> Deserialize<'de> for DepValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DepValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a version or a mapping with `version`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<DepValue, E> {
                Ok(DepValue(Some(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<DepValue, E> {
                Ok(DepValue(Some(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<DepValue, E> {
                Ok(DepValue(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<DepValue, E> {
                Ok(DepValue(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<DepValue, E> {
                Ok(DepValue(Some(serde_yaml_ng::Number::from(v).to_string())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<DepValue, E> {
                Ok(DepValue(None))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<DepValue, E> {
                Ok(DepValue(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<DepValue, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(DepValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<DepValue, A::Error> {
                let mut version = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "version" {
                        version = map.next_value::<DepValue>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(DepValue(version))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping with string keys, in document order.
struct Ordered<T>(Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Ordered<T>, E> {
                Ok(Ordered(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Ordered<T>, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 16));
                while let Some((k, v)) = map.next_entry::<Scalar, T>()? {
                    out.push((k.0, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

fn str_map(m: Option<&Ordered<DepValue>>) -> impl Iterator<Item = (&str, &str)> {
    m.into_iter()
        .flat_map(|m| m.0.iter())
        .filter_map(|(k, v)| v.0.as_deref().map(|v| (k.as_str(), v)))
}

fn flag(v: Option<&Lenient<bool>>) -> Option<bool> {
    v.and_then(|l| l.0)
}

fn lenient_str(v: Option<&Lenient<String>>) -> Option<&str> {
    v.and_then(|l| l.0.as_deref())
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
    let doc: Doc = yaml(file, text, limits)?;
    let version = doc
        .lockfile_version
        .as_ref()
        .map(|v| v.0.clone())
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
    let packages = doc.packages.as_ref();
    // v9 metadata lives under packages, keyed without peers.
    let by_key: HashMap<&str, &Node> = match generation {
        Gen::V9 => packages
            .into_iter()
            .flat_map(|p| p.0.iter())
            .map(|(k, n)| (k.as_str(), n))
            .collect(),
        _ => HashMap::new(),
    };
    // The graph's nodes: v9 snapshots (peer variants), else the packages.
    let nodes = match (generation, doc.snapshots.as_ref()) {
        (Gen::V9, Some(s)) => Some(s),
        _ => packages,
    };
    let nodes: &[(String, Node)] = nodes.map(|n| n.0.as_slice()).unwrap_or_default();
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut refs: HashMap<&str, String> = HashMap::with_capacity(nodes.len());
    let mut count = 0usize;
    for (key, node) in nodes {
        count += 1;
        limits.check_components(file, count)?;
        let meta = match generation {
            Gen::V9 => by_key
                .get(strip_peers(key, generation))
                .copied()
                .unwrap_or(node),
            _ => node,
        };
        let (mut name, mut version) = split_key(key, generation).ok_or_else(|| {
            CatalogError::malformed(
                file,
                Position::Record(format!("packages.{key}")),
                "the key names no package and version",
            )
        })?;
        if let Some(n) = &meta.name {
            name.clone_from(&n.0);
        }
        if let Some(v) = &meta.version {
            version.clone_from(&v.0);
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
        if let Some(res) = &meta.resolution {
            super::npm::add_integrity(&mut comp, lenient_str(res.integrity.as_ref()));
            if let Some(t) = lenient_str(res.tarball.as_ref()) {
                comp.properties.insert("pnpm:tarball".into(), t.to_owned());
            }
            if let Some(repo) = lenient_str(res.repo.as_ref()) {
                comp.properties
                    .insert("palisade:vcs".into(), repo.to_owned());
            }
        }
        let dev = flag(node.dev.as_ref());
        let optional = flag(node.optional.as_ref()).unwrap_or(false);
        if dev == Some(true) {
            comp.properties.insert("npm:dev".into(), "true".into());
        }
        if dev == Some(true) || optional {
            comp.scope = Some(Scope::Optional);
        }
        let r = c.add(comp);
        refs.insert(key, r);
    }
    let mut graph: HashMap<&str, Vec<String>> = HashMap::new();
    for (key, node) in nodes {
        let Some(from) = refs.get(key.as_str()) else {
            continue;
        };
        let opt = node.optional_dependencies.as_ref();
        for (name, value) in str_map(node.dependencies.as_ref()).chain(str_map(opt)) {
            if value.starts_with("link:") {
                continue;
            }
            let target = dep_key(name, value, generation);
            match refs.get(target.as_str()) {
                Some(to) => {
                    c.edge(from, to);
                    graph.entry(key).or_default().push(target);
                }
                None if str_map(opt).any(|(n, _)| n == name) => {}
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
    doc: &Doc,
    refs: &HashMap<&str, String>,
    graph: &HashMap<&str, Vec<String>>,
    c: &mut Collector,
) {
    let mut prod_roots = Vec::new();
    let mut dev_roots = Vec::new();
    for (_, importer) in doc.importers.iter().flat_map(|i| i.0.iter()) {
        for section in [&importer.dependencies, &importer.optional_dependencies] {
            for (n, v) in str_map(section.as_ref()) {
                prod_roots.push(dep_key(n, v, Gen::V9));
            }
        }
        for (n, v) in str_map(importer.dev_dependencies.as_ref()) {
            dev_roots.push(dep_key(n, v, Gen::V9));
        }
    }
    let reach = |roots: Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<String> = roots.into();
        while let Some(k) = queue.pop_front() {
            if !seen.contains(&k) {
                if let Some(next) = graph.get(k.as_str()) {
                    queue.extend(next.iter().cloned());
                }
                seen.insert(k);
            }
        }
        seen
    };
    let prod = reach(prod_roots);
    let dev = reach(dev_roots);
    let mut dev_refs: BTreeMap<&String, bool> = BTreeMap::new();
    for (key, r) in refs {
        let only_dev = dev.contains(*key) && !prod.contains(*key);
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
    fn typed_reading_keeps_resolution_and_tolerates_odd_types() {
        let lock = "lockfileVersion: '6.0'\npackages:\n  /a@1.0.0:\n    resolution: {tarball: https://example.invalid/a.tgz}\n    dev: 'yes'\n    dependencies:\n      b: 1.10\n      c: [1]\n  /b@1.10:\n    resolution: {repo: https://example.invalid/b.git, commit: abc, type: git}\n    dev: true\n";
        let inv = parse("pnpm-lock.yaml", lock.as_bytes(), &Limits::default()).unwrap_or_default();
        assert_eq!(purls(&inv), ["pkg:npm/a@1.0.0", "pkg:npm/b@1.10"]);
        let a = inv.components.iter().find(|c| c.name == "a");
        assert_eq!(
            a.and_then(|c| c.properties.get("pnpm:tarball"))
                .map(String::as_str),
            Some("https://example.invalid/a.tgz")
        );
        // `dev: 'yes'` is not a boolean: ignored, as before.
        assert_eq!(a.and_then(|c| c.scope), None);
        let b = inv.components.iter().find(|c| c.name == "b");
        assert_eq!(
            b.and_then(|c| c.properties.get("palisade:vcs"))
                .map(String::as_str),
            Some("https://example.invalid/b.git")
        );
        assert_eq!(b.and_then(|c| c.scope), Some(Scope::Optional));
        // The unquoted `1.10` resolves as a number (1.1) and names no entry:
        // reported, not guessed.
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("dependency b@1.1 has no entry")),
            "{:?}",
            inv.warnings
        );
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
