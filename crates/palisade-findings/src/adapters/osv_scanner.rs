//! osv-scanner JSON reports: one finding per
//! `results[].packages[].vulnerabilities[]` entry.
//!
//! Each vulnerability is a full OSV record: its `aliases` (and the aliases
//! of the osv-scanner `groups[]` entry that holds its id) are the aliases,
//! `related` is kept apart. The severity comes from the record's CVSS
//! vectors (newest version first, scored), the group's `max_severity`
//! score, and GitHub's `database_specific.severity` word; fixed versions
//! are the `fixed` events of the `affected[]` entries naming the package.

use serde_json::Value;

use super::{VulnParts, new_import, tool, vulnerability};
use crate::error::ImportError;
use crate::fingerprint::{ecosystem_of, normalize_path};
use crate::json::Node;
use crate::model::{ComponentLocation, Format, Import, Severity};
use crate::severity::{best_vector, build, rating_of_word};

struct Group {
    ids: Vec<String>,
    aliases: Vec<String>,
    max_severity: Option<f64>,
}

/// Reads an osv-scanner report.
pub(crate) fn import(value: &Value, document: &str) -> Result<Import, ImportError> {
    let root = Node::root(value);
    root.expect_object(document)?;
    if root.get("results").is_none() {
        return Err(ImportError::invalid(
            document,
            "$.results",
            "missing: an osv-scanner report has a results array",
        ));
    }
    let mut import = new_import(document, Format::OsvScanner);
    let tool = tool("osv-scanner", None);
    import.tools.push(tool.clone());
    for result in root.objects("results", document)? {
        let source = result
            .obj("source")
            .and_then(|s| s.str("path"))
            .map(|p| normalize_path(&p, &[]));
        if import.target.is_none() {
            import.target.clone_from(&source);
        }
        for package in result.objects("packages", document)? {
            let pkg = match package.get("package") {
                Some(p) => {
                    p.expect_object(document)?;
                    p
                }
                None => {
                    return Err(ImportError::invalid(
                        document,
                        &package.child_path("package"),
                        "missing: every osv-scanner package entry has one",
                    ));
                }
            };
            let groups: Vec<Group> = package
                .get("groups")
                .map(|g| g.elements())
                .unwrap_or_default()
                .iter()
                .map(|g| Group {
                    ids: g.strings("ids"),
                    aliases: g.strings("aliases"),
                    max_severity: g.f64("max_severity"),
                })
                .collect();
            let name = pkg.str("name").unwrap_or_default();
            let ecosystem = pkg.str("ecosystem");
            for vuln in package.array("vulnerabilities", document)? {
                import.stats.results += 1;
                // Abbreviated outputs (osv-scanner's own test snapshots) list
                // ids only; anything else must be an OSV record.
                let id = match vuln.value {
                    Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
                    _ => {
                        vuln.expect_object(document)?;
                        vuln.str("id").unwrap_or_else(|| "(no id)".into())
                    }
                };
                let group = groups.iter().find(|g| g.ids.contains(&id));
                let mut aliases = vuln.strings("aliases");
                if let Some(g) = group {
                    aliases.extend(g.aliases.iter().cloned());
                    aliases.extend(g.ids.iter().cloned());
                }
                let component = ComponentLocation {
                    purl: pkg.str("purl").filter(|p| p.starts_with("pkg:")),
                    ecosystem: ecosystem.clone(),
                    name: name.clone(),
                    version: pkg.str("version").or_else(|| pkg.str("commit")),
                    fixed_versions: fixed_versions(&vuln, ecosystem.as_deref(), &name),
                    paths: source.iter().cloned().collect(),
                    layer: package
                        .at_path(&["metadata", "layer_details", "diff_id"])
                        .or_else(|| package.at_path(&["layer", "diff_id"]))
                        .and_then(|n| n.as_string()),
                };
                let references: Vec<String> = vuln
                    .get("references")
                    .map(|r| r.elements())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|r| r.str("url"))
                    .collect();
                let mut cwes = vuln
                    .obj("database_specific")
                    .map(|d| d.strings("cwe_ids"))
                    .unwrap_or_default();
                for a in vuln
                    .get("affected")
                    .map(|a| a.elements())
                    .unwrap_or_default()
                {
                    for c in a
                        .at_path(&["database_specific", "cwes"])
                        .map(|c| c.elements())
                        .unwrap_or_default()
                    {
                        cwes.extend(c.str("cweId"));
                    }
                }
                import.stats.imported += 1;
                import.findings.push(vulnerability(VulnParts {
                    tool: tool.clone(),
                    aliases,
                    related: vuln.strings("related"),
                    title: vuln.str("summary"),
                    description: vuln.text("details"),
                    severity: severity(&vuln, group),
                    component,
                    cwes,
                    references,
                    document: document.to_owned(),
                    json_path: vuln.path.clone(),
                    id,
                }));
            }
        }
    }
    Ok(import)
}

