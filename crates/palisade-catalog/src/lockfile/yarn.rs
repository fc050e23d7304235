//! Yarn `yarn.lock`: classic (v1, Yarn's own line format) and Berry (Yarn 2+,
//! a YAML document with a `__metadata` entry).
//!
//! Both formats key each entry by the comma-separated descriptors that
//! resolved to it (`a@^1.0.0, a@^1.1.0`), so edges are found by looking the
//! dependency's `name@range` descriptor up among those keys. The package name
//! comes from the descriptor (or, in Berry, the `resolution`), which also
//! unwraps `npm:` aliases and `patch:` wrappers; the version is the entry's
//! `version`. Berry `workspace:` entries are the project's own folders: the
//! root (`workspace:.`) is not a component, the others are, marked
//! `yarn:local`; `link:` and `portal:` entries point outside the lockfile's
//! knowledge and are reported. Yarn records no dev/prod distinction, so no
//! scope is set.

use std::collections::{BTreeMap, HashMap};

use palisade_inventory::Inventory;
use palisade_versions::Ecosystem;
use serde::Deserialize;

use crate::common::{Collector, Limits, Pkg, component, utf8, yaml};
use crate::error::{CatalogError, Result};

/// Parses a `yarn.lock` of either generation.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let is_berry = text
        .lines()
        .any(|l| l.starts_with("__metadata:") || l.starts_with("\"__metadata\":"));
    if is_berry {
        parse_berry(file, text, limits)
    } else {
        parse_classic(file, text, limits)
    }
}

/// Splits `name@range` at the `@` that ends the name (a scope's leading `@`
/// belongs to the name).
pub(crate) fn split_descriptor(desc: &str) -> Option<(&str, &str)> {
    let at = desc.get(1..)?.find('@')? + 1;
    Some((desc.get(..at)?, desc.get(at + 1..)?))
}

/// Splits `@scope/name` into the purl namespace and name.
fn split_scope(name: &str) -> (Option<&str>, &str) {
    match name.strip_prefix('@').and_then(|_| name.split_once('/')) {
        Some((scope, n)) => (Some(scope), n),
        None => (None, name),
    }
}

/// The real package name behind a descriptor: `alias@npm:real@^1` is `real`.
fn real_name<'a>(name: &'a str, range: &'a str) -> &'a str {
    range
        .strip_prefix("npm:")
        .and_then(|r| split_descriptor(r).map(|(n, _)| n))
        .unwrap_or(name)
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
}

struct ClassicEntry {
    line: usize,
    descriptors: Vec<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    deps: Vec<(String, String)>,
}

