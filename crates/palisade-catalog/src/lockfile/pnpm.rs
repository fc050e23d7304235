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

#[path = "pnpm_fast.rs"]
mod fast;

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
///
/// The layout pnpm itself writes is read by a line reader ([`fast`]); any
/// other document, and every malformed one, by the YAML deserialiser, which
/// builds the same [`Doc`] and reports errors.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let doc = match fast::read(text, limits.max_depth) {
        Some(doc) => doc,
        None => yaml(file, text, limits)?,
    };
    inventory(file, doc, limits)
}

/// [`parse`] without the line reader.
#[cfg(test)]
fn parse_yaml(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    inventory(file, yaml(file, text, limits)?, limits)
}

fn inventory(file: &str, doc: Doc, limits: &Limits) -> Result<Inventory> {
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

    // ---- the line reader against the YAML deserialiser ----

    /// The lockfiles written out in this module's tests.
    const FIXTURES: &[&str] = &[
        V9_FIXTURE,
        "lockfileVersion: '6.0'\npackages:\n  /@scope/a@1.0.0(b@2.0.0):\n    dev: true\n    dependencies:\n      b: 2.0.0\n  /b@2.0.0:\n    dev: false\n",
        "lockfileVersion: 5.4\npackages:\n  /a/1.0.0_b@2.0.0:\n    dependencies:\n      b: 2.0.0\n  /b/2.0.0:\n    dev: false\n",
        "lockfileVersion: '6.0'\npackages:\n  /a@1.0.0:\n    resolution: {tarball: https://example.invalid/a.tgz}\n    dev: 'yes'\n    dependencies:\n      b: 1.10\n      c: [1]\n  /b@1.10:\n    resolution: {repo: https://example.invalid/b.git, commit: abc, type: git}\n    dev: true\n",
        "lockfileVersion: '9.0'\npackages:\n  a: [\n",
    ];

    const V9_FIXTURE: &str = r#"lockfileVersion: '9.0'
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

    /// Checks one input: whenever the line reader accepts it, `parse` gives
    /// exactly what the YAML path gives (and the YAML path accepts it).
    /// Returns whether the line reader accepted it.
    fn same(text: &str) -> bool {
        let limits = Limits::default();
        let accepted = fast::read(text, limits.max_depth).is_some();
        let via_yaml = parse_yaml("pnpm-lock.yaml", text.as_bytes(), &limits);
        let via_parse = parse("pnpm-lock.yaml", text.as_bytes(), &limits);
        if accepted {
            assert!(
                yaml::<Doc>("pnpm-lock.yaml", text, &limits).is_ok(),
                "line reader accepted what YAML refuses:\n{text}"
            );
        }
        match (&via_parse, &via_yaml) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
            _ => panic!(
                "outcomes differ:\n{text}\n{:?}\n{:?}",
                via_parse.err(),
                via_yaml.err()
            ),
        }
        accepted
    }

    #[test]
    fn line_reader_matches_yaml_on_fixtures() {
        for f in FIXTURES {
            same(f);
        }
        assert!(same(FIXTURES[0]) && same(FIXTURES[1]) && same(FIXTURES[2]));
    }

    /// A lockfile in pnpm's own layout for `lv` ("5.4", "6.0", "9.0"),
    /// varied by `seed`: scoped and quoted names, peers, aliases, git and
    /// tarball resolutions, local links, dev/optional flags, the sections
    /// pnpm writes that are not read (settings, engines, os, deprecated,
    /// peerDependencies, transitivePeerDependencies, ...).
    fn generated(lv: &str, n: usize, seed: usize) -> String {
        use std::fmt::Write as _;
        let v5 = lv.starts_with('5');
        let v9 = lv.starts_with('9');
        let name = |i: usize| match (i + seed) % 5 {
            0 => format!("@scope-{}/pkg-{i}", i % 3),
            _ => format!("pkg-{i}"),
        };
        let version = |i: usize| match (i + seed) % 7 {
            3 => format!("1.{}.0-rc.{}", i % 9, i % 4),
            _ => format!("{}.{}.{}", i % 4, i % 11, i % 3),
        };
        let key = |i: usize, peers: bool| {
            let (n, v) = (name(i), version(i));
            let peer = if peers && i % 4 == 1 {
                match v5 {
                    true => "_react@18.2.0".to_owned(),
                    false => "(react@18.2.0)".to_owned(),
                }
            } else {
                String::new()
            };
            let k = match (v5, v9) {
                (true, _) => format!("/{n}/{v}{peer}"),
                (_, false) => format!("/{n}@{v}{peer}"),
                _ => format!("{n}@{v}{peer}"),
            };
            if n.starts_with('@') || i.is_multiple_of(6) {
                format!("'{k}'")
            } else {
                k
            }
        };
        let dep = |i: usize| {
            let v = version(i);
            let peer = if i % 4 == 1 {
                if v5 {
                    "_react@18.2.0"
                } else {
                    "(react@18.2.0)"
                }
            } else {
                ""
            };
            let n = name(i);
            let n = if n.starts_with('@') {
                format!("'{n}'")
            } else {
                n
            };
            match i % 13 {
                // An alias (v6/v9 write the full key).
                5 if v9 && name(i).starts_with('@') => format!("{n}: '{}@{v}{peer}'", name(i)),
                5 if v9 => format!("{n}: {}@{v}{peer}", name(i)),
                5 if !v5 => format!("{n}: /{}@{v}{peer}", name(i)),
                _ => format!("{n}: {v}{peer}"),
            }
        };
        let mut s = format!(
            "lockfileVersion: {}\n\n",
            if v5 { lv.to_owned() } else { format!("'{lv}'") }
        );
        if !v5 {
            s.push_str(
                "settings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n",
            );
        }
        s.push_str("overrides:\n  'foo@<2': '>=2.0.1'\n\n");
        if v9 || seed.is_multiple_of(2) {
            s.push_str("importers:\n\n  .:\n");
            if v5 {
                s.push_str("    specifiers:\n      pkg-0: ^0.0.0\n");
            }
            let _ = writeln!(s, "    dependencies:");
            for i in 0..n.min(3) {
                let d = dep(i);
                match v5 {
                    true => {
                        let _ = writeln!(s, "      {d}");
                    }
                    false => {
                        let (dn, dv) = d.split_once(": ").unwrap_or((&d, ""));
                        let _ = writeln!(
                            s,
                            "      {dn}:\n        specifier: ^{}\n        version: {dv}",
                            version(i)
                        );
                    }
                }
            }
            if n > 3 {
                s.push_str("    devDependencies:\n");
            }
            for i in n.min(3)..n.min(6) {
                let (dn, dv) = (name(i), version(i));
                let dn = if dn.starts_with('@') {
                    format!("'{dn}'")
                } else {
                    dn
                };
                let _ = writeln!(
                    s,
                    "      {dn}:\n        specifier: '>={dv}'\n        version: {dv}"
                );
            }
            s.push_str("\n  packages/local:\n    dependencies:\n      here:\n        specifier: link:../here\n        version: link:../here\n\n");
        } else {
            s.push_str("dependencies:\n  pkg-0:\n    specifier: ^1\n    version: 0.0.0\n\n");
        }
        s.push_str("packages:\n\n");
        let meta = |s: &mut String, i: usize| {
            match (i + seed) % 9 {
                2 => {
                    let _ = writeln!(
                        s,
                        "    resolution: {{tarball: https://example.invalid/t/{i}.tgz}}"
                    );
                    let n = name(i);
                    let n = if n.starts_with('@') {
                        format!("'{n}'")
                    } else {
                        n
                    };
                    let _ = writeln!(s, "    name: {n}\n    version: {}", version(i));
                }
                4 => {
                    let _ = writeln!(
                        s,
                        "    resolution: {{commit: abc{i}, repo: https://github.com/o/r{i}.git, type: git}}"
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        "    resolution: {{integrity: sha512-{}AAAA+/0={}==}}",
                        i,
                        i % 3
                    );
                }
            }
            if i.is_multiple_of(3) {
                s.push_str("    engines: {node: '>=14.17', npm: '>= 6'}\n");
            }
            if i % 8 == 7 {
                s.push_str("    os: [darwin, linux]\n    cpu: [arm64]\n    hasBin: true\n");
            }
            if i % 10 == 9 {
                s.push_str(
                    "    deprecated: this package's API isn't maintained, use \"other\" instead\n",
                );
                s.push_str("    peerDependencies:\n      react: ^18.0.0 || ^19\n    peerDependenciesMeta:\n      react:\n        optional: true\n");
            }
        };
        let graph = |s: &mut String, i: usize| {
            if i + 1 < n && i % 5 != 4 {
                s.push_str("    dependencies:\n");
                for d in [(i * 7 + 1) % n, (i + 1) % n] {
                    let _ = writeln!(s, "      {}", dep(d));
                }
            }
            if i % 11 == 3 {
                let _ = writeln!(
                    s,
                    "    optionalDependencies:\n      {}\n      fsevents-missing: 2.3.3",
                    dep((i + 2) % n)
                );
            }
            if i % 6 == 2 {
                s.push_str("    transitivePeerDependencies:\n      - supports-color\n      - '@types/node'\n");
            }
        };
        for i in 0..n {
            let _ = writeln!(s, "  {}:", key(i, !v9));
            meta(&mut s, i);
            if !v9 {
                graph(&mut s, i);
                if i % 4 == 0 {
                    s.push_str("    dev: true\n");
                } else if i % 4 == 2 {
                    s.push_str("    dev: false\n");
                }
                if i % 7 == 6 {
                    s.push_str("    optional: true\n");
                }
            }
            s.push('\n');
        }
        if v9 {
            s.push_str("snapshots:\n\n");
            for i in 0..n {
                let _ = write!(s, "  {}:", key(i, true));
                let mut body = String::new();
                graph(&mut body, i);
                if i % 7 == 6 {
                    body.push_str("    optional: true\n");
                }
                if body.is_empty() {
                    s.push_str(" {}\n");
                } else {
                    s.push('\n');
                    s.push_str(&body);
                }
                s.push('\n');
                if i % 4 == 1 {
                    // The same package without its peers.
                    let _ = writeln!(s, "  {}: {{}}\n", key(i, false));
                }
            }
        }
        s
    }

    #[test]
    fn line_reader_matches_yaml_on_generated_lockfiles() {
        for lv in ["5.4", "5.3", "6.0", "6.1", "9.0"] {
            for seed in 0..6 {
                for n in [1, 2, 7, 40, 300] {
                    let text = generated(lv, n, seed);
                    assert!(same(&text), "line reader declined pnpm's layout:\n{text}");
                    let inv = parse("pnpm-lock.yaml", text.as_bytes(), &Limits::default());
                    assert!(inv.is_ok_and(|i| !i.components.is_empty()));
                }
            }
        }
    }

    /// Edits that take a document out of pnpm's layout (or make it invalid
    /// YAML) must be declined or still read the same.
    #[test]
    fn line_reader_declines_or_matches_on_altered_documents() {
        let base = generated("9.0", 12, 1);
        let lines: Vec<&str> = base.lines().collect();
        let edits: &[&dyn Fn(&str) -> String] = &[
            &|l| format!(" {l}"),
            &|l| l.trim_start().to_owned(),
            &|l| format!("{l} # note"),
            &|l| format!("{l}:"),
            &|l| l.replacen(": ", ":", 1),
            &|l| l.replacen('\'', "\"", 1),
            &|l| l.replacen('\'', "", 1),
            &|l| l.replacen(": ", ": &a ", 1),
            &|l| l.replacen(": ", ": *a", 1),
            &|l| l.replacen(": ", ": !!str ", 1),
            &|l| l.replacen(": ", ": |\n  ", 1),
            &|l| l.replacen("  ", "\t", 1),
            &|l| l.replacen('}', "", 1),
            &|l| l.replacen('{', "[", 1),
            &|l| l.replacen(", ", ",", 1),
            &|l| l.replacen(": ", ": null", 1),
            &|l| l.replacen(": ", ": ~\n", 1),
            &|l| format!("{l}\n{l}"),
            &|l| format!("{l}\n---"),
            &|l| format!("{l}\r"),
            &|l| l.replacen("1.", "1.0e", 1),
            &|l| l.replacen(|c: char| c.is_ascii_digit(), "", 3),
            &|l| l.replacen("true", "True", 1),
            &|l| l.replacen("- ", "-", 1),
            &|_| String::new(),
        ];
        for (i, _) in lines.iter().enumerate() {
            for edit in edits {
                let mut altered: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
                if let Some(l) = altered.get_mut(i) {
                    *l = edit(l);
                }
                same(&altered.join("\n"));
            }
        }
        // Accepted, and the same: a repeated package key, Unicode text.
        for accepted in [
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\n  a@1.0.0:\n    resolution: {integrity: sha512-AA==}\n",
            "lockfileVersion: '9.0'\npackages:\n  'a@1.0.0':\n    resolution: {tarball: 'https://example.invalid/é''s.tgz'}\n",
        ] {
            assert!(same(accepted), "{accepted}");
        }
        // Declined outright: not pnpm's layout.
        for declined in [
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: x}\n    resolution: {integrity: y}\n",
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: &x {}\n  b@1.0.0: *x\n",
            "lockfileVersion: '9.0'\npackages:\n  # comment\n  a@1.0.0: {}\n",
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    dependencies:\n      b: 1.0.0\n     c: 1.0.0\n",
            "\u{feff}lockfileVersion: '9.0'\n",
            "packages: {}\n",
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\u{2028}  b@1.0.0: {}\n",
        ] {
            assert!(fast::read(declined, 64).is_none(), "{declined}");
            same(declined);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Random generated lockfiles with random bytes overwritten: the
        /// line reader never disagrees with the YAML path.
        #[test]
        fn line_reader_never_disagrees(
            lv in proptest::sample::select(vec!["5.4", "6.0", "9.0"]),
            n in 1usize..30,
            seed in 0usize..9,
            edits in proptest::collection::vec((0usize..4000, proptest::sample::select(b" :-'\"{}[],#\n&*!|>ab0.@/".to_vec())), 0..4),
        ) {
            let mut bytes = generated(lv, n, seed).into_bytes();
            for (at, b) in edits {
                let len = bytes.len();
                if let Some(slot) = bytes.get_mut(at % len.max(1)) {
                    *slot = b;
                }
            }
            if let Ok(text) = String::from_utf8(bytes) {
                same(&text);
            }
        }
    }

    /// Every `pnpm-lock.yaml` in the shared corpus, if there are any.
    #[test]
    fn line_reader_matches_yaml_on_corpus() {
        let root = std::env::var_os("PALISADE_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../../shared/corpus"
                ))
            });
        if !root.is_dir() {
            eprintln!("SKIPPED: corpus not found at {}", root.display());
            return;
        }
        let mut found = 0;
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.file_name().is_some_and(|n| n == "pnpm-lock.yaml")
                    && let Ok(text) = std::fs::read_to_string(&path)
                {
                    found += 1;
                    let accepted = same(&text);
                    eprintln!(
                        "{}: line reader {}",
                        path.display(),
                        if accepted { "used" } else { "declined" }
                    );
                }
            }
        }
        if found == 0 {
            eprintln!("SKIPPED: no pnpm-lock.yaml under {}", root.display());
        }
    }
}
