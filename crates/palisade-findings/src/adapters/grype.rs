//! Grype JSON reports: one finding per `matches[]` entry (`ignoredMatches`
//! are not findings).
//!
//! `relatedVulnerabilities[].id` (the same vulnerability in another
//! namespace, typically the NVD CVE of a GHSA or distribution record) and
//! `vulnerability.advisories[].id` are the aliases. The CVSS vector is the
//! record's own, else a related record's, newest version first; the rating
//! is Grype's `severity`.

use serde_json::Value;

use super::{VulnParts, add_tool, new_import, tool, vulnerability};
use crate::error::ImportError;
use crate::fingerprint::{ecosystem_of, normalize_path};
use crate::json::Node;
use crate::model::{ComponentLocation, Format, Import, Severity};
use crate::severity::{best_vector, build, rating_of_word};

/// Reads a Grype report.
pub(crate) fn import(value: &Value, document: &str) -> Result<Import, ImportError> {
    let root = Node::root(value);
    root.expect_object(document)?;
    if root.get("matches").is_none() {
        return Err(ImportError::invalid(
            document,
            "$.matches",
            "missing: a Grype report has a matches array",
        ));
    }
    let mut import = new_import(document, Format::Grype);
    let descriptor = root.obj("descriptor");
    let name = descriptor
        .as_ref()
        .and_then(|d| d.str("name"))
        .unwrap_or_else(|| "grype".into());
    let version = descriptor
        .as_ref()
        .and_then(|d| d.str("version"))
        .filter(|v| !v.starts_with('['));
    let tool = tool(&name, version);
    add_tool(&mut import, &tool);
    import.created_at = descriptor.as_ref().and_then(|d| d.str("timestamp"));
    import.target = root.get("source").and_then(|s| {
        let t = s.get("target")?;
        t.as_string()
            .or_else(|| t.str("userInput"))
            .or_else(|| t.str("imageID"))
            .or_else(|| t.str("path"))
    });
    let distro = root.obj("distro").and_then(|d| d.str("name"));

    for m in root.objects("matches", document)? {
        import.stats.results += 1;
        let vuln = required_object(&m, "vulnerability", document)?;
        let artifact = required_object(&m, "artifact", document)?;
        let related = m
            .get("relatedVulnerabilities")
            .map(|r| r.elements())
            .unwrap_or_default();

        let mut aliases: Vec<String> = related.iter().filter_map(|r| r.str("id")).collect();
        aliases.extend(
            vuln.get("advisories")
                .map(|a| a.elements())
                .unwrap_or_default()
                .iter()
                .filter_map(|a| a.str("id")),
        );

        let severity = severity(&vuln, &related);
        let description = vuln
            .text("description")
            .or_else(|| related.iter().find_map(|r| r.text("description")));
        let mut references: Vec<String> = vuln.str("dataSource").into_iter().collect();
        references.extend(vuln.strings("urls"));
        for r in &related {
            references.extend(r.str("dataSource"));
        }

        let purl = artifact.str("purl").filter(|p| p.starts_with("pkg:"));
        let kind_word = artifact.str("type").unwrap_or_default();
        let os_type = matches!(kind_word.as_str(), "deb" | "rpm" | "apk");
        let ecosystem = purl
            .as_deref()
            .and_then(|p| palisade_inventory::purl::parse(p).ok())
            .and_then(|p| p.ecosystem_string())
            .or_else(|| {
                let e = if os_type {
                    distro.as_deref().and_then(ecosystem_of)
                } else {
                    ecosystem_of(&kind_word)
                        .or_else(|| artifact.str("language").as_deref().and_then(ecosystem_of))
                };
                e.map(|e| e.as_str().to_owned())
            })
            .or_else(|| (!kind_word.is_empty()).then(|| kind_word.clone()));
        let locations = artifact
            .get("locations")
            .map(|l| l.elements())
            .unwrap_or_default();
        let component = ComponentLocation {
            purl,
            ecosystem,
            name: artifact.str("name").unwrap_or_default(),
            version: artifact.str("version"),
            fixed_versions: vuln
                .obj("fix")
                .map(|f| f.strings("versions"))
                .unwrap_or_default(),
            paths: locations
                .iter()
                .filter_map(|l| l.str("path"))
                .map(|p| normalize_path(&p, &[]))
                .collect(),
            layer: locations.iter().find_map(|l| l.str("layerID")),
        };
        import.stats.imported += 1;
        import.findings.push(vulnerability(VulnParts {
            tool: tool.clone(),
            id: vuln.str("id").unwrap_or_else(|| "(no id)".into()),
            aliases,
            related: Vec::new(),
            title: None,
            description,
            severity,
            component,
            cwes: Vec::new(),
            references,
            document: document.to_owned(),
            json_path: m.path.clone(),
        }));
    }
    Ok(import)
}