fn parse_classic(file: &str, text: &str, limits: &Limits) -> Result<Inventory> {
    let mut entries: Vec<ClassicEntry> = Vec::new();
    let mut section: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end();
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim_start();
        match indent {
            0 => {
                let Some(keys) = body.strip_suffix(':') else {
                    return Err(CatalogError::at_line(
                        file,
                        line_no,
                        "an entry header must end with ':'",
                    ));
                };
                let descriptors = keys.split(", ").map(|d| unquote(d).to_owned()).collect();
                entries.push(ClassicEntry {
                    line: line_no,
                    descriptors,
                    version: None,
                    resolved: None,
                    integrity: None,
                    deps: Vec::new(),
                });
                section = None;
                limits.check_components(file, entries.len())?;
            }
            2 => {
                let Some(entry) = entries.last_mut() else {
                    return Err(CatalogError::at_line(
                        file,
                        line_no,
                        "a field appears before any entry",
                    ));
                };
                if let Some(key) = body.strip_suffix(':') {
                    section = Some(unquote(key).to_owned());
                    continue;
                }
                section = None;
                let (key, value) = split_field(body).ok_or_else(|| {
                    CatalogError::at_line(file, line_no, "a field needs a key and a value")
                })?;
                match key {
                    "version" => entry.version = Some(value.to_owned()),
                    "resolved" => entry.resolved = Some(value.to_owned()),
                    "integrity" => entry.integrity = Some(value.to_owned()),
                    _ => {}
                }
            }
            4 => {
                let Some(entry) = entries.last_mut() else {
                    return Err(CatalogError::at_line(
                        file,
                        line_no,
                        "a field appears before any entry",
                    ));
                };
                let (name, range) = split_field(body).ok_or_else(|| {
                    CatalogError::at_line(file, line_no, "a dependency needs a name and a range")
                })?;
                if matches!(
                    section.as_deref(),
                    Some("dependencies" | "optionalDependencies")
                ) {
                    entry.deps.push((name.to_owned(), range.to_owned()));
                }
            }
            _ => {
                return Err(CatalogError::at_line(
                    file,
                    line_no,
                    format!("unexpected indentation of {indent} spaces"),
                ));
            }
        }
    }
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut by_desc: HashMap<&str, String> = HashMap::new();
    for e in &entries {
        let first = e
            .descriptors
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let Some((name, range)) = split_descriptor(first) else {
            return Err(CatalogError::at_line(
                file,
                e.line,
                format!("{first:?} is not name@range"),
            ));
        };
        let name = real_name(name, range);
        let Some(version) = e.version.as_deref() else {
            return Err(CatalogError::at_line(
                file,
                e.line,
                format!("entry {first:?} has no version"),
            ));
        };
        let (ns, n) = split_scope(name);
        let mut comp = component(
            &Pkg {
                ty: "npm",
                namespace: ns,
                name: n,
                version: Some(version),
                ecosystem: Some(Ecosystem::Npm),
                display_name: Some(name.to_owned()),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        super::npm::add_integrity(&mut comp, e.integrity.as_deref());
        if let Some(r) = e.resolved.as_deref().filter(|r| !r.contains("/-/")) {
            comp.properties.insert("yarn:resolved".into(), r.to_owned());
        }
        let r = c.add(comp);
        for d in &e.descriptors {
            by_desc.insert(d.as_str(), r.clone());
        }
    }
    for e in &entries {
        let first = e
            .descriptors
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let Some(from) = by_desc.get(first).cloned() else {
            continue;
        };
        for (name, range) in &e.deps {
            let key = format!("{name}@{range}");
            match by_desc.get(key.as_str()) {
                Some(to) => c.edge(&from, to),
                None => warnings.push(format!(
                    "{file}: line {}: dependency {key:?} has no entry",
                    e.line
                )),
            }
        }
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

/// Splits `key value` or `"key" "value"` at the first unquoted space.
fn split_field(body: &str) -> Option<(&str, &str)> {
    if let Some(rest) = body.strip_prefix('"') {
        let end = rest.find('"')?;
        let key = rest.get(..end)?;
        let value = rest.get(end + 1..)?.trim();
        return Some((key, unquote(value)));
    }
    let (k, v) = body.split_once(' ')?;
    Some((k, unquote(v)))
}

#[derive(Deserialize)]
struct BerryEntry {
    #[serde(default)]
    version: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    checksum: Option<String>,
}

fn yaml_scalar(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_berry(file: &str, text: &str, limits: &Limits) -> Result<Inventory> {
    let doc: BTreeMap<String, serde_yaml_ng::Value> = yaml(file, text, limits)?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut by_desc: HashMap<String, String> = HashMap::new();
    let mut parsed: Vec<(String, BerryEntry)> = Vec::new();
    for (key, value) in doc {
        if key == "__metadata" {
            continue;
        }
        let entry: BerryEntry = serde_yaml_ng::from_value(value).map_err(|e| {
            CatalogError::malformed(
                file,
                crate::error::Position::Record(format!("entry {key:?}")),
                e.to_string(),
            )
        })?;
        parsed.push((key, entry));
        limits.check_components(file, parsed.len())?;
    }
    for (key, e) in &parsed {
        let resolution = e
            .resolution
            .as_deref()
            .unwrap_or(key.split(", ").next().unwrap_or_default());
        let Some((name, reference)) = split_descriptor(resolution) else {
            return Err(CatalogError::malformed(
                file,
                crate::error::Position::Record(format!("entry {key:?}")),
                format!("resolution {resolution:?} is not name@reference"),
            ));
        };
        let protocol = reference.split(':').next().unwrap_or_default();
        if protocol == "workspace" && reference == "workspace:." {
            continue;
        }
        if matches!(protocol, "link" | "portal") {
            warnings.push(format!(
                "{file}: entry {key:?}: {protocol}: dependency {resolution:?} points outside the lockfile; not inventoried"
            ));
            continue;
        }
        let version = e.version.as_ref().and_then(yaml_scalar);
        let (ns, n) = split_scope(name);
        let mut comp = component(
            &Pkg {
                ty: "npm",
                namespace: ns,
                name: n,
                version: version.as_deref(),
                ecosystem: Some(Ecosystem::Npm),
                display_name: Some(name.to_owned()),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        if protocol == "workspace" {
            comp.properties
                .insert("yarn:local".into(), reference.to_owned());
        } else if protocol != "npm" {
            comp.properties
                .insert("yarn:resolution".into(), resolution.to_owned());
        }
        if let Some(sum) = &e.checksum {
            comp.properties.insert("yarn:checksum".into(), sum.clone());
        }
        let r = c.add(comp);
        for d in key.split(',') {
            by_desc.insert(d.trim().to_owned(), r.clone());
        }
    }
    for (key, e) in &parsed {
        let first = key.split(',').next().unwrap_or_default().trim();
        let Some(from) = by_desc.get(first).cloned() else {
            continue;
        };
        for (name, range) in e.dependencies.iter().chain(&e.optional_dependencies) {
            let range = yaml_scalar(range).unwrap_or_default();
            let direct = format!("{name}@{range}");
            let with_npm = format!("{name}@npm:{range}");
            match by_desc.get(&direct).or_else(|| by_desc.get(&with_npm)) {
                Some(to) => c.edge(&from, to),
                None if e.optional_dependencies.contains_key(name) => {}
                None => warnings.push(format!(
                    "{file}: entry {key:?}: dependency {direct:?} has no entry"
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

    const CLASSIC: &str = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.12.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc826beef65e75c50e21d3837d7d95798dd658"
  integrity sha512-AAAA
  dependencies:
    "@babel/highlight" "^7.12.13"

"@babel/highlight@^7.12.13":
  version "7.13.10"

my-alias@npm:lodash@^4.17.0:
  version "4.17.21"
"#;

    #[test]
    fn classic_entries_aliases_and_edges() {
        let inv = parse("yarn.lock", CLASSIC.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:npm/%40babel/code-frame@7.12.13",
                "pkg:npm/%40babel/highlight@7.13.10",
                "pkg:npm/lodash@4.17.21"
            ]
        );
        assert!(
            inv.dependencies["pkg:npm/%40babel/code-frame@7.12.13"]
                .contains("pkg:npm/%40babel/highlight@7.13.10")
        );
    }

    const BERRY: &str = r#"# This file is generated by running "yarn install" inside your project.
__metadata:
  version: 8
  cacheKey: 10c0

"demo@workspace:.":
  version: 0.0.0-use.local
  resolution: "demo@workspace:."
  dependencies:
    lodash: "npm:^4.17.21"
  languageName: unknown
  linkType: soft

"lodash@npm:^4.17.21":
  version: 4.17.21
  resolution: "lodash@npm:4.17.21"
  checksum: 10c0/d8cbea
  languageName: node
  linkType: hard

"resolve@patch:resolve@npm%3A^1.20.0#optional!builtin<compat/resolve>":
  version: 1.22.8
  resolution: "resolve@patch:resolve@npm%3A1.22.8#optional!builtin<compat/resolve>::version=1.22.8&hash=c3c19d"
  dependencies:
    lodash: "npm:^4.17.21"
  languageName: node
  linkType: hard
"#;

    #[test]
    fn berry_entries_patches_and_edges() {
        let inv = parse("yarn.lock", BERRY.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(purls, ["pkg:npm/lodash@4.17.21", "pkg:npm/resolve@1.22.8"]);
        assert!(inv.dependencies["pkg:npm/resolve@1.22.8"].contains("pkg:npm/lodash@4.17.21"));
    }

    #[test]
    fn classic_errors_name_the_line() {
        let bad = "a@^1:\n  version \"1\"\n      deep \"x\"\n";
        let e = parse("yarn.lock", bad.as_bytes(), &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("yarn.lock: line 3: unexpected indentation of 6 spaces")
        );
    }
}
