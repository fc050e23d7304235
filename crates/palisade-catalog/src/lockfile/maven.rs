//! Maven `pom.xml`: the dependencies it declares with explicit versions.
//!
//! A POM is not a lockfile: the versions actually resolved depend on parent
//! POMs, imported BOMs and Maven's nearest-wins mediation, none of which is
//! in the file. So only `project/dependencies/dependency` entries whose
//! version is written in the file (directly or through a `${property}`
//! defined in it, or `${project.version}`) become components, each marked
//! `maven:version-source = declared`; entries whose version is managed
//! elsewhere, or is a range, are reported as warnings naming the line.
//! `dependencyManagement` and profiles declare possibilities, not
//! dependencies, and are not read. `test` and `provided` scopes get scope
//! optional, `optional` dependencies too.
//!
//! The XML is parsed with `roxmltree` with DTDs refused (no entity
//! expansion) and a node limit.

use std::collections::BTreeMap;

use palisade_inventory::{Inventory, Scope};
use palisade_versions::Ecosystem;

use crate::common::{Collector, Limits, Pkg, component, utf8};
use crate::error::{CatalogError, Result};

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name).and_then(|c| c.text()).map(str::trim)
}

/// Replaces `${name}` references from `props`, up to a fixed depth.
fn interpolate(value: &str, props: &BTreeMap<String, String>) -> Option<String> {
    let mut v = value.to_owned();
    for _ in 0..10 {
        let Some(start) = v.find("${") else {
            return Some(v);
        };
        let end = v.get(start..)?.find('}')? + start;
        let key = v.get(start + 2..end)?;
        let replacement = props.get(key)?;
        v = format!("{}{}{}", v.get(..start)?, replacement, v.get(end + 1..)?);
    }
    (!v.contains("${")).then_some(v)
}

/// Parses a `pom.xml`.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text_src = utf8(file, bytes)?;
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(limits.max_components.saturating_mul(16)).unwrap_or(u32::MAX),
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text_src, opts).map_err(|e| {
        let pos = e.pos();
        CatalogError::malformed(
            file,
            crate::error::Position::LineColumn(pos.row as usize, pos.col as usize),
            e.to_string(),
        )
    })?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return Err(CatalogError::at_line(
            file,
            1,
            "the root element is not <project>",
        ));
    }
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    if let Some(p) = child(project, "properties") {
        for prop in p.children().filter(|c| c.is_element()) {
            props.insert(
                prop.tag_name().name().to_owned(),
                prop.text().unwrap_or_default().trim().to_owned(),
            );
        }
    }
    let parent = child(project, "parent");
    let version = text(project, "version").or_else(|| parent.and_then(|p| text(p, "version")));
    let group = text(project, "groupId").or_else(|| parent.and_then(|p| text(p, "groupId")));
    for (k, v) in [
        ("project.version", version),
        ("pom.version", version),
        ("version", version),
        ("project.groupId", group),
        ("pom.groupId", group),
        (
            "project.parent.version",
            parent.and_then(|p| text(p, "version")),
        ),
        (
            "project.parent.groupId",
            parent.and_then(|p| text(p, "groupId")),
        ),
    ] {
        if let Some(v) = v {
            props.entry(k.to_owned()).or_insert_with(|| v.to_owned());
        }
    }
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    let Some(deps) = child(project, "dependencies") else {
        return Ok(c.finish());
    };
    for dep in deps
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "dependency")
    {
        let line = doc.text_pos_at(dep.range().start).row;
        let g = text(dep, "groupId").and_then(|g| interpolate(g, &props));
        let a = text(dep, "artifactId").and_then(|a| interpolate(a, &props));
        let (Some(g), Some(a)) = (g, a) else {
            warnings.push(format!("{file}: line {line}: dependency without a resolvable groupId and artifactId; skipped"));
            continue;
        };
        let raw_version = text(dep, "version");
        let version = raw_version.and_then(|v| interpolate(v, &props));
        let Some(version) = version else {
            let why = match raw_version {
                None => "its version is managed elsewhere (parent or BOM)".to_owned(),
                Some(v) => format!("its version {v:?} uses a property not defined in this file"),
            };
            warnings.push(format!(
                "{file}: line {line}: {g}:{a}: {why}; not inventoried"
            ));
            continue;
        };
        if version.starts_with('[') || version.starts_with('(') {
            warnings.push(format!("{file}: line {line}: {g}:{a}: version range {version:?} is not a version; not inventoried"));
            continue;
        }
        let mut comp = component(
            &Pkg {
                ty: "maven",
                namespace: Some(&g),
                name: &a,
                version: Some(&version),
                ecosystem: Some(Ecosystem::Maven),
                display_name: Some(format!("{g}:{a}")),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        comp.properties
            .insert("maven:version-source".into(), "declared".into());
        let scope = text(dep, "scope").unwrap_or("compile");
        if scope != "compile" {
            comp.properties
                .insert("maven:scope".into(), scope.to_owned());
        }
        if matches!(scope, "test" | "provided" | "system") || text(dep, "optional") == Some("true")
        {
            comp.scope = Some(Scope::Optional);
        }
        c.add(comp);
    }
    for w in warnings {
        c.warn(w);
    }
    Ok(c.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>app</artifactId>
  <version>1.2.0</version>
  <properties>
    <jackson.version>2.17.1</jackson.version>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency><groupId>x</groupId><artifactId>managed</artifactId><version>9</version></dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
      <version>${jackson.version}</version>
    </dependency>
    <dependency>
      <groupId>${project.groupId}</groupId>
      <artifactId>sibling</artifactId>
      <version>${project.version}</version>
    </dependency>
    <dependency>
      <groupId>junit</groupId>
      <artifactId>junit</artifactId>
      <version>4.13.2</version>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
    </dependency>
  </dependencies>
</project>
"#;

    #[test]
    fn declared_versions_only() {
        let inv = parse("pom.xml", POM.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:maven/com.example/sibling@1.2.0",
                "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.17.1",
                "pkg:maven/junit/junit@4.13.2"
            ]
        );
        assert_eq!(inv.components[2].scope, Some(Scope::Optional));
        assert_eq!(inv.warnings.len(), 1);
        assert!(
            inv.warnings[0]
                .contains("line 32: org.slf4j:slf4j-api: its version is managed elsewhere"),
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn dtds_are_refused() {
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><project/>";
        let e = parse("pom.xml", bomb.as_bytes(), &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().starts_with("pom.xml: line 1"));
    }
}