fn required_object<'a>(
    node: &Node<'a>,
    key: &str,
    document: &str,
) -> Result<Node<'a>, ImportError> {
    match node.get(key) {
        Some(n) => {
            n.expect_object(document)?;
            Ok(n)
        }
        None => Err(ImportError::invalid(
            document,
            &node.child_path(key),
            "missing: every Grype match has one",
        )),
    }
}

fn cvss_entries<'a>(node: &Node<'a>) -> Vec<(String, Option<f64>)> {
    node.get("cvss")
        .map(|c| c.elements())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            let v = c.str("vector")?;
            Some((v, c.obj("metrics").and_then(|m| m.f64("baseScore"))))
        })
        .collect()
}

fn severity(vuln: &Node<'_>, related: &[Node<'_>]) -> Option<Severity> {
    let known =
        |l: &String| !l.eq_ignore_ascii_case("unknown") && !l.eq_ignore_ascii_case("negligible");
    let label = vuln
        .str("severity")
        .filter(known)
        .or_else(|| related.iter().find_map(|r| r.str("severity").filter(known)));
    let rating = label.as_deref().and_then(rating_of_word);
    let mut entries = cvss_entries(vuln);
    if best_vector(entries.iter().map(|(v, _)| v.as_str())).is_none() {
        for r in related {
            entries.extend(cvss_entries(r));
        }
    }
    let vector = best_vector(entries.iter().map(|(v, _)| v.as_str()));
    let score = vector
        .as_deref()
        .and_then(|v| entries.iter().find(|(e, _)| e.trim() == v))
        .and_then(|(_, s)| *s);
    build(label, rating, vector, score)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Location, Rating};

    #[test]
    fn reads_a_match_with_related_ids() {
        let doc = serde_json::json!({
            "matches": [{
                "vulnerability": {"id": "GHSA-35jh-r3h4-6jhm", "severity": "High",
                    "fix": {"versions": ["4.17.21"], "state": "fixed"}, "cvss": []},
                "relatedVulnerabilities": [{"id": "CVE-2021-23337", "description": "Command injection",
                    "cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
                              "metrics": {"baseScore": 7.2}}]}],
                "artifact": {"name": "lodash", "version": "4.17.20", "type": "npm",
                    "purl": "pkg:npm/lodash@4.17.20", "locations": [{"path": "/app/package-lock.json"}]}
            }],
            "descriptor": {"name": "grype", "version": "0.80.0"},
            "source": {"type": "directory", "target": "/app"}
        });
        let i = import(&doc, "g.json").unwrap();
        assert_eq!(i.target.as_deref(), Some("/app"));
        let f = &i.findings[0];
        assert_eq!(f.aliases, vec!["CVE-2021-23337"]);
        let s = f.severity.as_ref().unwrap();
        assert_eq!((s.rating, s.score), (Some(Rating::High), Some(7.2)));
        assert_eq!(f.description.as_deref(), Some("Command injection"));
        match &f.location {
            Location::Component(c) => assert_eq!(c.fixed_versions, vec!["4.17.21"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_match_without_artifact_is_an_error() {
        let doc = serde_json::json!({"matches": [{"vulnerability": {"id": "CVE-1"}}]});
        assert_eq!(
            import(&doc, "g").unwrap_err().path(),
            Some("$.matches[0].artifact")
        );
    }
}