fn severity(vuln: &Node<'_>, group: Option<&Group>) -> Option<Severity> {
    let mut vectors: Vec<String> = Vec::new();
    let mut collect = |node: &Node<'_>| {
        for s in node
            .get("severity")
            .map(|s| s.elements())
            .unwrap_or_default()
        {
            if s.str("type").is_some_and(|t| t.starts_with("CVSS")) {
                vectors.extend(s.str("score"));
            }
        }
    };
    for a in vuln
        .get("affected")
        .map(|a| a.elements())
        .unwrap_or_default()
    {
        collect(&a);
    }
    collect(vuln);
    let label = vuln
        .obj("database_specific")
        .and_then(|d| d.str("severity"));
    let rating = label.as_deref().and_then(rating_of_word);
    let vector = best_vector(vectors.iter().map(String::as_str));
    build(label, rating, vector, group.and_then(|g| g.max_severity))
}

fn fixed_versions(vuln: &Node<'_>, ecosystem: Option<&str>, name: &str) -> Vec<String> {
    let affected = vuln
        .get("affected")
        .map(|a| a.elements())
        .unwrap_or_default();
    let eco = ecosystem.and_then(ecosystem_of);
    let same = |a: &Node<'_>| {
        let Some(p) = a.obj("package") else {
            return false;
        };
        let their_eco = p.str("ecosystem").as_deref().and_then(ecosystem_of);
        let their_name = p.str("name").unwrap_or_default();
        match (eco, their_eco) {
            (Some(e), Some(t)) => {
                e == t
                    && palisade_inventory::purl::normalize_name(e, &their_name)
                        == palisade_inventory::purl::normalize_name(e, name)
            }
            _ => their_name == name,
        }
    };
    let matching: Vec<&Node<'_>> = affected.iter().filter(|a| same(a)).collect();
    let chosen: Vec<&Node<'_>> = if matching.is_empty() {
        affected.iter().collect()
    } else {
        matching
    };
    let mut out = Vec::new();
    for a in chosen {
        for r in a.get("ranges").map(|r| r.elements()).unwrap_or_default() {
            if r.str("type").as_deref() == Some("GIT") {
                continue;
            }
            for e in r.get("events").map(|e| e.elements()).unwrap_or_default() {
                out.extend(e.str("fixed"));
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Location, Rating};

    #[test]
    fn reads_packages_and_groups() {
        let doc = serde_json::json!({"results": [{
            "source": {"path": "/src/go.mod", "type": "lockfile"},
            "packages": [{
                "package": {"name": "github.com/gogo/protobuf", "version": "1.3.1", "ecosystem": "Go"},
                "vulnerabilities": [{
                    "id": "GO-2021-0053", "aliases": ["CVE-2021-3121"], "related": ["CVE-2020-1"],
                    "summary": "Panic", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                    "affected": [
                        {"package": {"ecosystem": "Go", "name": "github.com/gogo/protobuf"},
                         "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.2"}]}]},
                        {"package": {"ecosystem": "Go", "name": "other"},
                         "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "9"}]}]}
                    ]
                }],
                "groups": [{"ids": ["GO-2021-0053"], "aliases": ["CVE-2021-3121", "GHSA-c3h9-896r-86jm", "GO-2021-0053"], "max_severity": "8.6"}]
            }]
        }]});
        let i = import(&doc, "o.json").unwrap();
        let f = &i.findings[0];
        assert_eq!(f.aliases, vec!["CVE-2021-3121", "GHSA-c3h9-896r-86jm"]);
        assert_eq!(f.related, vec!["CVE-2020-1"]);
        let s = f.severity.as_ref().unwrap();
        assert_eq!((s.score, s.rating), (Some(9.8), Some(Rating::Critical)));
        match &f.location {
            Location::Component(c) => {
                assert_eq!(c.fixed_versions, vec!["1.3.2"]);
                assert_eq!(c.paths, vec!["/src/go.mod"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
