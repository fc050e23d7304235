//! NuGet `packages.lock.json` (versions 1 and 2).
//!
//! `dependencies` maps each target framework (optionally with a runtime
//! identifier, `net8.0/linux-x64`) to the packages resolved for it, each
//! with a `type` (`Direct`, `Transitive`, `CentralTransitive`, `Project`),
//! a `resolved` version and its own `dependencies` by name. A package locked
//! for several frameworks at one version is one component. `Project`
//! entries are other projects of the solution, not packages, and are not
//! components. `contentHash` is the base64 SHA-512 of the `.nupkg`.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use palisade_inventory::Inventory;
use palisade_versions::Ecosystem;
use serde::Deserialize;

use crate::common::{Collector, Limits, Pkg, component, jkey, json};
use crate::error::{CatalogError, Position, Result};

#[derive(Deserialize)]
struct Lock {
    version: u32,
    #[serde(default)]
    dependencies: BTreeMap<String, BTreeMap<String, Entry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    content_hash: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
}

/// Parses a NuGet `packages.lock.json`.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let lock: Lock = json(file, bytes)?;
    if !(1..=2).contains(&lock.version) {
        return Err(CatalogError::Unsupported {
            file: file.to_owned(),
            format: format!("packages.lock.json version {}", lock.version),
            reason: "versions 1 and 2 are supported".into(),
        });
    }
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    // (framework, lower-cased name) -> bom_ref
    let mut refs: HashMap<(&str, String), String> = HashMap::new();
    for (fw, pkgs) in &lock.dependencies {
        for (name, e) in pkgs {
            if e.kind.as_deref() == Some("Project") {
                continue;
            }
            let Some(version) = e.resolved.as_deref() else {
                return Err(CatalogError::malformed(
                    file,
                    Position::JsonPath(format!("$.dependencies{}{}", jkey(fw), jkey(name))),
                    "a package has no resolved version",
                ));
            };
            let mut comp = component(
                &Pkg {
                    ty: "nuget",
                    name,
                    version: Some(version),
                    ecosystem: Some(Ecosystem::NuGet),
                    ..Pkg::default()
                },
                file,
                &mut warnings,
            );
            if let Some(h) = e.content_hash.as_deref()
                && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(h)
            {
                comp.hashes
                    .insert("SHA-512".into(), crate::common::hex_lower(&raw));
            }
            if e.kind.as_deref() == Some("Direct") {
                comp.properties.insert("nuget:direct".into(), "true".into());
            }
            refs.insert((fw.as_str(), name.to_lowercase()), c.add(comp));
            limits.check_components(file, c.len())?;
        }
    }
    for (fw, pkgs) in &lock.dependencies {
        for (name, e) in pkgs {
            let Some(from) = refs.get(&(fw.as_str(), name.to_lowercase())).cloned() else {
                continue;
            };
            for dep in e.dependencies.keys() {
                match refs.get(&(fw.as_str(), dep.to_lowercase())) {
                    Some(to) => c.edge(&from, to),
                    None => warnings.push(format!(
                        "{file}: $.dependencies{}{}: dependency {dep:?} is not locked for this framework",
                        jkey(fw),
                        jkey(name)
                    )),
                }
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

    #[test]
    fn frameworks_merge_and_projects_are_skipped() {
        let lock = r#"{"version": 1, "dependencies": {
          "net8.0": {
            "Newtonsoft.Json": {"type": "Direct", "requested": "[13.0.3, )", "resolved": "13.0.3", "contentHash": "AAAA", "dependencies": {"System.Memory": "4.5.0"}},
            "System.Memory": {"type": "Transitive", "resolved": "4.5.5"},
            "MyLib": {"type": "Project"}
          },
          "net8.0/linux-x64": {"Newtonsoft.Json": {"type": "Direct", "resolved": "13.0.3"}}
        }}"#;
        let inv =
            parse("packages.lock.json", lock.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:nuget/Newtonsoft.Json@13.0.3",
                "pkg:nuget/System.Memory@4.5.5"
            ]
        );
        assert!(
            inv.dependencies["pkg:nuget/Newtonsoft.Json@13.0.3"]
                .contains("pkg:nuget/System.Memory@4.5.5")
        );
        assert_eq!(inv.components[0].locations.len(), 1);
    }
}
