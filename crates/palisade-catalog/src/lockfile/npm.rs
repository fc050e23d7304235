//! npm `package-lock.json` (lockfile versions 1, 2 and 3) and
//! `npm-shrinkwrap.json`, which has the same format.
//!
//! Versions 2 and 3 carry a flat `packages` map keyed by install path
//! (`node_modules/a/node_modules/b`); it is read in preference to the v1
//! `dependencies` tree, which v2 also carries for old npm versions. Edges are
//! resolved the way Node resolves `require`: from a package's own
//! `node_modules` upward to the root, following workspace links. Version 1
//! files are walked as a tree with the same upward lookup through ancestors.
//!
//! The root entry (`""`) is the project itself and is not a component; links
//! (`"link": true`) are aliases of a workspace folder and are followed, not
//! counted. Workspace folders are components marked `npm:local`. `dev`,
//! `optional` and `devOptional` packages get scope optional, with an `npm:dev`
//! property for the dev ones.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use palisade_inventory::{Component, Inventory, Scope};
use palisade_versions::Ecosystem;
use serde::Deserialize;

use crate::common::{Collector, Limits, Pkg, Text, component, jkey, json};
use crate::error::{CatalogError, Position, Result};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lock<'a> {
    #[serde(default)]
    lockfile_version: Option<serde_json::Value>,
    // Install paths and strings borrow from the input (see `Text`).
    #[serde(borrow, default)]
    packages: Option<BTreeMap<Text<'a>, Entry<'a>>>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, V1Dep>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
    #[serde(borrow, default)]
    resolved: Option<Text<'a>>,
    #[serde(borrow, default)]
    integrity: Option<Text<'a>>,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dev_optional: bool,
    #[serde(default)]
    license: Option<serde_json::Value>,
    #[serde(borrow, default)]
    dependencies: BTreeMap<Text<'a>, Text<'a>>,
    #[serde(borrow, default)]
    optional_dependencies: BTreeMap<Text<'a>, Text<'a>>,
    #[serde(borrow, default)]
    peer_dependencies: BTreeMap<Text<'a>, Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct V1Dep {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    requires: BTreeMap<String, String>,
    #[serde(default)]
    dependencies: BTreeMap<String, V1Dep>,
}

/// Parses a `package-lock.json` or `npm-shrinkwrap.json`.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let lock: Lock<'_> = json(file, bytes)?;
    let version = match &lock.lockfile_version {
        None => 1,
        Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(_) => {
            return Err(CatalogError::malformed(
                file,
                Position::JsonPath("$.lockfileVersion".into()),
                "lockfileVersion is not a number",
            ));
        }
    };
    if !(1..=3).contains(&version) {
        return Err(CatalogError::Unsupported {
            file: file.to_owned(),
            format: format!("package-lock.json lockfileVersion {version}"),
            reason: "only versions 1, 2 and 3 are defined".into(),
        });
    }
    match (lock.packages, lock.dependencies) {
        (Some(packages), _) => parse_packages(file, &packages, limits),
        (None, Some(deps)) => parse_v1(file, &deps, limits),
        (None, None) => Ok(Inventory::default()),
    }
}

/// The package name at an install path: what follows the last `node_modules/`.
fn name_from_key(key: &str) -> Option<&str> {
    key.rfind("node_modules/")
        .and_then(|i| key.get(i + "node_modules/".len()..))
}

/// The install path a `require` from `from` resolves `dep` to, if any.
fn resolve<'a>(
    packages: &'a BTreeMap<Text<'_>, Entry<'_>>,
    from: &str,
    dep: &str,
) -> Option<&'a str> {
    let mut base = from.to_owned();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{base}/node_modules/{dep}")
        };
        if let Some((k, e)) = packages.get_key_value(candidate.as_str()) {
            if e.link {
                let target = e.resolved.as_deref().unwrap_or_default();
                return packages.get_key_value(target).map(|(k, _)| &**k);
            }
            return Some(k);
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind("/node_modules/") {
            Some(i) => base.get(..i).unwrap_or_default().to_owned(),
            None => String::new(),
        };
    }
}

