//! Bundler `Gemfile.lock`.
//!
//! The file is a sequence of sections (`GEM`, `GIT`, `PATH`, `PLATFORMS`,
//! `DEPENDENCIES`, `RUBY VERSION`, `BUNDLED WITH`). Inside a source section,
//! `specs:` lists each gem at four spaces of indentation as `name (version)`
//! or `name (version-platform)`, and its dependencies at six spaces. A
//! platform suffix becomes the purl's `platform` qualifier (gem versions
//! cannot contain `-`, so the first `-` starts the platform). Dependencies
//! name gems without a version; an edge goes to every locked variant of the
//! named gem (one per platform). Gems from `GIT` and `PATH` sections keep
//! their remote as a property.

use std::collections::HashMap;

use palisade_inventory::Inventory;
use palisade_versions::Ecosystem;

use crate::common::{Collector, Limits, Pkg, component, utf8};
use crate::error::{CatalogError, Result};

/// Parses a `Gemfile.lock`.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let mut section = String::new();
    let mut remote = String::new();
    let mut in_specs = false;
    let mut current: Option<String> = None;
    let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
    let mut pending: Vec<(String, String, usize)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end();
        if line.is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim_start();
        if indent == 0 {
            section = body.to_owned();
            remote.clear();
            in_specs = false;
            current = None;
            continue;
        }
        if !matches!(section.as_str(), "GEM" | "GIT" | "PATH" | "PLUGIN SOURCE") {
            continue;
        }
        match indent {
            2 => {
                if let Some(r) = body.strip_prefix("remote: ") {
                    remote = r.to_owned();
                }
                in_specs = body == "specs:";
            }
            4 if in_specs => {
                let (name, version) = name_and_paren(body).ok_or_else(|| {
                    CatalogError::at_line(
                        file,
                        line_no,
                        format!("{body:?} is not `name (version)`"),
                    )
                })?;
                let Some(version) = version else {
                    return Err(CatalogError::at_line(
                        file,
                        line_no,
                        format!("gem {name} has no version"),
                    ));
                };
                let (v, platform) = match version.split_once('-') {
                    Some((v, p)) => (v, Some(p)),
                    None => (version, None),
                };
                let mut quals = Vec::new();
                if let Some(p) = platform {
                    quals.push(("platform", p));
                }
                let mut comp = component(
                    &Pkg {
                        ty: "gem",
                        name,
                        version: Some(v),
                        qualifiers: quals,
                        ecosystem: Some(Ecosystem::RubyGems),
                        ..Pkg::default()
                    },
                    file,
                    &mut warnings,
                );
                if section != "GEM" {
                    comp.properties
                        .insert(format!("gem:{}", section.to_lowercase()), remote.clone());
                }
                let r = c.add(comp);
                by_name.entry(name.to_owned()).or_default().push(r.clone());
                current = Some(r);
                limits.check_components(file, c.len())?;
            }
            6 if in_specs => {
                let (dep, _) = name_and_paren(body).ok_or_else(|| {
                    CatalogError::at_line(file, line_no, format!("{body:?} is not a dependency"))
                })?;
                if let Some(from) = &current {
                    pending.push((from.clone(), dep.to_owned(), line_no));
                }
            }
            _ => {}
        }
    }
    for (from, dep, line_no) in pending {
        match by_name.get(&dep) {
            Some(targets) => {
                for t in targets {
                    c.edge(&from, t);
                }
            }
            // Bundler itself and default gems are not locked as specs.
            None if dep == "bundler" => {}
            None => warnings.push(format!(
                "{file}: line {line_no}: dependency {dep:?} is not locked"
            )),
        }
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

/// Splits `name (x)` into `name` and `x`; a bare `name` has no parenthesis.
fn name_and_paren(body: &str) -> Option<(&str, Option<&str>)> {
    match body.split_once(' ') {
        Some((name, rest)) => {
            let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
            Some((name.trim_end_matches('!'), Some(inner)))
        }
        None => Some((body.trim_end_matches('!'), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "GIT
  remote: https://github.com/x/y.git
  revision: abc
  specs:
    y (0.1.0)

GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.16.5-x86_64-linux)
      racc (~> 1.4)
    nokogiri (1.16.5-arm64-darwin)
      racc (~> 1.4)
    racc (1.8.0)
    rails (7.1.3)
      bundler (>= 1.15.0)

PLATFORMS
  x86_64-linux

DEPENDENCIES
  nokogiri
  y!

BUNDLED WITH
   2.5.6
";

    #[test]
    fn platforms_sources_and_edges() {
        let inv = parse("Gemfile.lock", LOCK.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:gem/nokogiri@1.16.5?platform=arm64-darwin",
                "pkg:gem/nokogiri@1.16.5?platform=x86_64-linux",
                "pkg:gem/racc@1.8.0",
                "pkg:gem/rails@7.1.3",
                "pkg:gem/y@0.1.0"
            ]
        );
        assert!(
            inv.dependencies["pkg:gem/nokogiri@1.16.5?platform=x86_64-linux"]
                .contains("pkg:gem/racc@1.8.0")
        );
        assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
        let y = inv.components.iter().find(|c| c.name == "y");
        assert_eq!(
            y.map(|c| c.properties["gem:git"].as_str()),
            Some("https://github.com/x/y.git")
        );
    }

    #[test]
    fn spec_without_version_names_the_line() {
        let e = parse(
            "Gemfile.lock",
            b"GEM\n  specs:\n    rack\n",
            &Limits::default(),
        )
        .err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("Gemfile.lock: line 3: gem rack has no version")
        );
    }
}
