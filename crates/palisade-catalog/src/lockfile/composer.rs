//! PHP Composer `composer.lock`.
//!
//! `packages` and `packages-dev` are arrays of installed packages named
//! `vendor/name`. The version is recorded as written (Composer keeps a
//! leading `v` from the tag, and Packagist advisories compare it the same
//! way). `require` entries that name installed packages become edges;
//! platform requirements (`php`, `ext-*`, `lib-*`, `composer-*`) are not
//! packages and are skipped.

use std::collections::{BTreeMap, HashMap};

use palisade_inventory::{Inventory, Scope};
use palisade_versions::Ecosystem;
use serde::Deserialize;

use crate::common::{Collector, Limits, Pkg, component, json};
use crate::error::{CatalogError, Position, Result};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    packages: Vec<Package>,
    #[serde(default, rename = "packages-dev")]
    packages_dev: Option<Vec<Package>>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    require: BTreeMap<String, String>,
    #[serde(default)]
    license: Vec<String>,
    #[serde(default)]
    dist: Option<Dist>,
    #[serde(default)]
    source: Option<Source>,
}

#[derive(Deserialize)]
struct Dist {
    #[serde(default)]
    shasum: Option<String>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    reference: Option<String>,
}

/// Parses a `composer.lock`.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let lock: Lock = json(file, bytes)?;
    let dev = lock.packages_dev.unwrap_or_default();
    limits.check_components(file, lock.packages.len() + dev.len())?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut by_name: HashMap<String, String> = HashMap::new();
    for (section, list, is_dev) in [
        ("packages", &lock.packages, false),
        ("packages-dev", &dev, true),
    ] {
        for (i, p) in list.iter().enumerate() {
            let Some((vendor, name)) = p.name.split_once('/') else {
                return Err(CatalogError::malformed(
                    file,
                    Position::JsonPath(format!("$.{section}[{i}].name")),
                    format!("{:?} is not vendor/name", p.name),
                ));
            };
            let mut comp = component(
                &Pkg {
                    ty: "composer",
                    namespace: Some(vendor),
                    name,
                    version: Some(&p.version),
                    ecosystem: Some(Ecosystem::Packagist),
                    display_name: Some(p.name.clone()),
                    ..Pkg::default()
                },
                file,
                &mut warnings,
            );
            if is_dev {
                comp.scope = Some(Scope::Optional);
                comp.properties.insert("composer:dev".into(), "true".into());
            }
            if !p.license.is_empty() {
                comp.license = Some(if p.license.len() == 1 {
                    p.license.join("")
                } else {
                    format!("({})", p.license.join(" OR "))
                });
            }
            if let Some(sum) = p
                .dist
                .as_ref()
                .and_then(|d| d.shasum.as_deref())
                .filter(|s| s.len() == 40)
            {
                comp.hashes.insert("SHA-1".into(), sum.to_owned());
            }
            if let Some(s) = &p.source
                && s.kind.as_deref() == Some("git")
            {
                let url = s.url.clone().unwrap_or_default();
                let r = s.reference.clone().unwrap_or_default();
                comp.properties
                    .insert("palisade:vcs".into(), format!("{url}@{r}"));
            }
            by_name.insert(p.name.to_lowercase(), c.add(comp));
        }
    }
    for p in lock.packages.iter().chain(&dev) {
        let Some(from) = by_name.get(&p.name.to_lowercase()).cloned() else {
            continue;
        };
        for dep in p.require.keys() {
            let platform = dep == "php"
                || dep.starts_with("ext-")
                || dep.starts_with("lib-")
                || dep.starts_with("composer-")
                || dep == "composer"
                || dep.starts_with("php-");
            match by_name.get(&dep.to_lowercase()) {
                Some(to) => c.edge(&from, to),
                None if platform => {}
                None => warnings.push(format!(
                    "{file}: {}: required package {dep:?} is not locked (replaced or provided?)",
                    p.name
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

    #[test]
    fn packages_dev_and_edges() {
        let lock = r#"{"packages": [
            {"name": "monolog/monolog", "version": "3.5.0", "require": {"php": ">=8.1", "psr/log": "^2.0 || ^3.0"}, "license": ["MIT"],
             "dist": {"type": "zip", "shasum": ""}},
            {"name": "psr/log", "version": "3.0.0"}],
          "packages-dev": [{"name": "phpunit/phpunit", "version": "10.5.0", "license": ["BSD-3-Clause"]}]}"#;
        let inv = parse("composer.lock", lock.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:composer/monolog/monolog@3.5.0",
                "pkg:composer/phpunit/phpunit@10.5.0",
                "pkg:composer/psr/log@3.0.0"
            ]
        );
        assert!(
            inv.dependencies["pkg:composer/monolog/monolog@3.5.0"]
                .contains("pkg:composer/psr/log@3.0.0")
        );
        assert_eq!(inv.components[1].scope, Some(Scope::Optional));
        assert!(inv.warnings.is_empty());
    }

    #[test]
    fn names_without_vendor_are_errors_with_json_path() {
        let e = parse(
            "composer.lock",
            br#"{"packages": [{"name": "bad", "version": "1"}]}"#,
            &Limits::default(),
        )
        .err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("composer.lock: at $.packages[0].name: \"bad\" is not vendor/name")
        );
    }
}
