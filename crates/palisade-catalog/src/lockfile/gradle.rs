//! Gradle dependency locking: `gradle.lockfile` (Gradle 6+) and the older
//! per-configuration files under `gradle/dependency-locks/`.
//!
//! Each line is `group:artifact:version=configuration,configuration`
//! (the per-configuration format has no `=` part); `#` starts a comment and
//! `empty=` lists configurations without dependencies. A module locked only
//! in test configurations (`test…`, `…Test…`) gets scope optional. Gradle
//! lockfiles record no edges.

use palisade_inventory::{Inventory, Scope};
use palisade_versions::Ecosystem;

use crate::common::{Collector, Limits, Pkg, component, utf8};
use crate::error::{CatalogError, Result};

/// Parses a Gradle lockfile.
pub fn parse(file: &str, bytes: &[u8], limits: &Limits) -> Result<Inventory> {
    let text = utf8(file, bytes)?;
    let mut c = Collector::default();
    let mut warnings = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let (coords, configs) = match line.split_once('=') {
            Some((a, b)) => (a, Some(b)),
            None => (line, None),
        };
        let parts: Vec<&str> = coords.split(':').collect();
        let [group, artifact, version] = parts.as_slice() else {
            return Err(CatalogError::at_line(
                file,
                i + 1,
                format!("{coords:?} is not group:artifact:version"),
            ));
        };
        let mut comp = component(
            &Pkg {
                ty: "maven",
                namespace: Some(group),
                name: artifact,
                version: Some(version),
                ecosystem: Some(Ecosystem::Maven),
                display_name: Some(format!("{group}:{artifact}")),
                ..Pkg::default()
            },
            file,
            &mut warnings,
        );
        if let Some(cfgs) = configs {
            let test_only = cfgs
                .split(',')
                .all(|c| c.starts_with("test") || c.contains("Test"));
            if test_only {
                comp.scope = Some(Scope::Optional);
            }
            comp.properties
                .insert("gradle:configurations".into(), cfgs.to_owned());
        }
        c.add(comp);
        limits.check_components(file, c.len())?;
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
    fn lines_and_test_scopes() {
        let lock = "# This is a Gradle generated file\ncom.google.guava:guava:32.1.3-jre=compileClasspath,runtimeClasspath\njunit:junit:4.13.2=testCompileClasspath,testRuntimeClasspath\nempty=annotationProcessor\n";
        let inv = parse("gradle.lockfile", lock.as_bytes(), &Limits::default()).unwrap_or_default();
        let purls: Vec<_> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:maven/com.google.guava/guava@32.1.3-jre",
                "pkg:maven/junit/junit@4.13.2"
            ]
        );
        assert_eq!(inv.components[1].scope, Some(Scope::Optional));
        let e = parse("gradle.lockfile", b"a:b\n", &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("gradle.lockfile: line 1: \"a:b\" is not group:artifact:version")
        );
    }
}