/// Splits `@scope/name` into the purl namespace and name.
fn split_scope(name: &str) -> (Option<&str>, &str) {
    match name.strip_prefix('@').and_then(|_| name.split_once('/')) {
        Some((scope, n)) => (Some(scope), n),
        None => (None, name),
    }
}

/// Adds SRI integrity hashes (`sha512-<base64>`, several space-separated).
pub(crate) fn add_integrity(comp: &mut Component, integrity: Option<&str>) {
    for sri in integrity.unwrap_or_default().split_whitespace() {
        let Some((alg, b64)) = sri.split_once('-') else {
            continue;
        };
        let name = match alg {
            "sha512" => "SHA-512",
            "sha384" => "SHA-384",
            "sha256" => "SHA-256",
            "sha1" => "SHA-1",
            _ => continue,
        };
        let b64 = b64.split('?').next().unwrap_or_default();
        if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) {
            comp.hashes
                .insert(name.into(), crate::common::hex_lower(&raw));
        }
    }
}

/// Whether a v1 `version` is a location rather than a version.
fn is_location(v: &str) -> bool {
    v.contains("://")
        || [
            "git+",
            "git:",
            "github:",
            "gitlab:",
            "bitbucket:",
            "file:",
            "link:",
        ]
        .iter()
        .any(|p| v.starts_with(p))
}

fn npm_component(
    name: &str,
    version: Option<&str>,
    file: &str,
    warnings: &mut Vec<String>,
) -> Component {
    let (ns, n) = split_scope(name);
    let mut comp = component(
        &Pkg {
            ty: "npm",
            namespace: ns,
            name: n,
            version,
            ecosystem: Some(Ecosystem::Npm),
            display_name: Some(name.to_owned()),
            ..Pkg::default()
        },
        file,
        warnings,
    );
    if version.is_none() {
        comp.bom_ref = format!("{file}#{name}");
    }
    comp
}

fn set_scope(comp: &mut Component, dev: bool, optional: bool) {
    if dev {
        comp.properties.insert("npm:dev".into(), "true".into());
    }
    if dev || optional {
        comp.scope = Some(Scope::Optional);
    }
}

fn parse_packages(
    file: &str,
    packages: &BTreeMap<Text<'_>, Entry<'_>>,
    limits: &Limits,
) -> Result<Inventory> {
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut refs: HashMap<&str, String> = HashMap::new();
    for (key, e) in packages {
        if key.is_empty() || e.link {
            continue;
        }
        let local = name_from_key(key).is_none();
        let name = match (e.name.as_deref(), name_from_key(key)) {
            // An aliased install (`"node_modules/alias": {"name": "real"}`).
            (Some(n), _) => n,
            (None, Some(n)) => n,
            (None, None) => key.rsplit('/').next().unwrap_or(key),
        };
        if name.is_empty() {
            return Err(CatalogError::malformed(
                file,
                Position::JsonPath(format!("$.packages{}", jkey(key))),
                "the install path names no package",
            ));
        }
        let version = e.version.as_deref().filter(|v| !v.is_empty());
        if version.is_none() && !local {
            warnings.push(format!(
                "{file}: $.packages{}: no version; recorded without one",
                jkey(key)
            ));
        }
        let mut comp = npm_component(name, version, file, &mut warnings);
        set_scope(&mut comp, e.dev, e.optional || e.dev_optional);
        add_integrity(&mut comp, e.integrity.as_deref());
        if let Some(serde_json::Value::String(l)) = &e.license {
            comp.license = Some(l.clone());
        }
        if local {
            comp.properties.insert("npm:local".into(), key.to_string());
        }
        if let Some(r) = e.resolved.as_deref().filter(|r| r.starts_with("git")) {
            comp.properties.insert("palisade:vcs".into(), r.to_owned());
        }
        let r = c.add(comp);
        refs.insert(key, r);
        limits.check_components(file, c.len())?;
    }
    for (key, e) in packages {
        if e.link {
            continue;
        }
        let from = match refs.get(&**key) {
            Some(r) => r.clone(),
            None if key.is_empty() => continue,
            None => continue,
        };
        let required = e.dependencies.keys().map(|d| (d, false));
        let optional = e.optional_dependencies.keys().map(|d| (d, true));
        let peer = e.peer_dependencies.keys().map(|d| (d, true));
        for (dep, may_be_absent) in required.chain(optional).chain(peer) {
            match resolve(packages, key, dep).and_then(|k| refs.get(k)) {
                Some(to) => c.edge(&from, to),
                None if may_be_absent => {}
                None => warnings.push(format!(
                    "{file}: $.packages{}: dependency {dep:?} is not installed anywhere it could be found",
                    jkey(key)
                )),
            }
        }
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

fn parse_v1(file: &str, deps: &BTreeMap<String, V1Dep>, limits: &Limits) -> Result<Inventory> {
    struct Node<'a> {
        name: &'a str,
        dep: &'a V1Dep,
        parent: Option<usize>,
        path: String,
    }
    let mut nodes: Vec<Node<'_>> = Vec::new();
    let mut children: HashMap<(Option<usize>, &str), usize> = HashMap::new();
    let mut stack: Vec<(Option<usize>, &BTreeMap<String, V1Dep>, String)> =
        vec![(None, deps, "$.dependencies".to_owned())];
    while let Some((parent, map, path)) = stack.pop() {
        for (name, dep) in map {
            let idx = nodes.len();
            let p = format!("{path}{}", jkey(name));
            nodes.push(Node {
                name,
                dep,
                parent,
                path: p.clone(),
            });
            children.insert((parent, name.as_str()), idx);
            if !dep.dependencies.is_empty() {
                stack.push((Some(idx), &dep.dependencies, format!("{p}.dependencies")));
            }
        }
        limits.check_components(file, nodes.len())?;
    }
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut refs = Vec::with_capacity(nodes.len());
    for n in &nodes {
        let raw = n.dep.version.as_deref().unwrap_or_default();
        let (name, version) = match raw.strip_prefix("npm:").and_then(|a| {
            let at = a.rfind('@').filter(|i| *i > 0)?;
            Some((a.get(..at)?, a.get(at + 1..)?))
        }) {
            Some((real, v)) => (real, Some(v)),
            None if raw.is_empty() => (n.name, None),
            None if is_location(raw) => (n.name, None),
            None => (n.name, Some(raw)),
        };
        if version.is_none() {
            warnings.push(format!(
                "{file}: {}: version {raw:?} is not a registry version; recorded without one",
                n.path
            ));
        }
        let mut comp = npm_component(name, version, file, &mut warnings);
        set_scope(&mut comp, n.dep.dev, n.dep.optional);
        add_integrity(&mut comp, n.dep.integrity.as_deref());
        if is_location(raw) {
            comp.properties
                .insert("palisade:vcs".into(), raw.to_owned());
        } else if let Some(r) = n.dep.resolved.as_deref().filter(|r| r.starts_with("git")) {
            comp.properties.insert("palisade:vcs".into(), r.to_owned());
        }
        refs.push(c.add(comp));
    }
    for (i, n) in nodes.iter().enumerate() {
        for dep in n.dep.requires.keys() {
            // Look in this node's own dependencies, then each ancestor's.
            let mut scope = Some(i);
            let mut found = None;
            loop {
                if let Some(idx) = children.get(&(scope, dep.as_str())) {
                    found = Some(*idx);
                    break;
                }
                match scope {
                    None => break,
                    Some(s) => scope = nodes.get(s).and_then(|x| x.parent),
                }
            }
            match found.and_then(|f| refs.get(f)) {
                Some(to) => {
                    if let Some(from) = refs.get(i) {
                        c.edge(from, to);
                    }
                }
                None => warnings.push(format!(
                    "{file}: {}.requires: {dep:?} is not in the lockfile",
                    n.path
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

    const V3: &str = r#"{
  "name": "demo", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": { "name": "demo", "version": "1.0.0", "dependencies": { "a": "^1.0.0", "w": "*" }, "devDependencies": { "@types/node": "^20" } },
    "node_modules/a": { "version": "1.2.0", "resolved": "https://r/a.tgz", "integrity": "sha512-AAAA", "dependencies": { "b": "^2" }, "license": "MIT" },
    "node_modules/a/node_modules/b": { "version": "2.0.1" },
    "node_modules/b": { "version": "1.0.0" },
    "node_modules/@types/node": { "version": "20.1.0", "dev": true },
    "node_modules/alias": { "name": "real", "version": "3.0.0" },
    "node_modules/w": { "resolved": "packages/w", "link": true },
    "packages/w": { "name": "w", "version": "0.0.1", "dependencies": { "b": "^1" } }
  }
}"#;

    #[test]
    fn v3_components_scopes_and_nested_resolution() {
        let inv = parse("package-lock.json", V3.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:npm/%40types/node@20.1.0",
                "pkg:npm/a@1.2.0",
                "pkg:npm/b@1.0.0",
                "pkg:npm/b@2.0.1",
                "pkg:npm/real@3.0.0",
                "pkg:npm/w@0.0.1"
            ]
        );
        let deps = &inv.dependencies;
        assert!(deps["pkg:npm/a@1.2.0"].contains("pkg:npm/b@2.0.1"));
        assert!(deps["pkg:npm/w@0.0.1"].contains("pkg:npm/b@1.0.0"));
        let types = inv.components.iter().find(|c| c.name == "@types/node");
        assert_eq!(types.and_then(|c| c.scope), Some(Scope::Optional));
        let a = inv.components.iter().find(|c| c.name == "a");
        assert_eq!(a.and_then(|c| c.license.clone()).as_deref(), Some("MIT"));
        assert_eq!(
            a.map(|c| c.hashes["SHA-512"].clone()).as_deref(),
            Some("000000")
        );
    }

    #[test]
    fn v1_tree_with_alias_and_git() {
        let v1 = r#"{"lockfileVersion": 1, "dependencies": {
            "a": {"version": "1.0.0", "requires": {"b": "^1"}, "dependencies": {"b": {"version": "1.5.0"}}},
            "b": {"version": "2.0.0", "dev": true},
            "c": {"version": "npm:real@4.0.0"},
            "g": {"version": "git+https://x/g.git#abc", "requires": {"b": "^2"}}
        }}"#;
        let inv = parse("package-lock.json", v1.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:npm/a@1.0.0",
                "pkg:npm/b@1.5.0",
                "pkg:npm/b@2.0.0",
                "pkg:npm/g",
                "pkg:npm/real@4.0.0"
            ]
        );
        assert!(inv.dependencies["pkg:npm/a@1.0.0"].contains("pkg:npm/b@1.5.0"));
        assert!(inv.dependencies["package-lock.json#g"].contains("pkg:npm/b@2.0.0"));
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("$.dependencies[\"g\"]"))
        );
    }

    #[test]
    fn bad_json_and_unknown_versions_are_errors() {
        let e = parse(
            "p.json",
            b"{\"lockfileVersion\": 3, \"packages\": {\"x\": 1}}",
            &Limits::default(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.starts_with("p.json: line 1, column"), "{e}");
        let e = parse("p.json", b"{\"lockfileVersion\": 9}", &Limits::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("lockfileVersion 9 is not supported"), "{e}");
    }
}
